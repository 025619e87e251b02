// Grants built from admin consent (the engine's loadExistingGrant hook): consent is recorded on the app
// registration, so there is no consent screen and the grant carries every consented resource scope.
import type { KoaContextWithOIDC } from 'oidc-provider';

export async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const client = ctx.oidc.client!;
  const session = ctx.oidc.session!;
  const grantId = (ctx.oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? session.grantIdFor(client.clientId);
  let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
  if (!grant) grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId! });
  grant.addOIDCScope('openid profile email offline_access');
  grant.addOIDCClaims([...(ctx.oidc.requestParamClaims ?? [])]);
  for (const [indicator, rs] of Object.entries(ctx.oidc.resourceServers ?? {})) {
    if (rs.scope) grant.addResourceScope(indicator, rs.scope);
  }
  await grant.save();
  return grant;
}

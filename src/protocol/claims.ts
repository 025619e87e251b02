// Token claims in Entra's shape: extra access-token claims (tid, ver, azp, oid, scp, roles, xms_cc, sid,
// amr) and the JWT customizer (typ JWT, short scp names, no scope/client_id).
import crypto from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { findUserById } from '../directory/users.js';
import { memo } from '../directory/cache.js';
import type { Db } from '../storage/db.js';
import type { Tenant } from '../directory/tenant.js';
import type { TokenLike } from './account.js';
import { ACCESS_TOKEN_GRANT_CLAIM, ACCESS_TOKEN_ISSUED_MS_CLAIM, ACCESS_TOKEN_PASSWORD_BASED_CLAIM, isConfidentialClient } from './credential-facts.js';
import { grantPasswordBased } from './grants.js';
import { OIDC_SCOPES, resourceOfScope, resourcesFromScope } from './resources.js';
import type { ResourceDirectory } from './resource-indicators.js';

function requestedClaims(ctx: KoaContextWithOIDC, token: TokenLike): unknown {
  const raw = (ctx.oidc.body as Record<string, unknown> | undefined)?.claims ?? ctx.oidc.params?.claims;
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  // a code's or device code's access token carries no claims of its own: the request they were made by
  const e = ctx.oidc.entities as { AuthorizationCode?: { claims?: unknown }; DeviceCode?: { claims?: unknown } } | undefined;
  return token.claims ?? e?.AuthorizationCode?.claims ?? e?.DeviceCode?.claims;
}

const KNOWN_CLIENT_CAPABILITIES = new Set(['cp1']);

function clientCapabilities(ctx: KoaContextWithOIDC, token: TokenLike): string[] {
  const claims = requestedClaims(ctx, token) as { access_token?: { xms_cc?: { values?: unknown } } } | undefined;
  const values = claims?.access_token?.xms_cc?.values;
  if (!Array.isArray(values)) return [];
  // Only capabilities Latchkey knows (cp1: CAE-capable, spec §1) go into xms_cc: a client asking for
  // anything else got it echoed into its access tokens. Entra reads them case-insensitively (MSAL
  // Python's and MSAL.NET's samples send "CP1") and writes them in lower case.
  const known = values.filter((v): v is string => typeof v === 'string').map((v) => v.toLowerCase());
  return [...new Set(known.filter((v) => KNOWN_CLIENT_CAPABILITIES.has(v)))];
}

/**
 * A claims request naming `access_token` alone, as MSAL.NET, MSAL Python and MSAL.js before v3 send CAE
 * client capabilities (`{"access_token":{"xms_cc":{"values":["CP1"]}}}`), is accepted by Entra at
 * authorize and devicecode; the engine refuses a claims request with neither `id_token` nor `userinfo`.
 * Returns the same request with an empty `id_token` member, which asks for nothing, for the engine to
 * read; undefined for any other value (the engine judges it as sent).
 */
export function withEmptyIdTokenClaims(raw: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const claims = parsed as Record<string, unknown>;
  if (claims.id_token !== undefined || claims.userinfo !== undefined || claims.access_token === undefined) return undefined;
  return JSON.stringify({ ...claims, id_token: {} });
}

interface ClaimsDeps {
  db: Db;
  tenant: Tenant;
  resources: ResourceDirectory;
}

export async function extraTokenClaims(deps: ClaimsDeps, ctx: KoaContextWithOIDC, token: unknown): Promise<Record<string, unknown>> {
  const { db, tenant, resources } = deps;
  const t = token as TokenLike;
  const client = ctx.oidc.client;
  const extra: Record<string, unknown> = { tid: tenant.id, ver: '2.0', uti: crypto.randomBytes(16).toString('base64url') };
  if (client) {
    extra.azp = client.clientId;
    extra.azpacr = isConfidentialClient(client) ? '1' : '0';
  }
  const caps = clientCapabilities(ctx, t);
  if (caps.length) extra.xms_cc = caps;
  if (t.kind === 'ClientCredentials') {
    const indicator = resourcesFromScope(t.scope)[0];
    const view = indicator && client ? await resources.view(indicator, client.clientId) : undefined;
    extra.oid = client?.clientId;
    extra.sub = client?.clientId;
    extra.idtyp = 'app';
    if (view?.roles.length) extra.roles = view.roles;
    return extra;
  }
  if (t.accountId) {
    // D5: the token's issue time in milliseconds, for the validity rule at userinfo and introspection
    // (src/http/token-routes.ts). `iat` is whole seconds: a token issued just after a password change
    // in the same second (every forced change at sign-in) looked older than the change and was refused.
    extra[ACCESS_TOKEN_ISSUED_MS_CLAIM] = Date.now();
    // spec §8: the grant's stored fact, for the validity rule where the token is checked (never amr)
    extra[ACCESS_TOKEN_PASSWORD_BASED_CLAIM] = grantPasswordBased(ctx.oidc.entities.Grant);
    // Latchkey's own routes refuse a token whose grant is gone (revoked, replayed code, reused refresh token)
    if (t.grantId) extra[ACCESS_TOKEN_GRANT_CLAIM] = t.grantId;
    const user = await memo(ctx.state, `user:${t.accountId}`, () => findUserById(db, t.accountId!));
    if (user) {
      extra.oid = user.id;
      extra.name = user.display_name;
      extra.preferred_username = user.upn;
    }
  }
  if (t.kind === 'AccessToken' && client) {
    // Entra puts every consented delegated scope of the resource in scp, whatever was requested
    const indicator = resourcesFromScope(t.scope)[0];
    const view = indicator ? await resources.view(indicator, client.clientId) : undefined;
    if (view?.delegated.length) extra.scp = view.delegated.join(' ');
  }
  if (t.sid) extra.sid = t.sid;
  // the access token carries the sign-in's methods, from the code or refresh token it came from
  const e = ctx.oidc.entities as Record<string, { amr?: string[] } | undefined>;
  const amr = t.amr ?? e.AuthorizationCode?.amr ?? e.RefreshToken?.amr ?? e.DeviceCode?.amr;
  if (amr) extra.amr = amr;
  return extra;
}

/** The JWT access token's final shape: `typ: JWT`, short `scp` names, no `scope`/`client_id`. */
export function customizeJwt(_ctx: unknown, _token: unknown, jwt: { header?: unknown; payload: unknown }): void {
  jwt.header = { typ: 'JWT' };
  const p = jwt.payload as Record<string, unknown>;
  if (typeof p.scope === 'string') {
    const scp = p.scope
      .split(' ')
      .filter((s) => s && !OIDC_SCOPES.has(s) && !s.endsWith('/.default'))
      .map((s) => s.slice((resourceOfScope(s)?.length ?? -1) + 1));
    if (p.idtyp !== 'app' && scp.length && typeof p.scp !== 'string') p.scp = scp.join(' ');
  }
  delete p.scope;
  delete p.client_id;
  if (p.idtyp === 'app') delete p.sid;
}

// Account lookup for the engine (its findAccount hook): the user behind a sub, judged by the one validity
// rule (spec §2) when a refresh token, an authorization code or a device code is redeemed.
import type { Account, FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { findUserById } from '../directory/users.js';
import { memo } from '../directory/cache.js';
import type { Db } from '../storage/db.js';
import type { Tenant } from '../directory/tenant.js';
import { Refusal } from './errors.js';
import { mfaCounts, whyInvalid } from './validity.js';
import { grantTap, storedClientKind } from './grants.js';
import { isConfidential } from '../directory/apps.js';
import { type ResourceDirectory, assertRefreshConsented } from './resource-indicators.js';
import { resourcesFromScope } from './resources.js';
import { perUserMfaOn } from '../methods/requirement.js';
import type { User } from '../directory/users.js';
import { isConfidentialClient, refreshTokenFacts, sessionFacts } from './credential-facts.js';
import { findBrowserSession } from './browser-sessions.js';
import { assertRedeemedFromItsOrigin } from './client-view.js';

/** What findAccount reads of the token it is handed (the engine's token models). */
export interface TokenLike {
  kind: string;
  accountId?: string;
  clientId?: string;
  grantId?: string;
  iiat?: number;
  iat?: number;
  amr?: string[];
  sid?: string;
  scope?: string;
  claims?: unknown;
  sessionUid?: string;
}

export async function findAccount(deps: { db: Db; tenant: Tenant; resources: ResourceDirectory }, ctx: KoaContextWithOIDC, sub: string, token: Parameters<FindAccount>[2]): Promise<Account | undefined> {
  const { db, tenant } = deps;
  const user = await memo(ctx.state, `user:${sub}`, () => findUserById(db, sub));
  ctx.state.userId = sub; // for the sign-in log of a refusal
  const t = token as TokenLike | undefined;
  if (t && t.kind === 'RefreshToken') {
    // a chain issued to a confidential client is refreshed with its secret, a public one's without (Entra)
    const issuedTo = storedClientKind(t);
    if (issuedTo && ctx.oidc.client && isConfidential({ kind: issuedTo }) !== isConfidentialClient(ctx.oidc.client)) throw new Refusal(issuedTo === 'web' ? 'client_auth_missing' : 'client_is_public');
    assertRedeemedFromItsOrigin(ctx, issuedTo);
    const grant = ctx.oidc.entities.Grant;
    const why = whyInvalid(user, refreshTokenFacts(t, grant, ctx.oidc.client));
    if (why) throw new Refusal(why);
    // spec §6 Decision: a chain born of a TAP dies when the TAP is deleted or replaced
    const tap = grantTap(grant);
    if (tap && !(await tapExists(db, tap.id))) throw new Refusal('tap_deleted');
    // consent taken back since the token was issued (decided before the engine rotates the token)
    const body = (ctx.oidc.body ?? {}) as Record<string, unknown>;
    if (ctx.oidc.client) await assertRefreshConsented(deps.resources, ctx.oidc.client.clientId, typeof body.scope === 'string' ? body.scope : undefined, t.scope);
    // rule 6, decided here, before the engine rotates the token: a refused refresh leaves it alive
    if (user && (await refreshNeedsMfa(deps, ctx, user, t)) && !mfaCounts(user, refreshTokenFacts(t, grant, ctx.oidc.client))) throw new Refusal('mfa_required_refresh');
  } else if (t && (t.kind === 'AuthorizationCode' || t.kind === 'DeviceCode')) {
    // A code is only as alive as the browser session it came from: a stamp set between sign-in and
    // redemption (revoke, password change, disable) kills it, as it kills the session (spec §2).
    const row = t.sessionUid ? await findBrowserSession(db, ctx, t.sessionUid) : undefined;
    if (!row) throw new Refusal(user ? 'sessions_revoked' : 'user_disabled');
    const why = whyInvalid(user, sessionFacts(row));
    if (why) throw new Refusal(why);
  } else if (!user || user.account_enabled !== 1) {
    if (t) throw new Refusal('user_disabled');
    return undefined;
  }
  if (!user) return undefined;
  return {
    accountId: user.id,
    async claims() {
      return {
        sub: user.id, // D4: sub equals oid
        oid: user.id,
        tid: tenant.id,
        ver: '2.0',
        name: user.display_name,
        preferred_username: user.upn,
        login_hint: Buffer.from(JSON.stringify({ uid: user.id, utid: tenant.id, upn: user.upn })).toString('base64url'),
        ...(user.mail ? { email: user.mail } : {}),
      };
    },
  };
}

async function tapExists(db: Db, id: string): Promise<boolean> {
  return !!(await db.selectFrom('auth_methods').select('id').where('id', '=', id).executeTakeFirst());
}

/**
 * Whether this refresh needs MFA (spec §8, rule 6): per-user MFA is on, or the client app or the API the
 * refresh asks for requires it. (Security defaults ask at interactive sign-in only, D18.) The apps'
 * setting is read through the directory cache.
 */
async function refreshNeedsMfa(deps: { db: Db; resources: ResourceDirectory }, ctx: KoaContextWithOIDC, user: User, t: TokenLike): Promise<boolean> {
  if (perUserMfaOn(user)) return true;
  const body = (ctx.oidc.body ?? {}) as Record<string, unknown>;
  let resources = resourcesFromScope(typeof body.scope === 'string' ? body.scope : undefined);
  if (typeof body.resource === 'string') resources.push(body.resource);
  if (!resources.length) resources = resourcesFromScope(t.scope);
  return deps.resources.requireMfa(ctx.oidc.client?.clientId, resources);
}

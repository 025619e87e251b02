// The user's sessions and apps (spec D25): the live browser sessions (device, IP address, the apps that
// took part, created, last use, MFA facts) and refresh-token grants (app, created, last use), as the
// portal's list, /latchkey/v1 and the command line show them. Reading them takes the rights of Revoke
// sessions (the list is where one is ended), which a user has on themself.
import { type ActionContext, type Preview, checkRights, loadTarget } from './action.js';
import type { Actor } from './actor.js';
import { RULE as REVOKE_RULE } from './actions/revoke-sessions.js';
import { userCredentials } from './credentials.js';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export interface SessionItem {
  id: string;
  userAgent: string;
  ipAddress: string;
  apps: { appId: string; displayName: string }[];
  createdDateTime: string;
  lastUsedDateTime: string;
  persistent: boolean;
  passwordBased: boolean;
  /** each sign-in step's method (D22), when MFA was satisfied, and the Temporary Access Pass it came from */
  authenticationMethods: string[];
  mfaDateTime: string | null;
  temporaryAccessPass: { id: string; expiresDateTime: string | null } | null;
}

export interface GrantItem {
  id: string;
  appId: string;
  appDisplayName: string;
  clientKind: string;
  /** of the sign-in that made the grant, when recorded */
  userAgent: string | null;
  ipAddress: string | null;
  createdDateTime: string;
  lastUsedDateTime: string;
  expiresDateTime: string | null;
  passwordBased: boolean;
  mfaDateTime: string | null;
}

/** Sorted by creation then id: the keyset the paged lists follow. */
export async function sessionsAndApps(ctx: ActionContext, actor: Actor, targetId: string, opts: { grants: boolean }): Promise<{ target: Preview['target']; sessions: SessionItem[]; grants: GrantItem[] }> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, { ...REVOKE_RULE, what: 'list the sessions and apps' });
  const creds = await userCredentials(ctx.db, ctx.secrets, target.user.id, { grants: opts.grants });
  const rows = new Map((await ctx.db.selectFrom('signin_sessions').select(['id', 'methods', 'tap_id', 'tap_expires_at']).where('user_id', '=', target.user.id).execute()).map((r) => [r.id, r]));
  const sessions = creds.sessions.map((s): SessionItem => {
    const r = rows.get(s.id);
    return {
      id: s.id,
      userAgent: s.userAgent,
      ipAddress: s.ip,
      apps: s.apps.map((a) => ({ appId: a.clientId, displayName: a.appName })),
      createdDateTime: iso(s.createdAt)!,
      lastUsedDateTime: iso(s.lastUsedAt)!,
      persistent: s.persistent,
      passwordBased: s.passwordBased,
      authenticationMethods: r ? (JSON.parse(r.methods) as string[]) : [],
      mfaDateTime: iso(s.facts.mfaAt),
      temporaryAccessPass: r?.tap_id ? { id: r.tap_id, expiresDateTime: iso(r.tap_expires_at) } : null,
    };
  });
  const grants = creds.grants.map((g): GrantItem => ({
    id: g.grantId,
    appId: g.clientId,
    appDisplayName: g.appName,
    clientKind: g.clientKind,
    userAgent: g.origin?.userAgent ?? null,
    ipAddress: g.origin?.ip ?? null,
    createdDateTime: iso(g.issuedAt)!,
    lastUsedDateTime: iso(g.lastUsedAt)!,
    expiresDateTime: iso(g.expiresAt),
    passwordBased: g.passwordBased,
    mfaDateTime: iso(g.facts.mfaAt),
  }));
  const byKey = (a: { createdDateTime: string; id: string }, b: { createdDateTime: string; id: string }) => (a.createdDateTime < b.createdDateTime ? -1 : a.createdDateTime > b.createdDateTime ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return { target: { id: target.user.id, userPrincipalName: target.user.upn, displayName: target.user.display_name }, sessions: sessions.sort(byKey), grants: grants.sort(byKey) };
}

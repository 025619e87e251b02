// What a user holds now: browser sessions (with the apps that took part and the sid each holds) and
// refresh-token grants, each with the facts the validity rule reads. Previews and apply results list these.
import type { Secrets } from '../crypto/secrets.js';
import type { User } from '../directory/users.js';
import type { Db } from '../storage/db.js';
import { payloadsOfAccount } from '../storage/oidc-adapter.js';
import { type CredentialFacts, whyInvalid } from '../protocol/validity.js';
import type { RefusalCode } from '../protocol/errors.js';

export interface SessionView {
  kind: 'session';
  id: string;
  createdAt: number;
  lastUsedAt: number;
  ip: string;
  userAgent: string;
  persistent: boolean;
  passwordBased: boolean;
  apps: { clientId: string; appName: string; sid: string }[];
}

export interface GrantView {
  kind: 'grant';
  grantId: string;
  clientId: string;
  appName: string;
  clientKind: string;
  /** the chain's original issue time, ms */
  issuedAt: number;
  /** the latest rotation (public clients) or the issue (confidential clients), ms */
  lastUsedAt: number;
  expiresAt: number | null;
  passwordBased: boolean;
}

export type CredentialView = SessionView | GrantView;

export function factsOf(c: CredentialView): CredentialFacts {
  return c.kind === 'session'
    ? { kind: 'session', issuedAt: c.createdAt, passwordBased: c.passwordBased }
    : { kind: 'refresh_token', issuedAt: c.issuedAt, passwordBased: c.passwordBased, confidentialClient: c.clientKind === 'web' };
}

export async function userCredentials(db: Db, secrets: Secrets, userId: string, opts: { grants?: boolean } = {}): Promise<{ sessions: SessionView[]; grants: GrantView[] }> {
  const apps = new Map((await db.selectFrom('apps').select(['id', 'display_name', 'kind']).execute()).map((a) => [a.id, a]));
  const engineSessions = new Map((await payloadsOfAccount(db, secrets, 'Session', userId, { liveOnly: true })).map((p) => [p.uid as string, p]));
  const rows = await db.selectFrom('signin_sessions').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
  const sessions: SessionView[] = [];
  for (const r of rows) {
    const engine = engineSessions.get(r.id);
    if (!engine) continue; // signed out or expired
    const authorizations = (engine.authorizations ?? {}) as Record<string, { sid?: string }>;
    sessions.push({
      kind: 'session',
      id: r.id,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      ip: r.ip,
      userAgent: r.user_agent,
      persistent: r.persistent === 1,
      passwordBased: r.password_based === 1,
      apps: Object.entries(authorizations).map(([clientId, a]) => ({ clientId, appName: apps.get(clientId)?.display_name ?? clientId, sid: a.sid ?? '' })),
    });
  }
  const grants = new Map<string, GrantView>();
  if (opts.grants === false) return { sessions, grants: [] };
  for (const p of await payloadsOfAccount(db, secrets, 'RefreshToken', userId, { liveOnly: true })) {
    const clientId = String(p.clientId);
    const view: GrantView = {
      kind: 'grant',
      grantId: String(p.grantId),
      clientId,
      appName: apps.get(clientId)?.display_name ?? clientId,
      clientKind: apps.get(clientId)?.kind ?? 'unknown',
      // Rounded as the refresh path rounds it (protocol/provider.ts chainIssuedAtMs): `iiat` is stored as
      // fractional seconds and ms/1000*1000 is not always exact (2155399817423 comes back as
      // 2155399817422.9998), so unrounded, a chain issued in the same millisecond as a stamp would count as
      // issued before it here but not at refresh (D5), and the preview would disagree with what happens.
      issuedAt: Math.round(Number(p.iiat ?? p.iat ?? 0) * 1000),
      lastUsedAt: Number(p.iat ?? 0) * 1000,
      expiresAt: typeof p.exp === 'number' ? p.exp * 1000 : null,
      passwordBased: Array.isArray(p.amr) && p.amr.includes('pwd'),
    };
    const seen = grants.get(view.grantId);
    if (!seen || seen.lastUsedAt < view.lastUsedAt) grants.set(view.grantId, view);
  }
  return { sessions, grants: [...grants.values()] };
}

export interface Fate<C extends CredentialView = CredentialView> {
  credential: C;
  /** why it dies, with the AADSTS-mapped refusal the app or browser will see */
  dies: RefusalCode;
}

/** Which credentials alive for `before` are dead for `after` (the one validity rule decides). */
export function whatDies(before: User | undefined, after: User | undefined, creds: { sessions: SessionView[]; grants: GrantView[] }): { dying: Fate[]; surviving: CredentialView[] } {
  const dying: Fate[] = [];
  const surviving: CredentialView[] = [];
  for (const c of [...creds.sessions, ...creds.grants]) {
    if (whyInvalid(before, factsOf(c))) continue; // already dead
    const why = whyInvalid(after, factsOf(c));
    if (why) dying.push({ credential: c, dies: why });
    else surviving.push(c);
  }
  return { dying, surviving };
}

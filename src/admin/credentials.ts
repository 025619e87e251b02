// What a user holds now: browser sessions (with the apps that took part and the sid each holds) and
// refresh-token grants, each with the facts the validity rule reads. Previews and apply results list these.
// The facts are the stored ones (the browser-session record, the grant's password-based fact and TAP),
// built by the one builder (src/protocol/credential-facts.ts) the token paths use, so a preview and the
// next request agree.
import type { Secrets } from '../crypto/secrets.js';
import type { User } from '../directory/users.js';
import type { Db } from '../storage/db.js';
import { payloadsOfAccount, payloadsOfGrants } from '../storage/oidc-adapter.js';
import { type CredentialFacts, whyInvalid } from '../protocol/validity.js';
import { refreshTokenFacts, sessionFacts } from '../protocol/credential-facts.js';
import { type GrantOrigin, grantOrigin } from '../protocol/grants.js';
import { type ClientKind, appFromRow, defaultKind } from '../directory/apps.js';
import { storedClientKind } from '../protocol/grants.js';
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
  /** what the validity rule reads, from the stored record */
  facts: CredentialFacts;
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
  /** the IP address and user agent of the sign-in that made the grant, when recorded */
  origin?: GrantOrigin;
  /** what the validity rule reads: the chain's issue time, its grant's stored facts, the client's kind */
  facts: CredentialFacts;
}

export type CredentialView = SessionView | GrantView;

/**
 * What the user holds. `grants`: false lists no refresh-token grant (cheap whatever the user holds);
 * `{ createdSince }` only the grants made since then (what came after a plan).
 */
export async function userCredentials(db: Db, secrets: Secrets, userId: string, opts: { grants?: boolean | { createdSince: number } } = {}): Promise<{ sessions: SessionView[]; grants: GrantView[] }> {
  const apps = new Map((await db.selectFrom('apps').selectAll().execute()).map((a) => [a.id, { display_name: a.display_name, kind: defaultKind(appFromRow(a)) }]));
  const engineSessions = new Map((await payloadsOfAccount(db, secrets, 'Session', userId, { liveOnly: true })).map((p) => [p.uid as string, p]));
  const rows = await db.selectFrom('signin_sessions').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
  const sessions: SessionView[] = [];
  for (const r of rows) {
    const engine = engineSessions.get(r.id);
    if (!engine) continue; // signed out or expired
    const authorizations = (engine.authorizations ?? {}) as Record<string, { sid?: string }>;
    const facts = sessionFacts(r);
    sessions.push({
      kind: 'session',
      id: r.id,
      createdAt: r.created_at,
      lastUsedAt: r.last_used_at,
      ip: r.ip,
      userAgent: r.user_agent,
      persistent: r.persistent === 1,
      passwordBased: facts.passwordBased,
      facts,
      apps: Object.entries(authorizations).map(([clientId, a]) => ({ clientId, appName: apps.get(clientId)?.display_name ?? clientId, sid: a.sid ?? '' })),
    });
  }
  const grants = new Map<string, GrantView>();
  if (opts.grants === false) return { sessions, grants: [] };
  // the Grant holds the stored facts of its sign-in (password-based, TAP); its payload id is the grant id
  const since = typeof opts.grants === 'object' ? opts.grants.createdSince : undefined;
  const grantPayloads = new Map((await payloadsOfAccount(db, secrets, 'Grant', userId, { createdSince: since })).map((g) => [String(g.jti), g]));
  const tokens = since === undefined ? await payloadsOfAccount(db, secrets, 'RefreshToken', userId, { liveOnly: true }) : await payloadsOfGrants(db, secrets, 'RefreshToken', [...grantPayloads.keys()], { liveOnly: true });
  for (const p of tokens) {
    const clientId = String(p.clientId);
    // the kind of client the chain was issued to, else (a token from before it was recorded) the app's usual one
    const kind: ClientKind | undefined = storedClientKind(p) ?? apps.get(clientId)?.kind;
    const facts = refreshTokenFacts({ iiat: p.iiat as number | undefined, iat: p.iat as number | undefined, amr: p.amr as string[] | undefined }, grantPayloads.get(String(p.grantId)), kind ? { kind } : undefined);
    const view: GrantView = {
      kind: 'grant',
      grantId: String(p.grantId),
      clientId,
      appName: apps.get(clientId)?.display_name ?? clientId,
      clientKind: kind ?? 'unknown',
      issuedAt: facts.issuedAt,
      lastUsedAt: Number(p.iat ?? 0) * 1000,
      expiresAt: typeof p.exp === 'number' ? p.exp * 1000 : null,
      passwordBased: facts.passwordBased,
      origin: grantOrigin(grantPayloads.get(String(p.grantId))),
      facts,
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
    if (whyInvalid(before, c.facts)) continue; // already dead
    const why = whyInvalid(after, c.facts);
    if (why) dying.push({ credential: c, dies: why });
    else surviving.push(c);
  }
  return { dying, surviving };
}

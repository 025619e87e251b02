// The one owner of Latchkey's browser-session record (`signin_sessions`, spec §1, D5): created after the
// engine resumes a finished sign-in, read for the authorize check and for code redemption, touched on use.
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { findUserById } from '../directory/users.js';
import { memo } from '../directory/cache.js';
import type { Db } from '../storage/db.js';
import type { SigninSessionTable } from '../storage/schema.js';
import { whyInvalid } from './validity.js';
import { sessionFacts } from './credential-facts.js';

/** What the sign-in flow hands the engine with its result (src/signin/flow.ts finish()). */
export interface SigninResultFacts {
  authTimeMs: number;
  passwordBased: boolean;
  persistent: boolean;
  ip: string;
  userAgent: string;
}

export type BrowserSessionRecord = SigninSessionTable;

/** The record of a browser session by the engine's session uid; read once per request. */
export function findBrowserSession(db: Db, ctx: KoaContextWithOIDC, uid: string): Promise<BrowserSessionRecord | undefined> {
  return memo(ctx.state, `signin_session:${uid}`, () => db.selectFrom('signin_sessions').selectAll().where('id', '=', uid).executeTakeFirst());
}

async function touch(db: Db, uid: string): Promise<void> {
  await db.updateTable('signin_sessions').set({ last_used_at: Date.now() }).where('id', '=', uid).execute();
}

/** After a sign-in flow finished, the browser session gets Latchkey's own record (ms times, D5). */
export async function recordSignin(db: Db, tenantId: string, ctx: KoaContextWithOIDC): Promise<void> {
  const result = ctx.oidc?.result as { login?: { accountId: string; amr?: string[] }; latchkey?: SigninResultFacts } | undefined;
  const uid = ctx.oidc?.session?.uid;
  if (!result?.login || !result.latchkey || !uid) return;
  const l = result.latchkey;
  const row = { tenant_id: tenantId, user_id: result.login.accountId, auth_time: l.authTimeMs, amr: JSON.stringify(result.login.amr ?? []), password_based: l.passwordBased ? 1 : 0, persistent: l.persistent ? 1 : 0, ip: l.ip, user_agent: l.userAgent, created_at: l.authTimeMs, last_used_at: Date.now() };
  await db.insertInto('signin_sessions').values({ id: uid, ...row }).onConflict((oc) => oc.column('id').doUpdateSet(row)).execute();
}

/** The login prompt's check: an existing browser session must pass the one validity rule (spec §2). */
export function sessionInvalidCheck(db: Db) {
  return new interactionPolicy.Check('session_invalid', 'the browser session is no longer valid', 'login_required', async (ctx) => {
    const session = ctx.oidc.session;
    if (!session?.accountId || !session.uid || ctx.oidc.result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const row = await findBrowserSession(db, ctx, session.uid);
    if (!row) return interactionPolicy.Check.REQUEST_PROMPT;
    const user = await findUserById(db, session.accountId);
    const why = whyInvalid(user, sessionFacts(row));
    if (why) return interactionPolicy.Check.REQUEST_PROMPT;
    await touch(db, row.id);
    return interactionPolicy.Check.NO_NEED_TO_PROMPT;
  });
}

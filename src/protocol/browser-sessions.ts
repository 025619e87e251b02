// The one owner of Latchkey's browser-session record (`signin_sessions`, spec §1, D5): created after the
// sign-in gets its code (in place, or at the engine's resume), read for the authorize check and for code
// redemption, touched on use.
import type { Selectable } from 'kysely';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { findUserById } from '../directory/users.js';
import { memo } from '../directory/cache.js';
import type { Db } from '../storage/db.js';
import type { SigninSessionTable } from '../storage/schema.js';
import { whyInvalid } from './validity.js';
import { sessionFacts } from './credential-facts.js';
import { refusals } from './errors.js';
import { REQUESTED_RESOURCES_PARAM, type ResourceDirectory } from './resource-indicators.js';
import { tenantSettings } from '../directory/settings.js';
import { mfaRequiredFor } from '../methods/requirement.js';
import { statement } from '../storage/statements.js';

/** What the sign-in flow hands the engine with its result (src/signin/flow.ts finish()). */
export interface SigninResultFacts {
  authTimeMs: number;
  passwordBased: boolean;
  persistent: boolean;
  ip: string;
  userAgent: string;
  mfaAt?: number;
  methods?: string[];
  tap?: { id: string; expiresAt: number };
}

export type BrowserSessionRecord = Selectable<SigninSessionTable>;

const sessionRow = statement((db, uid: string) => db.selectFrom('signin_sessions').selectAll().where('id', '=', uid));

/** The record of a browser session by the engine's session uid; read once per request. */
export function findBrowserSession(db: Db, ctx: KoaContextWithOIDC, uid: string): Promise<BrowserSessionRecord | undefined> {
  return memo(ctx.state, `signin_session:${uid}`, async () => (await sessionRow(db, uid)).rows[0]);
}

async function touch(db: Db, uid: string): Promise<void> {
  await db.updateTable('signin_sessions').set({ last_used_at: Date.now() }).where('id', '=', uid).execute();
}

const upsertSession = statement(
  (
    db,
    id: string,
    tenantId: string,
    userId: string,
    authTime: number,
    amr: string,
    passwordBased: number,
    persistent: number,
    ip: string,
    userAgent: string,
    lastUsedAt: number,
    mfaAt: number | null,
    methods: string,
    tapId: string | null,
    tapExpiresAt: number | null,
  ) => {
    const row = { tenant_id: tenantId, user_id: userId, auth_time: authTime, amr, password_based: passwordBased, persistent, ip, user_agent: userAgent, created_at: authTime, last_used_at: lastUsedAt, mfa_at: mfaAt, methods, tap_id: tapId, tap_expires_at: tapExpiresAt };
    return db.insertInto('signin_sessions').values({ id, ...row }).onConflict((oc) => oc.column('id').doUpdateSet(row));
  },
  { batchable: true },
);

/** After a sign-in flow finished, the browser session gets Latchkey's own record (ms times, D5). */
export async function recordSignin(db: Db, tenantId: string, ctx: KoaContextWithOIDC): Promise<void> {
  const result = ctx.oidc?.result as { login?: { accountId: string; amr?: string[] }; latchkey?: SigninResultFacts } | undefined;
  const uid = ctx.oidc?.session?.uid;
  if (!result?.login || !result.latchkey || !uid) return;
  await recordBrowserSession(db, tenantId, uid, result.login.accountId, result.login.amr ?? [], result.latchkey);
}

/** Writes the record of browser session `uid` for a sign-in of `userId` that has just finished. */
export async function recordBrowserSession(db: Db, tenantId: string, uid: string, userId: string, amr: readonly string[], l: SigninResultFacts): Promise<void> {
  await upsertSession(db, uid, tenantId, userId, l.authTimeMs, JSON.stringify(amr), l.passwordBased ? 1 : 0, l.persistent ? 1 : 0, l.ip, l.userAgent, Date.now(), l.mfaAt ?? null, JSON.stringify(l.methods ?? []), l.tap?.id ?? null, l.tap?.expiresAt ?? null);
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

/** The name of the step-up check; the sign-in pages start a second-factor-only flow when they see it. */
export const MFA_REQUIRED_CHECK = 'latchkey_mfa_required';

/** The resources an authorize request named (before the consented-resources widening). */
export function requestedResources(params: Record<string, unknown>): string[] {
  const v = params[REQUESTED_RESOURCES_PARAM];
  return typeof v === 'string' ? v.split(' ').filter(Boolean) : [];
}

/**
 * The login prompt's step-up check (spec §8): a valid session whose sign-in did not satisfy MFA, reaching
 * an app or API that requires it, is sent back to the sign-in pages for the second factor only; with
 * prompt=none the answer is interaction_required, AADSTS50076.
 */
export function mfaRequiredCheck(db: Db, directory: Pick<ResourceDirectory, 'requireMfa'>) {
  return new interactionPolicy.Check(MFA_REQUIRED_CHECK, `AADSTS${refusals.mfa_required.aadsts}: ${refusals.mfa_required.message}`, 'interaction_required', async (ctx) => {
    const session = ctx.oidc.session;
    if (!session?.accountId || !session.uid || ctx.oidc.result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const row = await findBrowserSession(db, ctx, session.uid);
    if (!row || row.mfa_at !== null) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const user = await memo(ctx.state, `user:${session.accountId}`, () => findUserById(db, session.accountId!));
    if (!user) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    const settings = await tenantSettings(db, user.tenant_id);
    const resources = requestedResources(ctx.oidc.params as Record<string, unknown>);
    const need = mfaRequiredFor(user, settings, await directory.requireMfa(ctx.oidc.client?.clientId, resources));
    return need ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
  });
}

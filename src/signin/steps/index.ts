// The step dispatcher: loads the flow, checks that the posted step is the flow's step, runs that step's
// handler, and moves the flow on with nextStep(). Also starts step-up flows for signed-in sessions.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors, type Interaction } from 'oidc-provider';
import { type TenantSettings, tenantSettings } from '../../directory/settings.js';
import { findUserById, type User } from '../../directory/users.js';
import { byPreference, METHODS, type MethodType, offeredOrder } from '../../methods/index.js';
import { type UserMethodsPolicy, methodEnabledFor, methodsPolicyFor } from '../../methods/policy.js';
import { listMethods } from '../../methods/store.js';
import type { MethodRow } from '../../methods/types.js';
import { tapUsability } from '../../methods/tap/index.js';
import { MFA_REQUIRED_CHECK } from '../../protocol/browser-sessions.js';
import { refusals } from '../../protocol/errors.js';
import { whyInvalid } from '../../protocol/validity.js';
import { sessionFacts } from '../../protocol/credential-facts.js';
import { type FlowState, type RequestFlows, type LatchkeyLoginResult, type SigninDeps, type StepFacts, type StepId, STEP_IDS, cookieValue, errorPage, nextStep } from '../flow.js';
import { mfaRequiredFor, perUserMfaOn } from '../../methods/requirement.js';
import { resourceDirectoryOf } from '../../protocol/provider.js';
import { authorizeInPlace } from '../../protocol/authorization-in-place.js';
import { REMEMBER_MFA_COOKIE, rememberCookieValue, rememberedMfaAt } from '../mfa.js';
import type { PageInput } from '../pages.js';
import { escapeHtml } from '../html.js';
import { logSignin } from '../signin-log.js';
import { firstFactorSteps } from './first-factor.js';
import { interruptSteps, prepareRegister } from './interrupts.js';
import { secondFactorSteps } from './second-factor.js';
import { passkeyOptionsJson, passkeySteps, passkeysOf, withChallenge } from './passkey.js';

export interface StepContext {
  deps: SigninDeps;
  flows: RequestFlows;
  req: FastifyRequest;
  reply: FastifyReply;
  uid: string;
  /** the engine's interaction: read for a page (GET), not for a posted step of a started flow */
  details?: Interaction;
  /** the started flow, when the context was made from it */
  flow?: { state: FlowState };
  exp: number;
  appId: string | undefined;
  /** the resources the interaction requested */
  resources: string[];
  render: (input: Omit<PageInput, 'action' | 'csrf'>, status?: number) => FastifyReply;
  /** rows read once per request (the user, the tenant settings, the apps' MFA setting) */
  memo: Map<string, Promise<unknown>>;
}

function once<T>(ctx: StepContext, key: string, load: () => Promise<T>): Promise<T> {
  let v = ctx.memo.get(key) as Promise<T> | undefined;
  if (!v) {
    v = load();
    ctx.memo.set(key, v);
  }
  return v;
}

/** The tenant settings, read once per request. */
export function settingsOf(ctx: StepContext, tenantId: string): Promise<TenantSettings> {
  return once(ctx, `settings:${tenantId}`, () => tenantSettings(ctx.deps.db, tenantId));
}

/** The user's effective authentication methods policy (spec §7), once per request; the policy itself is cached. */
export function policyOf(ctx: StepContext, user: User): Promise<UserMethodsPolicy> {
  return once(ctx, `methods-policy:${user.id}`, () => methodsPolicyFor(ctx.deps.db, user));
}

/** Forgets the user read in this request (after a change to its row). */
export function forgetUser(ctx: StepContext, userId: string): void {
  ctx.memo.delete(`user:${userId}`);
}

/** Records a user row just read, so the rest of the request does not read it again. */
export function rememberUser(ctx: StepContext, user: User): void {
  ctx.memo.set(`user:${user.id}`, Promise.resolve(user));
}

/** A step's answer: move on with this state, or show the page again with an error. */
export type StepOutcome = { next: FlowState } | { again: FlowState; error: string; status: number } | { reply: FastifyReply };

export type StepHandler = (ctx: StepContext, state: FlowState, form: Record<string, unknown>, user: User | undefined) => Promise<StepOutcome>;

const HANDLERS: Record<StepId, StepHandler> = { ...firstFactorSteps, ...passkeySteps, ...secondFactorSteps, ...interruptSteps };
/** Posts that change the flow without being a step: going back, switching method. */
const SIDE_POSTS = new Set(['back', 'use_tap', 'use_password', 'use_passkey', 'switch_method']);

/** A flow at its first step, carrying the interaction's app and resources, and a challenge for a passkey without a user name. */
export function startingFlow(ctx: StepContext): FlowState {
  return startingState(ctx.appId, ctx.resources);
}

/** The same for an interaction's app and resources. */
export function startingState(appId: string | undefined, resources: string[]): FlowState {
  return withChallenge({ step: 'username', methods: [], amr: [], appId, resources });
}

/** Whether the step's page runs a passkey ceremony (it needs a fresh challenge). */
function passkeyPage(state: FlowState): boolean {
  return state.step === 'passkey' || (state.step === 'mfa' && state.mfaMethod === 'fido2');
}

/** The user's active methods, read once per request. */
export function methodsOf(ctx: StepContext, userId: string): Promise<MethodRow[]> {
  return once(ctx, `methods:${userId}`, () => listMethods(ctx.deps.db, userId));
}

export async function userOf(ctx: StepContext, state: FlowState): Promise<User | undefined> {
  const id = state.userId;
  return id ? once(ctx, `user:${id}`, () => findUserById(ctx.deps.db, id)) : undefined;
}

/** The user as a decision saw it, without the password hash: what the flow's cookie may carry to the second factor. */
function snapshot(u: User): User {
  return { ...u, password_hash: null };
}

/** The user's fields the sign-in order depends on. */
function userStamp(u: User): string {
  return JSON.stringify([u.per_user_mfa_state, u.force_change_password, u.force_change_password_mfa, u.preferred_mfa_method, u.system_preferred_mfa, u.account_enabled]);
}

/** The facts of the sign-in order for this user and this request (spec §8). */
export async function gatherFacts(ctx: StepContext, state: FlowState, user: User | undefined): Promise<StepFacts & { choices: MethodType[]; rememberDays?: number }> {
  if (!user) return { mfaRequired: false, usableTap: false, usablePasskey: false, mfaMethods: [], mustChangePassword: false, choices: [] };
  // The second factor and Stay signed in change none of the facts: the decision that sent the flow there
  // stands unless the user's own fields changed meanwhile (the user row is read for every step; a code is
  // checked against the methods as they are now; finish() applies the validity rule). An app's
  // requireMfa turned on meanwhile is still met: the engine's login check asks for step-up.
  if ((state.step === 'kmsi' || state.step === 'mfa') && state.decided?.userStamp === userStamp(user)) return state.decided;
  const now = Date.now();
  const [methods, policy] = await Promise.all([methodsOf(ctx, user.id), policyOf(ctx, user)]);
  const tap = methods.find((m) => m.type === 'temporaryAccessPass');
  const usableTap = !!tap && tapUsability(tap, now, policy) === 'EnabledByPolicy';
  const usablePasskey = methods.some((m) => m.type === 'fido2') && methodEnabledFor(policy, 'fido2');
  const mfaMethods = byPreference(
    methods.map((m) => m.type as MethodType).filter((t) => t !== 'temporaryAccessPass' && Object.hasOwn(METHODS, t) && METHODS[t].satisfiesMfa && methodEnabledFor(policy, t)),
  );
  // before the first factor nothing depends on whether MFA is required (nextStep): not read then
  let mfaRequired = false;
  let settings: TenantSettings | undefined;
  if (state.firstFactor) {
    settings = await settingsOf(ctx, user.tenant_id);
    const appsNeedMfa = await once(ctx, 'apps-require-mfa', () => resourceDirectoryOf(ctx.deps.provider).requireMfa(ctx.appId, ctx.resources));
    mfaRequired = mfaRequiredFor(user, settings, appsNeedMfa);
  }
  // system-preferred order, or the user's default first when system-preferred MFA is off for them
  const choices = offeredOrder([...(usableTap && state.firstFactor !== 'temporaryAccessPass' ? ['temporaryAccessPass' as const] : []), ...mfaMethods], user, policy.systemPreferred);
  const mustChangePassword = user.force_change_password === 1 || user.force_change_password_mfa === 1;
  return { mfaRequired, usableTap, usablePasskey, mfaMethods, mustChangePassword, choices, rememberDays: settings && perUserMfaOn(user) ? settings.remember_mfa_days : undefined };
}

/** Moves the flow to its next step (or finishes it) and shows that step. */
export async function advance(ctx: StepContext, state: FlowState, opts: { error?: string; status?: number } = {}): Promise<FastifyReply> {
  const user = await userOf(ctx, state);
  const facts = await gatherFacts(ctx, state, user);
  // per-user MFA's "Don't ask again" cookie satisfies MFA when it is still trusted (rule 6)
  if (user && facts.mfaRequired && state.mfaAt === undefined && state.firstFactor) {
    const settings = await settingsOf(ctx, user.tenant_id);
    const at = rememberedMfaAt(ctx.deps.secrets, cookieValue(ctx.req, REMEMBER_MFA_COOKIE), user, settings);
    if (at !== undefined) state = { ...state, mfaAt: at, amr: union(state.amr, ['mfa']), methods: [...state.methods, 'previouslySatisfied'] };
  }
  const step = nextStep(state, facts);
  if (step === 'done') return finish(ctx, state, user);
  let next: FlowState = { ...state, step, decided: (step === 'kmsi' || step === 'mfa') && user ? { ...facts, userStamp: userStamp(user), ...(step === 'mfa' ? { user: snapshot(user) } : {}) } : undefined };
  if (step === 'mfa' && (!next.mfaMethod || !facts.choices.includes(next.mfaMethod))) next.mfaMethod = facts.choices[0];
  if (passkeyPage(next)) next = withChallenge(next);
  ctx.flows.save(ctx.uid, next, ctx.exp);
  return show(ctx, next, user, facts, opts);
}

export async function show(ctx: StepContext, state: FlowState, user: User | undefined, facts?: Awaited<ReturnType<typeof gatherFacts>>, opts: { error?: string; status?: number; loginHint?: string } = {}): Promise<FastifyReply> {
  const f = facts ?? (state.step === 'mfa' || state.step === 'register' ? await gatherFacts(ctx, state, user) : undefined);
  const extra = state.step === 'register' && user ? await prepareRegister(ctx, state, user) : {};
  const passkeyOptions = state.step === 'username' || passkeyPage(state) ? passkeyOptionsJson(ctx, state, await passkeysOf(ctx, state)) : undefined;
  return ctx.render({ state, error: opts.error, loginHint: opts.loginHint, mfaChoices: f?.choices, rememberDays: f?.rememberDays, passkeyOptions, ...extra }, opts.status ?? 200);
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

const GONE = 'This sign-in has already finished or has expired. Go back to the app.';

/** The engine's resume address for a finished sign-in; undefined when its interaction is gone (finished by another post, or expired). */
async function engineResult(ctx: StepContext, result: Record<string, unknown>): Promise<string | undefined> {
  try {
    return await ctx.deps.provider.interactionResult(ctx.req.raw, ctx.reply.raw, result, { mergeWithLastSubmission: false });
  } catch (e) {
    if (e instanceof errors.SessionNotFound) return undefined;
    throw e;
  }
}

async function finish(ctx: StepContext, state: FlowState, user: User | undefined): Promise<FastifyReply> {
  const { req, reply, deps } = ctx;
  // The validity rule (spec §2) applies to this sign-in's own facts: an admin who disabled the account,
  // revoked sessions or reset the password while this flow was open must not be outrun by one more click.
  const why = whyInvalid(user, sessionFacts({ created_at: state.authTimeMs ?? 0, password_based: state.firstFactor === 'password' ? 1 : 0, tap_expires_at: state.tap?.expiresAt ?? null }));
  if (why === 'user_disabled' || !user) {
    await logSignin(deps.db, deps.tenant.id, { status: 'failure', errorCode: 50057, reason: 'user account is disabled', userId: user?.id ?? state.userId, userName: user?.upn ?? state.username, appId: ctx.appId, req, interactive: true });
    return errorPage(reply, 403, 'Your account has been locked. Contact your support person to unlock it, then try again. (AADSTS50057)');
  }
  if (why) {
    await logSignin(deps.db, deps.tenant.id, { status: 'failure', errorCode: refusals[why].aadsts, reason: `account changed during sign-in (${why})`, userId: user.id, userName: user.upn, appId: ctx.appId, req, interactive: true });
    const restart = startingFlow(ctx);
    ctx.flows.save(ctx.uid, restart, ctx.exp);
    return show(ctx, restart, undefined, undefined, { error: 'Your account changed while you were signing in. Sign in again.', status: 409, loginHint: user.upn });
  }
  const persistent = state.stepUp ? !!state.kmsi : state.kmsi === true;
  const latchkey: LatchkeyLoginResult = {
    authTimeMs: state.authTimeMs ?? Date.now(),
    passwordBased: state.firstFactor === 'password',
    persistent,
    ip: req.ip,
    userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512),
    mfaAt: state.mfaAt,
    methods: state.methods,
    tap: state.tap,
  };
  const result = {
    login: { accountId: user.id, amr: state.amr, remember: persistent, ts: Math.floor(latchkey.authTimeMs / 1000) },
    select_account: {},
    latchkey,
  };
  // A browser without a session goes straight to the app, as Entra's last sign-in post sends it; anything
  // else is finished by the engine's resume (src/protocol/authorization-in-place.ts says which).
  const logSuccess = () => logSignin(deps.db, deps.tenant.id, { status: 'success', userId: user.id, userName: user.upn, appId: ctx.appId, req, interactive: true, amr: state.amr, methods: state.methods });
  // finished in place, the log is written with the sign-in's other writes
  const inPlace = state.stepUp ? undefined : await authorizeInPlace({ provider: deps.provider, db: deps.db, secrets: deps.secrets, config: deps.config, tenantId: deps.tenant.id, escapeHtml }, ctx.uid, result.login, latchkey, logSuccess);
  if (inPlace === 'gone') return errorPage(reply, 400, GONE);
  if (!inPlace) await logSuccess();
  if (state.rememberMfa) {
    const settings = await settingsOf(ctx, user.tenant_id);
    const value = rememberCookieValue(deps.secrets, user.id, state.mfaAt ?? Date.now());
    reply.header('set-cookie', `${REMEMBER_MFA_COOKIE}=${value}; Path=/; Max-Age=${settings.remember_mfa_days * 86_400}; Secure; HttpOnly; SameSite=Lax`);
  }
  if (inPlace) reply.header('set-cookie', inPlace.cookies);
  if (inPlace && 'page' in inPlace) {
    ctx.flows.remove(ctx.uid);
    return reply.code(200).headers(inPlace.page.headers).send(inPlace.page.html);
  }
  const url = inPlace ? inPlace.location : await engineResult(ctx, result);
  if (url === undefined) return errorPage(reply, 400, GONE);
  ctx.flows.remove(ctx.uid);
  return reply.code(303).header('location', url).header('cache-control', 'no-store').send();
}

/** A signed-in session that reached an app needing MFA: ask only the second factor (spec §8). */
async function startStepUp(ctx: StepContext): Promise<FlowState | undefined> {
  const session = ctx.details?.session;
  const reasons = (ctx.details?.prompt.reasons ?? []) as string[];
  if (!session?.accountId || !reasons.includes(MFA_REQUIRED_CHECK)) return undefined;
  const row = session.uid ? await ctx.deps.db.selectFrom('signin_sessions').selectAll().where('id', '=', session.uid).executeTakeFirst() : undefined;
  const user = await findUserById(ctx.deps.db, session.accountId);
  if (!row || !user) return undefined;
  const methods = JSON.parse(row.methods) as string[];
  return {
    step: 'mfa',
    stepUp: true,
    userId: user.id,
    username: user.upn,
    firstFactor: row.password_based === 1 ? 'password' : ((methods[0] as MethodType | undefined) ?? 'password'),
    authTimeMs: row.created_at,
    methods,
    amr: JSON.parse(row.amr) as string[],
    kmsi: row.persistent === 1,
    ...(row.tap_id && row.tap_expires_at ? { tap: { id: row.tap_id, expiresAt: row.tap_expires_at } } : {}),
  };
}

export async function handleStep(ctx: StepContext, form: Record<string, unknown> | undefined): Promise<FastifyReply> {
  let state = ctx.flow ? ctx.flow.state : ctx.flows.load(ctx.uid)?.state;
  if (!form) {
    const d = ctx.details!;
    if (!state) {
      const stepUp = await startStepUp(ctx);
      // An existing valid session only needs to confirm the account (prompt=select_account) or consent.
      if (!stepUp && d.session?.accountId && !d.prompt.details.missingOIDCScope && d.prompt.name !== 'login') {
        const url = await ctx.deps.provider.interactionResult(ctx.req.raw, ctx.reply.raw, { select_account: {}, consent: {} }, { mergeWithLastSubmission: true });
        return ctx.reply.code(303).header('location', url).send();
      }
      state = stepUp ?? startingFlow(ctx);
      if (stepUp) return advance(ctx, stepUp);
      ctx.flows.save(ctx.uid, state, ctx.exp);
    }
    const hint = typeof d.params.login_hint === 'string' ? d.params.login_hint : undefined;
    return show(ctx, state, await userOf(ctx, state), undefined, { loginHint: hint });
  }
  if (!state) return errorPage(ctx.reply, 400, 'Your sign-in session has expired. Go back to the app and sign in again.');
  const step = typeof form.step === 'string' ? form.step : '';
  // The second factor works with the user as the decision that sent the flow there saw it: a code is
  // checked against the methods as they are now, and the next step reads the user again (finish() applies
  // the validity rule to the user as it is then), so a change meanwhile is not outrun.
  const decidedUser = step === 'mfa' && state.step === 'mfa' ? state.decided?.user : undefined;
  if (decidedUser) rememberUser(ctx, decidedUser);
  const user = decidedUser ?? (await userOf(ctx, state));
  if (SIDE_POSTS.has(step)) return sidePost(ctx, state, step, form, user);
  if (!(STEP_IDS as readonly string[]).includes(step) || step !== state.step) {
    // a stale or forged page: show the step the flow is really at
    return show(ctx, state, user, undefined, { error: 'This page was out of date. Please continue here.', status: 409 });
  }
  const outcome = await HANDLERS[state.step](ctx, state, form, user);
  if ('reply' in outcome) return outcome.reply;
  if ('again' in outcome) {
    if (outcome.again !== state) ctx.flows.save(ctx.uid, outcome.again, ctx.exp);
    return show(ctx, outcome.again, user, undefined, { error: outcome.error, status: outcome.status });
  }
  return advance(ctx, outcome.next);
}

async function sidePost(ctx: StepContext, state: FlowState, step: string, form: Record<string, unknown>, user: User | undefined): Promise<FastifyReply> {
  let next: FlowState | undefined;
  if (step === 'back' && (state.step === 'password' || state.step === 'tap' || state.step === 'passkey')) next = startingFlow(ctx);
  if (step === 'use_password' && state.step === 'tap') next = { ...state, step: 'password', tapDeclined: true };
  if (step === 'use_password' && state.step === 'passkey') next = { ...state, step: 'password', passkeyDeclined: true, passkey: undefined };
  if (step === 'use_tap' && state.step === 'password' && state.tapOffered) next = { ...state, step: 'tap', tapDeclined: false };
  if (step === 'use_passkey' && state.step === 'password' && state.passkeyOffered) next = withChallenge({ ...state, step: 'passkey', passkeyDeclined: false });
  if (step === 'switch_method' && state.step === 'mfa') {
    const facts = await gatherFacts(ctx, state, user);
    const m = form.method as MethodType;
    if (facts.choices.includes(m)) next = m === 'fido2' ? withChallenge({ ...state, mfaMethod: m }) : { ...state, mfaMethod: m, passkey: undefined };
  }
  if (!next) return show(ctx, state, user, undefined, { error: 'This page was out of date. Please continue here.', status: 409 });
  ctx.flows.save(ctx.uid, next, ctx.exp);
  return show(ctx, next, user);
}

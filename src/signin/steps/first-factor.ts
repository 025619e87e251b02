// First-factor steps: the user name, the password (with smart lockout), the Temporary Access Pass.
import { findUserByUpn, type User } from '../../directory/users.js';
import { attemptsExhausted, recordWrongCode } from '../../methods/attempts.js';
import { METHODS } from '../../methods/index.js';
import { lockoutConfig } from '../../methods/password/lockout.js';
import { verifyPasswordSignin } from '../../methods/password/index.js';
import { verifyTap } from '../../methods/tap/index.js';
import { signinCodes } from '../../protocol/errors.js';
import type { FlowState } from '../flow.js';
import { logSignin } from '../signin-log.js';
import { errorPage } from '../flow.js';
import { passkeyStep } from './passkey.js';
import { methodsOf, policyOf, rememberUser, settingsOf, startingFlow, type StepContext, type StepHandler, type StepOutcome } from './index.js';

function fail(ctx: StepContext, user: User | undefined, code: keyof typeof signinCodes, reason?: string): Promise<void> {
  return logSignin(ctx.deps.db, ctx.deps.tenant.id, { status: 'failure', errorCode: signinCodes[code].aadsts, reason: reason ?? signinCodes[code].log, userId: user?.id, userName: user?.upn, appId: ctx.appId, req: ctx.req, interactive: true });
}

export function wrongCodeLimit(ctx: StepContext, limit: number) {
  return { limit, windowMs: ctx.deps.config.wrongCodeWindow * 1000 };
}

const username: StepHandler = async (ctx, state, form) => {
  // "Sign in with a passkey" without a user name: the discoverable credential names its user
  if (typeof form.credential === 'string') return passkeyStep(ctx, state, form, undefined, 'first');
  const login = typeof form.loginfmt === 'string' ? form.loginfmt.trim() : '';
  if (!login || login.length > 256) return { again: state, error: 'Enter a valid email address, phone number, or Skype name.', status: 400 };
  const user = await findUserByUpn(ctx.deps.db, ctx.deps.tenant.id, login);
  if (!user) {
    await logSignin(ctx.deps.db, ctx.deps.tenant.id, { status: 'failure', errorCode: signinCodes.user_not_found.aadsts, reason: signinCodes.user_not_found.log, userName: login, appId: ctx.appId, req: ctx.req, interactive: true });
    return { reply: ctx.render({ state, error: signinCodes.user_not_found.message, loginHint: login }, 400) };
  }
  rememberUser(ctx, user);
  const methods = await methodsOf(ctx, user.id);
  const tapOffered = methods.some((m) => m.type === 'temporaryAccessPass');
  const passkeyOffered = methods.some((m) => m.type === 'fido2');
  return { next: { ...startingFlow(ctx), passkey: undefined, userId: user.id, username: user.upn, tapOffered, passkeyOffered } };
};

const password: StepHandler = async (ctx, state, form, user): Promise<StepOutcome> => {
  const typed = typeof form.passwd === 'string' ? form.passwd : '';
  if (!user) return { reply: errorPage(ctx.reply, 400, 'The account no longer exists.') };
  // The next step's facts read the user's methods: read them now, before the argon2id verify. The same read
  // costs about a third of a millisecond more after it (measured with the bench's per-request profile),
  // and the methods a verify later (tens of ms) decide only which page comes next: a code is checked
  // against the methods as they are when it is posted.
  methodsOf(ctx, user.id).catch(() => undefined);
  const outcome = await verifyPasswordSignin(ctx.deps, user, typed, ctx.req.ip, lockoutConfig(ctx.deps.config));
  if (outcome.kind === 'locked') {
    await fail(ctx, user, 'locked', `account is locked (smart lockout, ${outcome.location} location)`);
    return { again: state, error: signinCodes.locked.message, status: 429 };
  }
  if (outcome.kind === 'wrong') {
    await fail(ctx, user, 'wrong_password');
    return { again: state, error: signinCodes.wrong_password.message, status: 400 };
  }
  if (outcome.kind === 'disabled') {
    await fail(ctx, user, 'disabled');
    return { again: state, error: signinCodes.disabled.message, status: 403 };
  }
  return { next: { ...state, firstFactor: 'password', authTimeMs: Date.now(), amr: [...METHODS.password.amr], methods: ['password'] } };
};

const TAP_FAILURES = { wrong: 'tap_wrong', none: 'tap_deleted', expired: 'tap_expired', not_yet_valid: 'tap_not_yet_valid', used: 'tap_used', disabled_by_policy: 'tap_disabled', replayed: 'tap_used' } as const;

const tap: StepHandler = async (ctx, state, form, user) => {
  if (!user) return { reply: errorPage(ctx.reply, 400, 'The account no longer exists.') };
  const value = typeof form.accesspass === 'string' ? form.accesspass : '';
  const settings = await settingsOf(ctx, user.tenant_id);
  const lim = wrongCodeLimit(ctx, settings.wrong_code_limit);
  if (await attemptsExhausted(ctx.deps.db, user.id, 'temporaryAccessPass', lim)) {
    await fail(ctx, user, 'too_many_codes');
    return { again: state, error: signinCodes.too_many_codes.message, status: 429 };
  }
  if (user.account_enabled !== 1) {
    await fail(ctx, user, 'disabled');
    return { again: state, error: signinCodes.disabled.message, status: 403 };
  }
  const r = await verifyTap(ctx.deps, user, value, await policyOf(ctx, user));
  if (!r.ok) {
    const code = TAP_FAILURES[r.reason];
    await fail(ctx, user, code);
    if (r.reason === 'wrong') {
      await recordWrongCode(ctx.deps.db, user.id, 'temporaryAccessPass', lim);
      return { again: state, error: signinCodes[code].message, status: 400 };
    }
    // the pass is not usable: the other methods are offered (spec D9)
    const next: FlowState = { ...state, step: 'password', tapDeclined: true };
    return { again: next, error: signinCodes[code].message, status: 400 };
  }
  const now = Date.now();
  return {
    next: { ...state, firstFactor: 'temporaryAccessPass', authTimeMs: now, mfaAt: now, amr: [...METHODS.temporaryAccessPass.amr], methods: ['temporaryAccessPass'], tap: { id: r.methodId, expiresAt: r.expiresAt! } },
  };
};

export const firstFactorSteps = { username, password, tap } satisfies Record<string, StepHandler>;

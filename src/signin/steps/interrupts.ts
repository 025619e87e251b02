// Interrupts after the factors (spec §8): the forced password change, the "More information required"
// registration of an authenticator app, and "Stay signed in?".
import { verifyPassword } from '../../crypto/secrets.js';
import { setOwnPassword, type User } from '../../directory/users.js';
import { recordUserAddedMethod } from '../../methods/self-service.js';
import { METHODS } from '../../methods/index.js';
import { accessText, methodAccess } from '../../methods/policy.js';
import { MAX_PASSWORD_UNITS } from '../../methods/password/index.js';
import { beginEnrollment, confirmEnrollment, enrollmentView } from '../../methods/software-oath/index.js';
import { findPending, listMethods } from '../../methods/store.js';
import { signinCodes } from '../../protocol/errors.js';
import type { FlowState } from '../flow.js';
import { errorPage } from '../flow.js';
import { checkNewPassword } from '../password-policy.js';
import { logSignin } from '../signin-log.js';
import { forgetUser, policyOf, settingsOf, startingFlow, type StepContext, type StepHandler } from './index.js';

const change_password: StepHandler = async (ctx, state, form, user) => {
  const { db, tenant, config } = ctx.deps;
  if (!user) return { reply: errorPage(ctx.reply, 400, 'The account no longer exists.') };
  if (user.account_enabled !== 1) {
    await logSignin(db, tenant.id, { status: 'failure', errorCode: 50057, reason: signinCodes.disabled.log, userId: user.id, userName: user.upn, appId: ctx.appId, req: ctx.req, interactive: true });
    return { reply: errorPage(ctx.reply, 403, signinCodes.disabled.message) };
  }
  const oldp = typeof form.oldpasswd === 'string' ? form.oldpasswd : '';
  const newp = typeof form.newpasswd === 'string' ? form.newpasswd : '';
  const confirm = typeof form.confirmnewpasswd === 'string' ? form.confirmnewpasswd : '';
  // a field left empty is named, not taken for a wrong password (nor logged as one)
  if (!oldp) return { again: state, error: 'Enter your current password.', status: 400 };
  if (!newp) return { again: state, error: 'Enter a new password.', status: 400 };
  if (!user.password_hash || oldp.length > MAX_PASSWORD_UNITS || !(await verifyPassword(user.password_hash, oldp))) {
    await logSignin(db, tenant.id, { status: 'failure', errorCode: 50126, reason: 'wrong current password at the forced password change', userId: user.id, userName: user.upn, appId: ctx.appId, req: ctx.req, interactive: true });
    return { again: state, error: 'Your current password is incorrect.', status: 400 };
  }
  if (newp !== confirm) return { again: state, error: "The passwords don't match.", status: 400 };
  const problem = checkNewPassword(newp, { minLength: config.passwordMinLength, previous: oldp, userName: user.upn });
  if (problem) return { again: state, error: problem, status: 400 };
  const at = Date.now();
  const changed = await setOwnPassword(db, user.id, newp, at, user.password_hash);
  forgetUser(ctx, user.id);
  if (!changed) {
    // an admin reset the password meanwhile: theirs stands, and this sign-in starts again
    return { again: startingFlow(ctx), error: 'Your password was changed by an administrator while you were signing in. Sign in again.', status: 409 };
  }
  // the new password is the first factor of this sign-in (rule 3 kills sessions from before the change)
  return { next: { ...state, authTimeMs: at, passwordChanged: true } };
};

/**
 * spec §8: MFA in this sign-in, or a TAP, or — for a user with no method at all — the tenant's setting;
 * and (§7) the authenticator app must be enabled for the user in the authentication methods policy.
 */
async function registrationGate(ctx: StepContext, state: FlowState, user: User): Promise<string | undefined> {
  const access = methodAccess(await policyOf(ctx, user), 'softwareOath');
  if (!access.enabled) return `Your organization's authentication methods policy doesn't let you register an authenticator app (${accessText(access)}). Contact your administrator. (AADSTS50079)`;
  if (state.mfaAt !== undefined || state.tap) return undefined;
  const [methods, settings] = await Promise.all([listMethods(ctx.deps.db, user.id), settingsOf(ctx, user.tenant_id)]);
  if (methods.length === 0 && settings.registration_policy === 'anywhere') return undefined;
  return 'Your organization requires you to verify your identity before you set up security info. Ask your administrator for a Temporary Access Pass. (AADSTS50079)';
}

function issuer(ctx: StepContext): string {
  return ctx.deps.tenant.display_name || 'Latchkey';
}

/** The registration page's data: the pending enrollment (made once per flow), or why it is closed. */
async function prepareRegister(ctx: StepContext, state: FlowState, user: User): Promise<{ enrollment?: { qr: string; secret: string }; registrationBlocked?: string }> {
  const blocked = await registrationGate(ctx, state, user);
  if (blocked) return { registrationBlocked: blocked };
  const pending = state.enrollmentId ? await findPending(ctx.deps.db, user.id, state.enrollmentId) : undefined;
  if (pending) return { enrollment: await enrollmentView(ctx.deps, pending, user, issuer(ctx)) };
  const begun = await beginEnrollment(ctx.deps, user, issuer(ctx));
  if (begun === 'limit_reached') return { registrationBlocked: 'You already have the most authenticator apps allowed (5). Remove one in My Security Info first.' };
  ctx.flows.save(ctx.uid, { ...state, enrollmentId: begun.id }, ctx.exp);
  state.enrollmentId = begun.id;
  return { enrollment: { qr: begun.qr, secret: begun.secret } };
}

const register: StepHandler = async (ctx, state, form, user) => {
  const { db, tenant } = ctx.deps;
  if (!user) return { reply: errorPage(ctx.reply, 400, 'The account no longer exists.') };
  const blocked = await registrationGate(ctx, state, user);
  if (blocked) {
    await logSignin(db, tenant.id, { status: 'failure', errorCode: 50079, reason: 'security info registration required but not allowed for this sign-in', userId: user.id, userName: user.upn, appId: ctx.appId, req: ctx.req, interactive: true });
    return { again: state, error: blocked, status: 403 };
  }
  const pending = state.enrollmentId ? await findPending(db, user.id, state.enrollmentId) : undefined;
  if (!pending) return { again: { ...state, enrollmentId: undefined }, error: 'The set-up expired. Scan the new QR code.', status: 409 };
  const code = typeof form.code === 'string' ? form.code.trim() : '';
  const r = await db.transaction().execute(async (trx) => {
    const outcome = await confirmEnrollment({ db: trx, secrets: ctx.deps.secrets }, pending, code);
    if (outcome !== 'ok') return outcome;
    await recordUserAddedMethod(trx, user, { id: pending.id, type: 'softwareOath' });
    return outcome;
  });
  if (r !== 'ok') {
    await logSignin(db, tenant.id, { status: 'failure', errorCode: signinCodes.code_wrong.aadsts, reason: 'wrong code while registering an authenticator app', userId: user.id, userName: user.upn, appId: ctx.appId, req: ctx.req, interactive: true });
    return { again: state, error: signinCodes.code_wrong.message, status: 400 };
  }
  const now = Date.now();
  return { next: { ...state, enrollmentId: undefined, mfaAt: state.mfaAt ?? now, amr: [...new Set([...state.amr, ...METHODS.softwareOath.amr])], methods: [...state.methods, 'softwareOath'] } };
};

const kmsi: StepHandler = async (_ctx, state, form) => {
  const answer = form.kmsi === 'yes' ? true : form.kmsi === 'no' ? false : undefined;
  if (answer === undefined) return { again: state, error: 'Choose Yes or No.', status: 400 };
  return { next: { ...state, kmsi: answer } };
};

export const interruptSteps = { change_password, register, kmsi } satisfies Record<string, StepHandler>;
export { prepareRegister };

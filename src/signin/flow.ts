// The browser sign-in flow: a persisted object (step, facts gathered, expiry) keyed by the engine's
// interaction, rendered by server pages with Entra's element ids and posted back with a CSRF token.
// user name → password → forced password change when flagged → "Stay signed in?" → back to the app.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { Secrets } from '../crypto/secrets.js';
import { verifyPassword } from '../crypto/secrets.js';
import type { Tenant } from '../directory/tenant.js';
import { type User, findUserById, findUserByUpn, setOwnPassword } from '../directory/users.js';
import type { Db } from '../storage/db.js';
import { refusals } from '../protocol/errors.js';
import { whyInvalid } from '../protocol/validity.js';
import { escapeHtml, page } from './html.js';
import { checkLocked, lockoutConfig, oneAttemptAtATime, recordFailure, recordSuccess } from './lockout.js';
import { checkNewPassword } from './password-policy.js';
import { logSignin } from './signin-log.js';

type Step = 'username' | 'password' | 'change_password' | 'kmsi';

interface FlowState {
  step: Step;
  userId?: string;
  username?: string;
  amr: string[];
  authTimeMs?: number;
}

export interface LatchkeyLoginResult {
  authTimeMs: number;
  passwordBased: boolean;
  persistent: boolean;
  ip: string;
  userAgent: string;
}

export interface SigninDeps {
  provider: Provider;
  db: Db;
  secrets: Secrets;
  tenant: Tenant;
  config: Config;
}

const STEPS: readonly Step[] = ['username', 'password', 'change_password', 'kmsi'];
/** Longest password input verified: 256 characters (D13) of up to two UTF-16 units each. */
const MAX_PASSWORD_UNITS = 512;

/** forceChangePasswordNextSignIn, or its ...WithMfa variant (MFA comes first once it exists; the change is forced either way). */
function mustChangePassword(user: User): boolean {
  return user.force_change_password === 1 || user.force_change_password_mfa === 1;
}

/** Constant-time comparison of the posted token; compares bytes (a same-length string may differ in bytes). */
function csrfMatches(posted: unknown, expected: string): boolean {
  if (typeof posted !== 'string') return false;
  const a = Buffer.from(posted, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export function registerSignin(app: FastifyInstance, deps: SigninDeps): void {
  const { db, provider, secrets, tenant } = deps;

  const csrfFor = (flowId: string) => secrets.lookupHash(flowId, 'signin-csrf');
  const lockout = lockoutConfig(deps.config);

  async function loadFlow(uid: string): Promise<FlowState | undefined> {
    const row = await db.selectFrom('signin_flows').select(['state', 'expires_at']).where('id', '=', uid).executeTakeFirst();
    if (!row || row.expires_at <= Date.now()) return undefined;
    return JSON.parse(row.state) as FlowState;
  }

  async function saveFlow(uid: string, state: FlowState, expiresAt: number): Promise<void> {
    const json = JSON.stringify(state);
    await db
      .insertInto('signin_flows')
      .values({ id: uid, interaction_uid: uid, csrf_hash: secrets.lookupHash(csrfFor(uid), 'signin-csrf-check'), state: json, expires_at: expiresAt, created_at: Date.now() })
      .onConflict((oc) => oc.column('id').doUpdateSet({ state: json }))
      .execute();
  }

  function render(reply: FastifyReply, uid: string, state: FlowState, opts: { error?: string; status?: number; loginHint?: string } = {}) {
    const csrf = csrfFor(uid);
    const err = opts.error ? `<p class="error" id="passwordError" role="alert">${escapeHtml(opts.error)}</p>` : '';
    const hidden = `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><input type="hidden" name="step" value="${state.step}">`;
    const identity = state.username ? `<div class="identity" id="displayName">${escapeHtml(state.username)}</div>` : '';
    const action = `/signin/${encodeURIComponent(uid)}`;
    let body: string;
    switch (state.step) {
      case 'username':
        body = `<h1>Sign in</h1>${err.replace('passwordError', 'usernameError')}<form method="post" action="${action}">${hidden}
<input type="email" name="loginfmt" id="i0116" placeholder="Email, phone, or Skype" autocomplete="username" value="${escapeHtml(opts.loginHint ?? '')}" required>
<button type="submit" id="idSIButton9">Next</button></form>`;
        break;
      case 'password':
        body = `${identity}<h1>Enter password</h1>${err}<form method="post" action="${action}">${hidden}
<input type="password" name="passwd" id="i0118" placeholder="Password" autocomplete="current-password" required>
<button type="submit" id="idSIButton9">Sign in</button></form>
<form method="post" action="${action}">${hidden.replace(`value="${state.step}"`, 'value="back"')}<button type="submit" id="idBtn_Back" class="secondary">Back</button></form>`;
        break;
      case 'change_password':
        body = `${identity}<h1>Update your password</h1><p>You need to update your password because this is the first time you are signing in, or because your password has expired.</p>${err}
<form method="post" action="${action}">${hidden}
<input type="password" name="oldpasswd" id="currentPassword" placeholder="Current password" autocomplete="current-password" required>
<input type="password" name="newpasswd" id="newPassword" placeholder="New password" autocomplete="new-password" required>
<input type="password" name="confirmnewpasswd" id="confirmNewPassword" placeholder="Confirm password" autocomplete="new-password" required>
<button type="submit" id="idSIButton9">Sign in</button></form>`;
        break;
      case 'kmsi':
        body = `${identity}<h1>Stay signed in?</h1><p>Do this to reduce the number of times you are asked to sign in.</p>${err}
<form method="post" action="${action}">${hidden}
<button type="submit" id="idBtn_Back" name="kmsi" value="no" class="secondary">No</button>
<button type="submit" id="idSIButton9" name="kmsi" value="yes">Yes</button></form>`;
        break;
    }
    return reply
      .code(opts.status ?? 200)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .send(page('Sign in to your account', `<div class="card"><div class="brand">${escapeHtml(tenant.display_name)}</div>${body}</div>`));
  }

  function errorPage(reply: FastifyReply, status: number, message: string) {
    return reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .send(page('Sign in', `<div class="card"><h1>Sorry, but we're having trouble signing you in.</h1><p id="errorMessage">${escapeHtml(message)}</p></div>`));
  }

  async function details(req: FastifyRequest, reply: FastifyReply, uid: string) {
    try {
      const d = await provider.interactionDetails(req.raw, reply.raw);
      if (d.uid !== uid) return undefined;
      return d;
    } catch {
      return undefined;
    }
  }

  async function finish(req: FastifyRequest, reply: FastifyReply, uid: string, user: User, state: FlowState, persistent: boolean) {
    const latchkey: LatchkeyLoginResult = {
      authTimeMs: state.authTimeMs ?? Date.now(),
      passwordBased: state.amr.includes('pwd'),
      persistent,
      ip: req.ip,
      userAgent: String(req.headers['user-agent'] ?? '').slice(0, 512),
    };
    const result = {
      login: { accountId: user.id, amr: state.amr, remember: persistent, ts: Math.floor(latchkey.authTimeMs / 1000) },
      select_account: {},
      latchkey,
    };
    const url = await provider.interactionResult(req.raw, reply.raw, result, { mergeWithLastSubmission: false });
    await db.deleteFrom('signin_flows').where('id', '=', uid).execute();
    return reply.code(303).header('location', url).header('cache-control', 'no-store').send();
  }

  // Errors before the handler runs (body too large, unsupported content type, invalid JSON) get the sign-in
  // error page instead of the API's JSON; anything unexpected is logged and shown without details.
  const errorHandler = (err: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply): void => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err }, 'sign-in page failed');
      void errorPage(reply, 500, 'Something went wrong. Go back to the app and sign in again.');
      return;
    }
    const message =
      status === 413
        ? 'The request was too large.'
        : status === 415
          ? 'The request was not sent as a form.'
          : 'The request could not be read.';
    void errorPage(reply, status, `${message} Go back to the app and sign in again.`);
  };

  app.get('/signin/:uid', { errorHandler }, async (req, reply) => {
    const { uid } = req.params as { uid: string };
    const d = await details(req, reply, uid);
    if (!d) return errorPage(reply, 400, 'Your sign-in session has expired or was started in another browser. Go back to the app and sign in again.');
    // An existing valid session only needs to confirm the account (prompt=select_account) or consent.
    if (d.session?.accountId && !d.prompt.details.missingOIDCScope && d.prompt.name !== 'login') {
      const url = await provider.interactionResult(req.raw, reply.raw, { select_account: {}, consent: {} }, { mergeWithLastSubmission: true });
      return reply.code(303).header('location', url).send();
    }
    let state = await loadFlow(uid);
    if (!state) {
      state = { step: 'username', amr: [] };
      await saveFlow(uid, state, (d.exp ?? Math.floor(Date.now() / 1000) + deps.config.signInFlowTtl) * 1000);
    }
    const hint = typeof d.params.login_hint === 'string' ? d.params.login_hint : undefined;
    return render(reply, uid, state, { loginHint: hint });
  });

  app.post('/signin/:uid', { errorHandler }, async (req, reply) => {
    const { uid } = req.params as { uid: string };
    const form = (req.body ?? {}) as Record<string, unknown>;
    const d = await details(req, reply, uid);
    if (!d) return errorPage(reply, 400, 'Your sign-in session has expired or was started in another browser. Go back to the app and sign in again.');
    const state = await loadFlow(uid);
    if (!state) return errorPage(reply, 400, 'Your sign-in session has expired. Go back to the app and sign in again.');
    if (!csrfMatches(form.csrf, csrfFor(uid))) {
      await logSignin(db, tenant.id, { status: 'failure', reason: 'csrf token missing or invalid', req, appId: d.params.client_id as string, interactive: true });
      return errorPage(reply, 403, 'The request could not be verified (invalid or missing form token). Go back and try again.');
    }
    const step = typeof form.step === 'string' ? form.step : '';
    const exp = (d.exp ?? Math.floor(Date.now() / 1000) + deps.config.signInFlowTtl) * 1000;
    if (step === 'back' && state.step === 'password') {
      const next: FlowState = { step: 'username', amr: [] };
      await saveFlow(uid, next, exp);
      return render(reply, uid, next);
    }
    if (!(STEPS as readonly string[]).includes(step) || step !== state.step) {
      // a stale or forged page: show the step the flow is really at
      return render(reply, uid, state, { error: 'This page was out of date. Please continue here.', status: 409 });
    }
    const appId = typeof d.params.client_id === 'string' ? d.params.client_id : undefined;

    switch (state.step) {
      case 'username': {
        const login = typeof form.loginfmt === 'string' ? form.loginfmt.trim() : '';
        if (!login || login.length > 256) return render(reply, uid, state, { error: 'Enter a valid email address, phone number, or Skype name.', status: 400 });
        const user = await findUserByUpn(db, tenant.id, login);
        if (!user) {
          await logSignin(db, tenant.id, { status: 'failure', errorCode: 50034, reason: 'user not found', userName: login, appId, req, interactive: true });
          return render(reply, uid, state, { error: "We couldn't find an account with that username. Try another, or get a new account.", status: 400, loginHint: login });
        }
        const next: FlowState = { step: 'password', userId: user.id, username: user.upn, amr: [] };
        await saveFlow(uid, next, exp);
        return render(reply, uid, next);
      }
      case 'password': {
        const passwd = typeof form.passwd === 'string' ? form.passwd : '';
        const user = state.userId ? await findUserById(db, state.userId) : undefined;
        if (!user) return errorPage(reply, 400, 'The account no longer exists.');
        // Smart lockout (spec §9): a locked counter for this kind of location refuses even the right
        // password, without verifying it and without touching the user or the counter. One attempt per
        // user at a time, so parallel guesses are all counted.
        const outcome = await oneAttemptAtATime(user.id, async () => {
          const lock = await checkLocked(db, user.id, req.ip, Date.now(), lockout);
          if (lock.locked) return { kind: 'locked' as const, location: lock.location };
          const hash = passwd && passwd.length <= MAX_PASSWORD_UNITS ? user.password_hash : null;
          if (!hash || !(await verifyPassword(hash, passwd))) {
            // only a password that was checked and did not match counts toward lockout
            if (hash) await recordFailure(db, secrets, user.id, req.ip, passwd, Date.now(), lockout);
            return { kind: 'wrong' as const };
          }
          if (user.account_enabled !== 1) return { kind: 'disabled' as const };
          await recordSuccess(db, user.id, req.ip, Date.now(), lockout);
          return { kind: 'ok' as const };
        });
        if (outcome.kind === 'locked') {
          await logSignin(db, tenant.id, { status: 'failure', errorCode: 50053, reason: `account is locked (smart lockout, ${outcome.location} location)`, userId: user.id, userName: user.upn, appId, req, interactive: true });
          return render(reply, uid, state, { error: 'Your account is temporarily locked to prevent unauthorized use. Try again later. (AADSTS50053)', status: 429 });
        }
        if (outcome.kind === 'wrong') {
          await logSignin(db, tenant.id, { status: 'failure', errorCode: 50126, reason: 'invalid username or password', userId: user.id, userName: user.upn, appId, req, interactive: true });
          return render(reply, uid, state, { error: 'Your account or password is incorrect. If you don\'t remember your password, reset it now. (AADSTS50126)', status: 400 });
        }
        if (outcome.kind === 'disabled') {
          await logSignin(db, tenant.id, { status: 'failure', errorCode: 50057, reason: 'user account is disabled', userId: user.id, userName: user.upn, appId, req, interactive: true });
          return render(reply, uid, state, { error: 'Your account has been locked. Contact your support person to unlock it, then try again. (AADSTS50057)', status: 403 });
        }
        const next: FlowState = { ...state, amr: ['pwd'], authTimeMs: Date.now(), step: mustChangePassword(user) ? 'change_password' : 'kmsi' };
        await saveFlow(uid, next, exp);
        return render(reply, uid, next);
      }
      case 'change_password': {
        const user = state.userId ? await findUserById(db, state.userId) : undefined;
        if (!user) return errorPage(reply, 400, 'The account no longer exists.');
        if (user.account_enabled !== 1) {
          await logSignin(db, tenant.id, { status: 'failure', errorCode: 50057, reason: 'user account is disabled', userId: user.id, userName: user.upn, appId, req, interactive: true });
          return errorPage(reply, 403, 'Your account has been locked. Contact your support person to unlock it, then try again. (AADSTS50057)');
        }
        const oldp = typeof form.oldpasswd === 'string' ? form.oldpasswd : '';
        const newp = typeof form.newpasswd === 'string' ? form.newpasswd : '';
        const confirm = typeof form.confirmnewpasswd === 'string' ? form.confirmnewpasswd : '';
        if (!user.password_hash || !oldp || oldp.length > MAX_PASSWORD_UNITS || !(await verifyPassword(user.password_hash, oldp))) {
          await logSignin(db, tenant.id, { status: 'failure', errorCode: 50126, reason: 'wrong current password at the forced password change', userId: user.id, userName: user.upn, appId, req, interactive: true });
          return render(reply, uid, state, { error: 'Your current password is incorrect.', status: 400 });
        }
        if (newp !== confirm) return render(reply, uid, state, { error: "The passwords don't match.", status: 400 });
        const problem = checkNewPassword(newp, { minLength: deps.config.passwordMinLength, previous: oldp, userName: user.upn });
        if (problem) return render(reply, uid, state, { error: problem, status: 400 });
        const at = Date.now();
        if (!(await setOwnPassword(db, user.id, newp, at, user.password_hash))) {
          // an admin reset the password meanwhile: theirs stands, and this sign-in starts again
          const restart: FlowState = { step: 'username', amr: [] };
          await saveFlow(uid, restart, exp);
          return render(reply, uid, restart, { error: 'Your password was changed by an administrator while you were signing in. Sign in again.', status: 409 });
        }
        // the new password is the first factor of this sign-in (rule 3 kills sessions from before the change)
        const next: FlowState = { ...state, authTimeMs: at, step: 'kmsi' };
        await saveFlow(uid, next, exp);
        return render(reply, uid, next);
      }
      case 'kmsi': {
        const user = state.userId ? await findUserById(db, state.userId) : undefined;
        const kmsi = form.kmsi === 'yes' ? true : form.kmsi === 'no' ? false : undefined;
        if (kmsi === undefined) return render(reply, uid, state, { error: 'Choose Yes or No.', status: 400 });
        // The validity rule (spec §2) applies to this sign-in's own facts: an admin who disabled the account,
        // revoked sessions or reset the password while this flow was open must not be outrun by one more click.
        const why = whyInvalid(user, { kind: 'session', issuedAt: state.authTimeMs ?? 0, passwordBased: state.amr.includes('pwd') });
        if (why === 'user_disabled' || !user) {
          await logSignin(db, tenant.id, { status: 'failure', errorCode: 50057, reason: 'user account is disabled', userId: user?.id ?? state.userId, userName: user?.upn ?? state.username, appId, req, interactive: true });
          return errorPage(reply, 403, 'Your account has been locked. Contact your support person to unlock it, then try again. (AADSTS50057)');
        }
        if (why) {
          await logSignin(db, tenant.id, { status: 'failure', errorCode: refusals[why].aadsts, reason: `account changed during sign-in (${why})`, userId: user.id, userName: user.upn, appId, req, interactive: true });
          const restart: FlowState = { step: 'username', amr: [] };
          await saveFlow(uid, restart, exp);
          return render(reply, uid, restart, { error: 'Your account changed while you were signing in. Sign in again.', status: 409, loginHint: user.upn });
        }
        if (mustChangePassword(user)) {
          // flagged while this flow was open: the change comes before any code (spec §8)
          const next: FlowState = { ...state, step: 'change_password' };
          await saveFlow(uid, next, exp);
          return render(reply, uid, next, { status: 409 });
        }
        await logSignin(db, tenant.id, { status: 'success', userId: user.id, userName: user.upn, appId, req, interactive: true, amr: state.amr });
        return finish(req, reply, uid, user, state, kmsi);
      }
    }
  });
}

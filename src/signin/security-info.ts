// My Security Info (spec §8): the signed-in user's own methods — list, add an authenticator app (TOTP
// with a QR code and a first code), delete, and the default second method (Graph's
// signInPreferences.userPreferredMethodForSecondaryAuthentication). Who is signed in comes only from the
// engine's browser-session cookie; the page is reached through Latchkey's own "My Security Info" app,
// which requires MFA, so its sign-in is the registration gate: MFA in this session, or a TAP, or — for a
// user with no method at all — the tenant's registration setting (the sign-in's registration interrupt).
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { Secrets } from '../crypto/secrets.js';
import { SECURITY_INFO_APP_ID, SECURITY_INFO_PATH } from '../directory/first-party.js';
import type { Tenant } from '../directory/tenant.js';
import { findUserById, type User } from '../directory/users.js';
import { METHODS, type MethodType } from '../methods/index.js';
import { accessText, methodAccess, methodsPolicyFor } from '../methods/policy.js';
import { beginEnrollment, confirmEnrollment, enrollmentView } from '../methods/software-oath/index.js';
import { recordUserAddedMethod, userDeletesMethod } from '../methods/self-service.js';
import { findPending, listMethods, parseState } from '../methods/store.js';
import { tapExpiresAt, type TapState } from '../methods/tap/index.js';
import { sessionFacts } from '../protocol/credential-facts.js';
import { whyInvalid } from '../protocol/validity.js';
import type { Db } from '../storage/db.js';
import { NOT_A_FORM, errorPage, isForm, sendPage } from './flow.js';
import { type PasskeyOpResult, type PasskeyRegistration, type SessionGateFacts, addPasskey, confirmPasskey, passkeyDetail, passkeyGate, passkeyRegistrationForm } from './security-info-passkeys.js';
import type { Config } from '../config/index.js';
import { escapeHtml } from './html.js';

export interface SecurityInfoDeps {
  provider: Provider;
  db: Db;
  secrets: Secrets;
  tenant: Tenant;
  origin: string;
  config: Pick<Config, 'webauthnRpId' | 'webauthnOrigins'>;
}

interface Who {
  user: User;
  sessionUid: string;
  /** the browser session's MFA time and TAP: the passkey gate (spec §8) */
  session: SessionGateFacts;
}

const CHOOSABLE_DEFAULTS: MethodType[] = ['softwareOath'];
/** How My Security Info names each method (Entra's wording). */
const DISPLAY: Record<MethodType, string> = { password: 'Password', softwareOath: 'Authenticator app', temporaryAccessPass: 'Temporary Access Pass', fido2: 'Passkey' };

export function registerSecurityInfo(app: FastifyInstance, deps: SecurityInfoDeps): void {
  const { db, secrets, tenant, provider, origin } = deps;
  const csrfFor = (sessionUid: string) => secrets.lookupHash(sessionUid, 'security-info-csrf');

  /** The signed-in user, when the browser session is valid and passed the gate (MFA or a TAP in it). */
  async function signedIn(req: FastifyRequest, reply: FastifyReply): Promise<Who | undefined> {
    const session = await provider.Session.get({ req: req.raw, res: reply.raw, secure: true } as never).catch(() => undefined);
    if (!session?.accountId || !session.uid) return undefined;
    const row = await db.selectFrom('signin_sessions').selectAll().where('id', '=', session.uid).executeTakeFirst();
    const user = await findUserById(db, session.accountId);
    if (!row || !user || row.user_id !== user.id || whyInvalid(user, sessionFacts(row))) return undefined;
    if (row.mfa_at === null && row.tap_id === null) return undefined;
    return { user, sessionUid: session.uid, session: { mfa_at: row.mfa_at, tap_id: row.tap_id } };
  }

  /** An authorization request for the My Security Info app: signs in, or steps up to MFA. The code is never redeemed. */
  function signInUrl(again = false): string {
    const challenge = crypto.createHash('sha256').update(crypto.randomBytes(32)).digest('base64url');
    const q = new URLSearchParams({ client_id: SECURITY_INFO_APP_ID, response_type: 'code', redirect_uri: `${origin}${SECURITY_INFO_PATH}`, scope: 'openid profile', code_challenge: challenge, code_challenge_method: 'S256', state: crypto.randomBytes(12).toString('base64url'), ...(again ? { prompt: 'login' } : {}) });
    return `/${tenant.id}/oauth2/v2.0/authorize?${q}`;
  }

  async function render(reply: FastifyReply, who: Who, opts: { status?: number; message?: string; error?: string; reverify?: boolean; enrollment?: { id: string; qr: string; secret: string }; passkey?: PasskeyRegistration } = {}) {
    const { user } = who;
    const methods = await listMethods(db, user.id);
    const csrf = `<input type="hidden" name="csrf" value="${escapeHtml(csrfFor(who.sessionUid))}">`;
    const rows = [
      `<tr><td>${DISPLAY.password}</td><td class="small">Last changed ${escapeHtml(new Date(user.last_password_change_at).toISOString().slice(0, 10))}</td><td></td></tr>`,
      ...methods.map((m) => {
        const kind = DISPLAY[m.type as MethodType] ?? m.type;
        const detail = m.type === 'temporaryAccessPass' ? `Expires ${escapeHtml(new Date(tapExpiresAt(parseState<TapState>(m))).toISOString().replace('T', ' ').slice(0, 16))} UTC` : m.type === 'fido2' ? passkeyDetail(m) : `Added ${escapeHtml(new Date(m.created_at).toISOString().slice(0, 10))}`;
        return `<tr><td>${escapeHtml(kind)}</td><td class="small">${detail}</td><td><form method="post" action="${SECURITY_INFO_PATH}" class="inline">${csrf}<input type="hidden" name="op" value="delete"><input type="hidden" name="methodId" value="${escapeHtml(m.id)}"><button type="submit" class="link" aria-label="Delete ${escapeHtml(kind)}">Delete</button></form></td></tr>`;
      }),
    ].join('');
    const registered = new Set(methods.map((m) => m.type));
    const defaults = CHOOSABLE_DEFAULTS.filter((m) => registered.has(m));
    const defaultForm = defaults.length
      ? `<form method="post" action="${SECURITY_INFO_PATH}">${csrf}<input type="hidden" name="op" value="default"><label for="defaultMethod">Default sign-in method</label><select name="method" id="defaultMethod">${defaults.map((m) => `<option value="${m}"${user.preferred_mfa_method === m ? ' selected' : ''}>${escapeHtml(METHODS[m].logName)}</option>`).join('')}</select><button type="submit" class="secondary">Change</button></form>`
      : '';
    const enroll = opts.enrollment
      ? `<h2>Set up your authenticator app</h2><ol class="small"><li>Scan the QR code with your authenticator app, or enter the key by hand.</li><li>Enter the 6-digit code the app shows.</li></ol>
<img src="${opts.enrollment.qr}" alt="QR code to scan with your authenticator app" id="totpQr" width="200" height="200"><p class="small">Key: <code id="totpSecret">${escapeHtml(opts.enrollment.secret)}</code></p>
<form method="post" action="${SECURITY_INFO_PATH}">${csrf}<input type="hidden" name="op" value="confirm_totp"><input type="hidden" name="pendingId" value="${escapeHtml(opts.enrollment.id)}"><label for="enrollCode">Code</label><input type="text" name="code" id="enrollCode" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus><button type="submit" id="confirmTotp">Next</button></form>`
      : opts.passkey
        ? passkeyRegistrationForm(SECURITY_INFO_PATH, csrf, opts.passkey)
        : `<form method="post" action="${SECURITY_INFO_PATH}">${csrf}<input type="hidden" name="op" value="add_totp"><button type="submit" id="addMethod">Add sign-in method: authenticator app</button></form>
<form method="post" action="${SECURITY_INFO_PATH}">${csrf}<input type="hidden" name="op" value="add_passkey"><button type="submit" id="addPasskey">Add sign-in method: passkey</button></form>`;
    const note = opts.message ? `<p id="securityInfoMessage" role="status">${escapeHtml(opts.message)}</p>` : '';
    const err = opts.error ? `<p class="error" id="securityInfoError" role="alert">${escapeHtml(opts.error)}${opts.reverify ? ` <a href="${escapeHtml(signInUrl(true))}" id="reverify">Verify again</a>` : ''}</p>` : '';
    const body = `<main class="card wide"><div class="brand">${escapeHtml(tenant.display_name)}</div><h1>Security info</h1><div class="identity" id="displayName">${escapeHtml(user.upn)}</div>
<p>These are the methods you use to sign in to your account or reset your password.</p>${note}${err}
<table id="methods"><thead><tr><th scope="col">Method</th><th scope="col">Details</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead><tbody>${rows}</tbody></table>
${defaultForm}${enroll}</main>`;
    return sendPage(reply, opts.status ?? 200, 'My Security Info', body);
  }

  app.get(SECURITY_INFO_PATH, async (req, reply) => {
    const who = await signedIn(req, reply);
    if (who) return render(reply, who);
    const q = req.query as Record<string, unknown>;
    // back from the sign-in without a usable session: show why instead of looping
    if (typeof q.error === 'string' || typeof q.code === 'string') {
      return errorPage(reply, 403, `You need to verify your identity before you can change your security info. ${typeof q.error_description === 'string' ? q.error_description : ''}`.trim());
    }
    return reply.code(303).header('location', signInUrl()).header('cache-control', 'no-store').send();
  });

  app.post(SECURITY_INFO_PATH, async (req, reply) => {
    // the page's forms post forms: JSON or plain text is refused as what it is (it was read as a form)
    if (!isForm(req)) return errorPage(reply, 415, `${NOT_A_FORM} Go back to Security info and try again.`);
    const who = await signedIn(req, reply);
    if (!who) return reply.code(303).header('location', signInUrl()).header('cache-control', 'no-store').send();
    const form = (req.body ?? {}) as Record<string, unknown>;
    const expected = Buffer.from(csrfFor(who.sessionUid));
    const posted = Buffer.from(typeof form.csrf === 'string' ? form.csrf : '');
    if (posted.length !== expected.length || !crypto.timingSafeEqual(posted, expected)) return errorPage(reply, 403, 'The request could not be verified (invalid or missing form token). Go back and try again.');
    const { user } = who;
    // spec §7: an authenticator app is registered only while the policy enables it for this user
    const totpRefusal = async () => {
      const access = methodAccess(await methodsPolicyFor(db, user), 'softwareOath');
      return access.enabled ? undefined : `You can't add an authenticator app: it is ${accessText(access)}. Contact your administrator.`;
    };
    switch (form.op) {
      case 'add_totp': {
        const refused = await totpRefusal();
        if (refused) return render(reply, who, { status: 403, error: refused });
        const e = await beginEnrollment({ db, secrets }, user, tenant.display_name || 'Latchkey');
        if (e === 'limit_reached') return render(reply, who, { status: 409, error: 'You already have the most authenticator apps allowed (5). Delete one first.' });
        return render(reply, who, { enrollment: { id: e.id, qr: e.qr, secret: e.secret } });
      }
      case 'confirm_totp': {
        const pending = typeof form.pendingId === 'string' ? await findPending(db, user.id, form.pendingId) : undefined;
        if (!pending) return render(reply, who, { status: 409, error: 'The set-up expired. Start again.' });
        const refused = await totpRefusal();
        if (refused) return render(reply, who, { status: 403, error: refused });
        const code = typeof form.code === 'string' ? form.code.trim() : '';
        const outcome = await db.transaction().execute(async (trx) => {
          const r = await confirmEnrollment({ db: trx, secrets }, pending, code);
          if (r === 'ok') await recordUserAddedMethod(trx, user, { id: pending.id, type: 'softwareOath' });
          return r;
        });
        if (outcome !== 'ok') {
          const view = await enrollmentView({ db, secrets }, pending, user, tenant.display_name || 'Latchkey');
          return render(reply, who, { status: 400, error: "That code didn't work. Check the code and try again.", enrollment: { id: pending.id, ...view } });
        }
        return render(reply, who, { message: 'Authenticator app added.' });
      }
      case 'add_passkey':
      case 'confirm_passkey': {
        const r: PasskeyOpResult = form.op === 'add_passkey' ? await addPasskey(deps, user, who.session) : await confirmPasskey(deps, user, who.session, form, req);
        if ('registration' in r) return render(reply, who, { passkey: r.registration });
        if ('message' in r) return render(reply, who, { message: r.message });
        return render(reply, who, { status: r.status, error: r.error, reverify: r.reverify });
      }
      case 'delete': {
        const target = typeof form.methodId === 'string' ? (await listMethods(db, user.id)).find((m) => m.id === form.methodId) : undefined;
        const gate = target?.type === 'fido2' ? passkeyGate(who.session) : undefined;
        if (gate) return render(reply, who, { status: 403, error: gate, reverify: true });
        const ok = typeof form.methodId === 'string' && (await userDeletesMethod(db, user, form.methodId));
        if (!ok) return render(reply, who, { status: 404, error: 'That method no longer exists.' });
        const still = await signedIn(req, reply);
        if (!still) return reply.code(303).header('location', signInUrl()).send(); // the TAP this session came from was deleted
        return render(reply, still, { message: 'Method deleted.' });
      }
      case 'default': {
        const m = form.method as MethodType;
        const methods = await listMethods(db, user.id);
        if (!CHOOSABLE_DEFAULTS.includes(m) || !methods.some((x) => x.type === m)) return render(reply, who, { status: 400, error: 'Choose one of your registered methods.' });
        await db.updateTable('users').set({ preferred_mfa_method: m }).where('id', '=', user.id).execute();
        return render(reply, { ...who, user: { ...user, preferred_mfa_method: m } }, { message: 'Default sign-in method changed.' });
      }
      default:
        return render(reply, who, { status: 400, error: 'Unknown request.' });
    }
  });
}

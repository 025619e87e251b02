// The sign-in pages, one renderer per step, with Entra's element ids. Every field has a label, the
// first field of each page takes the focus, and every form carries the flow's CSRF token.
import { escapeHtml } from './html.js';
import type { FlowState, StepId } from './flow.js';
import { METHODS, type MethodType } from '../methods/index.js';
import { PASSKEY_SCRIPT_PATH } from './passkey-script.js';

export interface PageInput {
  state: FlowState;
  action: string;
  csrf: string;
  error?: string;
  loginHint?: string;
  /** second-factor methods the user may choose (the current one first) */
  mfaChoices?: MethodType[];
  /** offer "Don't ask again for N days" (per-user MFA) */
  rememberDays?: number;
  /** the registration step's enrollment */
  enrollment?: { qr: string; secret: string };
  /** the registration step is closed to this sign-in: why */
  registrationBlocked?: string;
  /** the WebAuthn request options of the page's passkey ceremony (JSON), when it has one */
  passkeyOptions?: string;
}

const METHOD_LABEL: Record<MethodType, string> = {
  password: 'Password',
  softwareOath: 'Use a verification code from my authenticator app',
  temporaryAccessPass: 'Use a Temporary Access Pass',
  fido2: 'Sign in with a passkey',
};

function hidden(csrf: string, step: string): string {
  return `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}"><input type="hidden" name="step" value="${escapeHtml(step)}">`;
}

function errorBlock(id: string, error: string | undefined): string {
  return error ? `<p class="error" id="${id}" role="alert">${escapeHtml(error)}</p>` : '';
}

function identity(state: FlowState): string {
  return state.username ? `<div class="identity" id="displayName">${escapeHtml(state.username)}</div>` : '';
}

/** A one-button form posting another step name (back, switch method). */
function linkForm(p: PageInput, step: string, label: string, id: string, extra = ''): string {
  return `<form method="post" action="${p.action}" class="inline">${hidden(p.csrf, step)}${extra}<button type="submit" class="link" id="${id}">${escapeHtml(label)}</button></form>`;
}

/**
 * A passkey ceremony: the script (/assets/passkey.js) runs navigator.credentials.get() with the options
 * when the button is pressed, and posts the credential with the step's form.
 */
function passkeyForm(p: PageInput, step: string, label: string, id: string, opts: { extra?: string; primary?: boolean; autofocus?: boolean } = {}): string {
  if (!p.passkeyOptions) return '';
  return `<form method="post" action="${p.action}" data-webauthn="get" data-options="${escapeHtml(p.passkeyOptions)}">${hidden(p.csrf, step)}${opts.extra ?? ''}<input type="hidden" name="credential" value="">
<p class="error" id="${id}Error" data-webauthn-error role="alert"></p>
<button type="button" id="${id}" data-webauthn-start${opts.primary ? '' : ' class="secondary"'}${opts.autofocus ? ' autofocus' : ''}>${escapeHtml(label)}</button></form><script src="${PASSKEY_SCRIPT_PATH}" defer></script>`;
}

const RENDERERS: Record<StepId, (p: PageInput) => string> = {
  username: (p) => `<h1>Sign in</h1>${errorBlock('usernameError', p.error)}<form method="post" action="${p.action}">${hidden(p.csrf, 'username')}
<label for="i0116">Email, phone, or Skype</label>
<input type="email" name="loginfmt" id="i0116" autocomplete="username webauthn" value="${escapeHtml(p.loginHint ?? '')}" required autofocus>
<button type="submit" id="idSIButton9">Next</button></form>
${p.passkeyOptions ? `<div class="other"><p class="small">Sign-in options</p>${passkeyForm(p, 'username', 'Sign in with a passkey', 'passkeySignIn')}</div>` : ''}`,

  passkey: (p) => `${identity(p.state)}<h1>Sign in with a passkey</h1><p>Use your passkey: your device's PIN, fingerprint or face, or your security key.</p>${errorBlock('passkeyError', p.error)}
${passkeyForm(p, 'passkey', 'Use my passkey', 'passkeyButton', { primary: true, autofocus: true })}
<div class="other">${linkForm(p, 'use_password', 'Use your password instead', 'usePassword')}</div>
<form method="post" action="${p.action}">${hidden(p.csrf, 'back')}<button type="submit" id="idBtn_Back" class="secondary">Back</button></form>`,

  password: (p) => `${identity(p.state)}<h1>Enter password</h1>${errorBlock('passwordError', p.error)}<form method="post" action="${p.action}">${hidden(p.csrf, 'password')}
<label for="i0118">Password</label>
<input type="password" name="passwd" id="i0118" autocomplete="current-password" required autofocus>
<button type="submit" id="idSIButton9">Sign in</button></form>
${p.state.tapOffered ? linkForm(p, 'use_tap', 'Use a Temporary Access Pass instead', 'useTap') : ''}
${p.state.passkeyOffered ? linkForm(p, 'use_passkey', 'Sign in with a passkey instead', 'usePasskey') : ''}
<form method="post" action="${p.action}">${hidden(p.csrf, 'back')}<button type="submit" id="idBtn_Back" class="secondary">Back</button></form>`,

  tap: (p) => `${identity(p.state)}<h1>Enter Temporary Access Pass</h1><p>Enter the Temporary Access Pass your administrator gave you.</p>${errorBlock('tapError', p.error)}
<form method="post" action="${p.action}">${hidden(p.csrf, 'tap')}
<label for="accessPass">Temporary Access Pass</label>
<input type="password" name="accesspass" id="accessPass" autocomplete="one-time-code" required autofocus>
<button type="submit" id="idSIButton9">Sign in</button></form>
${linkForm(p, 'use_password', 'Use your password instead', 'usePassword')}`,

  mfa: (p) => {
    const current = p.state.mfaMethod ?? p.mfaChoices?.[0] ?? 'softwareOath';
    const others = (p.mfaChoices ?? []).filter((m) => m !== current);
    const remember = p.rememberDays
      ? `<label class="check"><input type="checkbox" name="remember" value="yes" id="rememberMfa"> Don't ask again for ${p.rememberDays} days</label>`
      : '';
    const field =
      current === 'temporaryAccessPass'
        ? `<label for="accessPass">Temporary Access Pass</label><input type="password" name="code" id="accessPass" autocomplete="one-time-code" required autofocus>`
        : `<label for="idTxtBx_SAOTCC_OTC">Code</label><input type="text" name="code" id="idTxtBx_SAOTCC_OTC" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus>`;
    const title = current === 'temporaryAccessPass' ? 'Enter Temporary Access Pass' : 'Enter code';
    const hint = current === 'temporaryAccessPass' ? '' : '<p id="idDiv_SAOTCC_Description">Enter the code displayed in the authenticator app on your mobile device.</p>';
    const switches = others.map((m) => linkForm(p, 'switch_method', METHOD_LABEL[m], `switch_${m}`, `<input type="hidden" name="method" value="${m}">`)).join('');
    const other = switches ? `<div class="other"><p class="small">Sign in another way</p>${switches}</div>` : '';
    if (current === 'fido2') {
      return `${identity(p.state)}<h1>Verify with a passkey</h1><p>Use your passkey: your device's PIN, fingerprint or face, or your security key.</p>${errorBlock('idSpan_SAOTCC_Error_OTC', p.error)}
${passkeyForm(p, 'mfa', 'Use my passkey', 'passkeyButton', { primary: true, autofocus: true, extra: `<input type="hidden" name="method" value="fido2">${remember}` })}${other}`;
    }
    return `${identity(p.state)}<h1>${title}</h1>${hint}${errorBlock('idSpan_SAOTCC_Error_OTC', p.error)}
<form method="post" action="${p.action}">${hidden(p.csrf, 'mfa')}<input type="hidden" name="method" value="${current}">
${field}${remember}
<button type="submit" id="idSubmit_SAOTCC_Continue">Verify</button></form>
${other}`;
  },

  change_password: (p) => `${identity(p.state)}<h1>Update your password</h1><p>You need to update your password because this is the first time you are signing in, or because your password has expired.</p>${errorBlock('passwordError', p.error)}
<form method="post" action="${p.action}">${hidden(p.csrf, 'change_password')}
<label for="currentPassword">Current password</label>
<input type="password" name="oldpasswd" id="currentPassword" autocomplete="current-password" required autofocus>
<label for="newPassword">New password</label>
<input type="password" name="newpasswd" id="newPassword" autocomplete="new-password" required>
<label for="confirmNewPassword">Confirm password</label>
<input type="password" name="confirmnewpasswd" id="confirmNewPassword" autocomplete="new-password" required>
<button type="submit" id="idSIButton9">Sign in</button></form>`,

  register: (p) => {
    if (p.registrationBlocked) {
      return `${identity(p.state)}<h1>More information required</h1><p id="registrationBlocked" role="alert">${escapeHtml(p.registrationBlocked)}</p>`;
    }
    const e = p.enrollment;
    return `${identity(p.state)}<h1>More information required</h1><p>Your organization needs more information to keep your account secure. Set up an authenticator app.</p>
<ol class="small"><li>Install an authenticator app on your phone.</li><li>Scan the QR code, or enter the key by hand.</li><li>Enter the 6-digit code the app shows.</li></ol>
${e ? `<img src="${e.qr}" alt="QR code to scan with your authenticator app" id="totpQr" width="200" height="200"><p class="small">Key: <code id="totpSecret">${escapeHtml(e.secret)}</code></p>` : ''}
${errorBlock('registerError', p.error)}
<form method="post" action="${p.action}">${hidden(p.csrf, 'register')}
<label for="registerCode">Code</label>
<input type="text" name="code" id="registerCode" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" required autofocus>
<button type="submit" id="idSIButton9">Next</button></form>`;
  },

  kmsi: (p) => `${identity(p.state)}<h1>Stay signed in?</h1><p>Do this to reduce the number of times you are asked to sign in.</p>${errorBlock('kmsiError', p.error)}
<form method="post" action="${p.action}">${hidden(p.csrf, 'kmsi')}
<button type="submit" id="idBtn_Back" name="kmsi" value="no" class="secondary">No</button>
<button type="submit" id="idSIButton9" name="kmsi" value="yes" autofocus>Yes</button></form>`,
};

export function renderStep(step: StepId, p: PageInput): string {
  return RENDERERS[step](p);
}

export function methodLabel(m: MethodType): string {
  return METHODS[m].logName;
}

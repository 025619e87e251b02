// The engine's own pages in Entra's look: sign-out confirmation, device-code entry and confirmation, and
// the error page of authorize and the other browser routes.
import type { Configuration } from 'oidc-provider';
import { Refusal, entraErrorBody, refusalFromEngine, whatWasWrong } from './errors.js';
import type { HtmlShell } from './engine-config.js';
import type { App } from '../directory/apps.js';
import { confirmedLogoutPage, hintNamesSessionAccount, returnToSignedInApp } from './logout.js';

type Features = NonNullable<Configuration['features']>;
type LogoutPages = Pick<NonNullable<Features['rpInitiatedLogout']>, 'logoutSource' | 'postLogoutSuccessSource'>;
type DevicePages = Pick<NonNullable<Features['deviceFlow']>, 'userCodeInputSource' | 'userCodeConfirmSource' | 'successSource'>;

/**
 * Headers of every HTML page (sign-in, engine, demo, error pages): no sniffing, no referrer, never framed,
 * and HSTS when served over HTTPS. The Fastify app sets them on its own pages; the engine's pages get them
 * from the Entra-shape middleware (they do not pass Fastify's hooks).
 */
export function htmlSecurityHeaders(https: boolean): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "frame-ancestors 'none'",
    ...(https ? { 'strict-transport-security': 'max-age=31536000' } : {}),
  };
}

/**
 * Gives an HTML answer the headers of every page: those of htmlSecurityHeaders(), except that a page with
 * a policy of its own (the sign-in pages') keeps it, with `frame-ancestors 'none'` added when it lacks one.
 * One rule for Fastify's pages (an onSend hook) and the engine's (the Entra-shape middleware).
 */
export function applyPageHeaders(headers: { get(name: string): unknown; set(name: string, value: string): void }, https: boolean): void {
  for (const [name, value] of Object.entries(htmlSecurityHeaders(https))) if (name !== 'content-security-policy' || !headers.get(name)) headers.set(name, value);
  const csp = headers.get('content-security-policy');
  if (typeof csp === 'string' && !csp.includes('frame-ancestors')) headers.set('content-security-policy', `${csp}; frame-ancestors 'none'`);
}

/** The device-code entry posted without the browser session it was shown in (no cookie): start again. */
export function deviceSessionLostPage({ page }: HtmlShell): string {
  return page('Enter code', '<div class="card"><h1>Enter code</h1><p class="error" id="errorMessage">Your browser session for this page has ended. Open the sign-in page again and enter the code.</p></div>');
}

/** Too many wrong user codes from this browser session or address (src/protocol/device-code-attempts.ts). */
export function deviceTooManyAttemptsPage({ page }: HtmlShell, aadsts: number): string {
  return page('Enter code', `<div class="card"><h1>Enter code</h1><p class="error" id="errorMessage">Too many attempts: too many wrong codes were entered. Wait a minute, then try again. (AADSTS${aadsts})</p></div>`);
}

/** Set on the request when the device-code page was shown again because the code entered does not exist. */
export const USER_CODE_NOT_FOUND = 'latchkeyUserCodeNotFound';

export function logoutPages({ page }: HtmlShell, appOf: (clientId: string) => Promise<App | undefined>): LogoutPages {
  return {
    async logoutSource(ctx, form) {
      await returnToSignedInApp(ctx, appOf);
      if (hintNamesSessionAccount(ctx)) return confirmedLogoutPage(ctx, form, page);
      ctx.body = page('Sign out', `<div class="card"><h1>Pick an account to sign out</h1><p>Do you want to sign out of your account?</p>${form}<button id="idSIButton9" type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button><button id="idBtn_Back" type="submit" form="op.logoutForm">Cancel</button></div>`);
    },
    postLogoutSuccessSource(ctx) {
      ctx.body = page('Signed out', '<div class="card"><h1>You signed out of your account</h1><p>It\'s a good idea to close all browser windows.</p></div>');
    },
  };
}

/**
 * What the code page says after a post that did not sign in, by the engine's reason: a code unknown (the
 * only one counted towards the wrong-code limit), expired, used, none given, the sign-in cancelled, or the
 * page's form token not matching (a page opened again elsewhere) where the code itself may be fine.
 * Constant texts, safe in HTML as they are.
 */
function userCodeErrorText(err: Error): string {
  switch (err.name) {
    case 'ExpiredError':
      return 'That code has expired. Get a new code from your app or device, then enter it here.';
    case 'AlreadyUsedError':
      return 'That code was already used. Get a new code from your app or device, then enter it here.';
    case 'NoCodeError':
      return 'Enter the code displayed on your app or device.';
    case 'AbortedError':
      return 'You cancelled the sign-in, and the app or device was told. You can close this window, or enter another code.';
    case 'InvalidRequest':
      return 'This page has expired. Enter the code again.';
    default:
      return "That code didn't work. Check the code and try again.";
  }
}

/**
 * The message above the code field: a cancel the person chose is news, shown as a status in the page's
 * plain text; every other reason is an error (red, an alert), as on the sign-in pages.
 */
function userCodeMessage(err: Error): string {
  const text = userCodeErrorText(err);
  return err.name === 'AbortedError' ? `<p id="userCodeStatus" role="status">${text}</p>` : `<p class="error" id="usernameError" role="alert">${text}</p>`;
}

export function deviceFlowPages({ page, escapeHtml }: HtmlShell): DevicePages {
  return {
    userCodeInputSource(ctx, form, _out, err) {
      // the engine's NotFoundError: counted by the Entra-shape middleware (at most 10 a minute)
      if (err?.name === 'NotFoundError') ctx.state[USER_CODE_NOT_FOUND] = true;
      // the engine's field (autofocus already) gets an id, Entra's placeholder, and a visible label
      const field = form.replace(/<input([^>]*name="user_code")/, '<label for="otc">Code</label><input id="otc" placeholder="Code" autocomplete="off"$1');
      ctx.body = page('Enter code', `<div class="card"><h1>Enter code</h1><p>Enter the code displayed on your app or device.</p>${err ? userCodeMessage(err) : ''}${field}<button id="idSIButton9" type="submit" form="op.deviceInputForm">Next</button></div>`);
    },
    userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
      ctx.body = page('Are you trying to sign in?', `<div class="card"><h1>Are you trying to sign in to ${escapeHtml(client.clientName ?? client.clientId)}?</h1><p>Code: <code>${escapeHtml(userCode)}</code></p><p>Only continue if you downloaded or started the app yourself.</p>${form}<button id="idSIButton9" type="submit" form="op.deviceConfirmForm">Continue</button><button id="idBtn_Back" type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Cancel</button></div>`);
    },
    successSource(ctx) {
      ctx.body = page('Signed in', '<div class="card"><h1 id="deviceSignedIn">You have signed in</h1><p>You can close this window and return to your app or device.</p></div>');
    },
  };
}

/** The engine's error page (authorize without a redirect target, device code, logout): AADSTS text (D9). */
export function engineErrorPage({ page, escapeHtml }: HtmlShell, origin: string): NonNullable<Configuration['renderError']> {
  return async (ctx, out, error) => {
    const code = error instanceof Refusal ? error.code : refusalFromEngine(out.error, (error as { error_detail?: string }).error_detail, out.error_description, undefined);
    const body = entraErrorBody(code, origin, { detail: whatWasWrong(code, out.error_description) });
    ctx.type = 'html';
    ctx.body = page('Sign in', `<div class="card"><h1>Sorry, but we're having trouble signing you in.</h1><p id="errorCode">${escapeHtml(body.error_description.split(' Trace ID')[0] ?? '')}</p><p class="small">Error: ${escapeHtml(out.error)}</p></div>`);
  };
}

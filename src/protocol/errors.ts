// Refusals as a closed set of codes, each mapped once to its wire form (spec §2, D9): the OAuth `error`,
// the AADSTS number, whether MSAL must see `suberror: bad_token`, and the message shown.
import crypto from 'node:crypto';
import { errors } from 'oidc-provider';

export const refusals = {
  sessions_revoked: { error: 'invalid_grant', aadsts: 50173, badToken: true, message: 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.' },
  password_changed: { error: 'invalid_grant', aadsts: 50173, badToken: true, message: 'The provided grant has expired due to it being revoked: the user changed or reset their password.' },
  user_disabled: { error: 'invalid_grant', aadsts: 50057, badToken: true, message: 'The user account is disabled.' },
  refresh_token_expired: { error: 'invalid_grant', aadsts: 700082, badToken: true, message: 'The refresh token has expired due to inactivity or its lifetime.' },
  refresh_token_invalid: { error: 'invalid_grant', aadsts: 9002313, badToken: true, message: 'Invalid request. The refresh token is malformed, unknown or was already used.' },
  code_invalid: { error: 'invalid_grant', aadsts: 70008, badToken: false, message: 'The provided authorization code or refresh token has expired or is not valid.' },
  code_reused: { error: 'invalid_grant', aadsts: 54005, badToken: false, message: 'OAuth2 Authorization code was already redeemed, please retry with a new valid code.' },
  code_redirect_mismatch: { error: 'invalid_grant', aadsts: 50148, badToken: false, message: 'The redirect_uri does not match the one the authorization code was issued to.' },
  redirect_uri_mismatch: { error: 'invalid_request', aadsts: 50011, badToken: false, message: 'The redirect URI specified in the request does not match the redirect URIs configured for the application.' },
  pkce_failed: { error: 'invalid_grant', aadsts: 501481, badToken: false, message: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.' },
  grant_invalid: { error: 'invalid_grant', aadsts: 70000, badToken: false, message: 'The provided request was denied because the grant is invalid or malformed.' },
  tenant_alias_for_app_token: { error: 'invalid_request', aadsts: 700016, badToken: false, message: "Application tokens cannot be requested through the 'organizations' or 'common' endpoints; use the tenant id or domain." },
  client_secret_invalid: { error: 'invalid_client', aadsts: 7000215, badToken: false, message: 'Invalid client secret provided.' },
  client_unknown: { error: 'invalid_client', aadsts: 700016, badToken: false, message: 'Application was not found in the directory.' },
  client_is_public: { error: 'invalid_client', aadsts: 700025, badToken: false, message: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented." },
  // a refresh token or code of an application that was deleted (MSAL drops the token: bad_token)
  client_deleted: { error: 'invalid_grant', aadsts: 700016, badToken: true, message: 'Application was not found in the directory: it was deleted, and its tokens with it.' },
  // An app with no service principal in the tenant (deleted, or never made for an app Graph created). Entra's
  // token endpoint answers AADSTS7000229 (MissingServicePrincipalInTheTenant, invalid_client: seen on the wire for
  // client credentials); its authorize page answers AADSTS700016 (client_unknown: "the application has not been
  // installed by the administrator of the tenant"). A refresh token or code of such an app was ended with its
  // service principal: invalid_grant and bad_token as for a deleted app (D9), with 7000229 saying why (Entra's
  // answer to a refresh here is unverified).
  client_without_sp: { error: 'invalid_client', aadsts: 7000229, badToken: false, message: 'The client application is missing service principal in the tenant.' },
  client_without_sp_grant: { error: 'invalid_grant', aadsts: 7000229, badToken: true, message: 'The client application is missing service principal in the tenant: its tokens ended when its service principal was deleted.' },
  client_auth_missing: { error: 'invalid_client', aadsts: 7000218, badToken: false, message: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'." },
  resource_unknown: { error: 'invalid_target', aadsts: 500011, badToken: false, message: 'The resource principal was not found in the tenant.' },
  scope_invalid: { error: 'invalid_scope', aadsts: 70011, badToken: false, message: 'The provided request must include a valid scope parameter.' },
  grant_type_unsupported: { error: 'unsupported_grant_type', aadsts: 70003, badToken: false, message: 'The app requested an unsupported grant type.' },
  // authorize with a response_type other than code (id_token, token: the implicit flow Latchkey never
  // enables); Entra's answer for an app without implicit ID tokens (700051 is its code for 'token', unused here)
  response_type_not_enabled: { error: 'unsupported_response_type', aadsts: 700054, badToken: false, message: "The response_type asked for is not enabled for the application: only 'code' is (tokens are issued by authorization code)." },
  // RFC 7009 §2.2.1: an access token is a JWT that lives until it expires. Entra has no revocation endpoint,
  // so the code is Latchkey's choice (900144: the request's own fault)
  token_type_unsupported: { error: 'unsupported_token_type', aadsts: 900144, badToken: false, message: 'Access tokens are JWTs that cannot be revoked: they live until they expire. Revoke the refresh token instead.' },
  request_invalid: { error: 'invalid_request', aadsts: 900144, badToken: false, message: 'The request is missing a required parameter or has a malformed one.' },
  login_required: { error: 'login_required', aadsts: 50058, badToken: false, message: 'A silent sign-in request was sent but no user is signed in.' },
  consent_required: { error: 'consent_required', aadsts: 65001, badToken: false, message: 'The user or administrator has not consented to use the application for the requested scope.' },
  // a refresh for a delegated scope the app has no consent for (any more): MSAL asks for an interactive
  // sign-in (suberror consent_required), and keeps the refresh token
  consent_required_grant: { error: 'invalid_grant', aadsts: 65001, badToken: false, consentRequired: true, message: 'The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.' },
  mfa_required: { error: 'interaction_required', aadsts: 50076, badToken: false, message: 'Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.' },
  // D9: a live refresh token whose MFA does not count for this resource: MSAL keeps it (basic_action)
  mfa_required_refresh: { error: 'invalid_grant', aadsts: 50076, badToken: false, basicAction: true, message: 'Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access the resource.' },
  registration_required: { error: 'invalid_grant', aadsts: 50079, badToken: false, basicAction: true, message: 'Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access the resource.' },
  tap_expired: { error: 'invalid_grant', aadsts: 700082, badToken: true, message: 'The refresh token has expired: the Temporary Access Pass it came from has expired.' },
  tap_deleted: { error: 'invalid_grant', aadsts: 50173, badToken: true, message: 'The provided grant has expired due to it being revoked: the Temporary Access Pass it came from was deleted or replaced.' },
  // Entra's rule for single-page apps: their codes and refresh tokens are redeemed by the browser, cross-origin
  // (an Origin header); any other kind of client redeems without one (a native app in a web view, e.g.
  // Capacitor or Electron, is refused by Entra with 9002326)
  spa_origin_required: { error: 'invalid_request', aadsts: 9002327, badToken: false, message: "Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests." },
  cross_origin_not_spa: { error: 'invalid_request', aadsts: 9002326, badToken: false, message: "Cross-origin token redemption is permitted only for the 'Single-Page Application' client-type." },
  authorization_pending: { error: 'authorization_pending', aadsts: 70016, badToken: false, message: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.' },
  // RFC 8628 §3.5. Entra's code for slow_down is not documented (unverified): 70016 is its device-flow
  // code for a pending authorization, and slow_down is a pending answer that asks for a longer interval.
  slow_down: { error: 'slow_down', aadsts: 70016, badToken: false, message: 'OAuth 2.0 device flow error. The device is polling faster than the interval it was given; wait longer between requests.' },
  // The device-code page after too many wrong user codes (a 429 page, logged). 70018 is Entra's code for a
  // wrong user code (BadVerificationCode); its code for this limit is not documented (unverified).
  user_code_attempts: { error: 'invalid_request', aadsts: 70018, badToken: false, message: 'Too many wrong user codes were entered on the device-code page; wait a minute and try again.' },
  device_code_expired: { error: 'expired_token', aadsts: 70020, badToken: false, message: 'The provided value for the device code has expired.' },
  access_denied: { error: 'access_denied', aadsts: 65004, badToken: false, message: 'The user declined the request.' },
  server_error: { error: 'server_error', aadsts: 90099, badToken: false, message: 'An internal error occurred.' },
} as const;

export type RefusalCode = keyof typeof refusals;
/**
 * Refusals on the sign-in pages (spec D9): the page message, the AADSTS code of the sign-in log and its
 * log reason. The TAP codes are Entra's 1305xx range, unverified (Entra's exact codes are not documented).
 */
export const signinCodes = {
  user_not_found: { aadsts: 50034, log: 'user not found', message: "We couldn't find an account with that username. Try another, or get a new account." },
  wrong_password: { aadsts: 50126, log: 'invalid username or password', message: "Your account or password is incorrect. If you don't remember your password, reset it now. (AADSTS50126)" },
  locked: { aadsts: 50053, log: 'account is locked (smart lockout)', message: 'Your account is temporarily locked to prevent unauthorized use. Try again later. (AADSTS50053)' },
  disabled: { aadsts: 50057, log: 'user account is disabled', message: 'Your account has been locked. Contact your support person to unlock it, then try again. (AADSTS50057)' },
  code_wrong: { aadsts: 500121, log: 'MFA failed: wrong code', message: "That code didn't work. Check the code and try again. (AADSTS500121)" },
  code_replayed: { aadsts: 500121, log: 'MFA failed: code already used', message: 'That code was already used. Wait for the next code and try again. (AADSTS500121)' },
  method_unusable: { aadsts: 500121, log: 'MFA failed: method not usable', message: "That method can't be used now. Choose another way to sign in. (AADSTS500121)" },
  too_many_codes: { aadsts: 500121, log: 'MFA failed: too many wrong codes', message: 'Too many wrong codes. Wait a few minutes and try again. (AADSTS500121)' },
  tap_wrong: { aadsts: 50126, log: 'wrong Temporary Access Pass', message: "That Temporary Access Pass isn't correct. Check it and try again. (AADSTS50126)" },
  tap_disabled: { aadsts: 130501, log: 'Temporary Access Pass blocked by the methods policy (code unverified)', message: 'Temporary Access Pass sign in was blocked due to User Credential Policy. Sign in another way. (AADSTS130501)' },
  tap_not_yet_valid: { aadsts: 130502, log: 'Temporary Access Pass not yet valid (code unverified)', message: "Your Temporary Access Pass isn't valid yet. Sign in another way. (AADSTS130502)" },
  tap_expired: { aadsts: 130503, log: 'Temporary Access Pass expired (code unverified)', message: 'Your Temporary Access Pass has expired. Sign in another way. (AADSTS130503)' },
  tap_used: { aadsts: 130504, log: 'one-time Temporary Access Pass already used (code unverified)', message: 'Your Temporary Access Pass was already used. Sign in another way. (AADSTS130504)' },
  passkey_refused: { aadsts: 500121, log: 'passkey refused (code unverified)', message: "That passkey couldn't be used. Try again, or sign in another way. (AADSTS500121)" },
  tap_deleted: { aadsts: 130505, log: 'no Temporary Access Pass (deleted or replaced; code unverified)', message: 'You no longer have a Temporary Access Pass. Sign in another way. (AADSTS130505)' },
} as const;

export type SigninCode = keyof typeof signinCodes;

/**
 * What an AADSTS number means here (the page an error's `error_uri` opens): each distinct message Latchkey
 * answers it with, from the refusals and the sign-in pages' codes; empty for a number Latchkey never sends.
 */
export function explainAadsts(aadsts: number): { error?: string; message: string }[] {
  const out: { error?: string; message: string }[] = [];
  for (const r of Object.values(refusals) as { error: string; aadsts: number; message: string }[]) {
    if (r.aadsts === aadsts && !out.some((o) => o.message === r.message)) out.push({ error: r.error, message: r.message });
  }
  for (const c of Object.values(signinCodes)) {
    const message = c.message.replace(/ \(AADSTS\d+\)$/, '');
    if (c.aadsts === aadsts && !out.some((o) => o.message === message)) out.push({ message });
  }
  return out;
}

/**
 * Latchkey's own refusal: thrown in hooks and routes, rendered once by the wire mappers.
 * It is an engine error (CustomOIDCProviderError) on purpose: a plain Error thrown inside an engine hook
 * (getResourceServerInfo, findAccount) is turned by the engine into a 500 `server_error` and never
 * reaches the `grant.error` event, so an unknown resource or a revoked refresh token came out as
 * AADSTS90099 with status 500. As an engine error it keeps its OAuth `error`, its status (400, or 401
 * for invalid_client) and an `AADSTSnnnnn:` description, also in the redirect of an authorize error.
 */
export class Refusal extends errors.CustomOIDCProviderError {
  override name = 'Refusal';
  readonly code: RefusalCode;
  readonly detail?: string;
  constructor(code: RefusalCode, detail?: string) {
    const r = refusals[code];
    super(r.error, `AADSTS${r.aadsts}: ${r.message}${detail ? ` ${detail}` : ''}`);
    this.code = code;
    this.detail = detail;
    if (r.error === 'invalid_client') this.status = this.statusCode = 401;
    if (code === 'server_error') {
      this.status = this.statusCode = 500;
      this.expose = false;
    }
  }
}

export interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
}

export function entraErrorBody(code: RefusalCode, origin: string, opts: { detail?: string; correlationId?: string } = {}): EntraErrorBody {
  const r = refusals[code];
  const now = new Date();
  const traceId = crypto.randomUUID();
  const correlationId = opts.correlationId ?? crypto.randomUUID();
  const ts = now.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  const body: EntraErrorBody = {
    error: r.error,
    error_description: `AADSTS${r.aadsts}: ${r.message}${opts.detail ? ` ${opts.detail}` : ''} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${ts}`,
    error_codes: [r.aadsts],
    timestamp: ts,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `${origin}/error?code=${r.aadsts}`,
  };
  if (r.badToken) body.suberror = 'bad_token';
  else if ('basicAction' in r && r.basicAction) body.suberror = 'basic_action';
  else if ('consentRequired' in r && r.consentRequired) body.suberror = 'consent_required';
  return body;
}

/**
 * Maps an engine refusal (its `error` and the `error_detail` seen in the `grant.error` event) to a code.
 * The engine's detail strings are pinned by tests/engine-workarounds.test.ts.
 */
export function refusalFromEngine(error: string, detail: string | undefined, description: string | undefined, grantType: string | undefined): RefusalCode {
  const d = `${detail ?? ''} ${description ?? ''}`;
  switch (error) {
    case 'invalid_grant':
      if (/already consumed/.test(d)) return grantType === 'refresh_token' ? 'refresh_token_invalid' : 'code_reused';
      if (/refresh token already used|refresh token not found/.test(d)) return 'refresh_token_invalid';
      if (/refresh token is expired/.test(d)) return 'refresh_token_expired';
      if (/authorization code (is expired|not found)|device code (is expired|not found)/.test(d)) return grantType === 'refresh_token' ? 'refresh_token_invalid' : 'code_invalid';
      if (/redirect_uri mismatch/.test(d)) return 'code_redirect_mismatch';
      if (/PKCE verification failed|code_verifier/.test(d)) return 'pkce_failed';
      if (/referenced account not found/.test(d)) return grantType === 'refresh_token' ? 'refresh_token_invalid' : 'code_invalid';
      return grantType === 'refresh_token' ? 'refresh_token_invalid' : 'grant_invalid';
    case 'invalid_client':
      // a deleted app's refresh token or code: the grant is what is gone (invalid_grant, bad_token)
      if (/client not found/.test(d)) return grantType === 'refresh_token' || grantType === 'authorization_code' ? 'client_deleted' : 'client_unknown';
      // a confidential client's request without its secret (the client view is web: client-view.ts)
      if (/no client authentication mechanism provided|client_secret must be provided|does not match the registered client authentication method/.test(d)) return 'client_auth_missing';
      return 'client_secret_invalid';
    case 'invalid_redirect_uri':
      // authorize with an unregistered redirect_uri: shown on the error page, never redirected to
      return 'redirect_uri_mismatch';
    case 'invalid_target':
      return 'resource_unknown';
    case 'invalid_scope':
      return 'scope_invalid';
    case 'unsupported_grant_type':
      return 'grant_type_unsupported';
    case 'unsupported_token_type':
      return 'token_type_unsupported';
    case 'unsupported_response_type':
      return 'response_type_not_enabled';
    case 'authorization_pending':
      return 'authorization_pending';
    case 'slow_down':
      return 'slow_down';
    case 'expired_token':
      return 'device_code_expired';
    case 'access_denied':
      return 'access_denied';
    case 'login_required':
      return 'login_required';
    case 'interaction_required':
      return 'mfa_required';
    case 'consent_required':
      return 'consent_required';
    case 'server_error':
      return 'server_error';
    default:
      return 'request_invalid';
  }
}

/**
 * What a refusal said beyond its code's generic text, as a sentence after it: a Refusal's own detail (the
 * engine carries it in its description, after the code's text), or for a malformed request (AADSTS900144)
 * the engine's description of it, which names the parameter missing, repeated or malformed. Bounded and
 * without control characters.
 */
export function whatWasWrong(code: RefusalCode, description: unknown): string | undefined {
  if (typeof description !== 'string') return undefined;
  const generic = `AADSTS${refusals[code].aadsts}: ${refusals[code].message}`;
  let text = description.startsWith(generic) ? description.slice(generic.length) : code === 'request_invalid' && !/^AADSTS\d+:/.test(description) ? description : '';
  text = text.replace(/\p{Cc}/gu, ' ').trim().slice(0, 300);
  if (!text) return undefined;
  // a sentence's first word is capitalized, a parameter's name (`post_logout_redirect_uri not registered`) is not
  const sentence = /^[a-z]+(?=[\s,;:]|$)/.test(text) ? text[0]!.toUpperCase() + text.slice(1) : text;
  return /[.!?…]$/.test(sentence) ? sentence : `${sentence}.`;
}

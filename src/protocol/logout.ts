// Sign-out as MSAL.js asks for it, as Entra answers it. `logoutRedirect` sends a post_logout_redirect_uri and
// a logout_hint (the ID token's `login_hint` claim), without client_id or id_token_hint:
// - the engine drops a post_logout_redirect_uri it cannot tie to a client; Entra sends the person back to it
//   when it is registered on an app the browser session signed in to. The engine's confirmation then
//   redirects there, with `state`;
// - a logout_hint naming the session's own account signs out without asking which account (Entra's
//   "promptless logout"); any other hint, or none, gets the account picker.
import crypto from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { App } from '../directory/apps.js';

/** What the logout page reads of the engine's session. */
interface LogoutSession {
  accountId?: string;
  authorizations?: Record<string, unknown>;
  state?: { clientId?: string; postLogoutRedirectUri?: string };
}

/** Whether an app registers `uri` for a sign-out's return: a post-logout URI or a redirect URI of any platform. */
export function registersLogoutUri(app: App, uri: string): boolean {
  return [app.postLogoutRedirectUris, app.webRedirectUris, app.spaRedirectUris, app.publicClientRedirectUris].some((l) => l.includes(uri));
}

/**
 * Gives the engine's logout the return address the request named without naming its app: the first app the
 * browser session signed in to that registers it. A request naming its app (client_id, id_token_hint) was
 * checked by the engine already.
 */
export async function returnToSignedInApp(ctx: KoaContextWithOIDC, appOf: (clientId: string) => Promise<App | undefined>): Promise<void> {
  const session = ctx.oidc.session as LogoutSession | undefined;
  const state = session?.state;
  if (!session || !state || state.postLogoutRedirectUri || ctx.oidc.client) return;
  const sent = ((ctx.method === 'POST' ? ctx.oidc.body : ctx.query) as Record<string, unknown> | undefined)?.post_logout_redirect_uri;
  if (typeof sent !== 'string' || !sent) return;
  for (const clientId of Object.keys(session.authorizations ?? {})) {
    const app = await appOf(clientId);
    if (app && registersLogoutUri(app, sent)) {
      state.clientId = clientId;
      state.postLogoutRedirectUri = sent;
      return;
    }
  }
}

/** Whether the request's logout_hint (a `login_hint` claim: base64url JSON with `uid`) names the session's account. */
export function hintNamesSessionAccount(ctx: KoaContextWithOIDC): boolean {
  const hint = (ctx.oidc.params as Record<string, unknown> | undefined)?.logout_hint;
  const accountId = (ctx.oidc.session as LogoutSession | undefined)?.accountId;
  if (typeof hint !== 'string' || !accountId || hint.length > 2000) return false;
  try {
    const uid = (JSON.parse(Buffer.from(hint, 'base64url').toString('utf8')) as { uid?: unknown }).uid;
    return uid === accountId;
  } catch {
    return false;
  }
}

const SUBMIT = "document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit(); });";
const SUBMIT_HASH = `'sha256-${crypto.createHash('sha256').update(SUBMIT).digest('base64')}'`;

/**
 * The engine's logout form, confirmed and submitted by the page itself (a button when scripts are off).
 * Its one script is allowed by its hash.
 */
export function confirmedLogoutPage(ctx: KoaContextWithOIDC, form: string, page: (title: string, body: string) => string): void {
  const confirmed = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/><noscript><button id="idSIButton9" type="submit">Sign out</button></noscript></form>');
  ctx.set('content-security-policy', `default-src 'self'; style-src 'unsafe-inline'; script-src ${SUBMIT_HASH}; frame-ancestors 'none'`);
  ctx.body = page('Signing out', `<div class="card"><h1>Signing you out…</h1>${confirmed}</div><script>${SUBMIT}</script>`);
}

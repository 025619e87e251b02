// A new sign-in's first page (the user name), answered by the authorize request itself, as Entra's
// authorize answers with its sign-in page: the browser follows no redirect to /signin/{uid}, and the
// page needs no read of the interaction the engine has just made. The engine's Entra-shape middleware
// asks for it (src/protocol/entra-middleware.ts) when a browser without a session starts a sign-in; the
// page posts to /signin/{uid} like every other step's, and GET /signin/{uid} still shows it (a reload, a
// step-up, a browser that follows an old redirect).
import type { FirstSigninPage } from '../protocol/engine-config.js';
import { requestedResources } from '../protocol/browser-sessions.js';
import { relyingParty } from '../methods/fido2/index.js';
import { FlowStore, PAGE_HEADERS, type SigninDeps, stepPage } from './flow.js';
import { page } from './html.js';
import { startingState } from './steps/index.js';
import { passkeyRequestJson } from './steps/passkey.js';

export function firstSigninPage(deps: Pick<SigninDeps, 'db' | 'secrets' | 'tenant' | 'config' | 'origin'>): FirstSigninPage {
  const flows = new FlowStore(deps.db, deps.secrets);
  const rp = relyingParty(deps.config, deps.origin, deps.tenant.display_name);
  return ({ uid, expiresAt, params }) => {
    const state = startingState(typeof params.client_id === 'string' ? params.client_id : undefined, requestedResources(params));
    const loginHint = typeof params.login_hint === 'string' ? params.login_hint : undefined;
    const { title, body } = stepPage(deps.tenant, flows, uid, { state, loginHint, passkeyOptions: passkeyRequestJson(rp, state) });
    return { html: page(title, body), headers: PAGE_HEADERS, cookie: flows.cookie(uid, state, expiresAt) };
  };
}

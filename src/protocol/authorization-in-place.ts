// A new sign-in's authorization response, answered by the sign-in's last post, as Entra's last sign-in
// post answers with the redirect to the app. Through the engine, a finished sign-in is stored on its
// interaction and the browser is sent to the engine's resume, which reads the interaction again and runs
// the authorization pipeline a second time; for a browser that had no session, the outcome is known
// beforehand: a new browser session, a grant of the consented scopes and an authorization code. This
// module makes them with the engine's own models, as the resume makes them (the engine redeems the code,
// and finds the session by its cookie, unchanged), and Latchkey's record of the session.
//
// Only that case is answered here; anything the resume would judge again goes through the engine:
// a browser with a session (another account, step-up), the device flow, web_message, prompt=consent or
// none, id_token_hint, acr_values, a claims request for a subject or an ACR, an app or a resource gone
// meanwhile, nothing granted.
import type Provider from 'oidc-provider';
import type { Interaction } from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { Secrets } from '../crypto/secrets.js';
import type { Db } from '../storage/db.js';
import { takeInteraction } from '../storage/oidc-adapter.js';
import { writeTogether } from '../storage/statements.js';
import { type SigninResultFacts, recordBrowserSession } from './browser-sessions.js';
import { engineCookieKeys } from './cookie-signer.js';
import { CLAIMS_SUPPORTED, NEW_SIGNIN_PROMPTS } from './engine-config.js';
import { grantFor } from './grants.js';
import { resourceDirectoryOf } from './provider.js';
import { resourceServerInfo } from './resource-indicators.js';
import { htmlSecurityHeaders } from './pages.js';

export interface InPlaceDeps {
  provider: Provider;
  db: Db;
  secrets: Secrets;
  config: Config;
  tenantId: string;
  /** the pages' HTML escaping (src/signin/html.ts), for the form_post page */
  escapeHtml: (s: string) => string;
}

/** The engine's `login` result of a finished sign-in. */
export interface FinishedLogin {
  accountId: string;
  amr: string[];
  remember: boolean;
  /** the session's login time (s) */
  ts: number;
}

/**
 * The answer: the browser's way to the app (a redirect, or for form_post the page that posts the response
 * to it) and the cookies it gets; `gone` when the sign-in was finished already (by another post) or expired.
 */
export type InPlaceAnswer = ({ location: string } | { page: { html: string; headers: Record<string, string> } }) & { cookies: string[] } | 'gone';

/** Parameters whose checks the resume runs again: a request with one goes through the engine. */
const RESUME_CHECKED = ['id_token_hint', 'acr_values', 'authorization_details', 'dpop_jkt', 'request', 'request_uri'];

type Params = Record<string, unknown>;

/** The claims parameter as the engine's assignClaims reads it, or undefined when the resume would judge it. */
function requestedClaims(params: Params): Record<string, Record<string, unknown>> | undefined {
  if (params.claims === undefined) return {};
  if (typeof params.claims !== 'string') return undefined;
  try {
    const claims = JSON.parse(params.claims) as Record<string, Record<string, unknown>>;
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
    const idToken = claims.id_token;
    if (idToken !== undefined && (typeof idToken !== 'object' || idToken === null || 'sub' in idToken || 'acr' in idToken)) return undefined;
    return claims;
  } catch {
    return undefined;
  }
}

/** The interaction's parameters when the resume's outcome is known beforehand (see the module's comment). */
function answerableHere(i: Interaction): { params: Params; claims: Record<string, Record<string, unknown>> } | undefined {
  const stored = i as unknown as Record<string, unknown>;
  if (stored.result || stored.session || stored.deviceCode || stored.parJti || stored.grantId || stored.lastSubmission) return undefined;
  // a new browser is asked to sign in (login), or to pick an account (select_account: MSAL's interactive default)
  if (!NEW_SIGNIN_PROMPTS.has(i.prompt?.name ?? '')) return undefined;
  const params = i.params as Params;
  if (params.response_type !== 'code' || typeof params.client_id !== 'string' || typeof params.redirect_uri !== 'string') return undefined;
  const mode = params.response_mode ?? 'query';
  if (mode !== 'query' && mode !== 'fragment' && mode !== 'form_post') return undefined;
  if (RESUME_CHECKED.some((name) => params[name] !== undefined)) return undefined;
  const prompts = typeof params.prompt === 'string' ? params.prompt.split(' ').filter(Boolean) : [];
  if (!prompts.every((p) => NEW_SIGNIN_PROMPTS.has(p))) return undefined;
  const claims = requestedClaims(params);
  return claims ? { params, claims } : undefined;
}

/** The claims names a claims parameter asks for, as the engine's requestParamClaims counts them. */
function claimNames(claims: Record<string, Record<string, unknown>>): string[] {
  const names = new Set<string>();
  for (const part of [claims.userinfo, claims.id_token]) {
    for (const [claim, value] of Object.entries(part ?? {})) {
      if (CLAIMS_SUPPORTED.has(claim) && (value === null || (typeof value === 'object' && !Array.isArray(value)))) names.add(claim);
    }
  }
  return [...names];
}

/**
 * Finishes interaction `uid` of a browser without a session where its sign-in ended: the way to the app
 * with the code; `gone` when the interaction was taken by another post or has expired; undefined when the
 * engine's resume must finish it (nothing is written then). `alsoWrite` runs with the writes of the
 * finish, and its batchable writes join their transaction (none when the answer is `gone` or undefined).
 */
export async function authorizeInPlace(deps: InPlaceDeps, uid: string, login: FinishedLogin, facts: SigninResultFacts, alsoWrite: () => Promise<void>): Promise<InPlaceAnswer | undefined> {
  const { provider, config } = deps;
  const interaction = await provider.Interaction.find(uid);
  // finished already (or expired): the resume would refuse it too
  if (!interaction) return 'gone';
  const here = answerableHere(interaction);
  if (!here) return undefined;
  const { params, claims } = here;
  const clientId = params.client_id as string;
  const client = await provider.Client.find(clientId);
  if (!client) return undefined;

  // the resource servers, as the resume's checkResource resolves the stored `resource`
  const directory = resourceDirectoryOf(provider);
  const indicators = params.resource === undefined ? [] : Array.isArray(params.resource) ? (params.resource as string[]) : [String(params.resource)];
  const resourceServers: Record<string, InstanceType<Provider['ResourceServer']>> = {};
  for (const indicator of indicators) {
    const view = await directory.view(indicator, clientId);
    if (!view) return undefined;
    resourceServers[indicator] = new provider.ResourceServer(indicator, resourceServerInfo(config, indicator, view, false));
  }
  const requested = new Set(typeof params.scope === 'string' ? params.scope.split(' ') : []);
  const grant = grantFor(provider, {
    clientId,
    accountId: login.accountId,
    claims: claimNames(claims),
    resourceServers,
    passwordBased: facts.passwordBased,
    origin: { ip: facts.ip, userAgent: facts.userAgent },
    tap: facts.tap,
  });
  // the scope of the code, as the engine's codeHandler combines it; nothing granted is the resume's refusal
  const scope = new Set(grant.getOIDCScopeFiltered(requested).split(' ').filter(Boolean));
  for (const indicator of Object.keys(resourceServers)) for (const s of grant.getResourceScopeFiltered(indicator, requested).split(' ').filter(Boolean)) scope.add(s);
  if (!scope.size) return undefined;

  const ttl = login.remember ? config.persistentSessionTtl : config.sessionTtl;

  // The grant, the code, the engine's session, Latchkey's record of it and the caller's own writes (the
  // sign-in log) written together (one transaction on SQLite), and only by the post that takes the
  // interaction (the guard).
  const finish = async () => {
    // the grant's id is made when it is saved
    await grant.save();
    const { session, code } = sessionAndCode(provider, { login, client, params, claims, grantId: grant.jti, resource: Object.keys(resourceServers), scope });
    const value = await code.save();
    await session.save(ttl);
    await recordBrowserSession(deps.db, deps.tenantId, session.uid, login.accountId, login.amr, facts);
    await alsoWrite();
    return { value, session };
  };
  const done = await writeTogether(deps.db, takeInteraction(deps.db, deps.secrets, uid), finish);
  if (!done) return 'gone';
  const { value, session } = done.value;

  const out: Record<string, string> = { code: value };
  if (typeof params.state === 'string') out.state = params.state;
  out.iss = provider.issuer;
  const cookies = [...sessionCookies(provider, session.jti, login.remember ? session.exp : undefined), ...clearedResumeCookies(provider, interaction.returnTo)];
  const mode = params.response_mode ?? 'query';
  if (mode === 'form_post') return { page: formPostPage(params.redirect_uri as string, out, provider.issuer.startsWith('https:'), deps.escapeHtml), cookies };
  const location = new URL(params.redirect_uri as string);
  if (mode === 'fragment') location.hash = new URLSearchParams(out).toString();
  else for (const [k, v] of Object.entries(out)) location.searchParams.set(k, v);
  return { location: location.href, cookies };
}

/** The browser session and the code as the engine's resume and codeHandler make them. */
function sessionAndCode(
  provider: Provider,
  a: { login: FinishedLogin; client: InstanceType<Provider['Client']>; params: Params; claims: Record<string, Record<string, unknown>>; grantId: string; resource: string[]; scope: Set<string> },
) {
  const { login, client, params } = a;
  const clientId = client.clientId;
  const session = new provider.Session();
  session.loginAccount({ accountId: login.accountId, loginTs: login.ts, amr: login.amr, transient: !login.remember });
  session.ensureClientContainer(clientId);
  session.grantIdFor(clientId, a.grantId);
  // codes never expire with the session (engine-config.ts): the authorization outlives a logout's session end
  session.authorizationFor(clientId).persistsLogout = true;

  const codeClaims: Record<string, Record<string, unknown>> = { ...a.claims };
  if (params.max_age !== undefined || client.requireAuthTime || (typeof params.prompt === 'string' && params.prompt.split(' ').includes('login'))) {
    codeClaims.id_token = { ...codeClaims.id_token, auth_time: { essential: true } };
  }
  const code = new provider.AuthorizationCode({
    accountId: login.accountId,
    amr: login.amr,
    authTime: login.ts,
    ...(Object.keys(codeClaims).length ? { claims: codeClaims } : {}),
    client,
    codeChallenge: params.code_challenge as string | undefined,
    codeChallengeMethod: params.code_challenge_method as string | undefined,
    grantId: a.grantId,
    nonce: params.nonce as string | undefined,
    redirectUri: params.redirect_uri as string,
    ...(a.resource.length ? { resource: a.resource.length === 1 ? a.resource[0]! : a.resource } : {}),
    scope: [...a.scope].join(' '),
    sessionUid: session.uid,
    sid: session.sidFor(clientId),
  } as ConstructorParameters<Provider['AuthorizationCode']>[0]);
  return { session, code };
}

/** The engine's form_post response (its response_modes/form_post.js, byte for byte), with the headers of its pages. */
function formPostPage(action: string, inputs: Record<string, string>, https: boolean, htmlSafe: (s: string) => string): { html: string; headers: Record<string, string> } {
  const formInputs = Object.entries(inputs)
    .map(([key, value]) => `<input type="hidden" name="${key}" value="${htmlSafe(value)}"/>`)
    .join('\n');
  const html = `<!DOCTYPE html>
<html>
<head>
  <meta http-equiv="X-UA-Compatible" content="IE=edge">
  <title>Submitting Callback</title>
  <script>
    document.addEventListener('DOMContentLoaded', function () { document.forms[0].submit() });
  </script>
</head>
<body>
  <form method="post" action="${htmlSafe(action)}">
    ${formInputs}
    <noscript>
      Your browser does not support JavaScript or you've disabled it.<br/>
      <button autofocus type="submit">Continue</button>
    </noscript>
  </form>
</body>
</html>`;
  return { html, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...htmlSecurityHeaders(https) } };
}

/** The engine's session cookie and its signature, as its session handler sets them (`long` cookies, expiring with a persistent session). */
function sessionCookies(provider: Provider, id: string, exp: number | undefined): string[] {
  const name = provider.cookieName('session');
  const attrs = `; path=/; samesite=lax; secure; httponly${exp ? `; expires=${new Date(exp * 1000).toUTCString()}` : ''}`;
  return [`${name}=${id}${attrs}`, `${name}.sig=${engineCookieKeys(provider).sign(`${name}=${id}`)}${attrs}`];
}

/** The resume cookie cleared, as the resume clears it. */
function clearedResumeCookies(provider: Provider, returnTo: string | undefined): string[] {
  if (!returnTo) return [];
  const name = provider.cookieName('resume');
  const attrs = `; path=${new URL(returnTo).pathname}; expires=${new Date(0).toUTCString()}; samesite=lax; secure; httponly`;
  return [`${name}=${attrs}`, `${name}.sig=${engineCookieKeys(provider).sign(`${name}=`)}${attrs}`];
}

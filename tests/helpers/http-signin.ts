// A user agent without a browser: the sign-in pages work without JavaScript, so an authorization request,
// the sign-in (user name, password, Stay signed in) and the redirect back to the app are plain HTTP with a
// cookie jar. Plus the token call and the assertion on Entra-shaped refusals.
import crypto from 'node:crypto';
import assert from 'node:assert/strict';
import { DEMO } from '../../src/directory/seed.js';
import { bumpDirectoryVersion } from '../../src/directory/version.js';
import type { TestServer } from './server.js';

/** Enough of a cookie store for the engine's and the sign-in pages' cookies (paths are not scoped). */
export class Jar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=(0|-)/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.slice(a.indexOf('=') + 1)) <= Date.now()));
      if (expired || !value) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface AuthorizeOutcome {
  /** the redirect to the app (code or error in its query), when there was one */
  redirect?: URL;
  /** otherwise the final response */
  status: number;
  html?: string;
  /** how many times the sign-in pages were shown */
  signInPages: number;
}

export function pkce() {
  const verifier = crypto.randomBytes(32).toString('base64url');
  return { verifier, challenge: crypto.createHash('sha256').update(verifier).digest('base64url') };
}

/** Answers for the steps beyond user name, password and Stay signed in: the step's page in, the form fields out. */
export type StepAnswers = Partial<Record<string, (html: string) => Record<string, string>>>;

/** The address a sign-in page's (first) form posts to, when the page has one. */
export function signinFormAction(html: string, origin: string): URL | undefined {
  const action = /<form[^>]*action="(\/signin\/[^"]+)"/.exec(html)?.[1];
  return action ? new URL(action.replace(/&amp;/g, '&'), origin) : undefined;
}

/**
 * Fills the sign-in pages of one interaction (user name, password, Stay signed in = Yes); returns where they
 * send the browser. The first page is fetched from `at`, or is `first` when it came already (authorize
 * answers a new sign-in with its first page); each form is posted where its action says.
 */
export async function fillSignIn(server: TestServer, jar: Jar, at: URL, user: string, password: string, answers: StepAnswers = {}, first?: { status: number; html: string }): Promise<URL> {
  let res: Response | undefined;
  if (!first) {
    res = await fetch(at, { headers: { cookie: jar.header() }, redirect: 'manual' });
    jar.take(res);
  }
  for (let i = 0; i < 10; i++) {
    if (res && (res.status === 303 || res.status === 302)) return new URL(res.headers.get('location')!, server.origin);
    const status = res ? res.status : first!.status;
    const html = res ? await res.text() : first!.html;
    assert.equal(status, 200, `sign-in page: ${status} ${html.slice(0, 300)}`);
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
    const step = /name="step" value="([^"]+)"/.exec(html)?.[1];
    assert.ok(csrf && step, `a sign-in form: ${html.slice(0, 300)}`);
    const target = signinFormAction(html, server.origin) ?? at;
    const fields: Record<string, string> = { csrf, step };
    const answer = answers[step];
    if (answer) Object.assign(fields, answer(html));
    else if (step === 'username') fields.loginfmt = user;
    else if (step === 'password') fields.passwd = password;
    else if (step === 'kmsi') fields.kmsi = 'yes';
    else assert.fail(`unexpected sign-in step ${step}`);
    res = await fetch(target, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields), redirect: 'manual' });
    jar.take(res);
  }
  assert.fail('the sign-in pages did not finish');
}

/**
 * Starts a sign-in with an authorization request (a browser without a session: authorize answers with the
 * user-name page) and returns that page and where its form posts (`/signin/{uid}`). Follows a redirect to the
 * sign-in pages too, for the flows that still take one.
 */
export async function startSignIn(server: TestServer, jar: Jar, params: Record<string, string>, headers: Record<string, string> = {}): Promise<{ at: URL; html: string; status: number; authorize: Response }> {
  const authorizeRes = await fetch(`${server.tenantUrl}/oauth2/v2.0/authorize?${new URLSearchParams(params)}`, { headers: { ...headers, cookie: jar.header() }, redirect: 'manual' });
  jar.take(authorizeRes);
  let res = authorizeRes;
  if (res.status === 303 || res.status === 302) {
    const next = new URL(res.headers.get('location')!, server.origin);
    assert.match(next.pathname, /^\/signin\//, `authorize sends the browser to the sign-in pages: ${next.href}`);
    res = await fetch(next, { headers: { ...headers, cookie: jar.header() }, redirect: 'manual' });
    jar.take(res);
  }
  const html = await res.text();
  const at = signinFormAction(html, server.origin);
  assert.ok(at, `a sign-in page: ${res.status} ${html.slice(0, 300)}`);
  return { at, html, status: res.status, authorize: authorizeRes };
}

/** Runs an authorization request the way a browser would, signing in when the pages ask. */
export async function authorize(server: TestServer, jar: Jar, params: Record<string, string>, who: { user: string; password: string; answers?: StepAnswers } = { user: '', password: DEMO.demoPassword }): Promise<AuthorizeOutcome> {
  const user = who.user || `alice@${server.tenantDomain}`;
  const redirectUri = params.redirect_uri ?? '';
  let url = new URL(`${server.tenantUrl}/oauth2/v2.0/authorize?${new URLSearchParams(params)}`);
  let signInPages = 0;
  for (let i = 0; i < 8; i++) {
    // a new sign-in's last post sends the browser straight to the app
    if (redirectUri && url.href.startsWith(redirectUri)) return { redirect: url, status: 303, signInPages };
    const res = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual' });
    jar.take(res);
    const location = res.headers.get('location');
    if ((res.status === 302 || res.status === 303) && location) {
      if (redirectUri && location.startsWith(redirectUri)) return { redirect: new URL(location), status: res.status, signInPages };
      const next = new URL(location, server.origin);
      if (next.pathname.startsWith('/signin/')) {
        signInPages++;
        url = await fillSignIn(server, jar, next, user, who.password, who.answers);
      } else url = next;
      continue;
    }
    const html = await res.text();
    if (res.status === 200 && signinFormAction(html, server.origin)) {
      // a new sign-in: authorize answered with its first page
      signInPages++;
      url = await fillSignIn(server, jar, url, user, who.password, who.answers, { status: res.status, html });
      continue;
    }
    return { status: res.status, html, signInPages };
  }
  assert.fail('too many redirects');
}

export interface TokenResponse {
  status: number;
  body: Record<string, unknown> & { access_token?: string; refresh_token?: string; id_token?: string; error?: string; error_description?: string; error_codes?: number[]; suberror?: string };
}

/** A token request; `headers` for what a browser adds (a single-page app's redemption carries its Origin). */
export async function token(server: TestServer, form: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenResponse> {
  const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form), headers });
  return { status: res.status, body: (await res.json()) as TokenResponse['body'] };
}

export function assertRefused(r: TokenResponse, error: string, aadsts: number, what: string): void {
  assert.equal(r.body.error, error, `${what}: ${JSON.stringify(r.body)}`);
  assert.deepEqual(r.body.error_codes, [aadsts], `${what}: ${JSON.stringify(r.body)}`);
  assert.match(r.body.error_description ?? '', new RegExp(`^AADSTS${aadsts}: `), what);
  assert.ok(r.status === 400 || r.status === 401, `${what}: status ${r.status}`);
}

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';

/** Consents `Directory.AccessAsUser.All` (and any other delegated Graph scopes) for the demo native app. */
export async function consentNativeAppToGraph(server: TestServer, scopes: readonly string[] = ['Directory.AccessAsUser.All']): Promise<void> {
  await server.store.db.transaction().execute(async (trx) => {
    for (const value of scopes) {
      await trx
        .insertInto('permission_grants')
        .values({ client_app_id: DEMO.nativeAppId, resource_app_id: GRAPH_APP_ID, kind: 'delegated', value, created_at: Date.now() })
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    // as every consent write does: every instance's cached view of consents sees it at the next request
    await bumpDirectoryVersion(trx, server.tenantId);
  });
}

/** A delegated Graph access token for a user, through a real sign-in with the demo native app. */
export async function delegatedGraphToken(server: TestServer, user: string, password: string): Promise<string> {
  const p = pkce();
  const redirectUri = 'http://localhost:5999';
  const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid offline_access https://graph.microsoft.com/Directory.AccessAsUser.All', code_challenge: p.challenge, code_challenge_method: 'S256' }, { user, password });
  const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: p.verifier, scope: GRAPH_DEFAULT });
  assert.ok(t.body.access_token, JSON.stringify(t.body));
  return t.body.access_token;
}

/** An app-only Graph access token (client credentials). */
export async function appGraphToken(server: TestServer, clientId: string, secret: string): Promise<string> {
  const t = await token(server, { grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: GRAPH_DEFAULT });
  assert.ok(t.body.access_token, JSON.stringify(t.body));
  return t.body.access_token;
}

/** Signs in to the demo portal (/demo/, a confidential web app) over HTTP in this jar; the portal's own cookie is kept by the jar too. */
export async function demoPortalSignIn(server: TestServer, jar: Jar, upn: string, password: string): Promise<void> {
  let url = new URL(`${server.origin}/demo/login`);
  for (let i = 0; i < 12; i++) {
    const res = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual' });
    jar.take(res);
    const location = res.headers.get('location');
    if ((res.status === 302 || res.status === 303) && location) {
      const next = new URL(location, server.origin);
      url = next.pathname.startsWith('/signin/') ? await fillSignIn(server, jar, next, upn, password) : next;
      continue;
    }
    const html = await res.text();
    if (res.status === 200 && signinFormAction(html, server.origin)) {
      // a new sign-in: authorize answered with its first page
      url = await fillSignIn(server, jar, url, upn, password, {}, { status: res.status, html });
      continue;
    }
    assert.match(html, /id="userName"/, `signed in to the demo portal: ${html.slice(0, 300)}`);
    return;
  }
  assert.fail('the demo portal sign-in did not finish');
}

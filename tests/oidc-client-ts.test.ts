// An unmodified single-page app on the generic OIDC library oidc-client-ts (its browser bundle, global
// `oidc`) in real Chromium, served from its own origin (plain http on localhost), with Latchkey's v2.0 issuer
// as its authority: discovery, sign-in by redirect (code with PKCE), the user kept in sessionStorage, the
// userinfo endpoint called from the page, a refresh by refresh token, revocation, and sign-out by redirect.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createApp, grantPermission, GRAPH_APP_ID } from '../src/directory/apps.js';
import { createUser } from '../src/directory/users.js';
import { browserSkipReason, launchBrowser, signIn } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const PW = 'Oidc-Client-Ts-Pass-2026!';
// the package's browser bundle (an IIFE defining the global `oidc`); its exports name only the module builds
const OIDC_JS = path.join(path.dirname(createRequire(import.meta.url).resolve('oidc-client-ts/package.json')), 'dist', 'browser', 'oidc-client-ts.min.js');
const SCOPE = 'openid profile offline_access User.Read';

/** What the page keeps of a User (the library's own object, as stored). */
interface PageUser {
  id_token?: string;
  access_token: string;
  refresh_token?: string | null;
  token_type: string;
  scope?: string;
  expires_at?: number;
  profile: Record<string, unknown>;
}
/** What the page keeps of the library's answers (window.out). */
interface Out {
  signin?: PageUser;
  signout?: { state?: unknown; error?: string | null };
  error?: string;
  done?: boolean;
}
type Mgr = {
  signinRedirect(a?: unknown): Promise<void>;
  signinSilent(a?: unknown): Promise<PageUser | null>;
  signoutRedirect(a?: unknown): Promise<void>;
  getUser(): Promise<PageUser | null>;
  revokeTokens(types?: string[]): Promise<void>;
};
type PageGlobals = { mgr: Mgr; out: Out; ready: Promise<void> };

/** A JWT's payload, unverified (the test reads what the library was given). */
function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('oidc-client-ts, an unmodified SPA in Chromium (sqlite)', { skip }, () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let spa: http.Server;
  let spaOrigin = '';
  let clientId = '';
  let userId = '';
  let first: PageUser | undefined;
  const upn = () => `oidc-client-ts@${server.tenantDomain}`;
  /** the requests the library made from the page to Latchkey's token, userinfo and revocation endpoints, with Origin and status */
  const calls: Promise<{ path: string; method: string; grantType: string | null; origin: string | undefined; status: number | undefined }>[] = [];
  const seen = () => Promise.all(calls);

  before(async () => {
    server = await startTestServer('sqlite');
    // the SPA's own server: its page (at / and /signed-out) and the library's bundle, nothing else
    spa = http.createServer((req, res) => {
      if (req.url === '/oidc-client-ts.min.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(fs.readFileSync(OIDC_JS));
      const p = (req.url ?? '/').split(/[?#]/)[0];
      if (p !== '/' && p !== '/signed-out') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html' }).end(spaPage());
    });
    await new Promise<void>((resolve) => spa.listen(0, 'localhost', resolve));
    spaOrigin = `http://localhost:${(spa.address() as AddressInfo).port}`;
    const app = await createApp(server.store.db, {
      tenantId: server.tenantId,
      displayName: 'oidc-client-ts SPA',
      kind: 'spa',
      redirectUris: [`${spaOrigin}/`],
      postLogoutRedirectUris: [`${spaOrigin}/signed-out`],
    });
    clientId = app.id;
    await grantPermission(server.store.db, app.id, GRAPH_APP_ID, 'delegated', ['User.Read']);
    userId = (await createUser(server.store.db, { tenantId: server.tenantId, upn: upn(), displayName: 'OIDC Client TS user', password: PW })).id;
    browser = await launchBrowser();
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await context.newPage();
    page.on('requestfinished', (r) => {
      const url = r.url();
      if (!url.startsWith(server.tenantUrl) || url.endsWith('?by=test') || !/\/(oauth2\/v2\.0\/(token|revoke)|openid\/userinfo)$/.test(url.split('?')[0]!)) return;
      const grantType = r.method() === 'POST' ? new URLSearchParams(r.postData() ?? '').get('grant_type') : null;
      // the Origin header is the network stack's: only in the request's full headers
      calls.push(Promise.all([r.allHeaders(), r.response()]).then(([h, res]) => ({ path: new URL(url).pathname.slice(server.tenantId.length + 1), method: r.method(), grantType, origin: h.origin, status: res?.status() })));
    });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await new Promise((r) => spa?.close(r));
    await server?.close();
  });

  function spaPage(): string {
    const settings = {
      authority: `${server.origin}/${server.tenantId}/v2.0`,
      client_id: clientId,
      redirect_uri: `${spaOrigin}/`,
      post_logout_redirect_uri: `${spaOrigin}/signed-out`,
      response_type: 'code',
      scope: SCOPE,
      loadUserInfo: true,
      automaticSilentRenew: false,
      // no revokeTokenAdditionalContentTypes: Latchkey's empty revocation answer has no content type
    };
    return `<!doctype html><html><head><title>SPA</title><script src="/oidc-client-ts.min.js"></script></head><body><h1>SPA</h1>
<script>
window.out = {};
window.mgr = new oidc.UserManager(${JSON.stringify(settings)});
const plain = (u) => u && { id_token: u.id_token, access_token: u.access_token, refresh_token: u.refresh_token, token_type: u.token_type, scope: u.scope, expires_at: u.expires_at, profile: u.profile };
const fail = (e) => { window.out.error = String(e && e.message || e) + (e && e.error ? ' [' + e.error + '] ' + String(e.error_description || '') : ''); };
window.ready = (async () => {
  const q = new URLSearchParams(location.search);
  if (location.pathname === '/' && (q.has('code') || q.has('error'))) {
    window.out.signin = plain(await window.mgr.signinRedirectCallback());
    history.replaceState(null, '', '/');
  } else if (location.pathname === '/signed-out') {
    const r = await window.mgr.signoutRedirectCallback();
    window.out.signout = { state: r.userState, error: r.error };
  }
})().then(() => { window.out.done = true; }, (e) => { fail(e); window.out.done = true; });
</script></body></html>`;
  }

  const outOf = async () => {
    await page.waitForFunction(() => (globalThis as unknown as { out?: Out }).out?.done === true, undefined, { timeout: 30_000 });
    return page.evaluate(() => (globalThis as unknown as { out: Out }).out);
  };

  /** A refresh-token grant at the token endpoint from the page (a cross-origin POST, as the library makes it). */
  const refreshFromPage = (refreshToken: string) =>
    page.evaluate(
      async ([url, cid, rt, scope]) => {
        const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', client_id: cid!, refresh_token: rt!, scope: scope! }) });
        return { status: res.status, error: ((await res.json()) as { error?: string }).error };
      },
      [`${server.tenantUrl}/oauth2/v2.0/token`, clientId, refreshToken, SCOPE] as const,
    );
  /** userinfo from the page with a bearer token. */
  const userinfoFromPage = (accessToken: string) =>
    page.evaluate(
      async ([url, token]) => {
        const res = await fetch(url!, { headers: { authorization: `Bearer ${token}` } });
        return { status: res.status, wwwAuthenticate: res.headers.get('www-authenticate'), body: (await res.json()) as Record<string, unknown> };
      },
      // marked, so that the list of the library's own calls leaves it out
      [`${server.tenantUrl}/openid/userinfo?by=test`, accessToken] as const,
    );

  test('discovery under the v2.0 issuer names the endpoints the library uses; userinfo answers a cross-origin preflight', async () => {
    const res = await fetch(`${server.origin}/${server.tenantId}/v2.0/.well-known/openid-configuration`);
    assert.equal(res.status, 200);
    const d = (await res.json()) as Record<string, unknown>;
    assert.equal(d.issuer, `${server.origin}/${server.tenantId}/v2.0`);
    assert.equal(d.authorization_endpoint, `${server.tenantUrl}/oauth2/v2.0/authorize`);
    assert.equal(d.token_endpoint, `${server.tenantUrl}/oauth2/v2.0/token`);
    assert.equal(d.userinfo_endpoint, `${server.tenantUrl}/openid/userinfo`);
    assert.equal(d.end_session_endpoint, `${server.tenantUrl}/oauth2/v2.0/logout`);
    assert.equal(d.revocation_endpoint, `${server.tenantUrl}/oauth2/v2.0/revoke`);
    // userinfo is called cross-origin with a bearer header: its preflight is answered for any origin, as
    // Microsoft Graph's /oidc/userinfo answers it (no cookie, no ambient credential)
    const preflight = await fetch(`${server.tenantUrl}/openid/userinfo`, { method: 'OPTIONS', headers: { origin: 'http://localhost:1', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,accept' } });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'authorization,accept');
  });

  test('signinRedirect through Latchkey’s pages, signinRedirectCallback on the SPA: ID token, access token, refresh token, and the userinfo claims', async () => {
    await page.goto(`${spaOrigin}/`);
    assert.equal((await outOf()).error, undefined);
    // signinRedirect leaves the page: not awaited
    void page.evaluate(() => (globalThis as unknown as PageGlobals).mgr.signinRedirect()).catch(() => {});
    await page.waitForURL((u) => u.href.startsWith(`${server.tenantUrl}/oauth2/v2.0/authorize`), { timeout: 30_000, waitUntil: 'commit' });
    const authorize = new URL(page.url());
    assert.equal(authorize.searchParams.get('client_id'), clientId);
    assert.equal(authorize.searchParams.get('response_type'), 'code');
    assert.equal(authorize.searchParams.get('scope'), SCOPE);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    await signIn(page, upn(), PW);
    await page.waitForURL((u) => u.href.startsWith(`${spaOrigin}/`), { timeout: 30_000 });
    const out = await outOf();
    assert.equal(out.error, undefined, `signinRedirectCallback: ${out.error}`);
    const u = out.signin;
    assert.ok(u, 'the callback gave a user');
    assert.ok(u.id_token, 'an ID token');
    const id = claimsOf(u.id_token);
    assert.equal(id.aud, clientId);
    assert.equal(id.tid, server.tenantId);
    assert.equal(id.iss, `${server.origin}/${server.tenantId}/v2.0`);
    assert.equal(id.sub, userId);
    assert.equal(id.preferred_username, upn());
    assert.equal(u.token_type, 'Bearer');
    assert.ok(u.access_token, 'an access token');
    const at = claimsOf(u.access_token);
    assert.equal(at.aud, 'https://graph.microsoft.com');
    assert.equal(at.oid, userId);
    assert.ok(u.refresh_token, 'a refresh token (offline_access)');
    assert.ok(typeof u.expires_at === 'number' && u.expires_at > Date.now() / 1000, `expires_at ${u.expires_at}`);
    // the profile: the ID token's claims merged with userinfo's (loadUserInfo), without the protocol claims
    assert.equal(u.profile.sub, userId);
    assert.equal(u.profile.oid, userId);
    assert.equal(u.profile.tid, server.tenantId);
    assert.equal(u.profile.aud, clientId);
    assert.equal(u.profile.name, 'OIDC Client TS user');
    assert.equal(u.profile.preferred_username, upn());
    assert.equal(u.profile.nonce, undefined);
    // what userinfo answers for this token: all of it in the profile
    const info = await userinfoFromPage(u.access_token);
    assert.equal(info.status, 200);
    assert.deepEqual(info.body, { sub: userId, oid: userId, tid: server.tenantId, name: 'OIDC Client TS user', preferred_username: upn() });
    for (const [k, v] of Object.entries(info.body)) assert.equal(u.profile[k], v, k);
    // the code redeemed and userinfo called from the page, cross-origin with the SPA's Origin
    assert.deepEqual(await seen(), [
      { path: '/oauth2/v2.0/token', method: 'POST', grantType: 'authorization_code', origin: spaOrigin, status: 200 },
      { path: '/openid/userinfo', method: 'GET', grantType: null, origin: spaOrigin, status: 200 },
    ]);
    first = u;
  });

  test('getUser after a reload finds the same user in sessionStorage', async () => {
    assert.ok(first, 'signed in by the test before');
    await page.reload();
    assert.equal((await outOf()).error, undefined);
    const u = await page.evaluate(() => (globalThis as unknown as PageGlobals).mgr.getUser().then((x) => x && { id_token: x.id_token, access_token: x.access_token, refresh_token: x.refresh_token, sub: x.profile.sub }));
    assert.deepEqual(u, { id_token: first.id_token, access_token: first.access_token, refresh_token: first.refresh_token, sub: userId });
    const stored = await page.evaluate(() => {
      const s = (globalThis as unknown as { sessionStorage: { length: number; key(i: number): string | null } }).sessionStorage;
      return Array.from({ length: s.length }, (_, i) => s.key(i));
    });
    assert.deepEqual(stored, [`oidc.user:${server.origin}/${server.tenantId}/v2.0:${clientId}`]);
  });

  test('signinSilent redeems the refresh token from the page: a new access token and a rotated refresh token', async () => {
    assert.ok(first, 'signed in by the test before');
    const before = (await seen()).length;
    const r = await page.evaluate(async () => {
      try {
        const x = await (globalThis as unknown as PageGlobals).mgr.signinSilent();
        return x && { id_token: x.id_token, access_token: x.access_token, refresh_token: x.refresh_token, scope: x.scope, profile: x.profile };
      } catch (e) {
        return { error: String((e as Error).message) };
      }
    });
    assert.ok(r && !('error' in r), JSON.stringify(r));
    assert.ok(r.access_token && r.access_token !== first.access_token, 'a new access token');
    assert.ok(r.refresh_token && r.refresh_token !== first.refresh_token, 'the SPA’s refresh token rotates');
    assert.equal(claimsOf(r.access_token).aud, 'https://graph.microsoft.com');
    assert.equal(r.profile.sub, userId);
    assert.equal(r.profile.preferred_username, upn());
    const after = (await seen()).slice(before);
    assert.deepEqual(after, [
      { path: '/oauth2/v2.0/token', method: 'POST', grantType: 'refresh_token', origin: spaOrigin, status: 200 },
      { path: '/openid/userinfo', method: 'GET', grantType: null, origin: spaOrigin, status: 200 },
    ]);
    // the stored user is the refreshed one
    const stored = await page.evaluate(() => (globalThis as unknown as PageGlobals).mgr.getUser().then((x) => x?.refresh_token));
    assert.equal(stored, r.refresh_token);
  });

  test('revokeTokens: the refresh token is revoked from the page, and the grant with it', async () => {
    const user = await page.evaluate(() => (globalThis as unknown as PageGlobals).mgr.getUser());
    assert.ok(user?.refresh_token, 'signed in and refreshed by the tests before');
    const before = (await seen()).length;
    // the refresh token alone: the library's default (access_token, then refresh_token) starts with the access
    // token, a JWT, which RFC 7009 lets the server refuse (unsupported_token_type)
    const revoked = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).mgr.revokeTokens(['refresh_token']).then(
        () => 'revoked',
        (e: { error?: string; message?: string }) => `${e.error}: ${e.message}`,
      ),
    );
    assert.equal(revoked, 'revoked');
    assert.deepEqual((await seen()).slice(before), [
      { path: '/oauth2/v2.0/revoke', method: 'POST', grantType: null, origin: spaOrigin, status: 200 },
    ]);
    // the library forgot it, and kept the rest
    const kept = await page.evaluate(() => (globalThis as unknown as PageGlobals).mgr.getUser().then((x) => x && { refresh_token: x.refresh_token, access_token: x.access_token }));
    assert.deepEqual(kept, { refresh_token: null, access_token: user.access_token });
    // Latchkey refuses the revoked refresh token, and the grant's access token at its own userinfo
    assert.deepEqual(await refreshFromPage(user.refresh_token), { status: 400, error: 'invalid_grant' });
    const info = await userinfoFromPage(user.access_token);
    assert.equal(info.status, 401);
    assert.equal(info.wwwAuthenticate, 'Bearer realm="", error="invalid_token", error_description="The user or the token is no longer valid."');
  });

  test('signoutRedirect with its registered post_logout_redirect_uri: back on the SPA signed out, and the next signinRedirect asks for the user name', async () => {
    assert.ok(await page.evaluate(() => (globalThis as unknown as PageGlobals).mgr.getUser()), 'signed in by the tests before');
    void page.evaluate(() => (globalThis as unknown as PageGlobals).mgr.signoutRedirect({ state: 'bye' })).catch(() => {});
    await page.waitForURL((u) => u.href.startsWith(`${server.tenantUrl}/oauth2/v2.0/logout`), { timeout: 30_000, waitUntil: 'commit' });
    const logout = new URL(page.url());
    assert.equal(logout.searchParams.get('post_logout_redirect_uri'), `${spaOrigin}/signed-out`);
    assert.ok(logout.searchParams.get('id_token_hint'), 'the ID token as the hint');
    assert.equal(logout.searchParams.get('logout_hint'), null);
    // without a logout_hint, Entra asks which account to sign out of (its promptless sign-out needs one)
    await page.waitForSelector('text=Pick an account to sign out', { timeout: 30_000 });
    await page.click('#idSIButton9');
    await page.waitForURL((u) => u.href.startsWith(`${spaOrigin}/signed-out`), { timeout: 30_000 });
    const out = await outOf();
    assert.equal(out.error, undefined, `signoutRedirectCallback: ${out.error}`);
    assert.deepEqual(out.signout, { state: 'bye', error: null });
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).mgr.getUser()), null, 'the library forgot the user');
    // Latchkey's session is gone: a new sign-in shows the user name page
    void page.evaluate(() => (globalThis as unknown as PageGlobals).mgr.signinRedirect()).catch(() => {});
    await page.waitForSelector('#i0116', { timeout: 30_000 });
    assert.ok(page.url().startsWith(`${server.tenantUrl}/oauth2/v2.0/authorize`), page.url());
  });
});

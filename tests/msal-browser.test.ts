// An unmodified single-page app: @azure/msal-browser in real Chromium, served from its own origin (plain
// http on localhost, a secure context as on a developer's machine), against Latchkey as its authority.
// Sign-in by redirect, the cached token found again for a short Graph scope, a refresh from the browser
// (cross-origin, with the SPA's Origin), and a Graph call from the page (CORS).
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
import { DEMO } from '../src/directory/seed.js';
import { browserSkipReason, launchBrowser, signIn } from './helpers/browser.js';
import { appGraphToken } from './helpers/http-signin.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const PW = 'Msal-Browser-Pass-2026!';
// the package's UMD bundle (its exports name only the module entry points)
const MSAL_LIB = path.join(path.dirname(createRequire(import.meta.url).resolve('@azure/msal-browser/package.json')), 'lib');
const MSAL_JS = path.join(MSAL_LIB, 'msal-browser.min.js');
// what the redirect URI's page runs inside MSAL's hidden iframe (silent renewal): hands the answer to the app
const MSAL_BRIDGE_JS = path.join(MSAL_LIB, 'redirect-bridge', 'msal-redirect-bridge.min.js');

/** What the page keeps of MSAL's answers (window.out), and what the test asks it to do (window.spa). */
interface Out {
  redirect?: { account: { username: string; homeAccountId: string }; idTokenClaims: Record<string, unknown>; accessToken: string; scopes: string[] } | null;
  error?: string;
}

describe('@azure/msal-browser, an unmodified SPA in Chromium (sqlite)', { skip }, () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let spa: http.Server;
  let spaOrigin = '';
  let clientId = '';
  const upn = () => `msal-spa@${server.tenantDomain}`;
  /** the token endpoint requests the page made, with their grant type and Origin */
  const tokenCalls: Promise<{ grantType: string | null; origin: string | undefined }>[] = [];
  const calls = () => Promise.all(tokenCalls);
  /** the last refused token request's answer */
  let refusedRefresh: unknown;

  before(async () => {
    server = await startTestServer('sqlite');
    // the SPA's own server: its page and the MSAL bundle, nothing else
    spa = http.createServer((req, res) => {
      if (req.url === '/msal-browser.min.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(fs.readFileSync(MSAL_JS));
      if (req.url === '/msal-redirect-bridge.min.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(fs.readFileSync(MSAL_BRIDGE_JS));
      if ((req.url ?? '/').split(/[?#]/)[0] !== '/') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html' }).end(spaPage());
    });
    await new Promise<void>((resolve) => spa.listen(0, 'localhost', resolve));
    spaOrigin = `http://localhost:${(spa.address() as AddressInfo).port}`;
    const app = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'MSAL browser SPA', kind: 'spa', redirectUris: [`${spaOrigin}/`] });
    clientId = app.id;
    await grantPermission(server.store.db, app.id, GRAPH_APP_ID, 'delegated', ['User.Read']);
    await grantPermission(server.store.db, app.id, DEMO.apiAppId, 'delegated', ['read']);
    await createUser(server.store.db, { tenantId: server.tenantId, upn: upn(), displayName: 'MSAL SPA user', password: PW });
    browser = await launchBrowser();
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    page = await context.newPage();
    page.on('response', (r) => {
      if (r.request().method() !== 'POST' || !r.url().startsWith(`${server.tenantUrl}/oauth2/v2.0/token`) || r.status() === 200) return;
      void r.json().then((b: { error?: string; error_codes?: number[]; suberror?: string }) => (refusedRefresh = { status: r.status(), error: b.error, codes: b.error_codes, suberror: b.suberror }));
    });
    page.on('requestfinished', (r) => {
      if (r.method() !== 'POST' || !r.url().startsWith(`${server.tenantUrl}/oauth2/v2.0/token`)) return;
      // the Origin header is the network stack's: only in the request's full headers
      const grantType = new URLSearchParams(r.postData() ?? '').get('grant_type');
      tokenCalls.push(r.allHeaders().then((h) => ({ grantType, origin: h.origin })));
    });
  });
  after(async () => {
    await context?.close();
    await browser?.close();
    await new Promise((r) => spa?.close(r));
    await server?.close();
  });

  function spaPage(): string {
    const config = {
      auth: { clientId, authority: server.tenantUrl, knownAuthorities: [new URL(server.origin).host], redirectUri: `${spaOrigin}/` },
      cache: { cacheLocation: 'sessionStorage' },
    };
    return `<!doctype html><html><head><title>SPA</title><script src="/msal-browser.min.js"></script><script src="/msal-redirect-bridge.min.js"></script></head><body><h1>SPA</h1>
<script>
window.out = {};
if (window.parent !== window) msalRedirectBridge.broadcastResponseToMainFrame();
else {
window.pca = new msal.PublicClientApplication(${JSON.stringify(config)});
window.ready = window.pca.initialize().then(() => window.pca.handleRedirectPromise()).then(
  (r) => { window.out.redirect = r && { account: { username: r.account.username, homeAccountId: r.account.homeAccountId }, idTokenClaims: r.idTokenClaims, accessToken: r.accessToken, scopes: r.scopes }; },
  (e) => { window.out.error = String(e && (e.errorCode || e.message) || e) + ' ' + String(e && e.errorMessage || ''); });
}
</script></body></html>`;
  }

  /** acquireTokenSilent in the page for the signed-in account. */
  const silent = (opts: { forceRefresh?: boolean; scopes?: string[] } = {}): Promise<{ accessToken: string; fromCache: boolean; scopes: string[] } | { error: string; name?: string; errorCode?: string; subError?: string }> =>
    page.evaluate(async (o) => {
      const w = globalThis as unknown as { pca: { getAllAccounts(): unknown[]; acquireTokenSilent(r: unknown): Promise<{ accessToken: string; fromCache: boolean; scopes: string[] }> } };
      try {
        const r = await w.pca.acquireTokenSilent({ scopes: ['User.Read'], account: w.pca.getAllAccounts()[0], ...o });
        return { accessToken: r.accessToken, fromCache: r.fromCache, scopes: r.scopes };
      } catch (e) {
        const err = e as { name?: string; errorCode?: string; errorMessage?: string; subError?: string };
        return { error: `${err.errorCode ?? String(e)} ${err.errorMessage ?? ''}`, name: err.name, errorCode: err.errorCode, subError: err.subError };
      }
    }, opts);

  test('loginRedirect through Latchkey’s pages, then the cached token for User.Read, a refresh from the browser, and Graph called from the page', async () => {
    await page.goto(`${spaOrigin}/`);
    await page.evaluate(() => (globalThis as unknown as { ready: Promise<void> }).ready);
    // loginRedirect leaves the page: not awaited
    void page.evaluate(() => (globalThis as unknown as { pca: { loginRedirect(r: unknown): Promise<void> } }).pca.loginRedirect({ scopes: ['User.Read'] })).catch(() => {});
    await signIn(page, upn(), PW);
    await page.waitForURL((u) => u.href.startsWith(`${spaOrigin}/`), { timeout: 30_000 });
    await page.waitForFunction(() => { const o = (globalThis as unknown as { out?: Out }).out; return !!o && (o.redirect !== undefined || o.error !== undefined); }, undefined, { timeout: 30_000 });
    const out = await page.evaluate(() => (globalThis as unknown as { out: Out }).out);
    assert.equal(out.error, undefined, `handleRedirectPromise: ${out.error}`);
    const r = out.redirect;
    assert.ok(r, 'the redirect brought a result');
    assert.equal(r.account.username, upn());
    assert.equal(r.idTokenClaims.aud, clientId);
    assert.equal(r.idTokenClaims.tid, server.tenantId);
    assert.ok(r.accessToken, 'an access token for Graph');
    assert.ok(r.scopes.includes('User.Read'), `scopes as MSAL cached them: ${r.scopes.join(' ')}`);
    assert.deepEqual(await calls(), [{ grantType: 'authorization_code', origin: spaOrigin }], 'the code redeemed by the browser, with the SPA’s Origin');

    // the same scope again: MSAL finds its cached token (the answer's scope is Graph's short form)
    const cached = await silent();
    assert.ok('accessToken' in cached, JSON.stringify(cached));
    assert.equal(cached.fromCache, true);
    assert.equal(cached.accessToken, r.accessToken);
    assert.equal(tokenCalls.length, 1, 'no token request for a cached token');

    // forced: the refresh token, redeemed cross-origin from the page
    const refreshed = await silent({ forceRefresh: true });
    assert.ok('accessToken' in refreshed, JSON.stringify(refreshed));
    assert.equal(refreshed.fromCache, false);
    assert.notEqual(refreshed.accessToken, r.accessToken);
    assert.deepEqual((await calls())[1], { grantType: 'refresh_token', origin: spaOrigin });

    // another API: the refresh token redeemed for its scope, from the page
    const api = await silent({ scopes: [`${DEMO.apiIdentifier}/read`] });
    assert.ok('accessToken' in api, JSON.stringify(api));
    assert.equal(api.fromCache, false);
    assert.deepEqual(api.scopes.filter((x) => !['openid', 'profile', 'offline_access'].includes(x)), [`${DEMO.apiIdentifier}/read`]);
    assert.equal(JSON.parse(Buffer.from(api.accessToken.split('.')[1]!, 'base64url').toString('utf8')).aud, DEMO.apiAppId);
    assert.deepEqual((await calls())[2], { grantType: 'refresh_token', origin: spaOrigin });
    assert.equal((await silent({ scopes: [`${DEMO.apiIdentifier}/read`] }) as { fromCache?: boolean }).fromCache, true, 'found again in the cache');

    // Graph from the page: a cross-origin call with the bearer token
    const me = await page.evaluate(async ([url, tokenValue]) => {
      const res = await fetch(url!, { headers: { authorization: `Bearer ${tokenValue}` } });
      return { status: res.status, body: (await res.json()) as { userPrincipalName?: string } };
    }, [`${server.origin}/v1.0/me`, refreshed.accessToken] as const);
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.userPrincipalName, upn());
    // a refusal is readable by the page too (its body and Graph's request id)
    const refused = await page.evaluate(async (url) => {
      const res = await fetch(url, { headers: { authorization: 'Bearer not-a-token' } });
      return { status: res.status, requestId: res.headers.get('request-id'), body: (await res.json()) as { error?: { code?: string } } };
    }, `${server.origin}/v1.0/me`);
    assert.equal(refused.status, 401);
    assert.equal(refused.body.error?.code, 'InvalidAuthenticationToken');
  });

  test('logoutRedirect signs the person out at Latchkey and comes back to the SPA: the next sign-in asks for the password again', async () => {
    assert.ok(await page.evaluate(() => (globalThis as unknown as { pca: { getAllAccounts(): unknown[] } }).pca.getAllAccounts().length), 'signed in by the test before');
    void page
      .evaluate((back) => {
        const w = globalThis as unknown as { pca: { getAllAccounts(): unknown[]; logoutRedirect(r: unknown): Promise<void> } };
        return w.pca.logoutRedirect({ account: w.pca.getAllAccounts()[0], postLogoutRedirectUri: back });
      }, `${spaOrigin}/`)
      .catch(() => {});
    await page.waitForURL((u) => u.href.startsWith(server.origin), { timeout: 30_000 });
    await page.waitForURL((u) => u.href.startsWith(`${spaOrigin}/`), { timeout: 30_000 });
    await page.evaluate(() => (globalThis as unknown as { ready: Promise<void> }).ready);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { pca: { getAllAccounts(): unknown[] } }).pca.getAllAccounts().length), 0, 'MSAL forgot the account');
    // Latchkey's session is gone: a new sign-in shows the user name page
    void page.evaluate(() => (globalThis as unknown as { pca: { loginRedirect(r: unknown): Promise<void> } }).pca.loginRedirect({ scopes: ['User.Read'] })).catch(() => {});
    await page.waitForSelector('#i0116', { timeout: 30_000 });
  });

  test("Revoke sessions reaches the SPA: its next refresh is refused (AADSTS50173, bad_token) and MSAL asks for an interactive sign-in", async () => {
    // the last test left the user name page of a new loginRedirect
    await signIn(page, upn(), PW);
    await page.waitForURL((u) => u.href.startsWith(`${spaOrigin}/`), { timeout: 30_000 });
    await page.waitForFunction(() => { const o = (globalThis as unknown as { out?: Out }).out; return !!o && (o.redirect !== undefined || o.error !== undefined); }, undefined, { timeout: 30_000 });
    const before = tokenCalls.length;
    const fresh = await silent({ forceRefresh: true });
    assert.ok('accessToken' in fresh, JSON.stringify(fresh));
    const userId = (await server.store.db.selectFrom('users').select('id').where('upn', '=', upn()).executeTakeFirstOrThrow()).id;
    const res = await fetch(`${server.origin}/v1.0/users/${userId}/revokeSignInSessions`, { method: 'POST', headers: { authorization: `Bearer ${await appGraphToken(server, DEMO.automationAppId, 'automation-secret-value')}` } });
    assert.equal(res.status, 200, await res.text());
    // the refresh token is refused; MSAL then tries a hidden iframe (prompt=none), which has no session either
    const refused = await silent({ forceRefresh: true });
    assert.ok('error' in refused, JSON.stringify(refused));
    assert.equal(refused.name, 'InteractionRequiredAuthError', JSON.stringify(refused));
    const refreshes = (await calls()).slice(before).filter((c) => c.grantType === 'refresh_token');
    assert.equal(refreshes.length, 2, 'the refresh that worked, and the refused one');
    assert.deepEqual(refusedRefresh, { status: 400, error: 'invalid_grant', codes: [50173], suberror: 'bad_token' });
  });
});

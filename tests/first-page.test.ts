// A new sign-in's first page comes with authorize's answer (src/signin/first-page.ts), as Entra's: the
// same page, headers and flow cookie GET /signin/{uid} gives, with no redirect; a browser that already
// has a session is still sent to the sign-in pages by redirect.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { Jar, authorize, pkce, signinFormAction } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const REDIRECT = 'http://localhost';
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'";

for (const dbKind of await databases()) {
  describe(`the first sign-in page at authorize (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    const params = (extra: Record<string, string> = {}) => ({ client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: pkce().challenge, code_challenge_method: 'S256', ...extra });
    const headersOf = (res: Response) => Object.fromEntries(['content-type', 'cache-control', 'x-frame-options', 'x-content-type-options', 'referrer-policy', 'content-security-policy'].map((h) => [h, res.headers.get(h)]));

    test('a browser without a session gets the user-name page from authorize, with the headers and flow cookie of /signin/{uid}', async () => {
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/authorize?${new URLSearchParams(params({ login_hint: `alice@${server.tenantDomain}` }))}`, { redirect: 'manual' });
      const html = await res.text();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('location'), null);
      assert.deepEqual(headersOf(res), {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'x-frame-options': 'DENY',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'content-security-policy': PAGE_CSP,
      });
      assert.match(res.headers.get('strict-transport-security') ?? '', /^max-age=\d+/);
      const at = signinFormAction(html, server.origin)!;
      assert.match(at.pathname, /^\/signin\/[\w-]+$/);
      const uid = at.pathname.slice('/signin/'.length);
      assert.match(html, /id="i0116"[^>]*value="alice@/, 'the login hint is in the field');
      const cookies = res.headers.getSetCookie();
      const flow = cookies.find((c) => c.startsWith('latchkey_flow='));
      assert.ok(flow, cookies.join('\n'));
      assert.match(flow, new RegExp(`; Path=/signin/${uid}; Max-Age=\\d+; Secure; HttpOnly; SameSite=Lax$`));
      assert.ok(cookies.some((c) => c.startsWith('__Secure-lk_interaction=') && c.includes(`path=/signin/${uid}`)), 'the engine’s interaction cookie for the page’s path');

      // the same flow shown again by GET /signin/{uid}: same form, same headers
      const jar = new Jar();
      jar.take(res);
      const again = await fetch(at, { headers: { cookie: jar.header() } });
      const againHtml = await again.text();
      assert.equal(again.status, 200);
      assert.deepEqual(headersOf(again), headersOf(res));
      assert.equal(/name="csrf" value="([^"]+)"/.exec(againHtml)?.[1], /name="csrf" value="([^"]+)"/.exec(html)?.[1], 'one flow, one form token');
    });

    test('a browser with a session asked to sign in again is sent to the sign-in pages by redirect', async () => {
      const jar = new Jar();
      const first = await authorize(server, jar, params());
      assert.ok(first.redirect?.searchParams.get('code'), 'signed in');
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/authorize?${new URLSearchParams(params({ prompt: 'login' }))}`, { headers: { cookie: jar.header() }, redirect: 'manual' });
      await res.arrayBuffer();
      assert.equal(res.status, 303);
      assert.match(new URL(res.headers.get('location')!, server.origin).pathname, /^\/signin\/[\w-]+$/);
    });
  });
}

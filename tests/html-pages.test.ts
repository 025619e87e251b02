// Every HTML page (Latchkey's own, the demo portal, the engine's, error pages) sends the same security
// headers, and the device-code page posted without its browser session is a 400 page, not a 500.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('HTML pages', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite');
  });
  after(async () => {
    await server?.close();
  });

  function assertPageHeaders(res: Response, what: string) {
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/, what);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer', what);
    assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, what);
    assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=\d+/, what);
  }

  test('the home page, the demo portal, a sign-in error page, a not-found page and the engine device-code page send nosniff, no-referrer, frame-ancestors none and HSTS', async () => {
    const pages = ['/', '/demo/', '/signin/no-such-flow', '/no-such-page', `/${server.tenantId}/oauth2/deviceauth`];
    let checked = 0;
    for (const p of pages) {
      const res = await fetch(`${server.origin}${p}`, { headers: { accept: 'text/html' }, redirect: 'manual' });
      await res.arrayBuffer();
      if (res.status >= 300 && res.status < 400) continue;
      assertPageHeaders(res, p);
      checked++;
    }
    assert.ok(checked >= 4, `${checked} pages answered with HTML`);
  });

  test('POST /{tenant}/oauth2/deviceauth without the session cookie is a 400 page asking to start again', async () => {
    const res = await fetch(`${server.tenantUrl}/oauth2/deviceauth`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user_code=BCDF-GHJK&xsrf=x' });
    const html = await res.text();
    assert.equal(res.status, 400);
    assert.match(html, /id="errorMessage"/);
    assertPageHeaders(res, 'deviceauth without session');
  });
});

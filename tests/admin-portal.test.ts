// The admin portal at /admin in real Chromium: a Global Administrator is sent through Latchkey's own
// sign-in pages and comes back signed in (tokens in memory only: both web storages empty), the page has a
// strict Content Security Policy, and the portal's app registration follows the configured origin.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { browserSkipReason, launchBrowser, signIn } from './helpers/browser.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const SHOTS = process.env.LATCHKEY_SCREENSHOTS;
const ADMIN_PASSWORD = 'Bootstrap-Admin-Pw-1';

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/admin-portal-${name}.png`, fullPage: true });
}

for (const db of await databases()) {
  describe(`admin portal (${db})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    before(async () => {
      server = await startTestServer(db);
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('/admin answers with a strict Content Security Policy and no inline script', async () => {
      const res = await fetch(`${server.origin}/admin/`);
      assert.equal(res.status, 200);
      const csp = res.headers.get('content-security-policy') ?? '';
      const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
      assert.deepEqual(directives.get('script-src'), ["'self'"]);
      assert.deepEqual(directives.get('connect-src'), ["'self'"]);
      assert.deepEqual(directives.get('default-src'), ["'none'"]);
      assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
      assert.ok(!directives.get('style-src')?.includes("'unsafe-inline'"));
      const html = await res.text();
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script');
      // a fresh nonce per response
      const again = await fetch(`${server.origin}/admin/`);
      assert.notEqual(again.headers.get('content-security-policy'), csp);
    });

    test('a Global Administrator signs in through Latchkey and sees the users; tokens stay out of web storage', async () => {
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      try {
        await page.goto(`${server.origin}/admin`);
        await signIn(page, `admin@${server.tenantDomain}`, ADMIN_PASSWORD);
        await page.waitForSelector('#usersTable');
        assert.equal(new URL(page.url()).pathname, '/admin/');
        assert.equal((await page.textContent('#signedInUser'))?.trim(), `admin@${server.tenantDomain}`);
        assert.ok(await page.locator('tr[data-upn="alice@' + server.tenantDomain + '"]').count());
        const storages = await page.evaluate('({ local: localStorage.length, session: sessionStorage.length })');
        assert.deepEqual(storages, { local: 0, session: 0 });
        await shot(page, 'users');
      } finally {
        await context.close();
      }
    });
  });
}

// The device-code flow's limits: polling faster than the advertised interval is answered slow_down
// (RFC 8628 §3.5) in Entra's shape, and wrong user codes on the device-code page are limited per browser
// session and per IP address (a 429 page, logged in signin_log).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { Jar, assertRefused, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const skipBrowser = browserSkipReason();

/** The attributes of the paragraph of the code page that holds `text`, or undefined when there is none. */
function messageAttributes(html: string, text: string): string | undefined {
  return new RegExp(`<p([^>]*)>${text}`).exec(html)?.[1];
}

for (const dbKind of await databases()) {
  describe(`device-code flow limits (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind, { deviceCodeInterval: 2 });
    });
    after(async () => {
      await server?.close();
    });

    async function deviceCode(): Promise<{ device_code: string; user_code: string; interval: number }> {
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/devicecode`, { method: 'POST', body: new URLSearchParams({ client_id: DEMO.nativeAppId, scope: 'openid offline_access User.Read' }) });
      assert.equal(res.status, 200);
      return (await res.json()) as { device_code: string; user_code: string; interval: number };
    }
    const poll = (code: string) => token(server, { grant_type: DEVICE_GRANT, client_id: DEMO.nativeAppId, device_code: code });

    test('polling the token endpoint sooner than the advertised interval is answered slow_down with AADSTS70016; at the interval, authorization_pending', async () => {
      const dc = await deviceCode();
      assert.equal(dc.interval, 2, 'the configured interval is advertised');
      assertRefused(await poll(dc.device_code), 'authorization_pending', 70016, 'first poll');
      const fast = await poll(dc.device_code);
      assertRefused(fast, 'slow_down', 70016, 'a poll sooner than the interval');
      assert.equal(fast.body.suberror, undefined);
      // another device code has its own clock
      const other = await deviceCode();
      assertRefused(await poll(other.device_code), 'authorization_pending', 70016, 'another device code');
      // the interval has passed (the last poll moved back instead of waiting)
      await server.store.db.updateTable('oidc_models').set({ last_polled_at: Date.now() - 2000 }).where('model', '=', 'DeviceCode').where('last_polled_at', 'is not', null).execute();
      assertRefused(await poll(dc.device_code), 'authorization_pending', 70016, 'a poll after the interval');
      const logged = await server.store.db.selectFrom('signin_log').select('reason').where('reason', 'in', ['slow_down', 'authorization_pending']).execute();
      assert.deepEqual(logged, [], 'pending and slow_down answers are not refusals of a sign-in');
    });

    test('an unknown device code is still refused by the engine (AADSTS70008), never slow_down', async () => {
      for (let i = 0; i < 2; i++) assertRefused(await poll('no-such-device-code'), 'invalid_grant', 70008, `unknown device code, poll ${i + 1}`);
    });
  });
}

for (const dbKind of await databases()) {
  describe(`wrong user codes on the device-code page (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    /** A browser on the device-code page: its cookies and the page's form token. */
    async function openPage(jar: Jar): Promise<string> {
      const res = await fetch(`${server.tenantUrl}/oauth2/deviceauth`, { headers: { cookie: jar.header() } });
      jar.take(res);
      const html = await res.text();
      const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
      assert.ok(xsrf, html.slice(0, 300));
      return xsrf;
    }
    async function enter(jar: Jar, xsrf: string, userCode: string): Promise<{ status: number; html: string; xsrf: string }> {
      const res = await fetch(`${server.tenantUrl}/oauth2/deviceauth`, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf, user_code: userCode }), redirect: 'manual' });
      jar.take(res);
      const html = await res.text();
      return { status: res.status, html, xsrf: /name="xsrf" value="([^"]+)"/.exec(html)?.[1] ?? xsrf };
    }
    async function userCode(): Promise<string> {
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/devicecode`, { method: 'POST', body: new URLSearchParams({ client_id: DEMO.nativeAppId, scope: 'openid offline_access User.Read' }) });
      return ((await res.json()) as { user_code: string }).user_code;
    }

    test('after 10 wrong user codes a minute the page answers 429 "too many attempts", even for the right code, per browser session and per IP address, and logs the refusal', async () => {
      const right = await userCode();
      const jar = new Jar();
      let xsrf = await openPage(jar);
      for (let i = 0; i < 10; i++) {
        const r = await enter(jar, xsrf, 'BCDF-GHJK');
        assert.equal(r.status, 200, `wrong code ${i + 1}`);
        assert.match(r.html, /That code didn't work/, `wrong code ${i + 1}`);
        const attrs = messageAttributes(r.html, "That code didn't work");
        assert.match(attrs ?? '', /role="alert"/, 'an unknown code is an error: an alert');
        assert.match(attrs ?? '', /class="error"/, 'an unknown code is an error: the error style');
        xsrf = r.xsrf;
      }
      const refused = await enter(jar, xsrf, right);
      assert.equal(refused.status, 429);
      assert.match(refused.html, /Too many attempts/);
      assert.doesNotMatch(refused.html, /Are you trying to sign in/, 'the right code is not looked at');

      // another browser session from the same address: the address's counter is full too
      const other = new Jar();
      const otherRefused = await enter(other, await openPage(other), right);
      assert.equal(otherRefused.status, 429, 'per IP address');

      const logged = await server.store.db.selectFrom('signin_log').select(['error_code', 'reason', 'status', 'ip']).where('reason', '=', 'user_code_attempts').execute();
      assert.equal(logged.length, 2, 'each refusal is logged');
      assert.deepEqual({ ...logged[0], ip: undefined }, { error_code: 70018, reason: 'user_code_attempts', status: 'failure', ip: undefined });
      assert.ok(logged[0]!.ip);

      const counters = await server.store.db.selectFrom('device_code_attempts').select(['key', 'count']).orderBy('key').execute();
      assert.deepEqual(counters.map((c) => [c.key.split(':')[0], c.count]), [['ip', 10], ['session', 10]], 'one counter per address and per browser session; the refused tries do not count');

      // a minute later (the windows moved back instead of waiting) the right code is accepted
      await server.store.db.updateTable('device_code_attempts').set({ window_start: Date.now() - 60_000 }).execute();
      const later = await enter(jar, refused.xsrf, right);
      assert.equal(later.status, 200);
      assert.match(later.html, /Are you trying to sign in/);
    });

    test('the code page says why a post did not sign in: a stale form, a cancelled sign-in, a used code', async () => {
      const right = await userCode();
      const jar = new Jar();
      const xsrf = await openPage(jar);
      // the page's form token does not match (the page was opened again elsewhere): the code is not blamed
      const stale = await enter(jar, 'not-the-form-token', right);
      assert.equal(stale.status, 400);
      assert.match(stale.html, /This page has expired\. Enter the code again\./);
      assert.doesNotMatch(stale.html, /didn't work/);
      // the right code, then Cancel on "Are you trying to sign in?"
      const confirm = await enter(jar, stale.xsrf ?? xsrf, right);
      assert.match(confirm.html, /Are you trying to sign in/);
      const res = await fetch(`${server.tenantUrl}/oauth2/deviceauth`, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf: confirm.xsrf, user_code: right, abort: 'yes' }), redirect: 'manual' });
      jar.take(res);
      const cancelled = await res.text();
      assert.match(cancelled, /You cancelled the sign-in/);
      assert.doesNotMatch(cancelled, /didn't work/);
      // a cancel the person chose is news, not an error: a status, in the page's plain text
      const cancelAttrs = messageAttributes(cancelled, 'You cancelled the sign-in');
      assert.match(cancelAttrs ?? '', /role="status"/, 'the cancel message is a status');
      assert.doesNotMatch(cancelAttrs ?? '', /role="alert"|class="error"/, 'the cancel message is not styled as an error');
      assert.doesNotMatch(cancelled, /role="alert"/, 'no alert on the page after a cancel');
      // the same code again: used (by the cancel), not unknown
      const again = await enter(jar, /name="xsrf" value="([^"]+)"/.exec(cancelled)?.[1] ?? confirm.xsrf, right);
      assert.match(again.html, /That code was already used/);
      assert.match(messageAttributes(again.html, 'That code was already used') ?? '', /class="error" [^>]*role="alert"/, 'a used code is an error');
    });

    test('the code field has a visible label tied to it, and is focused on load', async () => {
      const res = await fetch(`${server.tenantUrl}/oauth2/deviceauth`);
      const html = await res.text();
      const input = /<input[^>]*name="user_code"[^>]*>/.exec(html)?.[0] ?? '';
      const id = / id="([^"]+)"/.exec(input)?.[1];
      assert.ok(id, `the code field has an id: ${input}`);
      assert.match(html, new RegExp(`<label for="${id}">Code</label>`), 'a label names the code field');
      assert.match(input, /\bautofocus\b/);
    });
  });
}

for (const dbKind of await databases()) {
  describe(`the device-code page in Chromium (${dbKind})`, { skip: skipBrowser }, () => {
    let server: TestServer;
    let browser: Browser;
    before(async () => {
      server = await startTestServer(dbKind);
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('the code is typed into the field found by its label; a wrong code is an alert, a cancel is a status in plain text', async () => {
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/devicecode`, { method: 'POST', body: new URLSearchParams({ client_id: DEMO.nativeAppId, scope: 'openid offline_access User.Read' }) });
      const { user_code: right } = (await res.json()) as { user_code: string };
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      try {
        const page = await context.newPage();
        page.setDefaultTimeout(5_000);
        await page.goto(`${server.tenantUrl}/oauth2/deviceauth`);
        const field = page.getByLabel('Code', { exact: true });
        assert.ok(await page.locator('label[for=otc]').isVisible(), 'the label is visible');
        assert.equal(await page.evaluate('document.activeElement?.getAttribute("name")'), 'user_code', 'the code field is focused on load');
        // the colours of the page's error style and of its plain text (a heading's)
        const red = await page.evaluate('(() => { const p = document.createElement("p"); p.className = "error"; document.body.append(p); const c = getComputedStyle(p).color; p.remove(); return c; })()');
        const plain = await page.evaluate('getComputedStyle(document.querySelector("h1")).color');
        const colour = (role: string) => page.evaluate(`getComputedStyle(document.querySelector('[role=${role}]')).color`);
        assert.notEqual(red, plain);

        // a wrong code: an error
        await field.fill('BCDF-GHJK');
        await page.click('#idSIButton9');
        const alert = page.getByRole('alert');
        await alert.waitFor();
        assert.match((await alert.textContent()) ?? '', /That code didn't work/);
        assert.equal(await colour('alert'), red, 'a wrong code is shown in the error style');
        assert.equal(await page.getByRole('status').count(), 0);

        // the right code, then Cancel: not an error
        await field.fill(right);
        await page.click('#idSIButton9');
        await page.waitForSelector('text=Are you trying to sign in');
        await page.click('#idBtn_Back');
        const status = page.getByRole('status');
        await status.waitFor();
        assert.match((await status.textContent()) ?? '', /You cancelled the sign-in/);
        assert.equal(await page.getByRole('alert').count(), 0, 'the cancel is no alert');
        assert.equal(await colour('status'), plain, 'the cancel is in the page\'s plain text, not the error style');
        assert.ok(await field.isVisible(), 'another code can be entered, through the labelled field');
      } finally {
        await context.close();
      }
    });
  });
}

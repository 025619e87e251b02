// The admin portal at /admin in real Chromium: a Global Administrator is sent through Latchkey's own
// sign-in pages and comes back signed in (tokens in memory only: both web storages empty), the page has a
// strict Content Security Policy, and the portal's app registration follows the configured origin.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import zlib from 'node:zlib';
import type { Browser } from 'playwright-core';
import { ADMIN_PORTAL_APP_ID } from '../src/admin-portal/app-registration.js';
import { loadConfig } from '../src/config/index.js';
import { startServer } from '../src/server.js';
import { PORTAL_DIST } from '../src/admin-portal/build.js';
import { verifyPassword } from '../src/crypto/secrets.js';
import { findApp } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { userCredentials } from '../src/admin/credentials.js';
import { browserSkipReason, launchBrowser, signInToDemoPortal } from './helpers/browser.js';
import { consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { ADMIN_PASSWORD, SHOTS, noSeriousViolations, openPortal, shot, until } from './helpers/portal.js';
import { databases, startTestServer, testCa, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
console.log(`# admin portal screenshots: ${SHOTS}`);

test('the portal\'s first load is at most 500 KB of gzip-compressed JavaScript (counted)', () => {
  const html = fs.readFileSync(path.join(PORTAL_DIST, 'index.html'), 'utf8');
  // what the page loads first: its module scripts and module preloads
  const first = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/admin\/assets\/([^"]+\.js)"/g)].map((m) => m[1]!);
  assert.ok(first.length >= 1, 'the page loads a script');
  const gzipped = (f: string) => zlib.gzipSync(fs.readFileSync(path.join(PORTAL_DIST, 'assets', f)), { level: 9 }).length;
  const firstLoad = first.reduce((n, f) => n + gzipped(f), 0);
  assert.ok(firstLoad <= 500 * 1024, `first load: ${firstLoad} bytes of gzip-compressed JavaScript`);
  // and the whole build too, lazily loaded chunks included
  const all = fs.readdirSync(path.join(PORTAL_DIST, 'assets')).filter((f) => f.endsWith('.js'));
  assert.ok(all.reduce((n, f) => n + gzipped(f), 0) <= 500 * 1024);
});

test("a restart under another origin moves the portal's and the demo apps' redirect URIs; the portal's registration is made for a database that lacks it", async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-test-'));
  const config = (publicUrl: string) =>
    loadConfig({ LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_SECURITY_DEFAULTS: 'false' }, { dataDir, port: 0, host: '127.0.0.1', tlsCaCert: testCa(), databaseUrl: '', bootstrapAdminPassword: ADMIN_PASSWORD, automationClientSecret: 'automation-secret-value', publicUrl });
  try {
    let running = await startServer(config('https://first.example.test'));
    // a database from before the portal existed
    await running.store.db.deleteFrom('permission_grants').where('client_app_id', '=', ADMIN_PORTAL_APP_ID).execute();
    await running.store.db.deleteFrom('service_principals').where('app_id', '=', ADMIN_PORTAL_APP_ID).execute();
    await running.store.db.deleteFrom('apps').where('id', '=', ADMIN_PORTAL_APP_ID).execute();
    await running.close();
    running = await startServer(config('https://second.example.test:9443'));
    try {
      const db = running.store.db;
      const portalApp = (await findApp(db, ADMIN_PORTAL_APP_ID))!;
      assert.equal(portalApp.requirePkce, true);
      assert.deepEqual(portalApp.spaRedirectUris, ['https://second.example.test:9443/admin/'], 'a single-page app');
      assert.deepEqual([...portalApp.webRedirectUris, ...portalApp.publicClientRedirectUris], []);
      assert.deepEqual(portalApp.postLogoutRedirectUris, ['https://second.example.test:9443/admin/']);
      assert.ok(await db.selectFrom('service_principals').select('id').where('app_id', '=', ADMIN_PORTAL_APP_ID).executeTakeFirst(), 'its service principal');
      const grants = await db.selectFrom('permission_grants').select('value').where('client_app_id', '=', ADMIN_PORTAL_APP_ID).where('kind', '=', 'delegated').orderBy('value').execute();
      assert.deepEqual(grants.map((g) => g.value), ['AppRoleAssignment.ReadWrite.All', 'Application.ReadWrite.All', 'AuditLog.Read.All', 'DelegatedPermissionGrant.ReadWrite.All', 'Directory.AccessAsUser.All', 'User.Read', 'User.ReadWrite.All', 'UserAuthenticationMethod.ReadWrite.All']);
      const demo = (await findApp(db, DEMO.webAppId))!;
      assert.deepEqual(demo.webRedirectUris, ['https://second.example.test:9443/demo/callback']);
      assert.deepEqual(demo.postLogoutRedirectUris, ['https://second.example.test:9443/demo/']);
      assert.equal(demo.backchannelLogoutUri, 'https://second.example.test:9443/demo/backchannel-logout');
    } finally {
      await running.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

for (const db of await databases()) {
  describe(`admin portal (${db})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    before(async () => {
      server = await startTestServer(db);
      await consentNativeAppToGraph(server); // the tests' own Graph tokens, through the demo native app
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
      // the script is served compressed, as counted by the size budget
      const src = /<script[^>]*\ssrc="([^"]+)"/.exec(html)![1]!;
      const js = await fetch(`${server.origin}${src}`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(js.status, 200);
      assert.equal(js.headers.get('content-encoding'), 'gzip');
      assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.ok((await js.text()).length > 1000, 'decoded by fetch');
      assert.equal((await fetch(`${server.origin}/admin/assets/nothing.js`)).status, 404);
    });

    const portal = (upn: string, password: string, width = 1280) => openPortal(browser, server.origin, upn, password, { width });

    test('a Global Administrator signs in through Latchkey, searches and pages users, revokes sessions after the preview, resets a password shown once', async () => {
      const domain = server.tenantDomain;
      for (let i = 1; i <= 12; i++) await createUser(server.store.db, { tenantId: server.tenantId, upn: `pager${String(i).padStart(2, '0')}@${domain}`, displayName: `Pager ${String(i).padStart(2, '0')}`, password: 'Pager-Password-1!' });
      // alice holds a browser session (the demo portal), which Revoke sessions ends
      const aliceContext = await browser.newContext({ ignoreHTTPSErrors: true });
      await signInToDemoPortal(await aliceContext.newPage(), server.origin, `alice@${domain}`, DEMO.demoPassword);
      await aliceContext.close();

      const { page, close } = await portal(`admin@${domain}`, ADMIN_PASSWORD);
      try {
        await page.waitForSelector('#usersTable');
        assert.equal(new URL(page.url()).pathname, '/admin/');
        assert.equal((await page.textContent('#signedInUser'))?.trim(), `admin@${domain}`);
        assert.deepEqual(await page.evaluate('({ local: localStorage.length, session: sessionStorage.length })'), { local: 0, session: 0 }, 'tokens in memory only');
        assert.equal(await page.locator('#usersTable tbody tr').count(), 10, 'a page of 10 (17 users)');
        await shot(page, 'users');
        await noSeriousViolations(page, 'the users page');

        // search (startsWith on the name or the user principal name), then page through 12 matches, 10 a page
        await page.fill('#userSearch', 'pager');
        await page.click('#searchButton');
        const upns = () => page.locator('#usersTable tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-upn')!));
        await until(page, "[...document.querySelectorAll('#usersTable tbody tr')].length > 0 && [...document.querySelectorAll('#usersTable tbody tr')].every((r) => r.getAttribute('data-upn').startsWith('pager'))");
        const first = await upns();
        assert.equal(first.length, 10);
        assert.equal(await page.isDisabled('#prevPage'), true);
        await page.click('#nextPage');
        await until(page, "document.querySelector('#pageNumber')?.textContent === 'Page 2' && document.querySelectorAll('#usersTable tbody tr').length === 2");
        const second = await upns();
        assert.deepEqual([...first, ...second].sort(), Array.from({ length: 12 }, (_, i) => `pager${String(i + 1).padStart(2, '0')}@${domain}`));
        assert.equal(await page.isDisabled('#nextPage'), true);
        await page.click('#prevPage');
        await page.waitForSelector(`tr[data-upn="${first[0]}"]`);
        assert.equal((await page.textContent('#pageNumber'))?.trim(), 'Page 1');
        await page.fill('#userSearch', 'Alice');
        await page.click('#searchButton');
        await page.waitForSelector(`tr[data-upn="alice@${domain}"]`);
        assert.equal(await page.locator('#usersTable tbody tr').count(), 1);

        // a user's overview
        await page.click(`tr[data-upn="alice@${domain}"] a`);
        await page.waitForSelector('#userProperties');
        await page.waitForSelector('#action-revokeSessions');
        const alice = (await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!;
        assert.equal(new URL(page.url()).pathname, `/admin/users/${alice.id}`);
        await shot(page, 'user');
        await noSeriousViolations(page, "a user's overview");

        // Revoke sessions: the preview first, then apply; the stamp moves. Alice signs in 12 times more, so
        // that the panel's list of what ends is paged (10 a page)
        for (let i = 0; i < 12; i++) await delegatedGraphToken(server, `alice@${domain}`, DEMO.demoPassword);
        const held = await userCredentials(server.store.db, server.secrets, alice.id);
        const heldKeys = [...held.sessions.map((c) => `session:${c.id}`), ...held.grants.map((c) => `grant:${c.grantId}`)].sort();
        assert.ok(heldKeys.length > 20, `alice holds ${heldKeys.length} sessions and grants`);
        const before = alice.sign_in_sessions_valid_from;
        await page.click('#action-revokeSessions');
        await page.waitForSelector('#preview');
        const ending = await page.textContent('#previewEnding');
        assert.match(ending ?? '', new RegExp(`What ends now \\(${heldKeys.length}\\)`));
        assert.match(ending ?? '', /Demo portal/);
        assert.equal(await page.locator('#endingList li').count(), 10, 'a first page of 10');
        while (await page.locator('#endingMore').count()) {
          const shown = await page.locator('#endingList li').count();
          await page.click('#endingMore');
          await until(page, `document.querySelectorAll('#endingList li').length > ${shown}`);
        }
        const listed = await page.locator('#endingList li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-kind')}:${li.getAttribute('data-id')}`));
        assert.deepEqual([...listed].sort(), heldKeys, 'paged to the end, the panel lists exactly what alice holds');
        assert.match((await page.textContent('#endingList li')) ?? '', /last used/);
        assert.match((await page.textContent('#previewSurviving')) ?? '', /What lives on/);
        assert.match((await page.textContent('#previewNextSignIn')) ?? '', /normal/);
        assert.equal((await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!.sign_in_sessions_valid_from, before, 'the preview changes nothing');
        await shot(page, 'revoke-preview');
        await noSeriousViolations(page, 'the preview panel');
        await page.click('#applyButton');
        await page.waitForSelector('#applyResult');
        assert.match((await page.textContent('#applyResult')) ?? '', new RegExp(`${heldKeys.length} session\\(s\\) or token\\(s\\) ended`));
        const after = (await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!;
        assert.ok(after.sign_in_sessions_valid_from > (before ?? 0), 'signInSessionsValidFromDateTime moved');
        await page.click('#closeButton');
        await until(page, `document.querySelector('#sessionsValidFrom')?.getAttribute('data-value') === '${new Date(after.sign_in_sessions_valid_from).toISOString().replace(/\.\d{3}Z$/, 'Z')}'`);

        // Reset password: preview, apply, the generated password shown once and usable
        await page.click('#action-resetPassword');
        await page.waitForSelector('#preview');
        await page.click('#applyButton');
        await page.waitForSelector('#newPassword');
        const generated = await page.inputValue('#newPassword');
        assert.ok(generated.length >= 12);
        const reset = (await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!;
        assert.ok(await verifyPassword(reset.password_hash!, generated));
        assert.equal(reset.force_change_password, 1);
        await shot(page, 'reset-result');
        await page.click('#closeButton');
        await page.waitForSelector('#newPassword', { state: 'detached' });
        assert.equal(await page.locator(`text=${generated}`).count(), 0, 'the password is not shown again');
        assert.deepEqual(await page.evaluate('({ local: localStorage.length, session: sessionStorage.length })'), { local: 0, session: 0 });

        // a plan that went stale between preview and apply is shown again, refreshed, instead of applied
        await page.click('#action-disableAccount');
        await page.waitForSelector('#preview');
        await server.store.db.updateTable('users').set({ sign_in_sessions_valid_from: Date.now() + 1 }).where('id', '=', alice.id).execute();
        await page.click('#applyButton');
        await page.waitForSelector('#planRefreshed');
        await page.waitForSelector('#preview');
        assert.equal((await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!.account_enabled, 1, 'the stale plan was not applied');
        await shot(page, 'stale-refreshed');
        await page.click('#applyButton');
        await page.waitForSelector('#applyResult');
        assert.equal((await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!.account_enabled, 0);
        await page.click('#closeButton');
        await page.waitForSelector('#action-enableAccount');

        // the users list filtered by the account's state: alice is now the only disabled account
        await page.goto(`${server.origin}/admin/`);
        await page.waitForSelector('#usersTable');
        await page.selectOption('#accountFilter', 'disabled');
        await until(page, `[...document.querySelectorAll('#usersTable tbody tr')].map((r) => r.getAttribute('data-upn')).join(',') === 'alice@${domain}'`);
        await shot(page, 'users-disabled-filter');
        await page.selectOption('#accountFilter', 'enabled');
        await until(page, `document.querySelectorAll('#usersTable tbody tr').length === 10 && !document.querySelector('tr[data-upn="alice@${domain}"]')`);

        // Enable: preview, apply, the account opens again
        await page.goto(`${server.origin}/admin/users/${alice.id}`);
        await page.click('#action-enableAccount');
        await page.waitForSelector('#preview');
        assert.equal((await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!.account_enabled, 0, 'the preview changes nothing');
        await page.click('#applyButton');
        await page.waitForSelector('#applyResult');
        assert.equal((await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!.account_enabled, 1);
        await page.click('#closeButton');
        await page.waitForSelector('#action-disableAccount');
        await until(page, "!document.querySelector('#root[aria-hidden]')");
        await noSeriousViolations(page, 'the user page after a dialog closed');

        // Delete: preview, apply, back to the users list; Graph no longer finds the user
        const doomed = await createUser(server.store.db, { tenantId: server.tenantId, upn: `doomed@${domain}`, displayName: 'Doomed User', password: 'Doomed-Password-1!' });
        await page.goto(`${server.origin}/admin/users/${doomed.id}`);
        await page.click('#action-deleteUser');
        await page.waitForSelector('#preview');
        await shot(page, 'delete-preview');
        assert.ok(await findUserByUpn(server.store.db, server.tenantId, `doomed@${domain}`), 'the preview changes nothing');
        await page.click('#applyButton');
        await page.waitForSelector('#applyResult');
        await page.click('#closeButton');
        await until(page, "location.pathname === '/admin/' && !!document.querySelector('#usersTable')");
        assert.equal(await findUserByUpn(server.store.db, server.tenantId, `doomed@${domain}`), undefined);
        const graph = await fetch(`${server.origin}/v1.0/users/${doomed.id}`, { headers: { authorization: `Bearer ${await delegatedGraphToken(server, `admin@${domain}`, ADMIN_PASSWORD)}` } });
        assert.equal(graph.status, 404, 'Graph no longer finds the user');

        // first load, printed (not asserted): from navigation to the users table, the silent sign-in included
        const t0 = Date.now();
        await page.goto(`${server.origin}/admin/`);
        await page.waitForSelector('#usersTable tbody tr');
        console.log(`# admin portal time to interactive (${db}): ${Date.now() - t0} ms from navigation to the users table, silent sign-in included`);
      } finally {
        await close();
      }
    });

    test('at phone width the pages stay usable', async () => {
      const { page, close } = await portal(`admin@${server.tenantDomain}`, ADMIN_PASSWORD, 390);
      try {
        await page.waitForSelector('#usersTable');
        assert.ok((await page.evaluate('document.documentElement.scrollWidth')) as number <= 390, 'no horizontal scrolling');
        await shot(page, 'users-phone');
        await page.fill('#userSearch', 'bob');
        await page.click('#searchButton');
        await page.click(`tr[data-upn="bob@${server.tenantDomain}"] a`);
        await page.waitForSelector('#action-revokeSessions');
        assert.ok((await page.evaluate('document.documentElement.scrollWidth')) as number <= 390, 'no horizontal scrolling');
        await shot(page, 'user-phone');
        await page.click('#action-revokeSessions');
        await page.waitForSelector('#preview');
        await shot(page, 'preview-phone');
        await page.click('#closeButton');
        // Sign out: Latchkey's sign-out page, back to /admin, which asks for a sign-in again
        await page.click('#signOut');
        await page.waitForSelector('text=Do you want to sign out of your account?');
        await page.click('#idSIButton9');
        await page.waitForSelector('#i0116');
        assert.equal(await page.locator('#usersTable').count(), 0);
      } finally {
        await close();
      }
    });

    test('a Helpdesk Administrator sees what the server refuses disabled, with its reason', async () => {
      const domain = server.tenantDomain;
      await createUser(server.store.db, { tenantId: server.tenantId, upn: `helpdesk@${domain}`, displayName: 'Helpdesk Admin', password: 'Helpdesk-Password-1!', roles: ['Helpdesk Administrator'] });
      const { page, close } = await portal(`helpdesk@${domain}`, 'Helpdesk-Password-1!');
      const states = async () =>
        Object.fromEntries(
          await Promise.all(['resetPassword', 'revokeSessions', 'disableAccount', 'deleteUser'].map(async (a) => [a, (await page.isDisabled(`#action-${a}`)) ? ((await page.textContent(`#${a}-reason`)) ?? '').trim() : 'enabled'])),
        ) as Record<string, string>;
      try {
        await page.fill('#userSearch', 'bob');
        await page.click('#searchButton');
        // a user without a role: the Helpdesk Administrator resets passwords and revokes sessions, and may not
        // disable or delete (Entra's sensitive actions)
        await page.click(`tr[data-upn="bob@${domain}"] a`);
        await page.waitForSelector('#action-revokeSessions');
        const onBob = await states();
        assert.equal(onBob.resetPassword, 'enabled');
        assert.equal(onBob.revokeSessions, 'enabled');
        assert.match(onBob.disableAccount!, /^Insufficient privileges/);
        assert.match(onBob.deleteUser!, /^Insufficient privileges/);
        assert.equal(await page.getAttribute('#action-deleteUser', 'aria-describedby'), 'deleteUser-reason');
        await shot(page, 'helpdesk-user');
        await noSeriousViolations(page, 'a user seen by a Helpdesk Administrator');
        // a Global Administrator: nothing
        await page.goto(`${server.origin}/admin/`);
        await page.fill('#userSearch', 'admin@');
        await page.click('#searchButton');
        await page.click(`tr[data-upn="admin@${domain}"] a`);
        await page.waitForSelector('#action-revokeSessions');
        const onAdmin = await states();
        for (const a of ['resetPassword', 'revokeSessions', 'disableAccount', 'deleteUser']) assert.match(onAdmin[a]!, /^Insufficient privileges/, a);
      } finally {
        await close();
      }
    });

    test('a user with no admin role is refused by the server, and the portal says so', async () => {
      const { page, close } = await portal(`carol@${server.tenantDomain}`, DEMO.demoPassword);
      try {
        await page.waitForSelector('[data-testid="error"]');
        assert.match((await page.textContent('[data-testid="error"]')) ?? '', /You do not have access.*restricted to users with an administrator role/);
        assert.equal(await page.locator('#usersTable').count(), 0);
        await shot(page, 'no-role');
        await noSeriousViolations(page, 'the refusal');
        // a user's page: Graph and /latchkey/v1 both refuse the portal's token
        const bob = (await findUserByUpn(server.store.db, server.tenantId, `bob@${server.tenantDomain}`))!;
        const refused = page.waitForResponse((r) => r.url().includes(`/latchkey/v1/users/${bob.id}/actions`));
        await page.goto(`${server.origin}/admin/users/${bob.id}`);
        assert.equal((await refused).status(), 403);
        await until(page, `document.querySelectorAll('[data-testid="error"]').length === 2`);
        assert.equal(await page.locator('#action-revokeSessions').count(), 0);
      } finally {
        await close();
      }
    });
  });
}

// The admin portal's user Authentication methods blade and Sessions and apps page, in real Chromium, through
// the pages: a Global Administrator sees alice's methods (usable or not, and why), adds a Temporary Access
// Pass (bad input refused at its field with nothing changed; the value shown once, then signed in with),
// deletes a method, requires re-register MFA, revokes MFA sessions and sets per-user MFA, each after its
// preview, and what apply changed is what the preview said (checked through Graph and the database). A
// Helpdesk Administrator sees those buttons disabled with the server's reason, and the server refuses the
// same calls with the helpdesk's token. Sessions and apps lists alice's browser sessions and refresh-token
// grants a page at a time; ending one session and one grant from the list kills only those, and the
// demo portal is signed out of the ended session by back-channel logout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserByUpn, type User } from '../src/directory/users.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { eventually } from './helpers/eventually.js';
import { Jar, authorize, consentNativeAppToGraph, delegatedGraphToken, fillSignIn, pkce, token } from './helpers/http-signin.js';
import { enrollTotp } from './helpers/mfa.js';
import { ADMIN_PASSWORD, noSeriousViolations, openPortal, shot, until } from './helpers/portal.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const REDIRECT = 'http://localhost:5999';
const SCOPE = 'openid profile offline_access';
const HELPDESK_PW = 'Helpdesk-Password-1!';

for (const db of await databases()) {
  describe(`admin portal: a user's authentication methods and sessions (${db})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    let adminToken: string;
    let alice: User;
    const domain = () => server.tenantDomain;
    const aliceUpn = () => `alice@${domain()}`;

    /** A Graph or /latchkey/v1 call with a token (the admin's unless given). */
    const call = async (path: string, init: { method?: string; body?: unknown; token?: string } = {}) => {
      const res = await fetch(`${server.origin}${path}`, {
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        headers: { authorization: `Bearer ${init.token ?? adminToken}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { value?: Record<string, unknown>[]; error?: { code: string; message: string } } };
    };
    const graphMethods = async () => ((await call(`/v1.0/users/${alice.id}/authentication/methods`)).body.value ?? []).map((m) => ({ type: String(m['@odata.type']).replace('#microsoft.graph.', ''), id: String(m.id) }));
    const methodRows = async () => (await server.store.db.selectFrom('auth_methods').select(['id', 'type', 'status']).where('user_id', '=', alice.id).orderBy('id').execute()).map((r) => `${r.type}:${r.id}:${r.status}`);
    const audits = async () => (await server.store.db.selectFrom('audit_log').select(['activity', 'target_name']).orderBy('id').execute()).map((a) => `${a.activity} ${a.target_name}`);
    const portal = (upn: string, password: string, start: string, width = 1280) => openPortal(browser, server.origin, upn, password, { width, start });
    const texts = (page: Page, selector: string) => page.locator(selector).evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));
    const rowTypes = (page: Page, table: string) => page.locator(`#${table} tbody tr`).evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-type')}:${r.getAttribute('data-method-id')}`));

    /** Signs in to the native app in this jar (a new browser session when the jar has none); returns its tokens. */
    const nativeSignIn = async (jar: Jar, extra: Record<string, string> = {}, answers: Parameters<typeof authorize>[3] = { user: aliceUpn(), password: DEMO.demoPassword }) => {
      const p = pkce();
      const out = await authorize(server, jar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: p.challenge, code_challenge_method: 'S256', ...extra }, answers);
      const code = out.redirect?.searchParams.get('code') ?? undefined;
      return { out, code, redeem: () => token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: code!, redirect_uri: REDIRECT, code_verifier: p.verifier }) };
    };
    const refresh = (rt: string) => token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: rt });

    /** Signs in to the demo portal over HTTP in this jar (the portal's cookie kept by the jar too). */
    const demoPortalSignIn = async (jar: Jar) => {
      let url = new URL(`${server.origin}/demo/login`);
      for (let i = 0; i < 12; i++) {
        const res = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual' });
        jar.take(res);
        const location = res.headers.get('location');
        if ((res.status === 302 || res.status === 303) && location) {
          const next = new URL(location, server.origin);
          url = next.pathname.startsWith('/signin/') ? await fillSignIn(server, jar, next, aliceUpn(), DEMO.demoPassword) : next;
          continue;
        }
        assert.match(await res.text(), /id="userName"/, 'signed in to the demo portal');
        return;
      }
      assert.fail('the demo portal sign-in did not finish');
    };
    const demoPortalSignedIn = async (jar: Jar) => (await (await fetch(`${server.origin}/demo/`, { headers: { cookie: jar.header() } })).text()).includes('id="userName"');

    /** Opens the preview of an action button, checks it changed nothing, applies it; returns the preview's texts. */
    const previewThenApply = async (page: Page, button: string, unchanged: () => Promise<unknown>, shotName?: string) => {
      const before = await unchanged();
      await page.click(button);
      await page.waitForSelector('#preview');
      const preview = {
        warnings: (await page.locator('#previewWarnings').count()) ? ((await page.textContent('#previewWarnings')) ?? '') : '',
        changes: await texts(page, '#preview > div:has(> h3:text("What changes")) li'),
        methods: await page.locator('#previewMethods li').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-fate')}:${(e.textContent ?? '').trim()}`)),
        ending: (await page.textContent('#previewEnding')) ?? '',
      };
      assert.deepEqual(await unchanged(), before, `the preview of ${button} changes nothing`);
      if (shotName) {
        await shot(page, shotName);
        await noSeriousViolations(page, `the preview of ${button}`);
      }
      await page.click('#applyButton');
      await page.waitForSelector('#applyResult');
      return preview;
    };
    const closeDialog = async (page: Page) => {
      await page.click('#closeButton');
      await page.waitForSelector('#applyResult', { state: 'detached' });
    };

    before(async () => {
      server = await startTestServer(db, { allowPrivateOutbound: true });
      browser = await launchBrowser();
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${domain()}`, ADMIN_PASSWORD);
      alice = (await findUserByUpn(server.store.db, server.tenantId, aliceUpn()))!;
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('Sessions and apps: alice\'s browser sessions and refresh-token grants a page at a time; ending one session and one grant from the list kills only those, and back-channel logout signs the demo portal out', async () => {
      // session A: the demo portal, and the native app in the same browser; session B: the native app elsewhere
      const jarA = new Jar();
      await demoPortalSignIn(jarA);
      const a = await nativeSignIn(jarA, { prompt: 'none' });
      const tA = (await a.redeem()).body;
      const jarB = new Jar();
      const tB = (await (await nativeSignIn(jarB)).redeem()).body;
      assert.ok(tA.refresh_token && tB.refresh_token);
      const gidA = String(decodeJwt(tA.access_token!).latchkey_gid);
      const gidB = String(decodeJwt(tB.access_token!).latchkey_gid);
      assert.notEqual(gidA, gidB);
      // four more sessions, each with its grant: seven-odd items, two pages of 5
      for (let i = 0; i < 4; i++) await (await nativeSignIn(new Jar())).redeem();
      const sessions = (await call(`/latchkey/v1/users/${alice.id}/sessions`)).body.value as { id: string; apps: { appId: string }[] }[];
      assert.equal(sessions.length, 6);
      const sessionA = sessions.find((s) => s.apps.some((x) => x.appId === DEMO.webAppId))!;
      const grants = (await call(`/latchkey/v1/users/${alice.id}/grants`)).body.value as { id: string }[];
      assert.ok(grants.length >= 6 && grants.some((g) => g.id === gidA) && grants.some((g) => g.id === gidB), JSON.stringify(grants));

      const aliceSessions = `/admin/users/${alice.id}/sessions`;
      const { page, close } = await portal(`admin@${domain()}`, ADMIN_PASSWORD, aliceSessions);
      try {
        await page.waitForSelector('#sessionsTable');
        await page.waitForSelector('#grantsTable');
        assert.equal(new URL(page.url()).pathname, aliceSessions);
        assert.equal(await page.getAttribute('#tab-sessions', 'aria-current'), 'page');
        // oldest first, 5 a page: sessions A, B and three more, then the sixth
        const sessionIds = () => page.locator('#sessionsTable tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-session-id')!));
        assert.deepEqual(await sessionIds(), sessions.slice(0, 5).map((s) => s.id));
        const rowA = await texts(page, `tr[data-session-id="${sessionA.id}"] td`);
        assert.match(rowA[0]!, /^(node|undici)/, 'the device of an HTTP client is its user agent');
        assert.deepEqual(rowA[1]!.split(', ').sort(), ['Demo native app', 'Demo portal'].sort());
        assert.equal(rowA[2], '127.0.0.1');
        await shot(page, 'sessions');
        await noSeriousViolations(page, 'Sessions and apps');
        assert.equal(await page.isDisabled('#sessionsPrev'), true);
        await page.click('#sessionsNext');
        await until(page, "document.querySelector('#sessionsPage')?.textContent === 'Page 2'");
        await until(page, `document.querySelectorAll('#sessionsTable tbody tr').length === 1`);
        assert.deepEqual(await sessionIds(), [sessions[5]!.id]);
        assert.equal(await page.isDisabled('#sessionsNext'), true);
        await page.click('#sessionsPrev');
        await page.waitForSelector(`tr[data-session-id="${sessionA.id}"]`);
        // the grants page the same way
        const grantIds = () => page.locator('#grantsTable tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-grant-id')!));
        assert.deepEqual(await grantIds(), grants.slice(0, 5).map((g) => g.id));
        await page.click('#grantsNext');
        await until(page, "document.querySelector('#grantsPage')?.textContent === 'Page 2'");
        await until(page, `document.querySelectorAll('#grantsTable tbody tr').length === ${grants.length - 5}`);
        assert.deepEqual(await grantIds(), grants.slice(5).map((g) => g.id));
        await page.click('#grantsPrev');
        await until(page, "document.querySelector('#grantsPage')?.textContent === 'Page 1'");

        // End session A: the preview names it alone; applying ends it only
        const auditBefore = await audits();
        await page.click(`#end-${sessionA.id}`);
        await page.waitForSelector('#preview');
        assert.match((await page.textContent('#previewEnding')) ?? '', /What ends now \(1\)Browser session · Demo (native app|portal)/);
        assert.deepEqual(await audits(), auditBefore, 'the preview changes nothing');
        assert.equal(await demoPortalSignedIn(jarA), true);
        await shot(page, 'end-session-preview');
        await noSeriousViolations(page, 'the End session preview');
        await page.click('#applyButton');
        await page.waitForSelector('#applyResult');
        assert.deepEqual(await audits(), [...auditBefore, `End user session ${aliceUpn()}`]);
        await closeDialog(page);
        await page.waitForSelector(`tr[data-session-id="${sessionA.id}"]`, { state: 'detached' });
        assert.deepEqual(((await call(`/latchkey/v1/users/${alice.id}/sessions`)).body.value as { id: string }[]).map((s) => s.id), sessions.filter((s) => s !== sessionA).map((s) => s.id));
        // back-channel logout reaches the demo portal; session A gives no code silently, session B still does
        await eventually('the demo portal is signed out', async () => ((await demoPortalSignedIn(jarA)) ? undefined : true));
        assert.equal((await nativeSignIn(jarA, { prompt: 'none' })).code, undefined, 'the ended session is gone');
        assert.ok((await nativeSignIn(jarB, { prompt: 'none' })).code, 'the other session lives');

        // End grant B: its refresh token dies, grant A's (of the ended session) lives on
        await page.click(`#end-${gidB}`);
        await page.waitForSelector('#preview');
        assert.match((await page.textContent('#previewEnding')) ?? '', /What ends now \(1\)Refresh token · Demo native app/);
        // public clients' refresh tokens rotate: the newest of each chain is kept
        let rtB = (await refresh(tB.refresh_token!)).body.refresh_token;
        assert.ok(rtB, 'the preview changes nothing');
        await page.click('#applyButton');
        await page.waitForSelector('#applyResult');
        await closeDialog(page);
        await page.waitForSelector(`tr[data-grant-id="${gidB}"]`, { state: 'detached' });
        const refused = await refresh(rtB);
        assert.equal(refused.body.error, 'invalid_grant', `the ended grant is refused: ${JSON.stringify(refused.body)}`);
        assert.ok((await refresh(tA.refresh_token!)).body.refresh_token, 'the other grant still refreshes');
        rtB = undefined;
        assert.deepEqual(await audits(), [...auditBefore, `End user session ${aliceUpn()}`, `End user refresh token grant ${aliceUpn()}`]);
      } finally {
        await close();
      }
    });
  });
}

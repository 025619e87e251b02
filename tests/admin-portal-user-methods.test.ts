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
import { Jar, authorize, consentNativeAppToGraph, delegatedGraphToken, pkce, token, demoPortalSignIn as signInToDemoPortal } from './helpers/http-signin.js';
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
    const demoPortalSignIn = (jar: Jar) => signInToDemoPortal(server, jar, aliceUpn(), DEMO.demoPassword);
    const demoPortalSignedIn = async (jar: Jar) => (await (await fetch(`${server.origin}/demo/`, { headers: { cookie: jar.header() } })).text()).includes('id="userName"');

    /** Opens the preview of an action button, checks it changed nothing, applies it; returns the preview's texts. */
    const previewThenApply = async (page: Page, button: string, unchanged: () => Promise<unknown>, shotName?: string) => {
      const before = await unchanged();
      await page.click(button);
      await page.waitForSelector('#preview');
      const preview = {
        warnings: (await page.locator('#previewWarnings').count()) ? ((await page.textContent('#previewWarnings')) ?? '') : '',
        changes: await texts(page, '#preview li[data-property]'),
        /** each change as the server sent it: property, old value, new value */
        raw: await page.locator('#preview li[data-property]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-property'), e.getAttribute('data-old'), e.getAttribute('data-new')])),
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

    test("a Global Administrator works on alice's authentication methods through the blade: each preview is what apply changed", async () => {
      await enrollTotp(server, alice);
      const totp = (await graphMethods()).find((m) => m.type === 'softwareOathAuthenticationMethod')!;
      const blade = `/admin/users/${alice.id}/authentication-methods`;
      const { page, close } = await portal(`admin@${domain()}`, ADMIN_PASSWORD, blade);
      try {
        await page.waitForSelector('#usableMethods');
        await page.waitForSelector('#action-createTap');
        assert.equal(new URL(page.url()).pathname, blade);
        assert.equal(await page.getAttribute('#tab-methods', 'aria-current'), 'page');
        assert.deepEqual(await rowTypes(page, 'usableMethods'), ['password:28c10230-6103-485e-b985-444c60001490', `softwareOath:${totp.id}`]);
        assert.equal(await page.locator('#nonUsableMethods').count(), 0);
        assert.equal(await page.textContent('#perUserMfaState'), 'disabled');
        for (const a of ['createTap', 'resetPassword', 'requireReregisterMfa', 'revokeMfaSessions', 'viewMethodsPolicy']) assert.equal(await page.isDisabled(`#action-${a}`), false, a);
        assert.equal(await page.isDisabled('#action-setPerUserMfa'), true, 'the state chosen is the current one');
        assert.equal((await page.textContent('#setPerUserMfa-reason'))?.trim(), 'The state is already disabled.');
        await shot(page, 'methods');
        await noSeriousViolations(page, 'the Authentication methods blade');

        // View authentication methods policy: the user's effective policy
        await page.click('#action-viewMethodsPolicy');
        await page.waitForSelector('#methodsPolicyTable');
        const policyRows = await page.locator('#methodsPolicyTable tbody tr').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-method'), r.getAttribute('data-enabled'), (r.lastElementChild?.textContent ?? '').trim()]));
        assert.deepEqual(policyRows, [
          ['Password', 'true', 'always enabled'],
          ['Fido2', 'true', 'enabled for all users'],
          ['MicrosoftAuthenticator', 'true', 'enabled for all users'],
          ['Sms', 'true', 'enabled for all users'],
          ['Voice', 'true', 'enabled for all users'],
          ['Email', 'true', 'enabled for all users'],
          ['TemporaryAccessPass', 'true', 'enabled for all users'],
          ['SoftwareOath', 'true', 'enabled for all users'],
          ['HardwareOath', 'false', 'disabled in the authentication methods policy'],
        ]);
        await shot(page, 'methods-policy');
        await noSeriousViolations(page, 'the effective policy panel');
        await page.click('#policyClose');
        await page.waitForSelector('#methodsPolicyTable', { state: 'detached' });

        // Add authentication method: bad input is refused at its field and changes nothing
        const unchanged = async () => ({ methods: await methodRows(), audits: await audits() });
        const before = await unchanged();
        await page.click('#action-createTap');
        await page.waitForSelector('#tapLifetime');
        assert.equal(await page.inputValue('#tapLifetime'), '60', "the policy's default lifetime");
        assert.equal(await page.isChecked('#tapOnce'), false, "the policy's default");
        for (const [value, message] of [
          ['5', "Enter a lifetime from 10 to 43200 minutes (the authentication methods policy's Temporary Access Pass settings)."],
          ['43201', "Enter a lifetime from 10 to 43200 minutes (the authentication methods policy's Temporary Access Pass settings)."],
          ['1.5', 'Enter the lifetime as a whole number of minutes.'],
          ['an hour', 'Enter the lifetime as a whole number of minutes.'],
          ['', 'Enter the lifetime as a whole number of minutes.'],
        ]) {
          await page.fill('#tapLifetime', value!);
          await page.click('#addMethodNext');
          await until(page, `document.querySelector('#tapLifetimeField')?.textContent.includes(${JSON.stringify(message)})`);
          assert.equal(await page.locator('#preview').count(), 0, `no preview for ${value}`);
          assert.equal(await page.evaluate('document.activeElement?.id'), 'tapLifetime', 'focus on the field refused');
          assert.equal(await page.getAttribute('#tapLifetime', 'aria-invalid'), 'true');
        }
        await shot(page, 'add-method-refused');
        await noSeriousViolations(page, 'the Add authentication method panel with a refused field');
        assert.deepEqual(await unchanged(), before, 'a refused form changes nothing');
        // the policy's bounds, when narrower, are the form's (read from Graph) and the server's
        const narrowed = await call('/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass', { method: 'PATCH', body: { '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration', maximumLifetimeInMinutes: 480 } });
        assert.equal(narrowed.status, 204, JSON.stringify(narrowed.body));
        await page.click('#addMethodCancel');
        await page.waitForSelector('#tapLifetime', { state: 'detached' });
        // until the policy's bounds are read, the form sends nothing: Next waits for them
        const policyUrl = '**/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass';
        let release = () => {};
        const held = new Promise<void>((r) => (release = r));
        await page.route(policyUrl, async (route) => {
          await held;
          await route.continue();
        });
        await page.reload();
        await page.waitForSelector('#action-createTap');
        await page.click('#action-createTap');
        await page.waitForSelector('#addMethodNext');
        assert.equal(await page.isDisabled('#addMethodNext'), true, 'Next is disabled while the policy is read');
        assert.match(await page.textContent('#tapLifetimeField') ?? '', /Reading the authentication methods policy's limits/);
        release();
        await until(page, `document.querySelector('#tapLifetimeField')?.textContent.includes('From 10 to 480 minutes')`);
        await page.unroute(policyUrl);
        await page.fill('#tapLifetime', '481');
        await page.click('#addMethodNext');
        await until(page, `document.querySelector('#tapLifetimeField')?.textContent.includes("Enter a lifetime from 10 to 480 minutes")`);
        const serverToo = await call(`/latchkey/v1/users/${alice.id}/actions/createTap`, { body: { dryRun: true, lifetimeInMinutes: 481 } });
        assert.equal(serverToo.status, 400);
        assert.match(serverToo.body.error!.message, /lifetimeInMinutes must be a whole number from 10 to 480/);
        const before2 = await unchanged();
        assert.deepEqual(before2.methods, before.methods, 'still no Temporary Access Pass');

        // a good one: the preview, then the value shown once, then usable
        await page.fill('#tapLifetime', '30');
        await page.check('#tapOnce');
        await page.click('#addMethodNext');
        await page.waitForSelector('#preview');
        const tapChanges = await page.locator('#preview li[data-property]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-property'), e.getAttribute('data-new')]));
        const added = await page.locator('#previewMethods li[data-fate="added"]').textContent();
        const tapId = /Temporary Access Pass ([0-9a-f-]{36}): added/.exec(added ?? '')![1]!;
        assert.deepEqual(await unchanged(), before2, 'the preview changes nothing');
        await shot(page, 'tap-preview');
        await noSeriousViolations(page, 'the Temporary Access Pass preview');
        await page.click('#applyButton');
        await page.waitForSelector('#temporaryAccessPass');
        const tap = await page.inputValue('#temporaryAccessPass');
        assert.match(tap, /^.{8}$/, 'the policy\'s default length');
        await shot(page, 'tap-result');
        await noSeriousViolations(page, 'the Temporary Access Pass result');
        const graphTap = (await call(`/v1.0/users/${alice.id}/authentication/temporaryAccessPassMethods`)).body.value!;
        assert.deepEqual(graphTap.map((m) => [m.id, m.lifetimeInMinutes, m.isUsableOnce, m.isUsable, m.temporaryAccessPass]), [[tapId, 30, true, true, null]], 'the TAP the preview named, as the form asked');
        // the pass Graph shows starts and ends when the preview said
        const start = Date.parse(String(graphTap[0]!.startDateTime));
        assert.deepEqual(tapChanges, [
          ['authentication/temporaryAccessPassMethods', `temporaryAccessPassAuthenticationMethod ${tapId} (value generated and shown once after apply)`],
          ['temporaryAccessPass.startDateTime', new Date(start).toISOString()],
          ['temporaryAccessPass.expiresDateTime', new Date(start + 30 * 60_000).toISOString()],
          ['temporaryAccessPass.isUsableOnce', 'true'],
        ]);
        await closeDialog(page);
        assert.equal(await page.locator(`text=${tap}`).count(), 0, 'the pass is not shown again');
        assert.equal(await page.evaluate(`document.body.innerHTML.includes(${JSON.stringify(tap)})`), false);
        await page.waitForSelector(`#usableMethods tr[data-method-id="${tapId}"]`);
        // alice signs in with it (one-time: then it is no longer usable, and the blade says why)
        const signedIn = await nativeSignIn(new Jar(), {}, { user: aliceUpn(), password: '', answers: { tap: () => ({ accesspass: tap }), password: () => assert.fail('the TAP is asked first') } });
        assert.ok(signedIn.code, `signed in with the pass: ${signedIn.out.redirect?.toString() ?? signedIn.out.status}`);
        await page.reload();
        await page.waitForSelector(`#nonUsableMethods tr[data-method-id="${tapId}"]`);
        assert.deepEqual((await texts(page, `#nonUsableMethods tr[data-method-id="${tapId}"] td`)).slice(0, 2), ['Temporary Access Pass', 'the one-time pass was used']);
        await shot(page, 'methods-non-usable');

        // delete a method: the used TAP, from the non-usable list
        const del = await previewThenApply(page, `#delete-${tapId}`, graphMethods);
        assert.deepEqual(del.methods, [`kept:Software OATH token ${totp.id}: kept`, `deleted:Temporary Access Pass ${tapId}: deleted`]);
        assert.deepEqual(del.raw, [[`authentication/temporaryAccessPassMethods/${tapId}`, `temporaryAccessPassAuthenticationMethod ${tapId}`, '']]);
        assert.deepEqual(await graphMethods(), [{ type: 'passwordAuthenticationMethod', id: '28c10230-6103-485e-b985-444c60001490' }, { type: 'softwareOathAuthenticationMethod', id: totp.id }], 'gone in Graph');
        await closeDialog(page);
        await page.waitForSelector(`tr[data-method-id="${tapId}"]`, { state: 'detached' });

        // require re-register MFA: the warning that sessions survive; the software OATH method goes
        const rereg = await previewThenApply(page, '#action-requireReregisterMfa', graphMethods, 'reregister-preview');
        assert.match(rereg.warnings, /Browser sessions, refresh tokens and remembered MFA are unchanged/);
        assert.deepEqual(rereg.methods, ['kept:Password 28c10230-6103-485e-b985-444c60001490: kept', `deleted:Software OATH token ${totp.id}: deleted`]);
        assert.deepEqual(rereg.raw, [[`authentication/softwareOathMethods/${totp.id}`, `softwareOathAuthenticationMethod ${totp.id}`, '']]);
        assert.deepEqual(await graphMethods(), [{ type: 'passwordAuthenticationMethod', id: '28c10230-6103-485e-b985-444c60001490' }], 'what the preview said went');
        await closeDialog(page);
        await page.waitForSelector(`tr[data-method-id="${totp.id}"]`, { state: 'detached' });

        // revoke MFA sessions: the remembered-MFA stamp moves, nothing else
        const stamps = async () => {
          const u = (await findUserByUpn(server.store.db, server.tenantId, aliceUpn()))!;
          return { mfa: u.mfa_remembered_valid_from, sessions: u.sign_in_sessions_valid_from, state: u.per_user_mfa_state };
        };
        const s0 = await stamps();
        const revoke = await previewThenApply(page, '#action-revokeMfaSessions', stamps, 'revoke-mfa-preview');
        assert.deepEqual(revoke.raw, [['mfaRememberedValidFrom', new Date(s0.mfa).toISOString(), '(the time of apply)']]);
        assert.match(revoke.changes[0]!, /^Remembered MFA valid from: .+ → \(the time of apply\)$/);
        const s1 = await stamps();
        assert.ok(s1.mfa > s0.mfa, 'the remembered-MFA stamp moved');
        assert.deepEqual({ ...s1, mfa: s0.mfa }, s0, 'nothing else changed');
        await closeDialog(page);

        // per-user MFA: disabled → enabled, after the preview
        await page.selectOption('#perUserMfaSelect', 'enabled');
        assert.equal(await page.isDisabled('#action-setPerUserMfa'), false);
        const perUser = await previewThenApply(page, '#action-setPerUserMfa', async () => (await call(`/beta/users/${alice.id}/authentication/requirements`)).body.perUserMfaState);
        assert.deepEqual(perUser.changes, ['Per-user MFA state: disabled → enabled']);
        assert.deepEqual(perUser.raw, [['perUserMfaState', 'disabled', 'enabled']]);
        assert.equal((await call(`/beta/users/${alice.id}/authentication/requirements`)).body.perUserMfaState, 'enabled', 'Graph says what the preview said');
        await closeDialog(page);
        await until(page, "document.querySelector('#perUserMfaState')?.textContent === 'enabled'");
        assert.equal(await page.isDisabled('#action-setPerUserMfa'), true);
      } finally {
        await close();
      }
    });

    test('a Helpdesk Administrator sees the methods buttons disabled with the reason, and the server refuses the same calls', async () => {
      await createUser(server.store.db, { tenantId: server.tenantId, upn: `helpdesk@${domain()}`, displayName: 'Helpdesk Admin', password: HELPDESK_PW, roles: ['Helpdesk Administrator'] });
      const bob = (await findUserByUpn(server.store.db, server.tenantId, `bob@${domain()}`))!;
      await enrollTotp(server, bob);
      const { page, close } = await portal(`helpdesk@${domain()}`, HELPDESK_PW, `/admin/users/${bob.id}/authentication-methods`);
      try {
        await page.waitForSelector('#action-createTap');
        const states = Object.fromEntries(
          await Promise.all(['createTap', 'resetPassword', 'requireReregisterMfa', 'revokeMfaSessions', 'viewMethodsPolicy', 'setPerUserMfa'].map(async (a) => [a, (await page.isDisabled(`#action-${a}`)) ? ((await page.textContent(`#${a}-reason`)) ?? '').trim() : 'enabled'])),
        ) as Record<string, string>;
        assert.equal(states.resetPassword, 'enabled', 'a Helpdesk Administrator resets the password of a user without a role');
        for (const a of ['createTap', 'requireReregisterMfa', 'revokeMfaSessions', 'viewMethodsPolicy', 'setPerUserMfa']) {
          assert.match(states[a]!, /^Insufficient privileges to [a-z].*: a directory role among .*Authentication Administrator.* is required\.$/, `${a}: ${states[a]}`);
          assert.equal(await page.getAttribute(`#action-${a}`, 'aria-describedby'), `${a}-reason`);
        }
        // the methods themselves are not the helpdesk's to read: the server's refusal is shown
        await page.waitForSelector('[data-testid="error"]');
        assert.match((await page.textContent('[data-testid="error"]')) ?? '', /You do not have access.*Insufficient privileges to read this user's authentication methods/);
        await shot(page, 'methods-helpdesk');
        await noSeriousViolations(page, 'the blade seen by a Helpdesk Administrator');

        // forced: the server refuses each with the helpdesk's own token, and nothing changes
        const helpdeskToken = await delegatedGraphToken(server, `helpdesk@${domain()}`, HELPDESK_PW);
        const totpId = (await server.store.db.selectFrom('auth_methods').select('id').where('user_id', '=', bob.id).executeTakeFirstOrThrow()).id;
        const before = { audits: await audits(), methods: await server.store.db.selectFrom('auth_methods').select(['id', 'status']).where('user_id', '=', bob.id).execute(), bob: await findUserByUpn(server.store.db, server.tenantId, `bob@${domain()}`) };
        const forced: [string, unknown][] = [
          ['createTap', { lifetimeInMinutes: 60 }],
          ['deleteMethod', { methodId: totpId }],
          ['requireReregisterMfa', {}],
          ['revokeMfaSessions', {}],
          ['setPerUserMfa', { state: 'enforced' }],
        ];
        for (const [action, input] of forced) {
          for (const dryRun of [true, false]) {
            const r = await call(`/latchkey/v1/users/${bob.id}/actions/${action}`, { body: { dryRun, ...(input as object) }, token: helpdeskToken });
            assert.equal(r.status, 403, `${action}: ${JSON.stringify(r.body)}`);
            assert.equal(r.body.error!.code, 'Authorization_RequestDenied');
            assert.match(r.body.error!.message, /^Insufficient privileges/);
          }
        }
        const policy = await call(`/latchkey/v1/users/${bob.id}/methodsPolicy`, { token: helpdeskToken });
        assert.equal(policy.status, 403, JSON.stringify(policy.body));
        assert.deepEqual({ audits: await audits(), methods: await server.store.db.selectFrom('auth_methods').select(['id', 'status']).where('user_id', '=', bob.id).execute(), bob: await findUserByUpn(server.store.db, server.tenantId, `bob@${domain()}`) }, before, 'nothing changed');
      } finally {
        await close();
      }
    });

    test('at phone width the blade, its panels and Sessions and apps stay usable', async () => {
      const carol = (await findUserByUpn(server.store.db, server.tenantId, `carol@${domain()}`))!;
      await enrollTotp(server, carol);
      const { page, close } = await portal(`admin@${domain()}`, ADMIN_PASSWORD, `/admin/users/${carol.id}/authentication-methods`, 390);
      const noScroll = async (what: string) => assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 390, `no horizontal scrolling: ${what}`);
      try {
        await page.waitForSelector('#usableMethods');
        await page.waitForSelector('#action-createTap');
        await noScroll('the blade');
        await shot(page, 'methods-phone');
        await page.click('#action-createTap');
        await page.waitForSelector('#tapLifetime');
        await page.fill('#tapLifetime', '0');
        await page.click('#addMethodNext');
        await until(page, `document.querySelector('#tapLifetimeField')?.textContent.includes('Enter a lifetime from 10')`);
        await noScroll('the Add authentication method panel');
        await shot(page, 'add-method-phone');
        await page.click('#addMethodCancel');
        await page.click('#action-viewMethodsPolicy');
        await page.waitForSelector('#methodsPolicyTable');
        await noScroll('the policy panel');
        await shot(page, 'methods-policy-phone');
        await page.click('#policyClose');
        await page.click('#tab-sessions');
        await page.waitForSelector('#sessionsPage');
        assert.equal(new URL(page.url()).pathname, `/admin/users/${carol.id}/sessions`);
        await page.click('#tab-overview');
        await page.waitForSelector('#userProperties');
        assert.equal(new URL(page.url()).pathname, `/admin/users/${carol.id}`);
        // alice's sessions and apps (earlier tests left some): the lists at phone width
        await page.goto(`${server.origin}/admin/users/${alice.id}/sessions`);
        await page.waitForSelector('#sessionsTable');
        await page.waitForSelector('#grantsTable');
        await noScroll('Sessions and apps');
        // the columns hidden at this width are hidden in the header and the rows alike
        for (const table of ['sessionsTable', 'grantsTable']) {
          const shown = (cells: string) => page.evaluate(`[...document.querySelectorAll('#${table} ${cells}')].filter((e) => getComputedStyle(e).display !== 'none').length`);
          assert.deepEqual([await shown('thead th'), await shown('tbody tr:first-child td')], [table === 'sessionsTable' ? 4 : 3, table === 'sessionsTable' ? 4 : 3], table);
        }
        await shot(page, 'sessions-phone');
      } finally {
        await close();
      }
    });
  });
}

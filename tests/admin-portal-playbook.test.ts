// The compromised-account playbook in the admin portal, in real Chromium: a taken-over account (the attacker
// holds a browser session signed in to the demo portal, a refresh token and their own TOTP method) is taken
// back by a Global Administrator with the keyboard alone, from the user's page to the report; afterwards the
// attacker's session, refresh token and method are dead and the user signs in with the Temporary Access Pass
// shown once in its step's result, and registers a new authenticator app. A run whose server stopped after
// step 3 committed is resumed from its run page, reloaded after a restart on the same data and origin, and finishes the same;
// the same run id again changes nothing. Bad input is refused at its field, and the pages work at 390 px.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Actor } from '../src/admin/actor.js';
import type { ActionContext } from '../src/admin/action.js';
import { applyRun, parsePlaybookInput, startRun } from '../src/admin/playbook.js';
import { loadConfig } from '../src/config/index.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { type RunningServer, startServer } from '../src/server.js';
import { browserSkipReason, closeQuietly, launchBrowser, signInToDemoPortal } from './helpers/browser.js';
import { eventually } from './helpers/eventually.js';
import { Jar, authorize, consentNativeAppToGraph, delegatedGraphToken, pkce, token } from './helpers/http-signin.js';
import { enrollTotp, totpAt } from './helpers/mfa.js';
import { ADMIN_PASSWORD, noSeriousViolations, openPortal, shot, until } from './helpers/portal.js';
import { type DbKind, type TestServer, databases, freshPostgres, testCa } from './helpers/server.js';

const skip = browserSkipReason();
const PW = 'Playbook-Victim-Pw-58';
const REDIRECT = 'http://localhost:5999';
const SCOPE = 'openid profile offline_access';
// what a full run writes to the audit log, in order (step 6 is the tenant's)
const FULL_RUN_AUDIT = ['Disable account', 'Admin deleted security info', 'Reset password (by admin)', 'Update StsRefreshTokenValidFrom Timestamp', 'Update user', 'Update tenant settings', 'Admin registered security info', 'Enable account'];
const ALL_DONE = [
  ['disableAccount', 'done'],
  ['requireReregisterMfa', 'done'],
  ['resetPassword', 'done'],
  ['revokeSessions', 'done'],
  ['revokeMfaSessions', 'done'],
  ['registrationPolicy', 'done'],
  ['createTap', 'done'],
  ['enableAccount', 'done'],
];

/** A server on data this file keeps across instances: a restart is a new instance on the same data. */
async function serverOn(dbKind: DbKind) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-portal-playbook-'));
  const pg = dbKind === 'postgres' ? await freshPostgres() : undefined;
  const start = async (port = 0) => {
    const config = loadConfig({ LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_SECURITY_DEFAULTS: 'false' }, { dataDir, port, host: '127.0.0.1', tlsCaCert: testCa(), databaseUrl: pg?.url ?? '', bootstrapAdminPassword: ADMIN_PASSWORD, automationClientSecret: 'automation-secret-value' });
    const s = await startServer(config);
    return Object.assign(s, { dataDir, dbKind, tenantUrl: `${s.origin}/${s.tenantId}` }) as RunningServer & TestServer;
  };
  return { start, async drop() { await pg?.drop(); fs.rmSync(dataDir, { recursive: true, force: true }); } };
}

/** Whether the focused element shows its focus (Fluent's keyboard focus mark, or an outline drawn by :focus-visible). */
const FOCUS_SHOWN = `(() => { const el = document.activeElement; if (!el || el === document.body) return false;
  if (el.hasAttribute('data-fui-focus-visible') || el.closest('[data-fui-focus-within]')) return true;
  const cs = getComputedStyle(el); return el.matches(':focus-visible') && cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0; })()`;

const focusedId = (page: Page) => page.evaluate('document.activeElement ? document.activeElement.id : ""') as Promise<string>;

/** Presses Tab (or Shift+Tab) until the element `id` has the focus, which must be visible. */
async function tabTo(page: Page, id: string, opts: { back?: boolean; max?: number } = {}): Promise<void> {
  for (let i = 0; i <= (opts.max ?? 80); i++) {
    if ((await focusedId(page)) === id) {
      assert.equal(await page.evaluate(FOCUS_SHOWN), true, `the focus on #${id} is visible`);
      return;
    }
    await page.keyboard.press(opts.back ? 'Shift+Tab' : 'Tab');
  }
  assert.fail(`#${id} was not reached with ${opts.back ? 'Shift+Tab' : 'Tab'}`);
}

/** Waits for a step's heading and checks it took the focus. */
async function headingFocused(page: Page, id: string): Promise<void> {
  await page.waitForSelector(`#${id}`);
  await until(page, `document.activeElement && document.activeElement.id === '${id}'`);
  assert.equal(await page.evaluate(FOCUS_SHOWN), true, `the focus on #${id} is visible`);
}

const stepStates = (page: Page, list: string) => page.locator(`#${list} > li`).evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-step'), li.getAttribute('data-state')]));

for (const dbKind of await databases()) {
  describe(`the playbook in the admin portal (${dbKind})`, { skip }, () => {
    let server: TestServer & RunningServer;
    let drop: () => Promise<void>;
    let browser: Browser;
    const audits = async () => (await server.store.db.selectFrom('audit_log').select(['activity']).orderBy('id').execute()).map((a) => a.activity);
    const graph = async (tokenValue: string, p: string, body?: unknown) => {
      const res = await fetch(`${server.origin}${p}`, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${tokenValue}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    /** The victim, and an attacker holding a refresh token, their own TOTP method and (when a browser is given) a demo portal session. */
    const takeOver = async (name: string, attackerBrowser?: Browser) => {
      const upn = `${name}@${server.tenantDomain}`;
      const victim = await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: `${name[0]!.toUpperCase()}${name.slice(1)} Victim`, password: PW });
      const attackerContext = attackerBrowser ? await attackerBrowser.newContext({ ignoreHTTPSErrors: true }) : undefined;
      const attackerPage = attackerContext ? await attackerContext.newPage() : undefined;
      if (attackerPage) await signInToDemoPortal(attackerPage, server.origin, upn, PW);
      const p = pkce();
      const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: p.challenge, code_challenge_method: 'S256' }, { user: upn, password: PW });
      const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier });
      assert.ok(t.body.refresh_token);
      await enrollTotp(server, victim);
      const totp = await server.store.db.selectFrom('auth_methods').select('id').where('user_id', '=', victim.id).where('type', '=', 'softwareOath').executeTakeFirstOrThrow();
      return { upn, victim, refreshToken: t.body.refresh_token, totpId: totp.id, attackerPage, attackerContext };
    };

    before(async () => {
      const s = await serverOn(dbKind);
      drop = s.drop;
      server = await s.start();
      await consentNativeAppToGraph(server);
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await drop?.();
    });

    test('the admin takes a taken-over account back with the keyboard only, from the user\'s page to the report; the attacker is out and the user is back with the TAP', async () => {
      const x = await takeOver('pbkeys', browser);
      const adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, ADMIN_PASSWORD);
      const { page, close } = await openPortal(browser, server.origin, `admin@${server.tenantDomain}`, ADMIN_PASSWORD, { start: `/admin/users/${x.victim.id}` });
      let tap = '';
      try {
        // the user's page: the Compromised account button, reached with Tab
        await page.waitForSelector('#action-playbook');
        await tabTo(page, 'action-playbook');
        await page.keyboard.press('Enter');

        // 1. choose the steps: all of them by default, each with its effect; Space toggles one
        await headingFocused(page, 'stepHeading-choose');
        assert.equal(new URL(page.url()).pathname, `/admin/users/${x.victim.id}/playbook`);
        const checked = async () => page.locator('#chooseSteps input[type=checkbox][id^="step-"]').evaluateAll((els) => els.map((e) => [e.id, (e as unknown as { checked: boolean }).checked]));
        assert.deepEqual(await checked(), ALL_DONE.map(([s]) => [`step-${s}`, true]));
        assert.match((await page.textContent('#step-revokeSessions-effect')) ?? '', /Ends every browser session and refresh token/);
        await tabTo(page, 'step-disableAccount');
        await page.keyboard.press('Space');
        assert.equal(await page.isChecked('#step-disableAccount'), false);
        await page.keyboard.press('Space');
        assert.equal(await page.isChecked('#step-disableAccount'), true);
        await shot(page, 'playbook-choose');
        await noSeriousViolations(page, 'the playbook: choose the steps');

        // 2. the plan, as one: nothing changes yet
        const auditBefore = await audits();
        await tabTo(page, 'previewButton');
        await page.keyboard.press('Enter');
        await headingFocused(page, 'stepHeading-preview');
        assert.deepEqual(await stepStates(page, 'previewSteps'), ALL_DONE.map(([s]) => [s, 'applies']));
        const ending = (await page.textContent('#previewEnding')) ?? '';
        assert.match(ending, /Browser session.*Demo portal/s, "the attacker's browser session ends now");
        assert.match(ending, /Refresh token/, "the attacker's refresh token ends now");
        assert.deepEqual(await page.locator('#previewEnding tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-kind')).sort()), ['grant', 'grant', 'session', 'session'], 'the demo portal\'s and the native app\'s');
        assert.match((await page.textContent('[data-step="requireReregisterMfa"]')) ?? '', /Method softwareOath: deleted/);
        // the server's texts, true inside the playbook: the password shown to nobody, no advice to do what another step does
        assert.match((await page.textContent('[data-step="resetPassword"]')) ?? '', /password: \(set\) → \(random, shown to nobody\)/);
        assert.doesNotMatch((await page.textContent('#previewSteps')) ?? '', /generated, shown once|use Revoke sessions|re-register them too/);
        assert.match((await page.textContent('#previewNextSignIn')) ?? '', /Temporary Access Pass/);
        assert.deepEqual(await audits(), auditBefore, 'the preview changes nothing');
        await shot(page, 'playbook-preview');
        await noSeriousViolations(page, 'the playbook: the plan');

        // 3. apply: the run id at once, each step's result, the TAP once in its step's result
        await tabTo(page, 'applyPlaybook');
        await page.keyboard.press('Enter');
        await headingFocused(page, 'stepHeading-apply');
        const runId = /Run ([0-9a-f-]{36})/.exec((await page.textContent('#runId')) ?? '')?.[1];
        assert.ok(runId, 'the run id is shown');
        await page.waitForSelector('#runCompleted');
        assert.deepEqual(await stepStates(page, 'runProgress'), ALL_DONE);
        tap = await page.inputValue('#tapValue');
        assert.ok(tap.length >= 8, 'the TAP is shown in its step result');
        assert.deepEqual((await audits()).slice(auditBefore.length), FULL_RUN_AUDIT);
        const row = await server.store.db.selectFrom('playbook_runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
        assert.deepEqual([row.status, row.target_id], ['completed', x.victim.id]);
        await tabTo(page, 'tapValue');
        await shot(page, 'playbook-applied');
        await noSeriousViolations(page, 'the playbook: applied');

        // 4. the report: without the TAP; Print prints the report alone; Save downloads the server's report
        await tabTo(page, 'toReport');
        await page.keyboard.press('Enter');
        await headingFocused(page, 'stepHeading-report');
        await page.waitForSelector('#reportDone');
        assert.equal((await page.locator('#reportDone li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-step')))).join(','), ALL_DONE.map(([s]) => s).join(','));
        assert.match((await page.textContent('#reportStillAlive')) ?? '', /Access tokens of .* usable at APIs that do not check with Latchkey until/);
        assert.equal((await page.textContent('#reportSessions'))?.trim(), 'No browser session or refresh token of the user is alive.', "the attacker's ended sessions and tokens are not reported alive");
        assert.ok(!((await page.content()).includes(tap)), 'the TAP is gone once the report shows');
        await shot(page, 'playbook-report');
        await noSeriousViolations(page, 'the playbook: the report');
        await page.evaluate('window.__printed = 0; window.print = () => { window.__printed += 1; }');
        await tabTo(page, 'printReport');
        await page.keyboard.press('Enter');
        assert.equal(await page.evaluate('window.__printed'), 1, 'Print opens the browser\'s printing');
        await page.emulateMedia({ media: 'print' });
        assert.deepEqual(await page.evaluate(`[getComputedStyle(document.querySelector('header')).visibility, getComputedStyle(document.querySelector('#playbookTitle')).visibility, getComputedStyle(document.querySelector('#wizardStages')).visibility, getComputedStyle(document.querySelector('#reportDone')).visibility]`), ['hidden', 'hidden', 'hidden', 'visible'], 'only the report prints');
        await shot(page, 'playbook-report-print');
        await page.emulateMedia({ media: 'screen' });
        await tabTo(page, 'saveReport');
        const download = page.waitForEvent('download');
        await page.keyboard.press('Enter');
        const saved = fs.readFileSync((await (await download).path())!, 'utf8');
        assert.match(saved, new RegExp(`run ${runId}: completed`));
        assert.match(saved, /What was done:[\s\S]*Revoke sessions: done[\s\S]*Still alive:/);
        assert.ok(!saved.includes(tap), 'the saved report has no TAP');
        // no keyboard trap: Shift+Tab goes back, Tab goes on past the report
        await tabTo(page, 'printReport', { back: true, max: 3 });
        await tabTo(page, 'reportBackToUser', { max: 3 });
      } finally {
        await close();
      }

      // the attacker's refresh token, browser session and method are dead
      const refreshed = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: x.refreshToken });
      assert.equal(refreshed.body.error, 'invalid_grant', JSON.stringify(refreshed.body));
      const attacker = x.attackerPage!;
      await eventually('the demo portal ended the attacker\'s session', async () => {
        await attacker.goto(`${server.origin}/demo/`);
        return (await attacker.content()).includes('You are not signed in') ? true : undefined;
      });
      await attacker.click('#signin');
      await attacker.waitForSelector('#i0116');
      assert.equal(new URL(attacker.url()).origin, server.origin, 'Latchkey asks for a sign-in: the browser session is dead');
      await x.attackerContext!.close();
      const methods = await graph(adminToken, `/v1.0/users/${x.victim.id}/authentication/methods`);
      assert.equal(methods.status, 200);
      const listed = (methods.body.value as { id: string; '@odata.type': string }[]);
      assert.ok(!listed.some((m) => m.id === x.totpId), "Graph no longer lists the attacker's method");
      assert.deepEqual(listed.map((m) => m['@odata.type']).sort(), ['#microsoft.graph.passwordAuthenticationMethod', '#microsoft.graph.temporaryAccessPassAuthenticationMethod']);

      // the user signs in at My Security Info with the TAP and registers a new authenticator app
      const userContext = await browser.newContext({ ignoreHTTPSErrors: true });
      const userPage = await userContext.newPage();
      try {
        await userPage.goto(`${server.origin}/mysecurityinfo`);
        await userPage.fill('#i0116', x.upn);
        await userPage.click('#idSIButton9');
        await userPage.waitForSelector('#accessPass');
        await userPage.fill('#accessPass', tap);
        await userPage.click('#idSIButton9');
        // signed in with the TAP, the user is offered the registration of a method (the registration interrupt)
        await userPage.waitForSelector('#totpSecret');
        await shot(userPage, 'playbook-user-registers');
        const secret = (await userPage.textContent('#totpSecret'))!.trim();
        await userPage.fill('#registerCode', totpAt(secret));
        await userPage.click('#idSIButton9');
        await userPage.waitForSelector('text=Stay signed in?');
        await userPage.click('#idSIButton9');
        await userPage.waitForSelector('#methods');
      } finally {
        await closeQuietly(userPage);
        await userContext.close();
      }
      const after = (await graph(adminToken, `/v1.0/users/${x.victim.id}/authentication/methods`)).body.value as { id: string; '@odata.type': string }[];
      const apps = after.filter((m) => m['@odata.type'] === '#microsoft.graph.softwareOathAuthenticationMethod');
      assert.equal(apps.length, 1, 'the new authenticator app');
      assert.notEqual(apps[0]!.id, x.totpId);
    });

    test('a run whose server stopped after step 3 is unfinished on its run page; Resume (keyboard) after a restart finishes it the same; the same run id again changes nothing', async () => {
      const x = await takeOver('pbcrash');
      // the tenant's registration policy back to "anywhere", as before the first run
      await server.store.db.updateTable('tenant_settings').set({ registration_policy: 'anywhere', updated_at: Date.now() }).execute();
      const admin = (await findUserByUpn(server.store.db, server.tenantId, `admin@${server.tenantDomain}`))!;
      const auditBefore = await audits();
      const { page, close } = await openPortal(browser, server.origin, `admin@${server.tenantDomain}`, ADMIN_PASSWORD, { start: `/admin/users/${x.victim.id}` });
      try {
        await page.waitForSelector('#action-playbook');
        await tabTo(page, 'action-playbook');
        await page.keyboard.press('Enter');
        await headingFocused(page, 'stepHeading-choose');
        await tabTo(page, 'previewButton');
        await page.keyboard.press('Enter');
        await headingFocused(page, 'stepHeading-preview');

        // The portal's apply reaches a server that stops after step 3 has committed: the steps are applied as
        // the server would (the playbook's own stopAfter, as in tests/playbook.test.ts, with the portal's run id
        // and input, as the signed-in admin), the server is closed, and the browser's request dies with it.
        const port = server.port;
        let applied: { runId: string; input: Record<string, unknown> } | undefined;
        await page.route('**/latchkey/v1/users/*/playbook', async (route) => {
          const body = JSON.parse(route.request().postData() ?? '{}') as { dryRun: boolean; runId: string } & Record<string, unknown>;
          if (body.dryRun !== false) return route.continue();
          const runId = body.runId;
          const input: Record<string, unknown> = { ...body };
          delete input.dryRun;
          delete input.runId;
          const actor: Actor = { kind: 'user', id: admin.id, displayName: admin.display_name, upn: admin.upn, roles: ['Global Administrator'], scopes: ['Directory.AccessAsUser.All'] };
          const ctx: ActionContext = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
          await startRun(ctx, actor, x.victim.id, parsePlaybookInput(input), runId);
          await applyRun(ctx, actor, runId, { stopAfter: 3 });
          applied = { runId, input };
          await server.close();
          await route.abort('connectionreset');
        });
        await tabTo(page, 'applyPlaybook');
        await page.keyboard.press('Enter');
        await headingFocused(page, 'stepHeading-apply');
        await page.waitForSelector('#applyError');
        assert.match((await page.textContent('#applyError')) ?? '', /connection to the server was lost.*its page shows where, and resumes it/);
        assert.ok(applied);
        const runId = applied.runId;
        assert.match((await page.textContent('#runId')) ?? '', new RegExp(runId));
        await page.unroute('**/latchkey/v1/users/*/playbook');

        // a new instance on the same data and port
        server = await (await serverOnSame(server, port))();
        assert.deepEqual((await audits()).slice(auditBefore.length), FULL_RUN_AUDIT.slice(0, 3), 'steps 1 to 3 committed');
        await shot(page, 'playbook-stopped');
        // the admin reloads the run's page, as its link names it: signed in again silently through the
        // engine's browser session, which the restart kept
        await tabTo(page, 'runPageLink');
        const runPage = await page.getAttribute('#runPageLink', 'href');
        assert.equal(runPage, `/admin/playbook/runs/${runId}`);
        await page.goto(`${server.origin}${runPage}`);
        await headingFocused(page, 'runStatusHeading');
        assert.equal(await page.locator('#i0116, #i0118').count(), 0, 'no sign-in page');
        assert.equal(new URL(page.url()).pathname, `/admin/playbook/runs/${runId}`);
        assert.equal(await page.getAttribute('#runStatus', 'data-status'), 'running');
        assert.match((await page.textContent('#runUnfinished')) ?? '', /stopped part way.*Step 4 \(Revoke sessions\) and the steps after it were not applied/s);
        assert.deepEqual(await stepStates(page, 'runProgress'), [...ALL_DONE.slice(0, 3), ...ALL_DONE.slice(3).map(([s]) => [s, 'waiting'])]);
        await shot(page, 'playbook-run-unfinished');
        await noSeriousViolations(page, 'an unfinished run');

        await tabTo(page, 'resumeRun');
        await page.keyboard.press('Enter');
        await page.waitForSelector('#runCompleted');
        await until(page, "document.activeElement && document.activeElement.id === 'runProgressHeading'");
        assert.equal(await page.getAttribute('#runStatus', 'data-status'), 'completed');
        assert.deepEqual(await stepStates(page, 'runProgress'), ALL_DONE);
        const tap = await page.inputValue('#tapValue');
        assert.ok(tap.length >= 8);
        const auditAfter = await audits();
        assert.deepEqual(auditAfter.slice(auditBefore.length).filter((a) => !a.startsWith('Sign')), FULL_RUN_AUDIT, 'the same steps, audited the same, each once');
        await shot(page, 'playbook-run-resumed');
        await noSeriousViolations(page, 'a resumed run');
        await tabTo(page, 'showReport');
        await page.keyboard.press('Enter');
        await headingFocused(page, 'stepHeading-report');
        await page.waitForSelector('#reportDone');
        assert.ok(!(await page.content()).includes(tap), 'the report page does not hold the TAP');

        // the attacker is out as after an uninterrupted run
        const refreshed = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: x.refreshToken });
        assert.equal(refreshed.body.error, 'invalid_grant');
        assert.equal(await server.store.db.selectFrom('auth_methods').select('id').where('id', '=', x.totpId).executeTakeFirst(), undefined);
        assert.equal((await findUserByUpn(server.store.db, server.tenantId, x.upn))!.account_enabled, 1);

        // back to the run's steps: completed, no Resume, the TAP no more; the same request with the same run id
        // applied again changes nothing
        await tabTo(page, 'backToRun');
        await page.keyboard.press('Enter');
        await headingFocused(page, 'runStatusHeading');
        assert.equal(await page.getAttribute('#runStatus', 'data-status'), 'completed');
        assert.equal(await page.locator('#resumeRun').count(), 0);
        assert.ok(!(await page.content()).includes(tap));
        assert.match((await page.textContent('[data-step="createTap"]')) ?? '', /shown once/);
        // an admin whose answer was lost issues a new pass, which replaces this one: the step links to where
        assert.match((await page.textContent('#tapShownEarlier')) ?? '', /never arrived.*issue a new pass.*replaces this one/s);
        assert.equal(await page.getAttribute('#tapReissueLink', 'href'), `/admin/users/${x.victim.id}/authentication-methods`);
        await shot(page, 'playbook-run-tap-shown-earlier');
        const adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, ADMIN_PASSWORD);
        const n = (await audits()).length;
        const again = await graph(adminToken, `/latchkey/v1/users/${x.victim.id}/playbook`, { dryRun: false, ...applied.input, runId });
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal(again.body.status, 'completed');
        assert.equal((await audits()).length, n, 'applying the same run again writes no audit record');
        assert.ok(!JSON.stringify(again.body).includes(tap));
      } finally {
        await close();
      }
    });

    test('at 390 px the wizard fits; a bad TAP lifetime or no step is refused at the field and nothing changes; a step the admin may not apply is shown refused with Apply disabled', async () => {
      const upn = `pbphone@${server.tenantDomain}`;
      const user = await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: 'Phone Victim', password: PW });
      const { page, close } = await openPortal(browser, server.origin, `admin@${server.tenantDomain}`, ADMIN_PASSWORD, { width: 390, start: `/admin/users/${user.id}` });
      const wide = async () => assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 390, 'no horizontal scrolling');
      try {
        await page.click('#action-playbook');
        await page.waitForSelector('#stepHeading-choose');
        await wide();
        await shot(page, 'playbook-choose-phone');
        const calls: string[] = [];
        page.on('request', (r) => {
          if (r.url().includes('/playbook')) calls.push(r.url());
        });
        const auditBefore = await audits();
        const runsBefore = await server.store.db.selectFrom('playbook_runs').select('id').execute();
        const lifetimeMessage = () => page.locator('.fui-Field:has(#tapLifetime)').textContent();
        for (const bad of ['5', '43201', 'abc', '12.5']) {
          await page.fill('#tapLifetime', bad);
          await page.click('#previewButton');
          await until(page, "document.activeElement && document.activeElement.id === 'tapLifetime'");
          assert.match((await lifetimeMessage()) ?? '', /Enter a whole number of minutes from 10 to 43200/, bad);
          assert.equal(await page.getAttribute('#tapLifetime', 'aria-invalid'), 'true');
        }
        await shot(page, 'playbook-bad-lifetime-phone');
        await noSeriousViolations(page, 'the playbook: a refused field');
        await page.fill('#tapLifetime', '');
        for (const box of await page.locator('#chooseSteps input[id^="step-"]').all()) await box.uncheck();
        await page.click('#previewButton');
        await page.waitForSelector('#stepsError');
        assert.equal((await page.textContent('#stepsError'))?.trim(), 'Choose at least one step.');
        assert.deepEqual(calls, [], 'nothing was asked of the server');
        assert.deepEqual(await audits(), auditBefore);
        assert.deepEqual(await server.store.db.selectFrom('playbook_runs').select('id').execute(), runsBefore);

        // one step: the plan fits the phone
        await page.check('#step-revokeSessions');
        await page.click('#previewButton');
        await page.waitForSelector('#stepHeading-preview');
        assert.deepEqual(await stepStates(page, 'previewSteps'), [['revokeSessions', 'applies']]);
        assert.match((await page.textContent('#previewWarnings')) ?? '', /No Temporary Access Pass is issued/);
        await wide();
        await shot(page, 'playbook-preview-phone');
        await page.click('#backToSteps');
        await page.waitForSelector('#stepHeading-choose');
        assert.equal(await page.isChecked('#step-revokeSessions'), true, 'the choice is kept');
      } finally {
        await close();
      }

      // a Helpdesk Administrator may revoke the sessions of a plain user but not manage methods: the plan
      // shows those steps refused with the server's reason, and Apply is disabled saying why
      await createUser(server.store.db, { tenantId: server.tenantId, upn: `pbhelpdesk@${server.tenantDomain}`, displayName: 'Helpdesk Admin', password: 'Helpdesk-Password-1!', roles: ['Helpdesk Administrator'] });
      const hd = await openPortal(browser, server.origin, `pbhelpdesk@${server.tenantDomain}`, 'Helpdesk-Password-1!', { start: `/admin/users/${user.id}/playbook` });
      try {
        await hd.page.waitForSelector('#stepHeading-choose');
        await hd.page.click('#previewButton');
        await hd.page.waitForSelector('#stepHeading-preview');
        assert.deepEqual(await stepStates(hd.page, 'previewSteps'), [
          ['disableAccount', 'refused'],
          ['requireReregisterMfa', 'refused'],
          ['resetPassword', 'applies'],
          ['revokeSessions', 'applies'],
          ['revokeMfaSessions', 'refused'],
          ['registrationPolicy', 'refused'],
          ['createTap', 'refused'],
          ['enableAccount', 'refused'],
        ]);
        assert.equal(await hd.page.isDisabled('#applyPlaybook'), true);
        assert.equal(await hd.page.getAttribute('#applyPlaybook', 'aria-describedby'), 'applyRefused');
        assert.match((await hd.page.textContent('#applyRefused')) ?? '', /You may not apply step 1, 2, 5, 6, 7, 8: Insufficient privileges/);
        assert.match((await hd.page.textContent('[data-step="disableAccount"]')) ?? '', /Insufficient privileges/);
        await shot(hd.page, 'playbook-helpdesk-refused');
        await noSeriousViolations(hd.page, 'the playbook: refused steps');
      } finally {
        await hd.close();
      }
    });
  });
}

/** Starts a new instance on the data of `old` (closed), at the same port: the same origin and issuer. */
async function serverOnSame(old: TestServer & RunningServer, port: number) {
  return async () => {
    const s = await startServer({ ...old.config, port });
    return Object.assign(s, { dataDir: old.dataDir, dbKind: old.dbKind, tenantUrl: `${s.origin}/${s.tenantId}` }) as RunningServer & TestServer;
  };
}

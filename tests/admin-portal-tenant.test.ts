// The admin portal's tenant pages in real Chromium, through the pages: the authentication methods policy
// (software OATH disabled, then enabled for one group only; the TAP lifetimes, a minimum above the maximum
// refused at its field; a group that vanished before Save refused by the server at the groups field),
// security defaults switched after a confirmation, and the tenant settings (remember MFA 30 days; 0, 400
// and "abc" refused at the field). Every result is checked through Graph or /latchkey/v1 with the portal's
// own token, and every refusal is checked to have changed nothing. A Global Reader sees the controls read
// only with the server's reason, a Helpdesk Administrator is refused the reads, and the server refuses both
// the same PATCHes when forced with their tokens.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../src/directory/users.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { ADMIN_PASSWORD, noSeriousViolations, openPortal, shot, until } from './helpers/portal.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const POLICY = '/v1.0/policies/authenticationMethodsPolicy';
const CONFIGS = `${POLICY}/authenticationMethodConfigurations`;
const SECURITY_DEFAULTS = '/v1.0/policies/identitySecurityDefaultsEnforcementPolicy';
const SETTINGS = '/latchkey/v1/tenant/settings';
type Json = Record<string, unknown>;

/** The bearer token the portal last sent (its own, in memory only: read off its requests). */
function watchToken(page: Page): () => string {
  let token = '';
  page.on('request', (r) => {
    const h = r.headers().authorization;
    if (h?.startsWith('Bearer ')) token = h.slice('Bearer '.length);
  });
  return () => {
    assert.ok(token, 'the portal sent its token');
    return token;
  };
}

const without = (o: Json, ...keys: string[]): Json => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
/** The method's dialog closed and gone, leaving the page visible to assistive technology, focus back on its link. */
async function paneClosed(page: Page, method: string): Promise<void> {
  await page.waitForSelector('#methodDialog', { state: 'detached' });
  await until(page, `!document.querySelector('#root').hasAttribute('aria-hidden') && document.querySelectorAll('body > i').length === 0 && document.activeElement?.id === 'open-${method}'`);
}
const noScroll = async (page: Page, what: string) => assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 390, `no horizontal scrolling: ${what}`);

for (const db of await databases()) {
  describe(`admin portal: tenant pages (${db})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    let pilots: string;
    const call = async (token: string, path: string, init: { method?: string; body?: unknown } = {}) => {
      const res = await fetch(`${server.origin}${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
    };
    const get = async (token: string, path: string) => {
      const r = await call(token, path);
      assert.equal(r.status, 200, `GET ${path}: ${JSON.stringify(r.body)}`);
      return without(r.body, '@odata.context');
    };
    const newGroup = async (name: string) => {
      const id = crypto.randomUUID();
      await server.store.db.insertInto('groups').values({ id, tenant_id: server.tenantId, display_name: name, description: null, is_assignable_to_role: 0, created_at: Date.now(), mail_nickname: name.replace(/\W/g, '') }).execute();
      return id;
    };
    const portal = (upn: string, password: string, start: string, width = 1280) => openPortal(browser, server.origin, upn, password, { width, start });

    before(async () => {
      server = await startTestServer(db);
      browser = await launchBrowser();
      pilots = await newGroup('OATH pilots');
      const pilot = await createUser(server.store.db, { tenantId: server.tenantId, upn: `pilot@${server.tenantDomain}`, displayName: 'Pilot User', password: 'Pilot-Password-1!' });
      await server.store.db.insertInto('group_members').values({ group_id: pilots, user_id: pilot.id }).execute();
      await newGroup('Other team');
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('a Global Administrator disables software OATH, then enables it for one group only, and changes the TAP lifetimes; bad values are refused at their field and change nothing', async () => {
      const { page, close } = await portal(`admin@${server.tenantDomain}`, ADMIN_PASSWORD, '/admin/');
      const token = watchToken(page);
      try {
        await page.click('#nav-authentication-methods');
        await page.waitForSelector('#methodsTable');
        assert.equal(new URL(page.url()).pathname, '/admin/authentication-methods');
        assert.equal(await page.locator('#methodsReadOnly').count(), 0, 'a Global Administrator may change the policy');
        const rows = await page.locator('#methodsTable tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())));
        assert.deepEqual(rows, [
          ['Passkey (FIDO2)', 'All users', 'Yes'],
          ['Microsoft Authenticator', 'All users', 'Yes'],
          ['SMS', 'All users', 'Yes'],
          ['Voice call', 'All users', 'Yes'],
          ['Email OTP', 'All users', 'Yes'],
          ['Temporary Access Pass', 'All users', 'Yes'],
          ['Software OATH tokens', 'All users', 'Yes'],
          ['Hardware OATH tokens', 'All users', 'No'],
        ]);
        await shot(page, 'authentication-methods');
        await noSeriousViolations(page, 'the authentication methods policy');

        // software OATH off for everyone
        await page.click('#open-SoftwareOath');
        await page.waitForSelector('#methodDialog');
        assert.equal(await page.isChecked('#methodEnabled'), true);
        assert.equal(await page.isChecked('#includeAll'), true);
        await shot(page, 'software-oath-pane');
        await noSeriousViolations(page, 'the software OATH pane');
        await page.click('#methodEnabled');
        await page.click('#saveMethod');
        await page.waitForSelector('#methodsSaved');
        await paneClosed(page, 'SoftwareOath');
        await noSeriousViolations(page, 'the policy after its pane closed');
        assert.deepEqual(await get(token(), `${CONFIGS}/SoftwareOath`), {
          '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethodConfiguration',
          id: 'SoftwareOath',
          state: 'disabled',
          includeTargets: [{ targetType: 'group', id: 'all_users', isRegistrationRequired: false }],
          excludeTargets: [],
        });
        await until(page, "document.querySelector('#method-SoftwareOath')?.getAttribute('data-state') === 'disabled'");

        // back on, for the OATH pilots only: "Select groups" with no group is refused at the field first
        const unchanged = await get(token(), POLICY);
        await page.click('#open-SoftwareOath');
        await page.waitForSelector('#methodDialog');
        await page.click('#methodEnabled');
        await page.click('#includeSelected');
        await page.click('#saveMethod');
        await page.waitForSelector('#includeGroupsError');
        assert.match((await page.textContent('#includeGroupsError')) ?? '', /Add at least one group, or target all users/);
        assert.deepEqual(await get(token(), POLICY), unchanged, 'nothing changed');
        await page.fill('#includeGroupSearch', 'oath');
        await page.click(`#include-add-${pilots}`);
        await page.waitForSelector(`#includeChosen [data-group-id="${pilots}"]`);
        await shot(page, 'software-oath-groups');
        await noSeriousViolations(page, 'the group picker');
        await page.click('#saveMethod');
        await paneClosed(page, 'SoftwareOath');
        assert.deepEqual(await get(token(), `${CONFIGS}/SoftwareOath`), {
          '@odata.type': '#microsoft.graph.softwareOathAuthenticationMethodConfiguration',
          id: 'SoftwareOath',
          state: 'enabled',
          includeTargets: [{ targetType: 'group', id: pilots, isRegistrationRequired: false }],
          excludeTargets: [],
        });
        await until(page, "document.querySelector('#method-SoftwareOath td:nth-child(2)')?.textContent === '1 group'");

        // the pane shows the group by name; a group deleted before Save is refused by the server at the groups field
        await page.click('#open-SoftwareOath');
        await page.waitForSelector(`#includeChosen [data-group-id="${pilots}"]`);
        assert.match((await page.textContent('#includeChosen')) ?? '', /OATH pilots/);
        const doomed = await newGroup('Doomed group');
        await page.fill('#includeGroupSearch', 'Doomed');
        await page.click(`#include-add-${doomed}`);
        await server.store.db.deleteFrom('groups').where('id', '=', doomed).execute();
        const before = await get(token(), POLICY);
        await page.click('#saveMethod');
        await page.waitForSelector('#includeGroupsError');
        assert.match((await page.textContent('#includeGroupsError')) ?? '', new RegExp(`Property 'includeTargets\\[1\\]\\.id': group '${doomed}' does not exist`));
        assert.deepEqual(await get(token(), POLICY), before, 'nothing changed');
        await page.click('#cancelMethod');
        await paneClosed(page, 'SoftwareOath');

        // the TAP lifetimes: a minimum above the maximum is refused at the minimum's field
        const tapBefore = await get(token(), `${CONFIGS}/TemporaryAccessPass`);
        await page.click('#open-TemporaryAccessPass');
        await page.waitForSelector('#tapMinimumLifetime');
        assert.deepEqual(
          await Promise.all(['#tapMinimumLifetime', '#tapMaximumLifetime', '#tapDefaultLifetime', '#tapDefaultLength'].map((f) => page.inputValue(f))),
          ['10', '43200', '60', '8'],
        );
        await page.fill('#tapMinimumLifetime', '600');
        await page.fill('#tapMaximumLifetime', '120');
        await page.click('#saveMethod');
        await page.waitForSelector('#tapMinimumLifetimeError');
        assert.equal((await page.textContent('#tapMinimumLifetimeError'))?.trim(), 'The minimum lifetime (600 minutes) must not exceed the maximum lifetime (120 minutes).');
        await shot(page, 'tap-refused');
        await noSeriousViolations(page, 'the TAP pane with a refused value');
        // a length out of range and a lifetime that is not a number, each at its field
        await page.fill('#tapDefaultLength', '49');
        await page.fill('#tapDefaultLifetime', 'soon');
        await page.click('#saveMethod');
        await until(page, "document.querySelector('#tapDefaultLengthError')?.textContent === 'The length must be from 8 to 48.' && document.querySelector('#tapDefaultLifetimeError')?.textContent === 'The default lifetime must be a whole number from 10 to 43200.'");
        assert.deepEqual(await get(token(), `${CONFIGS}/TemporaryAccessPass`), tapBefore, 'nothing changed');
        await page.fill('#tapMinimumLifetime', '30');
        await page.fill('#tapMaximumLifetime', '480');
        await page.fill('#tapDefaultLifetime', '120');
        await page.fill('#tapDefaultLength', '12');
        await page.check('#tapUsableOnce');
        await page.click('#saveMethod');
        await paneClosed(page, 'TemporaryAccessPass');
        assert.deepEqual(await get(token(), `${CONFIGS}/TemporaryAccessPass`), {
          '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration',
          id: 'TemporaryAccessPass',
          state: 'enabled',
          defaultLifetimeInMinutes: 120,
          minimumLifetimeInMinutes: 30,
          maximumLifetimeInMinutes: 480,
          defaultLength: 12,
          isUsableOnce: true,
          includeTargets: [{ targetType: 'group', id: 'all_users', isRegistrationRequired: false }],
          excludeTargets: [],
        });

        // the policy's own setting: system-preferred MFA
        await page.selectOption('#systemPreferred', 'disabled');
        await page.click('#savePolicySettings');
        await page.waitForSelector('#methodsSaved');
        assert.deepEqual((await get(token(), POLICY)).systemCredentialPreferences, { state: 'disabled', includeTargets: [{ targetType: 'group', id: 'all_users' }], excludeTargets: [] });
      } finally {
        await close();
      }
    });

    test('a Global Administrator switches security defaults on and off, each after a confirmation (Cancel changes nothing)', async () => {
      const { page, close } = await portal(`admin@${server.tenantDomain}`, ADMIN_PASSWORD, '/admin/');
      const token = watchToken(page);
      const enabled = async () => (await get(token(), SECURITY_DEFAULTS)).isEnabled;
      try {
        await page.click('#nav-security-defaults');
        await page.waitForSelector('#switchSecurityDefaults');
        assert.equal(await page.getAttribute('#securityDefaultsState', 'data-enabled'), 'false');
        assert.match((await page.textContent('#securityDefaultsDescription')) ?? '', /^Security defaults is a set of basic identity security mechanisms recommended by Microsoft/);
        await shot(page, 'security-defaults');
        await noSeriousViolations(page, 'security defaults');
        await page.click('#switchSecurityDefaults');
        await page.waitForSelector('#confirmSecurityDefaults');
        await shot(page, 'security-defaults-confirm');
        await noSeriousViolations(page, 'the confirmation');
        await page.click('#cancelSecurityDefaults');
        await page.waitForSelector('#confirmSecurityDefaults', { state: 'detached' });
        assert.equal(await enabled(), false, 'Cancel changed nothing');

        await page.click('#switchSecurityDefaults');
        await page.click('#confirmSecurityDefaults');
        await page.waitForSelector('#securityDefaultsSaved');
        await until(page, "document.querySelector('#securityDefaultsState')?.getAttribute('data-enabled') === 'true'");
        assert.equal(await enabled(), true);

        await page.click('#switchSecurityDefaults');
        assert.match((await page.textContent('#confirmSecurityDefaultsText')) ?? '', /no longer be protected/);
        await page.click('#confirmSecurityDefaults');
        await until(page, "document.querySelector('#securityDefaultsState')?.getAttribute('data-enabled') === 'false'");
        assert.equal(await enabled(), false);
      } finally {
        await close();
      }
    });

    test('a Global Administrator sets remember-MFA to 30 days and mfaOrTap; 0, 400 and "abc" are refused at the field and change nothing', async () => {
      const { page, close } = await portal(`admin@${server.tenantDomain}`, ADMIN_PASSWORD, '/admin/');
      const token = watchToken(page);
      try {
        await page.click('#nav-settings');
        await page.waitForSelector('#rememberMfaDays');
        assert.equal(await page.inputValue('#rememberMfaDays'), '14');
        assert.equal(await page.inputValue('#wrongCodeLimit'), '5');
        assert.equal(await page.isChecked('#registrationAnywhere'), true);
        await shot(page, 'settings');
        await noSeriousViolations(page, 'the tenant settings');
        const before = await get(token(), SETTINGS);
        for (const [value, message] of [
          ['0', 'Remember multifactor authentication must be from 1 to 365.'],
          ['400', 'Remember multifactor authentication must be from 1 to 365.'],
          ['abc', 'Remember multifactor authentication must be a whole number from 1 to 365.'],
        ] as const) {
          await page.fill('#rememberMfaDays', value);
          await page.click('#saveSettings');
          await until(page, `document.querySelector('#rememberMfaDaysError')?.textContent === ${JSON.stringify(message)}`);
          assert.equal(await page.getAttribute('#rememberMfaDays', 'aria-invalid'), 'true', value);
          assert.deepEqual(await get(token(), SETTINGS), before, `${value}: nothing changed`);
        }
        await shot(page, 'settings-refused');
        await noSeriousViolations(page, 'the tenant settings with a refused value');
        await page.fill('#rememberMfaDays', '30');
        await page.check('#registrationMfaOrTap');
        await page.click('#saveSettings');
        await page.waitForSelector('#settingsSaved');
        assert.equal(await page.locator('#rememberMfaDaysError').count(), 0);
        const after = await get(token(), SETTINGS);
        assert.deepEqual(without(after, 'lastModifiedDateTime'), { rememberMfaDays: 30, registrationPolicy: 'mfaOrTap', wrongCodeLimit: 5, securityDefaultsEnabled: false });
        assert.match((await page.textContent('#settingsSaved')) ?? '', /rememberMfaDays, registrationPolicy/);
      } finally {
        await close();
      }
    });

    test('a Global Reader sees every control read only with the server\'s reason, and the server refuses the same PATCHes with the reader\'s token', async () => {
      await createUser(server.store.db, { tenantId: server.tenantId, upn: `reader@${server.tenantDomain}`, displayName: 'Global Reader', password: 'Reader-Password-1!', roles: ['Global Reader'] });
      const { page, close } = await portal(`reader@${server.tenantDomain}`, 'Reader-Password-1!', '/admin/authentication-methods');
      const token = watchToken(page);
      try {
        await page.waitForSelector('#methodsReadOnly');
        const methodsReason = (await page.textContent('#methodsReadOnly')) ?? '';
        assert.equal(methodsReason, 'Read onlyInsufficient privileges to complete the operation: changing the authentication methods policy needs one of the directory roles Authentication Policy Administrator, Global Administrator.');
        assert.equal(await page.isDisabled('#savePolicySettings'), true);
        assert.equal(await page.isDisabled('#systemPreferred'), true);
        await shot(page, 'authentication-methods-reader');
        await noSeriousViolations(page, 'the policy seen by a Global Reader');
        await page.click('#open-TemporaryAccessPass');
        await page.waitForSelector('#methodReadOnly');
        for (const f of ['#methodEnabled', '#includeAll', '#tapMinimumLifetime', '#tapUsableOnce', '#excludeGroupSearch', '#saveMethod']) assert.equal(await page.isDisabled(f), true, f);
        await noSeriousViolations(page, 'the read-only TAP pane');
        await page.click('#cancelMethod');
        await paneClosed(page, 'TemporaryAccessPass');

        await page.click('#nav-security-defaults');
        await page.waitForSelector('#securityDefaultsReadOnly');
        assert.equal(await page.isDisabled('#switchSecurityDefaults'), true);
        assert.match((await page.textContent('#securityDefaultsReadOnly')) ?? '', /Insufficient privileges to change security defaults: a directory role among Global Administrator, Security Administrator, Conditional Access Administrator is required\./);
        await noSeriousViolations(page, 'security defaults seen by a Global Reader');

        await page.click('#nav-settings');
        await page.waitForSelector('#settingsReadOnly');
        assert.match((await page.textContent('#settingsReadOnly')) ?? '', /Insufficient privileges to change the tenant settings: a directory role among Global Administrator, Authentication Policy Administrator is required\./);
        for (const f of ['#rememberMfaDays', '#wrongCodeLimit', '#registrationAnywhere', '#saveSettings']) assert.equal(await page.isDisabled(f), true, f);
        await shot(page, 'settings-reader');
        await noSeriousViolations(page, 'the settings seen by a Global Reader');

        // the same changes, forced with the reader's own token: refused, with the reason the page showed
        const policyBefore = await get(token(), POLICY);
        const settingsBefore = await get(token(), SETTINGS);
        const forced = [
          await call(token(), `${CONFIGS}/SoftwareOath`, { method: 'PATCH', body: { state: 'disabled' } }),
          await call(token(), SECURITY_DEFAULTS, { method: 'PATCH', body: { isEnabled: true } }),
          await call(token(), SETTINGS, { method: 'PATCH', body: { rememberMfaDays: 7 } }),
        ];
        assert.deepEqual(forced.map((r) => r.status), [403, 403, 403]);
        assert.equal(`Read only${(forced[0]!.body.error as Json).message as string}`, methodsReason);
        assert.deepEqual(await get(token(), POLICY), policyBefore);
        assert.deepEqual(await get(token(), SETTINGS), settingsBefore);
        assert.equal((await get(token(), SECURITY_DEFAULTS)).isEnabled, false);
      } finally {
        await close();
      }
    });

    test('a Helpdesk Administrator is refused the policy and the settings by the server, sees security defaults read only, and is refused the PATCHes', async () => {
      await createUser(server.store.db, { tenantId: server.tenantId, upn: `helpdesk@${server.tenantDomain}`, displayName: 'Helpdesk Admin', password: 'Helpdesk-Password-1!', roles: ['Helpdesk Administrator'] });
      const { page, close } = await portal(`helpdesk@${server.tenantDomain}`, 'Helpdesk-Password-1!', '/admin/authentication-methods');
      const token = watchToken(page);
      try {
        await page.waitForSelector('[data-testid="error"]');
        assert.match((await page.textContent('[data-testid="error"]')) ?? '', /^You do not have accessInsufficient privileges to complete the operation: reading the authentication methods policy needs one of the directory roles/);
        assert.equal(await page.locator('#methodsTable').count(), 0);
        await shot(page, 'authentication-methods-helpdesk');
        await noSeriousViolations(page, 'the policy refused to a Helpdesk Administrator');

        await page.click('#nav-security-defaults');
        await page.waitForSelector('#securityDefaultsReadOnly');
        assert.equal(await page.isDisabled('#switchSecurityDefaults'), true);

        await page.click('#nav-settings');
        await page.waitForSelector('[data-testid="error"]');
        assert.match((await page.textContent('[data-testid="error"]')) ?? '', /Insufficient privileges to read the tenant settings/);
        assert.equal(await page.locator('#rememberMfaDays').count(), 0);

        const forced = [
          await call(token(), `${CONFIGS}/SoftwareOath`, { method: 'PATCH', body: { state: 'disabled' } }),
          await call(token(), SECURITY_DEFAULTS, { method: 'PATCH', body: { isEnabled: true } }),
          await call(token(), SETTINGS, { method: 'PATCH', body: { rememberMfaDays: 7 } }),
        ];
        assert.deepEqual(forced.map((r) => [r.status, (r.body.error as Json).code]), [[403, 'Authorization_RequestDenied'], [403, 'Authorization_RequestDenied'], [403, 'Authorization_RequestDenied']]);
        assert.equal((await get(token(), SECURITY_DEFAULTS)).isEnabled, false);
      } finally {
        await close();
      }
    });

    test('at phone width the tenant pages stay usable', async () => {
      const { page, close } = await portal(`admin@${server.tenantDomain}`, ADMIN_PASSWORD, '/admin/authentication-methods', 390);
      try {
        await page.waitForSelector('#methodsTable');
        await noScroll(page, 'authentication methods');
        await shot(page, 'authentication-methods-phone');
        await page.click('#open-TemporaryAccessPass');
        await page.waitForSelector('#tapMinimumLifetime');
        await noScroll(page, 'the TAP pane');
        await shot(page, 'tap-pane-phone');
        await page.click('#cancelMethod');
        await paneClosed(page, 'TemporaryAccessPass');
        await page.click('#nav-security-defaults');
        await page.waitForSelector('#switchSecurityDefaults');
        await noScroll(page, 'security defaults');
        await shot(page, 'security-defaults-phone');
        await page.click('#nav-settings');
        await page.waitForSelector('#rememberMfaDays');
        await page.fill('#rememberMfaDays', '0');
        await page.click('#saveSettings');
        await page.waitForSelector('#rememberMfaDaysError');
        await noScroll(page, 'settings');
        await shot(page, 'settings-phone');
      } finally {
        await close();
      }
    });
  });
}

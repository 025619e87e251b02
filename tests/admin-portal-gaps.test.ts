// The admin portal in real Chromium, through the pages: the app registrations list searched and paged;
// API permissions' Cancel (nothing changed), Remove (Graph's requiredResourceAccess loses it) and admin
// consent to the app's own exposed scope; the audit logs paged and their filters reset; and buttons
// disabled ahead of time with the server's reason (GET /latchkey/v1/directory/actions): a User
// Administrator on a role-assignable group, an Application Administrator asked to consent to Microsoft
// Graph's application permissions, while a Global Administrator has them enabled. Graph refuses the
// disabled writes with the same words when the same user's token asks for them, and nothing changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { writeAudit } from '../src/events/audit.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { ADMIN_PASSWORD, noSeriousViolations, openPortal, shot, until } from './helpers/portal.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const USER_READ_SCOPE = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'; // Microsoft Graph's User.Read (delegated)
const USER_READ_ALL_ROLE = 'df021288-bdef-4463-88db-98f22de89214'; // Microsoft Graph's User.Read.All (application)
const GLOBAL_ADMIN_ROLE = '62e90394-69f5-4237-9190-012177145e10';
const PASSWORD = 'Portal-Gaps-Password-1';
const ITEMS_READ = crypto.randomUUID();
const PAGER_APPS = Array.from({ length: 12 }, (_, i) => `Pager app ${String(i + 1).padStart(2, '0')}`);
const SEEDED_APPS = ['Automation', 'Demo API', 'Demo native app', 'Demo portal', 'Latchkey admin portal'];

interface Res {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? '').trim();
const rowsOf = (page: Page, table: string, attribute: string) => page.locator(`${table} tbody tr`).evaluateAll((rows, a) => rows.map((r) => r.getAttribute(a) ?? ''), attribute);
const appNames = (page: Page) => page.locator('#appsTable tbody tr').evaluateAll((rows) => rows.map((r) => r.querySelector('td')!.textContent ?? ''));

/** axe once a closed dialog has given the page back to assistive technology. */
async function settledAxe(page: Page, what: string): Promise<void> {
  await until(page, "!document.getElementById('root').hasAttribute('aria-hidden') && !document.querySelector('body > i')", 5_000);
  await noSeriousViolations(page, what);
}

/** A button disabled ahead of time: disabled, described by the reason's element, which says `reason`. */
async function disabledWith(page: Page, button: string, reasonId: string, reason: string): Promise<void> {
  await page.waitForSelector(`#${reasonId}`);
  assert.equal(await page.isDisabled(button), true, `${button} disabled`);
  assert.equal(await page.getAttribute(button, 'aria-describedby'), reasonId, `${button} described by its reason`);
  assert.equal(await text(page, `#${reasonId}`), reason);
}

/** A button the caller may use: enabled once the rights are read, with no reason beside it. */
async function enabled(page: Page, button: string, reasonId: string): Promise<void> {
  await until(page, `document.querySelector(${JSON.stringify(button)}) !== null && !document.querySelector(${JSON.stringify(button)}).disabled`);
  assert.equal(await page.locator(`#${reasonId}`).count(), 0, `no reason beside ${button}`);
}

for (const dbKind of await databases()) {
  describe(`admin portal: list paging, API permissions, audit paging and buttons disabled ahead of time (${dbKind})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    const tokens: Record<string, string> = {};
    let self: { id: string; appId: string; sp: string };

    const call = async (who: string, method: string, path: string, body?: unknown): Promise<Res> => {
      const res = await fetch(`${server.origin}${path}`, { method, headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const t = await res.text();
      return { status: res.status, body: t ? (JSON.parse(t) as Res['body']) : {} };
    };
    const ok = async (method: string, path: string, body?: unknown) => {
      const r = await call('admin', method, path, body);
      assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
      return r.body;
    };
    const requiredAccess = async (id: string) => (await ok('GET', `/v1.0/applications/${id}`)).requiredResourceAccess;
    const portal = (upn: string, password: string, start: string) => openPortal(browser, server.origin, `${upn}@${server.tenantDomain}`, password, { start });

    before(async () => {
      server = await startTestServer(dbKind);
      browser = await launchBrowser();
      await consentNativeAppToGraph(server);
      tokens.admin = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, ADMIN_PASSWORD);
      for (const [who, role] of [['useradmin', 'User Administrator'], ['appadmin', 'Application Administrator'], ['privroleadmin', 'Privileged Role Administrator']] as const) {
        await createUser(server.store.db, { tenantId: server.tenantId, upn: `${who}@${server.tenantDomain}`, displayName: role, password: PASSWORD, roles: [role] });
        tokens[who] = await delegatedGraphToken(server, `${who}@${server.tenantDomain}`, PASSWORD);
      }
      for (const name of [...PAGER_APPS].reverse()) await ok('POST', '/v1.0/applications', { displayName: name });
      // an API exposing its own scope, asking for Microsoft Graph's User.Read
      const app = await ok('POST', '/v1.0/applications', {
        displayName: 'Self API',
        identifierUris: ['api://self-api'],
        api: { oauth2PermissionScopes: [{ id: ITEMS_READ, value: 'Items.Read', type: 'Admin', isEnabled: true, adminConsentDisplayName: 'Read items', adminConsentDescription: 'Reads the items.' }] },
        requiredResourceAccess: [{ resourceAppId: GRAPH_APP_ID, resourceAccess: [{ id: USER_READ_SCOPE, type: 'Scope' }] }],
      });
      const sp = await ok('POST', '/v1.0/servicePrincipals', { appId: app.appId });
      self = { id: app.id as string, appId: app.appId as string, sp: sp.id as string };
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('app registrations: the list is paged 10 at a time and searched by the start of the name', async () => {
      const { page, close } = await portal('admin', ADMIN_PASSWORD, '/admin/apps');
      try {
        await until(page, "document.querySelectorAll('#appsTable tbody tr').length === 10");
        await enabled(page, '#newRegistration', 'newRegistrationReason');
        assert.equal(await text(page, '#appsPageNumber'), 'Page 1');
        assert.equal(await page.isDisabled('#appsPrevPage'), true);
        const first = await appNames(page);
        await page.click('#appsNextPage');
        await until(page, "document.querySelector('#appsPageNumber')?.textContent === 'Page 2' && document.querySelectorAll('#appsTable tbody tr').length === 8");
        assert.equal(await page.isDisabled('#appsNextPage'), true);
        assert.deepEqual([...first, ...(await appNames(page))].sort(), [...SEEDED_APPS, ...PAGER_APPS, 'Self API'].sort());
        await page.click('#appsPrevPage');
        await until(page, "document.querySelector('#appsPageNumber')?.textContent === 'Page 1' && document.querySelectorAll('#appsTable tbody tr').length === 10");
        assert.deepEqual(await appNames(page), first);

        await page.fill('#appSearch', 'Pager app');
        await page.click('#appSearchButton');
        await until(page, "document.querySelectorAll('#appsTable tbody tr').length === 10 && [...document.querySelectorAll('#appsTable tbody tr td:first-child')].every((c) => c.textContent.startsWith('Pager app'))");
        const searched = await appNames(page);
        await page.click('#appsNextPage');
        await until(page, "document.querySelector('#appsPageNumber')?.textContent === 'Page 2' && document.querySelectorAll('#appsTable tbody tr').length === 2");
        assert.deepEqual([...searched, ...(await appNames(page))].sort(), PAGER_APPS);
        await shot(page, 'apps-search-page-2');
        await noSeriousViolations(page, 'the second page of a search of app registrations');
        // a new search starts again at its first page
        await page.fill('#appSearch', 'Self');
        await page.click('#appSearchButton');
        await until(page, "document.querySelector('#appsPageNumber')?.textContent === 'Page 1' && document.querySelectorAll('#appsTable tbody tr').length === 1");
        assert.deepEqual(await appNames(page), ['Self API']);
        await page.fill('#appSearch', 'No such app');
        await page.click('#appSearchButton');
        await page.waitForSelector('#noApps');
        assert.equal(await page.locator('#appsTable tbody tr').count(), 0);
        assert.equal(await page.isDisabled('#appsNextPage'), true);
      } finally {
        await close();
      }
    });

    test("API permissions: Cancel adds nothing; the app's own scope added and consented; Remove takes Graph's User.Read off requiredResourceAccess", async () => {
      const { page, close } = await portal('admin', ADMIN_PASSWORD, `/admin/apps/${self.id}/permissions`);
      const rows = () => page.locator('#permissionsTable tbody tr').evaluateAll((trs) => trs.map((r) => [r.getAttribute('data-permission'), r.children[1]!.textContent, r.children[2]!.getAttribute('data-status')]));
      try {
        await until(page, "document.querySelectorAll('#permissionsTable tbody tr').length === 1");
        await enabled(page, '#addPermission', 'updateAppReason');
        await enabled(page, '#grantConsent', 'grantConsentRightReason');
        assert.equal(await page.locator('#readOnlyApp').count(), 0);
        const before = await requiredAccess(self.id);
        assert.deepEqual(before, [{ resourceAppId: GRAPH_APP_ID, resourceAccess: [{ id: USER_READ_SCOPE, type: 'Scope' }] }]);

        // Cancel: the choice is dropped
        await page.click('#addPermission');
        await page.waitForSelector('[id="perm-Group.Read.All"]');
        await page.check('[id="perm-Group.Read.All"]');
        await page.click('#cancelPermissionsButton');
        await page.waitForSelector('#addPermissionDialog', { state: 'detached' });
        assert.deepEqual(await requiredAccess(self.id), before, 'Cancel changed nothing');
        assert.deepEqual(await rows(), [['Microsoft Graph/User.Read', 'Delegated', 'not-granted']]);
        await settledAxe(page, 'the API permissions after Cancel');

        // the app's own exposed scope
        await page.click('#addPermission');
        await page.waitForSelector('#permissionApi');
        await page.selectOption('#permissionApi', self.appId);
        await page.waitForSelector('[id="perm-Items.Read"]');
        await page.check('[id="perm-Items.Read"]');
        await shot(page, 'add-own-scope');
        await noSeriousViolations(page, "the request API permissions panel on the app's own API");
        await page.click('#addPermissionsButton');
        await page.waitForSelector('#addPermissionDialog', { state: 'detached' });
        await until(page, "document.querySelectorAll('#permissionsTable tbody tr').length === 2");
        assert.deepEqual(await rows(), [
          ['Microsoft Graph/User.Read', 'Delegated', 'not-granted'],
          ['Self API/Items.Read', 'Delegated', 'not-granted'],
        ]);

        // Remove User.Read
        await page.click('[id="removePermission-User.Read"]');
        await until(page, "document.querySelectorAll('#permissionsTable tbody tr').length === 1");
        assert.deepEqual(await rows(), [['Self API/Items.Read', 'Delegated', 'not-granted']]);
        assert.deepEqual(await requiredAccess(self.id), [{ resourceAppId: self.appId, resourceAccess: [{ id: ITEMS_READ, type: 'Scope' }] }]);

        // consent to it: a tenant-wide grant from the app's service principal to itself
        await page.click('#grantConsent');
        await page.waitForSelector('#grantConsentDialog');
        await page.click('#grantConsentDialog-confirm');
        await page.waitForSelector('#grantConsentDialog', { state: 'detached' });
        await until(page, "document.querySelector('#permissionsTable [data-status]')?.getAttribute('data-status') === 'granted'");
        const grants = (await ok('GET', `/v1.0/servicePrincipals/${self.sp}/oauth2PermissionGrants`)).value as { clientId: string; resourceId: string; consentType: string; scope: string }[];
        assert.deepEqual(grants.map((g) => [g.clientId, g.resourceId, g.consentType, g.scope]), [[self.sp, self.sp, 'AllPrincipals', 'Items.Read']]);
        await shot(page, 'own-scope-granted');
        await settledAxe(page, "the API permissions with the app's own scope granted");
      } finally {
        await close();
      }
    });

    test('audit logs: paged 20 at a time, Previous back to the same rows; Reset clears every filter and its refusal', async () => {
      const admin = (await findUserByUpn(server.store.db, server.tenantId, `admin@${server.tenantDomain}`))!;
      const t0 = Date.now() - 86_400_000;
      const names = Array.from({ length: 25 }, (_, i) => `Pager activity ${String(i + 1).padStart(2, '0')}`);
      for (const [i, activity] of names.entries()) {
        await writeAudit(server.store.db, server.tenantId, { activity, category: 'Policy', service: 'Latchkey', operationType: 'Other', actor: { kind: 'user', id: admin.id, displayName: admin.display_name, upn: admin.upn, roles: [], scopes: [] }, at: t0 + i * 1000 });
      }
      const { page, close } = await portal('admin', ADMIN_PASSWORD, '/admin/audit');
      try {
        await page.waitForSelector('#auditTable tbody tr');
        await page.fill('#filterActivity', 'Pager activity');
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#auditTable tbody tr').length === 20 && document.querySelector('#auditTable tbody tr').getAttribute('data-activity') === 'Pager activity 25'");
        const first = await rowsOf(page, '#auditTable', 'data-activity');
        assert.deepEqual(first, [...names].reverse().slice(0, 20), 'newest first');
        assert.equal(await page.isDisabled('#prevPage'), true);
        await page.click('#nextPage');
        await until(page, "document.querySelector('#pageNumber')?.textContent === 'Page 2' && document.querySelectorAll('#auditTable tbody tr').length === 5");
        assert.deepEqual(await rowsOf(page, '#auditTable', 'data-activity'), ['Pager activity 05', 'Pager activity 04', 'Pager activity 03', 'Pager activity 02', 'Pager activity 01']);
        assert.equal(await page.isDisabled('#nextPage'), true);
        await shot(page, 'audit-page-2');
        await noSeriousViolations(page, 'the second page of audit records');
        await page.click('#prevPage');
        await until(page, "document.querySelector('#pageNumber')?.textContent === 'Page 1' && document.querySelectorAll('#auditTable tbody tr').length === 20");
        assert.deepEqual(await rowsOf(page, '#auditTable', 'data-activity'), first);

        // more filters, a refused range, then Reset: every field empty, the refusal gone, the whole log from page 1
        await page.click('#nextPage');
        await until(page, "document.querySelector('#pageNumber')?.textContent === 'Page 2'");
        await page.selectOption('#filterCategory', 'Policy');
        await page.fill('#filterInitiatedBy', `admin@${server.tenantDomain}`);
        await page.fill('#filterFrom', '2026-03-02T10:00');
        await page.fill('#filterTo', '2026-03-01T10:00');
        await page.click('#applyFilters');
        await until(page, "document.querySelector('#filterTo')?.getAttribute('aria-invalid') === 'true'");
        await page.click('#resetFilters');
        await until(page, "document.querySelector('#filterTo')?.getAttribute('aria-invalid') !== 'true' && document.querySelector('#pageNumber')?.textContent === 'Page 1' && document.querySelectorAll('#auditTable tbody tr').length === 20");
        const fields = await page.evaluate("['filterActivity', 'filterCategory', 'filterInitiatedBy', 'filterTarget', 'filterFrom', 'filterTo'].map((id) => document.getElementById(id).value)");
        assert.deepEqual(fields, ['', '', '', '', '', '']);
        // the whole log, newest (by when it was written) first: the 25 records above, then those of the setup's writes
        assert.deepEqual(await rowsOf(page, '#auditTable', 'data-activity'), first);
        await page.click('#nextPage');
        await until(page, "document.querySelector('#pageNumber')?.textContent === 'Page 2' && document.querySelectorAll('#auditTable tbody tr').length === 20");
        const second = await rowsOf(page, '#auditTable', 'data-activity');
        assert.deepEqual(second.slice(0, 5), ['Pager activity 05', 'Pager activity 04', 'Pager activity 03', 'Pager activity 02', 'Pager activity 01']);
        assert.ok(second.slice(5).includes('Add application'), `records the filter left out are back: ${second.join(', ')}`);
        await shot(page, 'audit-reset');
        await noSeriousViolations(page, 'the audit logs after Reset');
      } finally {
        await close();
      }
    });

    test("a User Administrator: a plain group's buttons enabled, a role-assignable group's disabled with the server's reason, which Graph gives for the same writes", async () => {
      const plain = await ok('POST', '/v1.0/groups', { displayName: 'Plain team', mailNickname: 'plain-team', mailEnabled: false, securityEnabled: true });
      const roleGroup = await ok('POST', '/v1.0/groups', { displayName: 'Role team', mailNickname: 'role-team', mailEnabled: false, securityEnabled: true, isAssignableToRole: true });
      const bob = (await findUserByUpn(server.store.db, server.tenantId, `bob@${server.tenantDomain}`))!;
      const why = (what: string) => `Insufficient privileges to complete the operation: ${what} needs one of the directory roles Privileged Role Administrator, Global Administrator.`;

      // a Global Administrator: enabled
      const ga = await portal('admin', ADMIN_PASSWORD, `/admin/groups/${roleGroup.id as string}`);
      try {
        await ga.page.waitForSelector('#noMembers');
        await enabled(ga.page, '#deleteGroup', 'deleteGroupReason');
        await enabled(ga.page, '#addMember', 'membersReason');
        await ga.page.click('#nav-roles');
        await ga.page.click(`#rolesTable tr[data-id="${GLOBAL_ADMIN_ROLE}"] a`);
        await ga.page.waitForSelector('#assignmentsTable');
        await enabled(ga.page, '#addAssignment', 'assignReason');
        await enabled(ga.page, '#assignmentsTable .removeAssignment', 'assignReason');
      } finally {
        await ga.close();
      }

      const { page, close } = await portal('useradmin', PASSWORD, '/admin/groups');
      try {
        await page.waitForSelector('#groupsTable');
        await enabled(page, '#newGroup', 'newGroupReason');
        await page.click('#newGroup');
        await page.waitForSelector('#roleAssignableReason');
        assert.equal(await text(page, '#roleAssignableReason'), why('creating a role-assignable group'));
        assert.equal(await page.isDisabled('#groupRoleAssignable'), true);
        assert.match((await page.getAttribute('#groupRoleAssignable', 'aria-describedby')) ?? '', /\broleAssignableReason\b/);
        await enabled(page, '#createGroup', 'createGroupReason');
        await shot(page, 'useradmin-new-group');
        await noSeriousViolations(page, 'the new group form of a User Administrator');

        await page.goto(`${server.origin}/admin/groups/${plain.id as string}`);
        await page.waitForSelector('#noMembers');
        await enabled(page, '#deleteGroup', 'deleteGroupReason');
        await enabled(page, '#addMember', 'membersReason');

        await page.goto(`${server.origin}/admin/groups/${roleGroup.id as string}`);
        await page.waitForSelector('#noMembers');
        await disabledWith(page, '#deleteGroup', 'deleteGroupReason', why('deleting a role-assignable group'));
        await disabledWith(page, '#addMember', 'membersReason', why('changing the members of a role-assignable group'));
        await shot(page, 'useradmin-role-assignable-group');
        await noSeriousViolations(page, 'a role-assignable group seen by a User Administrator');
        await page.setViewportSize({ width: 390, height: 800 });
        await until(page, 'document.documentElement.scrollWidth <= 390');
        await shot(page, 'useradmin-role-assignable-group-phone');
      } finally {
        await close();
      }
      const refusal = (r: Res) => [r.status, r.body.error?.message];
      assert.deepEqual(refusal(await call('useradmin', 'DELETE', `/v1.0/groups/${roleGroup.id as string}`)), [403, why('deleting a role-assignable group')]);
      assert.deepEqual(refusal(await call('useradmin', 'POST', `/v1.0/groups/${roleGroup.id as string}/members/$ref`, { '@odata.id': `${server.origin}/v1.0/directoryObjects/${bob.id}` })), [403, why('changing the members of a role-assignable group')]);
      assert.deepEqual(refusal(await call('useradmin', 'POST', '/v1.0/groups', { displayName: 'UA role team', mailNickname: 'ua-role-team', mailEnabled: false, securityEnabled: true, isAssignableToRole: true })), [403, why('creating a role-assignable group')]);
      assert.equal((await ok('GET', `/v1.0/groups/${roleGroup.id as string}`)).displayName, 'Role team', 'the group is still there');
      assert.deepEqual((await ok('GET', `/v1.0/groups/${roleGroup.id as string}/members`)).value, []);
      assert.deepEqual((await ok('GET', "/v1.0/groups?$filter=displayName eq 'UA role team'")).value, []);
    });

    test('a Privileged Role Administrator: New group makes a role-assignable group only (the box ticked and fixed, the reason beside it), then manages it', async () => {
      const plainWhy = 'Insufficient privileges to complete the operation: creating groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.';
      const { page, close } = await portal('privroleadmin', PASSWORD, '/admin/groups');
      try {
        await page.waitForSelector('#groupsTable');
        await enabled(page, '#newGroup', 'newGroupReason');
        await page.click('#newGroup');
        await page.waitForSelector('#roleAssignableReason');
        assert.equal(await text(page, '#roleAssignableReason'), plainWhy);
        assert.deepEqual([await page.isChecked('#groupRoleAssignable'), await page.isDisabled('#groupRoleAssignable')], [true, true]);
        assert.match((await page.getAttribute('#groupRoleAssignable', 'aria-describedby')) ?? '', /\broleAssignableReason\b/);
        await enabled(page, '#createGroup', 'createGroupReason');
        await noSeriousViolations(page, 'the new group form of a Privileged Role Administrator');
        await page.fill('#groupName', 'Tier 0 operators');
        await page.fill('#groupMailNickname', 'tier0-operators');
        await page.click('#createGroup');
        await page.waitForSelector('#noMembers');
        const id = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
        const made = await ok('GET', `/v1.0/groups/${id}?$select=displayName,isAssignableToRole`);
        assert.deepEqual([made.displayName, made.isAssignableToRole], ['Tier 0 operators', true]);
        await enabled(page, '#deleteGroup', 'deleteGroupReason');
        await enabled(page, '#addMember', 'membersReason');
        await shot(page, 'privroleadmin-role-assignable-group');
      } finally {
        await close();
      }
    });

    test("an Application Administrator may consent to another API's application permissions but not to Microsoft Graph's: that button disabled with the server's reason", async () => {
      const graphDaemon = await ok('POST', '/v1.0/applications', { displayName: 'Graph daemon', requiredResourceAccess: [{ resourceAppId: GRAPH_APP_ID, resourceAccess: [{ id: USER_READ_ALL_ROLE, type: 'Role' }] }] });
      const apiSp = await ok('GET', `/v1.0/servicePrincipals(appId='${DEMO.apiAppId}')`);
      const dataRead = (apiSp.appRoles as { id: string }[])[0]!.id;
      const apiDaemon = await ok('POST', '/v1.0/applications', { displayName: 'API daemon', requiredResourceAccess: [{ resourceAppId: DEMO.apiAppId, resourceAccess: [{ id: dataRead, type: 'Role' }] }] });
      const graphDaemonSp = await ok('POST', '/v1.0/servicePrincipals', { appId: graphDaemon.appId });
      const graphSp = await ok('GET', `/v1.0/servicePrincipals(appId='${GRAPH_APP_ID}')`);
      const why = "Insufficient privileges to complete the operation: granting Microsoft Graph's application permissions needs one of the directory roles Global Administrator, Privileged Role Administrator.";

      const { page, close } = await portal('appadmin', PASSWORD, `/admin/apps/${graphDaemon.id as string}/permissions`);
      try {
        await page.waitForSelector('#permissionsTable');
        await disabledWith(page, '#grantConsent', 'grantConsentRightReason', why);
        await enabled(page, '#addPermission', 'updateAppReason');
        await shot(page, 'appadmin-graph-consent');
        await page.setViewportSize({ width: 390, height: 800 });
        await until(page, 'document.documentElement.scrollWidth <= 390');
        await shot(page, 'appadmin-graph-consent-phone');
        await page.setViewportSize({ width: 1280, height: 800 });
        await noSeriousViolations(page, "the API permissions of an app asking Graph's application permissions, seen by an Application Administrator");

        await page.goto(`${server.origin}/admin/apps/${apiDaemon.id as string}/permissions`);
        await page.waitForSelector('#permissionsTable');
        await enabled(page, '#grantConsent', 'grantConsentRightReason');
        await page.click('#grantConsent');
        await page.click('#grantConsentDialog-confirm');
        await page.waitForSelector('#grantConsentDialog', { state: 'detached' });
        await until(page, "document.querySelector('#permissionsTable [data-status]')?.getAttribute('data-status') === 'granted'");
      } finally {
        await close();
      }
      const sp = await ok('GET', `/v1.0/servicePrincipals(appId='${apiDaemon.appId as string}')`);
      const assigned = (await ok('GET', `/v1.0/servicePrincipals/${sp.id as string}/appRoleAssignments`)).value as { resourceId: string; appRoleId: string }[];
      assert.deepEqual(assigned.map((a) => [a.resourceId, a.appRoleId]), [[apiSp.id, dataRead]]);
      const r = await call('appadmin', 'POST', `/v1.0/servicePrincipals/${graphDaemonSp.id as string}/appRoleAssignments`, { principalId: graphDaemonSp.id, resourceId: graphSp.id, appRoleId: USER_READ_ALL_ROLE });
      assert.deepEqual([r.status, r.body.error?.message], [403, why]);
      assert.deepEqual((await ok('GET', `/v1.0/servicePrincipals/${graphDaemonSp.id as string}/appRoleAssignments`)).value, [], 'nothing granted');
    });
  });
}

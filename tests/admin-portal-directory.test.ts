// The admin portal's directory pages in real Chromium, driven through the pages: sign-in logs (filters by
// user and status, the failure's AADSTS code in the details pane, a filter value the server refuses shown
// at its field), audit logs (the group creation done through the portal, its initiator, target and
// modified properties), groups (create with bad input refused at the field, members added and removed,
// delete), directory roles (assign and remove, the last Global Administrator kept with the server's
// message), what a Helpdesk Administrator is refused (its buttons disabled with the server's reason), and
// the pages at phone width.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_PORTAL_APP_ID } from '../src/admin-portal/app-registration.js';
import { ALL_ROLES, ROLE_TEMPLATE_IDS } from '../src/admin/roles.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { browserSkipReason, launchBrowser, signInToDemoPortal } from './helpers/browser.js';
import { consentNativeAppToGraph, delegatedGraphToken, token } from './helpers/http-signin.js';
import { ADMIN_PASSWORD, noSeriousViolations, openPortal, shot, until } from './helpers/portal.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const GRAPH_APP = '00000003-0000-0000-c000-000000000000';
const GLOBAL_ADMIN = ROLE_TEMPLATE_IDS['Global Administrator']!;
const HELPDESK_PASSWORD = 'Helpdesk-Password-1!';

/** The text of the validation message of the field holding the control `#id` ('' when none). */
function fieldMessage(page: Page, id: string): Promise<string> {
  return page.evaluate(`document.getElementById(${JSON.stringify(id)})?.closest('.fui-Field')?.querySelector('.fui-Field__validationMessage')?.textContent ?? ''`) as Promise<string>;
}

/** An attribute of every row of a table, in the order shown. */
function rowsOf(page: Page, table: string, attribute: string): Promise<string[]> {
  return page.locator(`${table} tbody tr`).evaluateAll((rows, a) => rows.map((r) => r.getAttribute(a) ?? ''), attribute);
}

/** The page once a closed dialog or pane has given it back to assistive technology (no aria-hidden left on it). */
async function pageSettled(page: Page): Promise<Page> {
  await until(page, "!document.getElementById('root').hasAttribute('aria-hidden')", 5000);
  return page;
}

const noHorizontalScroll = async (page: Page, what: string) => assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 390, `no horizontal scrolling: ${what}`);

for (const db of await databases()) {
  describe(`admin portal: logs, groups and roles (${db})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    let appToken: string;
    let domain: string;

    /** Graph as the Automation app (client credentials): the tests' way to check what the pages did. */
    const graph = async <T>(path: string, status = 200): Promise<T> => {
      const res = await fetch(`${server.origin}/v1.0${path}`, { headers: { authorization: `Bearer ${appToken}` } });
      const text = await res.text();
      assert.equal(res.status, status, text.slice(0, 300));
      return (text ? JSON.parse(text) : undefined) as T;
    };
    const groupMembers = async (groupId: string) => (await graph<{ value: { userPrincipalName: string }[] }>(`/groups/${groupId}/members?$select=userPrincipalName`)).value.map((u) => u.userPrincipalName).sort();
    const rolesOf = async (upn: string) => {
      const u = (await findUserByUpn(server.store.db, server.tenantId, upn))!;
      return (await server.store.db.selectFrom('user_roles').select('role').where('user_id', '=', u.id).orderBy('role').execute()).map((r) => r.role);
    };
    const groupNamed = (name: string) => server.store.db.selectFrom('groups').selectAll().where('tenant_id', '=', server.tenantId).where('display_name', '=', name).executeTakeFirst();
    const portal = (upn: string, password: string, start: string, width = 1280) => openPortal(browser, server.origin, upn, password, { start, width });

    before(async () => {
      server = await startTestServer(db);
      browser = await launchBrowser();
      domain = server.tenantDomain;
      await server.store.db.insertInto('permission_grants').values({ client_app_id: DEMO.automationAppId, resource_app_id: GRAPH_APP, kind: 'application', value: 'Group.Read.All', created_at: Date.now() }).execute();
      appToken = (await token(server, { grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: 'https://graph.microsoft.com/.default' })).body.access_token!;
      await createUser(server.store.db, { tenantId: server.tenantId, upn: `helpdesk@${domain}`, displayName: 'Helpdesk Admin', password: HELPDESK_PASSWORD, roles: ['Helpdesk Administrator'] });
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('sign-in logs: newest first, filtered by user and by status, paged; the failure\'s AADSTS code in the details; a refused filter value at its field', async () => {
      // 23 refusals of an unknown user (data for paging), logged before what follows
      const t0 = Date.now() - 3_600_000;
      for (let i = 0; i < 23; i++) {
        await server.store.db.insertInto('signin_log').values({ tenant_id: server.tenantId, at: t0 + i * 1000, user_id: null, user_name: `pager${i}@${domain}`, app_id: DEMO.webAppId, interactive: 1, status: 'failure', error_code: 50034, reason: null, ip: '192.0.2.7', user_agent: null, aggregate_key: null, amr: null }).execute();
      }

      // bob signs in (the demo portal), then types a wrong password
      const bobContext = await browser.newContext({ ignoreHTTPSErrors: true });
      const bobPage = await bobContext.newPage();
      await signInToDemoPortal(bobPage, server.origin, `bob@${domain}`, DEMO.demoPassword);
      const wrong = await browser.newContext({ ignoreHTTPSErrors: true });
      const wrongPage = await wrong.newPage();
      await wrongPage.goto(`${server.origin}/demo/`);
      await wrongPage.click('#signin');
      await wrongPage.fill('#i0116', `bob@${domain}`);
      await wrongPage.click('#idSIButton9');
      await wrongPage.fill('#i0118', 'Not-Bobs-Password-1');
      await wrongPage.click('#idSIButton9');
      await wrongPage.waitForSelector('#passwordError');
      await Promise.all([bobContext.close(), wrong.close()]);
      const { page, close } = await portal(`admin@${domain}`, ADMIN_PASSWORD, '/admin/sign-ins');
      try {
        await page.waitForSelector('#signInsTable tbody tr');
        assert.equal(new URL(page.url()).pathname, '/admin/sign-ins');
        assert.equal(await page.getAttribute('#nav-signIns', 'aria-current'), 'page');
        const ids = (await rowsOf(page, '#signInsTable', 'data-id')).map(Number);
        assert.equal(ids.length, 20, 'a page of 20');
        assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
        // the newest: the admin's own sign-in to the portal, then bob's failure and success
        assert.deepEqual((await rowsOf(page, '#signInsTable', 'data-upn')).slice(0, 3), [`admin@${domain}`, `bob@${domain}`, `bob@${domain}`]);
        assert.deepEqual((await rowsOf(page, '#signInsTable', 'data-error-code')).slice(0, 3), ['0', '50126', '0']);
        await shot(page, 'sign-ins');
        await noSeriousViolations(page, 'the sign-in logs');

        // paging: 26 rows, 20 then 6
        await page.click('#nextPage');
        await until(page, "document.querySelector('#pageNumber')?.textContent === 'Page 2' && document.querySelectorAll('#signInsTable tbody tr').length === 6");
        assert.equal(await page.isDisabled('#nextPage'), true);
        await page.click('#prevPage');
        await until(page, "document.querySelector('#pageNumber')?.textContent === 'Page 1' && document.querySelectorAll('#signInsTable tbody tr').length === 20");

        // by user: bob's two
        await page.fill('#filterUser', 'bob@');
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#signInsTable tbody tr').length === 2");
        assert.deepEqual(await rowsOf(page, '#signInsTable', 'data-error-code'), ['50126', '0']);
        assert.deepEqual(await rowsOf(page, '#signInsTable', 'data-upn'), [`bob@${domain}`, `bob@${domain}`]);
        // by application too: bob's sign-ins were to the demo portal, none to the admin portal
        await page.fill('#filterApp', DEMO.webAppId);
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#signInsTable tbody tr').length === 2");
        await page.fill('#filterApp', ADMIN_PORTAL_APP_ID);
        await page.click('#applyFilters');
        await page.waitForSelector('#noRows');
        await page.fill('#filterUser', 'admin@');
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#signInsTable tbody tr').length === 1");
        assert.deepEqual(await rowsOf(page, '#signInsTable', 'data-upn'), [`admin@${domain}`]);
        await page.fill('#filterApp', '');
        await page.fill('#filterUser', 'bob@');
        // and by status: the failure only
        await page.selectOption('#filterStatus', 'failure');
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#signInsTable tbody tr').length === 1");
        assert.deepEqual(await rowsOf(page, '#signInsTable', 'data-error-code'), ['50126']);
        await page.selectOption('#filterStatus', 'success');
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#signInsTable tbody tr').length === 1 && document.querySelector('#signInsTable tbody tr').getAttribute('data-error-code') === '0'");

        // the failure's details
        await page.selectOption('#filterStatus', 'failure');
        await page.click('#applyFilters');
        await until(page, "document.querySelector('#signInsTable tbody tr')?.getAttribute('data-error-code') === '50126'");
        await page.click('#signInsTable tbody tr button');
        await page.waitForSelector('#signInDetail');
        assert.equal((await page.textContent('#detailErrorCode'))?.trim(), 'AADSTS50126');
        assert.equal((await page.textContent('#detailFailureReason'))?.trim(), 'Error validating credentials due to invalid username or password.');
        assert.match((await page.textContent('#signInBasic')) ?? '', new RegExp(`Usernamebob@${domain.replace(/\./g, '\\.')}`));
        assert.match((await page.textContent('#detailAuthentication')) ?? '', /Primary authenticationPassword \(Password in the cloud\)NoInvalid username or password/);
        assert.equal((await page.textContent('#detailConditionalAccess'))?.trim(), 'notApplied');
        assert.match((await page.textContent('#detailIp')) ?? '', /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/);
        await shot(page, 'sign-in-detail');
        await noSeriousViolations(page, 'the sign-in details pane');
        await page.click('#closeDetails');
        await page.waitForSelector('#signInDetail', { state: 'detached' });
        await pageSettled(page);
        assert.match((await page.evaluate('document.activeElement?.getAttribute("aria-label")')) as string, /^Details of the sign-in at /, 'the focus back on the row');

        // an error code that is not a number: the server's refusal at the field, no list
        await page.fill('#filterErrorCode', 'abc');
        await page.click('#applyFilters');
        await until(page, "document.querySelector('#filterErrorCode')?.getAttribute('aria-invalid') === 'true'");
        assert.equal(await fieldMessage(page, 'filterErrorCode'), "Invalid filter clause: status/errorCode must be compared with an integer, found 'abc'.");
        assert.equal(await page.locator('#signInsTable').count(), 0);
        await shot(page, 'sign-ins-refused-filter');
        await noSeriousViolations(page, 'a refused filter');
        await page.fill('#filterErrorCode', '50126');
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#signInsTable tbody tr').length === 1");
        assert.equal(await fieldMessage(page, 'filterErrorCode'), '');

        // a date range ending before it starts: refused at the field, the list as it was
        await page.fill('#filterFrom', '2026-03-02T10:00');
        await page.fill('#filterTo', '2026-03-01T10:00');
        await page.click('#applyFilters');
        await until(page, "document.querySelector('#filterTo')?.getAttribute('aria-invalid') === 'true'");
        assert.equal(await fieldMessage(page, 'filterTo'), 'The end of the range must not be before its start.');
        assert.equal(await page.locator('#signInsTable tbody tr').count(), 1);
        // a range that holds nothing
        await page.fill('#filterTo', '2026-03-03T10:00');
        await page.click('#applyFilters');
        await page.waitForSelector('#noRows');
        await page.click('#resetFilters');
        await until(page, "document.querySelectorAll('#signInsTable tbody tr').length === 20");
      } finally {
        await close();
      }
    });

    test('groups: bad input refused at the field with nothing created; create, add and remove members, the audit log\'s record of it, delete', async () => {
      // 11 groups to page through
      for (let i = 1; i <= 11; i++) {
        await server.store.db.insertInto('groups').values({ id: crypto.randomUUID(), tenant_id: server.tenantId, display_name: `Pager group ${String(i).padStart(2, '0')}`, description: null, is_assignable_to_role: 0, created_at: Date.now(), mail_nickname: `pager-group-${i}` }).execute();
      }
      const groupCount = async () => Number((await server.store.db.selectFrom('groups').select((eb) => eb.fn.countAll().as('n')).where('tenant_id', '=', server.tenantId).executeTakeFirstOrThrow()).n);
      const { page, close } = await portal(`admin@${domain}`, ADMIN_PASSWORD, '/admin/groups');
      try {
        await page.waitForSelector('#groupsTable');
        assert.equal(new URL(page.url()).pathname, '/admin/groups');
        await page.fill('#groupSearch', 'pager group');
        await page.click('#groupSearchButton');
        await until(page, "document.querySelectorAll('#groupsTable tbody tr').length === 10 && [...document.querySelectorAll('#groupsTable tbody tr')].every((r) => r.getAttribute('data-name').startsWith('Pager group'))");
        const first = await rowsOf(page, '#groupsTable', 'data-name');
        await page.click('#nextPage');
        await until(page, "document.querySelector('#pageNumber')?.textContent === 'Page 2' && document.querySelectorAll('#groupsTable tbody tr').length === 1");
        const second = await rowsOf(page, '#groupsTable', 'data-name');
        assert.deepEqual([...first, ...second].sort(), Array.from({ length: 11 }, (_, i) => `Pager group ${String(i + 1).padStart(2, '0')}`));
        await shot(page, 'groups');
        await noSeriousViolations(page, 'the groups list');

        // bad input: nothing created
        const before = await groupCount();
        await page.click('#newGroup');
        await page.waitForSelector('#newGroupForm');
        assert.equal(new URL(page.url()).pathname, '/admin/groups/new');
        assert.equal(await page.evaluate('document.activeElement?.id'), 'groupName', 'the focus on the first field');
        await shot(page, 'new-group');
        await noSeriousViolations(page, 'the new group form');
        await page.click('#createGroup');
        await until(page, "document.querySelector('#groupName')?.getAttribute('aria-invalid') === 'true'");
        assert.equal(await fieldMessage(page, 'groupName'), 'Enter a group name.');
        assert.equal(await fieldMessage(page, 'groupMailNickname'), 'Enter a mail nickname.');
        await page.fill('#groupName', 'Portal Team');
        await page.fill('#groupMailNickname', 'portal team');
        await page.click('#createGroup');
        await until(page, "document.querySelector('#groupMailNickname')?.getAttribute('aria-invalid') === 'true' && document.querySelector('#groupName')?.getAttribute('aria-invalid') !== 'true'");
        assert.equal(await fieldMessage(page, 'groupMailNickname'), "Property 'mailNickname' contains a character that is not allowed (spaces, non-ASCII and @()\\[]\";:<>, are not).");
        assert.equal(await fieldMessage(page, 'groupName'), '');
        await shot(page, 'new-group-refused');
        await noSeriousViolations(page, 'the new group form with a refusal');
        assert.equal(await groupCount(), before, 'nothing created');
        assert.equal(await groupNamed('Portal Team'), undefined);

        // created: the group's page
        await page.fill('#groupMailNickname', 'portal-team');
        await page.fill('#groupDescription', 'Made in the portal');
        await page.click('#createGroup');
        await page.waitForSelector('#groupProperties');
        const group = (await groupNamed('Portal Team'))!;
        assert.equal(new URL(page.url()).pathname, `/admin/groups/${group.id}`);
        const viaGraph = await graph<Record<string, unknown>>(`/groups/${group.id}?$select=displayName,mailNickname,description,securityEnabled,mailEnabled`);
        assert.deepEqual({ ...viaGraph, '@odata.context': undefined }, { '@odata.context': undefined, displayName: 'Portal Team', mailNickname: 'portal-team', description: 'Made in the portal', securityEnabled: true, mailEnabled: false });
        await page.waitForSelector('#noMembers');
        await shot(page, 'group');
        await noSeriousViolations(await pageSettled(page), "a group's page");

        // add bob, then alice, through the user picker
        for (const who of ['bob', 'alice']) {
          await page.click('#addMember');
          await page.waitForSelector('#pickerDialog');
          await page.fill('#pickerSearch', who);
          await page.click('#pickerSearchButton');
          await page.waitForSelector(`#pickerResults tr[data-upn="${who}@${domain}"]`);
          if (who === 'bob') {
            await shot(page, 'add-member');
            await noSeriousViolations(page, 'the user picker');
          }
          await page.click(`#pickerResults tr[data-upn="${who}@${domain}"] button`);
          await page.waitForSelector('#pickerDialog', { state: 'detached' });
          await page.waitForSelector(`#membersTable tr[data-upn="${who}@${domain}"]`);
          if (who === 'bob') await noSeriousViolations(await pageSettled(page), 'the group page after the picker closed');
        }
        assert.deepEqual(await groupMembers(group.id), [`alice@${domain}`, `bob@${domain}`]);
        // adding bob again: the server's refusal in the picker, nothing changed
        await page.click('#addMember');
        await page.fill('#pickerSearch', 'bob');
        await page.click('#pickerSearchButton');
        await page.click(`#pickerResults tr[data-upn="bob@${domain}"] button`);
        await page.waitForSelector('#pickerDialog [data-testid="error"]');
        assert.match((await page.textContent('#pickerDialog [data-testid="error"]')) ?? '', /The server refused \(400\).*already exist/);
        await page.click('#pickerClose');
        assert.deepEqual(await groupMembers(group.id), [`alice@${domain}`, `bob@${domain}`]);

        // remove bob
        await page.click(`#membersTable tr[data-upn="bob@${domain}"] button`);
        await page.waitForSelector('#confirmDialog');
        assert.match((await page.textContent('#confirmText')) ?? '', new RegExp(`Remove Bob .*\\(bob@.*\\) from Portal Team\\?`));
        await shot(page, 'remove-member');
        await noSeriousViolations(page, 'the remove member dialog');
        await page.click('#confirmButton');
        await page.waitForSelector('#confirmDialog', { state: 'detached' });
        await page.waitForSelector(`#membersTable tr[data-upn="bob@${domain}"]`, { state: 'detached' });
        assert.deepEqual(await rowsOf(page, '#membersTable', 'data-upn'), [`alice@${domain}`]);
        assert.deepEqual(await groupMembers(group.id), [`alice@${domain}`]);
        await noSeriousViolations(await pageSettled(page), 'the group page after the confirmation closed');

        // the audit log: what the admin did to the group, newest first
        await page.click('#nav-audit');
        await page.waitForSelector('#auditTable tbody tr');
        assert.equal(new URL(page.url()).pathname, '/admin/audit');
        await shot(page, 'audit');
        await noSeriousViolations(page, 'the audit logs');
        await page.fill('#filterInitiatedBy', `admin@${domain}`);
        await page.selectOption('#filterCategory', 'GroupManagement');
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#auditTable tbody tr').length === 4");
        assert.deepEqual(await rowsOf(page, '#auditTable', 'data-activity'), ['Remove member from group', 'Add member to group', 'Add member to group', 'Add group']);
        // the group by its object id: its creation and the membership changes that name it
        await page.fill('#filterInitiatedBy', '');
        await page.fill('#filterTarget', group.id);
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#auditTable tbody tr').length === 4 && document.querySelector('#auditTable tbody tr')?.getAttribute('data-activity') === 'Remove member from group'");
        assert.deepEqual(await rowsOf(page, '#auditTable', 'data-activity'), ['Remove member from group', 'Add member to group', 'Add member to group', 'Add group']);
        await page.fill('#filterInitiatedBy', `admin@${domain}`);
        await page.fill('#filterTarget', 'Portal Team');
        await page.fill('#filterActivity', 'Add g');
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#auditTable tbody tr').length === 1");
        assert.deepEqual(await rowsOf(page, '#auditTable', 'data-activity'), ['Add group']);
        await page.click('#auditTable tbody tr button');
        await page.waitForSelector('#auditDetail');
        assert.equal((await page.textContent('#detailActivity'))?.trim(), 'Add group');
        assert.equal((await page.textContent('#detailInitiatorUpn'))?.trim(), `admin@${domain}`);
        const target = page.locator(`#auditTargets [data-target-id="${group.id}"]`);
        assert.match((await target.textContent()) ?? '', /TypeGroupDisplay namePortal Team/);
        const modified = await target.locator('.modifiedProperties tbody tr').evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
        assert.deepEqual(modified, [
          ['DisplayName', '—', 'Portal Team'],
          ['MailNickname', '—', 'portal-team'],
          ['IsAssignableToRole', '—', 'false'],
        ]);
        await shot(page, 'audit-detail');
        await noSeriousViolations(page, 'the audit details pane');
        await page.click('#closeDetails');
        await page.waitForSelector('#auditDetail', { state: 'detached' });

        // delete the group
        await page.goBack();
        await page.waitForSelector('#deleteGroup');
        await page.click('#deleteGroup');
        await page.waitForSelector('#deleteConfirm');
        assert.equal(await page.evaluate('document.activeElement?.id'), 'confirmDelete', 'the focus on the question');
        await page.click('#cancelDelete');
        await page.waitForSelector('#deleteConfirm', { state: 'detached' });
        await page.click('#deleteGroup');
        await page.waitForSelector('#deleteConfirm');
        await shot(page, 'delete-group');
        await noSeriousViolations(page, 'the delete confirmation');
        await page.click('#confirmDelete');
        await page.waitForURL((u) => u.pathname === '/admin/groups');
        await graph(`/groups/${group.id}`, 404);
        assert.equal(await groupNamed('Portal Team'), undefined);
      } finally {
        await close();
      }
    });

    test('roles: assign and remove a role; removing the last Global Administrator is refused with the server\'s message and nothing changes', async () => {
      const { page, close } = await portal(`admin@${domain}`, ADMIN_PASSWORD, '/admin/roles');
      try {
        await page.waitForSelector('#rolesTable');
        assert.deepEqual((await rowsOf(page, '#rolesTable', 'data-name')).sort(), [...ALL_ROLES].sort());
        await until(page, `document.querySelector('#rolesTable tr[data-id="${GLOBAL_ADMIN}"] td[data-count]')?.getAttribute('data-count') === '1'`);
        await shot(page, 'roles');
        await noSeriousViolations(page, 'the roles list');
        await page.click(`#rolesTable tr[data-id="${GLOBAL_ADMIN}"] a`);
        await page.waitForSelector('#assignmentsTable');
        assert.equal(new URL(page.url()).pathname, `/admin/roles/${GLOBAL_ADMIN}`);
        assert.deepEqual(await rowsOf(page, '#assignmentsTable', 'data-upn'), [`admin@${domain}`]);
        await shot(page, 'role');
        await noSeriousViolations(page, "a role's page");

        // carol becomes a Global Administrator, then is removed
        await page.click('#addAssignment');
        await page.fill('#pickerSearch', 'carol');
        await page.click('#pickerSearchButton');
        await page.click(`#pickerResults tr[data-upn="carol@${domain}"] button`);
        await page.waitForSelector(`#assignmentsTable tr[data-upn="carol@${domain}"]`);
        assert.deepEqual((await rowsOf(page, '#assignmentsTable', 'data-upn')).sort(), [`admin@${domain}`, `carol@${domain}`]);
        assert.deepEqual(await rolesOf(`carol@${domain}`), ['Global Administrator']);
        await page.click(`#assignmentsTable tr[data-upn="carol@${domain}"] button`);
        await page.click('#confirmButton');
        await page.waitForSelector(`#assignmentsTable tr[data-upn="carol@${domain}"]`, { state: 'detached' });
        assert.deepEqual(await rolesOf(`carol@${domain}`), []);

        // the last one
        await page.click(`#assignmentsTable tr[data-upn="admin@${domain}"] button`);
        await page.waitForSelector('#confirmDialog');
        await page.click('#confirmButton');
        await page.waitForSelector('#confirmDialog [data-testid="error"]');
        assert.equal(
          (await page.textContent('#confirmDialog [data-testid="error"]'))?.trim(),
          'The server refused (400)Cannot remove the Global Administrator role from this user: the tenant would be left with no enabled Global Administrator; give the role to another enabled user first.',
        );
        await shot(page, 'last-global-admin');
        await noSeriousViolations(page, 'the refusal to remove the last Global Administrator');
        await page.click('#cancelButton');
        assert.deepEqual(await rolesOf(`admin@${domain}`), ['Global Administrator']);
        assert.deepEqual(await rowsOf(page, '#assignmentsTable', 'data-upn'), [`admin@${domain}`]);
        await page.click('#nav-roles');
        await until(page, `document.querySelector('#rolesTable tr[data-id="${GLOBAL_ADMIN}"] td[data-count]')?.getAttribute('data-count') === '1'`);
      } finally {
        await close();
      }
    });

    test("a Helpdesk Administrator is refused the logs; creating a group, changing members and assigning roles are disabled with the server's reason, which Graph gives for the same writes, and nothing changes", async () => {
      const { page, close } = await portal(`helpdesk@${domain}`, HELPDESK_PASSWORD, '/admin/sign-ins');
      const error = async (scope = '') => {
        await page.waitForSelector(`${scope} [data-testid="error"]`);
        return ((await page.textContent(`${scope} [data-testid="error"]`)) ?? '').trim();
      };
      /** A button disabled ahead of time, described by its reason, which says `reason`. */
      const disabledWith = async (button: string, reasonId: string, reason: string) => {
        await page.waitForSelector(`#${reasonId}`);
        assert.equal(await page.isDisabled(button), true, `${button} disabled`);
        assert.equal(await page.getAttribute(button, 'aria-describedby'), reasonId);
        assert.equal(((await page.textContent(`#${reasonId}`)) ?? '').trim(), reason);
      };
      const GROUPS = 'Insufficient privileges to complete the operation: creating groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.';
      const DELETE = 'Insufficient privileges to complete the operation: deleting groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.';
      const MEMBERS = 'Insufficient privileges to complete the operation: changing group members needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.';
      const ROLES = 'Insufficient privileges to complete the operation: assigning or removing directory roles needs one of the directory roles Privileged Role Administrator, Global Administrator.';
      try {
        assert.match(await error(), /^You do not have accessInsufficient privileges to complete the operation: reading the audit and sign-in logs needs one of the directory roles Global Administrator, Global Reader, Reports Reader/);
        assert.equal(await page.locator('#signInsTable').count(), 0);
        await noSeriousViolations(page, 'the sign-in logs refused');
        await page.click('#nav-audit');
        await until(page, "document.querySelector('#auditTitle') !== null && document.querySelectorAll('[data-testid=\"error\"]').length === 1");
        assert.match(await error(), /reading the audit and sign-in logs needs one of the directory roles/);

        // groups: reading is allowed; New group, Create, Delete group, Add member and Remove are not
        const groupsBefore = await server.store.db.selectFrom('groups').select('id').where('tenant_id', '=', server.tenantId).orderBy('id').execute();
        await page.click('#nav-groups');
        await page.waitForSelector('#groupsTable');
        await disabledWith('#newGroup', 'newGroupReason', GROUPS);
        await shot(page, 'helpdesk-groups');
        await noSeriousViolations(page, 'the groups list of a Helpdesk Administrator');
        await page.goto(`${server.origin}/admin/groups/new`);
        await page.fill('#groupName', 'Helpdesk Group');
        await page.fill('#groupMailNickname', 'helpdesk-group');
        await disabledWith('#createGroup', 'createGroupReason', GROUPS);
        await page.press('#groupMailNickname', 'Enter');
        await shot(page, 'helpdesk-new-group');
        await noSeriousViolations(page, 'the new group form, Create disabled');
        await page.click('#cancelButton');
        await page.waitForSelector('#groupsTable');
        await page.fill('#groupSearch', 'Pager group 01');
        await page.click('#groupSearchButton');
        await page.waitForSelector('#groupsTable tr[data-name="Pager group 01"] a');
        await until(page, "document.querySelectorAll('#groupsTable tbody tr').length === 1");
        await page.click('#groupsTable tr[data-name="Pager group 01"] a');
        await page.waitForSelector('#noMembers');
        const groupId = new URL(page.url()).pathname.split('/').pop()!;
        await disabledWith('#deleteGroup', 'deleteGroupReason', DELETE);
        await disabledWith('#addMember', 'membersReason', MEMBERS);
        await shot(page, 'helpdesk-group');
        await noSeriousViolations(page, "a group's page, its buttons disabled");

        // roles: reading is allowed, assigning and removing are not
        await page.goto(`${server.origin}/admin/roles/${GLOBAL_ADMIN}`);
        await page.waitForSelector(`#assignmentsTable tr[data-upn="admin@${domain}"]`);
        await disabledWith('#addAssignment', 'assignReason', ROLES);
        await disabledWith(`#assignmentsTable tr[data-upn="admin@${domain}"] button`, 'assignReason', ROLES);
        await shot(page, 'helpdesk-assign-role');
        await noSeriousViolations(page, "a role's page, its buttons disabled");

        // Graph refuses the same writes with the Helpdesk Administrator's own token, in the same words
        await consentNativeAppToGraph(server);
        const helpdeskToken = await delegatedGraphToken(server, `helpdesk@${domain}`, HELPDESK_PASSWORD);
        const bob = (await findUserByUpn(server.store.db, server.tenantId, `bob@${domain}`))!;
        const ref = { '@odata.id': `${server.origin}/v1.0/directoryObjects/${bob.id}` };
        const refused = async (method: string, path: string, body?: unknown) => {
          const res = await fetch(`${server.origin}/v1.0${path}`, { method, headers: { authorization: `Bearer ${helpdeskToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
          const json = (await res.json()) as { error: { message: string } };
          return [res.status, json.error.message];
        };
        assert.deepEqual(await refused('POST', '/groups', { displayName: 'Helpdesk Group', mailNickname: 'helpdesk-group', mailEnabled: false, securityEnabled: true }), [403, GROUPS]);
        assert.deepEqual(await refused('DELETE', `/groups/${groupId}`), [403, DELETE]);
        assert.deepEqual(await refused('POST', `/groups/${groupId}/members/$ref`, ref), [403, MEMBERS]);
        assert.deepEqual(await refused('POST', `/directoryRoles/${GLOBAL_ADMIN}/members/$ref`, ref), [403, ROLES]);
        assert.deepEqual(await server.store.db.selectFrom('groups').select('id').where('tenant_id', '=', server.tenantId).orderBy('id').execute(), groupsBefore);
        assert.deepEqual(await groupMembers(groupId), []);
        assert.deepEqual(await rolesOf(`bob@${domain}`), []);
        assert.deepEqual(await rolesOf(`admin@${domain}`), ['Global Administrator']);
      } finally {
        await close();
      }
    });

    test("a group's members and a role's assignments are paged, 10 a page", async () => {
      const db = server.store.db;
      const groupId = crypto.randomUUID();
      await db.insertInto('groups').values({ id: groupId, tenant_id: server.tenantId, display_name: 'Big group', description: null, is_assignable_to_role: 0, created_at: Date.now(), mail_nickname: 'big-group' }).execute();
      const upns: string[] = [];
      for (let i = 1; i <= 11; i++) {
        const upn = `reader${String(i).padStart(2, '0')}@${domain}`;
        const u = await createUser(db, { tenantId: server.tenantId, upn, displayName: `Reader ${String(i).padStart(2, '0')}`, password: 'Reader-Password-1!', roles: ['Directory Readers'] });
        await db.insertInto('group_members').values({ group_id: groupId, user_id: u.id }).execute();
        upns.push(upn);
      }
      const { page, close } = await portal(`admin@${domain}`, ADMIN_PASSWORD, `/admin/groups/${groupId}`);
      try {
        for (const [table, prefix] of [['#membersTable', 'members-'], ['#assignmentsTable', 'assignments-']] as const) {
          if (table === '#assignmentsTable') {
            await page.click('#nav-roles');
            await page.click(`#rolesTable tr[data-id="${ROLE_TEMPLATE_IDS['Directory Readers']}"] a`);
          }
          await until(page, `document.querySelectorAll('${table} tbody tr').length === 10`);
          const first = await rowsOf(page, table, 'data-upn');
          assert.equal(await page.isDisabled(`#${prefix}prevPage`), true);
          await page.click(`#${prefix}nextPage`);
          await until(page, `document.querySelector('#${prefix}pageNumber')?.textContent === 'Page 2' && document.querySelectorAll('${table} tbody tr').length === 1`);
          const second = await rowsOf(page, table, 'data-upn');
          assert.deepEqual([...first, ...second].sort(), upns);
          assert.equal(await page.isDisabled(`#${prefix}nextPage`), true);
          await page.click(`#${prefix}prevPage`);
          await until(page, `document.querySelector('#${prefix}pageNumber')?.textContent === 'Page 1' && document.querySelectorAll('${table} tbody tr').length === 10`);
        }
      } finally {
        await close();
      }
    });

    test('at phone width the log, group and role pages and the details pane stay usable', async () => {
      const { page, close } = await portal(`admin@${domain}`, ADMIN_PASSWORD, '/admin/sign-ins', 390);
      try {
        await page.waitForSelector('#signInsTable tbody tr');
        await noHorizontalScroll(page, 'sign-in logs');
        await shot(page, 'sign-ins-phone');
        await page.click('#signInsTable tbody tr button');
        await page.waitForSelector('#signInDetail');
        await noHorizontalScroll(page, 'the details pane');
        await shot(page, 'sign-in-detail-phone');
        await page.click('#closeDetails');
        await page.click('#nav-audit');
        await page.waitForSelector('#auditTable tbody tr');
        await noHorizontalScroll(page, 'audit logs');
        await page.click('#nav-groups');
        await page.waitForSelector('#groupsTable tbody tr');
        await noHorizontalScroll(page, 'groups');
        await shot(page, 'groups-phone');
        await page.click('#groupsTable tbody tr a');
        await page.waitForSelector('#membersTable, #noMembers');
        await noHorizontalScroll(page, "a group's page");
        await page.click('#nav-roles');
        await page.waitForSelector('#rolesTable');
        await noHorizontalScroll(page, 'roles');
        await page.click(`#rolesTable tr[data-id="${GLOBAL_ADMIN}"] a`);
        await page.waitForSelector('#assignmentsTable');
        await noHorizontalScroll(page, "a role's page");
        await shot(page, 'role-phone');
      } finally {
        await close();
      }
    });
  });
}

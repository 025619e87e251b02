// The admin portal swept as an admin uses it, in Chromium at desk and phone width: a page whose code does
// not load, or a server answer that is not JSON, is shown as a clear message in the page (never a blank
// page, never a parse error); every form dialog of the app registrations pages is used by keyboard alone
// (the focus on its first field, Enter submits and the refusal stands at its field, Escape closes it and
// gives the focus back to the button that opened it); the group's members and the role's assignments
// (one shared table) and the dialogs are kept as screenshots at both widths.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROLE_TEMPLATE_IDS } from '../src/admin/roles.js';
import { DEMO } from '../src/directory/seed.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { ADMIN_PASSWORD, noSeriousViolations, openPortal, shot, until } from './helpers/portal.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const SWEEP_SHOTS = '/tmp/portal-shots';
fs.mkdirSync(SWEEP_SHOTS, { recursive: true });

/** A screenshot kept with the others and under /tmp/portal-shots (looked at by the one who changed the page). */
async function keep(page: Page, name: string): Promise<void> {
  await shot(page, `sweep-${name}`);
  await page.screenshot({ path: path.join(SWEEP_SHOTS, `${name}-${page.viewportSize()!.width}.png`), fullPage: true });
}

const active = (page: Page) => page.evaluate('document.activeElement?.id ?? ""') as Promise<string>;
const fieldMessage = (page: Page, id: string) => page.evaluate(`document.getElementById(${JSON.stringify(id)})?.closest('.fui-Field')?.querySelector('.fui-Field__validationMessage')?.textContent ?? ''`) as Promise<string>;
const noHorizontalScroll = async (page: Page, what: string) => assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 390, `no horizontal scrolling: ${what}`);

for (const db of await databases()) {
  describe(`admin portal sweep (${db})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    const portal = (start: string, width = 1280) => openPortal(browser, server.origin, `admin@${server.tenantDomain}`, ADMIN_PASSWORD, { start, width });

    before(async () => {
      server = await startTestServer(db);
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('a page whose code cannot be loaded is a message in the page, not a blank portal; the header still leads elsewhere', async () => {
      const { page, close } = await portal('/admin/', 390);
      try {
        await page.waitForSelector('#usersTable tbody tr');
        // the app registrations' code, loaded when first opened, is gone (the server was updated, the network dropped)
        await page.route(/\/admin\/assets\/AppsPage-[^/]*\.js$/, (route) => route.abort('internetdisconnected'));
        await page.click('#nav-apps');
        await page.waitForSelector('#pageError');
        assert.match((await page.textContent('#pageError')) ?? '', /^This page could not be shownFailed to fetch dynamically imported module: .*\/admin\/assets\/AppsPage-[^/]*\.js\. Reload the page, or choose another page above\.Reload$/);
        assert.equal(await page.isVisible('#nav-users'), true, 'the header is still there');
        await keep(page, 'page-error');
        await noSeriousViolations(page, 'a page that could not be loaded');
        await noHorizontalScroll(page, 'a page that could not be loaded');
        // another page is shown as usual
        await page.click('#nav-users');
        await page.waitForSelector('#usersTable tbody tr');
        assert.equal(await page.locator('#pageError').count(), 0);
      } finally {
        await close();
      }
    });

    test('a server answer that is not JSON (a proxy\'s error page), or a refusal worded outside Graph\'s shape, is shown as a sentence', async () => {
      const { page, close } = await portal('/admin/', 1280);
      try {
        await page.waitForSelector('#usersTable tbody tr');
        await page.route('**/v1.0/groups?*', (route) => route.fulfill({ status: 502, contentType: 'text/html', body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }));
        await page.click('#nav-groups');
        await page.waitForSelector('[data-testid="error"]');
        assert.equal(await page.textContent('[data-testid="error"]'), "The server refused (502)The server answered 502 (Bad Gateway) without saying why. Try again; if it persists, the server's log says more.");
        await keep(page, 'proxy-error');
        await page.unroute('**/v1.0/groups?*');

        await page.route('**/v1.0/roleManagement/directory/roleDefinitions*', (route) => route.fulfill({ status: 400, contentType: 'application/json', body: JSON.stringify({ statusCode: 400, error: 'Bad Request', message: 'The request body is not valid JSON.' }) }));
        await page.click('#nav-roles');
        await until(page, `document.querySelector('[data-testid="error"]')?.textContent?.includes('(400)')`);
        assert.equal(await page.textContent('[data-testid="error"]'), 'The server refused (400)The request body is not valid JSON.');
      } finally {
        await close();
      }
    });

    test("a user's authentication methods: Add authentication method and the policy by keyboard, Escape giving the focus back to the button", async () => {
      const alice = await server.store.db.selectFrom('users').select('id').where('upn', '=', `alice@${server.tenantDomain}`).executeTakeFirstOrThrow();
      const { page, close } = await portal(`/admin/users/${alice.id}/authentication-methods`, 390);
      try {
        for (const [opener, first] of [
          ['action-createTap', 'addMethodType'],
          ['action-viewMethodsPolicy', 'policyClose'],
        ] as const) {
          await page.waitForSelector(`#${opener}:not([disabled])`);
          await page.focus(`#${opener}`);
          await page.keyboard.press('Enter');
          await page.waitForSelector('[role="dialog"]');
          await until(page, `document.activeElement?.id === ${JSON.stringify(first)}`, 5000);
          if (opener === 'action-createTap') {
            await page.waitForSelector('#addMethodNext:not([disabled])'); // the policy's limits read
            await page.fill('#tapLifetime', '5');
            await page.keyboard.press('Enter');
            await until(page, "document.getElementById('tapLifetime')?.getAttribute('aria-invalid') === 'true'", 5000);
            assert.equal(await fieldMessage(page, 'tapLifetime'), "Enter a lifetime from 10 to 43200 minutes (the authentication methods policy's Temporary Access Pass settings).");
            await keep(page, 'dialog-addMethod');
            await noHorizontalScroll(page, 'Add authentication method');
          } else {
            await page.waitForSelector('#methodsPolicyTable');
            await keep(page, 'dialog-methodsPolicy');
            await noHorizontalScroll(page, 'the methods policy');
          }
          await page.keyboard.press('Escape');
          await page.waitForSelector('[role="dialog"]', { state: 'detached' });
          await until(page, `document.activeElement?.id === ${JSON.stringify(opener)}`, 5000).catch(async () => assert.fail(`the focus back on #${opener} after Escape, not on "${await active(page)}"`));
          await until(page, "!document.getElementById('root').hasAttribute('aria-hidden')", 5000);
        }
        // Add authentication method → Next: preview (another dialog takes its place) → Escape: the focus goes
        // back to the button that opened the first
        await page.focus('#action-createTap');
        await page.keyboard.press('Enter');
        await page.waitForSelector('#addMethodNext:not([disabled])');
        await page.click('#addMethodNext');
        await page.waitForSelector('#addMethodNext', { state: 'detached' });
        await page.waitForSelector('[role="alertdialog"], [role="dialog"]');
        await page.keyboard.press('Escape');
        await page.waitForSelector('[role="alertdialog"], [role="dialog"]', { state: 'detached' });
        await until(page, "document.activeElement?.id === 'action-createTap'", 5000).catch(async () => assert.fail(`the focus back on #action-createTap after the preview, not on "${await active(page)}"`));
      } finally {
        await close();
      }
    });

    for (const width of [1280, 390]) {
      test(`the app registrations' form dialogs by keyboard alone, at ${width} px`, async () => {
        const { page, close } = await portal(`/admin/apps/${await objectIdOf(DEMO.apiAppId)}/roles`, width);
        try {
          const dialogs: { section: string; opener: string; dialog: string; first: string; field: string; message: string }[] = [
            { section: 'roles', opener: 'addRole', dialog: 'addRoleDialog', first: 'roleDisplayName', field: 'roleDisplayName', message: 'Enter a display name.' },
            { section: 'expose', opener: 'addScope', dialog: 'addScopeDialog', first: 'scopeValue', field: 'scopeDisplayName', message: 'Enter the admin consent display name.' },
            { section: 'secrets', opener: 'newSecret', dialog: 'newSecretDialog', first: 'secretDescription', field: 'secretDescription', message: 'The description is at most 256 characters.' },
          ];
          for (const d of dialogs) {
            await page.click(`#section-${d.section}`);
            await page.waitForSelector(`#${d.opener}:not([disabled])`);
            // every row shows as many cells as the header (a column hidden at phone width is hidden in both)
            const table = { roles: 'rolesTable', expose: 'scopesTable', secrets: 'secretsTable' }[d.section];
            const shown = (await page.evaluate(`(() => { const t = document.getElementById(${JSON.stringify(table)}); if (!t) return null; const vis = (cells) => [...cells].filter((c) => getComputedStyle(c).display !== 'none').length; return [vis(t.querySelectorAll('thead th')), ...[...t.querySelectorAll('tbody tr')].map((r) => vis(r.querySelectorAll('td')))]; })()`)) as number[] | null;
            if (d.section !== 'roles') assert.ok(shown && shown.length > 1, `#${table} has rows`);
            if (shown) assert.deepEqual(shown, shown.map(() => shown[0]), `#${table} at ${width} px: visible cells per row, header first`);
            await page.focus(`#${d.opener}`);
            await page.keyboard.press('Enter');
            await page.waitForSelector(`#${d.dialog}`);
            await until(page, `document.activeElement?.id === ${JSON.stringify(d.first)}`, 5000);
            if (d.section === 'secrets') await page.keyboard.type('x'.repeat(257));
            await page.keyboard.press('Enter');
            await until(page, `document.getElementById(${JSON.stringify(d.field)})?.getAttribute('aria-invalid') === 'true'`, 5000);
            assert.equal(await fieldMessage(page, d.field), d.message);
            await keep(page, `dialog-${d.dialog}`);
            await noSeriousViolations(page, d.dialog);
            if (width === 390) await noHorizontalScroll(page, d.dialog);
            await page.keyboard.press('Escape');
            await page.waitForSelector(`#${d.dialog}`, { state: 'detached' });
            await until(page, `document.activeElement?.id === ${JSON.stringify(d.opener)}`, 5000).catch(async () => assert.fail(`the focus back on #${d.opener} after Escape in #${d.dialog}, not on "${await active(page)}"`));
          }
          // New registration, from the list
          await page.goto(`${server.origin}/admin/apps`);
          await page.waitForSelector('#newRegistration:not([disabled])');
          await page.focus('#newRegistration');
          await page.keyboard.press('Enter');
          await page.waitForSelector('#newAppDialog');
          await until(page, "document.activeElement?.id === 'newAppName'", 5000);
          await page.keyboard.press('Enter');
          await until(page, "document.getElementById('newAppName')?.getAttribute('aria-invalid') === 'true'", 5000);
          assert.equal(await fieldMessage(page, 'newAppName'), 'Enter a name for the application.');
          await keep(page, 'dialog-newAppDialog');
          await page.keyboard.press('Escape');
          await page.waitForSelector('#newAppDialog', { state: 'detached' });
          await until(page, "document.activeElement?.id === 'newRegistration'", 5000).catch(async () => assert.fail(`the focus back on #newRegistration, not on "${await active(page)}"`));
        } finally {
          await close();
        }
      });

      test(`the group's members and the role's assignments (one table) at ${width} px`, async () => {
        const { page, close } = await portal('/admin/groups/new', width);
        try {
          await page.waitForSelector('#groupName');
          await page.fill('#groupName', `Sweep ${width}`);
          await page.fill('#groupMailNickname', `sweep${width}`);
          await page.click('#createGroup');
          await page.waitForSelector('#groupTitle');
          await page.waitForSelector('#noMembers');
          assert.equal(await page.textContent('#noMembers'), 'This group has no members.');
          await page.click('#addMember');
          await page.waitForSelector('#pickerDialog');
          await page.fill('#pickerSearch', 'alice');
          await page.keyboard.press('Enter');
          await page.click('#pickerResults button[aria-label="Add Alice Example"]');
          await page.waitForSelector('#pickerDialog', { state: 'detached' });
          await until(page, "document.querySelectorAll('#membersTable tbody tr').length === 1");
          assert.deepEqual(await page.locator('#membersTable tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-upn'))), [`alice@${server.tenantDomain}`]);
          assert.equal(await active(page), 'addMember', 'the focus back on Add member');
          await keep(page, 'group-members');
          await noSeriousViolations(page, 'the group page');
          if (width === 390) await noHorizontalScroll(page, 'the group page');
          await page.click('.removeMember');
          await page.waitForSelector('#confirmDialog');
          assert.equal(await page.textContent('#confirmText'), `Remove Alice Example (alice@${server.tenantDomain}) from Sweep ${width}?`);
          await page.keyboard.press('Escape');
          await page.waitForSelector('#confirmDialog', { state: 'detached' });

          await page.goto(`${server.origin}/admin/roles/${ROLE_TEMPLATE_IDS['Global Administrator']}`);
          await page.waitForSelector('#assignmentsTable tbody tr');
          assert.deepEqual(await page.locator('#assignmentsTable tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-upn'))), [`admin@${server.tenantDomain}`]);
          assert.equal(await page.locator('#assignmentsTable thead th').count(), 4);
          // the Action column keeps its heading for screen readers on a phone too (axe: empty-table-header)
          assert.equal(await page.evaluate("document.querySelector('#assignmentsTable thead th:last-child').innerText.trim()"), 'Action');
          await keep(page, 'role-assignments');
          await noSeriousViolations(page, 'the role page');
          if (width === 390) await noHorizontalScroll(page, 'the role page');
          await page.click('.removeAssignment');
          await page.waitForSelector('#confirmDialog');
          assert.equal(await page.textContent('#confirmText'), `Remove the Global Administrator role from Global Administrator (admin@${server.tenantDomain})?`);
          await page.click('#confirmButton');
          await page.waitForSelector('#confirmDialog [data-testid="error"]');
          assert.equal(await page.textContent('#confirmDialog [data-testid="error"]'), 'The server refused (400)Cannot remove the Global Administrator role from this user: the tenant would be left with no enabled Global Administrator; give the role to another enabled user first.');
          await keep(page, 'role-last-admin');
          await page.click('#cancelButton');
          await page.waitForSelector('#confirmDialog', { state: 'detached' });
        } finally {
          await close();
        }
      });
    }

    /** The object id of an application, by its client id. */
    async function objectIdOf(appId: string): Promise<string> {
      const row = await server.store.db.selectFrom('apps').select('object_id').where('id', '=', appId).executeTakeFirstOrThrow();
      return row.object_id;
    }
  });
}

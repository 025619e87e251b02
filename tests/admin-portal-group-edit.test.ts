// Editing a group's properties in the admin portal, in real Chromium: Edit properties opens a form with the
// group's name and description (found by their labels, the focus on the first); Save is disabled until
// something changes; a blank name is refused at its field before any call, a name the server refuses
// (too long) at its field with the server's words, a group deleted meanwhile above the buttons, and none
// changes anything; a saved edit shows on the page, in Graph and in the audit log (Update group, with only
// what changed). A Helpdesk Administrator, and a Groups Administrator on a role-assignable group, see Edit
// disabled with the server's reason, which Graph gives for the same PATCH. Usable at phone width.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../src/directory/users.js';
import { browserSkipReason, launchBrowser } from './helpers/browser.js';
import { consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { ADMIN_PASSWORD, noSeriousViolations, openPortal, shot, until } from './helpers/portal.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const PASSWORD = 'Group-Edit-Password-1';
const why = (what: string, roles: string) => `Insufficient privileges to complete the operation: ${what} needs one of the directory roles ${roles}.`;
const PLAIN_REASON = why('updating groups', 'Groups Administrator, User Administrator, Global Administrator');
const ROLE_ASSIGNABLE_REASON = why('updating a role-assignable group', 'Privileged Role Administrator, Global Administrator');

const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? '').trim();

/** The text of the validation message of the field holding the control `#id` ('' when none). */
function fieldMessage(page: Page, id: string): Promise<string> {
  return page.evaluate(`document.getElementById(${JSON.stringify(id)})?.closest('.fui-Field')?.querySelector('.fui-Field__validationMessage')?.textContent ?? ''`) as Promise<string>;
}

/** The page once a closed dialog has given it back to assistive technology. */
async function settled(page: Page): Promise<Page> {
  await until(page, "!document.getElementById('root').hasAttribute('aria-hidden')", 5_000);
  return page;
}

for (const dbKind of await databases()) {
  describe(`admin portal: editing a group's properties (${dbKind})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    const tokens: Record<string, string> = {};

    const graph = async (who: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.origin}/v1.0${path}`, { method, headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const t = await res.text();
      return { status: res.status, body: (t ? JSON.parse(t) : {}) as Record<string, unknown> & { error?: { code: string; message: string } } };
    };
    const groupViaGraph = async (id: string) => {
      const r = await graph('admin', 'GET', `/groups/${id}?$select=displayName,description,mailNickname`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return { displayName: r.body.displayName, description: r.body.description, mailNickname: r.body.mailNickname };
    };
    const newGroup = async (name: string, description: string | null, roleAssignable = false) => {
      const id = crypto.randomUUID();
      await server.store.db.insertInto('groups').values({ id, tenant_id: server.tenantId, display_name: name, description, is_assignable_to_role: roleAssignable ? 1 : 0, created_at: Date.now(), mail_nickname: `g-${id.slice(0, 8)}` }).execute();
      return id;
    };
    const updates = async (id: string) =>
      (await server.store.db.selectFrom('audit_log').select(['activity', 'modified']).where('tenant_id', '=', server.tenantId).where('target_id', '=', id).where('activity', '=', 'Update group').orderBy('id').execute()).map((r) => JSON.parse(r.modified) as unknown);
    const portal = (upn: string, password: string, start: string, width = 1280) => openPortal(browser, server.origin, `${upn}@${server.tenantDomain}`, password, { start, width });

    before(async () => {
      server = await startTestServer(dbKind);
      browser = await launchBrowser();
      await consentNativeAppToGraph(server);
      tokens.admin = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, ADMIN_PASSWORD);
      for (const [who, role] of [['helpdesk', 'Helpdesk Administrator'], ['groupsadmin', 'Groups Administrator']] as const) {
        await createUser(server.store.db, { tenantId: server.tenantId, upn: `${who}@${server.tenantDomain}`, displayName: role, password: PASSWORD, roles: [role] });
        tokens[who] = await delegatedGraphToken(server, `${who}@${server.tenantDomain}`, PASSWORD);
      }
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('edit name and description: refusals at their field change nothing; Save shows the new values on the page, in Graph and in the audit log', async () => {
      const id = await newGroup('Editable team', 'Before the edit');
      const { page, close } = await portal('admin', ADMIN_PASSWORD, `/admin/groups/${id}`);
      try {
        await page.waitForSelector('#groupProperties');
        await until(page, "document.querySelector('#editGroup') !== null && !document.querySelector('#editGroup').disabled");
        assert.equal(await page.locator('#updateGroupReason').count(), 0, 'no reason beside Edit');
        await page.getByRole('button', { name: 'Edit properties' }).click();
        const dialog = page.getByRole('dialog', { name: 'Edit group properties' });
        await dialog.waitFor();
        const name = dialog.getByLabel('Group name');
        const description = dialog.getByLabel('Description');
        const save = dialog.getByRole('button', { name: 'Save' });
        // prefilled, the focus on the first field, Save disabled while nothing changed
        assert.equal(await name.inputValue(), 'Editable team');
        assert.equal(await description.inputValue(), 'Before the edit');
        await until(page, "document.activeElement?.id === 'editGroupName'");
        assert.equal(await save.isDisabled(), true, 'Save disabled: nothing changed');
        await name.fill('  Editable team  ');
        assert.equal(await save.isDisabled(), true, 'Save disabled: only blanks around the name');
        await shot(page, 'group-edit');
        await noSeriousViolations(page, 'the edit group dialog');

        // a blank name: refused at its field, nothing sent
        await name.fill('   ');
        assert.equal(await save.isDisabled(), false);
        await save.click();
        await until(page, "document.querySelector('#editGroupName')?.getAttribute('aria-invalid') === 'true'");
        assert.equal(await fieldMessage(page, 'editGroupName'), 'Enter a group name.');

        // a name the server refuses: its message at the field, nothing changed
        await name.fill('x'.repeat(257));
        await save.click();
        await until(page, `document.querySelector('#editGroupName')?.closest('.fui-Field')?.querySelector('.fui-Field__validationMessage')?.textContent?.startsWith("Property 'displayName'") === true`);
        assert.equal(await fieldMessage(page, 'editGroupName'), "Property 'displayName' is too long or contains a character that is not allowed.");
        assert.equal(await dialog.locator('[data-testid="error"]').count(), 0, 'the refusal is the field\'s, not the form\'s');
        assert.equal(await save.isDisabled(), false, 'Save usable again');
        await shot(page, 'group-edit-refused');
        await noSeriousViolations(page, 'the edit group dialog with a refusal');
        assert.deepEqual(await groupViaGraph(id), { displayName: 'Editable team', description: 'Before the edit', mailNickname: `g-${id.slice(0, 8)}` });
        assert.deepEqual(await updates(id), [], 'no Update group audited');

        // Cancel: nothing changed, the dialog gone, the focus back on Edit
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        await dialog.waitFor({ state: 'detached' });
        await until(page, "document.activeElement?.id === 'editGroup'");
        assert.equal(await text(page, '#groupTitle'), 'Editable team');

        // saved: the page, Graph and the audit log show the new values
        await page.getByRole('button', { name: 'Edit properties' }).click();
        await dialog.waitFor();
        assert.equal(await name.inputValue(), 'Editable team', 'a fresh form');
        await name.fill('Edited team');
        await description.fill('After the edit');
        await save.click();
        await dialog.waitFor({ state: 'detached' });
        assert.equal(await text(page, '#groupTitle'), 'Edited team');
        assert.equal(await text(page, '#groupDescriptionValue'), 'After the edit');
        assert.equal(await text(page, '#groupSaved'), 'Saved.');
        await until(page, "document.activeElement?.id === 'editGroup'");
        assert.deepEqual(await groupViaGraph(id), { displayName: 'Edited team', description: 'After the edit', mailNickname: `g-${id.slice(0, 8)}` });
        assert.deepEqual(await updates(id), [
          [
            { displayName: 'DisplayName', oldValue: 'Editable team', newValue: 'Edited team' },
            { displayName: 'Description', oldValue: 'Before the edit', newValue: 'After the edit' },
          ],
        ]);
        await shot(page, 'group-edited');
        await noSeriousViolations(await settled(page), 'the group page after saving');

        // the description emptied: only it is sent, and removed
        await page.getByRole('button', { name: 'Edit properties' }).click();
        await dialog.waitFor();
        await description.fill('');
        await save.click();
        await dialog.waitFor({ state: 'detached' });
        assert.equal(await text(page, '#groupDescriptionValue'), '—');
        assert.deepEqual(await groupViaGraph(id), { displayName: 'Edited team', description: null, mailNickname: `g-${id.slice(0, 8)}` });
        assert.deepEqual((await updates(id))[1], [{ displayName: 'Description', oldValue: 'After the edit', newValue: null }]);

        // the audit log's page: the update, by the admin, with what changed
        await page.click('#nav-audit');
        await page.waitForSelector('#auditTable');
        await page.fill('#filterTarget', id);
        await page.fill('#filterActivity', 'Update group');
        await page.click('#applyFilters');
        await until(page, "document.querySelectorAll('#auditTable tbody tr').length === 2");
        assert.deepEqual(await page.locator('#auditTable tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-activity'))), ['Update group', 'Update group']);
        await page.locator('#auditTable tbody tr').nth(1).locator('button').click();
        await page.waitForSelector('#auditDetail');
        assert.equal(await text(page, '#detailInitiatorUpn'), `admin@${server.tenantDomain}`);
        const modified = await page.locator(`#auditTargets [data-target-id="${id}"] .modifiedProperties tbody tr`).evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((c) => c.textContent)));
        assert.deepEqual(modified, [
          ['DisplayName', 'Editable team', 'Edited team'],
          ['Description', 'Before the edit', 'After the edit'],
        ]);
      } finally {
        await close();
      }
    });

    test('a group deleted while its form is open: the server\'s refusal above the buttons, the form kept', async () => {
      const id = await newGroup('Soon gone', null);
      const { page, close } = await portal('admin', ADMIN_PASSWORD, `/admin/groups/${id}`);
      try {
        await page.waitForSelector('#groupProperties');
        await until(page, "document.querySelector('#editGroup') !== null && !document.querySelector('#editGroup').disabled");
        await page.click('#editGroup');
        const dialog = page.getByRole('dialog', { name: 'Edit group properties' });
        await dialog.waitFor();
        assert.equal(await dialog.getByLabel('Description').inputValue(), '');
        await dialog.getByLabel('Description').fill('Never saved');
        assert.equal((await graph('admin', 'DELETE', `/groups/${id}`)).status, 204);
        await dialog.getByRole('button', { name: 'Save' }).click();
        await dialog.locator('[data-testid="error"]').waitFor();
        assert.equal(await text(page, '#editGroupDialog [data-testid="error"]'), `The server refused (404)Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
        assert.equal(await dialog.getByLabel('Description').inputValue(), 'Never saved', 'what was typed is kept');
        await noSeriousViolations(page, 'the edit group dialog with a refusal above the buttons');
        assert.deepEqual(await updates(id), []);
      } finally {
        await close();
      }
    });

    test("without the right, Edit is disabled with the server's reason, and Graph refuses the same PATCH in the same words", async () => {
      const plain = await newGroup('Plain team', null);
      const roleAssignable = await newGroup('Tier 0 team', null, true);
      const disabledWith = async (page: Page, reason: string) => {
        await page.waitForSelector('#updateGroupReason');
        assert.equal(await page.getByRole('button', { name: 'Edit properties' }).isDisabled(), true, 'Edit disabled');
        assert.equal(await page.getAttribute('#editGroup', 'aria-describedby'), 'updateGroupReason');
        assert.equal(await text(page, '#updateGroupReason'), reason);
      };
      const helpdesk = await portal('helpdesk', PASSWORD, `/admin/groups/${plain}`);
      try {
        await helpdesk.page.waitForSelector('#groupProperties');
        await disabledWith(helpdesk.page, PLAIN_REASON);
        await shot(helpdesk.page, 'helpdesk-group-edit');
        await noSeriousViolations(helpdesk.page, "a group's page, Edit disabled");
      } finally {
        await helpdesk.close();
      }
      const groupsAdmin = await portal('groupsadmin', PASSWORD, `/admin/groups/${roleAssignable}`);
      try {
        await groupsAdmin.page.waitForSelector('#groupProperties');
        await disabledWith(groupsAdmin.page, ROLE_ASSIGNABLE_REASON);
        await groupsAdmin.page.goto(`${server.origin}/admin/groups/${plain}`);
        await groupsAdmin.page.waitForSelector('#groupProperties');
        await until(groupsAdmin.page, "document.querySelector('#editGroup') !== null && !document.querySelector('#editGroup').disabled");
        assert.equal(await groupsAdmin.page.locator('#updateGroupReason').count(), 0);
      } finally {
        await groupsAdmin.close();
      }
      const refusal = async (who: string, id: string) => {
        const r = await graph(who, 'PATCH', `/groups/${id}`, { displayName: 'Taken over' });
        return [r.status, r.body.error?.message];
      };
      assert.deepEqual(await refusal('helpdesk', plain), [403, PLAIN_REASON]);
      assert.deepEqual(await refusal('groupsadmin', roleAssignable), [403, ROLE_ASSIGNABLE_REASON]);
      assert.equal((await groupViaGraph(plain)).displayName, 'Plain team');
      assert.equal((await groupViaGraph(roleAssignable)).displayName, 'Tier 0 team');
      assert.deepEqual([...(await updates(plain)), ...(await updates(roleAssignable))], []);
    });

    test('at phone width the group page and its edit form fit the screen', async () => {
      const id = await newGroup('A group with a rather long name for a phone screen', 'A description long enough to wrap onto a second line on a narrow screen.');
      const { page, close } = await portal('admin', ADMIN_PASSWORD, `/admin/groups/${id}`, 390);
      try {
        await page.waitForSelector('#groupProperties');
        await until(page, "document.querySelector('#editGroup') !== null && !document.querySelector('#editGroup').disabled");
        assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 390, 'no horizontal scrolling: the group page');
        await page.click('#editGroup');
        const dialog = page.getByRole('dialog', { name: 'Edit group properties' });
        await dialog.waitFor();
        const box = (await page.locator('#editGroupDialog').boundingBox())!;
        assert.ok(box.x >= 0 && box.x + box.width <= 390, `the dialog within the screen: ${JSON.stringify(box)}`);
        for (const field of ['#editGroupName', '#editGroupDescription', '#saveGroup', '#cancelEditGroup']) {
          const b = (await page.locator(field).boundingBox())!;
          assert.ok(b.x >= box.x && b.x + b.width <= box.x + box.width, `${field} within the dialog`);
        }
        assert.ok(((await page.evaluate('document.documentElement.scrollWidth')) as number) <= 390, 'no horizontal scrolling: the edit form');
        await shot(page, 'group-edit-phone');
        await dialog.getByLabel('Group name').fill('Renamed on a phone');
        await dialog.getByRole('button', { name: 'Save' }).click();
        await dialog.waitFor({ state: 'detached' });
        assert.equal(await text(page, '#groupTitle'), 'Renamed on a phone');
      } finally {
        await close();
      }
    });
  });
}

// Two guards on the Graph writes that are admin actions: an app-only caller with User.ReadWrite.All alone
// cannot change any property of a user holding a directory role (D24), and no path leaves the tenant
// without an enabled Global Administrator (delete, disable, role removal by either Graph shape, the
// command-line action, and two concurrent disables).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as disableAccount from '../src/admin/actions/disable-account.js';
import { ActionError } from '../src/admin/action.js';
import { GRAPH_APP_ID } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { appGraphToken } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const PW = 'Guard-Test-Password-77';

for (const dbKind of await databases()) {
  describe(`Graph admin guards (${dbKind})`, () => {
    let server: TestServer;
    let appToken: string; // Automation: User.ReadWrite.All, RoleManagement.ReadWrite.Directory, ...
    const g = (path: string, init: RequestInit = {}) => fetch(`${server.origin}/v1.0${path}`, { ...init, headers: { authorization: `Bearer ${appToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    const patch = (upn: string, body: unknown) => g(`/users/${upn}`, { method: 'PATCH', body: JSON.stringify(body) });
    const errorOf = async (res: Response) => ({ status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code });
    const appRole = async (role: string | null) => {
      await server.store.db.deleteFrom('app_directory_roles').where('app_id', '=', DEMO.automationAppId).execute();
      if (role) await server.store.db.insertInto('app_directory_roles').values({ app_id: DEMO.automationAppId, role }).execute();
    };
    const admin = () => findUserByUpn(server.store.db, server.tenantId, 'admin@contoso.test');
    const auditCount = async () => Number((await server.store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    before(async () => {
      server = await startTestServer(dbKind);
      await server.store.db.insertInto('permission_grants').values({ client_app_id: DEMO.automationAppId, resource_app_id: GRAPH_APP_ID, kind: 'application', value: 'RoleManagement.ReadWrite.Directory', created_at: Date.now() }).execute();
      appToken = await appGraphToken(server, DEMO.automationAppId, 'automation-secret-value');
    });
    after(async () => {
      await server?.close();
    });

    test('D24: User.ReadWrite.All alone changes no property of a Global Administrator; a covering directory role does', async () => {
      await appRole(null);
      const before = await admin();
      const audits = await auditCount();
      const tries: [string, unknown][] = [
        ['mail', 'attacker@evil.example'],
        ['otherMails', ['attacker@evil.example']],
        ['mobilePhone', '+1 555 0100'],
        ['businessPhones', ['+1 555 0101']],
        ['userPrincipalName', 'admin2@contoso.test'],
        ['displayName', 'Not The Admin'],
      ];
      for (const [property, value] of tries) {
        assert.deepEqual(await errorOf(await patch('admin@contoso.test', { [property]: value })), { status: 403, code: 'Authorization_RequestDenied' }, property);
      }
      assert.deepEqual(await admin(), before, 'nothing was written');
      assert.equal(await auditCount(), audits);

      // a plain user: the permission is enough
      assert.equal((await patch('alice@contoso.test', { mail: 'alice.new@contoso.test' })).status, 204);
      assert.equal((await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'))!.mail, 'alice.new@contoso.test');

      // a role that does not cover a Global Administrator is not enough either
      await appRole('User Administrator');
      assert.deepEqual(await errorOf(await patch('admin@contoso.test', { mail: 'attacker@evil.example' })), { status: 403, code: 'Authorization_RequestDenied' });

      // Privileged Authentication Administrator covers every target
      await appRole('Privileged Authentication Administrator');
      assert.equal((await patch('admin@contoso.test', { mail: 'admin.new@contoso.test' })).status, 204);
      assert.equal((await patch('admin@contoso.test', { displayName: 'Admin Renamed' })).status, 204);
      assert.equal((await patch('admin@contoso.test', { userPrincipalName: 'admin2@contoso.test' })).status, 204);
      assert.equal((await patch('admin2@contoso.test', { userPrincipalName: 'admin@contoso.test' })).status, 204);
      // Latchkey does not store these: authorized, then refused
      assert.deepEqual(await errorOf(await patch('admin@contoso.test', { otherMails: ['a@contoso.test'] })), { status: 400, code: 'Request_BadRequest' });
      assert.deepEqual(await errorOf(await patch('admin@contoso.test', { mobilePhone: '+1 555 0100' })), { status: 400, code: 'Request_BadRequest' });
      assert.deepEqual(await errorOf(await patch('admin@contoso.test', { businessPhones: ['+1 555 0101'] })), { status: 400, code: 'Request_BadRequest' });
      const after = (await admin())!;
      assert.deepEqual([after.mail, after.display_name, after.upn], ['admin.new@contoso.test', 'Admin Renamed', 'admin@contoso.test']);
      const updates = await server.store.db.selectFrom('audit_log').select('activity').where('target_id', '=', after.id).where('activity', '=', 'Update user').execute();
      assert.equal(updates.length, 4, 'one Update user record per applied change');
      await appRole(null);
    });

    test('the last enabled Global Administrator survives every path that would end them', async () => {
      await appRole('Privileged Authentication Administrator');
      const adminId = (await admin())!.id;
      // a second Global Administrator who is disabled does not count
      await createUser(server.store.db, { tenantId: server.tenantId, upn: 'ga2@contoso.test', displayName: 'Second GA', password: PW, roles: ['Global Administrator'], accountEnabled: false });
      const audits = await auditCount();
      const refused = async (res: Promise<Response>, what: string) => {
        const r = await res;
        const body = (await r.json()) as { error: { code: string; message: string } };
        assert.deepEqual({ status: r.status, code: body.error.code }, { status: 400, code: 'Request_BadRequest' }, what);
        assert.match(body.error.message, /no enabled Global Administrator/, what);
      };
      await refused(g('/users/admin@contoso.test', { method: 'DELETE' }), 'delete user');
      await refused(patch('admin@contoso.test', { accountEnabled: false }), 'disable by PATCH');
      await refused(g(`/directoryRoles/${GLOBAL_ADMIN}/members/${adminId}/$ref`, { method: 'DELETE' }), 'role removal by $ref');
      await refused(g(`/roleManagement/directory/roleAssignments/${GLOBAL_ADMIN}_${adminId}`, { method: 'DELETE' }), 'role removal by roleAssignments');
      const system = { kind: 'system', id: 'system', displayName: 'test' } as const;
      const ctx = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
      await assert.rejects(disableAccount.plan(ctx, system, adminId), (e: ActionError) => e.code === 'invalid' && /no enabled Global Administrator/.test(e.message), 'disable by the command-line action');
      const a = (await admin())!;
      assert.equal(a.account_enabled, 1);
      assert.ok(await server.store.db.selectFrom('user_roles').select('role').where('user_id', '=', adminId).where('role', '=', 'Global Administrator').executeTakeFirst());
      assert.equal(await auditCount(), audits, 'no refusal wrote anything');

      // with the second Global Administrator enabled, the role may go from one of them
      await server.store.db.updateTable('users').set({ account_enabled: 1 }).where('upn_lower', '=', 'ga2@contoso.test').execute();
      assert.equal((await g(`/directoryRoles/${GLOBAL_ADMIN}/members/ga2@contoso.test/$ref`, { method: 'DELETE' })).status, 204);
      await server.store.db.insertInto('user_roles').values({ user_id: (await findUserByUpn(server.store.db, server.tenantId, 'ga2@contoso.test'))!.id, role: 'Global Administrator' }).execute();

      // two concurrent disables of the two enabled Global Administrators: exactly one is applied
      const results = await Promise.all([patch('admin@contoso.test', { accountEnabled: false }), patch('ga2@contoso.test', { accountEnabled: false })]);
      assert.deepEqual(results.map((r) => r.status).sort(), [204, 400]);
      const enabled = await server.store.db.selectFrom('users').innerJoin('user_roles', 'user_roles.user_id', 'users.id').select('users.id').where('user_roles.role', '=', 'Global Administrator').where('users.account_enabled', '=', 1).execute();
      assert.equal(enabled.length, 1);
      await server.store.db.updateTable('users').set({ account_enabled: 1 }).execute();
      await appRole(null);
    });
  });
}

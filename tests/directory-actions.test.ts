// GET /latchkey/v1/directory/actions: which directory writes a caller may make, and why not. The function
// behind it against a literal table of directory role → allowed per action (and app-only callers by their
// permission); then over HTTP with real tokens: what a Helpdesk Administrator, a User Administrator, an
// Application Administrator and a Privileged Role Administrator are told, and that Graph refuses the very
// same writes with the very same message (and changes nothing), while a Global Administrator is told every
// write is allowed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Actor } from '../src/admin/actor.js';
import { directoryActions } from '../src/api/directory.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser } from '../src/directory/users.js';
import { consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { ADMIN_PASSWORD } from './helpers/portal.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const USER_READ_ALL_ROLE = 'df021288-bdef-4463-88db-98f22de89214'; // Microsoft Graph's User.Read.All (application)
const GLOBAL_ADMIN_ROLE = '62e90394-69f5-4237-9190-012177145e10';
const PASSWORD = 'Directory-Actions-Pw-1';

const ACTIONS = [
  'createGroup',
  'createRoleAssignableGroup',
  'updateGroup',
  'updateRoleAssignableGroup',
  'deleteGroup',
  'deleteRoleAssignableGroup',
  'changeGroupMembers',
  'changeRoleAssignableGroupMembers',
  'assignDirectoryRoles',
  'createApplication',
  'updateApplication',
  'deleteApplication',
  'manageApplicationSecrets',
  'createServicePrincipal',
  'grantDelegatedPermissions',
  'grantApplicationPermissions',
  'grantGraphApplicationPermissions',
] as const;
type Action = (typeof ACTIONS)[number];

const GROUPS: Action[] = ['createGroup', 'updateGroup', 'deleteGroup', 'changeGroupMembers'];
const ROLE_ASSIGNABLE_GROUPS: Action[] = ['createRoleAssignableGroup', 'updateRoleAssignableGroup', 'deleteRoleAssignableGroup', 'changeRoleAssignableGroupMembers'];
const APPS: Action[] = ['createApplication', 'updateApplication', 'deleteApplication', 'manageApplicationSecrets', 'createServicePrincipal'];
const CONSENT: Action[] = ['grantDelegatedPermissions', 'grantApplicationPermissions'];

// Entra's roles (a signed-in admin holding Directory.AccessAsUser.All): what each may do. Groups and User
// Administrators may not write role-assignable groups; a Privileged Role Administrator may, but no plain group.
const BY_ROLE: Record<string, readonly Action[]> = {
  'Global Administrator': ACTIONS,
  'Privileged Role Administrator': [...ROLE_ASSIGNABLE_GROUPS, 'assignDirectoryRoles', ...CONSENT, 'grantGraphApplicationPermissions'],
  'Application Administrator': [...APPS, ...CONSENT],
  'Cloud Application Administrator': [...APPS, ...CONSENT],
  'Groups Administrator': GROUPS,
  'User Administrator': GROUPS,
  'Helpdesk Administrator': [],
  'Global Reader': [],
  '(no role)': [],
};

// app-only callers, by the one Graph application permission they hold
const BY_PERMISSION: Record<string, readonly Action[]> = {
  'Group.Create': ['createGroup'],
  'Group.ReadWrite.All': GROUPS,
  'GroupMember.ReadWrite.All': ['changeGroupMembers'],
  'RoleManagement.ReadWrite.Directory': ['assignDirectoryRoles'],
  'Application.ReadWrite.All': APPS,
  'AppRoleAssignment.ReadWrite.All': ['grantApplicationPermissions', 'grantGraphApplicationPermissions'],
  'DelegatedPermissionGrant.ReadWrite.All': ['grantDelegatedPermissions'],
  'User.Read.All': [],
};

const allowedOf = (actor: Actor) => directoryActions(actor).filter((a) => a.allowed).map((a) => a.name);
const user = (roles: string[], scopes = ['Directory.AccessAsUser.All']): Actor => ({ kind: 'user', id: 'u', displayName: 'U', upn: 'u@example.com', roles: roles.filter((r) => r !== '(no role)'), scopes });

describe('directory actions: who may make each directory write', () => {
  test('the actions, in order', () => {
    assert.deepEqual(directoryActions(user([])).map((a) => a.name), ACTIONS);
  });

  for (const [role, may] of Object.entries(BY_ROLE)) {
    test(`a signed-in ${role} may: ${may.length ? may.join(', ') : 'none'}`, () => {
      assert.deepEqual(allowedOf(user([role])), may);
    });
  }

  test('a Global Administrator whose token lacks a write scope may make no write, told which permission is missing', () => {
    const a = directoryActions(user(['Global Administrator'], ['User.Read', 'Directory.Read.All']));
    assert.deepEqual(a.filter((x) => x.allowed), []);
    assert.deepEqual(a.find((x) => x.name === 'createGroup'), {
      name: 'createGroup',
      summary: 'Create a security group (POST /v1.0/groups).',
      allowed: false,
      reason: 'Insufficient privileges to complete the operation. One of these delegated permissions is required: Group.ReadWrite.All, Directory.ReadWrite.All, Directory.AccessAsUser.All.',
      missingRight: 'Group.ReadWrite.All or Directory.ReadWrite.All or Directory.AccessAsUser.All',
    });
  });

  for (const [permission, may] of Object.entries(BY_PERMISSION)) {
    test(`an app holding ${permission} may: ${may.length ? may.join(', ') : 'none'}`, () => {
      assert.deepEqual(allowedOf({ kind: 'app', id: 'a', displayName: 'A', roles: [], permissions: [permission] }), may);
    });
  }

  test('a role-assignable group needs both rights: an app with Group.ReadWrite.All and RoleManagement.ReadWrite.Directory may write them', () => {
    assert.deepEqual(allowedOf({ kind: 'app', id: 'a', displayName: 'A', roles: [], permissions: ['Group.ReadWrite.All', 'RoleManagement.ReadWrite.Directory'] }), [
      'createGroup',
      'createRoleAssignableGroup',
      'updateGroup',
      'updateRoleAssignableGroup',
      'deleteGroup',
      'deleteRoleAssignableGroup',
      'changeGroupMembers',
      'changeRoleAssignableGroupMembers',
      'assignDirectoryRoles',
    ]);
  });
});

for (const dbKind of await databases()) {
  describe(`GET /latchkey/v1/directory/actions and Graph's own refusals (${dbKind})`, () => {
    let server: TestServer;
    const tokens: Record<string, string> = {};
    let ids: { group: string; roleGroup: string; app: string; appObject: string; clientSp: string; graphSp: string; apiSp: string; apiRole: string; bob: string };

    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.origin}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { error?: { code: string; message: string }; value?: { name: string; allowed: boolean; reason?: string }[] } };
    };
    const rights = async (who: string) => {
      const r = await call(tokens[who]!, 'GET', '/latchkey/v1/directory/actions');
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return new Map(r.body.value!.map((a) => [a.name, a]));
    };
    /** Each directory write as Graph is asked for it by the portal. */
    const WRITES = (): Partial<Record<Action, [string, string, unknown?]>> => ({
      createGroup: ['POST', '/v1.0/groups', { displayName: 'Refused group', mailNickname: 'refused-group', mailEnabled: false, securityEnabled: true }],
      createRoleAssignableGroup: ['POST', '/v1.0/groups', { displayName: 'Refused role group', mailNickname: 'refused-role-group', mailEnabled: false, securityEnabled: true, isAssignableToRole: true }],
      updateGroup: ['PATCH', `/v1.0/groups/${ids.group}`, { description: 'refused' }],
      updateRoleAssignableGroup: ['PATCH', `/v1.0/groups/${ids.roleGroup}`, { description: 'refused' }],
      deleteGroup: ['DELETE', `/v1.0/groups/${ids.group}`],
      deleteRoleAssignableGroup: ['DELETE', `/v1.0/groups/${ids.roleGroup}`],
      changeGroupMembers: ['POST', `/v1.0/groups/${ids.group}/members/$ref`, { '@odata.id': `${server.origin}/v1.0/directoryObjects/${ids.bob}` }],
      changeRoleAssignableGroupMembers: ['POST', `/v1.0/groups/${ids.roleGroup}/members/$ref`, { '@odata.id': `${server.origin}/v1.0/directoryObjects/${ids.bob}` }],
      assignDirectoryRoles: ['POST', `/v1.0/directoryRoles/${GLOBAL_ADMIN_ROLE}/members/$ref`, { '@odata.id': `${server.origin}/v1.0/directoryObjects/${ids.bob}` }],
      createApplication: ['POST', '/v1.0/applications', { displayName: 'Refused app' }],
      updateApplication: ['PATCH', `/v1.0/applications/${ids.appObject}`, { displayName: 'Renamed' }],
      deleteApplication: ['DELETE', `/v1.0/applications/${ids.appObject}`],
      manageApplicationSecrets: ['POST', `/v1.0/applications/${ids.appObject}/addPassword`, { passwordCredential: { displayName: 'refused' } }],
      createServicePrincipal: ['POST', '/v1.0/servicePrincipals', { appId: ids.app }],
      grantDelegatedPermissions: ['POST', '/v1.0/oauth2PermissionGrants', { clientId: ids.clientSp, consentType: 'AllPrincipals', resourceId: ids.graphSp, scope: 'User.Read' }],
      grantApplicationPermissions: ['POST', `/v1.0/servicePrincipals/${ids.clientSp}/appRoleAssignments`, { principalId: ids.clientSp, resourceId: ids.apiSp, appRoleId: ids.apiRole }],
      grantGraphApplicationPermissions: ['POST', `/v1.0/servicePrincipals/${ids.clientSp}/appRoleAssignments`, { principalId: ids.clientSp, resourceId: ids.graphSp, appRoleId: USER_READ_ALL_ROLE }],
    });
    /** What Graph holds that any of those writes would change. */
    const snapshot = async () => {
      const db = server.store.db;
      return JSON.stringify([
        await db.selectFrom('groups').selectAll().orderBy('id').execute(),
        await db.selectFrom('group_members').selectAll().orderBy('group_id').orderBy('user_id').execute(),
        await db.selectFrom('user_roles').selectAll().orderBy('user_id').orderBy('role').execute(),
        await db.selectFrom('apps').select(['id', 'display_name']).orderBy('id').execute(),
        await db.selectFrom('service_principals').select('id').orderBy('id').execute(),
        await db.selectFrom('permission_grants').select(['client_app_id', 'resource_app_id', 'kind', 'value']).orderBy('client_app_id').orderBy('resource_app_id').orderBy('value').execute(),
        (await db.selectFrom('audit_log').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n,
      ]);
    };

    before(async () => {
      server = await startTestServer(dbKind);
      await consentNativeAppToGraph(server);
      const domain = server.tenantDomain;
      for (const [who, role] of [['helpdesk', 'Helpdesk Administrator'], ['useradmin', 'User Administrator'], ['appadmin', 'Application Administrator'], ['privroleadmin', 'Privileged Role Administrator']] as const) {
        await createUser(server.store.db, { tenantId: server.tenantId, upn: `${who}@${domain}`, displayName: role, password: PASSWORD, roles: [role] });
        tokens[who] = await delegatedGraphToken(server, `${who}@${domain}`, PASSWORD);
      }
      tokens.admin = await delegatedGraphToken(server, `admin@${domain}`, ADMIN_PASSWORD);
      const admin = (method: string, path: string, body?: unknown) => call(tokens.admin!, method, path, body);
      const group = await admin('POST', '/v1.0/groups', { displayName: 'Plain group', mailNickname: 'plain-group', mailEnabled: false, securityEnabled: true });
      const roleGroup = await admin('POST', '/v1.0/groups', { displayName: 'Role group', mailNickname: 'role-group', mailEnabled: false, securityEnabled: true, isAssignableToRole: true });
      const app = await admin('POST', '/v1.0/applications', { displayName: 'Target app' });
      const clientSp = await admin('POST', '/v1.0/servicePrincipals', { appId: app.body.appId });
      const graphSp = await admin('GET', `/v1.0/servicePrincipals(appId='${GRAPH_APP_ID}')`);
      const apiSp = await admin('GET', `/v1.0/servicePrincipals(appId='${DEMO.apiAppId}')`);
      const bob = await admin('GET', `/v1.0/users/bob@${domain}`);
      assert.deepEqual([group.status, roleGroup.status, app.status, clientSp.status, graphSp.status, apiSp.status, bob.status], [201, 201, 201, 201, 200, 200, 200]);
      ids = {
        group: group.body.id as string,
        roleGroup: roleGroup.body.id as string,
        app: app.body.appId as string,
        appObject: app.body.id as string,
        clientSp: clientSp.body.id as string,
        graphSp: graphSp.body.id as string,
        apiSp: apiSp.body.id as string,
        apiRole: (apiSp.body.appRoles as { id: string }[])[0]!.id,
        bob: bob.body.id as string,
      };
    });
    after(async () => {
      await server?.close();
    });

    test('a Global Administrator is told every directory write is allowed', async () => {
      const r = await rights('admin');
      assert.deepEqual([...r.keys()], ACTIONS);
      assert.deepEqual([...r.values()].filter((a) => !a.allowed), []);
    });

    // who is refused what (literal), and the 403 Graph answers each refused write with, word for word
    const REFUSED: Record<string, Record<Action, string | null>> = {
      helpdesk: {
        createGroup: 'creating groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        createRoleAssignableGroup: 'creating a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        updateGroup: 'updating groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        updateRoleAssignableGroup: 'updating a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        deleteGroup: 'deleting groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        deleteRoleAssignableGroup: 'deleting a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        changeGroupMembers: 'changing group members needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        changeRoleAssignableGroupMembers: 'changing the members of a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        assignDirectoryRoles: 'assigning or removing directory roles needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        createApplication: 'creating applications needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        updateApplication: 'updating applications needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        deleteApplication: 'deleting applications needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        manageApplicationSecrets: 'managing application secrets needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        createServicePrincipal: 'creating and deleting service principals needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        grantDelegatedPermissions: 'granting tenant-wide consent to delegated permissions needs one of the directory roles Global Administrator, Privileged Role Administrator, Application Administrator, Cloud Application Administrator.',
        grantApplicationPermissions: 'granting application permissions needs one of the directory roles Global Administrator, Privileged Role Administrator, Application Administrator, Cloud Application Administrator.',
        // Graph checks the general right first, so this is the refusal a Helpdesk Administrator gets for Graph's too
        grantGraphApplicationPermissions: 'granting application permissions needs one of the directory roles Global Administrator, Privileged Role Administrator, Application Administrator, Cloud Application Administrator.',
      },
      useradmin: {
        createGroup: null,
        createRoleAssignableGroup: 'creating a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        updateGroup: null,
        updateRoleAssignableGroup: 'updating a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        deleteGroup: null,
        deleteRoleAssignableGroup: 'deleting a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        changeGroupMembers: null,
        changeRoleAssignableGroupMembers: 'changing the members of a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        assignDirectoryRoles: 'assigning or removing directory roles needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        createApplication: 'creating applications needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        updateApplication: 'updating applications needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        deleteApplication: 'deleting applications needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        manageApplicationSecrets: 'managing application secrets needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        createServicePrincipal: 'creating and deleting service principals needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        grantDelegatedPermissions: 'granting tenant-wide consent to delegated permissions needs one of the directory roles Global Administrator, Privileged Role Administrator, Application Administrator, Cloud Application Administrator.',
        grantApplicationPermissions: 'granting application permissions needs one of the directory roles Global Administrator, Privileged Role Administrator, Application Administrator, Cloud Application Administrator.',
        grantGraphApplicationPermissions: 'granting application permissions needs one of the directory roles Global Administrator, Privileged Role Administrator, Application Administrator, Cloud Application Administrator.',
      },
      appadmin: {
        createGroup: 'creating groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        createRoleAssignableGroup: 'creating a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        updateGroup: 'updating groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        updateRoleAssignableGroup: 'updating a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        deleteGroup: 'deleting groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        deleteRoleAssignableGroup: 'deleting a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        changeGroupMembers: 'changing group members needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        changeRoleAssignableGroupMembers: 'changing the members of a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        assignDirectoryRoles: 'assigning or removing directory roles needs one of the directory roles Privileged Role Administrator, Global Administrator.',
        createApplication: null,
        updateApplication: null,
        deleteApplication: null,
        manageApplicationSecrets: null,
        createServicePrincipal: null,
        grantDelegatedPermissions: null,
        grantApplicationPermissions: null,
        grantGraphApplicationPermissions: "granting Microsoft Graph's application permissions needs one of the directory roles Global Administrator, Privileged Role Administrator.",
      },
      privroleadmin: {
        createGroup: 'creating groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        createRoleAssignableGroup: null,
        updateGroup: 'updating groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        updateRoleAssignableGroup: null,
        deleteGroup: 'deleting groups needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        deleteRoleAssignableGroup: null,
        changeGroupMembers: 'changing group members needs one of the directory roles Groups Administrator, User Administrator, Global Administrator.',
        changeRoleAssignableGroupMembers: null,
        assignDirectoryRoles: null,
        createApplication: 'creating applications needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        updateApplication: 'updating applications needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        deleteApplication: 'deleting applications needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        manageApplicationSecrets: 'managing application secrets needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        createServicePrincipal: 'creating and deleting service principals needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.',
        grantDelegatedPermissions: null,
        grantApplicationPermissions: null,
        grantGraphApplicationPermissions: null,
      },
    };

    for (const [who, table] of Object.entries(REFUSED)) {
      test(`${who}: told what it may not do and why, and Graph refuses each of those writes with that message, changing nothing`, async () => {
        const r = await rights(who);
        const prefix = 'Insufficient privileges to complete the operation: ';
        assert.deepEqual(
          Object.fromEntries([...r].map(([name, a]) => [name, a.allowed ? null : a.reason])),
          Object.fromEntries(Object.entries(table).map(([name, why]) => [name, why === null ? null : `${prefix}${why}`])),
        );
        const before = await snapshot();
        const writes = WRITES();
        for (const [name, why] of Object.entries(table)) {
          if (why === null) continue;
          const [method, path, body] = writes[name as Action]!;
          const res = await call(tokens[who]!, method, path, body);
          assert.deepEqual([res.status, res.body.error?.code, res.body.error?.message], [403, 'Authorization_RequestDenied', `${prefix}${why}`], `${name}: ${method} ${path}`);
        }
        assert.equal(await snapshot(), before, 'nothing changed');
      });
    }

    test('a query option is refused; no token is a 401', async () => {
      const r = await call(tokens.admin!, 'GET', '/latchkey/v1/directory/actions?$top=1');
      assert.deepEqual([r.status, r.body.error?.code, r.body.error?.message], [400, 'BadRequest', "Query option '$top' is not supported here."]);
      const none = await fetch(`${server.origin}/latchkey/v1/directory/actions`);
      assert.equal(none.status, 401);
    });
  });
}

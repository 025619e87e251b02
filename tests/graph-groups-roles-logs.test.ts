// Graph /groups, /directoryRoles, /roleManagement/directory and /auditLogs over HTTP with Latchkey-issued
// tokens: shapes, filters, paging, refusals naming the missing permission or role, audit records of the
// changes, a role assignment that changes what its holder may do (and makes a pending plan stale), the
// sign-in log after sign-ins and a failed password, and successful refreshes aggregated per grant per
// hour as one non-interactive sign-in (D11).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionError, type ActionContext } from '../src/admin/action.js';
import * as revokeSessions from '../src/admin/actions/revoke-sessions.js';
import { ROLE_TEMPLATE_IDS } from '../src/admin/roles.js';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn, type User } from '../src/directory/users.js';
import { Jar, authorize, pkce, startSignIn, token, type TokenResponse } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const GRAPH = 'https://graph.microsoft.com/.default';
const GRAPH_APP = '00000003-0000-0000-c000-000000000000';
const REDIRECT = 'http://localhost:5999';
const HELPDESK = ROLE_TEMPLATE_IDS['Helpdesk Administrator']!;
const GLOBAL_ADMIN = ROLE_TEMPLATE_IDS['Global Administrator']!;
const REPORTS_READER = ROLE_TEMPLATE_IDS['Reports Reader']!;
const HOUR = 3_600_000;

interface GraphList<T = Record<string, unknown>> {
  '@odata.context': string;
  '@odata.nextLink'?: string;
  value: T[];
}
interface GraphErr {
  error: { code: string; message: string };
}
interface Audit {
  id: string;
  category: string;
  correlationId: string;
  result: string;
  activityDisplayName: string;
  activityDateTime: string;
  loggedByService: string;
  operationType: string;
  initiatedBy: { user: { id: string | null; displayName: string | null; userPrincipalName: string | null } | null; app: { appId: string; displayName: string; servicePrincipalId: string } | null };
  targetResources: { id: string; displayName: string | null; type: string; userPrincipalName: string | null; modifiedProperties: { displayName: string; oldValue: string | null; newValue: string | null }[] }[];
  additionalDetails: unknown[];
}
interface SignIn {
  id: string;
  createdDateTime: string;
  userDisplayName: string | null;
  userPrincipalName: string | null;
  userId: string | null;
  appId: string | null;
  appDisplayName: string | null;
  ipAddress: string | null;
  clientAppUsed: string;
  isInteractive: boolean;
  status: { errorCode: number; failureReason: string | null; additionalDetails: string | null };
  authenticationDetails: { authenticationMethod: string; succeeded: boolean }[];
  conditionalAccessStatus: string;
}

for (const dbKind of await databases()) {
  describe(`Graph groups, directory roles and logs (${dbKind})`, () => {
    let server: TestServer;
    let appToken: string; // Automation: User.ReadWrite.All, AuditLog.Read.All, Group.ReadWrite.All, RoleManagement.ReadWrite.Directory
    let weakAppToken: string; // Demo portal: User.Read.All only
    let admin: TokenResponse['body']; // Global Administrator, delegated (Directory.AccessAsUser.All, AuditLog.Read.All)
    let bobToken: string; // no role, delegated with the same scopes
    let users: Record<'admin' | 'alice' | 'bob' | 'carol', User>;

    const g = (path: string, init: RequestInit & { token?: string } = {}) =>
      fetch(path.startsWith('https://') ? path : `${server.origin}/v1.0${path}`, { ...init, headers: { authorization: `Bearer ${init.token ?? appToken}`, ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) } });
    const json = async <T>(res: Response | Promise<Response>, status = 200): Promise<T> => {
      const r = await res;
      const text = await r.text();
      assert.equal(r.status, status, text.slice(0, 500));
      return (text ? JSON.parse(text) : undefined) as T;
    };
    const refusal = async (res: Promise<Response>, status: number, code: string, mentions: RegExp) => {
      const body = await json<GraphErr>(res, status);
      assert.equal(body.error.code, code);
      assert.match(body.error.message, mentions);
    };
    const q = (s: string) => encodeURIComponent(s);
    const ref = (id: string, kind = 'directoryObjects') => JSON.stringify({ '@odata.id': `https://graph.microsoft.com/v1.0/${kind}/${id}` });

    /** A delegated Graph token for a user through the demo native app (Directory.AccessAsUser.All consent). */
    async function signIn(user: string, password: string = DEMO.demoPassword): Promise<TokenResponse['body']> {
      const p = pkce();
      const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid offline_access https://graph.microsoft.com/Directory.AccessAsUser.All', code_challenge: p.challenge, code_challenge_method: 'S256' }, { user, password });
      const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier, scope: GRAPH });
      assert.ok(t.body.access_token, JSON.stringify(t.body));
      return t.body;
    }

    /** The sign-in pages with a wrong password, once (the page shows the error again). */
    async function wrongPassword(user: string): Promise<void> {
      const jar = new Jar();
      const p = pkce();
      const first = await startSignIn(server, jar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', code_challenge: p.challenge, code_challenge_method: 'S256' });
      const url = first.at;
      let html = first.html;
      for (const [field, value] of [['loginfmt', user], ['passwd', 'Not-The-Password-1']] as const) {
        const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
        const step = /name="step" value="([^"]+)"/.exec(html)![1]!;
        const res = await fetch(url, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, step, [field]: value }), redirect: 'manual' });
        jar.take(res);
        html = await res.text();
        if (field === 'loginfmt') assert.equal(res.status, 200, 'the password page');
        else assert.match(html, /class="error"|incorrect|invalid/i, 'the password page again, with the error');
      }
    }

    before(async () => {
      server = await startTestServer(dbKind);
      const db = server.store.db;
      const now = Date.now();
      for (const value of ['Group.ReadWrite.All', 'RoleManagement.ReadWrite.Directory']) {
        await db.insertInto('permission_grants').values({ client_app_id: DEMO.automationAppId, resource_app_id: GRAPH_APP, kind: 'application', value, created_at: now }).execute();
      }
      for (const value of ['Directory.AccessAsUser.All', 'AuditLog.Read.All']) {
        await db.insertInto('permission_grants').values({ client_app_id: DEMO.nativeAppId, resource_app_id: GRAPH_APP, kind: 'delegated', value, created_at: now }).execute();
      }
      appToken = (await token(server, { grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: GRAPH })).body.access_token!;
      weakAppToken = (await token(server, { grant_type: 'client_credentials', client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', scope: GRAPH })).body.access_token!;
      admin = await signIn(`admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      bobToken = (await signIn(`bob@${server.tenantDomain}`)).access_token!;
      const u = async (n: string) => (await findUserByUpn(db, server.tenantId, `${n}@${server.tenantDomain}`))!;
      users = { admin: await u('admin'), alice: await u('alice'), bob: await u('bob'), carol: await u('carol') };
    });
    after(async () => {
      await server?.close();
    });

    test('groups: create, list with $filter/$select/$top and paging, get, members by $ref, delete; audited', async () => {
      const created: Record<string, unknown>[] = [];
      for (const name of ['Sales Team', 'Sales Leads', 'Support']) {
        created.push(await json(g('/groups', { method: 'POST', body: JSON.stringify({ displayName: name, description: `${name} group`, mailEnabled: false, securityEnabled: true, mailNickname: name.replace(' ', '').toLowerCase() }) }), 201));
      }
      const sales = created[0]!;
      assert.match(sales['@odata.context'] as string, /\/v1\.0\/\$metadata#groups\/\$entity$/);
      assert.equal(sales.displayName, 'Sales Team');
      assert.equal(sales.mailEnabled, false);
      assert.equal(sales.securityEnabled, true);
      assert.equal(sales.mailNickname, 'salesteam');
      assert.equal(sales.isAssignableToRole, false);
      assert.deepEqual(sales.groupTypes, []);
      assert.match(sales.createdDateTime as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

      // filters, $select, $top and paging
      const page1 = await json<GraphList>(g(`/groups?$filter=${q("startsWith(displayName,'sales')")}&$select=id,displayName&$top=1`));
      assert.equal(page1.value.length, 1);
      assert.deepEqual(Object.keys(page1.value[0]!).sort(), ['displayName', 'id']);
      assert.match(page1['@odata.context'], /#groups\(id,displayName\)$/);
      assert.ok(page1['@odata.nextLink']);
      const page2 = await json<GraphList>(g(page1['@odata.nextLink']!));
      assert.equal(page2['@odata.nextLink'], undefined);
      assert.deepEqual([...page1.value, ...page2.value].map((x) => x.displayName).sort(), ['Sales Leads', 'Sales Team']);
      const byName = await json<GraphList>(g(`/groups?$filter=${q("displayName eq 'SUPPORT'")}`));
      assert.deepEqual(byName.value.map((x) => x.id), [created[2]!.id]);
      const byId = await json<GraphList>(g(`/groups?$filter=${q(`id eq '${sales.id as string}'`)}`));
      assert.equal(byId.value.length, 1);
      assert.equal((await json<GraphErr>(g(`/groups?$filter=${q("mail eq 'x'")}`), 400)).error.code, 'BadRequest');
      const one = await json<Record<string, unknown>>(g(`/groups/${sales.id as string}`));
      assert.equal(one.description, 'Sales Team group');
      await refusal(g('/groups/00000000-0000-0000-0000-000000000000'), 404, 'Request_ResourceNotFound', /does not exist/);

      // bad bodies
      for (const body of [{ displayName: 'X', mailEnabled: true, securityEnabled: true, mailNickname: 'x' }, { displayName: 'X', mailEnabled: false, securityEnabled: true }, { displayName: 'X', mailEnabled: false, securityEnabled: true, mailNickname: 'x', visibility: 'Public' }, { displayName: 'X', mailEnabled: false, securityEnabled: true, mailNickname: 'has space' }]) {
        await json(g('/groups', { method: 'POST', body: JSON.stringify(body) }), 400);
      }

      // members: add by a directoryObjects URL and by a users URL, list, duplicate, remove
      const gid = sales.id as string;
      assert.equal((await g(`/groups/${gid}/members/$ref`, { method: 'POST', body: ref(users.alice.id) })).status, 204);
      assert.equal((await g(`/groups/${gid}/members/$ref`, { method: 'POST', body: ref(users.bob.id, 'users') })).status, 204);
      await refusal(g(`/groups/${gid}/members/$ref`, { method: 'POST', body: ref(users.alice.id) }), 400, 'Request_BadRequest', /already exist/);
      await refusal(g(`/groups/${gid}/members/$ref`, { method: 'POST', body: ref('00000000-0000-0000-0000-000000000000') }), 404, 'Request_ResourceNotFound', /does not exist/);
      await json(g(`/groups/${gid}/members/$ref`, { method: 'POST', body: JSON.stringify({ '@odata.id': 'https://example.test/nothing' }) }), 400);
      const members = await json<GraphList>(g(`/groups/${gid}/members?$top=1`));
      assert.equal(members.value.length, 1);
      assert.equal(members.value[0]!['@odata.type'], '#microsoft.graph.user');
      const rest = await json<GraphList>(g(members['@odata.nextLink']!));
      assert.deepEqual([...members.value, ...rest.value].map((m) => m.userPrincipalName).sort(), [users.alice.upn, users.bob.upn]);
      assert.equal((await g(`/groups/${gid}/members/${users.bob.id}/$ref`, { method: 'DELETE' })).status, 204);
      await refusal(g(`/groups/${gid}/members/${users.bob.id}/$ref`, { method: 'DELETE' }), 404, 'Request_ResourceNotFound', /does not exist/);
      assert.deepEqual((await json<GraphList>(g(`/groups/${gid}/members`))).value.map((m) => m.id), [users.alice.id]);

      // delete
      assert.equal((await g(`/groups/${created[1]!.id as string}`, { method: 'DELETE' })).status, 204);
      assert.equal((await g(`/groups/${created[1]!.id as string}`)).status, 404);

      // the audit trail, through Graph
      const adds = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q(`activityDisplayName eq 'Add member to group' and targetResources/any(t: t/id eq '${users.alice.id}')`)}`));
      assert.equal(adds.value.length, 1);
      const add = adds.value[0]!;
      assert.equal(add.category, 'GroupManagement');
      assert.equal(add.loggedByService, 'Core Directory');
      assert.equal(add.result, 'success');
      assert.equal(add.initiatedBy.app?.appId, DEMO.automationAppId);
      assert.equal(add.initiatedBy.user, null);
      assert.deepEqual(add.targetResources.map((t) => [t.type, t.id]), [['User', users.alice.id], ['Group', gid]]);
      assert.equal(add.targetResources[0]!.userPrincipalName, users.alice.upn);
      assert.deepEqual(add.targetResources[0]!.modifiedProperties.find((m) => m.displayName === 'Group.DisplayName'), { displayName: 'Group.DisplayName', oldValue: null, newValue: 'Sales Team' });
      const aboutGroup = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q(`targetResources/any(x:x/id eq '${gid}')`)}`));
      assert.deepEqual(aboutGroup.value.map((a) => a.activityDisplayName), ['Remove member from group', 'Add member to group', 'Add member to group', 'Add group']);
      const deleted = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q(`activityDisplayName eq 'Delete group'`)}`));
      assert.deepEqual(deleted.value.map((a) => [a.targetResources[0]!.type, a.targetResources[0]!.id, a.targetResources[0]!.displayName]), [['Group', created[1]!.id, 'Sales Leads']]);
    });

    test('groups: refusals name the missing permission or role and change nothing', async () => {
      await refusal(g('/groups', { token: weakAppToken }), 403, 'Authorization_RequestDenied', /Group\.Read\.All/);
      const body = JSON.stringify({ displayName: 'Nope', mailEnabled: false, securityEnabled: true, mailNickname: 'nope' });
      await refusal(g('/groups', { method: 'POST', token: weakAppToken, body }), 403, 'Authorization_RequestDenied', /Group\.ReadWrite\.All/);
      await refusal(g('/groups', { method: 'POST', token: bobToken, body }), 403, 'Authorization_RequestDenied', /Groups Administrator/);
      assert.equal((await json<GraphList>(g(`/groups?$filter=${q("displayName eq 'Nope'")}`))).value.length, 0);
      // a delegated Global Administrator may; a role-assignable group needs role-management rights
      const made = await json<{ id: string; isAssignableToRole: boolean }>(g('/groups', { method: 'POST', token: admin.access_token, body: JSON.stringify({ displayName: 'Tier0', mailEnabled: false, securityEnabled: true, mailNickname: 'tier0', isAssignableToRole: true }) }), 201);
      assert.equal(made.isAssignableToRole, true);
      await refusal(g(`/groups/${made.id}`, { method: 'DELETE', token: bobToken }), 403, 'Authorization_RequestDenied', /^Insufficient privileges to complete the operation: deleting a role-assignable group needs one of the directory roles Privileged Role Administrator, Global Administrator\.$/);
      await refusal(g('/groups', { token: 'garbage' }), 401, 'InvalidAuthenticationToken', /./);
    });

    test('directory roles: activated roles, members (users and service principals), RBAC assignments', async () => {
      await server.store.db.insertInto('app_directory_roles').values({ app_id: DEMO.webAppId, role: 'Reports Reader' }).execute();
      const roles = await json<GraphList<{ id: string; displayName: string; roleTemplateId: string; description: string }>>(g('/directoryRoles'));
      assert.match(roles['@odata.context'], /#directoryRoles$/);
      const ga = roles.value.find((r) => r.displayName === 'Global Administrator')!;
      assert.deepEqual([ga.id, ga.roleTemplateId], [GLOBAL_ADMIN, GLOBAL_ADMIN]);
      assert.equal(ga.description, 'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.');
      assert.ok(roles.value.some((r) => r.roleTemplateId === REPORTS_READER), 'a role held by a service principal is activated');
      assert.ok(!roles.value.some((r) => r.roleTemplateId === HELPDESK), 'a role nobody holds is not');
      const gaMembers = await json<GraphList>(g(`/directoryRoles/${GLOBAL_ADMIN}/members`));
      assert.deepEqual(gaMembers.value.map((m) => [m['@odata.type'], m.userPrincipalName]), [['#microsoft.graph.user', users.admin.upn]]);
      const rrMembers = await json<GraphList>(g(`/directoryRoles/${REPORTS_READER}/members`));
      assert.deepEqual(rrMembers.value.map((m) => [m['@odata.type'], m.appId]), [['#microsoft.graph.servicePrincipal', DEMO.webAppId]]);
      // an app holding a directory role may read roles without a role-management permission
      assert.equal((await g('/directoryRoles', { token: weakAppToken })).status, 200);
      await refusal(g('/directoryRoles', { token: (await token(server, { grant_type: 'client_credentials', client_id: DEMO.apiAppId, client_secret: 'demo-api-secret', scope: GRAPH })).body.access_token! }), 403, 'Authorization_RequestDenied', /RoleManagement\.Read\.Directory|Directory\.Read\.All/);

      // add by $ref (delegated Global Administrator), duplicate, remove
      assert.equal((await g(`/directoryRoles/${REPORTS_READER}/members/$ref`, { method: 'POST', token: admin.access_token, body: ref(users.carol.id) })).status, 204);
      await refusal(g(`/directoryRoles/${REPORTS_READER}/members/$ref`, { method: 'POST', token: admin.access_token, body: ref(users.carol.id) }), 400, 'Request_BadRequest', /already exist/);
      const rr = await json<GraphList>(g(`/directoryRoles/${REPORTS_READER}/members`));
      assert.deepEqual(rr.value.map((m) => m.id).sort(), [users.carol.id, DEMO.webAppId].sort());
      const carolAssignments = await json<GraphList<Record<string, unknown>>>(g(`/roleManagement/directory/roleAssignments?$filter=${q(`principalId eq '${users.carol.id}'`)}`));
      assert.deepEqual(carolAssignments.value, [{ id: `${REPORTS_READER}_${users.carol.id}`, principalId: users.carol.id, roleDefinitionId: REPORTS_READER, directoryScopeId: '/', appScopeId: null }]);
      assert.equal((await g(`/directoryRoles/${REPORTS_READER}/members/${users.carol.id}/$ref`, { method: 'DELETE', token: admin.access_token })).status, 204);
      await refusal(g(`/directoryRoles/${REPORTS_READER}/members/${users.carol.id}/$ref`, { method: 'DELETE', token: admin.access_token }), 404, 'Request_ResourceNotFound', /does not exist/);
      await refusal(g('/directoryRoles/00000000-0000-0000-0000-000000000000/members'), 404, 'Request_ResourceNotFound', /does not exist/);

      // the last Global Administrator stays
      await refusal(g(`/roleManagement/directory/roleAssignments/${GLOBAL_ADMIN}_${users.admin.id}`, { method: 'DELETE' }), 400, 'Request_BadRequest', /no enabled Global Administrator/);

      // role definitions and paging of assignments
      const defs = await json<GraphList<{ id: string; displayName: string; isBuiltIn: boolean; description: string | null }>>(g('/roleManagement/directory/roleDefinitions'));
      assert.ok(defs.value.some((d) => d.id === HELPDESK && d.displayName === 'Helpdesk Administrator' && d.isBuiltIn));
      // each with Entra's description (Microsoft Entra built-in roles reference)
      assert.deepEqual(defs.value.filter((d) => !d.description).map((d) => d.displayName), []);
      const described = (name: string) => defs.value.find((d) => d.displayName === name)?.description;
      assert.equal(described('Application Administrator'), 'Can create and manage all aspects of app registrations and enterprise apps.');
      assert.equal(described('Cloud Application Administrator'), 'Can create and manage all aspects of app registrations and enterprise apps except App Proxy.');
      const one = await json<{ description: string }>(g(`/roleManagement/directory/roleDefinitions/${ROLE_TEMPLATE_IDS['Cloud Application Administrator']!}`));
      assert.equal(one.description, 'Can create and manage all aspects of app registrations and enterprise apps except App Proxy.');
      const a1 = await json<GraphList>(g('/roleManagement/directory/roleAssignments?$top=1'));
      assert.equal(a1.value.length, 1);
      const a2 = await json<GraphList>(g(a1['@odata.nextLink']!));
      assert.ok(a2.value.length >= 1);
      assert.notEqual(a1.value[0]!.id, a2.value[0]!.id);
    });

    test('a role assignment changes what its holder may do; removing it takes it back; both audited', async () => {
      const alice = await signIn(`alice@${server.tenantDomain}`);
      // carol, not bob: bob's token is used by later tests
      const revokeCarol = () => g(`/users/${users.carol.id}/revokeSignInSessions`, { method: 'POST', token: alice.access_token });
      await refusal(revokeCarol(), 403, 'Authorization_RequestDenied', /Helpdesk Administrator/);

      // only role administrators may assign
      const body = JSON.stringify({ principalId: users.alice.id, roleDefinitionId: HELPDESK, directoryScopeId: '/' });
      await refusal(g('/roleManagement/directory/roleAssignments', { method: 'POST', token: weakAppToken, body }), 403, 'Authorization_RequestDenied', /RoleManagement\.ReadWrite\.Directory/);
      await refusal(g('/roleManagement/directory/roleAssignments', { method: 'POST', token: bobToken, body }), 403, 'Authorization_RequestDenied', /Privileged Role Administrator/);
      await json(g('/roleManagement/directory/roleAssignments', { method: 'POST', body: JSON.stringify({ principalId: users.alice.id, roleDefinitionId: HELPDESK, directoryScopeId: '/administrativeUnits/x' }) }), 400);

      const created = await json<Record<string, unknown>>(g('/roleManagement/directory/roleAssignments', { method: 'POST', token: admin.access_token, body }), 201);
      assert.equal(created.id, `${HELPDESK}_${users.alice.id}`);
      assert.equal(created.principalId, users.alice.id);
      await refusal(g('/roleManagement/directory/roleAssignments', { method: 'POST', token: admin.access_token, body }), 400, 'Request_BadRequest', /conflicting object/);
      const members = await json<GraphList>(g(`/directoryRoles/${HELPDESK}/members`));
      assert.deepEqual(members.value.map((m) => m.id), [users.alice.id]);
      assert.ok((await json<GraphList<{ id: string }>>(g('/directoryRoles'))).value.some((r) => r.id === HELPDESK));

      // the same token now carries the role's rights (roles are read per request)
      assert.equal((await revokeCarol()).status, 200);
      await refusal(g(`/users/${users.admin.id}/revokeSignInSessions`, { method: 'POST', token: alice.access_token }), 403, 'Authorization_RequestDenied', /Privileged Authentication Administrator/);
      // a Helpdesk Administrator may not assign roles
      await refusal(g('/roleManagement/directory/roleAssignments', { method: 'POST', token: alice.access_token, body: JSON.stringify({ principalId: users.bob.id, roleDefinitionId: HELPDESK }) }), 403, 'Authorization_RequestDenied', /Privileged Role Administrator/);

      assert.equal((await g(`/roleManagement/directory/roleAssignments/${HELPDESK}_${users.alice.id}`, { method: 'DELETE', token: admin.access_token })).status, 204);
      await refusal(revokeCarol(), 403, 'Authorization_RequestDenied', /Helpdesk Administrator/);
      assert.equal((await json<GraphList>(g(`/roleManagement/directory/roleAssignments?$filter=${q(`principalId eq '${users.alice.id}'`)}`))).value.length, 0);

      const audits = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q(`category eq 'RoleManagement' and targetResources/any(t: t/id eq '${users.alice.id}')`)}`));
      assert.deepEqual(audits.value.map((a) => a.activityDisplayName), ['Remove member from role', 'Add member to role']);
      const added = audits.value[1]!;
      assert.equal(added.initiatedBy.user?.id, users.admin.id);
      assert.equal(added.initiatedBy.user?.userPrincipalName, users.admin.upn);
      assert.deepEqual(added.targetResources.map((t) => [t.type, t.id]), [['User', users.alice.id], ['Role', HELPDESK]]);
      assert.ok(added.targetResources[0]!.modifiedProperties.some((m) => m.displayName === 'Role.DisplayName' && m.newValue === 'Helpdesk Administrator'));
    });

    test("a change of the target's roles makes a pending admin-action plan stale", async () => {
      const ctx: ActionContext = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
      const carol = (await findUserByUpn(server.store.db, server.tenantId, users.carol.upn))!;
      const plan = await revokeSessions.plan(ctx, { kind: 'system', id: 'system', displayName: 'test' }, carol.id);
      assert.equal((await g(`/directoryRoles/${REPORTS_READER}/members/$ref`, { method: 'POST', token: admin.access_token, body: ref(users.carol.id, 'users') })).status, 204);
      await assert.rejects(revokeSessions.apply(ctx, plan), (e: unknown) => e instanceof ActionError && e.code === 'stale');
      const after = await findUserByUpn(server.store.db, server.tenantId, users.carol.upn);
      assert.equal(after!.sign_in_sessions_valid_from, carol.sign_in_sessions_valid_from, 'the stale apply changed nothing');
      assert.equal((await g(`/directoryRoles/${REPORTS_READER}/members/${users.carol.id}/$ref`, { method: 'DELETE', token: admin.access_token })).status, 204);
    });

    test('directoryAudits: shape, filters on time, activity, initiator and target, paging, refusals', async () => {
      const since = new Date().toISOString();
      const revokes = `activityDisplayName eq 'Update StsRefreshTokenValidFrom Timestamp'`;
      assert.equal((await g(`/users/${users.carol.id}/revokeSignInSessions`, { method: 'POST' })).status, 200);
      assert.equal((await g(`/users/${users.carol.id}/revokeSignInSessions`, { method: 'POST', token: admin.access_token })).status, 200);
      const recent = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q(`activityDateTime ge ${since} and activityDisplayName eq 'Update StsRefreshTokenValidFrom Timestamp'`)}`));
      assert.equal(recent.value.length, 2);
      const [byAdmin, byApp] = recent.value; // newest first
      assert.match(recent['@odata.context'], /#auditLogs\/directoryAudits$/);
      assert.match(byAdmin!.id, /^Directory_\d+$/);
      assert.equal(byAdmin!.category, 'UserManagement');
      assert.equal(byAdmin!.loggedByService, 'Core Directory');
      assert.equal(byAdmin!.operationType, 'Update');
      assert.match(byAdmin!.correlationId, /^[0-9a-f-]{36}$/);
      assert.ok(Date.parse(byAdmin!.activityDateTime) >= Date.parse(since));
      assert.deepEqual(byAdmin!.initiatedBy, { user: { id: users.admin.id, displayName: 'Global Administrator', userPrincipalName: users.admin.upn, ipAddress: null }, app: null });
      assert.deepEqual(byApp!.initiatedBy, { user: null, app: { appId: DEMO.automationAppId, displayName: 'Automation', servicePrincipalId: DEMO.automationAppId, servicePrincipalName: 'Automation' } });
      const t = byAdmin!.targetResources[0]!;
      assert.deepEqual([t.id, t.type, t.userPrincipalName, t.displayName], [users.carol.id, 'User', users.carol.upn, 'Carol Example']);
      assert.equal(t.modifiedProperties[0]!.displayName, 'StsRefreshTokensValidFrom');
      assert.deepEqual(byAdmin!.additionalDetails, []);

      const byUser = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q(`activityDateTime ge ${since} and ${revokes} and initiatedBy/user/id eq '${users.admin.id}'`)}`));
      assert.deepEqual(byUser.value.map((a) => a.id), [byAdmin!.id]);
      const byApp2 = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q(`activityDateTime ge ${since} and ${revokes} and initiatedBy/app/appId eq '${DEMO.automationAppId}'`)}`));
      assert.deepEqual(byApp2.value.map((a) => a.id), [byApp!.id]);
      const notAdmin = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q(`activityDateTime ge ${since} and ${revokes} and not(initiatedBy/user/id eq '${users.admin.id}')`)}`));
      assert.deepEqual(notAdmin.value.map((a) => a.id), [byApp!.id]);
      const upn = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q(`activityDateTime ge ${since} and ${revokes} and initiatedBy/user/userPrincipalName eq '${users.admin.upn.toUpperCase()}'`)}`));
      assert.deepEqual(upn.value.map((a) => a.id), [byAdmin!.id]);
      const until = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q(`activityDateTime lt ${since}`)}`));
      assert.ok(until.value.length > 0 && until.value.every((a) => Date.parse(a.activityDateTime) < Date.parse(since)));
      const literal = await json<GraphList<Audit>>(g(`/auditLogs/directoryAudits?$filter=${q("activityDisplayName eq 'initiatedBy/user/id eq x'")}`));
      assert.equal(literal.value.length, 0, 'paths inside string literals are not rewritten');

      // paging: newest first, every record once
      const all: string[] = [];
      let next: string | undefined = `/auditLogs/directoryAudits?$top=2`;
      for (let i = 0; next && i < 50; i++) {
        const page: GraphList<Audit> = await json<GraphList<Audit>>(g(next));
        assert.ok(page.value.length <= 2);
        all.push(...page.value.map((a) => a.id));
        next = page['@odata.nextLink'];
      }
      const total = await server.store.db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(all.length, Number(total.n));
      assert.equal(new Set(all).size, all.length);
      const nums = all.map((id) => Number(id.split('_')[1]));
      assert.deepEqual(nums, [...nums].sort((a, b) => b - a));
      const single = await json<Audit>(g(`/auditLogs/directoryAudits/${byAdmin!.id}`));
      assert.equal(single.correlationId, byAdmin!.correlationId);

      // unsupported filters are Graph 400s
      for (const f of ["targetResources/any(t: t/displayName eq 'x')", "initiatedBy/user/id eq 'not-a-guid'", "targetResources/any(t: t/id ne '00000000-0000-0000-0000-000000000000')", 'activityDateTime ge 2026-13-01T00:00:00Z']) {
        const body = await json<GraphErr>(g(`/auditLogs/directoryAudits?$filter=${q(f)}`), 400);
        assert.ok(['BadRequest', 'Request_UnsupportedQuery'].includes(body.error.code), f);
        assert.doesNotMatch(body.error.message, /__/, 'private names do not leak');
      }

      // refusals: the permission, then a reader role for delegated callers
      await refusal(g('/auditLogs/directoryAudits', { token: weakAppToken }), 403, 'Authorization_RequestDenied', /AuditLog\.Read\.All/);
      await refusal(g('/auditLogs/directoryAudits', { token: bobToken }), 403, 'Authorization_RequestDenied', /Reports Reader/);
      assert.equal((await g('/auditLogs/directoryAudits?$top=1', { token: admin.access_token })).status, 200);
    });

    test('signIns: interactive sign-ins and a failed password, with filters and paging', async () => {
      const since = new Date().toISOString();
      await wrongPassword(`bob@${server.tenantDomain}`);
      await signIn(`carol@${server.tenantDomain}`);

      const failed = await json<GraphList<SignIn>>(g(`/auditLogs/signIns?$filter=${q(`createdDateTime ge ${since} and userPrincipalName eq 'BOB@${server.tenantDomain}' and status/errorCode eq 50126`)}`));
      assert.match(failed['@odata.context'], /#auditLogs\/signIns$/);
      assert.equal(failed.value.length, 1);
      const f = failed.value[0]!;
      assert.equal(f.userId, users.bob.id);
      assert.equal(f.userDisplayName, 'Bob Example');
      assert.equal(f.appId, DEMO.nativeAppId);
      assert.equal(f.appDisplayName, 'Demo native app');
      assert.equal(f.isInteractive, true);
      assert.equal(f.clientAppUsed, 'Browser');
      assert.equal(f.status.errorCode, 50126);
      assert.match(f.status.failureReason!, /invalid username or password/i);
      assert.deepEqual(f.authenticationDetails.map((d) => [d.authenticationMethod, d.succeeded]), [['Password', false]]);
      assert.equal(f.conditionalAccessStatus, 'notApplied');
      assert.ok(f.ipAddress);

      const ok = await json<GraphList<SignIn>>(g(`/auditLogs/signIns?$filter=${q(`createdDateTime ge ${since} and userId eq '${users.carol.id}' and isInteractive eq true and status/errorCode eq 0`)}`));
      assert.equal(ok.value.length, 1);
      assert.deepEqual(ok.value[0]!.status, { errorCode: 0, failureReason: null, additionalDetails: null });
      assert.equal(ok.value[0]!.userPrincipalName, users.carol.upn);
      const byApp = await json<GraphList<SignIn>>(g(`/auditLogs/signIns?$filter=${q(`createdDateTime ge ${since} and appId eq '${DEMO.nativeAppId}'`)}`));
      assert.deepEqual(byApp.value.map((s) => s.userId).sort(), [users.bob.id, users.carol.id].sort());
      const failures = await json<GraphList<SignIn>>(g(`/auditLogs/signIns?$filter=${q(`createdDateTime ge ${since} and not(status/errorCode eq 0)`)}`));
      assert.deepEqual(failures.value.map((s) => s.userId), [users.bob.id]);
      const none = await json<GraphList<SignIn>>(g(`/auditLogs/signIns?$filter=${q(`createdDateTime le ${new Date(Date.parse(since) - HOUR).toISOString()}`)}`));
      assert.equal(none.value.length, 0);

      // paging
      const p1 = await json<GraphList<SignIn>>(g('/auditLogs/signIns?$top=1'));
      assert.equal(p1.value.length, 1);
      const p2 = await json<GraphList<SignIn>>(g(p1['@odata.nextLink']!));
      assert.ok(Number(p2.value[0]!.id) < Number(p1.value[0]!.id), 'newest first');
      assert.equal((await json<SignIn>(g(`/auditLogs/signIns/${f.id}`))).status.errorCode, 50126);

      await refusal(g('/auditLogs/signIns', { token: weakAppToken }), 403, 'Authorization_RequestDenied', /AuditLog\.Read\.All/);
      await refusal(g('/auditLogs/signIns', { token: bobToken }), 403, 'Authorization_RequestDenied', /Reports Reader/);
      assert.equal((await json<GraphErr>(g(`/auditLogs/signIns?$filter=${q('status/errorCode eq true')}`), 400)).error.code, 'BadRequest');
    });

    test('successful refreshes: one non-interactive sign-in per grant per hour (D11)', async () => {
      const before = await json<GraphList<SignIn>>(g(`/auditLogs/signIns?$filter=${q(`userId eq '${users.admin.id}' and isInteractive eq false`)}`));
      assert.equal(before.value.length, 0);
      const hour0 = Math.floor(Date.now() / HOUR);
      const r1 = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: admin.refresh_token!, scope: GRAPH });
      assert.ok(r1.body.access_token, JSON.stringify(r1.body));
      const r2 = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: r1.body.refresh_token!, scope: GRAPH });
      assert.ok(r2.body.access_token, JSON.stringify(r2.body));
      const hour1 = Math.floor(Date.now() / HOUR);
      admin = { ...admin, ...r2.body };

      const rows = await json<GraphList<SignIn>>(g(`/auditLogs/signIns?$filter=${q(`userId eq '${users.admin.id}' and isInteractive eq false`)}`));
      assert.equal(rows.value.length, hour0 === hour1 ? 1 : 2, 'two refreshes of one grant in one hour are one row');
      const s = rows.value[0]!;
      assert.deepEqual(s.status, { errorCode: 0, failureReason: null, additionalDetails: null });
      assert.equal(s.appId, DEMO.nativeAppId);
      assert.equal(s.userPrincipalName, users.admin.upn);
      assert.equal(s.clientAppUsed, 'Mobile Apps and Desktop clients');
      assert.deepEqual(s.authenticationDetails.map((d) => d.authenticationMethod), ['Previously satisfied']);

      // another grant (a new sign-in) gets its own row; a refused refresh is not a success
      const other = await signIn(`admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      assert.ok((await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: other.refresh_token!, scope: GRAPH })).body.access_token);
      const reuse = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: other.refresh_token!, scope: GRAPH });
      assert.equal(reuse.body.error, 'invalid_grant');
      const after = await json<GraphList<SignIn>>(g(`/auditLogs/signIns?$filter=${q(`userId eq '${users.admin.id}' and isInteractive eq false`)}`));
      const successes = after.value.filter((x) => x.status.errorCode === 0);
      assert.equal(successes.length, rows.value.length + 1);
      const keys = await server.store.db.selectFrom('signin_log').select('aggregate_key').where('aggregate_key', 'is not', null).execute();
      assert.equal(new Set(keys.map((k) => k.aggregate_key)).size, keys.length);
    });
  });
}

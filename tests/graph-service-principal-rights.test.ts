// Who may write service principals, application permissions (app role assignments) and tenant-wide
// delegated consent (oauth2PermissionGrants), over Graph with real tokens. Entra's rules, written out here
// as literal tables (never read from src/admin): creating and deleting service principals is Global,
// Application or Cloud Application Administrator; consenting to delegated permissions of any API is those
// and Privileged Role Administrator; Microsoft Graph's application permissions only Global and Privileged
// Role Administrator, another API's also Application and Cloud Application Administrator. App-only callers
// need Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All or DelegatedPermissionGrant.ReadWrite.All.
// A refused call is a 403 naming what is missing and changes nothing (rows, audit, outbox).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as addAppRoleAssignment from '../src/admin/actions/add-app-role-assignment.js';
import * as createDelegatedGrant from '../src/admin/actions/create-delegated-grant.js';
import * as createServicePrincipal from '../src/admin/actions/create-service-principal.js';
import * as deleteServicePrincipal from '../src/admin/actions/delete-service-principal.js';
import type { ActionContext } from '../src/admin/action.js';
import { GRAPH_APP_ID, addAppSecret, createApp, grantPermission } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser } from '../src/directory/users.js';
import { Jar, appGraphToken, authorize, consentNativeAppToGraph, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const SYSTEM = { kind: 'system', id: 'system', displayName: 'test' } as const;
const NATIVE_REDIRECT = 'http://localhost:5999';
const PASSWORD = 'Rights-Actor-Password-55';
const USER_READ_ALL_ROLE = 'df021288-bdef-4463-88db-98f22de89214';

const GA = 'Global Administrator';
const PRA = 'Privileged Role Administrator';
const APP_ADMIN = 'Application Administrator';
const CLOUD_APP_ADMIN = 'Cloud Application Administrator';
const UA = 'User Administrator';
const GR = 'Global Reader';
const PLAIN = '(plain user)';
const ACTORS = [GA, PRA, APP_ADMIN, CLOUD_APP_ADMIN, UA, GR, PLAIN] as const;

type Write = 'createSp' | 'deleteSp' | 'assignGraphRole' | 'assignApiRole' | 'removeGraphRole' | 'createGrant' | 'updateGrant' | 'deleteGrant';
const WRITES: readonly Write[] = ['createSp', 'deleteSp', 'assignGraphRole', 'assignApiRole', 'removeGraphRole', 'createGrant', 'updateGrant', 'deleteGrant'];

// delegated callers: who may do each write
const MAY: Record<Write, readonly string[]> = {
  createSp: [GA, APP_ADMIN, CLOUD_APP_ADMIN],
  deleteSp: [GA, APP_ADMIN, CLOUD_APP_ADMIN],
  assignGraphRole: [GA, PRA],
  assignApiRole: [GA, PRA, APP_ADMIN, CLOUD_APP_ADMIN],
  removeGraphRole: [GA, PRA],
  createGrant: [GA, PRA, APP_ADMIN, CLOUD_APP_ADMIN],
  updateGrant: [GA, PRA, APP_ADMIN, CLOUD_APP_ADMIN],
  deleteGrant: [GA, PRA, APP_ADMIN, CLOUD_APP_ADMIN],
};

// app-only callers, by the one Graph permission they hold: which writes they may do
const APP_MAY: Record<string, readonly Write[]> = {
  'Application.ReadWrite.All': ['createSp', 'deleteSp'],
  'AppRoleAssignment.ReadWrite.All': ['assignGraphRole', 'assignApiRole', 'removeGraphRole'],
  'DelegatedPermissionGrant.ReadWrite.All': ['createGrant', 'updateGrant', 'deleteGrant'],
  'User.Read.All': [],
};

for (const dbKind of await databases()) {
  describe(`who may write service principals and their permissions (${dbKind})`, () => {
    let server: TestServer;
    let ctx: ActionContext;
    let clientAppId: string;
    let graphSpId: string;
    let apiSpId: string;
    let apiRoleId: string;
    const bearers = new Map<string, string>();

    const graph = (path: string, bearer: string, init: RequestInit = {}) =>
      fetch(`${server.origin}/v1.0${path}`, { ...init, headers: { authorization: `Bearer ${bearer}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
    const spOf = async (appId: string) => (await server.store.db.selectFrom('service_principals').select('id').where('app_id', '=', appId).executeTakeFirst())?.id;
    const sys = {
      async ensureSp(): Promise<string> {
        const id = await spOf(clientAppId);
        if (id) return id;
        return (await createServicePrincipal.apply(ctx, await createServicePrincipal.plan(ctx, SYSTEM, { appId: clientAppId }))).value.id;
      },
      async noSp(): Promise<void> {
        const id = await spOf(clientAppId);
        if (id) await deleteServicePrincipal.apply(ctx, await deleteServicePrincipal.plan(ctx, SYSTEM, id));
      },
      async clean(): Promise<string> {
        await sys.noSp();
        return sys.ensureSp();
      },
    };
    const grantIdOf = async (spId: string, bearer: string) => ((await (await graph(`/oauth2PermissionGrants?$filter=clientId eq '${spId}'`, bearer)).json()) as { value: { id: string }[] }).value[0]?.id;
    const assignmentIdOf = async (spId: string, bearer: string) => ((await (await graph(`/servicePrincipals/${spId}/appRoleAssignments`, bearer)).json()) as { value: { id: string }[] }).value[0]?.id;

    /** Prepares the state a write needs (as the system), then calls Graph as the actor. */
    async function attempt(write: Write, bearer: string, adminBearer: string): Promise<Response> {
      if (write === 'createSp') {
        await sys.noSp();
        return graph('/servicePrincipals', bearer, { method: 'POST', body: JSON.stringify({ appId: clientAppId }) });
      }
      const sp = await sys.clean();
      if (write === 'deleteSp') return graph(`/servicePrincipals/${sp}`, bearer, { method: 'DELETE' });
      if (write === 'assignGraphRole') return graph(`/servicePrincipals/${sp}/appRoleAssignments`, bearer, { method: 'POST', body: JSON.stringify({ principalId: sp, resourceId: graphSpId, appRoleId: USER_READ_ALL_ROLE }) });
      if (write === 'assignApiRole') return graph(`/servicePrincipals/${apiSpId}/appRoleAssignedTo`, bearer, { method: 'POST', body: JSON.stringify({ principalId: sp, resourceId: apiSpId, appRoleId: apiRoleId }) });
      if (write === 'removeGraphRole') {
        await addAppRoleAssignment.apply(ctx, await addAppRoleAssignment.plan(ctx, SYSTEM, { principalId: sp, resourceId: graphSpId, appRoleId: USER_READ_ALL_ROLE }));
        return graph(`/servicePrincipals/${sp}/appRoleAssignments/${(await assignmentIdOf(sp, adminBearer))!}`, bearer, { method: 'DELETE' });
      }
      if (write === 'createGrant') return graph('/oauth2PermissionGrants', bearer, { method: 'POST', body: JSON.stringify({ clientId: sp, consentType: 'AllPrincipals', resourceId: graphSpId, scope: 'User.Read' }) });
      await createDelegatedGrant.apply(ctx, await createDelegatedGrant.plan(ctx, SYSTEM, { clientId: sp, resourceId: graphSpId, scopes: ['User.Read'] }));
      const gid = (await grantIdOf(sp, adminBearer))!;
      if (write === 'updateGrant') return graph(`/oauth2PermissionGrants/${gid}`, bearer, { method: 'PATCH', body: JSON.stringify({ scope: 'User.Read openid' }) });
      return graph(`/oauth2PermissionGrants/${gid}`, bearer, { method: 'DELETE' });
    }

    async function snapshot() {
      const db = server.store.db;
      const sps = await db.selectFrom('service_principals').select(['id', 'app_id']).orderBy('id').execute();
      const grants = await db.selectFrom('permission_grants').select(['client_app_id', 'resource_app_id', 'kind', 'value']).where('client_app_id', '=', clientAppId).orderBy('value').execute();
      const audit = Number((await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const outbox = Number((await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('type', 'like', 'service_principal.%').executeTakeFirstOrThrow()).n);
      return { sps, grants, audit, outbox };
    }

    async function cell(write: Write, who: string, bearer: string, allowed: boolean, names: RegExp): Promise<string | undefined> {
      const adminBearer = bearers.get(GA)!;
      const res = await attempt(write, bearer, adminBearer);
      const body = res.status === 204 ? '' : await res.text();
      if (allowed) return res.status >= 200 && res.status < 300 ? undefined : `${who} ${write}: expected success, got ${res.status} ${body.slice(0, 200)}`;
      if (res.status !== 403) return `${who} ${write}: expected 403, got ${res.status} ${body.slice(0, 200)}`;
      const err = (JSON.parse(body) as { error: { code: string; message: string } }).error;
      if (err.code !== 'Authorization_RequestDenied' || !names.test(err.message)) return `${who} ${write}: the refusal does not name the missing right: ${err.message}`;
      return undefined;
    }

    before(async () => {
      server = await startTestServer(dbKind);
      ctx = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config, lean: true };
      await consentNativeAppToGraph(server);
      const client = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Rights client', kind: 'web', redirectUris: ['https://rights.test/cb'] });
      clientAppId = client.id;
      graphSpId = (await spOf(GRAPH_APP_ID))!;
      apiSpId = (await spOf(DEMO.apiAppId))!;
      for (const role of ACTORS) {
        const upn = `${role.replace(/[^A-Za-z]/g, '').toLowerCase() || 'plain'}@${server.tenantDomain}`;
        await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: role, password: PASSWORD, roles: role === PLAIN ? [] : [role] });
        const p = pkce();
        const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope: 'openid https://graph.microsoft.com/Directory.AccessAsUser.All', code_challenge: p.challenge, code_challenge_method: 'S256' }, { user: upn, password: PASSWORD });
        const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: NATIVE_REDIRECT, code_verifier: p.verifier, scope: 'https://graph.microsoft.com/.default' });
        assert.ok(t.body.access_token, JSON.stringify(t.body));
        bearers.set(role, t.body.access_token);
      }
      const api = (await (await graph(`/servicePrincipals(appId='${DEMO.apiAppId}')`, bearers.get(GA)!)).json()) as { appRoles: { id: string; value: string }[] };
      apiRoleId = api.appRoles.find((r) => r.value === 'Data.Read.All')!.id;
    });
    after(async () => {
      await server?.close();
    });

    test('delegated callers: each role against each write (literal table)', async () => {
      const problems: string[] = [];
      for (const who of ACTORS) {
        for (const write of WRITES) {
          const allowed = MAY[write].includes(who);
          problems.push(...[await cell(write, who, bearers.get(who)!, allowed, /Administrator/)].filter((p): p is string => !!p));
        }
      }
      assert.deepEqual(problems, []);
    });

    test('a refused write changes nothing: no row, no audit record, no event', async () => {
      for (const write of WRITES) {
        // prepare as an allowed caller would find it, then refuse as a plain user
        // prepares the state the write needs; the bogus bearer itself is refused (401)
        assert.equal((await attempt(write, 'x', bearers.get(GA)!)).status, 401);
        const before = await snapshot();
        const r = await (async () => {
          const sp = await spOf(clientAppId);
          switch (write) {
            case 'createSp':
              return graph('/servicePrincipals', bearers.get(GR)!, { method: 'POST', body: JSON.stringify({ appId: clientAppId }) });
            case 'deleteSp':
              return graph(`/servicePrincipals/${sp!}`, bearers.get(PRA)!, { method: 'DELETE' });
            case 'assignGraphRole':
              return graph(`/servicePrincipals/${sp!}/appRoleAssignments`, bearers.get(APP_ADMIN)!, { method: 'POST', body: JSON.stringify({ principalId: sp, resourceId: graphSpId, appRoleId: USER_READ_ALL_ROLE }) });
            case 'assignApiRole':
              return graph(`/servicePrincipals/${apiSpId}/appRoleAssignedTo`, bearers.get(UA)!, { method: 'POST', body: JSON.stringify({ principalId: sp, resourceId: apiSpId, appRoleId: apiRoleId }) });
            case 'removeGraphRole':
              return graph(`/servicePrincipals/${sp!}/appRoleAssignments/${(await assignmentIdOf(sp!, bearers.get(GA)!))!}`, bearers.get(CLOUD_APP_ADMIN)!, { method: 'DELETE' });
            case 'createGrant':
              return graph('/oauth2PermissionGrants', bearers.get(PLAIN)!, { method: 'POST', body: JSON.stringify({ clientId: sp, consentType: 'AllPrincipals', resourceId: graphSpId, scope: 'User.Read' }) });
            default: {
              const gid = (await grantIdOf(sp!, bearers.get(GA)!))!;
              return write === 'updateGrant' ? graph(`/oauth2PermissionGrants/${gid}`, bearers.get(GR)!, { method: 'PATCH', body: JSON.stringify({ scope: 'openid' }) }) : graph(`/oauth2PermissionGrants/${gid}`, bearers.get(UA)!, { method: 'DELETE' });
            }
          }
        })();
        assert.equal(r.status, 403, `${write}: ${await r.text()}`);
        assert.deepEqual(await snapshot(), before, write);
      }
    });

    test('app-only callers: the permission each write needs, with and without it', async () => {
      const problems: string[] = [];
      for (const [permission, may] of Object.entries(APP_MAY)) {
        const app = await createApp(server.store.db, { tenantId: server.tenantId, displayName: `Automation with ${permission}`, kind: 'web' });
        await addAppSecret(server.store.db, app.id, 'app-only-rights-secret');
        await grantPermission(server.store.db, app.id, GRAPH_APP_ID, 'application', [permission, 'Application.Read.All']);
        const bearer = await appGraphToken(server, app.id, 'app-only-rights-secret');
        for (const write of WRITES) {
          const needed = write === 'createSp' || write === 'deleteSp' ? 'Application.ReadWrite.All' : write.endsWith('Grant') ? 'DelegatedPermissionGrant.ReadWrite.All' : 'AppRoleAssignment.ReadWrite.All';
          const p = await cell(write, permission, bearer, may.includes(write), new RegExp(needed.replace(/\./g, '\\.')));
          if (p) problems.push(p);
        }
      }
      assert.deepEqual(problems, []);
    });
  });
}

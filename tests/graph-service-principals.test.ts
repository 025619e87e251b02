// Issue 8's acceptance scenario with clients nobody here wrote: @microsoft/microsoft-graph-client creates
// an app's service principal, grants it Microsoft Graph's User.Read.All (appRoleAssignment on Graph's
// service principal) and admin consent for User.Read (oauth2PermissionGrant AllPrincipals); @azure/msal-node
// then gets a client-credentials token whose `roles` hold User.Read.All and reads /users with it. Removing
// the assignment takes the role out of the next token at once; removing the consent makes the next authorize
// for User.Read refused for want of consent (AADSTS65001). Entra's shapes and audit names are checked.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@microsoft/microsoft-graph-client';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { addAppSecret, createApp } from '../src/directory/apps.js';
import { Jar, authorize, consentNativeAppToGraph, delegatedGraphToken, pkce } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const USER_READ_ALL_ROLE = 'df021288-bdef-4463-88db-98f22de89214'; // Entra's id of User.Read.All (application)
const USER_READ_SCOPE = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'; // Entra's id of User.Read (delegated)
const quiet = { loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } };

for (const dbKind of await databases()) {
  describe(`service principals, app role assignments and delegated grants through Graph (${dbKind})`, () => {
    let server: TestServer;
    let admin: Client;
    let appId: string;
    const redirectUri = 'https://app.contoso.test/callback';

    before(async () => {
      server = await startTestServer(dbKind);
      await consentNativeAppToGraph(server);
      const token = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      admin = Client.init({ baseUrl: `${server.origin}/`, defaultVersion: 'v1.0', customHosts: new Set(['localhost']), authProvider: (done) => done(null, token) });
      const app = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Contoso Sync', kind: 'web', redirectUris: [redirectUri], servicePrincipal: false });
      await addAppSecret(server.store.db, app.id, 'contoso-sync-secret');
      appId = app.id;
    });
    after(async () => {
      await server?.close();
    });

    const clientCredentials = async () => {
      const cca = new ConfidentialClientApplication({ auth: { authority: `${server.origin}/${server.tenantId}`, knownAuthorities: [new URL(server.origin).host], clientId: appId, clientSecret: 'contoso-sync-secret' }, system: quiet });
      const r = await cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'], skipCache: true });
      assert.ok(r?.accessToken);
      return r.accessToken;
    };
    const authorizeUserRead = async () => {
      const p = pkce();
      return authorize(server, new Jar(), { client_id: appId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid https://graph.microsoft.com/User.Read', code_challenge: p.challenge, code_challenge_method: 'S256' });
    };

    test('create the service principal, grant User.Read.All and consent User.Read; MSAL token carries the role and reads /users; removal is seen at once', async () => {
      // Graph's own service principal, by its appId, exposes Entra's permission ids
      const graphSp = (await admin.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')`).get()) as { id: string; appId: string; appRoles: { id: string; value: string; allowedMemberTypes: string[] }[]; oauth2PermissionScopes: { id: string; value: string }[]; servicePrincipalType: string };
      assert.equal(graphSp.appId, GRAPH_APP_ID);
      assert.deepEqual(graphSp.appRoles.find((r) => r.value === 'User.Read.All'), { allowedMemberTypes: ['Application'], description: 'User.Read.All', displayName: 'User.Read.All', id: USER_READ_ALL_ROLE, isEnabled: true, origin: 'Application', value: 'User.Read.All' });
      assert.equal(graphSp.oauth2PermissionScopes.find((s) => s.value === 'User.Read')?.id, USER_READ_SCOPE);

      // no service principal yet: the app cannot be named in a grant
      assert.deepEqual(((await admin.api('/servicePrincipals').filter(`appId eq '${appId}'`).get()) as { value: unknown[] }).value, []);
      const sp = (await admin.api('/servicePrincipals').post({ appId })) as Record<string, unknown>;
      assert.match(String(sp.id), /^[0-9a-f-]{36}$/);
      assert.equal(sp.appId, appId);
      assert.equal(sp.displayName, 'Contoso Sync');
      assert.equal(sp.appDisplayName, 'Contoso Sync');
      assert.equal(sp.servicePrincipalType, 'Application');
      assert.equal(sp.accountEnabled, true);
      assert.equal(sp.appOwnerOrganizationId, server.tenantId);
      assert.deepEqual(sp.appRoles, []);
      assert.deepEqual(sp.oauth2PermissionScopes, []);
      assert.deepEqual(sp.servicePrincipalNames, [appId]);
      const listed = (await admin.api('/servicePrincipals').filter(`appId eq '${appId}'`).select('id,displayName').get()) as { value: unknown[]; '@odata.context': string };
      assert.deepEqual(listed.value, [{ id: sp.id, displayName: 'Contoso Sync' }]);
      assert.match(listed['@odata.context'], /\$metadata#servicePrincipals\(id,displayName\)$/);
      assert.equal(((await admin.api(`/servicePrincipals/${String(sp.id)}`).get()) as { id: string }).id, sp.id);

      // application permission: on the resource's service principal (appRoleAssignedTo)
      const assignment = (await admin.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId: USER_READ_ALL_ROLE })) as Record<string, unknown>;
      assert.deepEqual(Object.keys(assignment).filter((k) => !k.startsWith('@')).sort(), ['appRoleId', 'createdDateTime', 'deletedDateTime', 'id', 'principalDisplayName', 'principalId', 'principalType', 'resourceDisplayName', 'resourceId']);
      assert.equal(assignment.appRoleId, USER_READ_ALL_ROLE);
      assert.equal(assignment.principalId, sp.id);
      assert.equal(assignment.principalType, 'ServicePrincipal');
      assert.equal(assignment.principalDisplayName, 'Contoso Sync');
      assert.equal(assignment.resourceId, graphSp.id);
      assert.equal(assignment.resourceDisplayName, 'Microsoft Graph');
      assert.match(String(assignment.createdDateTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // the same assignment seen from the client's side
      const mine = (await admin.api(`/servicePrincipals/${String(sp.id)}/appRoleAssignments`).get()) as { value: Record<string, unknown>[] };
      assert.deepEqual(mine.value.map((a) => a.id), [assignment.id]);

      // delegated admin consent
      const grant = (await admin.api('/oauth2PermissionGrants').post({ clientId: sp.id, consentType: 'AllPrincipals', resourceId: graphSp.id, scope: 'User.Read' })) as Record<string, unknown>;
      assert.deepEqual({ ...grant, id: undefined, '@odata.context': undefined }, { id: undefined, '@odata.context': undefined, clientId: sp.id, consentType: 'AllPrincipals', principalId: null, resourceId: graphSp.id, scope: 'User.Read' });
      const filtered = (await admin.api('/oauth2PermissionGrants').filter(`clientId eq '${String(sp.id)}'`).get()) as { value: Record<string, unknown>[] };
      assert.deepEqual(filtered.value.map((g) => g.id), [grant.id]);
      assert.equal(((await admin.api(`/oauth2PermissionGrants/${String(grant.id)}`).get()) as { scope: string }).scope, 'User.Read');

      // @azure/msal-node: client credentials for Graph carry the role, and Graph answers /users
      const cc = await clientCredentials();
      assert.deepEqual(decodeJwt(cc).roles, ['User.Read.All']);
      const asApp = Client.init({ baseUrl: `${server.origin}/`, defaultVersion: 'v1.0', customHosts: new Set(['localhost']), authProvider: (done) => done(null, cc) });
      const users = (await asApp.api('/users').select('userPrincipalName').get()) as { value: { userPrincipalName: string }[] };
      assert.ok(users.value.some((u) => u.userPrincipalName === `alice@${server.tenantDomain}`));
      // the consent lets a user sign in for User.Read without being asked
      const ok = await authorizeUserRead();
      assert.ok(ok.redirect?.searchParams.get('code'), ok.redirect?.toString());

      // removing the assignment: the next client-credentials token has no roles, at once
      await admin.api(`/servicePrincipals/${String(sp.id)}/appRoleAssignments/${String(assignment.id)}`).delete();
      assert.equal(decodeJwt(await clientCredentials()).roles, undefined);
      assert.deepEqual(((await admin.api(`/servicePrincipals/${graphSp.id}/appRoleAssignedTo`).get()) as { value: { principalId: string }[] }).value.filter((a) => a.principalId === sp.id), []);

      // narrowing, then removing the consent: the next authorize for User.Read is refused (AADSTS65001)
      await admin.api(`/oauth2PermissionGrants/${String(grant.id)}`).patch({ scope: 'User.Read openid' });
      assert.equal(((await admin.api(`/oauth2PermissionGrants/${String(grant.id)}`).get()) as { scope: string }).scope, 'User.Read openid');
      await admin.api(`/oauth2PermissionGrants/${String(grant.id)}`).delete();
      const refused = await authorizeUserRead();
      assert.equal(refused.redirect?.searchParams.get('error'), 'consent_required');
      assert.match(refused.redirect?.searchParams.get('error_description') ?? '', /^AADSTS65001: /);

      // each write is audited with Entra's activity name
      const audits = await server.store.db.selectFrom('audit_log').select(['activity', 'category']).execute();
      const names = audits.map((a) => a.activity);
      for (const n of ['Add service principal', 'Add app role assignment to service principal', 'Consent to application', 'Add delegated permission grant', 'Remove app role assignment from service principal', 'Update delegated permission grant', 'Remove delegated permission grant']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
      assert.equal(audits.find((a) => a.activity === 'Add service principal')?.category, 'ApplicationManagement');

      // deleting the service principal: gone, and its appId is free again
      await admin.api(`/servicePrincipals(appId='${appId}')`).delete();
      assert.deepEqual(((await admin.api('/servicePrincipals').filter(`appId eq '${appId}'`).get()) as { value: unknown[] }).value, []);
      assert.ok((await server.store.db.selectFrom('audit_log').select('activity').where('activity', '=', 'Remove service principal').execute()).length === 1);
    });

    test('bad input over every new route: a Graph error naming what was wrong, nothing changed', async () => {
      const db = server.store.db;
      const spOf = async (id: string) => (await db.selectFrom('service_principals').select('id').where('app_id', '=', id).executeTakeFirstOrThrow()).id;
      const graphSp = await spOf(GRAPH_APP_ID);
      const web = await spOf('11111111-1111-4111-8111-111111111111'); // the demo portal: consented User.Read, holds User.Read.All
      const webGrant = ((await admin.api(`/servicePrincipals/${web}/oauth2PermissionGrants`).get()) as { value: { id: string }[] }).value[0]!.id;
      // the admin portal's: every administrator signs in through them
      const portal = await spOf('c44b4083-3bb0-49c1-b47d-974e53cbdf3c');
      const portalGrant = ((await admin.api(`/servicePrincipals/${portal}/oauth2PermissionGrants`).get()) as { value: { id: string }[] }).value[0]!.id;
      const bearer = (await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1'));
      const unknown = '9d7f7a9c-0000-4000-8000-000000000001';
      const snapshot = async () => ({
        sps: await db.selectFrom('service_principals').select(['id', 'app_id']).orderBy('id').execute(),
        grants: await db.selectFrom('permission_grants').select(['client_app_id', 'resource_app_id', 'kind', 'value']).orderBy('id').execute(),
        audit: (await db.selectFrom('audit_log').select('id').execute()).length,
      });
      const cases: [string, string, string, unknown, number, string, RegExp][] = [
        ['unknown appId', 'POST', '/servicePrincipals', { appId: unknown }, 400, 'Request_BadRequest', /appId .* does not reference a valid application/],
        ['duplicate service principal', 'POST', '/servicePrincipals', { appId: '11111111-1111-4111-8111-111111111111' }, 400, 'Request_MultipleObjectsWithSameKeyValue', /already exists/],
        ['unknown property', 'POST', '/servicePrincipals', { appId, tags: ['x'] }, 400, 'Request_BadRequest', /Property 'tags' does not exist/],
        ['disabled service principal', 'POST', '/servicePrincipals', { appId, accountEnabled: false }, 400, 'Request_BadRequest', /accountEnabled/],
        ['missing appId', 'POST', '/servicePrincipals', {}, 400, 'Request_BadRequest', /'appId' is required/],
        ['unknown appRoleId', 'POST', `/servicePrincipals/${web}/appRoleAssignments`, { principalId: web, resourceId: graphSp, appRoleId: unknown }, 400, 'Request_BadRequest', /Permission being assigned was not found/],
        ['malformed appRoleId', 'POST', `/servicePrincipals/${web}/appRoleAssignments`, { principalId: web, resourceId: graphSp, appRoleId: 'User.Read.All' }, 400, 'Request_BadRequest', /'appRoleId' must be a GUID/],
        ['principalId is not the URL\'s', 'POST', `/servicePrincipals/${web}/appRoleAssignments`, { principalId: graphSp, resourceId: graphSp, appRoleId: USER_READ_ALL_ROLE }, 400, 'Request_BadRequest', /'principalId' .* must be the id of the service principal in the URL/],
        ['resourceId is not the URL\'s', 'POST', `/servicePrincipals/${graphSp}/appRoleAssignedTo`, { principalId: web, resourceId: web, appRoleId: USER_READ_ALL_ROLE }, 400, 'Request_BadRequest', /'resourceId' .* must be the id of the service principal in the URL/],
        ['unknown resourceId', 'POST', `/servicePrincipals/${web}/appRoleAssignments`, { principalId: web, resourceId: unknown, appRoleId: USER_READ_ALL_ROLE }, 400, 'Request_BadRequest', /'resourceId': no service principal/],
        ['malformed principalId', 'POST', `/servicePrincipals/${graphSp}/appRoleAssignedTo`, { principalId: 'not-a-guid', resourceId: graphSp, appRoleId: USER_READ_ALL_ROLE }, 400, 'Request_BadRequest', /'principalId' must be the object id/],
        ['assignment that exists', 'POST', `/servicePrincipals/${web}/appRoleAssignments`, { principalId: web, resourceId: graphSp, appRoleId: USER_READ_ALL_ROLE }, 400, 'Request_BadRequest', /already exists/],
        ['user as principal type', 'POST', `/servicePrincipals/${graphSp}/appRoleAssignedTo`, { principalId: web, principalType: 'User', resourceId: graphSp, appRoleId: USER_READ_ALL_ROLE }, 400, 'Request_BadRequest', /principalType/],
        ['unknown scope name', 'POST', '/oauth2PermissionGrants', { clientId: web, consentType: 'AllPrincipals', resourceId: graphSp, scope: 'User.Read Bogus.Scope' }, 400, 'Request_BadRequest', /no delegated permission named 'Bogus.Scope'/],
        ['consent for one user', 'POST', '/oauth2PermissionGrants', { clientId: web, consentType: 'Principal', principalId: unknown, resourceId: graphSp, scope: 'User.Read' }, 400, 'Request_BadRequest', /'Principal'/],
        ['missing consentType', 'POST', '/oauth2PermissionGrants', { clientId: web, resourceId: graphSp, scope: 'User.Read' }, 400, 'Request_BadRequest', /'consentType' is required/],
        ['principalId with AllPrincipals', 'POST', '/oauth2PermissionGrants', { clientId: web, consentType: 'AllPrincipals', principalId: unknown, resourceId: graphSp, scope: 'User.Read' }, 400, 'Request_BadRequest', /'principalId' must be null/],
        ['unknown clientId', 'POST', '/oauth2PermissionGrants', { clientId: unknown, consentType: 'AllPrincipals', resourceId: graphSp, scope: 'User.Read' }, 400, 'Request_BadRequest', /'clientId': no service principal/],
        ['grant that exists', 'POST', '/oauth2PermissionGrants', { clientId: web, consentType: 'AllPrincipals', resourceId: graphSp, scope: 'Mail.Read' }, 400, 'Request_MultipleObjectsWithSameKeyValue', /already exists/],
        ['empty scope', 'PATCH', `/oauth2PermissionGrants/${webGrant}`, { scope: ' ' }, 400, 'Request_BadRequest', /at least one/],
        ['unknown scope in PATCH', 'PATCH', `/oauth2PermissionGrants/${webGrant}`, { scope: 'User.Read Nope' }, 400, 'Request_BadRequest', /'Nope'/],
        ['PATCH of another property', 'PATCH', `/oauth2PermissionGrants/${webGrant}`, { scope: 'User.Read', consentType: 'Principal' }, 400, 'Request_BadRequest', /'consentType' does not exist/],
        ['malformed service principal id', 'GET', '/servicePrincipals/not-a-guid', undefined, 400, 'Request_BadRequest', /Invalid object identifier/],
        ['unknown service principal', 'DELETE', `/servicePrincipals/${unknown}`, undefined, 404, 'Request_ResourceNotFound', /does not exist/],
        ['unknown appId in the key', 'DELETE', `/servicePrincipals(appId='${unknown}')`, undefined, 404, 'Request_ResourceNotFound', /does not exist/],
        ['Graph\'s own service principal', 'DELETE', `/servicePrincipals/${graphSp}`, undefined, 400, 'Request_BadRequest', /cannot be deleted/],
        ["the admin portal's service principal", 'DELETE', `/servicePrincipals/${portal}`, undefined, 400, 'Request_BadRequest', /admin portal's service principal cannot be deleted/],
        ["the admin portal's consent deleted", 'DELETE', `/oauth2PermissionGrants/${portalGrant}`, undefined, 400, 'Request_BadRequest', /admin portal's delegated permissions cannot be changed or removed/],
        ["the admin portal's consent narrowed", 'PATCH', `/oauth2PermissionGrants/${portalGrant}`, { scope: 'User.Read' }, 400, 'Request_BadRequest', /admin portal's delegated permissions cannot be changed or removed/],
        ['malformed grant id', 'DELETE', '/oauth2PermissionGrants/garbage', undefined, 404, 'Request_ResourceNotFound', /does not exist/],
        ['unknown assignment', 'DELETE', `/servicePrincipals/${web}/appRoleAssignments/${'A'.repeat(43)}`, undefined, 404, 'Request_ResourceNotFound', /does not exist/],
        ['unsupported $filter property', 'GET', "/servicePrincipals?$filter=servicePrincipalType eq 'Application'", undefined, 400, 'BadRequest', /servicePrincipalType/],
        ['unsupported grant filter', 'GET', "/oauth2PermissionGrants?$filter=scope eq 'User.Read'", undefined, 400, 'BadRequest', /scope/],
        ['oversized body', 'POST', '/oauth2PermissionGrants', { clientId: web, consentType: 'AllPrincipals', resourceId: graphSp, scope: 'User.Read '.repeat(40_000) }, 413, 'RequestEntityTooLarge', /too large/],
      ];
      const before = await snapshot();
      const problems: string[] = [];
      for (const [what, method, path, body, status, code, message] of cases) {
        const res = await fetch(`${server.origin}/v1.0${path}`, { method, headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
        const err = ((await res.json()) as { error?: { code: string; message: string } }).error;
        if (res.status !== status || err?.code !== code || !message.test(err.message)) problems.push(`${what}: ${res.status} ${JSON.stringify(err)}`);
      }
      assert.deepEqual(problems, []);
      assert.deepEqual(await snapshot(), before);
    });

    test('the seeded apps and Microsoft Graph have service principals; beta answers too', async () => {
      const all = (await admin.api('/servicePrincipals').version('beta').select('appId,displayName').top(999).get()) as { value: { appId: string; displayName: string }[] };
      const ids = all.value.map((s) => s.appId);
      for (const id of [GRAPH_APP_ID, '11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333', '44444444-4444-4444-8444-444444444444']) assert.ok(ids.includes(id), id);
      // the seed's grants are visible as Graph objects: the automation app's application permissions
      const automation = (await admin.api(`/servicePrincipals(appId='44444444-4444-4444-8444-444444444444')/appRoleAssignments`).get()) as { value: { appRoleId: string }[] };
      assert.ok(automation.value.some((a) => a.appRoleId === USER_READ_ALL_ROLE));
      // paging: $top=2 gives a nextLink that continues after the last id
      const first = (await admin.api('/servicePrincipals').top(2).select('id').get()) as { value: { id: string }[]; '@odata.nextLink'?: string };
      assert.equal(first.value.length, 2);
      assert.ok(first['@odata.nextLink']);
      const second = (await admin.api(first['@odata.nextLink']).get()) as { value: { id: string }[] };
      assert.ok(second.value.every((s) => s.id > first.value[1]!.id));
    });
  });
}

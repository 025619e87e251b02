// The Graph API driven by Microsoft's own, unmodified SDKs against Latchkey's origin: the classic
// @microsoft/microsoft-graph-client 3 (https only, customHosts) and the Kiota-based @microsoft/msgraph-sdk
// (adapter.baseUrl set before createGraphServiceClient, allowed host localhost). Users: list + $filter, get by
// id and by UPN with $select, create, resetPassword (202), PATCH passwordProfile with an app token, revoke
// sessions, authentication methods; audit and sign-in logs; errors as GraphError / ODataError.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, ResponseType } from '@microsoft/microsoft-graph-client';
import { createGraphServiceClient, GraphRequestAdapter, type GraphServiceClient } from '@microsoft/msgraph-sdk';
import '@microsoft/msgraph-sdk-users';
import { createDirectoryAuditCollectionResponseFromDiscriminatorValue, createSignInCollectionResponseFromDiscriminatorValue, type DirectoryAuditCollectionResponse, type PasswordAuthenticationMethod, type SignInCollectionResponse } from '@microsoft/msgraph-sdk/models/index.js';
import { createODataErrorFromDiscriminatorValue, type ODataError } from '@microsoft/msgraph-sdk/models/oDataErrors/index.js';
import { AllowedHostsValidator, BaseBearerTokenAuthenticationProvider, HttpMethod, RequestInformation } from '@microsoft/kiota-abstractions';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn } from '../src/directory/users.js';
import { consentNativeAppToGraph, delegatedGraphToken, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { graphError } from './helpers/graph.js';

const GRAPH = 'https://graph.microsoft.com/.default';
const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

/** What a Kiota call threw: the deserialized ODataError (a plain object, not an Error instance). */
async function kiotaError(p: Promise<unknown>): Promise<ODataError> {
  try {
    await p;
  } catch (e) {
    return e as ODataError;
  }
  assert.fail('the Kiota call succeeded');
}


for (const dbKind of await databases()) {
  describe(`Graph through Microsoft's SDKs (${dbKind})`, () => {
    let server: TestServer;
    let appToken: string;
    let adminToken: string;
    let weakToken: string;
    let domain: string;

    /** @microsoft/microsoft-graph-client 3: https only; the token is attached for customHosts (hostname, no port). */
    const graphClient = (bearer: string, version: 'v1.0' | 'beta' = 'v1.0') =>
      Client.init({ baseUrl: `${server.origin}/`, defaultVersion: version, customHosts: new Set(['localhost']), authProvider: (done) => done(null, bearer) });

    /** The Kiota SDK: the adapter's baseUrl must be set before createGraphServiceClient (it fills in an empty one). */
    const kiota = (bearer: string): { graph: GraphServiceClient; adapter: GraphRequestAdapter } => {
      const adapter = new GraphRequestAdapter(
        new BaseBearerTokenAuthenticationProvider({
          getAuthorizationToken: () => Promise.resolve(bearer),
          getAllowedHostsValidator: () => new AllowedHostsValidator(new Set(['localhost'])),
        }),
      );
      adapter.baseUrl = `${server.origin}/v1.0`;
      return { graph: createGraphServiceClient(adapter), adapter };
    };

    before(async () => {
      server = await startTestServer(dbKind);
      domain = server.tenantDomain;
      const cc = await token(server, { grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: GRAPH });
      appToken = cc.body.access_token!;
      assert.ok(appToken, JSON.stringify(cc.body));
      weakToken = (await token(server, { grant_type: 'client_credentials', client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', scope: GRAPH })).body.access_token!;
      assert.ok(weakToken);
      // a delegated token for the Global Administrator through the demo native app (Directory.AccessAsUser.All)
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${domain}`, 'Bootstrap-Admin-Pw-1');
    });
    after(async () => {
      await server?.close();
    });

    test('list users with $filter startsWith and $select', async () => {
      const filter = "startsWith(userPrincipalName,'a')";
      const gc = (await graphClient(appToken).api('/users').filter(filter).select(['id', 'userPrincipalName']).get()) as { '@odata.context': string; value: { id: string; userPrincipalName: string; displayName?: string }[] };
      assert.deepEqual(gc.value.map((u) => u.userPrincipalName).sort(), [`admin@${domain}`, `alice@${domain}`]);
      assert.equal(gc.value[0]!.displayName, undefined, '$select limits the properties');
      assert.match(gc['@odata.context'], /\/v1\.0\/\$metadata#users\(id,userPrincipalName\)$/);

      const beta = (await graphClient(appToken, 'beta').api('/users').filter(filter).get()) as { '@odata.context': string; value: unknown[] };
      assert.equal(beta.value.length, 2);
      assert.match(beta['@odata.context'], /\/beta\/\$metadata#users$/);

      const { graph } = kiota(appToken);
      const k = await graph.users.get({ queryParameters: { filter, select: ['id', 'userPrincipalName', 'accountEnabled'] } });
      assert.deepEqual(k?.value?.map((u) => u.userPrincipalName).sort(), [`admin@${domain}`, `alice@${domain}`]);
      assert.equal(k?.value?.[0]?.accountEnabled, true);
      assert.equal(k?.value?.[0]?.displayName, undefined);
      assert.equal(k?.odataNextLink, undefined);
    });

    test('get a user by id and by UPN with $select', async () => {
      const alice = (await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!;
      const select = ['id', 'displayName', 'accountEnabled', 'signInSessionsValidFromDateTime', 'lastPasswordChangeDateTime'];
      const gc = graphClient(appToken);
      for (const key of [alice.id, `alice@${domain}`]) {
        const u = (await gc.api(`/users/${key}`).select(select).get()) as Record<string, unknown>;
        assert.deepEqual(Object.keys(u).filter((k) => !k.startsWith('@odata.')).sort(), [...select].sort(), key);
        assert.equal(u.id, alice.id);
        assert.equal(u.displayName, 'Alice Example');
        assert.equal(u.accountEnabled, true);
      }
      const { graph } = kiota(appToken);
      for (const key of [alice.id, `alice@${domain}`]) {
        const u = await graph.users.byUserId(key).get({ queryParameters: { select } });
        assert.equal(u?.id, alice.id, key);
        assert.equal(u?.displayName, 'Alice Example');
        assert.equal(u?.accountEnabled, true);
        // DateTimeOffset values parse into Dates (Graph's format: no fractional seconds, Z)
        assert.ok(u?.signInSessionsValidFromDateTime instanceof Date);
        assert.equal(u.signInSessionsValidFromDateTime.getTime(), Math.floor(alice.sign_in_sessions_valid_from / 1000) * 1000);
        assert.ok(u.lastPasswordChangeDateTime instanceof Date);
        assert.equal(u.userPrincipalName, undefined, 'not selected');
      }
    });

    test('create a user (delegated Global Administrator)', async () => {
      const created = (await graphClient(adminToken)
        .api('/users')
        .post({ accountEnabled: true, displayName: 'Dave Graph', mailNickname: 'dave', userPrincipalName: `dave@${domain}`, passwordProfile: { password: 'Sturdy-Password-11', forceChangePasswordNextSignIn: true } })) as { id: string; userPrincipalName: string };
      assert.equal(created.userPrincipalName, `dave@${domain}`);
      assert.equal((await findUserByUpn(server.store.db, server.tenantId, `dave@${domain}`))?.id, created.id);

      const { graph } = kiota(adminToken);
      const k = await graph.users.post({ accountEnabled: false, displayName: 'Erin Kiota', mailNickname: 'erin', userPrincipalName: `erin@${domain}`, passwordProfile: { password: 'Sturdy-Password-12', forceChangePasswordNextSignIn: false } });
      assert.ok(k?.id);
      assert.equal(k.userPrincipalName, `erin@${domain}`);
      assert.equal(k.displayName, 'Erin Kiota');
      const row = (await findUserByUpn(server.store.db, server.tenantId, `erin@${domain}`))!;
      assert.equal(row.id, k.id);
      assert.equal(row.account_enabled, 0);

      const dup = await kiotaError(graph.users.post({ accountEnabled: true, displayName: 'Erin again', mailNickname: 'erin', userPrincipalName: `ERIN@${domain}`, passwordProfile: { password: 'Sturdy-Password-12' } }));
      assert.equal(dup.responseStatusCode, 400);
      assert.equal(dup.errorEscaped?.code, 'Request_MultipleObjectsWithSameKeyValue');
    });

    test('resetPassword with a delegated admin token: the 202 as each SDK returns it', async () => {
      const carol = (await findUserByUpn(server.store.db, server.tenantId, `carol@${domain}`))!;
      const path = `/users/${carol.id}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`;
      // graph-client: .post() resolves with the parsed JSON body (only a 204 gives undefined); RAW shows the 202 and Location
      const raw = (await graphClient(adminToken).api(path).responseType(ResponseType.RAW).post({})) as Response;
      assert.equal(raw.status, 202);
      assert.match(raw.headers.get('location') ?? '', new RegExp(`/v1\\.0/users/${carol.id}/authentication/operations/[0-9a-f-]{36}$`));
      const generated = ((await raw.json()) as { newPassword: string }).newPassword;
      assert.ok(generated.length >= 12, 'a generated password is returned');
      const parsed = (await graphClient(adminToken).api(path).post({ newPassword: 'Chosen-By-Admin-42' })) as { newPassword: string | null };
      assert.equal(parsed.newPassword, null, 'no password echoed when the admin chose it');
      const op = (await graphClient(adminToken).api(new URL(raw.headers.get('location')!).pathname.replace(/^\/v1\.0/, '')).get()) as { status: string };
      assert.equal(op.status, 'succeeded');

      // Kiota: post() deserializes the 202 body into a PasswordResetResponse
      const bob = (await findUserByUpn(server.store.db, server.tenantId, `bob@${domain}`))!;
      const { graph } = kiota(adminToken);
      const k = await graph.users.byUserId(bob.id).authentication.methods.byAuthenticationMethodId(PASSWORD_METHOD_ID).resetPassword.post({});
      assert.ok(k?.newPassword && k.newPassword.length >= 12, JSON.stringify(k));
      const k2 = await graph.users.byUserId(bob.id).authentication.methods.byAuthenticationMethodId(PASSWORD_METHOD_ID).resetPassword.post({ newPassword: 'Chosen-By-Admin-43' });
      assert.equal(k2?.newPassword ?? null, null);
      const after = (await findUserByUpn(server.store.db, server.tenantId, `bob@${domain}`))!;
      assert.notEqual(after.password_hash, bob.password_hash);
      assert.equal(after.force_change_password, 1);

      // app tokens are refused (delegated only)
      const refused = await kiotaError(kiota(appToken).graph.users.byUserId(bob.id).authentication.methods.byAuthenticationMethodId(PASSWORD_METHOD_ID).resetPassword.post({}));
      assert.equal(refused.responseStatusCode, 403);
      assert.equal(refused.errorEscaped?.code, 'Authorization_RequestDenied');
    });

    test('PATCH passwordProfile with an app token whose service principal holds User Administrator', async () => {
      const alice = (await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!;
      const denied = await graphError(graphClient(appToken).api(`/users/${alice.id}`).patch({ passwordProfile: { password: 'Patched-Password-77', forceChangePasswordNextSignIn: false } }));
      assert.equal(denied.statusCode, 403);
      assert.equal(denied.code, 'Authorization_RequestDenied');
      await server.store.db.insertInto('app_directory_roles').values({ app_id: DEMO.automationAppId, role: 'User Administrator' }).execute();

      const r = await graphClient(appToken).api(`/users/${alice.id}`).patch({ passwordProfile: { password: 'Patched-Password-77', forceChangePasswordNextSignIn: false } });
      assert.equal(r, undefined, '204: graph-client resolves with undefined');
      const a1 = (await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!;
      assert.notEqual(a1.password_hash, alice.password_hash);

      const { graph } = kiota(appToken);
      const k = await graph.users.byUserId(`alice@${domain}`).patch({ passwordProfile: { password: 'Patched-Password-78', forceChangePasswordNextSignIn: true } });
      assert.equal(k, undefined, '204: Kiota resolves with undefined');
      const a2 = (await findUserByUpn(server.store.db, server.tenantId, `alice@${domain}`))!;
      assert.notEqual(a2.password_hash, a1.password_hash);
      assert.equal(a2.force_change_password, 1);
      const admin = await kiotaError(graph.users.byUserId(`admin@${domain}`).patch({ passwordProfile: { password: 'Patched-Password-79' } }));
      assert.equal(admin.responseStatusCode, 403, 'a User Administrator cannot act on a Global Administrator');
    });

    test('revokeSignInSessions: value true in both SDKs', async () => {
      const bob = (await findUserByUpn(server.store.db, server.tenantId, `bob@${domain}`))!;
      const gc = (await graphClient(appToken).api(`/users/${bob.id}/revokeSignInSessions`).post({})) as { '@odata.context': string; value: boolean };
      assert.equal(gc.value, true);
      assert.match(gc['@odata.context'], /\$metadata#Edm\.Boolean$/);
      const { graph } = kiota(appToken);
      const k = await graph.users.byUserId(`bob@${domain}`).revokeSignInSessions.post();
      assert.equal(k?.value, true);
      const after = (await findUserByUpn(server.store.db, server.tenantId, `bob@${domain}`))!;
      assert.ok(after.sign_in_sessions_valid_from >= bob.sign_in_sessions_valid_from);
    });

    test('authentication methods: the password method with its fixed id', async () => {
      const carol = (await findUserByUpn(server.store.db, server.tenantId, `carol@${domain}`))!;
      const gc = (await graphClient(appToken).api(`/users/${carol.id}/authentication/methods`).get()) as { value: Record<string, unknown>[] };
      assert.equal(gc.value.length, 1);
      assert.equal(gc.value[0]!['@odata.type'], '#microsoft.graph.passwordAuthenticationMethod');
      assert.equal(gc.value[0]!.id, PASSWORD_METHOD_ID);
      const { graph } = kiota(appToken);
      const k = await graph.users.byUserId(carol.id).authentication.methods.get();
      assert.equal(k?.value?.length, 1);
      const m = k!.value![0] as PasswordAuthenticationMethod;
      assert.equal(m.odataType, '#microsoft.graph.passwordAuthenticationMethod');
      assert.equal(m.id, PASSWORD_METHOD_ID);
      assert.equal(m.password ?? null, null, 'the password is never returned');
      assert.ok(m.createdDateTime instanceof Date);
    });

    test('errors: a missing user is GraphError / ODataError Request_ResourceNotFound; a bad token InvalidAuthenticationToken', async () => {
      const missing = '00000000-0000-0000-0000-000000000000';
      const ge = await graphError(graphClient(appToken).api(`/users/${missing}`).get());
      assert.equal(ge.statusCode, 404);
      assert.equal(ge.code, 'Request_ResourceNotFound');
      assert.ok(ge.requestId, 'innerError request-id is read');
      assert.ok(ge.date instanceof Date && !Number.isNaN(ge.date.getTime()), 'innerError date is read');

      const ke = await kiotaError(kiota(appToken).graph.users.byUserId(missing).get());
      assert.equal(ke.responseStatusCode, 404);
      assert.equal(ke.errorEscaped?.code, 'Request_ResourceNotFound');
      assert.ok(ke.errorEscaped?.message);
      assert.ok(ke.errorEscaped?.innerError?.requestId);
      assert.ok(ke.errorEscaped?.innerError?.date instanceof Date);

      const bad = await graphError(graphClient('not-a-token').api('/users').get());
      assert.equal(bad.statusCode, 401);
      assert.equal(bad.code, 'InvalidAuthenticationToken');
      const kbad = await kiotaError(kiota('not-a-token').graph.users.get());
      assert.equal(kbad.responseStatusCode, 401);
      assert.equal(kbad.errorEscaped?.code, 'InvalidAuthenticationToken');
    });

    test('audit logs: /auditLogs/directoryAudits lists the changes made above', async (t) => {
      if (!server.app.hasRoute({ method: 'GET', url: '/v1.0/auditLogs/directoryAudits' })) return t.todo('route pending');
      const bob = (await findUserByUpn(server.store.db, server.tenantId, `bob@${domain}`))!;
      await graphClient(appToken).api(`/users/${bob.id}/revokeSignInSessions`).post({});
      type Audit = { id: string; activityDisplayName: string; activityDateTime: string; category: string; loggedByService: string; operationType: string; result: string; initiatedBy: { app?: { appId?: string } | null; user?: { id?: string } | null }; targetResources: { id: string; userPrincipalName?: string }[] };
      const gc = (await graphClient(appToken).api('/auditLogs/directoryAudits').get()) as { value: Audit[] };
      const revoke = gc.value.find((a) => a.activityDisplayName === 'Update StsRefreshTokenValidFrom Timestamp' && a.targetResources.some((t) => t.id === bob.id));
      assert.ok(revoke, JSON.stringify(gc.value.map((a) => a.activityDisplayName)));
      assert.equal(revoke.initiatedBy.app?.appId, DEMO.automationAppId);
      assert.equal(revoke.result, 'success');
      assert.match(revoke.activityDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      assert.ok(gc.value.some((a) => a.activityDisplayName === 'Add user'));

      // Kiota: the core SDK has the models; the request goes through the same adapter (no auditLogs package needed)
      const { adapter } = kiota(appToken);
      const ri = new RequestInformation(HttpMethod.GET, '{+baseurl}/auditLogs/directoryAudits');
      ri.headers.tryAdd('Accept', 'application/json');
      const k = await adapter.send<DirectoryAuditCollectionResponse>(ri, createDirectoryAuditCollectionResponseFromDiscriminatorValue, { XXX: createODataErrorFromDiscriminatorValue });
      const kr = k?.value?.find((a) => a.id === revoke.id);
      assert.ok(kr);
      assert.equal(kr.activityDisplayName, revoke.activityDisplayName);
      assert.ok(kr.activityDateTime instanceof Date);
      assert.equal(kr.initiatedBy?.app?.appId, DEMO.automationAppId);

      // a token without AuditLog.Read.All (the demo portal's app token: User.Read.All only) is refused
      // (a fresh RequestInformation: Kiota keeps the Authorization header a request already carries)
      const again = new RequestInformation(HttpMethod.GET, '{+baseurl}/auditLogs/directoryAudits');
      const denied = await kiotaError(kiota(weakToken).adapter.send(again, createDirectoryAuditCollectionResponseFromDiscriminatorValue, { XXX: createODataErrorFromDiscriminatorValue }));
      assert.equal(denied.responseStatusCode, 403);
      assert.equal(denied.errorEscaped?.code, 'Authorization_RequestDenied');
    });

    test('sign-in logs: /auditLogs/signIns has the administrator\'s interactive sign-in', async (t) => {
      if (!server.app.hasRoute({ method: 'GET', url: '/v1.0/auditLogs/signIns' })) return t.todo('route pending');
      type SignInRow = { id: string; createdDateTime: string; userPrincipalName: string; userId: string; appId: string; isInteractive?: boolean; status: { errorCode: number } };
      const gc = (await graphClient(appToken).api('/auditLogs/signIns').get()) as { value: SignInRow[] };
      const admin = (await findUserByUpn(server.store.db, server.tenantId, `admin@${domain}`))!;
      const mine = gc.value.find((s) => s.userId === admin.id && s.appId === DEMO.nativeAppId);
      assert.ok(mine, JSON.stringify(gc.value).slice(0, 500));
      assert.equal(mine.userPrincipalName, `admin@${domain}`);
      assert.equal(mine.status.errorCode, 0);
      assert.match(mine.createdDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

      const { adapter } = kiota(appToken);
      const ri = new RequestInformation(HttpMethod.GET, '{+baseurl}/auditLogs/signIns');
      ri.headers.tryAdd('Accept', 'application/json');
      const k = await adapter.send<SignInCollectionResponse>(ri, createSignInCollectionResponseFromDiscriminatorValue, { XXX: createODataErrorFromDiscriminatorValue });
      const km = k?.value?.find((s) => s.id === mine.id);
      assert.ok(km);
      assert.equal(km.userPrincipalName, `admin@${domain}`);
      assert.ok(km.createdDateTime instanceof Date);
      assert.equal(km.status?.errorCode, 0);
    });
  });
}

// An application without a service principal in the tenant gets nothing there, as in Entra: after
// `DELETE /servicePrincipals/{id}` client credentials are refused with AADSTS7000229 (invalid_client), the
// authorize page says AADSTS700016, and the refresh tokens and codes issued to the app ended with its
// service principal (invalid_grant, bad_token, AADSTS7000229); the rest of the tenant is untouched. Creating
// the service principal again lets the app sign in anew (the old tokens stay ended). And the service
// principal list reads a page in one statement, whatever its length (no read per row).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GRAPH_APP_ID, addAppSecret, createApp, grantPermission } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { observeStatements } from '../src/storage/db.js';
import { currentScope } from '../src/storage/scope.js';
import { Jar, assertRefused, authorize, consentNativeAppToGraph, delegatedGraphToken, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';
const SECRET = 'sp-signin-secret-value';

for (const dbKind of await databases()) {
  describe(`an application whose service principal was deleted (${dbKind})`, () => {
    let server: TestServer;
    let adminToken: string;

    before(async () => {
      server = await startTestServer(dbKind);
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
    });
    after(async () => {
      await server?.close();
    });

    const graph = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.origin}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : null });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    };

    /** A user's sign-in to the app at http://localhost: the code, and its verifier. */
    const codeFor = async (appId: string) => {
      const p = pkce();
      const out = await authorize(server, new Jar(), { client_id: appId, response_type: 'code', redirect_uri: 'http://localhost', scope: 'openid offline_access https://graph.microsoft.com/User.Read', code_challenge: p.challenge, code_challenge_method: 'S256' });
      return { out, code: out.redirect?.searchParams.get('code') ?? '', verifier: p.verifier };
    };
    const redeem = (appId: string, c: { code: string; verifier: string }) => token(server, { grant_type: 'authorization_code', client_id: appId, code: c.code, redirect_uri: 'http://localhost', code_verifier: c.verifier });
    const clientCredentials = (appId: string, secret: string) => token(server, { grant_type: 'client_credentials', client_id: appId, client_secret: secret, scope: GRAPH_DEFAULT });
    const introspect = (appId: string, secret: string) => fetch(`${server.tenantUrl}/oauth2/v2.0/introspect`, { method: 'POST', body: new URLSearchParams({ client_id: appId, client_secret: secret, token: 'anything' }) });

    /** What the rest of the tenant holds: engine rows of other apps, permissions, service principals, users. */
    const restOfTenant = async (appId: string) => ({
      engineRows: (await server.store.db.selectFrom('oidc_models').select(['model', 'id_hash']).where((eb) => eb.or([eb('client_id', '!=', appId), eb('client_id', 'is', null)])).orderBy('id_hash').execute()).map((r) => `${r.model}:${r.id_hash}`),
      permissions: (await server.store.db.selectFrom('permission_grants').select(['client_app_id', 'resource_app_id', 'kind', 'value']).where('client_app_id', '!=', appId).where('resource_app_id', '!=', appId).orderBy('id').execute()).map((r) => Object.values(r).join(' ')),
      servicePrincipals: (await server.store.db.selectFrom('service_principals').select(['id', 'app_id']).where('app_id', '!=', appId).orderBy('id').execute()).map((r) => `${r.id} ${r.app_id}`),
      users: (await server.store.db.selectFrom('users').selectAll().orderBy('id').execute()).map((u) => JSON.stringify(u)),
      apps: (await server.store.db.selectFrom('apps').select(['id', 'display_name']).orderBy('id').execute()).map((a) => `${a.id} ${a.display_name}`),
    });

    test('client credentials, authorize, code redemption and refresh are refused (AADSTS7000229 / 700016); nothing else changes; a new service principal signs in again', async () => {
      const app = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Short-lived principal', webRedirectUris: ['https://principal.test/cb'], publicClientRedirectUris: ['http://localhost'], introspectionAllowed: true });
      await addAppSecret(server.store.db, app.id, SECRET);
      const consent = async () => {
        await grantPermission(server.store.db, app.id, GRAPH_APP_ID, 'delegated', ['User.Read']);
        await grantPermission(server.store.db, app.id, GRAPH_APP_ID, 'application', ['User.Read.All']);
      };
      await consent();

      // before: everything works, for this app and for another one
      assert.equal((await clientCredentials(app.id, SECRET)).status, 200);
      const signedIn = await redeem(app.id, await codeFor(app.id));
      assert.ok(signedIn.body.refresh_token, JSON.stringify(signedIn.body));
      const unredeemed = await codeFor(app.id);
      assert.ok(unredeemed.code, 'a code to redeem after the deletion');
      assert.equal((await introspect(app.id, SECRET)).status, 200);
      const other = await redeem(DEMO.nativeAppId, await codeFor(DEMO.nativeAppId));
      assert.ok(other.body.refresh_token, JSON.stringify(other.body));
      const sp = (await graph('GET', `/v1.0/servicePrincipals(appId='${app.id}')`)).body as { id: string };
      const rest = await restOfTenant(app.id);

      assert.equal((await graph('DELETE', `/v1.0/servicePrincipals/${sp.id}`)).status, 204);
      assert.deepEqual(await restOfTenant(app.id), rest, 'the rest of the tenant is as it was');
      assert.deepEqual(await server.store.db.selectFrom('oidc_models').select('model').where('client_id', '=', app.id).execute(), [], 'what the engine issued to the app ended with its service principal');

      const cc = await clientCredentials(app.id, SECRET);
      assertRefused(cc, 'invalid_client', 7000229, 'client credentials without a service principal');
      assert.equal(cc.status, 401);
      assert.match(cc.body.error_description!, new RegExp(`Client application '${app.id}', tenant '${server.tenantId}'`));
      const refresh = await token(server, { grant_type: 'refresh_token', client_id: app.id, refresh_token: signedIn.body.refresh_token });
      assertRefused(refresh, 'invalid_grant', 7000229, 'refresh after the service principal was deleted');
      assert.equal(refresh.body.suberror, 'bad_token', 'MSAL drops the token');
      assert.equal(refresh.status, 400);
      assertRefused(await redeem(app.id, unredeemed), 'invalid_grant', 7000229, 'a code issued before the deletion');
      const page = await codeFor(app.id);
      assert.equal(page.out.redirect, undefined, 'authorize does not redirect to the app');
      assert.equal(page.out.status, 400);
      assert.match(page.out.html ?? '', /AADSTS700016:/, 'the authorize page says AADSTS700016');
      const intro = await introspect(app.id, SECRET);
      assert.equal(intro.status, 401);
      assert.deepEqual(((await intro.json()) as { error_codes: number[] }).error_codes, [7000229]);
      const logged = await server.store.db.selectFrom('signin_log').select('error_code').where('app_id', '=', app.id).where('error_code', 'in', [7000229, 700016]).execute();
      assert.ok(logged.length >= 3, `the refusals are in the sign-in log: ${JSON.stringify(logged)}`);

      // the other app and the tenant's own automation are untouched
      assert.equal((await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: other.body.refresh_token! })).status, 200);
      assert.equal((await clientCredentials(DEMO.automationAppId, 'automation-secret-value')).status, 200);

      // a new service principal: the app signs in again (its consents, removed with the old one, given anew)
      const created = await graph('POST', '/v1.0/servicePrincipals', { appId: app.id });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.notEqual(created.body.id, sp.id);
      await consent();
      assert.equal((await clientCredentials(app.id, SECRET)).status, 200);
      const again = await redeem(app.id, await codeFor(app.id));
      assert.ok(again.body.refresh_token, JSON.stringify(again.body));
      assert.equal((await token(server, { grant_type: 'refresh_token', client_id: app.id, refresh_token: again.body.refresh_token })).status, 200);
      assert.equal((await introspect(app.id, SECRET)).status, 200);
      // the tokens of before stay ended
      assertRefused(await token(server, { grant_type: 'refresh_token', client_id: app.id, refresh_token: signedIn.body.refresh_token }), 'invalid_grant', 9002313, 'a refresh token ended with the old service principal');
    });

    test('an application Graph created without a service principal gets no token until one is created', async () => {
      const made = await graph('POST', '/v1.0/applications', { displayName: 'No principal yet', web: { redirectUris: ['https://noprincipal.test/cb'] } });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const appId = made.body.appId as string;
      await addAppSecret(server.store.db, appId, SECRET);
      await grantPermission(server.store.db, appId, GRAPH_APP_ID, 'application', ['User.Read.All']);
      assertRefused(await clientCredentials(appId, SECRET), 'invalid_client', 7000229, 'client credentials of an app without a service principal');
      assert.equal((await graph('POST', '/v1.0/servicePrincipals', { appId })).status, 201);
      assert.equal((await clientCredentials(appId, SECRET)).status, 200);
    });

    test('an API whose service principal is deleted is no resource in the tenant: its tokens are refused with AADSTS500011 until a new one is made', async () => {
      const api = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Deleted principal API', identifierUris: ['api://deleted-principal'], exposedScopes: ['read'], appRoles: ['Things.Read.All'] });
      const caller = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'API caller' });
      await addAppSecret(server.store.db, caller.id, SECRET);
      await grantPermission(server.store.db, caller.id, api.id, 'application', ['Things.Read.All']);
      await grantPermission(server.store.db, DEMO.nativeAppId, api.id, 'delegated', ['read']);
      const appToken = () => token(server, { grant_type: 'client_credentials', client_id: caller.id, client_secret: SECRET, scope: 'api://deleted-principal/.default' });
      const p = pkce();
      const signedIn = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: 'http://localhost', scope: 'openid offline_access api://deleted-principal/read', code_challenge: p.challenge, code_challenge_method: 'S256' });
      const redeemed = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: signedIn.redirect!.searchParams.get('code')!, redirect_uri: 'http://localhost', code_verifier: p.verifier });
      const rt = String(redeemed.body.refresh_token);
      const refresh = (refreshToken: string) => token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: refreshToken, scope: 'openid offline_access api://deleted-principal/read' });
      assert.equal((await appToken()).status, 200, 'the API issues app tokens while it has a service principal');
      const before = await refresh(rt);
      assert.equal(before.status, 200, JSON.stringify(before.body));

      const sp = (await graph('GET', `/v1.0/servicePrincipals(appId='${api.id}')`)).body as { id: string };
      assert.equal((await graph('DELETE', `/v1.0/servicePrincipals/${sp.id}`)).status, 204);
      assertRefused(await appToken(), 'invalid_target', 500011, 'client credentials for the API');
      assertRefused(await refresh(String(before.body.refresh_token)), 'invalid_target', 500011, 'a refresh for the API');

      assert.equal((await graph('POST', '/v1.0/servicePrincipals', { appId: api.id })).status, 201);
      assert.equal((await appToken()).status, 200, 'a new service principal makes the API a resource again');
    });

    test('the service principal of one of Latchkey’s own apps cannot be deleted', async () => {
      const mine = (await graph('GET', `/v1.0/servicePrincipals(appId='19db86c3-b2b9-44cc-b339-36da233a3be2')`)).body as { id: string };
      const refused = await graph('DELETE', `/v1.0/servicePrincipals/${mine.id}`);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(JSON.stringify(refused.body), /one of Latchkey's own apps/);
      assert.equal((await graph('GET', `/v1.0/servicePrincipals/${mine.id}`)).status, 200, 'still there');
    });

    test('the service principal list reads a page in one statement, whatever its length', async () => {
      for (let i = 0; i < 12; i++) await createApp(server.store.db, { tenantId: server.tenantId, displayName: `Listed ${i}` });
      // The server's own timers (outbox deliverer, sweeper) run marked as background work, and a cache's
      // reload every 5 s as its load: what the request itself runs is counted.
      const countOnce = async (path: string) => {
        const seen: string[] = [];
        observeStatements((sql) => {
          if (currentScope()?.aside === undefined) seen.push(sql);
        });
        let res;
        try {
          res = await graph('GET', path);
        } finally {
          observeStatements(undefined);
        }
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return { rows: (res.body.value as unknown[]).length, all: seen, listing: seen.filter((s) => /"service_principals"|from "apps"/.test(s)) };
      };
      const statementsOf = async (path: string) => {
        await graph('GET', path); // warm: the caller's token and the directory cache
        return countOnce(path);
      };
      const one = await statementsOf('/v1.0/servicePrincipals?$top=1');
      const many = await statementsOf('/v1.0/servicePrincipals?$top=15');
      const filtered = await statementsOf(`/v1.0/servicePrincipals?$filter=startsWith(displayName,'Listed')&$top=20`);
      assert.deepEqual([one.rows, many.rows, filtered.rows], [1, 15, 12]);
      assert.deepEqual([one.listing.length, many.listing.length, filtered.listing.length], [1, 1, 1], `one statement reads the page: ${JSON.stringify(many.listing)}`);
      assert.equal(many.all.length, one.all.length, `a page of 15 runs as many statements as a page of 1: ${JSON.stringify(many.all)}`);
      assert.equal(filtered.all.length, one.all.length);
    });
  });
}

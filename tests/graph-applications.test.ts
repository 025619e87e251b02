// Graph /applications (issue 8) over HTTP and through @microsoft/microsoft-graph-client: create an app with
// web, SPA and public-client redirect URIs and identifier URIs, read it by object id and by (appId='…'),
// list with $filter/$select/paging, PATCH, delete, addPassword/removePassword; msal-node's client
// credentials with the new secret work at once and fail at once (AADSTS7000215) after removePassword; the
// kind of client follows the redirect URI and the secret; deleting an app ends its refresh tokens and codes;
// who may write applications, written out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { Client } from '@microsoft/microsoft-graph-client';
import { decodeJwt } from 'jose';
import { GRAPH_APP_ID, grantPermission } from '../src/directory/apps.js';
import { SECURITY_INFO_APP_ID } from '../src/directory/first-party.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser } from '../src/directory/users.js';
import { Jar, assertRefused, authorize, consentNativeAppToGraph, delegatedGraphToken, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { graphError } from './helpers/graph.js';

const GRAPH = 'https://graph.microsoft.com/.default';
const PASSWORD = 'Apps-Test-Password-1';
const quiet = { loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } };

interface GraphApp {
  id: string;
  appId: string;
  displayName: string;
  identifierUris: string[];
  web: { redirectUris: string[]; logoutUrl: string | null };
  spa: { redirectUris: string[] };
  publicClient: { redirectUris: string[] };
  isFallbackPublicClient: boolean;
  passwordCredentials: { keyId: string; hint: string; secretText: null; displayName: string | null }[];
  [k: string]: unknown;
}

for (const dbKind of await databases()) {
  describe(`Graph /applications (${dbKind})`, () => {
    let server: TestServer;
    let admin: string;
    const tokens: Record<string, string> = {};

    const graph = async (bearer: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.origin}${path}`, { method, headers: { authorization: `Bearer ${bearer}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> & { error?: { code: string; message: string } } };
    };
    const sdk = (bearer: string) => Client.init({ baseUrl: `${server.origin}/`, defaultVersion: 'v1.0', customHosts: new Set(['localhost']), authProvider: (done) => done(null, bearer) });
    const cca = (clientId: string, clientSecret: string) => new ConfidentialClientApplication({ auth: { clientId, clientSecret, authority: `${server.origin}/${server.tenantId}`, knownAuthorities: [new URL(server.origin).host] }, system: quiet });

    before(async () => {
      server = await startTestServer(dbKind);
      await consentNativeAppToGraph(server);
      admin = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      for (const [name, roles] of [['appadmin', ['Application Administrator']], ['cloudadmin', ['Cloud Application Administrator']], ['useradmin', ['User Administrator']], ['helpdesk', ['Helpdesk Administrator']], ['plain', []]] as const) {
        await createUser(server.store.db, { tenantId: server.tenantId, upn: `${name}@${server.tenantDomain}`, displayName: name, password: PASSWORD, roles: [...roles] });
        tokens[name] = await delegatedGraphToken(server, `${name}@${server.tenantDomain}`, PASSWORD);
      }
      // the automation app may write applications; the demo portal has only User.Read.All
      await grantPermission(server.store.db, DEMO.automationAppId, GRAPH_APP_ID, 'application', ['Application.ReadWrite.All']);
      tokens.appWithPermission = (await token(server, { grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: GRAPH })).body.access_token!;
      tokens.appWithout = (await token(server, { grant_type: 'client_credentials', client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', scope: GRAPH })).body.access_token!;
    });
    after(async () => {
      await server?.close();
    });

    test('create with web, SPA and public-client redirect URIs and identifier URIs; get by id and by (appId=…); list with $filter, $select and paging; PATCH; delete', async () => {
      const created = await graph(admin, 'POST', '/v1.0/applications', {
        displayName: 'Inventory',
        web: { redirectUris: ['https://inventory.example/signin-oidc'], logoutUrl: 'https://inventory.example/signout' },
        spa: { redirectUris: ['https://inventory.example/spa'] },
        publicClient: { redirectUris: ['http://localhost', 'msalinventory://auth'] },
        identifierUris: ['api://inventory'],
        api: { oauth2PermissionScopes: [{ id: '0d1f6c1a-4a55-4b8a-9d6f-8a3b9b6f0a01', value: 'Inventory.Read', type: 'User', isEnabled: true, adminConsentDisplayName: 'Read inventory', adminConsentDescription: 'Read inventory' }] },
        appRoles: [{ id: '0d1f6c1a-4a55-4b8a-9d6f-8a3b9b6f0a02', value: 'Inventory.Admin', displayName: 'Admin', description: 'Admin', isEnabled: true, allowedMemberTypes: ['Application'] }],
        description: 'the stock app',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const app = created.body as unknown as GraphApp;
      assert.notEqual(app.id, app.appId, 'the object id is not the appId');
      assert.deepEqual([app.web.redirectUris, app.spa.redirectUris, app.publicClient.redirectUris, app.identifierUris], [['https://inventory.example/signin-oidc'], ['https://inventory.example/spa'], ['http://localhost', 'msalinventory://auth'], ['api://inventory']]);
      assert.equal(app.web.logoutUrl, 'https://inventory.example/signout');
      assert.equal(app.description, 'the stock app');
      assert.deepEqual(app.passwordCredentials, []);

      const byId = await graph(admin, 'GET', `/v1.0/applications/${app.id}`);
      assert.equal(byId.status, 200);
      assert.equal(byId.body.appId, app.appId);
      const byAppId = await graph(admin, 'GET', `/beta/applications(appId='${app.appId}')?$select=id,displayName`);
      assert.equal(byAppId.status, 200, JSON.stringify(byAppId.body));
      assert.deepEqual([byAppId.body.id, byAppId.body.displayName, byAppId.body.web], [app.id, 'Inventory', undefined]);
      assert.equal((await graph(admin, 'GET', `/v1.0/applications(appId=%27${app.appId}%27)`)).body.id, app.id, 'quotes percent-encoded');

      const filtered = await graph(admin, 'GET', `/v1.0/applications?$filter=appId eq '${app.appId}'&$select=appId,displayName`);
      assert.deepEqual(filtered.body.value, [{ appId: app.appId, displayName: 'Inventory' }]);
      const second = await graph(admin, 'POST', '/v1.0/applications', { displayName: 'Inventory reports' });
      assert.equal(second.status, 201);
      const byName = await graph(admin, 'GET', `/v1.0/applications?$filter=startsWith(displayName,'inventory')&$top=1&$select=displayName`);
      assert.equal((byName.body.value as unknown[]).length, 1);
      const next = await fetch(String(byName.body['@odata.nextLink']), { headers: { authorization: `Bearer ${admin}` } });
      const page2 = (await next.json()) as { value: { displayName: string }[]; '@odata.nextLink'?: string };
      assert.deepEqual([...(byName.body.value as { displayName: string }[]), ...page2.value].map((a) => a.displayName).sort(), ['Inventory', 'Inventory reports']);
      assert.equal(page2['@odata.nextLink'], undefined);
      const all = await graph(admin, 'GET', '/v1.0/applications?$select=appId');
      assert.ok(!(all.body.value as { appId: string }[]).some((a) => a.appId === GRAPH_APP_ID || a.appId === SECURITY_INFO_APP_ID), "Microsoft Graph and My Security Info are not among the tenant's applications");
      assert.equal((await graph(admin, 'GET', `/v1.0/applications(appId='${SECURITY_INFO_APP_ID}')`)).status, 404);

      const patched = await graph(admin, 'PATCH', `/v1.0/applications/${app.id}`, { displayName: 'Inventory 2', spa: { redirectUris: ['https://inventory.example/spa2'] }, extension_latchkey_requireMfa: true });
      assert.equal(patched.status, 204, JSON.stringify(patched.body));
      const after1 = (await graph(admin, 'GET', `/v1.0/applications/${app.id}`)).body as unknown as GraphApp;
      assert.deepEqual([after1.displayName, after1.spa.redirectUris, after1.web.redirectUris, after1.extension_latchkey_requireMfa], ['Inventory 2', ['https://inventory.example/spa2'], ['https://inventory.example/signin-oidc'], true]);

      const audits = await server.store.db.selectFrom('audit_log').select(['activity', 'target_id']).where('target_id', '=', app.appId).orderBy('id').execute();
      assert.deepEqual(audits.map((a) => a.activity), ['Add application', 'Update application']);

      assert.equal((await graph(admin, 'DELETE', `/v1.0/applications/${app.id}`)).status, 204);
      assert.equal((await graph(admin, 'DELETE', `/v1.0/applications(appId='${(second.body as unknown as GraphApp).appId}')`)).status, 204);
      const gone = await graph(admin, 'GET', `/v1.0/applications/${app.id}`);
      assert.deepEqual([gone.status, gone.body.error?.code], [404, 'Request_ResourceNotFound']);
      assert.equal((await server.store.db.selectFrom('app_identifier_uris').select('uri').where('uri', '=', 'api://inventory').execute()).length, 0, 'its identifier URI is free again');
    });

    test('through the Graph SDK: create, (appId=…), addPassword; msal client credentials with the new secret at once; removePassword refuses it at once (AADSTS7000215)', async () => {
      const client = sdk(admin);
      const app = (await client.api('/applications').post({ displayName: 'Daemon', web: { redirectUris: [] } })) as GraphApp;
      await client.api('/servicePrincipals').post({ appId: app.appId }); // without one the app gets no token (AADSTS7000229)
      const read = (await client.api(`/applications(appId='${app.appId}')`).get()) as GraphApp;
      assert.equal(read.id, app.id);
      await client.api(`/applications/${app.id}`).patch({ notes: 'nightly jobs' });
      // the app's permission to Graph (granted here until service principals' appRoleAssignments exist)
      await grantPermission(server.store.db, app.appId, GRAPH_APP_ID, 'application', ['User.Read.All']);
      const pc = (await client.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'ci' } })) as { keyId: string; secretText: string; hint: string; displayName: string; endDateTime: string };
      assert.equal(pc.displayName, 'ci');
      assert.equal(pc.hint, pc.secretText.slice(0, 3));
      assert.ok(Date.parse(pc.endDateTime) > Date.now() + 365 * 86_400_000, 'two years by default');
      const listed = (await client.api(`/applications/${app.id}`).get()) as GraphApp;
      assert.deepEqual(listed.passwordCredentials.map((c) => [c.keyId, c.hint, c.secretText, c.displayName]), [[pc.keyId, pc.hint, null, 'ci']]);
      assert.equal(listed.notes, 'nightly jobs');

      const r = await cca(app.appId, pc.secretText).acquireTokenByClientCredential({ scopes: [GRAPH] });
      assert.deepEqual(decodeJwt(r!.accessToken).roles, ['User.Read.All']);
      assert.equal(decodeJwt(r!.accessToken).azp, app.appId);

      await client.api(`/applications/${app.id}/removePassword`).post({ keyId: pc.keyId });
      await assert.rejects(cca(app.appId, pc.secretText).acquireTokenByClientCredential({ scopes: [GRAPH], skipCache: true }), /AADSTS7000215/);
      const again = await graphError(client.api(`/applications/${app.id}/removePassword`).post({ keyId: pc.keyId }));
      assert.equal(again.statusCode, 404);
      const audits = await server.store.db.selectFrom('audit_log').select('activity').where('target_id', '=', app.appId).orderBy('id').execute();
      assert.deepEqual(audits.map((a) => a.activity), ['Add application', 'Update application', 'Update application – Certificates and secrets management', 'Update application – Certificates and secrets management']);
      await client.api(`/applications/${app.id}`).delete();
    });

    test('the kind of client follows the redirect URI and the secret: a web redirect needs the secret (AADSTS7000218), an SPA or public-client one is public', async () => {
      const made = await graph(admin, 'POST', '/v1.0/applications', { displayName: 'Mixed', web: { redirectUris: ['https://mixed.example/cb'] }, spa: { redirectUris: ['https://mixed.example/spa'] }, publicClient: { redirectUris: ['http://localhost'] } });
      const app = made.body as unknown as GraphApp;
      assert.equal((await graph(admin, 'POST', '/v1.0/servicePrincipals', { appId: app.appId })).status, 201);
      await grantPermission(server.store.db, app.appId, GRAPH_APP_ID, 'delegated', ['User.Read']);
      const secret = String((await graph(admin, 'POST', `/v1.0/applications/${app.id}/addPassword`, {})).body.secretText);
      const codeFor = async (redirectUri: string) => {
        const p = pkce();
        const out = await authorize(server, new Jar(), { client_id: app.appId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid offline_access User.Read', code_challenge: p.challenge, code_challenge_method: 'S256' });
        assert.ok(out.redirect, `a code at ${redirectUri}: ${out.status} ${out.html?.slice(0, 300)}`);
        return { code: out.redirect.searchParams.get('code')!, verifier: p.verifier, redirectUri };
      };
      // an SPA's code is redeemed by the browser, with its Origin
      const redeem = (c: { code: string; verifier: string; redirectUri: string }, extra: Record<string, string> = {}) => token(server, { grant_type: 'authorization_code', client_id: app.appId, code: c.code, redirect_uri: c.redirectUri, code_verifier: c.verifier, ...extra }, c.redirectUri.includes('/spa') ? { origin: 'https://mixed.example' } : {});
      assertRefused(await redeem(await codeFor('https://mixed.example/cb')), 'invalid_client', 7000218, 'a web redirect without the secret');
      const web = await redeem(await codeFor('https://mixed.example/cb'), { client_secret: secret });
      assert.equal(web.status, 200, JSON.stringify(web.body));
      const spa = await redeem(await codeFor('https://mixed.example/spa'));
      assert.equal(spa.status, 200, JSON.stringify(spa.body));
      const native = await redeem(await codeFor('http://localhost:53000'));
      assert.equal(native.status, 200, JSON.stringify(native.body));
      // a confidential chain's refresh token needs the secret; a public chain's refuses one
      assertRefused(await token(server, { grant_type: 'refresh_token', client_id: app.appId, refresh_token: web.body.refresh_token! }), 'invalid_client', 7000218, 'a web refresh token without the secret');
      assert.equal((await token(server, { grant_type: 'refresh_token', client_id: app.appId, refresh_token: web.body.refresh_token!, client_secret: secret })).status, 200);
      assertRefused(await token(server, { grant_type: 'refresh_token', client_id: app.appId, refresh_token: native.body.refresh_token!, client_secret: secret }), 'invalid_client', 700025, 'a public refresh token with a secret');
      const spaRefresh = await token(server, { grant_type: 'refresh_token', client_id: app.appId, refresh_token: spa.body.refresh_token! }, { origin: 'https://mixed.example' });
      assert.equal(spaRefresh.status, 200, JSON.stringify(spaRefresh.body));
      // an SPA chain keeps its 24 hours through rotation (the web and public-client chains have the full lifetime)
      const day = await server.store.db.selectFrom('oidc_models').select('expires_at').where('model', '=', 'RefreshToken').where('client_id', '=', app.appId).where('expires_at', '<=', Date.now() + 86_400_000 + 60_000).execute();
      assert.equal(day.length, 2, 'the SPA chain: its first refresh token and the rotated one');
    });

    test('deleting an application ends its refresh tokens and codes (invalid_grant, bad_token)', async () => {
      const app = (await graph(admin, 'POST', '/v1.0/applications', { displayName: 'Short-lived', publicClient: { redirectUris: ['http://localhost'] } })).body as unknown as GraphApp;
      assert.equal((await graph(admin, 'POST', '/v1.0/servicePrincipals', { appId: app.appId })).status, 201);
      await grantPermission(server.store.db, app.appId, GRAPH_APP_ID, 'delegated', ['User.Read']);
      const jar = new Jar();
      const signIn = async () => {
        const p = pkce();
        const out = await authorize(server, jar, { client_id: app.appId, response_type: 'code', redirect_uri: 'http://localhost', scope: 'openid offline_access User.Read', code_challenge: p.challenge, code_challenge_method: 'S256' });
        return { code: out.redirect!.searchParams.get('code')!, verifier: p.verifier };
      };
      const first = await signIn();
      const t = await token(server, { grant_type: 'authorization_code', client_id: app.appId, code: first.code, redirect_uri: 'http://localhost', code_verifier: first.verifier });
      assert.ok(t.body.refresh_token, JSON.stringify(t.body));
      const unredeemed = await signIn();
      assert.equal((await graph(admin, 'DELETE', `/v1.0/applications/${app.id}`)).status, 204);
      const refresh = await token(server, { grant_type: 'refresh_token', client_id: app.appId, refresh_token: t.body.refresh_token });
      assertRefused(refresh, 'invalid_grant', 700016, 'refresh after the app was deleted');
      assert.equal(refresh.body.suberror, 'bad_token');
      assertRefused(await token(server, { grant_type: 'authorization_code', client_id: app.appId, code: unredeemed.code, redirect_uri: 'http://localhost', code_verifier: unredeemed.verifier }), 'invalid_grant', 700016, 'its code');
      const left = await server.store.db.selectFrom('oidc_models').select('model').where('client_id', '=', app.appId).execute();
      assert.deepEqual(left, [], 'nothing the engine issued to it is left');
    });

    test('who may write applications (Global, Application and Cloud Application Administrators; app-only with Application.ReadWrite.All)', async () => {
      // caller → may create, update and add a password
      const expected: Record<string, boolean> = { admin: true, appadmin: true, cloudadmin: true, useradmin: false, helpdesk: false, plain: false, appWithPermission: true, appWithout: false };
      const target = (await graph(admin, 'POST', '/v1.0/applications', { displayName: 'Rights target' })).body as unknown as GraphApp;
      const seen: Record<string, boolean> = {};
      for (const caller of Object.keys(expected)) {
        const bearer = caller === 'admin' ? admin : tokens[caller]!;
        const created = await graph(bearer, 'POST', '/v1.0/applications', { displayName: `By ${caller}` });
        const patched = await graph(bearer, 'PATCH', `/v1.0/applications/${target.id}`, { notes: caller });
        const secret = await graph(bearer, 'POST', `/v1.0/applications/${target.id}/addPassword`, {});
        const statuses = [created.status, patched.status, secret.status];
        seen[caller] = statuses.every((s) => s < 300);
        if (!seen[caller]) {
          assert.deepEqual(statuses, [403, 403, 403], caller);
          assert.match(created.body.error!.message, caller.startsWith('app') ? /Application\.ReadWrite\.All/ : /Application Administrator/, `${caller}: the 403 names the missing right`);
        }
        // every caller with a delegated or app token may read
        assert.equal((await graph(bearer, 'GET', `/v1.0/applications/${target.id}`)).status, caller === 'appWithout' ? 403 : 200, `${caller} reads`);
      }
      assert.deepEqual(seen, expected);
    });
  });
}

// An app registered entirely through Graph, as an Entra customer scripts it, then used by unmodified
// clients: the Graph SDK creates an application with a web and a public-client redirect URI and a secret,
// its service principal, an application permission on Microsoft Graph and delegated consent for
// User.Read; msal-node gets a client-credentials token for Graph and signs a user in by authorization
// code in Chromium with the web redirect URI; openid-client does the same as a public client with the
// public-client redirect URI of the same application. Removing the secret ends client credentials with it
// at once (AADSTS7000215); deleting the application ends its refresh tokens (invalid_grant).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '@microsoft/microsoft-graph-client';
import { ConfidentialClientApplication, CryptoProvider } from '@azure/msal-node';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { browserSkipReason, captureRedirect, launchBrowser, signIn } from './helpers/browser.js';
import { consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const quiet = { loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } };
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const USER_READ_ALL_ROLE = 'df021288-bdef-4463-88db-98f22de89214'; // Entra's id of User.Read.All (application)
const WEB_REDIRECT = 'https://contoso-crm.example/signin-oidc';
const PUBLIC_REDIRECT = 'http://localhost:53124/callback'; // openid-client sends the callback URL's path back as the redirect_uri

for (const dbKind of await databases()) {
  describe(`an app registered through Graph, used by msal-node and openid-client (${dbKind})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    let graph: Client;
    let app: { id: string; appId: string };
    let secret: { keyId: string; secretText: string };
    const alice = () => `alice@${server.tenantDomain}`;
    const authority = () => ({ authority: `${server.origin}/${server.tenantId}`, knownAuthorities: [new URL(server.origin).host] });
    const cca = () => new ConfidentialClientApplication({ auth: { ...authority(), clientId: app.appId, clientSecret: secret.secretText }, system: quiet });

    before(async () => {
      server = await startTestServer(dbKind);
      browser = await launchBrowser();
      await consentNativeAppToGraph(server);
      const token = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      graph = Client.init({ baseUrl: `${server.origin}/`, defaultVersion: 'v1.0', customHosts: new Set(['localhost']), authProvider: (done) => done(null, token) });
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('the Graph SDK registers the app: application, secret, service principal, application permission, delegated consent', async () => {
      app = (await graph.api('/applications').post({
        displayName: 'Contoso CRM',
        web: { redirectUris: [WEB_REDIRECT] },
        publicClient: { redirectUris: [PUBLIC_REDIRECT] },
        requiredResourceAccess: [{ resourceAppId: GRAPH_APP_ID, resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Scope' }, { id: USER_READ_ALL_ROLE, type: 'Role' }] }],
      })) as { id: string; appId: string };
      assert.notEqual(app.id, app.appId, 'object id and appId differ, as in Entra');
      secret = (await graph.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: 'crm' } })) as { keyId: string; secretText: string };
      assert.ok(secret.secretText.length >= 30);
      const sp = (await graph.api('/servicePrincipals').post({ appId: app.appId })) as { id: string; appId: string };
      assert.equal(sp.appId, app.appId);
      const graphSp = (await graph.api(`/servicePrincipals(appId='${GRAPH_APP_ID}')`).get()) as { id: string };
      const assignment = (await graph.api(`/servicePrincipals/${sp.id}/appRoleAssignments`).post({ principalId: sp.id, resourceId: graphSp.id, appRoleId: USER_READ_ALL_ROLE })) as { appRoleId: string };
      assert.equal(assignment.appRoleId, USER_READ_ALL_ROLE);
      const consent = (await graph.api('/oauth2PermissionGrants').post({ clientId: sp.id, consentType: 'AllPrincipals', resourceId: graphSp.id, scope: 'User.Read' })) as { scope: string };
      assert.equal(consent.scope.trim(), 'User.Read');
    });

    test('msal-node: client credentials for Graph with the new secret, and the token reads users', async () => {
      const r = await cca().acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'], skipCache: true });
      assert.ok(r?.accessToken);
      const p = decodeJwt(r.accessToken);
      assert.equal(p.aud, 'https://graph.microsoft.com');
      assert.equal(p.appid ?? p.azp, app.appId);
      assert.deepEqual(p.roles, ['User.Read.All']);
      const users = await fetch(`${server.origin}/v1.0/users?$top=1`, { headers: { authorization: `Bearer ${r.accessToken}` } });
      assert.equal(users.status, 200, await users.clone().text());
      assert.equal(((await users.json()) as { value: unknown[] }).value.length, 1);
    });

    test('msal-node: authorization code in Chromium with the web redirect URI and the secret', async () => {
      const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
      const client = cca();
      const url = await client.getAuthCodeUrl({ scopes: ['User.Read'], redirectUri: WEB_REDIRECT, codeChallenge: challenge, codeChallengeMethod: 'S256' });
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const cb = await captureRedirect(page, WEB_REDIRECT, async () => {
        await page.goto(url);
        await signIn(page, alice(), DEMO.demoPassword);
      });
      await context.close();
      const code = cb.searchParams.get('code');
      assert.ok(code, `a code at the web redirect URI: ${cb.href}`);
      const r = await client.acquireTokenByCode({ code, scopes: ['User.Read'], redirectUri: WEB_REDIRECT, codeVerifier: verifier });
      assert.equal(r.account?.username, alice());
      const p = decodeJwt(r.accessToken);
      assert.equal(p.aud, 'https://graph.microsoft.com');
      assert.deepEqual(String(p.scp).split(' '), ['User.Read'], 'the admin-consented scope');
    });

    let publicRefreshToken = '';
    let config: oidc.Configuration;

    test('openid-client: the same application as a public client, with its public-client redirect URI and PKCE', async () => {
      config = await oidc.discovery(new URL(server.issuer), app.appId, undefined, oidc.None());
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: PUBLIC_REDIRECT, scope: 'openid profile offline_access User.Read', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const cb = await captureRedirect(page, PUBLIC_REDIRECT, async () => {
        await page.goto(url.href);
        await signIn(page, alice(), DEMO.demoPassword);
      });
      await context.close();
      const tokens = await oidc.authorizationCodeGrant(config, cb, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
      assert.equal(tokens.claims()?.aud, app.appId);
      assert.ok(tokens.refresh_token, 'offline_access gives a refresh token');
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
      assert.ok(refreshed.access_token);
      publicRefreshToken = refreshed.refresh_token ?? '';
      assert.ok(publicRefreshToken);
    });

    test('removePassword ends client credentials with that secret at once (AADSTS7000215)', async () => {
      await graph.api(`/applications/${app.id}/removePassword`).post({ keyId: secret.keyId });
      await assert.rejects(cca().acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'], skipCache: true }), /AADSTS7000215/);
    });

    test("deleting the application ends its refresh tokens (invalid_grant) and it is gone from Graph", async () => {
      await graph.api(`/applications/${app.id}`).delete();
      await assert.rejects(oidc.refreshTokenGrant(config, publicRefreshToken), (e: unknown) => {
        const err = e as { error?: string; status?: number };
        assert.equal(err.error, 'invalid_grant');
        return true;
      });
      const gone = await fetch(`${server.origin}/v1.0/applications/${app.id}`, { headers: { authorization: `Bearer ${await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1')}` } });
      assert.equal(gone.status, 404);
    });
  });
}

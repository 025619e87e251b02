// App registrations in the admin portal, in real Chromium and through the pages only: a Global
// Administrator registers a web app, adds a secret (read from the page, once), adds Microsoft Graph's
// User.Read (delegated) and the Demo API's Data.Read.All (application) and grants admin consent; then
// msal-node signs a user in to that app (authorization code in Chromium) and the token reads Graph /me;
// a public-client redirect URI added on the page lets openid-client sign in with PKCE and refresh.
// Every form refuses bad input at its field and changes nothing; server refusals are shown in a
// MessageBar; what the pages show is what Graph holds; removing the secret ends client credentials
// (AADSTS7000215); deleting the app after confirmation removes it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfidentialClientApplication, CryptoProvider } from '@azure/msal-node';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { createUser } from '../src/directory/users.js';
import { browserSkipReason, captureRedirect, launchBrowser, signIn } from './helpers/browser.js';
import { consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { ADMIN_PASSWORD, noSeriousViolations, openPortal, shot, until } from './helpers/portal.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const quiet = { loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } };
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const USER_READ_SCOPE = 'e1fe6dd8-ba31-4d61-89e7-88639da4683d'; // Entra's id of User.Read (delegated)
const WEB_REDIRECT = 'https://localhost:44321/signin-oidc';
const PUBLIC_REDIRECT = 'http://localhost:53124/callback';
const NAME = 'Contoso CRM';

interface GraphApp {
  id: string;
  appId: string;
  displayName: string;
  identifierUris: string[];
  isFallbackPublicClient: boolean;
  web: { redirectUris: string[]; logoutUrl: string | null };
  spa: { redirectUris: string[] };
  publicClient: { redirectUris: string[] };
  api: { oauth2PermissionScopes: { id: string; value: string; type: string; isEnabled: boolean; adminConsentDisplayName: string }[] };
  appRoles: { id: string; value: string; displayName: string; isEnabled: boolean; allowedMemberTypes: string[] }[];
  requiredResourceAccess: { resourceAppId: string; resourceAccess: { id: string; type: string }[] }[];
  passwordCredentials: { keyId: string; hint: string; displayName: string | null; endDateTime: string }[];
  extension_latchkey_requireMfa: boolean;
  extension_latchkey_requirePkce: boolean;
  extension_latchkey_backchannelLogoutUri: string | null;
}

const text = async (page: Page, selector: string) => ((await page.textContent(selector)) ?? '').trim();

/**
 * axe on a page with no dialog open, once a closed dialog has given the page back to assistive technology
 * (no aria-hidden left on the page, no focus-trap element left in the body).
 */
async function pageHasNoSeriousViolations(page: Page, what: string): Promise<void> {
  await until(page, "!document.getElementById('root').hasAttribute('aria-hidden') && !document.querySelector('body > i')", 5_000).catch(async () => {
    const state = await page.evaluate("JSON.stringify({ root: document.getElementById('root').getAttribute('aria-hidden'), body: [...document.body.children].map((e) => `${e.tagName}:${e.getAttribute('aria-hidden')}`) })");
    assert.fail(`${what}: the page was not given back to assistive technology: ${String(state)}`);
  });
  await noSeriousViolations(page, what);
}

for (const dbKind of await databases()) {
  describe(`admin portal: app registrations (${dbKind})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    let page: Page;
    let closePortal: () => Promise<void>;
    let adminToken: string;
    let app: GraphApp;
    let secret = '';
    let keyId = '';
    const alice = () => `alice@${server.tenantDomain}`;
    const authority = () => ({ authority: `${server.origin}/${server.tenantId}`, knownAuthorities: [new URL(server.origin).host] });
    const cca = () => new ConfidentialClientApplication({ auth: { ...authority(), clientId: app.appId, clientSecret: secret }, system: quiet });

    const graph = async <T = Record<string, unknown>>(path: string): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${server.origin}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
      return { status: res.status, body: (await res.json()) as T };
    };
    const stored = async () => (await graph<GraphApp>(`/v1.0/applications/${app.id}`)).body;
    const appCount = async () => (await graph<{ value: unknown[] }>('/v1.0/applications?$select=id&$top=999')).body.value.length;
    const section = async (key: string, ready: string) => {
      await page.click(`#section-${key}`);
      await page.waitForSelector(ready);
      assert.equal(new URL(page.url()).pathname, `/admin/apps/${app.id}${key === 'overview' ? '' : `/${key}`}`);
    };

    before(async () => {
      server = await startTestServer(dbKind);
      browser = await launchBrowser();
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, ADMIN_PASSWORD);
      ({ page, close: closePortal } = await openPortal(browser, server.origin, `admin@${server.tenantDomain}`, ADMIN_PASSWORD, { start: '/admin/apps' }));
    });
    after(async () => {
      await closePortal?.();
      await browser?.close();
      await server?.close();
    });

    test('New registration refuses an empty name and a web redirect URI without HTTPS at their fields, creating nothing; then registers the app, whose overview is what Graph holds', async () => {
      await page.waitForSelector('#appsTable');
      assert.equal(new URL(page.url()).pathname, '/admin/apps');
      const seeded = await page.locator('#appsTable tbody tr').evaluateAll((rows) => rows.map((r) => r.querySelector('td')!.textContent).sort());
      assert.deepEqual(seeded, ['Automation', 'Demo API', 'Demo native app', 'Demo portal', 'Latchkey admin portal']);
      await shot(page, 'apps');
      await pageHasNoSeriousViolations(page, 'the app registrations list');
      const before = await appCount();

      await page.click('#newRegistration');
      await page.waitForSelector('#newAppDialog');
      await noSeriousViolations(page, 'the new registration panel');
      await page.click('#registerButton');
      await page.waitForSelector('#newAppNameError');
      assert.equal(await text(page, '#newAppNameError'), 'Enter a name for the application.');
      await page.fill('#newAppName', NAME);
      await page.selectOption('#newAppPlatform', 'web');
      await page.fill('#newAppRedirectUri', 'http://crm.contoso.example/signin-oidc');
      await page.click('#registerButton');
      await page.waitForSelector('#newAppRedirectUriError');
      assert.equal(await text(page, '#newAppRedirectUriError'), 'The URI must use HTTPS (plain http only for http://localhost or http://127.0.0.1).');
      assert.equal(await page.locator('#newAppNameError').count(), 0, 'the name is accepted now');
      await shot(page, 'new-registration-refused');
      assert.equal(await appCount(), before, 'nothing was created');

      await page.fill('#newAppRedirectUri', WEB_REDIRECT);
      await page.click('#registerButton');
      await page.waitForSelector('#essentials');
      const objectId = new URL(page.url()).pathname.split('/')[3]!;
      app = (await graph<GraphApp>(`/v1.0/applications/${objectId}`)).body;
      assert.equal(app.displayName, NAME);
      assert.deepEqual([app.web.redirectUris, app.spa.redirectUris, app.publicClient.redirectUris], [[WEB_REDIRECT], [], []]);
      assert.equal(await appCount(), before + 1);
      const overview = { name: await text(page, '#ovDisplayName'), appId: await text(page, '#ovAppId'), objectId: await text(page, '#ovObjectId'), tenant: await text(page, '#ovTenantId'), redirects: await text(page, '#ovRedirects'), credentials: await text(page, '#ovCredentials') };
      assert.deepEqual(overview, { name: NAME, appId: app.appId, objectId: app.id, tenant: server.tenantId, redirects: '1 web, 0 spa, 0 public client', credentials: '0 certificate, 0 secrets' });
      assert.notEqual(app.appId, app.id);
      // as Entra's portal: the new registration has its service principal in the tenant (without one it gets no token)
      assert.equal((await graph(`/v1.0/servicePrincipals(appId='${app.appId}')`)).status, 200, 'the registration made its service principal');
      assert.equal(await text(page, '#epAuthorize'), `${server.origin}/${server.tenantId}/oauth2/v2.0/authorize`);
      assert.equal(await text(page, '#epToken'), `${server.origin}/${server.tenantId}/oauth2/v2.0/token`);
      const metadata = (await (await fetch(await text(page, '#epMetadata'))).json()) as { issuer: string };
      assert.equal(metadata.issuer, server.issuer, 'the metadata endpoint shown is the tenant’s');
      await shot(page, 'app-overview');
      await pageHasNoSeriousViolations(page, "an app's overview");
    });

    test('Certificates & secrets: a date in the past is refused at its field; a secret is added with its description, its value shown once with a copy button and gone when the panel closes', async () => {
      await section('secrets', '#newSecret');
      assert.equal(await page.locator('#noSecrets').count(), 1);
      await page.click('#newSecret');
      await page.waitForSelector('#newSecretDialog');
      await page.fill('#secretDescription', 'crm web');
      await page.selectOption('#secretExpiry', 'custom');
      await page.fill('#secretEnd', '2020-01-31');
      await page.click('#addSecretButton');
      await page.waitForSelector('#secretEndError');
      assert.equal(await text(page, '#secretEndError'), 'The expiry must be a date in the future.');
      assert.deepEqual((await stored()).passwordCredentials, [], 'nothing was added');
      await noSeriousViolations(page, 'the new secret panel');

      await page.selectOption('#secretExpiry', '180');
      await page.click('#addSecretButton');
      await page.waitForSelector('#secretValue');
      secret = await page.inputValue('#secretValue');
      keyId = await page.inputValue('#secretKeyId');
      assert.ok(secret.length >= 30, 'a strong secret');
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.origin });
      await page.click('#copySecret');
      await page.waitForSelector('#secretCopied');
      assert.equal(await page.evaluate('navigator.clipboard.readText()'), secret, 'the copy button copies the value');
      await shot(page, 'secret-added');
      await noSeriousViolations(page, 'the added secret panel');
      const pcs = (await stored()).passwordCredentials;
      assert.deepEqual(pcs.map((c) => [c.keyId, c.displayName, c.hint]), [[keyId, 'crm web', secret.slice(0, 3)]]);
      const days = (Date.parse(pcs[0]!.endDateTime) - Date.now()) / 86_400_000;
      assert.ok(days > 179.9 && days <= 180, `expires in 180 days (${days})`);

      await page.click('#closeSecretButton');
      await page.waitForSelector('#newSecretDialog', { state: 'detached' });
      await page.waitForSelector(`tr[data-key-id="${keyId}"]`);
      assert.equal(await page.locator(`text=${secret}`).count(), 0, 'the value is not shown again');
      assert.deepEqual(await page.locator(`tr[data-key-id="${keyId}"] td`).evaluateAll((tds) => [tds[0]!.textContent, tds[2]!.textContent]), ['crm web', `${secret.slice(0, 3)}*****`]);
      await shot(page, 'secrets');
      await pageHasNoSeriousViolations(page, 'the secrets section');
    });

    test('API permissions: none chosen is refused at the field; Graph User.Read (delegated) and the Demo API’s Data.Read.All (application) added; admin consent creates the service principal, the delegated grant and the app role assignment', async () => {
      await section('permissions', '#addPermission');
      await page.click('#addPermission');
      await page.waitForSelector('[id="perm-User.Read"]');
      await page.click('#addPermissionsButton');
      await page.waitForSelector('#permissionChoiceError');
      assert.equal(await text(page, '#permissionChoiceError'), 'Choose at least one permission.');
      assert.deepEqual((await stored()).requiredResourceAccess, [], 'nothing was added');
      await page.fill('#permissionFilter', 'User.Read');
      await page.check('[id="perm-User.Read"]');
      await shot(page, 'add-permission');
      await noSeriousViolations(page, 'the add permission panel');
      await page.click('#addPermissionsButton');
      await page.waitForSelector('#addPermissionDialog', { state: 'detached' });
      await page.click('#addPermission');
      await page.waitForSelector('#permissionApi');
      await page.selectOption('#permissionApi', DEMO.apiAppId);
      await page.check('#kindApplication');
      await page.check('[id="perm-Data.Read.All"]');
      await page.click('#addPermissionsButton');
      await page.waitForSelector('#addPermissionDialog', { state: 'detached' });

      const rows = () => page.locator('#permissionsTable tbody tr').evaluateAll((trs) => trs.map((r) => [r.getAttribute('data-permission'), r.children[1]!.textContent, r.children[2]!.getAttribute('data-status')]));
      await until(page, "document.querySelectorAll('#permissionsTable tbody tr').length === 2");
      assert.deepEqual(await rows(), [
        ['Microsoft Graph/User.Read', 'Delegated', 'not-granted'],
        ['Demo API/Data.Read.All', 'Application', 'not-granted'],
      ]);
      const demoApiSp = (await graph<{ id: string; appRoles: { id: string; value: string }[] }>(`/v1.0/servicePrincipals(appId='${DEMO.apiAppId}')`)).body;
      const dataReadAll = demoApiSp.appRoles.find((r) => r.value === 'Data.Read.All')!.id;
      assert.deepEqual((await stored()).requiredResourceAccess, [
        { resourceAppId: GRAPH_APP_ID, resourceAccess: [{ id: USER_READ_SCOPE, type: 'Scope' }] },
        { resourceAppId: DEMO.apiAppId, resourceAccess: [{ id: dataReadAll, type: 'Role' }] },
      ]);

      await page.click('#grantConsent');
      await page.waitForSelector('#grantConsentDialog');
      await shot(page, 'grant-consent');
      await noSeriousViolations(page, 'the consent confirmation');
      await page.click('#grantConsentDialog-confirm');
      await page.waitForSelector('#grantConsentDialog', { state: 'detached' });
      await until(page, "[...document.querySelectorAll('#permissionsTable [data-status]')].every((c) => c.getAttribute('data-status') === 'granted')");
      assert.deepEqual(await rows(), [
        ['Microsoft Graph/User.Read', 'Delegated', 'granted'],
        ['Demo API/Data.Read.All', 'Application', 'granted'],
      ]);
      assert.match(await text(page, '#permissionsTable'), /Granted.*Granted/);
      const sp = (await graph<{ id: string }>(`/v1.0/servicePrincipals(appId='${app.appId}')`)).body;
      const graphSp = (await graph<{ id: string }>(`/v1.0/servicePrincipals(appId='${GRAPH_APP_ID}')`)).body;
      const grants = (await graph<{ value: { clientId: string; resourceId: string; scope: string; consentType: string }[] }>(`/v1.0/servicePrincipals/${sp.id}/oauth2PermissionGrants`)).body.value;
      assert.deepEqual(grants.map((g) => [g.clientId, g.resourceId, g.consentType, g.scope]), [[sp.id, graphSp.id, 'AllPrincipals', 'User.Read']]);
      const assignments = (await graph<{ value: { principalId: string; resourceId: string; appRoleId: string }[] }>(`/v1.0/servicePrincipals/${sp.id}/appRoleAssignments`)).body.value;
      assert.deepEqual(assignments.map((a) => [a.principalId, a.resourceId, a.appRoleId]), [[sp.id, demoApiSp.id, dataReadAll]]);
      await shot(page, 'permissions');
      await pageHasNoSeriousViolations(page, 'the API permissions section');
    });

    test('msal-node signs alice in to the app by authorization code in Chromium with the secret read from the page; the token reads Graph /me; client credentials carry the Demo API role', async () => {
      const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
      const client = cca();
      const url = await client.getAuthCodeUrl({ scopes: ['User.Read'], redirectUri: WEB_REDIRECT, codeChallenge: challenge, codeChallengeMethod: 'S256' });
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const signInPage = await context.newPage();
      const cb = await captureRedirect(signInPage, WEB_REDIRECT, async () => {
        await signInPage.goto(url);
        await signIn(signInPage, alice(), DEMO.demoPassword);
      });
      await context.close();
      const code = cb.searchParams.get('code');
      assert.ok(code, `a code at the web redirect URI: ${cb.href}`);
      const r = await client.acquireTokenByCode({ code, scopes: ['User.Read'], redirectUri: WEB_REDIRECT, codeVerifier: verifier });
      assert.equal(r.account?.username, alice());
      assert.deepEqual(String(decodeJwt(r.accessToken).scp).split(' '), ['User.Read'], 'the admin-consented scope');
      const me = await fetch(`${server.origin}/v1.0/me`, { headers: { authorization: `Bearer ${r.accessToken}` } });
      assert.equal(me.status, 200);
      assert.equal(((await me.json()) as { userPrincipalName: string }).userPrincipalName, alice());

      const cc = await cca().acquireTokenByClientCredential({ scopes: [`${DEMO.apiIdentifier}/.default`], skipCache: true });
      assert.deepEqual(decodeJwt(cc!.accessToken).roles, ['Data.Read.All']);
      assert.equal(decodeJwt(cc!.accessToken).aud, DEMO.apiAppId);
    });

    test('Authentication: bad redirect and logout URLs refused at their fields; a public-client redirect URI added, logout URLs and public client flows saved; openid-client signs in as a public client with PKCE and refreshes', async () => {
      await section('authentication', '#add-publicClient');
      const unchanged = JSON.stringify(await stored());
      await page.fill('#add-publicClient', 'https://localhost:53124/callback');
      await page.click('#add-publicClient-button');
      await page.waitForSelector('#add-publicClient-error');
      assert.equal(await text(page, '#add-publicClient-error'), 'A public client uses http://localhost, not HTTPS, on a loopback host.');
      await page.fill('#add-web', WEB_REDIRECT);
      await page.click('#add-web-button');
      await page.waitForSelector('#add-web-error');
      assert.equal(await text(page, '#add-web-error'), 'This redirect URI is already registered for this platform.');
      await page.fill('#add-spa', 'https://spa.contoso.example/#/callback');
      await page.click('#add-spa-button');
      await page.waitForSelector('#add-spa-error');
      assert.equal(await text(page, '#add-spa-error'), 'A redirect URI must not have a fragment (#).');
      await page.fill('#frontLogout', 'http://crm.contoso.example/signout');
      await page.fill('#backLogout', 'not a url');
      await page.click('#saveLogout');
      await page.waitForSelector('#backLogoutError');
      assert.equal(await text(page, '#frontLogoutError'), 'The URI must use HTTPS (plain http only for http://localhost or http://127.0.0.1).');
      assert.equal(await text(page, '#backLogoutError'), 'This is not an absolute URI (such as https://app.example/signin-oidc).');
      await shot(page, 'authentication-refused');
      assert.equal(JSON.stringify(await stored()), unchanged, 'nothing changed');

      await page.fill('#add-publicClient', PUBLIC_REDIRECT);
      await page.click('#add-publicClient-button');
      await page.waitForSelector(`#uris-publicClient tr[data-uri="${PUBLIC_REDIRECT}"]`);
      await page.fill('#add-spa', 'https://spa.contoso.example/callback');
      await page.click('#add-spa-button');
      await page.waitForSelector('#uris-spa tr[data-uri="https://spa.contoso.example/callback"]');
      await page.click('#remove-spa-0');
      await page.waitForSelector('#uris-spa', { state: 'detached' });
      await page.fill('#frontLogout', 'https://localhost:44321/signout');
      await page.fill('#backLogout', 'https://localhost:44321/backchannel-logout');
      await page.check('#allowPublicClient');
      await page.click('#saveLogout');
      await page.waitForSelector('#logoutSaved');
      const saved = await stored();
      assert.deepEqual(
        [saved.web.redirectUris, saved.spa.redirectUris, saved.publicClient.redirectUris, saved.web.logoutUrl, saved.extension_latchkey_backchannelLogoutUri, saved.isFallbackPublicClient],
        [[WEB_REDIRECT], [], [PUBLIC_REDIRECT], 'https://localhost:44321/signout', 'https://localhost:44321/backchannel-logout', true],
      );
      const shown = await page.locator('[id^="uris-"] tr').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-uri')));
      assert.deepEqual(shown, [WEB_REDIRECT, PUBLIC_REDIRECT], 'the page shows what Graph holds');
      await shot(page, 'authentication');
      await pageHasNoSeriousViolations(page, 'the authentication section');

      const config = await oidc.discovery(new URL(server.issuer), app.appId, undefined, oidc.None());
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: PUBLIC_REDIRECT, scope: 'openid profile offline_access User.Read', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state });
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const signInPage = await context.newPage();
      const cb = await captureRedirect(signInPage, PUBLIC_REDIRECT, async () => {
        await signInPage.goto(url.href);
        await signIn(signInPage, alice(), DEMO.demoPassword);
      });
      await context.close();
      const tokens = await oidc.authorizationCodeGrant(config, cb, { pkceCodeVerifier: verifier, expectedState: state, idTokenExpected: true });
      assert.equal(tokens.claims()?.aud, app.appId);
      assert.equal(tokens.claims()?.preferred_username, alice());
      assert.ok(tokens.refresh_token);
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
      assert.ok(refreshed.access_token);
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token, 'a public client’s refresh token rotates');
      const me = await fetch(`${server.origin}/v1.0/me`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
      assert.equal(me.status, 200);
    });

    test('Expose an API: bad identifier URI refused at the field; one another app holds refused by the server in a MessageBar, nothing changed; scopes added (a duplicate value refused at the field) and removed', async () => {
      await section('expose', '#identifierUri');
      assert.equal(await page.inputValue('#identifierUri'), `api://${app.appId}`, 'api://{client id} offered');
      assert.equal(await page.isDisabled('#addScope'), true);
      assert.equal(await text(page, '#addScopeReason'), 'Set the Application ID URI first.');
      await page.fill('#identifierUri', 'http://crm.contoso.example');
      await page.click('#saveIdentifierUri');
      await page.waitForSelector('#identifierUriError');
      assert.equal(await text(page, '#identifierUriError'), 'The Application ID URI must be an api://, https:// or urn: URI of at most 255 characters.');
      await page.fill('#identifierUri', DEMO.apiIdentifier);
      await page.click('#saveIdentifierUri');
      await page.waitForSelector('[data-testid="error"]');
      assert.match(await text(page, '[data-testid="error"]'), /The server refused \(400\).*Another object with the same value for property identifierUris already exists: 'api:\/\/demo-api'/);
      assert.equal(await page.locator('#identifierUriError').count(), 0, 'the field was accepted: the server refused');
      assert.deepEqual((await stored()).identifierUris, [], 'nothing changed');
      await shot(page, 'expose-refused');
      await pageHasNoSeriousViolations(page, 'a server refusal');

      await page.fill('#identifierUri', 'api://contoso-crm');
      await page.click('#saveIdentifierUri');
      await page.waitForSelector('#identifierUriSaved');
      await until(page, "document.querySelector('#addScope') && !document.querySelector('#addScope').disabled");
      for (const value of ['Customers.Read', 'Customers.Write']) {
        await page.click('#addScope');
        await page.waitForSelector('#addScopeDialog');
        await page.fill('#scopeValue', value);
        await page.fill('#scopeDisplayName', `${value} for the signed-in user`);
        await page.fill('#scopeDescription', `Allows the app to do ${value} as the user.`);
        await page.click('#addScopeButton');
        await page.waitForSelector('#addScopeDialog', { state: 'detached' });
        await page.waitForSelector(`tr[data-scope="${value}"]`);
      }
      const before = JSON.stringify(await stored());
      await page.click('#addScope');
      await page.waitForSelector('#addScopeDialog');
      await page.fill('#scopeValue', 'Customers.Read');
      await page.click('#addScopeButton');
      await page.waitForSelector('#scopeValueError');
      assert.equal(await text(page, '#scopeValueError'), "Another one already has the scope name 'Customers.Read'.");
      assert.equal(await text(page, '#scopeDisplayNameError'), 'Enter the admin consent display name.');
      await page.fill('#scopeValue', 'Customers Read');
      await page.click('#addScopeButton');
      await until(page, "document.querySelector('#scopeValueError')?.textContent === 'The scope name must not contain spaces.'");
      await shot(page, 'add-scope-refused');
      await noSeriousViolations(page, 'the add scope panel');
      await page.click('#cancelScopeButton');
      assert.equal(JSON.stringify(await stored()), before, 'nothing changed');

      await page.click('[id="removeScope-Customers.Write"]');
      await page.waitForSelector('#removeScopeDialog');
      await page.click('#removeScopeDialog-confirm');
      await page.waitForSelector('tr[data-scope="Customers.Write"]', { state: 'detached' });
      const saved = await stored();
      assert.deepEqual(saved.identifierUris, ['api://contoso-crm']);
      assert.deepEqual(saved.api.oauth2PermissionScopes.map((x) => [x.value, x.type, x.isEnabled, x.adminConsentDisplayName]), [['Customers.Read', 'Admin', true, 'Customers.Read for the signed-in user']]);
      assert.deepEqual(await page.locator('#scopesTable tbody tr td:first-child').allTextContents(), ['api://contoso-crm/Customers.Read']);
      await shot(page, 'expose');
      await pageHasNoSeriousViolations(page, 'the expose an API section');
    });

    test('App roles: an empty display name and a duplicate value refused at their fields; a role added and removed', async () => {
      await section('roles', '#addRole');
      for (const [name, value] of [['CRM administrators', 'Crm.Admin'], ['CRM readers', 'Crm.Read']]) {
        await page.click('#addRole');
        await page.waitForSelector('#addRoleDialog');
        await page.fill('#roleDisplayName', name!);
        await page.fill('#roleValue', value!);
        await page.fill('#roleDescription', `${name} of Contoso CRM`);
        await page.click('#addRoleButton');
        await page.waitForSelector('#addRoleDialog', { state: 'detached' });
        await page.waitForSelector(`tr[data-role="${value}"]`);
      }
      const before = JSON.stringify(await stored());
      await page.click('#addRole');
      await page.waitForSelector('#addRoleDialog');
      await page.fill('#roleValue', 'Crm.Admin');
      await page.fill('#roleDescription', 'again');
      await page.click('#addRoleButton');
      await page.waitForSelector('#roleValueError');
      assert.equal(await text(page, '#roleDisplayNameError'), 'Enter a display name.');
      assert.equal(await text(page, '#roleValueError'), "Another one already has the value 'Crm.Admin'.");
      await shot(page, 'add-role-refused');
      await noSeriousViolations(page, 'the create app role panel');
      await page.click('#cancelRoleButton');
      assert.equal(JSON.stringify(await stored()), before, 'nothing changed');

      await page.click('[id="removeRole-Crm.Read"]');
      await page.waitForSelector('#removeRoleDialog');
      await page.click('#removeRoleDialog-confirm');
      await page.waitForSelector('tr[data-role="Crm.Read"]', { state: 'detached' });
      assert.deepEqual((await stored()).appRoles.map((r) => [r.displayName, r.value, r.isEnabled, r.allowedMemberTypes]), [['CRM administrators', 'Crm.Admin', true, ['Application']]]);
      await shot(page, 'roles');
      await pageHasNoSeriousViolations(page, 'the app roles section');
    });

    test('Latchkey settings are saved as the extension properties Graph shows', async () => {
      await section('settings', '#requireMfa');
      assert.equal(await page.isDisabled('#saveSettings'), true, 'nothing to save yet');
      await page.check('#requireMfa');
      await page.check('#requirePkce');
      await page.click('#saveSettings');
      await page.waitForSelector('#settingsSaved');
      const saved = await stored();
      assert.deepEqual([saved.extension_latchkey_requireMfa, saved.extension_latchkey_requirePkce], [true, true]);
      await shot(page, 'settings');
      await pageHasNoSeriousViolations(page, 'the Latchkey settings section');
      await page.uncheck('#requireMfa');
      await page.waitForSelector('#settingsSaved', { state: 'detached' });
      await page.click('#saveSettings');
      await page.waitForSelector('#settingsSaved');
      assert.deepEqual([(await stored()).extension_latchkey_requireMfa, (await stored()).extension_latchkey_requirePkce], [false, true]);
    });

    test('removing the secret on the page ends client credentials with it at once (AADSTS7000215)', async () => {
      await section('secrets', `tr[data-key-id="${keyId}"]`);
      await page.click(`#removeSecret-${keyId}`);
      await page.waitForSelector('#removeSecretDialog');
      await noSeriousViolations(page, 'the remove secret confirmation');
      await page.click('#removeSecretDialog-confirm');
      await page.waitForSelector('#noSecrets');
      assert.deepEqual((await stored()).passwordCredentials, []);
      await assert.rejects(cca().acquireTokenByClientCredential({ scopes: [`${DEMO.apiIdentifier}/.default`], skipCache: true }), /AADSTS7000215/);
    });

    test('at phone width the app pages stay usable without horizontal scrolling', async () => {
      // a permission without consent beside the granted ones: its badge is the longer one
      const before = (await stored()).requiredResourceAccess;
      const graphSp = (await graph<{ oauth2PermissionScopes: { id: string; value: string }[] }>(`/v1.0/servicePrincipals(appId='${GRAPH_APP_ID}')`)).body;
      const notGranted = graphSp.oauth2PermissionScopes.find((p) => p.value === 'User.ReadBasic.All')!.id;
      const patch = (requiredResourceAccess: unknown) => fetch(`${server.origin}/v1.0/applications/${app.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ requiredResourceAccess }) });
      assert.equal((await patch(before.map((r) => (r.resourceAppId === GRAPH_APP_ID ? { ...r, resourceAccess: [...r.resourceAccess, { id: notGranted, type: 'Scope' }] } : r)))).status, 204);
      const phone = await openPortal(browser, server.origin, `admin@${server.tenantDomain}`, ADMIN_PASSWORD, { width: 390, start: `/admin/apps/${app.id}/permissions` });
      try {
        await phone.page.waitForSelector('#permissionsTable [data-status="not-granted"]');
        assert.ok((await phone.page.evaluate('document.documentElement.scrollWidth')) as number <= 390, 'no horizontal scrolling');
        // each status badge on one line, as tall as the others; the type is told under the permission's name
        const badges = await phone.page.locator('#permissionsTable [data-status] > *').evaluateAll((els) => els.map((e) => [e.textContent, Math.round(e.getBoundingClientRect().height)]));
        assert.deepEqual(badges.map(([t]) => t), ['Granted', 'Not granted', 'Granted']);
        assert.equal(new Set(badges.map(([, h]) => h)).size, 1, `badge heights ${JSON.stringify(badges)}`);
        assert.equal(await phone.page.locator('[data-permission="Microsoft Graph/User.ReadBasic.All"] td').first().innerText(), 'Microsoft Graph · User.ReadBasic.All\nDelegated');
        await shot(phone.page, 'app-permissions-phone');
        await phone.page.click('#section-authentication');
        await phone.page.waitForSelector('#add-web');
        assert.ok((await phone.page.evaluate('document.documentElement.scrollWidth')) as number <= 390, 'no horizontal scrolling');
        await shot(phone.page, 'app-authentication-phone');
        await phone.page.click('#nav-apps');
        await phone.page.waitForSelector('#appsTable');
        assert.ok((await phone.page.evaluate('document.documentElement.scrollWidth')) as number <= 390, 'no horizontal scrolling');
        await shot(phone.page, 'apps-phone');
      } finally {
        await phone.close();
        await patch(before);
      }
    });

    test("a Helpdesk Administrator sees New registration, Delete, the app's changes, its secrets and admin consent disabled with the server's reason; Graph refuses the registration in the same words and nothing is created", async () => {
      await createUser(server.store.db, { tenantId: server.tenantId, upn: `helpdesk@${server.tenantDomain}`, displayName: 'Helpdesk Admin', password: 'Helpdesk-Password-1!', roles: ['Helpdesk Administrator'] });
      const before = await appCount();
      const roles = 'needs one of the directory roles Global Administrator, Application Administrator, Cloud Application Administrator.';
      const why = (what: string) => `Insufficient privileges to complete the operation: ${what} ${roles}`;
      const helpdesk = await openPortal(browser, server.origin, `helpdesk@${server.tenantDomain}`, 'Helpdesk-Password-1!', { start: '/admin/apps' });
      const p = helpdesk.page;
      const disabledWith = async (button: string, reasonId: string, reason: string) => {
        await p.waitForSelector(`#${reasonId}`);
        assert.equal(await p.isDisabled(button), true, `${button} disabled`);
        assert.equal(await p.getAttribute(button, 'aria-describedby'), reasonId);
        assert.equal(await text(p, `#${reasonId}`), reason);
      };
      try {
        await p.waitForSelector('#appsTable');
        await disabledWith('#newRegistration', 'newRegistrationReason', why('creating applications'));
        await shot(p, 'helpdesk-apps');
        await noSeriousViolations(p, 'the app registrations of a Helpdesk Administrator');
        await p.goto(`${server.origin}/admin/apps/${app.id}/permissions`);
        await p.waitForSelector('#permissionsTable');
        await disabledWith('#deleteApp', 'deleteAppReason', why('deleting applications'));
        await disabledWith('#addPermission', 'updateAppReason', why('updating applications'));
        assert.match(await text(p, '#readOnlyApp'), /^Read only/);
        await disabledWith('[id="removePermission-User.Read"]', 'updateAppReason', why('updating applications'));
        await disabledWith('#grantConsent', 'grantConsentRightReason', 'Insufficient privileges to complete the operation: granting tenant-wide consent to delegated permissions needs one of the directory roles Global Administrator, Privileged Role Administrator, Application Administrator, Cloud Application Administrator.');
        await shot(p, 'helpdesk-app-permissions');
        await noSeriousViolations(p, "an app's permissions seen by a Helpdesk Administrator");
        await p.click('#section-secrets');
        await disabledWith('#newSecret', 'secretsReason', why('managing application secrets'));
        await p.click('#section-settings');
        await disabledWith('#saveSettings', 'updateAppReason', why('updating applications'));
      } finally {
        await helpdesk.close();
      }
      const token = await delegatedGraphToken(server, `helpdesk@${server.tenantDomain}`, 'Helpdesk-Password-1!');
      const res = await fetch(`${server.origin}/v1.0/applications`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ displayName: 'Not allowed' }) });
      assert.deepEqual([res.status, ((await res.json()) as { error: { message: string } }).error.message], [403, why('creating applications')]);
      assert.equal(await appCount(), before, 'nothing was created');
    });

    test('Delete asks first, then the app is gone from Graph and from the list', async () => {
      await page.goto(`${server.origin}/admin/apps/${app.id}`);
      await page.waitForSelector('#deleteApp');
      await page.click('#deleteApp');
      await page.waitForSelector('#deleteAppDialog');
      await shot(page, 'delete-app');
      await noSeriousViolations(page, 'the delete confirmation');
      await page.click('#deleteAppDialog-cancel');
      await page.waitForSelector('#deleteAppDialog', { state: 'detached' });
      assert.equal((await graph(`/v1.0/applications/${app.id}`)).status, 200, 'cancel deletes nothing');
      await page.click('#deleteApp');
      await page.click('#deleteAppDialog-confirm');
      await page.waitForSelector('#appsTable');
      assert.equal(new URL(page.url()).pathname, '/admin/apps');
      assert.equal((await graph(`/v1.0/applications/${app.id}`)).status, 404);
      assert.equal(await page.locator(`tr[data-app-id="${app.appId}"]`).count(), 0);
    });
  });
}

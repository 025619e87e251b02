// Unmodified @azure/msal-node 7 against Latchkey over HTTPS, with metadata discovered through the trusted
// local CA: client credentials, auth code with the sign-in in Chromium, silent refresh for another
// resource, acquireTokenInteractive with form_post to MSAL's loopback, device code, and authorities by
// tenant id, domain and `organizations`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfidentialClientApplication, CryptoProvider, PublicClientApplication, type Configuration } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import type { Browser } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { browserSkipReason, captureRedirect, launchBrowser, signIn } from './helpers/browser.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const quiet = { loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } };

for (const dbKind of await databases()) {
  describe(`@azure/msal-node against Latchkey (${dbKind})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    const host = () => new URL(server.origin).host;
    const auth = (tenant: string) => ({ authority: `${server.origin}/${tenant}`, knownAuthorities: [host()] });
    const alice = () => `alice@${server.tenantDomain}`;

    before(async () => {
      server = await startTestServer(dbKind);
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('client credentials for Graph (authority by tenant id) carry roles and xms_cc for cp1', async () => {
      const cca = new ConfidentialClientApplication({ auth: { ...auth(server.tenantId), clientId: DEMO.automationAppId, clientSecret: 'automation-secret-value', clientCapabilities: ['cp1'] }, system: quiet });
      const r = await cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
      assert.ok(r?.accessToken);
      const p = decodeJwt(r.accessToken);
      assert.equal(p.aud, 'https://graph.microsoft.com');
      assert.equal(p.tid, server.tenantId);
      assert.deepEqual(p.xms_cc, ['cp1']);
      assert.deepEqual([...(p.roles as string[])].sort(), ['AuditLog.Read.All', 'User.Read.All', 'User.ReadWrite.All', 'UserAuthenticationMethod.ReadWrite.All']);
    });

    test('client credentials for a registered API (authority by domain)', async () => {
      const cca = new ConfidentialClientApplication({ auth: { ...auth(server.tenantDomain), clientId: DEMO.webAppId, clientSecret: 'demo-portal-secret' }, system: quiet });
      const r = await cca.acquireTokenByClientCredential({ scopes: [`${DEMO.apiIdentifier}/.default`] });
      const p = decodeJwt(r!.accessToken);
      assert.equal(p.aud, DEMO.apiAppId);
      assert.deepEqual(p.roles, ['Data.Read.All']);
      assert.equal(p.xms_cc, undefined, 'no cp1 sent, no xms_cc');
    });

    test('client credentials through organizations or common are refused with AADSTS700016 (D10)', async () => {
      // MSAL itself refuses before sending anything ...
      const cca = new ConfidentialClientApplication({ auth: { ...auth('organizations'), clientId: DEMO.automationAppId, clientSecret: 'automation-secret-value' }, system: quiet });
      await assert.rejects(cca.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }), /missing_tenant_id_error/);
      // ... and the server refuses a client that sends it anyway
      for (const alias of ['organizations', 'common']) {
        const res = await fetch(`${server.origin}/${alias}/oauth2/v2.0/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: 'https://graph.microsoft.com/.default' }),
        });
        assert.equal(res.status, 400);
        const body = (await res.json()) as { error: string; error_codes: number[]; error_description: string };
        assert.equal(body.error, 'invalid_request');
        assert.deepEqual(body.error_codes, [700016]);
        assert.match(body.error_description, /^AADSTS700016:/);
      }
    });

    test('auth code in Chromium, acquireTokenByCode, then acquireTokenSilent with forceRefresh for another resource', async () => {
      const pca = new PublicClientApplication({ auth: { ...auth(server.tenantId), clientId: DEMO.nativeAppId }, system: quiet });
      const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
      const redirectUri = 'http://localhost:53123';
      const scopes = ['User.Read'];
      const url = await pca.getAuthCodeUrl({ scopes, redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256', prompt: 'select_account' });
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const cb = await captureRedirect(page, redirectUri, async () => {
        await page.goto(url);
        await signIn(page, alice(), DEMO.demoPassword);
      });
      await context.close();
      const code = cb.searchParams.get('code');
      assert.ok(code, `redirect carried a code: ${cb.href}`);
      const r = await pca.acquireTokenByCode({ code, scopes, redirectUri, codeVerifier: verifier });
      assert.equal(r.account?.homeAccountId, `${r.account?.localAccountId}.${server.tenantId}`, 'client_info gives homeAccountId oid.tid');
      assert.equal(r.account?.username, alice());
      assert.equal(decodeJwt(r.accessToken).aud, 'https://graph.microsoft.com');
      assert.deepEqual(String(decodeJwt(r.accessToken).scp).split(' ').sort(), ['Mail.Read', 'User.Read'], 'all consented Graph scopes, as Entra');

      const silent = await pca.acquireTokenSilent({ account: r.account!, scopes: [`${DEMO.apiIdentifier}/write`], forceRefresh: true });
      const p = decodeJwt(silent.accessToken);
      assert.equal(p.aud, DEMO.apiAppId);
      assert.deepEqual(String(p.scp).split(' ').sort(), ['read', 'write']);
      assert.equal(silent.fromCache, false);
    });

    test('acquireTokenInteractive with form_post to MSAL loopback, authority organizations', async () => {
      const pca = new PublicClientApplication({ auth: { ...auth('organizations'), clientId: DEMO.nativeAppId }, system: quiet });
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      try {
        const r = await pca.acquireTokenInteractive({
          scopes: ['User.Read'],
          openBrowser: async (url) => {
            assert.match(url, /response_mode=form_post/);
            const page = await context.newPage();
            await page.goto(url);
            await signIn(page, alice(), DEMO.demoPassword);
          },
          successTemplate: 'done',
          errorTemplate: 'error',
        });
        assert.equal(r.tenantId, server.tenantId);
        assert.equal(r.account?.username, alice());
      } finally {
        await context.close();
      }
    });

    test('device code with the code entered in Chromium', async () => {
      const pca = new PublicClientApplication({ auth: { ...auth(server.tenantId), clientId: DEMO.nativeAppId }, system: quiet });
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      try {
        const r = await pca.acquireTokenByDeviceCode({
          scopes: ['User.Read'],
          deviceCodeCallback: (resp) => {
            void (async () => {
              const page = await context.newPage();
              await page.goto(resp.verificationUri);
              await page.getByLabel('Code', { exact: true }).fill(resp.userCode);
              await page.click('#idSIButton9');
              await page.waitForSelector('text=Are you trying to sign in');
              await page.click('#idSIButton9'); // confirm the device
              await signIn(page, alice(), DEMO.demoPassword);
              await page.waitForSelector('#deviceSignedIn');
            })();
          },
        });
        assert.equal(r?.account?.username, alice());
        assert.equal(decodeJwt(r!.accessToken).aud, 'https://graph.microsoft.com');
      } finally {
        await context.close();
      }
    });
  });
}

export type { Configuration };

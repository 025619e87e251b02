// Revoke MFA sessions seen by an unmodified @azure/msal-node public client (spec §5, rule 6, D9): a silent
// refresh for an API that requires MFA raises InteractionRequiredAuthError (invalid_grant, basic_action,
// 50076) and MSAL keeps the refresh token, which still refreshes for Graph; one interactive round trip in
// the same browser, with no MFA prompt, makes silent refresh for the MFA API work again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoProvider, InteractionRequiredAuthError, PublicClientApplication, type AuthenticationResult } from '@azure/msal-node';
import type { Browser, BrowserContext } from 'playwright-core';
import * as revokeMfaSessions from '../src/admin/actions/revoke-mfa-sessions.js';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn } from '../src/directory/users.js';
import { browserSkipReason, captureRedirect, launchBrowser } from './helpers/browser.js';
import { enrollTotp, totpAt as codeAt } from './helpers/mfa.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const quiet = { loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } };
const API_SCOPE = `${DEMO.apiIdentifier}/read`;
const SYSTEM = { kind: 'system', id: 'system', displayName: 'test' } as const;


for (const dbKind of await databases()) {
  describe(`Revoke MFA sessions with @azure/msal-node (${dbKind})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    before(async () => {
      server = await startTestServer(dbKind);
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('silent refresh for the MFA API: InteractionRequiredAuthError with basic_action 50076; Graph still refreshes; one interactive round trip restores it', async () => {
      const upn = `bob@${server.tenantDomain}`;
      const bob = (await findUserByUpn(server.store.db, server.tenantId, upn))!;
      const deps = { db: server.store.db, secrets: server.secrets };
      const secret = await enrollTotp(server, bob);
      await server.store.db.updateTable('apps').set({ require_mfa: 1 }).where('id', '=', DEMO.apiAppId).execute();

      const pca = new PublicClientApplication({ auth: { authority: `${server.origin}/${server.tenantId}`, knownAuthorities: [new URL(server.origin).host], clientId: DEMO.nativeAppId }, system: quiet });
      const redirectUri = 'http://localhost:53124';
      const context: BrowserContext = await browser.newContext({ ignoreHTTPSErrors: true });
      const visited: string[] = [];
      const codeFlow = async (signIn: (page: import('playwright-core').Page) => Promise<void>): Promise<AuthenticationResult> => {
        const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
        const url = await pca.getAuthCodeUrl({ scopes: [API_SCOPE], redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256' });
        const page = await context.newPage();
        visited.length = 0;
        page.on('framenavigated', (f) => {
          if (f === page.mainFrame()) visited.push(f.url());
        });
        const cb = await captureRedirect(page, redirectUri, async () => {
          // with a live session the authorize request goes straight to the redirect URI, where nothing listens
          await page.goto(url).catch(() => {});
          await signIn(page);
        });
        await page.close().catch(() => {});
        return pca.acquireTokenByCode({ code: cb.searchParams.get('code')!, scopes: [API_SCOPE], redirectUri, codeVerifier: verifier });
      };
      try {
        const first = await codeFlow(async (page) => {
          await page.fill('#i0116', upn);
          await page.click('#idSIButton9');
          await page.fill('#i0118', DEMO.demoPassword);
          await page.click('#idSIButton9');
          await page.fill('#idTxtBx_SAOTCC_OTC', codeAt(secret));
          await page.click('#idSubmit_SAOTCC_Continue');
          await page.waitForSelector('text=Stay signed in?');
          await page.click('#idSIButton9');
        });
        assert.ok(visited.some((u) => u.includes('/signin/')), 'the first sign-in went through the pages');
        const account = first.account!;
        const ok = await pca.acquireTokenSilent({ account, scopes: [API_SCOPE], forceRefresh: true });
        assert.equal(ok.fromCache, false);

        const p = await revokeMfaSessions.plan({ ...deps, tenantId: server.tenantId, config: server.config }, SYSTEM, bob.id);
        await revokeMfaSessions.apply({ ...deps, tenantId: server.tenantId, config: server.config }, p);

        const err = await pca.acquireTokenSilent({ account, scopes: [API_SCOPE], forceRefresh: true }).then(
          () => assert.fail('the MFA API must not refresh silently'),
          (x: unknown) => x,
        );
        assert.ok(err instanceof InteractionRequiredAuthError, `InteractionRequiredAuthError: ${String(err)}`);
        assert.equal(err.errorCode, 'invalid_grant');
        assert.equal(err.subError, 'basic_action');
        assert.match(err.errorMessage, /AADSTS50076/);
        // basic_action: MSAL kept the refresh token, which is still alive for Graph
        const graph = await pca.acquireTokenSilent({ account, scopes: ['User.Read'], forceRefresh: true });
        assert.equal(graph.fromCache, false);

        await codeFlow(async () => {});
        assert.deepEqual(visited.filter((u) => u.includes('/signin/')), [], 'the browser session kept its MFA: no sign-in page at all');
        const restored = await pca.acquireTokenSilent({ account, scopes: [API_SCOPE], forceRefresh: true });
        assert.equal(restored.fromCache, false);
      } finally {
        await context.close();
        await server.store.db.updateTable('apps').set({ require_mfa: 0 }).where('id', '=', DEMO.apiAppId).execute();
      }
    });
  });
}

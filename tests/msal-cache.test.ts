// @azure/msal-node's token cache against Latchkey: the token response's `scope` is in Entra's form (Graph
// scopes short, other resources with their prefix, a delegated `.default` with the scopes it stands for
// and itself), so acquireTokenSilent finds a cached access token for the scopes it asked for and sends no
// token request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CryptoProvider, PublicClientApplication } from '@azure/msal-node';
import { DEMO } from '../src/directory/seed.js';
import { Jar, authorize, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const quiet = { loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false } };

/** Runs `fn` counting the requests this process sends to the token endpoint (MSAL uses the global fetch). */
async function countingTokenRequests<T>(server: TestServer, fn: () => Promise<T>): Promise<{ result: T; tokenRequests: number }> {
  const original = globalThis.fetch;
  const endpoint = `${server.tenantUrl}/oauth2/v2.0/token`;
  let tokenRequests = 0;
  globalThis.fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.split('?')[0] === endpoint) tokenRequests++;
    return original(input, init);
  };
  try {
    return { result: await fn(), tokenRequests };
  } finally {
    globalThis.fetch = original;
  }
}

for (const dbKind of await databases()) {
  describe(`MSAL's token cache and the token response's scope (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    /** A public-client app with alice signed in for `scopes` (auth code with PKCE, sign-in over plain HTTP). */
    async function signedInApp(scopes: string[]) {
      const pca = new PublicClientApplication({ auth: { authority: `${server.origin}/${server.tenantId}`, knownAuthorities: [new URL(server.origin).host], clientId: DEMO.nativeAppId }, system: quiet });
      const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
      const redirectUri = 'http://localhost:53124';
      const url = new URL(await pca.getAuthCodeUrl({ scopes, redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256' }));
      const out = await authorize(server, new Jar(), Object.fromEntries(url.searchParams));
      const code = out.redirect?.searchParams.get('code');
      assert.ok(code, `a code: ${out.status} ${out.html?.slice(0, 200)}`);
      const r = await pca.acquireTokenByCode({ code, scopes, redirectUri, codeVerifier: verifier });
      return { pca, account: r.account! };
    }

    test("the token response's scope names Graph scopes without the resource prefix, other resources with it, and the OpenID scopes, as Entra does", async () => {
      const p = pkce();
      const redirectUri = 'http://localhost:53125';
      const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid profile offline_access User.Read', code_challenge: p.challenge, code_challenge_method: 'S256' });
      const code = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: p.verifier, scope: 'https://graph.microsoft.com/User.Read openid profile offline_access' });
      assert.deepEqual(String(code.body.scope).split(' ').sort(), ['Mail.Read', 'User.Read', 'openid', 'profile'], JSON.stringify(code.body.scope));
      const api = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: code.body.refresh_token!, scope: `${DEMO.apiIdentifier}/read openid profile offline_access` });
      assert.deepEqual(String(api.body.scope).split(' ').sort(), [`${DEMO.apiIdentifier}/read`, 'openid', 'profile'], JSON.stringify(api.body.scope));
      const graphDefault = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: api.body.refresh_token!, scope: 'https://graph.microsoft.com/.default' });
      // a delegated `.default`: the consented scopes by full name, and `.default` itself (MSAL finds it under the scope it asks for)
      assert.deepEqual(String(graphDefault.body.scope).split(' ').sort(), ['https://graph.microsoft.com/.default', 'https://graph.microsoft.com/Mail.Read', 'https://graph.microsoft.com/User.Read'], JSON.stringify(graphDefault.body));
      // client credentials: `.default` is all there is, and the scope is never empty
      const app = await token(server, { grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: 'https://graph.microsoft.com/.default' });
      assert.equal(app.body.scope, 'https://graph.microsoft.com/.default');
    });

    for (const scope of ['User.Read', `${DEMO.apiIdentifier}/read`, 'https://graph.microsoft.com/.default', `${DEMO.apiIdentifier}/.default`]) {
      test(`a second acquireTokenSilent for ${scope} is answered from MSAL's cache, without a token request`, async () => {
        const { pca, account } = await signedInApp([scope]);
        const first = await countingTokenRequests(server, () => pca.acquireTokenSilent({ account, scopes: [scope] }));
        const second = await countingTokenRequests(server, () => pca.acquireTokenSilent({ account, scopes: [scope] }));
        assert.deepEqual([first.result.fromCache, first.tokenRequests], [true, 0], `first: ${first.result.scopes.join(' ')}`);
        assert.deepEqual([second.result.fromCache, second.tokenRequests], [true, 0]);
      });
    }

    test('acquireTokenSilent for Graph .default after a sign-in for User.Read: one refresh, then answered from the cache', async () => {
      const { pca, account } = await signedInApp(['User.Read']);
      const scopes = ['https://graph.microsoft.com/.default'];
      const first = await countingTokenRequests(server, () => pca.acquireTokenSilent({ account, scopes }));
      assert.deepEqual([first.result.fromCache, first.tokenRequests], [false, 1]);
      assert.deepEqual(first.result.scopes.slice().sort(), ['https://graph.microsoft.com/.default', 'https://graph.microsoft.com/Mail.Read', 'https://graph.microsoft.com/User.Read', 'openid', 'profile']);
      const second = await countingTokenRequests(server, () => pca.acquireTokenSilent({ account, scopes }));
      assert.deepEqual([second.result.fromCache, second.tokenRequests], [true, 0]);
      assert.equal(second.result.accessToken, first.result.accessToken);
    });

    test('acquireTokenSilent for User.Read after a forced refresh is answered from the refreshed token in the cache', async () => {
      const { pca, account } = await signedInApp(['User.Read']);
      const forced = await countingTokenRequests(server, () => pca.acquireTokenSilent({ account, scopes: ['User.Read'], forceRefresh: true }));
      assert.deepEqual([forced.result.fromCache, forced.tokenRequests], [false, 1]);
      const again = await countingTokenRequests(server, () => pca.acquireTokenSilent({ account, scopes: ['User.Read'] }));
      assert.deepEqual([again.result.fromCache, again.tokenRequests], [true, 0]);
      assert.equal(again.result.accessToken, forced.result.accessToken);
    });
  });
}

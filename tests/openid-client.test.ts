// A standard OIDC client (openid-client 6) against Latchkey over HTTPS with the test CA: discovery with
// issuer equality, code + PKCE with the sign-in in Chromium, refresh, userinfo, introspection of refresh
// and access tokens, revocation, client credentials (post and basic); signatures checked with jose.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { Browser } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { browserSkipReason, captureRedirect, launchBrowser, signIn } from './helpers/browser.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();

for (const dbKind of await databases()) {
  describe(`openid-client against Latchkey (${dbKind})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    let web: client.Configuration;
    let api: client.Configuration;
    let issuer: URL;
    const redirectUri = () => `${server.origin}/demo/callback`;

    before(async () => {
      server = await startTestServer(dbKind);
      browser = await launchBrowser();
      issuer = new URL(server.issuer);
      web = await client.discovery(issuer, DEMO.webAppId, 'demo-portal-secret');
      api = await client.discovery(issuer, DEMO.apiAppId, 'demo-api-secret');
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    async function codeFlow(scope: string) {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(web, {
        redirect_uri: redirectUri(),
        scope,
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const cb = await captureRedirect(page, redirectUri(), async () => {
        await page.goto(url.href);
        await signIn(page, `alice@${server.tenantDomain}`, DEMO.demoPassword);
      });
      await context.close();
      return client.authorizationCodeGrant(web, cb, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    }

    test('discovery through the tenant id, the domain and organizations keeps one issuer', async () => {
      assert.equal(web.serverMetadata().issuer, server.issuer);
      const byDomain = await fetch(`${server.origin}/${server.tenantDomain}/v2.0/.well-known/openid-configuration`).then((r) => r.json() as Promise<Record<string, string>>);
      assert.equal(byDomain.issuer, server.issuer);
      assert.equal(byDomain.token_endpoint, `${server.tenantUrl}/oauth2/v2.0/token`);
      assert.equal(byDomain.jwks_uri, `${server.tenantUrl}/discovery/v2.0/keys`);
      assert.equal(byDomain.device_authorization_endpoint, `${server.tenantUrl}/oauth2/v2.0/devicecode`);
      const byOrg = await fetch(`${server.origin}/organizations/v2.0/.well-known/openid-configuration`).then((r) => r.json() as Promise<Record<string, string>>);
      assert.equal(byOrg.issuer, server.issuer);
    });

    test('code + PKCE, refresh, userinfo, introspection and revocation', async () => {
      const tokens = await codeFlow(`openid profile offline_access ${DEMO.apiIdentifier}/read`);
      const jwks = createRemoteJWKSet(new URL(web.serverMetadata().jwks_uri!));
      // ID token: signature, issuer, audience; sub equals oid (D4)
      const id = await jwtVerify(tokens.id_token!, jwks, { issuer: server.issuer, audience: DEMO.webAppId });
      assert.equal(decodeProtectedHeader(tokens.id_token!).alg, 'RS256');
      assert.equal(id.payload.sub, id.payload.oid);
      assert.equal(id.payload.tid, server.tenantId);
      assert.equal(id.payload.preferred_username, `alice@${server.tenantDomain}`);
      assert.equal(id.payload.ver, '2.0');
      assert.deepEqual(id.payload.amr, ['pwd']);
      assert.ok(typeof id.payload.sid === 'string' && id.payload.sid.length > 0);
      // access token for the demo API: aud = its appId, scp = read, same sid (D16)
      const at = await jwtVerify(tokens.access_token, jwks, { issuer: server.issuer, audience: DEMO.apiAppId });
      assert.equal(at.payload.scp, 'read');
      assert.equal(at.payload.sid, id.payload.sid);
      assert.equal(at.payload.oid, id.payload.oid);
      assert.equal(at.payload.sub, id.payload.oid);
      assert.equal(decodeProtectedHeader(tokens.access_token).typ, 'JWT');
      assert.ok(tokens.refresh_token);

      // refresh (confidential client: no rotation, D2) for Graph, another consented resource
      const refreshed = await client.refreshTokenGrant(web, tokens.refresh_token!, { scope: 'https://graph.microsoft.com/User.Read' });
      const graphAt = await jwtVerify(refreshed.access_token, jwks, { issuer: server.issuer, audience: 'https://graph.microsoft.com' });
      assert.equal(graphAt.payload.scp, 'User.Read');
      assert.equal(refreshed.refresh_token, tokens.refresh_token, 'a confidential client keeps its refresh token (no rotation, D2)');

      // userinfo accepts the Graph-audience token (D8)
      const info = await client.fetchUserInfo(web, refreshed.access_token, id.payload.sub!);
      assert.equal(info.preferred_username, `alice@${server.tenantDomain}`);

      // introspection of the refresh token by its client, and of the API token by the API
      const rtInfo = await client.tokenIntrospection(web, tokens.refresh_token!);
      assert.equal(rtInfo.active, true);
      assert.equal(rtInfo.sub, id.payload.sub);
      const atInfo = await client.tokenIntrospection(api, tokens.access_token);
      assert.equal(atInfo.active, true);
      assert.equal(atInfo.scp, 'read');
      const notMine = await client.tokenIntrospection(api, refreshed.access_token);
      assert.equal(notMine.active, false, 'a Graph token is not meant for the demo API');

      // revocation kills the refresh token
      await client.tokenRevocation(web, tokens.refresh_token!);
      assert.equal((await client.tokenIntrospection(web, tokens.refresh_token!)).active, false);
      await assert.rejects(client.refreshTokenGrant(web, tokens.refresh_token!), (e: client.ResponseBodyError) => {
        assert.equal(e.error, 'invalid_grant');
        assert.match(e.error_description ?? '', /^AADSTS9002313:/);
        assert.equal((e.cause as Record<string, unknown>).suberror, 'bad_token');
        return true;
      });
    });

    test('client credentials with client_secret_post and client_secret_basic', async () => {
      const jwks = createRemoteJWKSet(new URL(web.serverMetadata().jwks_uri!));
      const post = await client.clientCredentialsGrant(web, { scope: 'https://graph.microsoft.com/.default' });
      const p1 = await jwtVerify(post.access_token, jwks, { issuer: server.issuer, audience: 'https://graph.microsoft.com' });
      assert.deepEqual(p1.payload.roles, ['User.Read.All']);
      assert.equal(p1.payload.idtyp, 'app');
      assert.equal(p1.payload.scp, undefined);
      const basicConf = await client.discovery(issuer, DEMO.webAppId, undefined, client.ClientSecretBasic('demo-portal-secret'));
      const basic = await client.clientCredentialsGrant(basicConf, { scope: `${DEMO.apiIdentifier}/.default` });
      const p2 = await jwtVerify(basic.access_token, jwks, { issuer: server.issuer, audience: DEMO.apiAppId });
      assert.deepEqual(p2.payload.roles, ['Data.Read.All']);
      const wrong = await client.discovery(issuer, DEMO.webAppId, 'not-the-secret');
      await assert.rejects(client.clientCredentialsGrant(wrong, { scope: 'https://graph.microsoft.com/.default' }), (e: client.ResponseBodyError) => {
        assert.equal(e.error, 'invalid_client');
        assert.match(e.error_description ?? '', /^AADSTS7000215:/);
        return true;
      });
    });
  });
}

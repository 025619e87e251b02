// Single use under concurrency, codes bound to their session's validity, consent, sliding public chains,
// introspection limits and frame protection of the engine's pages.
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { createApp, addAppSecret } from '../src/directory/apps.js';
import { Jar, authorize, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const NATIVE = 'http://localhost:5123';

for (const dbKind of await databases()) {
  describe(`protocol hardening (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    async function code(scope = 'openid offline_access User.Read', user = `alice@contoso.test`) {
      const p = pkce();
      const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE, scope, code_challenge: p.challenge, code_challenge_method: 'S256' }, { user, password: DEMO.demoPassword });
      return { code: out.redirect?.searchParams.get('code') ?? '', verifier: p.verifier, redirect: out.redirect };
    }
    const redeem = (c: { code: string; verifier: string }) => token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: c.code, redirect_uri: NATIVE, code_verifier: c.verifier });

    test('an authorization code redeemed twice at the same time gives tokens once, and the winner’s grant dies', async () => {
      const c = await code();
      const results = await Promise.all([redeem(c), redeem(c), redeem(c)]);
      const ok = results.filter((r) => r.status === 200);
      assert.equal(ok.length, 1, `one success: ${JSON.stringify(results.map((r) => r.body.error_codes ?? r.status))}`);
      for (const r of results.filter((x) => x.status !== 200)) assert.equal(r.body.error, 'invalid_grant');
      // any refresh token handed out in the race is dead: the replay killed the grant (D20)
      for (const r of ok) {
        const again = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: r.body.refresh_token! });
        assert.equal(again.body.error, 'invalid_grant');
      }
    });

    test('a public refresh token used twice at the same time refreshes once and the chain dies (D2)', async () => {
      const t = await redeem(await code());
      assert.equal(t.status, 200);
      const rt = t.body.refresh_token!;
      const results = await Promise.all([1, 2, 3].map(() => token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: rt })));
      const winners = results.filter((r) => r.status === 200);
      assert.equal(winners.length, 1, `one success: ${JSON.stringify(results.map((r) => r.body.error_codes ?? r.status))}`);
      // the losers are refused as a used refresh token is, whether they lost the race or came after it
      for (const r of results.filter((x) => x.status !== 200)) assert.deepEqual(r.body.error_codes, [9002313]);
      for (const w of winners) {
        const next = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: w.body.refresh_token! });
        assert.equal(next.body.error, 'invalid_grant', 'the reuse killed the rotated token too');
      }
    });

    test('a code redeemed after the user’s sessions were revoked is refused (AADSTS50173)', async () => {
      const c = await code(undefined, 'bob@contoso.test');
      await server.store.db.updateTable('users').set({ sign_in_sessions_valid_from: Date.now() }).where('upn_lower', '=', 'bob@contoso.test').execute();
      const r = await redeem(c);
      assert.equal(r.body.error, 'invalid_grant');
      assert.deepEqual(r.body.error_codes, [50173]);
    });

    test('a scope the app has no consent for is refused with AADSTS65001, not silently dropped', async () => {
      const bare = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'No consents', kind: 'native', redirectUris: ['http://localhost'] });
      for (const [clientId, scope] of [[DEMO.webAppId, 'openid api://demo-api/write'], [DEMO.webAppId, 'openid api://demo-api/bogus'], [bare.id, 'openid api://demo-api/read']] as const) {
        const p = pkce();
        const redirect = clientId === DEMO.webAppId ? `${server.origin}/demo/callback` : NATIVE;
        const out = await authorize(server, new Jar(), { client_id: clientId, response_type: 'code', redirect_uri: redirect, scope, code_challenge: p.challenge, code_challenge_method: 'S256' });
        assert.equal(out.redirect?.searchParams.get('error'), 'consent_required', `${clientId} ${scope}`);
        assert.match(out.redirect?.searchParams.get('error_description') ?? '', /^AADSTS65001: /);
        assert.equal(out.redirect?.searchParams.get('code'), null);
      }
    });

    test('introspection is for registered resource servers only, and an ID token is not an active access token', async () => {
      const other = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Plain web app', kind: 'web', redirectUris: [`${server.origin}/x`] });
      await addAppSecret(server.store.db, other.id, 'plain-web-secret');
      const auth = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
      const refused = await fetch(`${server.tenantUrl}/oauth2/v2.0/introspect`, { method: 'POST', headers: { authorization: auth(other.id, 'plain-web-secret') }, body: new URLSearchParams({ token: 'x' }) });
      assert.equal(refused.status, 403);
      // an ID token whose audience is the introspecting app
      const p = pkce();
      const out = await authorize(server, new Jar(), { client_id: DEMO.webAppId, response_type: 'code', redirect_uri: `${server.origin}/demo/callback`, scope: 'openid', code_challenge: p.challenge, code_challenge_method: 'S256' });
      const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', code: out.redirect!.searchParams.get('code')!, redirect_uri: `${server.origin}/demo/callback`, code_verifier: p.verifier });
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/introspect`, { method: 'POST', headers: { authorization: auth(DEMO.webAppId, 'demo-portal-secret') }, body: new URLSearchParams({ token: t.body.id_token! }) });
      assert.deepEqual(await res.json(), { active: false });
    });

    test('the engine’s logout page may not be framed', async () => {
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/logout`);
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    });
  });
}

describe('sliding public-client chains', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite', { refreshTokenTtl: 100 });
  });
  after(async () => {
    mock.timers.reset();
    await server?.close();
  });

  test('a public chain that rotates within the refresh lifetime outlives the lifetime of its first token', async () => {
    const p = pkce();
    const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE, scope: 'openid offline_access User.Read', code_challenge: p.challenge, code_challenge_method: 'S256' });
    let t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: NATIVE, code_verifier: p.verifier });
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    for (let i = 0; i < 4; i++) {
      mock.timers.tick(60_000); // 60 s of a 100 s lifetime, four times: 240 s after sign-in
      t = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: t.body.refresh_token! });
      assert.equal(t.status, 200, `rotation ${i + 1}: ${JSON.stringify(t.body)}`);
    }
    mock.timers.tick(101_000);
    const late = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: t.body.refresh_token! });
    assert.equal(late.body.error, 'invalid_grant', 'an unused refresh token still dies after its lifetime');
  });
});

// Pins every engine (oidc-provider ~9.13) behaviour that Latchkey's Entra shape relies on or works
// around (src/protocol/provider.ts, src/protocol/errors.ts). Each test is named for the behaviour: when a
// new engine version changes it, the named test fails. Sign-ins are driven over plain HTTP
// (tests/helpers/http-signin.ts), so no browser is needed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { DEMO } from '../src/directory/seed.js';
import { GRAPH_RESOURCE } from '../src/directory/apps.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { Jar, assertRefused, authorize, pkce, token } from './helpers/http-signin.js';

for (const dbKind of await databases()) {
  describe(`engine workarounds still hold (${dbKind})`, () => {
    let server: TestServer;
    const nativeRedirect = 'http://localhost:41234';
    const webRedirect = () => `${server.origin}/demo/callback`;

    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    /** A native-app (public client) code flow with MSAL's parameters; returns the redirect and the verifier. */
    async function nativeCode(jar: Jar, scope: string, extra: Record<string, string> = {}) {
      const { verifier, challenge } = pkce();
      const out = await authorize(server, jar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: nativeRedirect, scope, code_challenge: challenge, code_challenge_method: 'S256', state: 's1', ...extra });
      assert.ok(out.redirect, `a redirect to the app: ${out.status} ${out.html?.slice(0, 300)}`);
      return { redirect: out.redirect, verifier, signInPages: out.signInPages };
    }

    async function nativeTokens(scope: string, extra: Record<string, string> = {}, jar = new Jar()) {
      const { redirect, verifier } = await nativeCode(jar, scope, extra);
      const code = redirect.searchParams.get('code');
      assert.ok(code, `a code: ${redirect.href}`);
      const r = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code, redirect_uri: nativeRedirect, code_verifier: verifier, scope, client_info: '1' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return { ...r.body, jar };
    }

    test('(a) offline_access is kept without prompt=consent: a code flow without it yields a refresh_token', async () => {
      const r = await nativeTokens('openid profile offline_access User.Read', { prompt: 'select_account' });
      assert.ok(typeof r.refresh_token === 'string' && r.refresh_token.length > 0, 'refresh_token issued');
      // and without offline_access asked for, none is issued (the re-add follows the request)
      const none = await nativeTokens('openid profile User.Read');
      assert.equal(none.refresh_token, undefined, 'no offline_access, no refresh token');
    });

    test('(b) scope widening: a refresh token obtained for Graph serves another consented resource and .default', async () => {
      const r = await nativeTokens('openid profile offline_access https://graph.microsoft.com/User.Read');
      assert.equal(decodeJwt(r.access_token!).aud, GRAPH_RESOURCE);
      let rt = r.refresh_token!;
      const steps: [string, string][] = [
        [`${DEMO.apiIdentifier}/read`, DEMO.apiAppId], // never requested at authorize
        [`${DEMO.apiIdentifier}/.default`, DEMO.apiAppId],
        [`${GRAPH_RESOURCE}/.default`, GRAPH_RESOURCE],
        [`${DEMO.apiIdentifier}/write`, DEMO.apiAppId],
      ];
      for (const [scope, aud] of steps) {
        const refreshed = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: rt, scope: `${scope} openid profile offline_access` });
        assert.equal(refreshed.status, 200, `${scope}: ${JSON.stringify(refreshed.body)}`);
        const p = decodeJwt(refreshed.body.access_token!);
        assert.equal(p.aud, aud, scope);
        if (aud === DEMO.apiAppId) assert.deepEqual(String(p.scp).split(' ').sort(), ['read', 'write']);
        rt = refreshed.body.refresh_token!; // public client: rotated (D2)
      }
    });

    test('(c) prompt=select_account is accepted at authorize (no invalid_request)', async () => {
      const jar = new Jar();
      const { redirect } = await nativeCode(jar, 'openid offline_access User.Read', { prompt: 'select_account' });
      assert.equal(redirect.searchParams.get('error'), null, `no error: ${redirect.href}`);
      assert.ok(redirect.searchParams.get('code'));
      // with the session now present, select_account must still not fail
      const again = await nativeCode(jar, 'openid offline_access User.Read', { prompt: 'select_account' });
      assert.equal(again.redirect.searchParams.get('error'), null, `no error: ${again.redirect.href}`);
      assert.ok(again.redirect.searchParams.get('code'));
    });

    test('(d) a native (public) client is not sent to a consent interaction on every authorize', async () => {
      const jar = new Jar();
      const first = await nativeCode(jar, 'openid profile offline_access User.Read');
      assert.equal(first.signInPages, 1);
      // same browser, same app: prompt=none must yield a code, not interaction_required/consent_required
      const silent = await nativeCode(jar, 'openid profile offline_access User.Read', { prompt: 'none' });
      assert.equal(silent.redirect.searchParams.get('error'), null, `no error: ${silent.redirect.href}`);
      assert.ok(silent.redirect.searchParams.get('code'));
      // and without prompt, no page is shown at all
      const plain = await nativeCode(jar, 'openid profile offline_access User.Read');
      assert.equal(plain.signInPages, 0, 'no interaction for a consented native app with a session');
      assert.ok(plain.redirect.searchParams.get('code'));
    });

    test('(e) sid is in ID tokens of a client without back-channel logout, equal to the access token sid (D16)', async () => {
      const jar = new Jar();
      const r = await nativeTokens('openid profile offline_access User.Read', {}, jar);
      const id = decodeJwt(r.id_token!);
      const at = decodeJwt(r.access_token!);
      assert.ok(typeof id.sid === 'string' && id.sid.length > 0, `sid in the ID token: ${JSON.stringify(id)}`);
      assert.equal(at.sid, id.sid);
      // refreshed tokens keep it
      const refreshed = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: r.refresh_token!, scope: 'openid profile offline_access User.Read' });
      assert.equal(decodeJwt(refreshed.body.id_token!).sid, id.sid);
      assert.equal(decodeJwt(refreshed.body.access_token!).sid, id.sid);
      // the confidential web app in the same browser: its own sid (one per app per session), also present
      const { verifier, challenge } = pkce();
      const web = await authorize(server, jar, { client_id: DEMO.webAppId, response_type: 'code', redirect_uri: webRedirect(), scope: 'openid profile offline_access User.Read', code_challenge: challenge, code_challenge_method: 'S256' });
      const code = web.redirect?.searchParams.get('code');
      assert.ok(code, `web code: ${web.redirect?.href ?? web.html?.slice(0, 200)}`);
      const wt = await token(server, { client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', grant_type: 'authorization_code', code, redirect_uri: webRedirect(), code_verifier: verifier });
      const wid = decodeJwt(wt.body.id_token!);
      assert.ok(typeof wid.sid === 'string' && wid.sid.length > 0);
      assert.equal(decodeJwt(wt.body.access_token!).sid, wid.sid);
    });

    test('(f) client secrets are compared against argon2id hashes; a wrong one is 401 invalid_client AADSTS7000215', async () => {
      const rows = await server.store.db.selectFrom('app_secrets').select(['app_id', 'secret_hash']).execute();
      assert.ok(rows.length >= 3);
      for (const r of rows) assert.match(r.secret_hash, /^\$argon2id\$/, `app ${r.app_id}`);
      assert.ok(!rows.some((r) => r.secret_hash.includes('demo-portal-secret')));
      const ok = await token(server, { client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', grant_type: 'client_credentials', scope: `${GRAPH_RESOURCE}/.default` });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      // the engine's placeholder metadata secret must not work
      for (const wrong of ['hashed-at-rest', 'demo-portal-secreT', 'demo-api-secret']) {
        const bad = await token(server, { client_id: DEMO.webAppId, client_secret: wrong, grant_type: 'client_credentials', scope: `${GRAPH_RESOURCE}/.default` });
        assert.equal(bad.status, 401, wrong);
        assertRefused(bad, 'invalid_client', 7000215, wrong);
      }
      // client_secret_basic goes through the same comparison
      const basic = await fetch(`${server.tenantUrl}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from(`${DEMO.webAppId}:hashed-at-rest`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: `${GRAPH_RESOURCE}/.default` }),
      });
      assert.equal(basic.status, 401);
    });

    test('(g) grant_type=device_code (MSAL short form) is accepted, and the devicecode response has interval', async () => {
      for (const grantType of ['device_code', 'urn:ietf:params:oauth:grant-type:device_code']) {
        // a device code each: a second poll of one code at once would be answered slow_down
        const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/devicecode`, { method: 'POST', body: new URLSearchParams({ client_id: DEMO.nativeAppId, scope: 'openid profile offline_access User.Read' }) });
        const dc = (await res.json()) as Record<string, unknown>;
        assert.equal(res.status, 200, JSON.stringify(dc));
        assert.equal(typeof dc.interval, 'number');
        assert.ok((dc.interval as number) >= 1);
        assert.equal(typeof dc.device_code, 'string');
        assert.equal(typeof dc.user_code, 'string');
        assert.match(String(dc.message), /enter the code/);
        const poll = await token(server, { client_id: DEMO.nativeAppId, grant_type: grantType, device_code: dc.device_code as string });
        assertRefused(poll, 'authorization_pending', 70016, grantType);
      }
    });

    test("(h) the engine's detail strings behind the AADSTS mapping", async () => {
      // code replay → 54005; unknown code → 70008; wrong redirect_uri → 50148; bad verifier → 501481
      const jar = new Jar();
      const { redirect, verifier } = await nativeCode(jar, 'openid offline_access User.Read');
      const code = redirect.searchParams.get('code')!;
      const exchange = (over: Record<string, string> = {}) => token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code, redirect_uri: nativeRedirect, code_verifier: verifier, ...over });
      assertRefused(await exchange({ redirect_uri: 'http://localhost:41235' }), 'invalid_grant', 50148, 'wrong redirect_uri');
      assertRefused(await exchange({ code_verifier: pkce().verifier }), 'invalid_grant', 501481, 'wrong code_verifier');
      const first = await exchange();
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assertRefused(await exchange(), 'invalid_grant', 54005, 'code replay');
      assertRefused(await exchange({ code: 'not-a-code' }), 'invalid_grant', 70008, 'unknown code');
      // unknown refresh token → 9002313 + bad_token
      const rt = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: 'not-a-refresh-token' });
      assertRefused(rt, 'invalid_grant', 9002313, 'unknown refresh token');
      assert.equal(rt.body.suberror, 'bad_token');
      // unknown resource → invalid_target 500011, at the token endpoint ...
      const cc = await token(server, { client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', grant_type: 'client_credentials', scope: 'api://no-such-api/.default' });
      assertRefused(cc, 'invalid_target', 500011, 'unknown resource (client credentials)');
      const live = await nativeTokens('openid offline_access User.Read');
      const refresh = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: live.refresh_token!, scope: 'api://no-such-api/read' });
      assertRefused(refresh, 'invalid_target', 500011, 'unknown resource (refresh)');
      // a known resource, but a scope the client holds no consent for: the engine's missing-scope refusal,
      // which Entra answers as a consent to ask for (AADSTS65001, suberror consent_required)
      const unconsented = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: refresh.body.refresh_token ?? live.refresh_token!, scope: `${GRAPH_RESOURCE}/Directory.Read.All` });
      assertRefused(unconsented, 'invalid_grant', 65001, 'unconsented scope (refresh)');
      assert.equal(unconsented.body.suberror, 'consent_required');
      // a scope the refresh token lacks for another reason stays the engine's 70011
      const notHeld = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: refresh.body.refresh_token ?? live.refresh_token!, scope: 'openid profile' });
      assertRefused(notHeld, 'invalid_scope', 70011, 'a scope the refresh token lacks (refresh)');
      // ... and at authorize: an error to the app, not a 500
      const { challenge } = pkce();
      const az = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: nativeRedirect, scope: 'openid api://no-such-api/read', code_challenge: challenge, code_challenge_method: 'S256' });
      assert.equal(az.redirect?.searchParams.get('error'), 'invalid_target', `authorize with an unknown resource: ${az.redirect?.href ?? `${az.status} ${az.html?.slice(0, 300)}`}`);
      assert.match(az.redirect.searchParams.get('error_description') ?? '', /^AADSTS500011: /);
    });

    test('(i) the engine uses our pre-parsed form body: a bare User.Read at the token endpoint is Graph', async () => {
      const r = await nativeTokens('openid profile offline_access api://demo-api/read');
      assert.equal(decodeJwt(r.access_token!).aud, DEMO.apiAppId);
      const refreshed = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: r.refresh_token!, scope: 'User.Read offline_access openid' });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.equal(decodeJwt(refreshed.body.access_token!).aud, GRAPH_RESOURCE);
      // and client credentials with a bare .default would be Graph too
      const cc = await token(server, { client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', grant_type: 'client_credentials', scope: '.default' });
      assert.equal(cc.status, 200, JSON.stringify(cc.body));
      assert.equal(decodeJwt(cc.body.access_token!).aud, GRAPH_RESOURCE);
    });

    test('(j) iss in the authorization response equals the issuer (RFC 9207)', async () => {
      const jar = new Jar();
      const { redirect } = await nativeCode(jar, 'openid User.Read');
      assert.equal(redirect.searchParams.get('iss'), server.issuer);
      // also on an error response (here: no PKCE from a public client)
      const err = await authorize(server, jar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: nativeRedirect, scope: 'openid User.Read' });
      assert.equal(err.redirect?.searchParams.get('error'), 'invalid_request', err.redirect?.href);
      assert.equal(err.redirect.searchParams.get('iss'), server.issuer);
    });
  });
}

// Refresh tokens and authorization codes (spec D2, D3, D20, §3): rotation and reuse detection for public
// clients, no rotation for confidential ones, code replay kills the grant, code lifetime, PKCE, and the
// Entra extras of token responses (client_info, ext_expires_in, xms_cc) and access-token lifetimes.
// Sign-ins over plain HTTP (tests/helpers/http-signin.ts); no browser.
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { DEMO } from '../src/directory/seed.js';
import { GRAPH_APP_ID, GRAPH_RESOURCE, addAppSecret, createApp, grantPermission } from '../src/directory/apps.js';
import { createUser } from '../src/directory/users.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { Jar, assertRefused, authorize, pkce, token, type TokenResponse } from './helpers/http-signin.js';

const NATIVE_REDIRECT = 'http://localhost:41234';
// MSAL 7 with clientCapabilities ['cp1'] always merges an id_token member in (the engine refuses a claims
// parameter without id_token or userinfo at authorize: "claims parameter should have userinfo or id_token").
const CP1 = JSON.stringify({ id_token: { signin_state: { essential: false } }, access_token: { xms_cc: { values: ['cp1'] } } });

/** A native-app (public client) code with PKCE; signs in on first use of the jar. */
async function nativeCode(server: TestServer, jar: Jar, scope: string, extra: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const out = await authorize(server, jar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope, code_challenge: challenge, code_challenge_method: 'S256', ...extra });
  const code = out.redirect?.searchParams.get('code');
  assert.ok(code, `a code: ${out.redirect?.href ?? `${out.status} ${out.html?.slice(0, 300)}`}`);
  return { code, verifier };
}

function redeemNative(server: TestServer, c: { code: string; verifier: string }, extra: Record<string, string> = {}): Promise<TokenResponse> {
  return token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code: c.code, redirect_uri: NATIVE_REDIRECT, code_verifier: c.verifier, ...extra });
}

async function nativeTokens(server: TestServer, scope = 'openid profile offline_access User.Read', extra: { authorize?: Record<string, string>; token?: Record<string, string> } = {}) {
  const r = await redeemNative(server, await nativeCode(server, new Jar(), scope, extra.authorize), { scope, ...extra.token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

function webRedirect(server: TestServer) {
  return `${server.origin}/demo/callback`;
}

async function webTokens(server: TestServer, scope = 'openid profile offline_access User.Read', user = '') {
  const { verifier, challenge } = pkce();
  const out = await authorize(server, new Jar(), { client_id: DEMO.webAppId, response_type: 'code', redirect_uri: webRedirect(server), scope, code_challenge: challenge, code_challenge_method: 'S256' }, { user, password: DEMO.demoPassword });
  const code = out.redirect?.searchParams.get('code');
  assert.ok(code, `a code: ${out.redirect?.href ?? out.html?.slice(0, 300)}`);
  const r = await token(server, { client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', grant_type: 'authorization_code', code, redirect_uri: webRedirect(server), code_verifier: verifier, scope });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

const refreshNative = (server: TestServer, rt: string, scope = 'openid offline_access User.Read') => token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: rt, scope });
const refreshWeb = (server: TestServer, rt: string, scope = 'openid offline_access User.Read') => token(server, { client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', grant_type: 'refresh_token', refresh_token: rt, scope });

function assertDeadRefresh(r: TokenResponse, what: string) {
  assertRefused(r, 'invalid_grant', 9002313, what);
  assert.equal(r.body.suberror, 'bad_token', `${what}: MSAL needs suberror bad_token`);
}

for (const dbKind of await databases()) {
  describe(`refresh tokens and authorization codes (${dbKind})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    test('D2: a public client gets a new refresh token on every refresh; the used one is dead', async () => {
      const t = await nativeTokens(server);
      const rt0 = t.refresh_token!;
      const r1 = await refreshNative(server, rt0);
      assert.equal(r1.status, 200, JSON.stringify(r1.body));
      const rt1 = r1.body.refresh_token!;
      assert.ok(rt1 && rt1 !== rt0, 'rotated');
      const r2 = await refreshNative(server, rt1);
      assert.equal(r2.status, 200, JSON.stringify(r2.body));
      const rt2 = r2.body.refresh_token!;
      assert.ok(rt2 && rt2 !== rt1 && rt2 !== rt0);
      // the used one fails ...
      assertDeadRefresh(await refreshNative(server, rt1), 'reused public-client refresh token');
      // ... and its reuse killed the grant: the newest one is dead too
      assertDeadRefresh(await refreshNative(server, rt2), 'newest token after reuse');
      assertDeadRefresh(await refreshNative(server, rt0), 'first token');
    });

    test('D2: reuse of the very first public-client refresh token kills the new one', async () => {
      const t = await nativeTokens(server);
      const r1 = await refreshNative(server, t.refresh_token!);
      assert.equal(r1.status, 200);
      assertDeadRefresh(await refreshNative(server, t.refresh_token!), 'reused first token');
      assertDeadRefresh(await refreshNative(server, r1.body.refresh_token!), 'new token after reuse');
    });

    test('D2: a confidential client keeps its refresh token, and every use works', async () => {
      const t = await webTokens(server);
      const rt = t.refresh_token!;
      for (let i = 0; i < 3; i++) {
        const r = await refreshWeb(server, rt, i === 1 ? `openid offline_access ${DEMO.apiIdentifier}/read` : undefined);
        assert.equal(r.status, 200, JSON.stringify(r.body));
        assert.equal(r.body.refresh_token, rt, 'the same refresh token comes back');
      }
      // another client cannot use it
      assertRefused(await refreshNative(server, rt), 'invalid_grant', 9002313, 'refresh token of another client');
    });

    test('D20: a replayed authorization code gets AADSTS54005 and kills the grant it issued', async () => {
      const c = await nativeCode(server, new Jar(), 'openid offline_access User.Read');
      const first = await redeemNative(server, c);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      const replay = await redeemNative(server, c);
      assertRefused(replay, 'invalid_grant', 54005, 'code replay');
      assert.equal(replay.body.suberror, undefined, 'not a refresh: no bad_token');
      assertDeadRefresh(await refreshNative(server, first.body.refresh_token!), 'refresh token from the replayed code');
      // the same for a confidential client
      const { verifier, challenge } = pkce();
      const out = await authorize(server, new Jar(), { client_id: DEMO.webAppId, response_type: 'code', redirect_uri: webRedirect(server), scope: 'openid offline_access User.Read', code_challenge: challenge, code_challenge_method: 'S256' });
      const code = out.redirect!.searchParams.get('code')!;
      const redeem = () => token(server, { client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', grant_type: 'authorization_code', code, redirect_uri: webRedirect(server), code_verifier: verifier });
      const w = await redeem();
      assert.equal(w.status, 200);
      assertRefused(await redeem(), 'invalid_grant', 54005, 'confidential code replay');
      assertDeadRefresh(await refreshWeb(server, w.body.refresh_token!), 'confidential refresh token from the replayed code');
    });

    test('D3: a public client without PKCE is refused at authorize', async () => {
      const variants: Record<string, string>[] = [{}, { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'plain' }];
      for (const extra of variants) {
        const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope: 'openid User.Read', state: 'st', ...extra });
        assert.equal(out.signInPages, 0, 'refused before any sign-in page');
        assert.ok(out.redirect, `an error to the app: ${out.status} ${out.html?.slice(0, 300)}`);
        assert.equal(out.redirect.searchParams.get('error'), 'invalid_request', out.redirect.href);
        assert.equal(out.redirect.searchParams.get('code'), null);
        assert.equal(out.redirect.searchParams.get('state'), 'st');
      }
    });

    test('D3: a confidential client without PKCE is refused by default; the per-app switch allows it', async () => {
      const out = await authorize(server, new Jar(), { client_id: DEMO.webAppId, response_type: 'code', redirect_uri: webRedirect(server), scope: 'openid User.Read' });
      assert.equal(out.redirect?.searchParams.get('error'), 'invalid_request', out.redirect?.href ?? out.html?.slice(0, 300));
      assert.equal(out.signInPages, 0);
      // an Entra-built confidential app registered with PKCE off
      const redirectUri = `${server.origin}/legacy/callback`;
      const app = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Legacy web app', kind: 'web', redirectUris: [redirectUri], requirePkce: false });
      await addAppSecret(server.store.db, app.id, 'legacy-secret');
      await grantPermission(server.store.db, app.id, GRAPH_APP_ID, 'delegated', ['User.Read']);
      const legacy = await authorize(server, new Jar(), { client_id: app.id, response_type: 'code', redirect_uri: redirectUri, scope: 'openid offline_access User.Read' });
      const code = legacy.redirect?.searchParams.get('code');
      assert.ok(code, legacy.redirect?.href ?? legacy.html?.slice(0, 300));
      const r = await token(server, { client_id: app.id, client_secret: 'legacy-secret', grant_type: 'authorization_code', code, redirect_uri: redirectUri });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    });

    test('codes live 60 s by default (§3): one 50 s old works, one 61 s old gets AADSTS70008', async () => {
      // the engine keeps expiry in whole seconds, so "50 s" and "61 s" stay clear of the edge
      const young = await nativeCode(server, new Jar(), 'openid offline_access User.Read');
      const old = await nativeCode(server, new Jar(), 'openid offline_access User.Read');
      mock.timers.enable({ apis: ['Date'], now: Date.now() + 50_000 });
      try {
        const r = await redeemNative(server, young);
        assert.equal(r.status, 200, JSON.stringify(r.body));
      } finally {
        mock.timers.reset();
      }
      mock.timers.enable({ apis: ['Date'], now: Date.now() + 61_000 });
      try {
        assertRefused(await redeemNative(server, old), 'invalid_grant', 70008, 'code 61 s old');
      } finally {
        mock.timers.reset();
      }
    });

    test('D5: tokens issued in the same second just after a password change are alive at refresh, userinfo and introspection; ones just before it are dead', async () => {
      const db = server.store.db;
      const upn = `d5-${dbKind}@${server.tenantDomain}`;
      const user = await createUser(db, { tenantId: server.tenantId, upn, displayName: 'D5 user', password: DEMO.demoPassword });
      const introspect = async (who: [string, string], tokenValue: string) => {
        const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/introspect`, { method: 'POST', body: new URLSearchParams({ client_id: who[0], client_secret: who[1], token: tokenValue }) });
        return ((await res.json()) as { active: boolean }).active;
      };
      const userinfo = async (at: string) => (await fetch(`${server.tenantUrl}/openid/userinfo`, { headers: { authorization: `Bearer ${at}` } })).status;
      const api: [string, string] = [DEMO.apiAppId, 'demo-api-secret'];
      const web: [string, string] = [DEMO.webAppId, 'demo-portal-secret'];
      // The server's clock (same process) is frozen at .500 of a second, so everything below happens
      // within one second of the engine's whole-second iat/iiat: only millisecond times tell it apart.
      const T = Math.floor(Date.now() / 1000) * 1000 + 1500;
      mock.timers.enable({ apis: ['Date'], now: T });
      try {
        await db.updateTable('users').set({ last_password_change_at: T - 100 }).where('id', '=', user.id).execute();
        const t = await webTokens(server, `openid offline_access ${DEMO.apiIdentifier}/read`, upn);
        const graph = await refreshWeb(server, t.refresh_token!, 'openid User.Read');
        assert.equal(graph.status, 200, JSON.stringify(graph.body));
        assert.equal(await userinfo(graph.body.access_token!), 200, 'userinfo accepts a token issued 100 ms after the change');
        assert.equal(await introspect(api, t.access_token!), true, 'introspection: access token alive');
        assert.equal(await introspect(web, t.refresh_token!), true, 'introspection: refresh token alive');
        // a change 100 ms after they were issued, still in the same second, kills them all
        mock.timers.tick(200);
        await db.updateTable('users').set({ last_password_change_at: T + 100 }).where('id', '=', user.id).execute();
        assert.equal(await userinfo(graph.body.access_token!), 401);
        assert.equal(await introspect(api, t.access_token!), false);
        assert.equal(await introspect(web, t.refresh_token!), false);
        assertRefused(await refreshWeb(server, t.refresh_token!), 'invalid_grant', 50173, 'refresh after the change');
      } finally {
        mock.timers.reset();
      }
    });

    test('token responses carry client_info (when client_info=1) and ext_expires_in', async () => {
      const c = await nativeCode(server, new Jar(), 'openid profile offline_access User.Read');
      const r = await redeemNative(server, c, { client_info: '1' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const id = decodeJwt(r.body.id_token!);
      const info = JSON.parse(Buffer.from(String(r.body.client_info), 'base64url').toString('utf8')) as Record<string, unknown>;
      assert.deepEqual(info, { uid: id.oid, utid: server.tenantId });
      assert.equal(typeof r.body.expires_in, 'number');
      assert.equal(r.body.ext_expires_in, r.body.expires_in);
      // on refresh too, and not without client_info=1
      const refreshed = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: r.body.refresh_token!, scope: 'openid User.Read', client_info: '1' });
      assert.equal(refreshed.body.client_info, r.body.client_info);
      assert.equal(refreshed.body.ext_expires_in, refreshed.body.expires_in);
      const plain = await refreshNative(server, refreshed.body.refresh_token!);
      assert.equal(plain.status, 200);
      assert.equal(plain.body.client_info, undefined);
      assert.equal(plain.body.ext_expires_in, plain.body.expires_in);
      // client credentials: no user, no client_info, still ext_expires_in
      const cc = await token(server, { client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', grant_type: 'client_credentials', scope: `${GRAPH_RESOURCE}/.default`, client_info: '1' });
      assert.equal(cc.status, 200);
      assert.equal(cc.body.client_info, undefined);
      assert.equal(cc.body.ext_expires_in, cc.body.expires_in);
    });

    test('access tokens carry xms_cc only when the claims parameter asks for cp1', async () => {
      const without = await nativeTokens(server);
      assert.equal(decodeJwt(without.access_token!).xms_cc, undefined);
      assert.equal(decodeJwt((await refreshNative(server, without.refresh_token!)).body.access_token!).xms_cc, undefined);
      // other claims content (MSAL's id_token member) does not make a token CAE-capable
      const other = await nativeTokens(server, undefined, { token: { claims: JSON.stringify({ id_token: { signin_state: { essential: false } } }) } });
      assert.equal(decodeJwt(other.access_token!).xms_cc, undefined);
      // a capability Latchkey does not know is not echoed; cp1 next to it is kept
      const caps = (values: string[]) => JSON.stringify({ id_token: {}, access_token: { xms_cc: { values } } });
      assert.equal(decodeJwt((await nativeTokens(server, undefined, { token: { claims: caps(['cp9']) } })).access_token!).xms_cc, undefined);
      assert.deepEqual(decodeJwt((await nativeTokens(server, undefined, { token: { claims: caps(['cp9', 'cp1']) } })).access_token!).xms_cc, ['cp1']);
      // MSAL with clientCapabilities ['cp1'] sends the claims on authorize and on every token request
      const cae = await nativeTokens(server, undefined, { authorize: { claims: CP1 }, token: { claims: CP1 } });
      assert.deepEqual(decodeJwt(cae.access_token!).xms_cc, ['cp1']);
      const refreshed = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: cae.refresh_token!, scope: 'openid User.Read', claims: CP1 });
      assert.deepEqual(decodeJwt(refreshed.body.access_token!).xms_cc, ['cp1']);
      // client credentials
      const cc = await token(server, { client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', grant_type: 'client_credentials', scope: `${GRAPH_RESOURCE}/.default`, claims: CP1 });
      assert.deepEqual(decodeJwt(cc.body.access_token!).xms_cc, ['cp1']);
      const ccPlain = await token(server, { client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', grant_type: 'client_credentials', scope: `${GRAPH_RESOURCE}/.default` });
      assert.equal(decodeJwt(ccPlain.body.access_token!).xms_cc, undefined);
    });

    test('a claims request of access_token alone (CAE capabilities as MSAL.NET and MSAL Python send them) is accepted at authorize and devicecode; CP1 is read in any case', async () => {
      const bare = JSON.stringify({ access_token: { xms_cc: { values: ['CP1'] } } });
      // authorize: a code, whose tokens are CAE-capable even when the redemption names no claims
      const fromCode = await redeemNative(server, await nativeCode(server, new Jar(), 'openid profile offline_access User.Read', { claims: bare }), { scope: 'openid profile offline_access User.Read' });
      assert.equal(fromCode.status, 200, JSON.stringify(fromCode.body));
      assert.deepEqual(decodeJwt(fromCode.body.access_token!).xms_cc, ['cp1']);
      // refresh with the same claims, as those clients send them on every token request
      const refreshed = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: fromCode.body.refresh_token!, scope: 'openid User.Read', claims: bare });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.deepEqual(decodeJwt(refreshed.body.access_token!).xms_cc, ['cp1']);
      // upper and lower case together are one capability
      const both = JSON.stringify({ access_token: { xms_cc: { values: ['CP1', 'cp1'] } } });
      assert.deepEqual(decodeJwt((await nativeTokens(server, undefined, { token: { claims: both } })).access_token!).xms_cc, ['cp1']);
      // the device-code request
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/devicecode`, { method: 'POST', body: new URLSearchParams({ client_id: DEMO.nativeAppId, scope: 'openid offline_access User.Read', claims: bare }) });
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(typeof body.device_code, 'string');
      // a claims value that is not a JSON object is still refused, in the OAuth shape
      const malformed = await fetch(`${server.tenantUrl}/oauth2/v2.0/devicecode`, { method: 'POST', body: new URLSearchParams({ client_id: DEMO.nativeAppId, scope: 'openid offline_access User.Read', claims: '["access_token"]' }) });
      assert.equal(malformed.status, 400);
      assert.equal(((await malformed.json()) as { error?: string }).error, 'invalid_request');
    });
  });
}

describe('authorization codes expire per LATCHKEY_AUTHORIZATION_CODE_TTL (sqlite)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite', { authorizationCodeTtl: 1 });
  });
  after(async () => {
    mock.timers.reset();
    await server?.close();
  });

  test('a code redeemed within its lifetime works; one past it gets AADSTS70008 (no sleep: the clock is moved)', async () => {
    // The server runs in this process: freeze its clock, so that the 1 s lifetime (kept by the engine in
    // whole seconds) cannot run out between sign-in and redemption, then move it 1.5 s on.
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const fresh = await nativeCode(server, new Jar(), 'openid offline_access User.Read');
    assert.equal((await redeemNative(server, fresh)).status, 200);
    const c = await nativeCode(server, new Jar(), 'openid offline_access User.Read');
    mock.timers.tick(1500);
    assertRefused(await redeemNative(server, c), 'invalid_grant', 70008, 'expired code');
  });
});

describe('access-token lifetime is within [accessTokenMinTtl, accessTokenMaxTtl] (sqlite)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite', { accessTokenMinTtl: 100, accessTokenMaxTtl: 200 });
  });
  after(async () => {
    await server?.close();
  });

  test('code, refresh and client-credentials tokens all live between 100 and 200 s', async () => {
    const lifetimes: number[] = [];
    const check = (body: TokenResponse['body'], what: string) => {
      const p = decodeJwt(body.access_token!);
      const life = p.exp! - p.iat!;
      assert.ok(life >= 100 && life <= 200, `${what}: exp-iat = ${life}`);
      assert.ok(typeof body.expires_in === 'number' && body.expires_in >= 99 && body.expires_in <= 200, `${what}: expires_in = ${String(body.expires_in)}`);
      lifetimes.push(life);
    };
    const t = await nativeTokens(server);
    check(t, 'authorization code (Graph)');
    let rt = t.refresh_token!;
    for (const scope of [`${DEMO.apiIdentifier}/read`, 'User.Read', `${GRAPH_RESOURCE}/.default`]) {
      const r = await refreshNative(server, rt, `openid offline_access ${scope}`);
      check(r.body, `refresh ${scope}`);
      rt = r.body.refresh_token!;
    }
    for (let i = 0; i < 4; i++) {
      const cc = await token(server, { client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', grant_type: 'client_credentials', scope: `${GRAPH_RESOURCE}/.default` });
      check(cc.body, 'client credentials');
    }
    // the ID token keeps its own lifetime (1 h)
    const id = decodeJwt(t.id_token!);
    assert.equal(id.exp! - id.iat!, 3600);
    assert.ok(lifetimes.length === 8);
  });
});

// The minimal directory (UPN unique case-insensitively, SPA apps with their fixed refresh-token lifetime)
// and Latchkey's own record of each browser session (IP, user agent, persistence, last use).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { addAppSecret, createApp, grantPermission, GRAPH_APP_ID } from '../src/directory/apps.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { DEMO } from '../src/directory/seed.js';
import { Jar, authorize, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const NATIVE_REDIRECT = 'http://localhost:61234';

for (const dbKind of await databases()) {
  describe(`directory and session records (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    test('user principal names are unique whatever their case, and found case-insensitively', async () => {
      await assert.rejects(createUser(server.store.db, { tenantId: server.tenantId, upn: `ALICE@${server.tenantDomain.toUpperCase()}`, displayName: 'Another Alice' }));
      const found = await findUserByUpn(server.store.db, server.tenantId, `  Alice@${server.tenantDomain.toUpperCase()} `);
      assert.equal(found?.upn, `alice@${server.tenantDomain}`);
      const count = await server.store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('upn_lower', '=', `alice@${server.tenantDomain}`).executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 1);
    });

    test('a sign-in records the browser session with IP, user agent and persistence; SSO updates its last use', async () => {
      const jar = new Jar();
      const p = pkce();
      const params = { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope: 'openid offline_access User.Read', code_challenge: p.challenge, code_challenge_method: 'S256' };
      const first = await authorize(server, jar, params, { user: `carol@${server.tenantDomain}`, password: DEMO.demoPassword });
      assert.ok(first.redirect?.searchParams.get('code'));
      const carol = (await findUserByUpn(server.store.db, server.tenantId, `carol@${server.tenantDomain}`))!;
      const rows = await server.store.db.selectFrom('signin_sessions').selectAll().where('user_id', '=', carol.id).execute();
      assert.equal(rows.length, 1);
      const row = rows[0]!;
      assert.equal(row.ip, '127.0.0.1');
      assert.equal(row.user_agent, 'node');
      assert.equal(row.persistent, 1, 'Stay signed in = Yes');
      assert.equal(row.password_based, 1);
      assert.deepEqual(JSON.parse(row.amr), ['pwd']);
      const again = await authorize(server, jar, { ...params, prompt: 'none' });
      assert.ok(again.redirect?.searchParams.get('code'), 'SSO gives a code');
      assert.equal(again.signInPages, 0);
      const after = await server.store.db.selectFrom('signin_sessions').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
      assert.ok(after.last_used_at >= row.last_used_at);
      assert.equal(after.created_at, row.created_at, 'the session keeps its original issue time');
    });

    test('an SPA app is a public client whose refresh token lives 24 hours, fixed, and rotates', async () => {
      const spa = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Test SPA', kind: 'spa', redirectUris: [`${server.origin}/spa`] });
      await grantPermission(server.store.db, spa.id, GRAPH_APP_ID, 'delegated', ['User.Read']);
      const jar = new Jar();
      const p = pkce();
      const out = await authorize(server, jar, { client_id: spa.id, response_type: 'code', redirect_uri: `${server.origin}/spa`, scope: 'openid offline_access User.Read', code_challenge: p.challenge, code_challenge_method: 'S256' });
      const code = out.redirect?.searchParams.get('code');
      assert.ok(code, JSON.stringify(out).slice(0, 300));
      // the browser redeems cross-origin: the SPA's Origin goes with it (without, AADSTS9002327: the next test)
      const browser = { origin: server.origin };
      const t = await token(server, { grant_type: 'authorization_code', client_id: spa.id, code, redirect_uri: `${server.origin}/spa`, code_verifier: p.verifier }, browser);
      assert.equal(t.status, 200, JSON.stringify(t.body));
      const rows = await server.store.db.selectFrom('oidc_models').select(['expires_at']).where('model', '=', 'RefreshToken').where('client_id', '=', spa.id).execute();
      assert.equal(rows.length, 1);
      const left = rows[0]!.expires_at! - Date.now();
      assert.ok(left <= 86_400_000 && left > 86_000_000, `about 24 h left, got ${left} ms`);
      const r = await token(server, { grant_type: 'refresh_token', client_id: spa.id, refresh_token: t.body.refresh_token! }, browser);
      assert.equal(r.status, 200);
      assert.notEqual(r.body.refresh_token, t.body.refresh_token, 'public clients rotate (D2)');
      const rotated = await server.store.db.selectFrom('oidc_models').select(['expires_at']).where('model', '=', 'RefreshToken').where('client_id', '=', spa.id).where('consumed_at', 'is', null).executeTakeFirstOrThrow();
      assert.ok(rotated.expires_at! <= rows[0]!.expires_at! + 1000, 'rotation does not extend an SPA refresh token');
    });

    test("cross-origin redemption is Entra's: an SPA's code and refresh token need an Origin (AADSTS9002327), a native or web app's are refused with one (AADSTS9002326)", async () => {
      const spa = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Origin SPA', kind: 'spa', redirectUris: [`${server.origin}/origin-spa`] });
      const web = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Origin web app', kind: 'web', redirectUris: [`${server.origin}/origin-web`] });
      await addAppSecret(server.store.db, web.id, 'origin-web-secret');
      const apps = {
        spa: { client_id: spa.id, redirect_uri: `${server.origin}/origin-spa` },
        native: { client_id: DEMO.nativeAppId, redirect_uri: NATIVE_REDIRECT },
        web: { client_id: web.id, redirect_uri: `${server.origin}/origin-web`, client_secret: 'origin-web-secret' },
      };
      const jar = new Jar();
      const codeFor = async (kind: keyof typeof apps) => {
        const p = pkce();
        const { client_id, redirect_uri } = apps[kind];
        const out = await authorize(server, jar, { client_id, redirect_uri, response_type: 'code', scope: 'openid offline_access', code_challenge: p.challenge, code_challenge_method: 'S256' });
        const code = out.redirect?.searchParams.get('code');
        assert.ok(code, `${kind}: ${JSON.stringify(out).slice(0, 300)}`);
        return { grant_type: 'authorization_code', code, code_verifier: p.verifier, ...apps[kind] };
      };
      const refresh = (kind: keyof typeof apps, refreshToken: string) => {
        const app: { client_id: string; client_secret?: string } = apps[kind];
        return { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: app.client_id, ...(app.client_secret ? { client_secret: app.client_secret } : {}) };
      };
      // the SPA's own origin (its redirect URI's), and a page elsewhere
      const SPA_ORIGIN = { origin: server.origin };
      const ORIGIN = { origin: 'https://app.example' };
      const refused = (r: Awaited<ReturnType<typeof token>>, aadsts: number, what: string) => {
        assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error, 'invalid_request', what);
        assert.deepEqual(r.body.error_codes, [aadsts], what);
      };
      // [kind, the Origin a redemption must carry (undefined: none), the code refused for the wrong one]
      const cases = [
        ['spa', SPA_ORIGIN, 9002327],
        ['native', undefined, 9002326],
        ['web', undefined, 9002326],
      ] as const;
      for (const [kind, right, wrongCode] of cases) {
        const wrong = right ? {} : ORIGIN;
        const code = await codeFor(kind);
        refused(await token(server, code, wrong), wrongCode, `${kind}: a code redeemed ${right ? 'without' : 'with'} an Origin`);
        // refused before the engine consumes it: the same code, redeemed as its kind, still works
        const ok = await token(server, code, right ?? {});
        assert.equal(ok.status, 200, `${kind}: the refused code redeemed as its kind is: ${JSON.stringify(ok.body)}`);
        const r = await token(server, refresh(kind, ok.body.refresh_token!), wrong);
        refused(r, wrongCode, `${kind}: a refresh ${right ? 'without' : 'with'} an Origin`);
        if (!right) assert.match(r.body.error_description ?? '', /Request origin: 'https:\/\/app\.example'\./, `${kind}: the origin is named`);
        // the refusal came before the rotation: the same refresh token still works, sent as its kind sends it
        const again = await token(server, refresh(kind, ok.body.refresh_token!), right ?? {});
        assert.equal(again.status, 200, `${kind}: the refused refresh token still refreshes: ${JSON.stringify(again.body)}`);
      }
      // an SPA called from a page that is not one of its redirect URIs' origins: the engine's CORS refusal, naming it
      const foreign = await token(server, await codeFor('spa'), ORIGIN);
      refused(foreign, 900144, 'an SPA code from a foreign origin');
      assert.match(foreign.body.error_description ?? '', /origin https:\/\/app\.example not allowed/i);
    });

    test('a confidential app without PKCE is refused unless its PKCE switch is off (D3)', async () => {
      const legacy = await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'Legacy web app', kind: 'web', redirectUris: [`${server.origin}/legacy`], requirePkce: false });
      await addAppSecret(server.store.db, legacy.id, 'legacy-secret');
      const jar = new Jar();
      const out = await authorize(server, jar, { client_id: legacy.id, response_type: 'code', redirect_uri: `${server.origin}/legacy`, scope: 'openid' });
      assert.ok(out.redirect?.searchParams.get('code'), 'no code_challenge needed for this app');
      const strict = await authorize(server, new Jar(), { client_id: DEMO.webAppId, response_type: 'code', redirect_uri: `${server.origin}/demo/callback`, scope: 'openid' });
      assert.equal(strict.redirect?.searchParams.get('error'), 'invalid_request');
    });
  });
}

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
      const t = await token(server, { grant_type: 'authorization_code', client_id: spa.id, code, redirect_uri: `${server.origin}/spa`, code_verifier: p.verifier });
      assert.equal(t.status, 200, JSON.stringify(t.body));
      const rows = await server.store.db.selectFrom('oidc_models').select(['expires_at']).where('model', '=', 'RefreshToken').where('client_id', '=', spa.id).execute();
      assert.equal(rows.length, 1);
      const left = rows[0]!.expires_at! - Date.now();
      assert.ok(left <= 86_400_000 && left > 86_000_000, `about 24 h left, got ${left} ms`);
      const r = await token(server, { grant_type: 'refresh_token', client_id: spa.id, refresh_token: t.body.refresh_token! });
      assert.equal(r.status, 200);
      assert.notEqual(r.body.refresh_token, t.body.refresh_token, 'public clients rotate (D2)');
      const rotated = await server.store.db.selectFrom('oidc_models').select(['expires_at']).where('model', '=', 'RefreshToken').where('client_id', '=', spa.id).where('consumed_at', 'is', null).executeTakeFirstOrThrow();
      assert.ok(rotated.expires_at! <= rows[0]!.expires_at! + 1000, 'rotation does not extend an SPA refresh token');
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

// The engine's cached view of app registrations follows every write at once, on every instance (issue 8,
// src/directory/version.ts): two servers on one PostgreSQL database; a PATCH of an application's redirect
// URIs through instance 1 is seen by an authorize request at instance 2 on the very next request, after
// instance 2 had cached the old view. On SQLite (one instance per file) a write through Graph is seen by the
// same instance's next request, with no statement on the read path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config/index.js';
import { startServer, type RunningServer } from '../src/server.js';
import { Jar, authorize, consentNativeAppToGraph, delegatedGraphToken, pkce, signinFormAction } from './helpers/http-signin.js';
import { databases, startTestServer, testCa, type TestServer } from './helpers/server.js';

/** Where an authorize request for this redirect URI ends: the sign-in pages (accepted: the user-name page, or a redirect to them) or Entra's error page. */
async function authorizeAt(server: { tenantUrl: string }, clientId: string, redirectUri: string): Promise<{ status: number; accepted: boolean; body: string }> {
  const p = pkce();
  const url = `${server.tenantUrl}/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid', code_challenge: p.challenge, code_challenge_method: 'S256' })}`;
  const res = await fetch(url, { redirect: 'manual' });
  const location = res.headers.get('location') ?? '';
  const text = await res.text();
  const signinPage = res.status === 200 && !!signinFormAction(text, new URL(server.tenantUrl).origin);
  return { status: res.status, accepted: signinPage || ((res.status === 303 || res.status === 302) && location.includes('/signin/')), body: res.status >= 400 ? text : location };
}

for (const dbKind of await databases()) {
  describe(`the engine's view of an application follows a Graph write at once (${dbKind})`, () => {
    let one: TestServer;
    let two: (RunningServer & { tenantUrl: string }) | undefined;
    let admin: string;

    before(async () => {
      one = await startTestServer(dbKind);
      if (dbKind === 'postgres') {
        // a second instance on the same database and master key (the first one's data folder)
        const config = loadConfig({ LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_SECURITY_DEFAULTS: 'false' }, { dataDir: one.dataDir, port: 0, host: '127.0.0.1', tlsCaCert: testCa(), databaseUrl: one.config.databaseUrl, bootstrapAdminPassword: 'Bootstrap-Admin-Pw-1', automationClientSecret: 'automation-secret-value' });
        const s = await startServer(config);
        two = { ...s, tenantUrl: `${s.origin}/${s.tenantId}` };
        assert.equal(two.tenantId, one.tenantId, 'one tenant, two instances');
      }
      await consentNativeAppToGraph(one);
      admin = await delegatedGraphToken(one, `admin@${one.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
    });
    after(async () => {
      await two?.close();
      await one?.close();
    });

    test('a PATCH of redirect URIs at one instance is seen by the next authorize request (at the other instance on PostgreSQL)', async () => {
      const other = two ?? one;
      const graph = (method: string, path: string, body?: unknown) => fetch(`${one.origin}/v1.0${path}`, { method, headers: { authorization: `Bearer ${admin}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const created = (await (await graph('POST', '/applications', { displayName: 'Moving target', web: { redirectUris: ['https://old.example/cb'] } })).json()) as { id: string; appId: string };
      assert.equal((await graph('POST', '/servicePrincipals', { appId: created.appId })).status, 201);
      // the other instance has the old view cached (read twice: the second time from its cache)
      for (let i = 0; i < 2; i++) {
        assert.equal((await authorizeAt(other, created.appId, 'https://old.example/cb')).accepted, true, 'the old redirect URI works');
        assert.equal((await authorizeAt(other, created.appId, 'https://new.example/cb')).accepted, false, 'the new one does not yet');
      }
      assert.equal((await graph('PATCH', `/applications/${created.id}`, { web: { redirectUris: ['https://new.example/cb'] } })).status, 204);
      const next = await authorizeAt(other, created.appId, 'https://new.example/cb');
      assert.equal(next.accepted, true, `the very next request sees the new redirect URI: ${next.status} ${next.body.slice(0, 300)}`);
      const old = await authorizeAt(other, created.appId, 'https://old.example/cb');
      assert.equal(old.accepted, false, 'and no longer the old one');
      assert.match(old.body, /AADSTS50011/);
      // a deleted application is unknown at once too
      assert.equal((await graph('DELETE', `/applications/${created.id}`)).status, 204);
      assert.equal((await authorizeAt(other, created.appId, 'https://new.example/cb')).accepted, false);
    });

    test('an app created through Graph signs a user in at the other instance as soon as its service principal is created', async () => {
      const other = two ?? one;
      const post = (path: string, body: unknown) => fetch(`${one.origin}/v1.0${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const created = (await (await post('/applications', { displayName: 'Fresh', publicClient: { redirectUris: ['http://localhost'] } })).json()) as { appId: string };
      const signIn = () => {
        const p = pkce();
        return authorize({ ...one, ...other, tenantUrl: other.tenantUrl } as TestServer, new Jar(), { client_id: created.appId, response_type: 'code', redirect_uri: 'http://localhost', scope: 'openid', code_challenge: p.challenge, code_challenge_method: 'S256' });
      };
      // no service principal yet (Graph's POST /applications makes none): no sign-in, and the other instance caches that view
      for (let i = 0; i < 2; i++) assert.match((await signIn()).html ?? '', /AADSTS700016/);
      assert.equal((await post('/servicePrincipals', { appId: created.appId })).status, 201);
      const out = await signIn();
      assert.ok(out.redirect?.searchParams.get('code'), `a code: ${out.status} ${out.html?.slice(0, 200)}`);
    });
  });
}

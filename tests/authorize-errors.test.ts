// Errors sent back to the app from authorize carry Entra's AADSTS description (D9), in every response mode.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { pkce } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

for (const dbKind of await databases()) {
  describe(`authorize errors in Entra's shape (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });
    const authorize = (extra: Record<string, string>) => {
      const q = new URLSearchParams({ client_id: DEMO.webAppId, response_type: 'code', redirect_uri: `${server.origin}/demo/callback`, scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256', state: 's1', ...extra });
      return fetch(`${server.tenantUrl}/oauth2/v2.0/authorize?${q}`, { redirect: 'manual' });
    };

    test('prompt=none without a session redirects login_required with AADSTS50058 (query)', async () => {
      const res = await authorize({ prompt: 'none' });
      assert.equal(res.status, 303);
      const loc = new URL(res.headers.get('location')!);
      assert.equal(loc.origin + loc.pathname, `${server.origin}/demo/callback`);
      assert.equal(loc.searchParams.get('error'), 'login_required');
      assert.match(loc.searchParams.get('error_description') ?? '', /^AADSTS50058: /);
      assert.equal(loc.searchParams.get('state'), 's1');
      const logged = await server.store.db.selectFrom('signin_log').selectAll().where('error_code', '=', 50058).execute();
      assert.equal(logged.length, 1, 'the refusal is logged (D11)');
      assert.equal(logged[0]!.status, 'failure');
      assert.equal(logged[0]!.app_id, DEMO.webAppId);
    });

    test('prompt=none without a session posts login_required with AADSTS50058 (form_post)', async () => {
      const res = await authorize({ prompt: 'none', response_mode: 'form_post' });
      const html = await res.text();
      assert.match(html, /name="error" value="login_required"/);
      assert.match(html, /name="error_description" value="AADSTS50058: /);
    });

    test('an unknown resource scope redirects invalid_target with AADSTS500011', async () => {
      const res = await authorize({ scope: 'openid api://no-such-api/read' });
      const loc = new URL(res.headers.get('location')!);
      assert.equal(loc.searchParams.get('error'), 'invalid_target');
      assert.match(loc.searchParams.get('error_description') ?? '', /^AADSTS500011: /);
    });

    test("a response_type other than code (the implicit flow) is refused as Entra refuses it for an app without implicit grants: AADSTS700054, posted or redirected, logged", async () => {
      for (const [extra, how] of [
        [{ response_type: 'id_token', response_mode: 'form_post', nonce: 'n1' }, 'form_post'],
        [{ response_type: 'id_token token', response_mode: 'fragment', nonce: 'n2' }, 'fragment'],
      ] as const) {
        const res = await authorize(extra);
        let error: string | null;
        let description: string | null;
        let state: string | null;
        if (how === 'form_post') {
          const html = await res.text();
          error = /name="error" value="([^"]*)"/.exec(html)?.[1] ?? null;
          description = /name="error_description" value="([^"]*)"/.exec(html)?.[1]?.replaceAll('&#39;', "'") ?? null;
          state = /name="state" value="([^"]*)"/.exec(html)?.[1] ?? null;
        } else {
          const loc = new URL(res.headers.get('location') ?? 'x:');
          const p = new URLSearchParams(loc.hash.slice(1));
          [error, description, state] = [p.get('error'), p.get('error_description'), p.get('state')];
        }
        assert.equal(error, 'unsupported_response_type', how);
        assert.match(description ?? '', /^AADSTS700054: The response_type asked for is not enabled for the application: only 'code' is/, how);
        assert.equal(state, 's1', how);
      }
      const logged = await server.store.db.selectFrom('signin_log').select(['error_code', 'reason']).where('error_code', '=', 700054).execute();
      assert.deepEqual(logged, [{ error_code: 700054, reason: 'response_type_not_enabled' }, { error_code: 700054, reason: 'response_type_not_enabled' }]);
    });
  });
}

// Tokens and MFA (spec §2 rules 5 and 6, §5 Revoke MFA sessions, §6, D9): TAP-born sessions and tokens
// end no later than the TAP (access token exp included; a controlled clock, no sleeping), a refresh after
// the TAP's deletion is refused with 50173 bad_token, a refresh whose MFA no longer counts is refused
// with basic_action 50076 before the token rotates (the same token still refreshes for an API without
// requireMfa, and one interactive round trip restores it), and the remember-MFA cookie.
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn, type User } from '../src/directory/users.js';
import { PERIOD_S } from '../src/methods/software-oath/index.js';
import { insertTap } from '../src/methods/tap/index.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { enrollTotp, totpAt as codeAt } from './helpers/mfa.js';
import { Jar, assertRefused, authorize, pkce, token, type StepAnswers } from './helpers/http-signin.js';

const NATIVE_REDIRECT = 'http://localhost:41234';
const SCOPE = 'openid profile offline_access User.Read';



async function userNamed(server: TestServer, local: string): Promise<User> {
  const u = await findUserByUpn(server.store.db, server.tenantId, `${local}@${server.tenantDomain}`);
  assert.ok(u);
  return u;
}

async function signInNative(server: TestServer, jar: Jar, who: { user: string; password: string; answers?: StepAnswers }, scope = SCOPE, extra: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  const out = await authorize(server, jar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope, code_challenge: challenge, code_challenge_method: 'S256', ...extra }, who);
  const code = out.redirect?.searchParams.get('code');
  assert.ok(code, `a code: ${out.redirect?.href ?? `${out.status} ${out.html?.slice(0, 400)}`}`);
  const r = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code, redirect_uri: NATIVE_REDIRECT, code_verifier: verifier, scope });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { ...r.body, signInPages: out.signInPages };
}

const refresh = (server: TestServer, rt: string, scope = SCOPE) => token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: rt, scope });

for (const dbKind of await databases()) {
  describe(`MFA and TAP in tokens (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(() => server.close());

    test('TAP cap: the access token, the refresh token and the session end no later than the TAP', async () => {
      const alice = await userNamed(server, 'alice');
      const now = Date.now();
      const expiresAt = now + 2 * 60_000;
      await insertTap(server.store.db, server.secrets, alice, 'CapTapValue9', { startAt: expiresAt - 60 * 60_000, lifetimeMinutes: 60, isUsableOnce: false }, now);
      const jar = new Jar();
      const who = { user: alice.upn, password: '', answers: { tap: () => ({ accesspass: 'CapTapValue9' }) } };
      const t = await signInNative(server, jar, who);
      const exp = decodeJwt(t.access_token!).exp!;
      assert.ok(exp * 1000 <= expiresAt, `access token exp ${exp} is capped at the TAP expiry ${expiresAt / 1000}`);
      const r1 = await refresh(server, t.refresh_token!);
      assert.equal(r1.status, 200, JSON.stringify(r1.body));
      assert.ok(decodeJwt(r1.body.access_token!).exp! * 1000 <= expiresAt);
      mock.timers.enable({ apis: ['Date'], now: Date.now() });
      try {
        mock.timers.tick(3 * 60_000);
        const r2 = await refresh(server, r1.body.refresh_token!);
        assertRefused(r2, 'invalid_grant', 700082, 'refresh after the TAP expired');
        assert.equal(r2.body.suberror, 'bad_token');
        const { challenge } = pkce();
        const silent = await authorize(server, jar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope: 'openid', prompt: 'none', code_challenge: challenge, code_challenge_method: 'S256' }, who);
        assert.equal(silent.redirect?.searchParams.get('error'), 'login_required', 'the TAP-born browser session ended with the TAP');
      } finally {
        mock.timers.reset();
      }
    });

    test('a refresh after the TAP was deleted is refused with AADSTS50173 and bad_token', async () => {
      const carol = await userNamed(server, 'carol');
      await insertTap(server.store.db, server.secrets, carol, 'DelTapValue9', { startAt: Date.now() - 1000, lifetimeMinutes: 60, isUsableOnce: false }, Date.now());
      const t = await signInNative(server, new Jar(), { user: carol.upn, password: '', answers: { tap: () => ({ accesspass: 'DelTapValue9' }) } });
      await server.store.db.deleteFrom('auth_methods').where('user_id', '=', carol.id).where('type', '=', 'temporaryAccessPass').execute();
      const r = await refresh(server, t.refresh_token!);
      assertRefused(r, 'invalid_grant', 50173, 'refresh after the TAP was deleted');
      assert.equal(r.body.suberror, 'bad_token');
    });

    test('Revoke MFA sessions: a refresh for an API with requireMfa gets invalid_grant, basic_action, 50076; the same token refreshes for Graph; one interactive round trip without an MFA prompt restores it', async () => {
      const bob = await userNamed(server, 'bob');
      const secret = await enrollTotp(server, bob);
      await server.store.db.updateTable('apps').set({ require_mfa: 1 }).where('id', '=', DEMO.apiAppId).execute();
      try {
        const jar = new Jar();
        const answers: StepAnswers = { mfa: () => ({ method: 'softwareOath', code: codeAt(secret, Date.now()) }) };
        const t = await signInNative(server, jar, { user: bob.upn, password: DEMO.demoPassword, answers }, 'openid offline_access api://demo-api/read');
        const ok = await refresh(server, t.refresh_token!, 'openid offline_access api://demo-api/read');
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        // Revoke MFA sessions: the stamp
        await server.store.db.updateTable('users').set({ mfa_remembered_valid_from: Date.now() + 1 }).where('id', '=', bob.id).execute();
        const refused = await refresh(server, ok.body.refresh_token!, 'openid offline_access api://demo-api/read');
        assert.equal(refused.status, 400);
        assert.equal(refused.body.error, 'invalid_grant');
        assert.equal(refused.body.suberror, 'basic_action');
        assert.deepEqual(refused.body.error_codes, [50076]);
        const graph = await refresh(server, ok.body.refresh_token!, 'openid offline_access User.Read');
        assert.equal(graph.status, 200, `the same refresh token still refreshes for an API without requireMfa: ${JSON.stringify(graph.body)}`);
        const pages: string[] = [];
        const again = await signInNative(server, jar, { user: bob.upn, password: DEMO.demoPassword, answers: { mfa: () => (pages.push('mfa'), {}) } }, 'openid offline_access api://demo-api/read');
        assert.deepEqual(pages, [], 'the browser session kept its MFA: no prompt');
        const after = await refresh(server, again.refresh_token!, 'openid offline_access api://demo-api/read');
        assert.equal(after.status, 200, JSON.stringify(after.body));
      } finally {
        await server.store.db.updateTable('apps').set({ require_mfa: 0 }).where('id', '=', DEMO.apiAppId).execute();
      }
    });

    test('per-user MFA: "Don\'t ask again" skips the second factor on that device until Revoke MFA sessions', async () => {
      const u = await userNamed(server, 'carol');
      const secret = await enrollTotp(server, u);
      await server.store.db.updateTable('users').set({ per_user_mfa_state: 'enforced' }).where('id', '=', u.id).execute();
      try {
        const jar = new Jar();
        let asked = 0;
        const answers: StepAnswers = { mfa: (html) => (assert.match(html, /Don't ask again for 14 days/), asked++, { method: 'softwareOath', code: codeAt(secret, Date.now()), remember: 'yes' }) };
        const who = { user: u.upn, password: DEMO.demoPassword, answers };
        await signInNative(server, jar, who, 'openid', { prompt: 'login' });
        assert.equal(asked, 1);
        await signInNative(server, jar, who, 'openid', { prompt: 'login' });
        assert.equal(asked, 1, 'the remembered device is not asked again');
        await server.store.db.updateTable('users').set({ mfa_remembered_valid_from: Date.now() + 1 }).where('id', '=', u.id).execute();
        // a fresh code step: the previous one was accepted
        await new Promise((r) => setTimeout(r, 0));
        const answers2: StepAnswers = { mfa: () => (asked++, { method: 'softwareOath', code: codeAt(secret, Date.now() + PERIOD_S * 1000) }) };
        await signInNative(server, jar, { ...who, answers: answers2 }, 'openid', { prompt: 'login' });
        assert.equal(asked, 2, 'after Revoke MFA sessions the device is asked again');
      } finally {
        await server.store.db.updateTable('users').set({ per_user_mfa_state: 'disabled' }).where('id', '=', u.id).execute();
      }
    });
  });
}

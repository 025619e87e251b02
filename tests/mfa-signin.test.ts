// MFA at sign-in (spec §6, §8, D9, D22), over plain HTTP with real sign-in pages: a TOTP second factor
// with codes computed here (wrong, replayed, right), step-up for an API that requires MFA (prompt=none
// gets AADSTS50076), the Temporary Access Pass screen (one-time, multi-use, expired, not yet valid,
// used, deleted; the other methods offered), the registration interrupt, and one one-time TAP under 50
// concurrent sign-ins.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { DEMO } from '../src/directory/seed.js';
import { rememberTenantSettings, SETTINGS_DEFAULTS, writeTenantSettings } from '../src/directory/settings.js';
import { findUserByUpn, type User } from '../src/directory/users.js';
import { PERIOD_S } from '../src/methods/software-oath/index.js';
import { insertTap } from '../src/methods/tap/index.js';
import { listMethods } from '../src/methods/store.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { enrollTotp, totpAt as codeAt } from './helpers/mfa.js';
import { Jar, authorize, pkce, token, type StepAnswers, startSignIn } from './helpers/http-signin.js';

const NATIVE_REDIRECT = 'http://localhost:41234';



async function userNamed(server: TestServer, local: string): Promise<User> {
  const u = await findUserByUpn(server.store.db, server.tenantId, `${local}@${server.tenantDomain}`);
  assert.ok(u);
  return u;
}

function nativeParams(scope: string, extra: Record<string, string> = {}) {
  const { verifier, challenge } = pkce();
  return { verifier, params: { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope, code_challenge: challenge, code_challenge_method: 'S256', ...extra } };
}

async function redeem(server: TestServer, code: string, verifier: string, scope: string) {
  const r = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code, redirect_uri: NATIVE_REDIRECT, code_verifier: verifier, scope });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
}

/** Posts one step of an interaction by hand: returns the response's status and page. */
async function post(server: TestServer, jar: Jar, at: URL, fields: Record<string, string>) {
  const res = await fetch(at, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields), redirect: 'manual' });
  jar.take(res);
  return { status: res.status, html: res.status === 303 ? '' : await res.text(), location: res.headers.get('location') };
}

/** Starts an authorization request and returns the sign-in page's URL (before any step is posted). */
async function startInteraction(server: TestServer, jar: Jar, params: Record<string, string>): Promise<URL> {
  return (await startSignIn(server, jar, params)).at;
}

async function pageAt(jar: Jar, at: URL) {
  const res = await fetch(at, { headers: { cookie: jar.header() }, redirect: 'manual' });
  jar.take(res);
  const html = await res.text();
  return { html, csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '', step: /name="step" value="([^"]+)"/.exec(html)?.[1] ?? '' };
}

for (const dbKind of await databases()) {
  describe(`MFA at sign-in (${dbKind})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(() => server.close());

    test('per-user MFA with TOTP: a wrong and a replayed code are refused with AADSTS500121, the right code signs in with amr otp+mfa', async () => {
      const bob = await userNamed(server, 'bob');
      // the enrollment took the code of the step before this moment (or a later one, if a step begins meanwhile)
      const enrolledBefore = Date.now();
      const secret = await enrollTotp(server, bob, 1);
      await server.store.db.updateTable('users').set({ per_user_mfa_state: 'enforced' }).where('id', '=', bob.id).execute();
      const jar = new Jar();
      const { verifier, params } = nativeParams('openid profile offline_access User.Read');
      const at = await startInteraction(server, jar, params);
      let p = await pageAt(jar, at);
      assert.equal(p.step, 'username');
      let r = await post(server, jar, at, { csrf: p.csrf, step: 'username', loginfmt: bob.upn });
      assert.equal(r.status, 200);
      p = await pageAt(jar, at);
      r = await post(server, jar, at, { csrf: p.csrf, step: 'password', passwd: DEMO.demoPassword });
      assert.match(r.html, /name="step" value="mfa"/, 'the second factor is asked after the password');
      assert.match(r.html, /<label for="idTxtBx_SAOTCC_OTC">/, 'the code field has a label');
      const before = await server.store.db.selectFrom('signin_log').select(['error_code']).where('user_id', '=', bob.id).where('error_code', '=', 500121).execute();
      r = await post(server, jar, at, { csrf: p.csrf, step: 'mfa', method: 'softwareOath', code: '000000' === codeAt(secret, Date.now()) ? '111111' : '000000' });
      assert.equal(r.status, 400);
      assert.match(r.html, /AADSTS500121/);
      r = await post(server, jar, at, { csrf: p.csrf, step: 'mfa', method: 'softwareOath', code: codeAt(secret, enrolledBefore - PERIOD_S * 1000) });
      assert.equal(r.status, 400, 'the enrollment step was already accepted: a replay');
      for (const bad of ['12345', '1234567', 'abcdef']) {
        r = await post(server, jar, at, { csrf: p.csrf, step: 'mfa', method: 'softwareOath', code: bad });
        assert.equal(r.status, 400, `code ${JSON.stringify(bad)}`);
      }
      const logged = await server.store.db.selectFrom('signin_log').select(['error_code']).where('user_id', '=', bob.id).where('error_code', '=', 500121).execute();
      assert.equal(logged.length - before.length, 5, 'each wrong code is logged as 500121');
      // the limit (5 in the window) is reached: even the right code is refused now
      r = await post(server, jar, at, { csrf: p.csrf, step: 'mfa', method: 'softwareOath', code: codeAt(secret, Date.now()) });
      assert.equal(r.status, 429);
      await server.store.db.deleteFrom('mfa_failures').where('user_id', '=', bob.id).execute();
      r = await post(server, jar, at, { csrf: p.csrf, step: 'mfa', method: 'softwareOath', code: codeAt(secret, Date.now()) });
      assert.match(r.html, /name="step" value="kmsi"/, r.html.slice(0, 500));
      r = await post(server, jar, at, { csrf: p.csrf, step: 'kmsi', kmsi: 'no' });
      assert.equal(r.status, 303);
      const redirect = await authorizeFollow(server, jar, new URL(r.location!, server.origin));
      const tokens = await redeem(server, redirect.searchParams.get('code')!, verifier, 'openid profile offline_access User.Read');
      const amr = decodeJwt(tokens.id_token!).amr as string[];
      assert.deepEqual([...amr].sort(), ['mfa', 'otp', 'pwd']);
      const session = await server.store.db.selectFrom('signin_sessions').selectAll().where('user_id', '=', bob.id).orderBy('created_at', 'desc').executeTakeFirst();
      assert.ok(session?.mfa_at, 'the session records when MFA was satisfied');
      assert.deepEqual(JSON.parse(session.methods), ['password', 'softwareOath']);
      const logRow = await server.store.db.selectFrom('signin_log').selectAll().where('user_id', '=', bob.id).where('status', '=', 'success').orderBy('id', 'desc').executeTakeFirst();
      assert.deepEqual(JSON.parse(logRow?.methods ?? '[]'), ['password', 'softwareOath'], "each step's method is kept for the sign-in log");
    });

    test('step-up: a password-only session reaching an API that requires MFA is asked only the second factor; prompt=none gets AADSTS50076', async () => {
      const carol = await userNamed(server, 'carol');
      const secret = await enrollTotp(server, carol);
      const jar = new Jar();
      const who = { user: carol.upn, password: DEMO.demoPassword };
      const first = nativeParams('openid profile offline_access User.Read');
      const out = await authorize(server, jar, first.params, who);
      assert.ok(out.redirect?.searchParams.get('code'), 'signed in with the password only (nothing requires MFA yet)');
      await server.store.db.updateTable('apps').set({ require_mfa: 1 }).where('id', '=', DEMO.apiAppId).execute();
      try {
        const silent = nativeParams('openid api://demo-api/read', { prompt: 'none' });
        const s = await authorize(server, jar, silent.params, who);
        assert.equal(s.redirect?.searchParams.get('error'), 'interaction_required', s.redirect?.href);
        assert.match(s.redirect?.searchParams.get('error_description') ?? '', /^AADSTS50076:/);
        const asked: string[] = [];
        const answers: StepAnswers = {
          username: () => assert.fail('the user name is not asked again'),
          password: () => assert.fail('the password is not asked again'),
          mfa: () => (asked.push('mfa'), { method: 'softwareOath', code: codeAt(secret, Date.now()) }),
        };
        const step = nativeParams('openid api://demo-api/read');
        const up = await authorize(server, jar, step.params, { ...who, answers });
        assert.deepEqual(asked, ['mfa']);
        const tokens = await redeem(server, up.redirect!.searchParams.get('code')!, step.verifier, 'openid api://demo-api/read');
        assert.ok((decodeJwt(tokens.access_token!).amr as string[]).includes('mfa'));
      } finally {
        await server.store.db.updateTable('apps').set({ require_mfa: 0 }).where('id', '=', DEMO.apiAppId).execute();
      }
    });

    test('a one-time TAP signs in once; used, expired, not-yet-valid and deleted passes are refused with the password offered', async () => {
      const alice = await userNamed(server, 'alice');
      const now = Date.now();
      const deps = { db: server.store.db, secrets: server.secrets };
      await insertTap(deps.db, deps.secrets, alice, 'TapValue2345', { startAt: now - 60_000, lifetimeMinutes: 60, isUsableOnce: true }, now);
      const tapAnswers = (value: string): StepAnswers => ({ tap: () => ({ accesspass: value }), password: () => assert.fail('the password is not asked when the TAP works') });
      const first = nativeParams('openid profile offline_access User.Read');
      const ok = await authorize(server, new Jar(), first.params, { user: alice.upn, password: '', answers: tapAnswers('TapValue2345') });
      const tokens = await redeem(server, ok.redirect!.searchParams.get('code')!, first.verifier, 'openid profile offline_access User.Read');
      assert.ok((decodeJwt(tokens.id_token!).amr as string[]).includes('mfa'), 'a TAP satisfies MFA');
      const session = await server.store.db.selectFrom('signin_sessions').selectAll().where('user_id', '=', alice.id).orderBy('created_at', 'desc').executeTakeFirst();
      assert.equal(session?.password_based, 0, 'a TAP sign-in is not password-based');
      assert.ok(session?.tap_expires_at && session.tap_expires_at <= now + 60 * 60_000, 'the session is capped at the TAP expiry');

      const cases: [string, () => Promise<void>, RegExp][] = [
        ['used', async () => {}, /AADSTS130504/],
        ['expired', () => insertTap(deps.db, deps.secrets, alice, 'TapValue2345', { startAt: Date.now() - 61 * 60_000, lifetimeMinutes: 60, isUsableOnce: false }, Date.now()).then(() => undefined), /AADSTS130503/],
        ['not yet valid', () => insertTap(deps.db, deps.secrets, alice, 'TapValue2345', { startAt: Date.now() + 60 * 60_000, lifetimeMinutes: 60, isUsableOnce: false }, Date.now()).then(() => undefined), /AADSTS130502/],
      ];
      for (const [what, arrange, code] of cases) {
        await arrange();
        const jar = new Jar();
        const at = await startInteraction(server, jar, nativeParams('openid').params);
        let p = await pageAt(jar, at);
        await post(server, jar, at, { csrf: p.csrf, step: 'username', loginfmt: alice.upn });
        p = await pageAt(jar, at);
        // a used or expired pass is not "usable": the password page comes first, with the TAP offered
        if (p.step === 'password') {
          assert.match(p.html, /id="useTap"/, `${what}: the TAP is still offered`);
          await post(server, jar, at, { csrf: p.csrf, step: 'use_tap' });
          p = await pageAt(jar, at);
        }
        assert.equal(p.step, 'tap', what);
        const r = await post(server, jar, at, { csrf: p.csrf, step: 'tap', accesspass: 'TapValue2345' });
        assert.equal(r.status, 400, what);
        assert.match(r.html, code, what);
        assert.match(r.html, /name="step" value="password"/, `${what}: the password is offered`);
      }
      // deleted between the user name and the pass
      await insertTap(deps.db, deps.secrets, alice, 'TapValue2345', { startAt: Date.now() - 1000, lifetimeMinutes: 60, isUsableOnce: false }, Date.now());
      const jar = new Jar();
      const at = await startInteraction(server, jar, nativeParams('openid').params);
      let p = await pageAt(jar, at);
      await post(server, jar, at, { csrf: p.csrf, step: 'username', loginfmt: alice.upn });
      p = await pageAt(jar, at);
      assert.equal(p.step, 'tap');
      await server.store.db.deleteFrom('auth_methods').where('user_id', '=', alice.id).execute();
      const r = await post(server, jar, at, { csrf: p.csrf, step: 'tap', accesspass: 'TapValue2345' });
      assert.match(r.html, /AADSTS130505/);
      assert.match(r.html, /name="step" value="password"/);
    });

    test('50 concurrent sign-ins with one one-time TAP: exactly one succeeds', async () => {
      const dave = await userNamed(server, 'alice');
      await insertTap(server.store.db, server.secrets, dave, 'RaceTap23456', { startAt: Date.now() - 1000, lifetimeMinutes: 60, isUsableOnce: true }, Date.now());
      const flows = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const jar = new Jar();
          const at = await startInteraction(server, jar, nativeParams('openid').params);
          const p = await pageAt(jar, at);
          await post(server, jar, at, { csrf: p.csrf, step: 'username', loginfmt: dave.upn });
          return { jar, at, csrf: p.csrf };
        }),
      );
      const results = await Promise.all(flows.map((f) => post(server, f.jar, f.at, { csrf: f.csrf, step: 'tap', accesspass: 'RaceTap23456' })));
      const passed = results.filter((r) => r.status !== 400);
      assert.equal(passed.length, 1, `statuses: ${results.map((r) => r.status).join(',')}`);
      assert.equal(results.filter((r) => /AADSTS130504/.test(r.html)).length, 49);
    });

    test('a user with no method who must use MFA registers an authenticator app at sign-in, and the method exists', async () => {
      const u = await userNamed(server, 'bob');
      await server.store.db.deleteFrom('auth_methods').where('user_id', '=', u.id).execute();
      await server.store.db.updateTable('users').set({ per_user_mfa_state: 'enabled' }).where('id', '=', u.id).execute();
      let shown = '';
      const answers: StepAnswers = {
        register: (html) => {
          shown = /id="totpSecret">([A-Z2-7]+)</.exec(html)?.[1] ?? '';
          assert.ok(shown, 'the key is shown beside the QR code');
          assert.match(html, /<img src="data:image\/png;base64,/);
          return { code: codeAt(shown, Date.now()) };
        },
      };
      const p = nativeParams('openid');
      const out = await authorize(server, new Jar(), p.params, { user: u.upn, password: DEMO.demoPassword, answers });
      assert.ok(out.redirect?.searchParams.get('code'), out.html?.slice(0, 400));
      const methods = await listMethods(server.store.db, u.id);
      assert.deepEqual(methods.map((m) => m.type), ['softwareOath']);
      const audit = await server.store.db.selectFrom('audit_log').select('activity').where('target_id', '=', u.id).where('activity', '=', 'User registered security info').execute();
      assert.equal(audit.length, 1);
      await server.store.db.updateTable('users').set({ per_user_mfa_state: 'disabled' }).where('id', '=', u.id).execute();
    });

    test('the registration setting mfaOrTap: a user with no method is not let in to register without MFA or a TAP (AADSTS50079)', async () => {
      const u = await userNamed(server, 'carol');
      await server.store.db.deleteFrom('auth_methods').where('user_id', '=', u.id).execute();
      await server.store.db.updateTable('users').set({ per_user_mfa_state: 'enabled' }).where('id', '=', u.id).execute();
      // written as the settings route writes them: the row, then this process's cache
      const mfaOrTap = { tenant_id: server.tenantId, remember_mfa_days: 14, registration_policy: 'mfaOrTap' as const, wrong_code_limit: 5, security_defaults: 0, updated_at: Date.now() };
      await writeTenantSettings(server.store.db, mfaOrTap);
      rememberTenantSettings(server.store.db, mfaOrTap);
      try {
        const jar = new Jar();
        const at = await startInteraction(server, jar, nativeParams('openid').params);
        let p = await pageAt(jar, at);
        await post(server, jar, at, { csrf: p.csrf, step: 'username', loginfmt: u.upn });
        p = await pageAt(jar, at);
        const r = await post(server, jar, at, { csrf: p.csrf, step: 'password', passwd: DEMO.demoPassword });
        assert.match(r.html, /id="registrationBlocked"/, 'the interrupt says why instead of showing a QR code');
        assert.doesNotMatch(r.html, /totpSecret/);
        const posted = await post(server, jar, at, { csrf: p.csrf, step: 'register', code: '123456' });
        assert.equal(posted.status, 403);
        assert.equal((await listMethods(server.store.db, u.id)).length, 0, 'nothing registered');
        const logged = await server.store.db.selectFrom('signin_log').select('error_code').where('user_id', '=', u.id).where('error_code', '=', 50079).execute();
        assert.equal(logged.length, 1);
      } finally {
        const back = { tenant_id: server.tenantId, ...SETTINGS_DEFAULTS, updated_at: Date.now() + 1 };
        await writeTenantSettings(server.store.db, back);
        rememberTenantSettings(server.store.db, back);
        await server.store.db.updateTable('users').set({ per_user_mfa_state: 'disabled' }).where('id', '=', u.id).execute();
      }
    });

    test('forceChangePasswordNextSignInWithMfa asks for the second factor before the password change', async () => {
      const u = await userNamed(server, 'alice');
      await server.store.db.deleteFrom('auth_methods').where('user_id', '=', u.id).execute();
      const secret = await enrollTotp(server, u);
      await server.store.db.updateTable('users').set({ force_change_password_mfa: 1 }).where('id', '=', u.id).execute();
      const order: string[] = [];
      const answers: StepAnswers = {
        mfa: () => (order.push('mfa'), { method: 'softwareOath', code: codeAt(secret, Date.now()) }),
        change_password: () => (order.push('change_password'), { oldpasswd: DEMO.demoPassword, newpasswd: 'A-New-Password-2026!', confirmnewpasswd: 'A-New-Password-2026!' }),
      };
      const out = await authorize(server, new Jar(), nativeParams('openid').params, { user: u.upn, password: DEMO.demoPassword, answers });
      assert.ok(out.redirect?.searchParams.get('code'), out.html?.slice(0, 300));
      assert.deepEqual(order, ['mfa', 'change_password']);
      const after = await userNamed(server, 'alice');
      assert.equal(after.force_change_password_mfa, 0, 'the change clears the flag');
    });
  });
}

/** Follows the engine's redirects after the sign-in pages until the app's redirect URI. */
async function authorizeFollow(server: TestServer, jar: Jar, url: URL): Promise<URL> {
  for (let i = 0; i < 5; i++) {
    if (url.href.startsWith(NATIVE_REDIRECT)) return url;
    const res = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual' });
    jar.take(res);
    url = new URL(res.headers.get('location')!, server.origin);
  }
  assert.fail('no redirect to the app');
}


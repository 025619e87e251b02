// Which second factor is offered first (spec §8): the system-preferred order (TAP, passkey, Authenticator
// push, TOTP, SMS/voice) while system-preferred MFA is on for the user (on unless turned off, as Entra
// manages it); the user's default method first when it is off. Switched through Graph beta
// /users/{id}/authentication/signInPreferences (isSystemPreferredAuthenticationMethodEnabled), audited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GRAPH_APP_ID, grantPermission } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn, type User } from '../src/directory/users.js';
import { insertTap } from '../src/methods/tap/index.js';
import { Jar, appGraphToken, authorize, pkce, type StepAnswers } from './helpers/http-signin.js';
import { enrollTotp } from './helpers/mfa.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const TAP = 'TapValue2345';

for (const dbKind of await databases()) {
  describe(`system-preferred MFA (${dbKind})`, () => {
    let server: TestServer;
    let alice: User;
    let appToken: string;
    before(async () => {
      server = await startTestServer(dbKind);
      alice = (await findUserByUpn(server.store.db, server.tenantId, `alice@${server.tenantDomain}`))!;
      await server.store.db.updateTable('users').set({ per_user_mfa_state: 'enabled' }).where('id', '=', alice.id).execute();
      await enrollTotp(server, alice);
      const now = Date.now();
      await insertTap(server.store.db, server.secrets, alice, TAP, { startAt: now - 60_000, lifetimeMinutes: 60, isUsableOnce: false }, now);
      // (granted before the first token: consents are cached for a few seconds)
      await grantPermission(server.store.db, DEMO.automationAppId, GRAPH_APP_ID, 'application', ['Policy.ReadWrite.AuthenticationMethod']);
      appToken = await appGraphToken(server, DEMO.automationAppId, 'automation-secret-value');
    });
    after(async () => {
      await server?.close();
    });

    /** Signs alice in (declining the TAP as first factor) and returns the second-factor choices in the order offered. */
    async function offered(): Promise<string[]> {
      let order: string[] = [];
      const answers: StepAnswers = {
        tap: () => ({ step: 'use_password' }),
        mfa: (html) => {
          order = [/name="method" value="(\w+)"/.exec(html)![1]!, ...[...html.matchAll(/id="switch_(\w+)"/g)].map((m) => m[1]!)];
          return { method: 'temporaryAccessPass', code: TAP };
        },
      };
      const p = pkce();
      const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: 'http://localhost:41311', scope: 'openid', code_challenge: p.challenge, code_challenge_method: 'S256' }, { user: alice.upn, password: DEMO.demoPassword, answers });
      assert.ok(out.redirect?.searchParams.get('code'), out.html?.slice(0, 300));
      return order;
    }

    const prefs = async (body?: Record<string, unknown>) => {
      const res = await fetch(`${server.origin}/beta/users/${alice.id}/authentication/signInPreferences`, {
        method: body ? 'PATCH' : 'GET',
        headers: { authorization: `Bearer ${appToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: res.status === 204 ? {} : ((await res.json()) as Record<string, unknown>) };
    };

    test('on (the default): the system-preferred order, whatever the user\'s default method', async () => {
      assert.deepEqual((await prefs()).body.isSystemPreferredAuthenticationMethodEnabled, true);
      assert.deepEqual(await offered(), ['temporaryAccessPass', 'softwareOath']);
      assert.equal((await prefs({ userPreferredMethodForSecondaryAuthentication: 'oath' })).status, 204);
      assert.deepEqual(await offered(), ['temporaryAccessPass', 'softwareOath'], 'the default method is ignored while system-preferred MFA is on');
    });

    test('off: the user\'s default method first; back on: the system-preferred order again', async () => {
      assert.equal((await prefs({ isSystemPreferredAuthenticationMethodEnabled: false })).status, 204);
      const got = (await prefs()).body;
      assert.deepEqual([got.isSystemPreferredAuthenticationMethodEnabled, got.userPreferredMethodForSecondaryAuthentication], [false, 'oath']);
      const audit = await server.store.db.selectFrom('audit_log').select(['activity', 'modified']).where('target_id', '=', alice.id).orderBy('id', 'desc').executeTakeFirstOrThrow();
      assert.equal(audit.activity, 'PATCH UserAuthMethod.PatchSignInPreferencesAsync');
      assert.deepEqual(JSON.parse(audit.modified), [{ displayName: 'isSystemPreferredAuthenticationMethodEnabled', oldValue: 'true', newValue: 'false' }]);
      assert.deepEqual(await offered(), ['softwareOath', 'temporaryAccessPass']);
      await server.store.db.updateTable('users').set({ preferred_mfa_method: null }).where('id', '=', alice.id).execute();
      assert.deepEqual(await offered(), ['temporaryAccessPass', 'softwareOath'], 'off with no default method: the system-preferred order');
      await server.store.db.updateTable('users').set({ preferred_mfa_method: 'softwareOath' }).where('id', '=', alice.id).execute();
      assert.equal((await prefs({ isSystemPreferredAuthenticationMethodEnabled: true })).status, 204);
      assert.deepEqual(await offered(), ['temporaryAccessPass', 'softwareOath']);
    });

    test('the tenant\'s system-preferred MFA (methods policy systemCredentialPreferences): disabled, users without a choice of their own get their default method first', async () => {
      const policy = async (method: 'GET' | 'PATCH', body?: unknown) => {
        const res = await fetch(`${server.origin}/beta/policies/authenticationMethodsPolicy`, { method, headers: { authorization: `Bearer ${appToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      await server.store.db.updateTable('users').set({ system_preferred_mfa: null, preferred_mfa_method: 'softwareOath' }).where('id', '=', alice.id).execute();
      assert.deepEqual((await policy('GET')).body.systemCredentialPreferences, { state: 'default', includeTargets: [{ targetType: 'group', id: 'all_users' }], excludeTargets: [] });
      const refused = await policy('PATCH', { systemCredentialPreferences: { state: 'disabled', excludeTargets: [{ id: '8a6f6f07-54b0-4a5f-a7c4-0f9f3c0f0d11', targetType: 'group' }] } });
      assert.equal(refused.status, 400);
      assert.match(JSON.stringify(refused.body), /systemCredentialPreferences\.excludeTargets/);
      const off = await policy('PATCH', { systemCredentialPreferences: { state: 'disabled' } });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      assert.equal((off.body.systemCredentialPreferences as { state: string }).state, 'disabled');
      try {
        assert.equal((await prefs()).body.isSystemPreferredAuthenticationMethodEnabled, false);
        assert.deepEqual(await offered(), ['softwareOath', 'temporaryAccessPass']);
        assert.equal((await prefs({ isSystemPreferredAuthenticationMethodEnabled: true })).status, 204);
        assert.deepEqual(await offered(), ['temporaryAccessPass', 'softwareOath'], 'the user\'s own setting wins over the tenant\'s');
      } finally {
        assert.equal((await policy('PATCH', { systemCredentialPreferences: { state: 'default' } })).status, 200);
      }
    });

    test('a bad value is refused and changes nothing', async () => {
      const before = await prefs();
      const r = await prefs({ isSystemPreferredAuthenticationMethodEnabled: 'no' });
      assert.equal(r.status, 400);
      assert.match(JSON.stringify(r.body), /isSystemPreferredAuthenticationMethodEnabled/);
      assert.deepEqual(await prefs(), before);
    });
  });
}

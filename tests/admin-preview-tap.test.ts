// Admin previews read the stored facts the token paths read (src/protocol/credential-facts.ts): a browser
// session born of a Temporary Access Pass is not password-based, so an admin password reset leaves it alive
// (spec §2 rule 4: non-password-based sessions survive) while the refresh token it gave an app dies; the
// preview says so and applying it does exactly that.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActionContext, CredentialLine } from '../src/admin/action.js';
import type { Actor } from '../src/admin/actor.js';
import * as resetPassword from '../src/admin/actions/reset-password.js';
import { userCredentials } from '../src/admin/credentials.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { insertTap } from '../src/methods/tap/index.js';
import { Jar, assertRefused, authorize, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const REDIRECT = 'http://localhost:47124';
const SCOPE = 'openid profile offline_access User.Read';
const TAP_VALUE = 'TapValue2345';

for (const dbKind of await databases()) {
  describe(`admin previews read the stored session and grant facts (${dbKind})`, () => {
    let server: TestServer;
    let ctx: ActionContext;
    let admin: Actor;
    let n = 0;

    before(async () => {
      server = await startTestServer(dbKind);
      ctx = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
      const a = (await findUserByUpn(server.store.db, server.tenantId, `admin@${server.tenantDomain}`))!;
      admin = { kind: 'user', id: a.id, displayName: a.display_name, upn: a.upn, roles: ['Global Administrator'], scopes: ['Directory.AccessAsUser.All'] };
    });
    after(async () => {
      await server?.close();
    });

    /** A user signed in with a TAP in one browser, holding the native app's refresh token from that sign-in. */
    async function tapSignIn() {
      const upn = `tap-preview-${++n}@${server.tenantDomain}`;
      const user = await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: `TAP preview ${n}`, password: DEMO.demoPassword });
      const now = Date.now();
      await insertTap(server.store.db, server.secrets, user, TAP_VALUE, { startAt: now - 60_000, lifetimeMinutes: 60, isUsableOnce: false }, now);
      const jar = new Jar();
      const p = pkce();
      const out = await authorize(server, jar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: p.challenge, code_challenge_method: 'S256' }, { user: upn, password: '', answers: { tap: () => ({ accesspass: TAP_VALUE }), password: () => assert.fail('the TAP is asked, not the password') } });
      const code = out.redirect?.searchParams.get('code');
      assert.ok(code, `a code: ${out.status} ${out.html?.slice(0, 200)}`);
      const t = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: p.verifier, scope: SCOPE });
      assert.ok(t.body.refresh_token, JSON.stringify(t.body));
      const session = await server.store.db.selectFrom('signin_sessions').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
      assert.equal(session.password_based, 0, 'a TAP sign-in is not password-based');
      return { user, upn, jar, refreshToken: t.body.refresh_token, session };
    }

    const kinds = (lines: CredentialLine[]) => lines.map((l) => `${l.kind}:${l.id}`).sort();

    test('a TAP-born browser session survives an admin password reset, in the preview and in reality; its refresh token dies (AADSTS50173)', async () => {
      const h = await tapSignIn();
      const held = await userCredentials(server.store.db, server.secrets, h.user.id);
      assert.equal(held.sessions.length, 1);
      assert.equal(held.grants.length, 1);
      assert.equal(held.sessions[0]!.passwordBased, false, 'the session record says not password-based');
      assert.equal(held.grants[0]!.passwordBased, false, "the grant's stored fact says not password-based");
      assert.equal(held.sessions[0]!.facts.tapExpiresAt, h.session.tap_expires_at, 'the TAP cap is among the facts');

      const plan = await resetPassword.plan(ctx, admin, h.user.id, {});
      assert.deepEqual(kinds(plan.preview.surviving), [`session:${h.session.id}`], 'the preview keeps the TAP-born session');
      assert.deepEqual(kinds(plan.preview.ending), [`grant:${held.grants[0]!.grantId}`], 'the preview ends the refresh token (rule 4)');
      assert.equal(plan.preview.ending[0]!.refusal, 'password_changed');

      const result = await resetPassword.apply(ctx, plan);
      assert.deepEqual(kinds(result.ended), [`grant:${held.grants[0]!.grantId}`]);

      // reality: the browser still signs in silently; the app's refresh token is refused
      const p = pkce();
      const silent = await authorize(server, h.jar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: p.challenge, code_challenge_method: 'S256', prompt: 'none' }, { user: h.upn, password: '', answers: { tap: () => assert.fail('no sign-in page: the session survived') } });
      assert.ok(silent.redirect?.searchParams.get('code'), `the session still signs in: ${silent.redirect?.href ?? silent.status}`);
      const refresh = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: h.refreshToken, scope: SCOPE });
      assertRefused(refresh, 'invalid_grant', 50173, 'refresh of a TAP-born token after an admin reset');
    });

    test('a TAP-born session whose TAP has expired is already dead: the preview lists it neither as ending nor as surviving', async () => {
      const h = await tapSignIn();
      await server.store.db.updateTable('signin_sessions').set({ tap_expires_at: Date.now() - 1 }).where('id', '=', h.session.id).execute();
      const plan = await resetPassword.plan(ctx, admin, h.user.id, {});
      const listed = [...kinds(plan.preview.ending), ...kinds(plan.preview.surviving)];
      assert.ok(!listed.includes(`session:${h.session.id}`), listed.join(', '));
    });
  });
}

// Admin actions: preview (plan) and apply (spec §5 "Preview", §2, D6, D9). For each action: plan() writes
// nothing; the preview lists which sessions and grants end and which survive (literal expectations from
// the spec's table); apply() ends exactly those plus what was created between plan and apply, and the
// result says so; the tokens really die with the AADSTS code of D9; one audit record with Entra's
// activity name and one outbox event per apply; a stale plan is refused and writes nothing.
//
// The user holds: a password-based browser session (real sign-in) in which a public client (the demo
// native app) and a confidential client (the demo portal) each redeemed a code (two refresh-token grants);
// and a second browser session marked non-password-based in its record (Latchkey has no passwordless
// sign-in yet, so a real sign-in's record is flipped to stand for one).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionError, type ActionContext, type ApplyResult, type CredentialLine, type Plan } from '../src/admin/action.js';
import type { Actor } from '../src/admin/actor.js';
import * as deleteUser from '../src/admin/actions/delete-user.js';
import * as disableAccount from '../src/admin/actions/disable-account.js';
import * as enableAccount from '../src/admin/actions/enable-account.js';
import * as resetPassword from '../src/admin/actions/reset-password.js';
import * as revokeSessions from '../src/admin/actions/revoke-sessions.js';
import * as setPasswordProfile from '../src/admin/actions/set-password-profile.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserByUpn, type User } from '../src/directory/users.js';
import { Jar, assertRefused, authorize, pkce, token, type TokenResponse } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const NATIVE_REDIRECT = 'http://localhost:47123';
const SCOPE = 'openid profile offline_access User.Read';
const NATIVE = 'Demo native app';
const PORTAL = 'Demo portal';

// labels of what the user holds, as the expectations below name them
const PWD_SESSION = 'session: password-based';
const NONPWD_SESSION = 'session: non-password-based';
const NATIVE_GRANT = `grant: ${NATIVE} (public)`;
const PORTAL_GRANT = `grant: ${PORTAL} (confidential)`;
const LATE_GRANT = `grant: ${NATIVE} (public), made between plan and apply`;
const LATE_SESSION = 'session: password-based, made between plan and apply';

interface Expectation {
  ending: string[];
  surviving: string[];
  /** the refusal each ending line announces */
  refusal?: string;
  /** the AADSTS code a dead refresh token gets afterwards */
  aadsts?: number;
  activity: string;
  event: string;
}

// Spec §5, one row per action (rule 4 for an admin reset; D7: PATCH passwordProfile with a password by
// anyone but the user is an admin reset; D6 for enable).
const EXPECT: Record<string, Expectation> = {
  'reset password (generated)': { ending: [NATIVE_GRANT, PORTAL_GRANT, PWD_SESSION], surviving: [NONPWD_SESSION], refusal: 'password_changed', aadsts: 50173, activity: 'Reset password (by admin)', event: 'user.password.reset' },
  'reset password (chosen)': { ending: [NATIVE_GRANT, PORTAL_GRANT, PWD_SESSION], surviving: [NONPWD_SESSION], refusal: 'password_changed', aadsts: 50173, activity: 'Reset password (by admin)', event: 'user.password.reset' },
  'set password profile (password)': { ending: [NATIVE_GRANT, PORTAL_GRANT, PWD_SESSION], surviving: [NONPWD_SESSION], refusal: 'password_changed', aadsts: 50173, activity: 'Reset password', event: 'user.password.reset' },
  'set password profile (flags only)': { ending: [], surviving: [NATIVE_GRANT, NONPWD_SESSION, PORTAL_GRANT, PWD_SESSION], activity: 'Set force change user password', event: 'user.password_profile.updated' },
  'revoke sessions': { ending: [NATIVE_GRANT, NONPWD_SESSION, PORTAL_GRANT, PWD_SESSION], surviving: [], refusal: 'sessions_revoked', aadsts: 50173, activity: 'Update StsRefreshTokenValidFrom Timestamp', event: 'user.sessions.revoked' },
  'disable account': { ending: [NATIVE_GRANT, NONPWD_SESSION, PORTAL_GRANT, PWD_SESSION], surviving: [], refusal: 'user_disabled', aadsts: 50057, activity: 'Disable account', event: 'user.disabled' },
  // after a disable: nothing is alive, nothing comes back; old refresh tokens are refused for the stamp
  'enable account (after disable)': { ending: [], surviving: [], aadsts: 50173, activity: 'Enable account', event: 'user.enabled' },
  'delete user': { ending: [NATIVE_GRANT, NONPWD_SESSION, PORTAL_GRANT, PWD_SESSION], surviving: [], refusal: 'user_disabled', aadsts: 50057, activity: 'Delete user', event: 'user.deleted' },
};

type AnyPlan = Plan<unknown>;
interface ActionUnderTest {
  plan: (ctx: ActionContext, actor: Actor, userId: string) => Promise<AnyPlan>;
  apply: (ctx: ActionContext, plan: AnyPlan) => Promise<ApplyResult>;
  /** run before the plan (enable needs a disabled account) */
  prepare?: (ctx: ActionContext, actor: Actor, userId: string) => Promise<void>;
}

const ACTIONS: Record<string, ActionUnderTest> = {
  'reset password (generated)': { plan: (c, a, id) => resetPassword.plan(c, a, id, {}) as Promise<AnyPlan>, apply: (c, p) => resetPassword.apply(c, p as never) },
  'reset password (chosen)': { plan: (c, a, id) => resetPassword.plan(c, a, id, { newPassword: 'Chosen-By-The-Admin-42', forceChangePasswordNextSignIn: false }) as Promise<AnyPlan>, apply: (c, p) => resetPassword.apply(c, p as never) },
  'set password profile (password)': { plan: (c, a, id) => setPasswordProfile.plan(c, a, id, { password: 'Profile-Password-Set-58', forceChangePasswordNextSignIn: false }) as Promise<AnyPlan>, apply: (c, p) => setPasswordProfile.apply(c, p as never) },
  'set password profile (flags only)': { plan: (c, a, id) => setPasswordProfile.plan(c, a, id, { forceChangePasswordNextSignIn: true }) as Promise<AnyPlan>, apply: (c, p) => setPasswordProfile.apply(c, p as never) },
  'revoke sessions': { plan: (c, a, id) => revokeSessions.plan(c, a, id) as Promise<AnyPlan>, apply: (c, p) => revokeSessions.apply(c, p) },
  'disable account': { plan: (c, a, id) => disableAccount.plan(c, a, id) as Promise<AnyPlan>, apply: (c, p) => disableAccount.apply(c, p) },
  'enable account (after disable)': {
    prepare: async (c, a, id) => {
      await disableAccount.apply(c, await disableAccount.plan(c, a, id));
    },
    plan: (c, a, id) => enableAccount.plan(c, a, id) as Promise<AnyPlan>,
    apply: (c, p) => enableAccount.apply(c, p),
  },
  'delete user': { plan: (c, a, id) => deleteUser.plan(c, a, id) as Promise<AnyPlan>, apply: (c, p) => deleteUser.apply(c, p) },
};

for (const dbKind of await databases()) {
  describe(`admin actions: preview and apply (${dbKind})`, () => {
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

    /**
     * Every table an action may write, rows in a fixed order. The outbox holds the actions' events
     * (`user.*`) and, later, what the deliverer derives from them on its own (back-channel logouts) and
     * its delivery bookkeeping: only the actions' rows and the fields the deliverer never touches count.
     */
    async function snapshot() {
      const db = server.store.db;
      return {
        users: await db.selectFrom('users').selectAll().orderBy('id').execute(),
        user_roles: await db.selectFrom('user_roles').selectAll().orderBy('user_id').orderBy('role').execute(),
        audit_log: await db.selectFrom('audit_log').selectAll().orderBy('id').execute(),
        outbox: await db.selectFrom('outbox').select(['id', 'tenant_id', 'at', 'type', 'payload']).where('type', 'like', 'user.%').orderBy('id').execute(),
        oidc_models: await db.selectFrom('oidc_models').selectAll().orderBy('model').orderBy('id_hash').execute(),
        signin_sessions: await db.selectFrom('signin_sessions').selectAll().orderBy('id').execute(),
      };
    }

    const webRedirect = () => `${server.origin}/demo/callback`;

    async function code(jar: Jar, clientId: string, redirectUri: string, upn: string, prompt?: string) {
      const p = pkce();
      const out = await authorize(server, jar, { client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: SCOPE, code_challenge: p.challenge, code_challenge_method: 'S256', ...(prompt ? { prompt } : {}) }, { user: upn, password: DEMO.demoPassword });
      return { code: out.redirect?.searchParams.get('code') ?? undefined, error: out.redirect?.searchParams.get('error') ?? undefined, verifier: p.verifier, out };
    }

    async function nativeGrant(jar: Jar, upn: string, prompt?: string): Promise<string> {
      const c = await code(jar, DEMO.nativeAppId, NATIVE_REDIRECT, upn, prompt);
      assert.ok(c.code, `a native code: ${c.out.redirect?.href ?? c.out.html?.slice(0, 200)}`);
      const r = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code: c.code, redirect_uri: NATIVE_REDIRECT, code_verifier: c.verifier, scope: SCOPE });
      assert.ok(r.body.refresh_token, JSON.stringify(r.body));
      return r.body.refresh_token;
    }

    async function portalGrant(jar: Jar, upn: string): Promise<string> {
      const c = await code(jar, DEMO.webAppId, webRedirect(), upn);
      assert.ok(c.code, `a portal code: ${c.out.redirect?.href ?? c.out.html?.slice(0, 200)}`);
      const r = await token(server, { client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', grant_type: 'authorization_code', code: c.code, redirect_uri: webRedirect(), code_verifier: c.verifier, scope: SCOPE });
      assert.ok(r.body.refresh_token, JSON.stringify(r.body));
      return r.body.refresh_token;
    }

    const refreshNative = (rt: string) => token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: rt, scope: SCOPE });
    const refreshPortal = (rt: string) => token(server, { client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', grant_type: 'refresh_token', refresh_token: rt, scope: SCOPE });

    async function grantsOf(userId: string): Promise<Map<string, string>> {
      const rows = await server.store.db.selectFrom('oidc_models').select(['grant_id', 'client_id']).where('model', '=', 'RefreshToken').where('account_id', '=', userId).execute();
      return new Map(rows.map((r) => [r.grant_id!, r.client_id!]));
    }

    async function sessionsOf(userId: string): Promise<string[]> {
      return (await server.store.db.selectFrom('signin_sessions').select('id').where('user_id', '=', userId).execute()).map((r) => r.id);
    }

    /** A user with a password-based session holding a public and a confidential grant, and a non-password-based session. */
    async function holdings() {
      const upn = `preview-${++n}@${server.tenantDomain}`;
      const user = await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: `Preview ${n}`, password: DEMO.demoPassword });
      const jar = new Jar();
      const nativeRt = await nativeGrant(jar, upn);
      const portalRt = await portalGrant(jar, upn); // single sign-on in the same browser session
      const pwdSession = (await server.store.db.selectFrom('signin_sessions').select('id').where('user_id', '=', user.id).executeTakeFirstOrThrow()).id;
      const jar2 = new Jar();
      const second = await code(jar2, DEMO.nativeAppId, NATIVE_REDIRECT, upn); // a browser session; the code is left unredeemed
      assert.ok(second.code);
      const rows = await server.store.db.selectFrom('signin_sessions').select('id').where('user_id', '=', user.id).execute();
      const nonPwdSession = rows.find((r) => r.id !== pwdSession)!.id;
      await server.store.db.updateTable('signin_sessions').set({ password_based: 0 }).where('id', '=', nonPwdSession).execute();
      const grants = await grantsOf(user.id);
      assert.equal(grants.size, 2);
      const labels = new Map<string, string>([
        [`session:${pwdSession}`, PWD_SESSION],
        [`session:${nonPwdSession}`, NONPWD_SESSION],
        ...[...grants].map(([id, client]) => [`grant:${id}`, client === DEMO.nativeAppId ? NATIVE_GRANT : PORTAL_GRANT] as [string, string]),
      ]);
      return { user, upn, jar, jar2, nativeRt, portalRt, labels };
    }

    const keyOf = (l: CredentialLine) => `${l.kind}:${l.id}`;
    const labelled = (lines: CredentialLine[], labels: Map<string, string>) => lines.map((l) => labels.get(keyOf(l)) ?? `unknown ${keyOf(l)}`).sort();

    for (const [name, action] of Object.entries(ACTIONS)) {
      const expect = EXPECT[name]!;
      test(`${name}: plan writes nothing; apply ends exactly what the preview listed, plus what came after it`, async () => {
        const h = await holdings();
        await action.prepare?.(ctx, admin, h.user.id);
        const auditBefore = (await snapshot()).audit_log.length;
        const outboxBefore = (await snapshot()).outbox.length;

        const s0 = await snapshot();
        const plan = await action.plan(ctx, admin, h.user.id);
        assert.deepEqual(await snapshot(), s0, 'plan() writes nothing');

        // the preview, by app and kind
        assert.deepEqual(labelled(plan.preview.ending, h.labels), [...expect.ending].sort(), 'ending');
        assert.deepEqual(labelled(plan.preview.surviving, h.labels), [...expect.surviving].sort(), 'surviving');
        for (const l of plan.preview.ending) assert.equal(l.refusal, expect.refusal, `${h.labels.get(keyOf(l))} announces its refusal`);
        for (const l of [...plan.preview.ending, ...plan.preview.surviving]) {
          const label = h.labels.get(keyOf(l))!;
          if (label === PWD_SESSION) assert.deepEqual(l.app.split(', ').sort(), [NATIVE, PORTAL], 'the apps that took part in the session');
          if (label === NATIVE_GRANT) assert.deepEqual([l.app, l.device], [NATIVE, 'native']);
          if (label === PORTAL_GRANT) assert.deepEqual([l.app, l.device], [PORTAL, 'web']);
        }
        assert.deepEqual(plan.preview.accessTokensLiveUntil.map((a) => a.app).sort(), [...new Set(plan.preview.ending.flatMap((l) => l.app.split(', ')))].sort(), 'apps whose access tokens outlive the change');

        // made between plan and apply, while the account is open: a refresh token from single sign-on in
        // the password-based session (the engine keeps one grant per app per session: it joins the native
        // grant), and a new sign-in elsewhere: a new browser session with a new grant
        const accountOpen = name !== 'enable account (after disable)';
        let ssoRt: string | undefined;
        let lateRt: string | undefined;
        if (accountOpen) {
          const grantsBefore = await grantsOf(h.user.id);
          const sessionsBefore = await sessionsOf(h.user.id);
          ssoRt = await nativeGrant(h.jar, h.upn, 'none');
          assert.deepEqual([...(await grantsOf(h.user.id)).keys()].sort(), [...grantsBefore.keys()].sort(), 'single sign-on joins the existing grant');
          lateRt = await nativeGrant(new Jar(), h.upn);
          const lateGrant = [...(await grantsOf(h.user.id)).keys()].filter((id) => !grantsBefore.has(id));
          const lateSession = (await sessionsOf(h.user.id)).filter((id) => !sessionsBefore.includes(id));
          assert.equal(lateGrant.length, 1);
          assert.equal(lateSession.length, 1);
          h.labels.set(`grant:${lateGrant[0]}`, LATE_GRANT);
          h.labels.set(`session:${lateSession[0]}`, LATE_SESSION);
        }

        const result = await action.apply(ctx, plan);
        const lateDies = accountOpen && expect.ending.includes(NATIVE_GRANT);
        const lateSessionDies = accountOpen && expect.ending.includes(PWD_SESSION);
        assert.deepEqual(labelled(result.ended, h.labels), [...expect.ending, ...(lateDies ? [LATE_GRANT] : []), ...(lateSessionDies ? [LATE_SESSION] : [])].sort(), 'ended = the preview’s ending + what came after the plan');
        assert.deepEqual(
          result.ended.filter((l) => ![LATE_GRANT, LATE_SESSION].includes(h.labels.get(keyOf(l))!)).map(keyOf).sort(),
          plan.preview.ending.map(keyOf).sort(),
          'the same credentials as the preview',
        );
        if (name === 'reset password (generated)') assert.ok(result.secret && result.secret.length >= 12, 'the generated password is shown once');
        if (name === 'reset password (chosen)') assert.equal(result.secret, undefined);

        // one audit record with Entra's activity name, one outbox event
        const after = await snapshot();
        const audit = after.audit_log.slice(auditBefore);
        assert.deepEqual(audit.map((a) => [a.activity, a.target_id, a.actor_id]), [[expect.activity, h.user.id, admin.id]]);
        assert.deepEqual(after.outbox.slice(outboxBefore).map((o) => o.type), [expect.event]);

        // the tokens really die (or really live)
        const dead = (r: TokenResponse, what: string) => {
          assertRefused(r, 'invalid_grant', expect.aadsts!, what);
          assert.equal(r.body.suberror, 'bad_token', what);
        };
        const nativeDead = expect.ending.includes(NATIVE_GRANT) || name === 'enable account (after disable)';
        const portalDead = expect.ending.includes(PORTAL_GRANT) || name === 'enable account (after disable)';
        const n1 = await refreshNative(h.nativeRt);
        if (nativeDead) dead(n1, 'native refresh');
        else assert.equal(n1.status, 200, JSON.stringify(n1.body));
        const p1 = await refreshPortal(h.portalRt);
        if (portalDead) dead(p1, 'portal refresh');
        else assert.equal(p1.status, 200, JSON.stringify(p1.body));
        if (ssoRt) {
          const s1 = await refreshNative(ssoRt);
          if (nativeDead) dead(s1, 'refresh token from single sign-on between plan and apply');
          else assert.equal(s1.status, 200, JSON.stringify(s1.body));
        }
        if (lateRt) {
          const l1 = await refreshNative(lateRt);
          if (lateDies) dead(l1, 'refresh of the grant made between plan and apply');
          else assert.equal(l1.status, 200, JSON.stringify(l1.body));
        }
        // browser sessions: prompt=none gets a code from a live one, login_required from a dead one
        if (name !== 'delete user') {
          const pwd = await code(h.jar, DEMO.nativeAppId, NATIVE_REDIRECT, h.upn, 'none');
          const pwdAlive = expect.surviving.includes(PWD_SESSION);
          assert.equal(pwdAlive ? pwd.code !== undefined : pwd.error, pwdAlive ? true : 'login_required', `password-based session: ${pwd.out.redirect?.href}`);
          const other = await code(h.jar2, DEMO.nativeAppId, NATIVE_REDIRECT, h.upn, 'none');
          const otherAlive = expect.surviving.includes(NONPWD_SESSION) && (await findUserByUpn(server.store.db, server.tenantId, h.upn))!.force_change_password !== 1;
          if (otherAlive) assert.ok(other.code, `the non-password-based session survives: ${other.out.redirect?.href}`);
          else if (!expect.surviving.includes(NONPWD_SESSION)) assert.equal(other.error, 'login_required', `non-password-based session: ${other.out.redirect?.href}`);
        }
      });
    }

    async function refusedAsStale(plan: AnyPlan, apply: ActionUnderTest['apply']) {
      const s0 = await snapshot();
      await assert.rejects(apply(ctx, plan), (e: unknown) => e instanceof ActionError && e.code === 'stale');
      assert.deepEqual(await snapshot(), s0, 'a refused apply writes nothing');
    }

    test('a stale plan is refused and writes nothing: a role assigned since the preview', async () => {
      const h = await holdings();
      const plan = await ACTIONS['revoke sessions']!.plan(ctx, admin, h.user.id);
      await server.store.db.insertInto('user_roles').values({ user_id: h.user.id, role: 'Reports Reader' }).execute();
      await refusedAsStale(plan, ACTIONS['revoke sessions']!.apply);
      // a fresh plan goes through
      await ACTIONS['revoke sessions']!.apply(ctx, await ACTIONS['revoke sessions']!.plan(ctx, admin, h.user.id));
    });

    test('a stale plan is refused and writes nothing: another action applied since the preview', async () => {
      for (const [first, second] of [
        ['disable account', 'reset password (chosen)'],
        ['reset password (generated)', 'revoke sessions'],
        ['revoke sessions', 'set password profile (flags only)'],
        ['delete user', 'disable account'],
      ] as const) {
        const h = await holdings();
        const stale = await ACTIONS[first]!.plan(ctx, admin, h.user.id);
        await ACTIONS[second]!.apply(ctx, await ACTIONS[second]!.plan(ctx, admin, h.user.id));
        await refusedAsStale(stale, ACTIONS[first]!.apply);
      }
    });

    test('a plan whose user was deleted since is stale', async () => {
      const h = await holdings();
      const stale = await ACTIONS['disable account']!.plan(ctx, admin, h.user.id);
      await ACTIONS['delete user']!.apply(ctx, await ACTIONS['delete user']!.plan(ctx, admin, h.user.id));
      await refusedAsStale(stale, ACTIONS['disable account']!.apply);
    });

    test('a sign-in between plan and apply does not make the plan stale; its new session and grant are ended too', async () => {
      // signing in creates a session and a grant but changes no account state: the plan stays good
      const h = await holdings();
      const plan = await ACTIONS['revoke sessions']!.plan(ctx, admin, h.user.id);
      await nativeGrant(new Jar(), h.upn);
      const result = await ACTIONS['revoke sessions']!.apply(ctx, plan);
      assert.equal(result.ended.length, plan.preview.ending.length + 2, 'the new session and its grant are ended too');
      const u: User | undefined = await findUserByUpn(server.store.db, server.tenantId, h.upn);
      assert.ok(u && u.sign_in_sessions_valid_from >= plan.madeAt);
    });
  });
}

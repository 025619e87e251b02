// Who may act on whom (spec §10, D7; Entra's "who can reset passwords" and "who can perform sensitive
// actions" tables, reference entra-research.md §10), checked over the Graph API with real tokens: every
// admin role and apps with each relevant permission (with and without a directory role on their service
// principal) against a plain user and users holding roles, for reset password (Graph resetPassword,
// delegated only), revoke sessions (revokeSignInSessions) and disable (PATCH accountEnabled false); and
// the actions on authentication methods: create and delete a TAP (Graph), per-user MFA state (Graph beta
// requirements), Require re-register MFA and Revoke MFA sessions (no Graph API: their plan/apply with the
// same delegated actor).
// The expected cells are written out here as literal tables, never read from src/admin/roles.ts.
// A refused call is a 403 naming the missing right and changes nothing: the target's row and roles stay
// byte-for-byte the same and no audit record or outbox event is written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as createTap from '../src/admin/actions/create-tap.js';
import * as enableAccount from '../src/admin/actions/enable-account.js';
import * as requireReregisterMfa from '../src/admin/actions/require-reregister-mfa.js';
import * as revokeMfaSessions from '../src/admin/actions/revoke-mfa-sessions.js';
import type { ActionContext } from '../src/admin/action.js';
import { GRAPH_APP_ID, addAppSecret, createApp, grantPermission } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser } from '../src/directory/users.js';
import { Jar, authorize, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const GRAPH = 'https://graph.microsoft.com/.default';
const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';
const NATIVE_REDIRECT = 'http://localhost:5999';
const ACTOR_PASSWORD = 'Matrix-Actor-Password-77';
const SYSTEM = { kind: 'system', id: 'system', displayName: 'test' } as const;

// ---- the literal tables ----------------------------------------------------------------------------

const GA = 'Global Administrator';
const PAA = 'Privileged Authentication Administrator';
const AA = 'Authentication Administrator';
const UA = 'User Administrator';
const HA = 'Helpdesk Administrator';
const PA = 'Password Administrator';
const APA = 'Authentication Policy Administrator';
const GR = 'Global Reader';
const DR = 'Directory Readers';
const RR = 'Reports Reader';
const PLAIN = '(plain user)';
const PA_AND_RR = 'Password Administrator + Reports Reader'; // a target holding two roles: every one must allow it

const ACTOR_ROLES = [GA, PAA, AA, UA, HA, PA, APA, GR] as const;
const TARGETS = [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR] as const;

// "Who can reset passwords" (also who can invalidate refresh tokens = revoke sessions), per actor role:
// the targets it may act on. Entra's table rows: Auth Admin, Directory Readers, Global Admin, Helpdesk
// Admin, Password Admin, Privileged Auth Admin, Reports Reader, plain user, User Admin; Global Reader
// falls under "All other built-in and custom roles" (Privileged Auth Admin and Global Admin only).
const RESET_OR_REVOKE: Record<(typeof ACTOR_ROLES)[number], readonly string[]> = {
  [GA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [PAA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [AA]: [PLAIN, AA, PA, DR, RR, PA_AND_RR],
  [UA]: [PLAIN, UA, HA, PA, DR, RR, PA_AND_RR],
  [HA]: [PLAIN, HA, PA, DR, RR, PA_AND_RR],
  [PA]: [PLAIN, PA, DR],
  [APA]: [],
  [GR]: [],
};

// "Who can perform sensitive actions" (accountEnabled, passwordProfile, delete): Auth Admin, User Admin,
// Privileged Auth Admin, Global Admin only.
const SENSITIVE: Record<(typeof ACTOR_ROLES)[number], readonly string[]> = {
  [GA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [PAA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [AA]: [PLAIN, AA, PA, DR, RR, PA_AND_RR],
  [UA]: [PLAIN, UA, HA, PA, DR, RR, PA_AND_RR],
  [HA]: [],
  [PA]: [],
  [APA]: [],
  [GR]: [],
};

type Action = 'resetPassword' | 'revokeSessions' | 'disable';
const ACTIONS: readonly Action[] = ['resetPassword', 'revokeSessions', 'disable'];
const tableOf = (a: Action) => (a === 'disable' ? SENSITIVE : RESET_OR_REVOKE);

/** The roles a 403 must name for this action on this target: those of the table that may do it. */
function rolesThatMay(a: Action, target: string): string[] {
  const t = tableOf(a);
  return Object.keys(t).filter((r) => t[r as keyof typeof t].includes(target)).sort();
}

// Apps (app-only tokens): the application permission they hold, and the directory role on their service
// principal (app_directory_roles). resetPassword is delegated only (D7) whatever the app holds. Revoke
// sessions needs one of its permissions and no directory role. Disable needs one of its permissions AND a
// role covering the target in the sensitive-actions table (D7: app-only callers act through a role).
const APP_PERMISSIONS = ['User.RevokeSessions.All', 'User.EnableDisableAccount.All', 'User.ReadWrite.All', 'User.Read.All'] as const;
const APP_ROLES = [null, HA, UA, AA, PAA] as const;
const REVOKE_PERMS: readonly string[] = ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'];
const DISABLE_PERMS: readonly string[] = ['User.EnableDisableAccount.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'];
// the sensitive-actions table for the service principal's role (same rows as for users)
const APP_SENSITIVE: Record<string, readonly string[]> = {
  none: [],
  [HA]: [],
  [UA]: [PLAIN, UA, HA, PA, DR, RR, PA_AND_RR],
  [AA]: [PLAIN, AA, PA, DR, RR, PA_AND_RR],
  [PAA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
};

// "Manage user's authentication methods" (entra-research §10 capability table and role texts; §2.3 for the
// TAP): Authentication Admin on plain users and the limited roles of its reset-password row, Privileged
// Authentication Admin and Global Admin on everyone; User, Helpdesk and Password Admins, Authentication
// Policy Admin and Global Reader on nobody.
const METHODS_TABLE: Record<(typeof ACTOR_ROLES)[number], readonly string[]> = {
  [GA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [PAA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [AA]: [PLAIN, AA, PA, DR, RR, PA_AND_RR],
  [UA]: [],
  [HA]: [],
  [PA]: [],
  [APA]: [],
  [GR]: [],
};
// Per-user MFA state: Authentication Policy Admin manages it for everyone, and so do Privileged
// Authentication Admin and Global Admin.
const MFA_STATE_TABLE: Record<(typeof ACTOR_ROLES)[number], readonly string[]> = {
  [GA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [PAA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [AA]: [],
  [UA]: [],
  [HA]: [],
  [PA]: [],
  [APA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [GR]: [],
};
// Reading a user's methods (GET …/authentication/methods): whoever manages them, and Global Reader.
const METHODS_READ_TABLE: Record<(typeof ACTOR_ROLES)[number], readonly string[]> = {
  [GA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [PAA]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
  [AA]: [PLAIN, AA, PA, DR, RR, PA_AND_RR],
  [UA]: [],
  [HA]: [],
  [PA]: [],
  [APA]: [],
  [GR]: [PLAIN, GA, PAA, AA, UA, HA, PA, DR, RR, GR, PA_AND_RR],
};
type MethodAction = 'createTap' | 'deleteTap' | 'requireReregisterMfa' | 'revokeMfaSessions' | 'setPerUserMfa';
const METHOD_ACTIONS: readonly MethodAction[] = ['createTap', 'deleteTap', 'requireReregisterMfa', 'revokeMfaSessions', 'setPerUserMfa'];
const methodTableOf = (a: MethodAction) => (a === 'setPerUserMfa' ? MFA_STATE_TABLE : METHODS_TABLE);
const METHOD_ACTIVITY: Record<MethodAction, string> = {
  createTap: 'Admin registered security info',
  deleteTap: 'Admin deleted security info',
  requireReregisterMfa: 'Admin deleted security info',
  revokeMfaSessions: 'Update user',
  setPerUserMfa: 'Enable Strong Authentication',
};

const rolesOfTarget = (t: string): string[] => (t === PLAIN ? [] : t.split(' + '));
const slug = (s: string) => s.replace(/[^A-Za-z]+/g, '').toLowerCase() || 'plain';

// ---- the run ---------------------------------------------------------------------------------------

interface Outcome {
  status: number;
  message: string;
}

for (const dbKind of await databases()) {
  // SQLite runs the whole matrix; PostgreSQL a sample of it (same code, same server setup).
  const full = dbKind === 'sqlite';
  const actorRoles = full ? ACTOR_ROLES : ([GA, AA, HA, GR] as const);
  const targets = full ? TARGETS : ([PLAIN, GA, HA, RR, PA_AND_RR] as const);

  describe(`who may act on whom (${dbKind})`, () => {
    let server: TestServer;
    let ctx: ActionContext;
    const targetIds = new Map<string, string>();
    const actors = new Map<string, { id: string; token: string }>();
    const apps = new Map<string, { id: string; token: string }>();

    const graph = (path: string, bearer: string, init: RequestInit = {}) =>
      fetch(`${server.origin}/v1.0${path}`, { ...init, headers: { authorization: `Bearer ${bearer}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });

    async function signInActor(upn: string): Promise<string> {
      const p = pkce();
      const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope: 'openid offline_access https://graph.microsoft.com/Directory.AccessAsUser.All', code_challenge: p.challenge, code_challenge_method: 'S256' }, { user: upn, password: ACTOR_PASSWORD });
      const code = out.redirect?.searchParams.get('code');
      assert.ok(code, `${upn} signs in: ${out.redirect?.href ?? `${out.status} ${out.html?.slice(0, 200)}`}`);
      const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code, redirect_uri: NATIVE_REDIRECT, code_verifier: p.verifier, scope: GRAPH });
      assert.ok(t.body.access_token, JSON.stringify(t.body));
      return t.body.access_token;
    }

    async function state(userId: string) {
      const db = server.store.db;
      const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
      const roles = (await db.selectFrom('user_roles').select('role').where('user_id', '=', userId).orderBy('role').execute()).map((r) => r.role);
      const audit = await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      // the actions' own events (the deliverer may derive others, e.g. back-channel logouts, on its own time)
      const outbox = await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('type', 'like', 'user.%').executeTakeFirstOrThrow();
      return { user, roles, audit: Number(audit.n), outbox: Number(outbox.n) };
    }

    async function call(action: Action, bearer: string, targetId: string): Promise<Outcome> {
      const res =
        action === 'resetPassword'
          ? await graph(`/users/${targetId}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`, bearer, { method: 'POST' })
          : action === 'revokeSessions'
            ? await graph(`/users/${targetId}/revokeSignInSessions`, bearer, { method: 'POST' })
            : await graph(`/users/${targetId}`, bearer, { method: 'PATCH', body: JSON.stringify({ accountEnabled: false }) });
      const text = await res.text();
      let message = '';
      if (res.status >= 400) {
        const err = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
        assert.equal(err?.code, res.status === 403 ? 'Authorization_RequestDenied' : err?.code, text);
        message = err?.message ?? '';
      }
      return { status: res.status, message };
    }

    const ACTIVITY: Record<Action, string> = { resetPassword: 'Reset password (by admin)', revokeSessions: 'Update StsRefreshTokenValidFrom Timestamp', disable: 'Disable account' };

    /**
     * Runs one cell. Allowed: 2xx, the change is there, one audit record; a disable is undone through the
     * Enable action (system actor) so later cells start from an enabled account. Refused: 403 whose message
     * passes `names`, and nothing changed. Returns a mismatch description, or undefined.
     */
    async function cell(what: string, action: Action, bearer: string, targetId: string, allowed: boolean, names: (message: string) => void): Promise<string | undefined> {
      const before = await state(targetId);
      assert.equal(before.user?.account_enabled, 1, `${what}: the target starts enabled`);
      const out = await call(action, bearer, targetId);
      const after = await state(targetId);
      if (allowed) {
        if (out.status < 200 || out.status > 299) return `${what}: expected allowed, got ${out.status} ${out.message}`;
        assert.equal(after.audit, before.audit + 1, `${what}: one audit record`);
        assert.equal(after.outbox, before.outbox + 1, `${what}: one outbox event`);
        const last = await server.store.db.selectFrom('audit_log').select(['activity', 'target_id']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
        assert.deepEqual(last, { activity: ACTIVITY[action], target_id: targetId }, what);
        if (action === 'disable') {
          assert.equal(after.user!.account_enabled, 0, `${what}: disabled`);
          await enableAccount.apply(ctx, await enableAccount.plan(ctx, SYSTEM, targetId));
          assert.equal((await state(targetId)).user!.account_enabled, 1, `${what}: enabled again`);
        } else if (action === 'revokeSessions') {
          assert.ok(after.user!.sign_in_sessions_valid_from >= before.user!.sign_in_sessions_valid_from, what);
        } else {
          assert.notEqual(after.user!.password_hash, before.user!.password_hash, `${what}: new password`);
          assert.ok(after.user!.admin_reset_at !== null, what);
        }
        return undefined;
      }
      if (out.status !== 403) return `${what}: expected 403, got ${out.status}`;
      names(out.message);
      assert.deepEqual(after, before, `${what}: a refusal changes nothing (user row, roles, audit, outbox)`);
      return undefined;
    }

    /** A 403 from the rights matrix lists exactly the roles that may do it. */
    const namesRoles = (what: string, action: Action, target: string) => (message: string) => {
      const list = /among (.+?)(?: is required)?\.$/.exec(message)?.[1];
      assert.ok(list, `${what}: the 403 names the roles that would allow it: ${message}`);
      assert.deepEqual(list.split(', ').sort(), rolesThatMay(action, target), `${what}: ${message}`);
    };

    before(async () => {
      server = await startTestServer(dbKind);
      ctx = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
      const db = server.store.db;
      await db.insertInto('permission_grants').values({ client_app_id: DEMO.nativeAppId, resource_app_id: GRAPH_APP_ID, kind: 'delegated', value: 'Directory.AccessAsUser.All', created_at: Date.now() }).execute();
      for (const t of targets) {
        const u = await createUser(db, { tenantId: server.tenantId, upn: `target-${slug(t)}@${server.tenantDomain}`, displayName: `Target ${t}`, password: DEMO.demoPassword, roles: rolesOfTarget(t) });
        targetIds.set(t, u.id);
      }
      for (const r of actorRoles) {
        const upn = `actor-${slug(r)}@${server.tenantDomain}`;
        const u = await createUser(db, { tenantId: server.tenantId, upn, displayName: `Actor ${r}`, password: ACTOR_PASSWORD, roles: [r] });
        actors.set(r, { id: u.id, token: await signInActor(upn) });
      }
      for (const perm of full ? APP_PERMISSIONS : (['User.ReadWrite.All'] as const)) {
        const app = await createApp(db, { tenantId: server.tenantId, displayName: `App ${perm}`, kind: 'web' });
        const secret = await addAppSecret(db, app.id);
        await grantPermission(db, app.id, GRAPH_APP_ID, 'application', [perm]);
        const cc = await token(server, { grant_type: 'client_credentials', client_id: app.id, client_secret: secret, scope: GRAPH });
        assert.ok(cc.body.access_token, JSON.stringify(cc.body));
        apps.set(perm, { id: app.id, token: cc.body.access_token });
      }
    });
    after(async () => {
      await server?.close();
    });

    for (const role of actorRoles) {
      test(`delegated: ${role}`, async () => {
        const actor = actors.get(role)!;
        const mismatches: string[] = [];
        for (const action of ACTIONS) {
          for (const target of targets) {
            const what = `${role} → ${action} → ${target}`;
            const allowed = tableOf(action)[role].includes(target);
            const m = await cell(what, action, actor.token, targetIds.get(target)!, allowed, namesRoles(what, action, target));
            if (m) mismatches.push(m);
          }
        }
        assert.deepEqual(mismatches, [], 'the cells that disagree with Entra’s tables');
      });
    }

    test('apps: resetPassword is delegated only; revoke needs a permission; disable needs a permission and a role covering the target', async () => {
      const mismatches: string[] = [];
      for (const [perm, app] of apps) {
        for (const spRole of full ? APP_ROLES : ([null, UA] as const)) {
          await server.store.db.deleteFrom('app_directory_roles').where('app_id', '=', app.id).execute();
          if (spRole) await server.store.db.insertInto('app_directory_roles').values({ app_id: app.id, role: spRole }).execute();
          for (const action of ACTIONS) {
            for (const target of targets) {
              const what = `app[${perm}, role ${spRole ?? 'none'}] → ${action} → ${target}`;
              const hasPerm = (action === 'revokeSessions' ? REVOKE_PERMS : DISABLE_PERMS).includes(perm);
              const allowed = action === 'resetPassword' ? false : action === 'revokeSessions' ? hasPerm : hasPerm && APP_SENSITIVE[spRole ?? 'none']!.includes(target);
              const names = (message: string) => {
                if (action === 'resetPassword') assert.match(message, /not supported for application permissions/, `${what}: ${message}`);
                else if (!hasPerm) assert.match(message, action === 'revokeSessions' ? /User\.RevokeSessions\.All/ : /User\.EnableDisableAccount\.All/, `${what}: names the permission: ${message}`);
                else {
                  assert.match(message, /service principal needs a directory role/, `${what}: ${message}`);
                  namesRoles(what, action, target)(message);
                }
              };
              const m = await cell(what, action, app.token, targetIds.get(target)!, allowed, names);
              if (m) mismatches.push(m);
            }
          }
        }
      }
      assert.deepEqual(mismatches, [], 'the app cells that disagree with the expected table');
    });

    test('nobody resets their own password through the admin API', async () => {
      for (const role of actorRoles) {
        const actor = actors.get(role)!;
        const m = await cell(`${role} → own password`, 'resetPassword', actor.token, actor.id, false, (message) => assert.match(message, /yourself/, `${role}: ${message}`));
        assert.equal(m, undefined, m);
      }
    });

    /** The target's methods and the state cells compare (a refusal changes none of it). */
    async function methodState(userId: string) {
      const methods = await server.store.db.selectFrom('auth_methods').selectAll().where('user_id', '=', userId).orderBy('id').execute();
      return { ...(await state(userId)), methods };
    }

    async function callMethodAction(action: MethodAction, role: string, targetId: string): Promise<Outcome> {
      const actor = actors.get(role)!;
      const beta = (path: string, init: RequestInit) => fetch(`${server.origin}/beta${path}`, { ...init, headers: { authorization: `Bearer ${actor.token}`, 'content-type': 'application/json' } });
      let res: Response;
      if (action === 'createTap') res = await graph(`/users/${targetId}/authentication/temporaryAccessPassMethods`, actor.token, { method: 'POST', body: '{}' });
      else if (action === 'deleteTap') {
        const tap = await server.store.db.selectFrom('auth_methods').select('id').where('user_id', '=', targetId).where('type', '=', 'temporaryAccessPass').executeTakeFirstOrThrow();
        res = await graph(`/users/${targetId}/authentication/temporaryAccessPassMethods/${tap.id}`, actor.token, { method: 'DELETE' });
      } else if (action === 'setPerUserMfa') res = await beta(`/users/${targetId}/authentication/requirements`, { method: 'PATCH', body: JSON.stringify({ perUserMfaState: 'enabled' }) });
      else {
        // no Graph API (D21): the action itself, with the same delegated actor the token stands for
        const who = { kind: 'user' as const, id: actor.id, displayName: role, upn: `actor-${slug(role)}@${server.tenantDomain}`, roles: [role], scopes: ['Directory.AccessAsUser.All'] };
        try {
          if (action === 'requireReregisterMfa') await requireReregisterMfa.apply(ctx, await requireReregisterMfa.plan(ctx, who, targetId));
          else await revokeMfaSessions.apply(ctx, await revokeMfaSessions.plan(ctx, who, targetId));
          return { status: 200, message: '' };
        } catch (e) {
          const err = e as { code?: string; message: string };
          return { status: err.code === 'forbidden' ? 403 : 500, message: err.message };
        }
      }
      const text = await res.text();
      const message = res.status >= 400 ? ((JSON.parse(text) as { error?: { message?: string } }).error?.message ?? '') : '';
      return { status: res.status, message };
    }

    for (const role of actorRoles) {
      test(`delegated, authentication methods: ${role}`, async () => {
        const mismatches: string[] = [];
        for (const action of METHOD_ACTIONS) {
          for (const target of targets) {
            const what = `${role} → ${action} → ${target}`;
            const targetId = targetIds.get(target)!;
            const allowed = methodTableOf(action)[role].includes(target);
            if (action === 'deleteTap') await createTap.apply(ctx, await createTap.plan(ctx, SYSTEM, targetId));
            const before = await methodState(targetId);
            const out = await callMethodAction(action, role, targetId);
            const after = await methodState(targetId);
            if (allowed) {
              if (out.status < 200 || out.status > 299) mismatches.push(`${what}: expected allowed, got ${out.status} ${out.message}`);
              else {
                assert.equal(after.audit, before.audit + 1, `${what}: one audit record`);
                assert.equal(after.outbox, before.outbox + 1, `${what}: one outbox event`);
                const last = await server.store.db.selectFrom('audit_log').select(['activity', 'target_id']).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
                assert.deepEqual(last, { activity: METHOD_ACTIVITY[action], target_id: targetId }, what);
              }
            } else if (out.status !== 403) {
              mismatches.push(`${what}: expected 403, got ${out.status} ${out.message}`);
            } else {
              const list = /among (.+?)(?: is required)?\.$/.exec(out.message)?.[1];
              assert.ok(list, `${what}: the 403 names the roles that would allow it: ${out.message}`);
              const table = methodTableOf(action);
              assert.deepEqual(list.split(', ').sort(), Object.keys(table).filter((r) => table[r as keyof typeof table].includes(target)).sort(), `${what}: ${out.message}`);
              assert.deepEqual(after, before, `${what}: a refusal changes nothing (user row, roles, methods, audit, outbox)`);
            }
            // back to a target without methods and with per-user MFA off for the next cell
            await server.store.db.deleteFrom('auth_methods').where('user_id', '=', targetId).execute();
            await server.store.db.updateTable('users').set({ per_user_mfa_state: 'disabled' }).where('id', '=', targetId).execute();
          }
        }
        assert.deepEqual(mismatches, [], 'the cells that disagree with the expected tables');
      });
    }

    test('reading another user’s authentication methods needs a role covering the target; one’s own needs none', async () => {
      const mismatches: string[] = [];
      for (const role of actorRoles) {
        const actor = actors.get(role)!;
        for (const target of targets) {
          const res = await graph(`/users/${targetIds.get(target)!}/authentication/methods`, actor.token);
          const allowed = METHODS_READ_TABLE[role].includes(target);
          if (res.status !== (allowed ? 200 : 403)) mismatches.push(`${role} → read methods → ${target}: got ${res.status}`);
        }
        const own = await graph('/me/authentication/methods', actor.token);
        if (own.status !== 200) mismatches.push(`${role} → own methods: got ${own.status}`);
      }
      assert.deepEqual(mismatches, [], 'the read cells that disagree with the expected table');
    });

    test('nobody creates a TAP for themself, whatever their role; apps need UserAuthenticationMethod.ReadWrite.All and no role', async () => {
      for (const role of actorRoles) {
        const actor = actors.get(role)!;
        const before = await methodState(actor.id);
        const res = await graph('/me/authentication/temporaryAccessPassMethods', actor.token, { method: 'POST', body: '{}' });
        assert.equal(res.status, 403, role);
        assert.match(((await res.json()) as { error: { message: string } }).error.message, /yourself|permissions/, role);
        assert.deepEqual(await methodState(actor.id), before, `${role}: nothing changed`);
      }
      const gaTarget = targetIds.get(GA)!;
      const app = apps.get('User.ReadWrite.All')!;
      const refused = await graph(`/users/${gaTarget}/authentication/temporaryAccessPassMethods`, app.token, { method: 'POST', body: '{}' });
      assert.equal(refused.status, 403);
      assert.match(((await refused.json()) as { error: { message: string } }).error.message, /UserAuthenticationMethod\.ReadWrite\.All/);
      const auto = await token(server, { grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: GRAPH });
      const created = await graph(`/users/${gaTarget}/authentication/temporaryAccessPassMethods`, auto.body.access_token!, { method: 'POST', body: '{}' });
      assert.equal(created.status, 201, 'an app with the permission creates a TAP even for a Global Administrator');
      await server.store.db.deleteFrom('auth_methods').where('user_id', '=', gaTarget).execute();
    });

    test('an actor may revoke their own sessions through /me/revokeSignInSessions, whatever their role', async () => {
      for (const role of actorRoles) {
        const actor = actors.get(role)!;
        const before = await state(actor.id);
        const res = await graph('/me/revokeSignInSessions', actor.token, { method: 'POST' });
        assert.equal(res.status, 200, `${role}: ${await res.clone().text()}`);
        assert.deepEqual(((await res.json()) as { value: boolean }).value, true);
        const after = await state(actor.id);
        assert.ok(after.user!.sign_in_sessions_valid_from >= before.user!.sign_in_sessions_valid_from, role);
        assert.equal(after.audit, before.audit + 1, `${role}: audited`);
        // the token it was called with was issued before the new stamp: it is dead now
        assert.equal((await graph('/me', actor.token)).status, 401, `${role}: the old token is revoked`);
      }
    });
  });
}

// Graph's authentication methods API driven by @microsoft/microsoft-graph-client against Latchkey: the
// polymorphic methods list (password, software OATH, TAP), TAP create (201, the value only then) and
// delete, software OATH list/get/delete, beta requirements (per-user MFA) and signInPreferences, security
// defaults; the admin actions Graph lacks (Require re-register MFA, Revoke MFA sessions) through their
// plan/apply, checked through Graph. Refusals change nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Client } from '@microsoft/microsoft-graph-client';
import { Secret, TOTP } from 'otpauth';
import type { ActionContext } from '../src/admin/action.js';
import * as deleteMethod from '../src/admin/actions/delete-method.js';
import * as requireReregisterMfa from '../src/admin/actions/require-reregister-mfa.js';
import * as revokeMfaSessions from '../src/admin/actions/revoke-mfa-sessions.js';
import { DEMO } from '../src/directory/seed.js';
import { type User, createUser, findUserByUpn } from '../src/directory/users.js';
import { beginEnrollment, confirmEnrollment } from '../src/methods/software-oath/index.js';
import { findPending } from '../src/methods/store.js';
import { SoftAuthenticator, givePasskey } from './helpers/passkey.js';
import { appGraphToken, consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { graphError } from './helpers/graph.js';

const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';
const SYSTEM = { kind: 'system', id: 'system', displayName: 'test' } as const;
const TAP_TYPE = '#microsoft.graph.temporaryAccessPassAuthenticationMethod';
const OATH_TYPE = '#microsoft.graph.softwareOathAuthenticationMethod';
const PASSWORD_TYPE = '#microsoft.graph.passwordAuthenticationMethod';
const FIDO2_TYPE = '#microsoft.graph.fido2AuthenticationMethod';

// Require re-register MFA, per method (spec §5 row; entra-research §4), written out here, never read
// from the strategies' onRequireReregister.
const REREGISTER: Record<string, 'kept' | 'deleted'> = {
  [PASSWORD_TYPE]: 'kept',
  [OATH_TYPE]: 'deleted',
  [TAP_TYPE]: 'kept',
  [FIDO2_TYPE]: 'kept',
};

type Json = Record<string, unknown>;


for (const dbKind of await databases()) {
  describe(`Graph authentication methods (${dbKind})`, () => {
    let server: TestServer;
    let ctx: ActionContext;
    let appToken: string;
    let adminToken: string;
    let admin: User;
    let n = 0;

    const client = (bearer: string, version: 'v1.0' | 'beta' = 'v1.0') =>
      Client.init({ baseUrl: `${server.origin}/`, defaultVersion: version, customHosts: new Set(['localhost']), authProvider: (done) => done(null, bearer) });
    const newUser = (roles: string[] = []) => createUser(server.store.db, { tenantId: server.tenantId, upn: `m${++n}-${Date.now()}@${server.tenantDomain}`, displayName: `Methods ${n}`, password: DEMO.demoPassword, roles });

    /** A confirmed software OATH method, enrolled as the sign-in flow does, with a code from `otpauth`. */
    async function addOath(user: User): Promise<string> {
      const deps = { db: server.store.db, secrets: server.secrets };
      const pending = await beginEnrollment(deps, user, 'Latchkey');
      assert.notEqual(pending, 'limit_reached');
      if (pending === 'limit_reached') throw new Error('limit');
      const code = new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(pending.secret) }).generate();
      const row = await findPending(deps.db, user.id, pending.id);
      assert.ok(row);
      assert.equal(await confirmEnrollment(deps, row, code), 'ok');
      return pending.id;
    }

    /** A browser session row born of a TAP (what the sign-in flow records after a TAP sign-in). */
    async function tapBornSession(user: User, tapId: string): Promise<string> {
      const id = `sess-${crypto.randomUUID()}`;
      const now = Date.now();
      await server.store.db.insertInto('signin_sessions').values({ id, tenant_id: server.tenantId, user_id: user.id, auth_time: now, amr: '["otp","mfa"]', password_based: 0, persistent: 0, ip: '127.0.0.1', user_agent: 'test', created_at: now, last_used_at: now, mfa_at: now, tap_id: tapId, tap_expires_at: now + 3_600_000 }).execute();
      return id;
    }

    async function snapshot(userId: string) {
      const db = server.store.db;
      const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirst();
      const methods = await db.selectFrom('auth_methods').selectAll().where('user_id', '=', userId).orderBy('id').execute();
      const sessions = await db.selectFrom('signin_sessions').select('id').where('user_id', '=', userId).orderBy('id').execute();
      const audit = Number((await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      const outbox = Number((await db.selectFrom('outbox').select((eb) => eb.fn.countAll<number>().as('n')).where('type', 'like', 'user.%').executeTakeFirstOrThrow()).n);
      return { user, methods, sessions, audit, outbox };
    }

    const lastAudit = () => server.store.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
    const lastEvent = async (type: string) => {
      const row = await server.store.db.selectFrom('outbox').selectAll().where('type', '=', type).orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      return JSON.parse(row.payload) as Json;
    };

    before(async () => {
      server = await startTestServer(dbKind);
      ctx = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
      appToken = await appGraphToken(server, DEMO.automationAppId, 'automation-secret-value');
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      admin = (await findUserByUpn(server.store.db, server.tenantId, `admin@${server.tenantDomain}`))!;
    });
    after(async () => {
      await server?.close();
    });

    test('the methods list is polymorphic: password, software OATH and TAP in Graph’s shapes, secrets always null', async () => {
      const u = await newUser();
      const oathId = await addOath(u);
      const created = (await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({})) as Json;
      const list = (await client(adminToken).api(`/users/${u.upn}/authentication/methods`).get()) as { value: Json[] };
      assert.deepEqual(list.value.map((m) => [m['@odata.type'], m.id]), [[PASSWORD_TYPE, PASSWORD_METHOD_ID], [OATH_TYPE, oathId], [TAP_TYPE, created.id]]);
      const byType = Object.fromEntries(list.value.map((m) => [m['@odata.type'], m]));
      assert.equal(byType[PASSWORD_TYPE]!.password, null);
      assert.equal(byType[OATH_TYPE]!.secretKey, null);
      assert.equal(byType[TAP_TYPE]!.temporaryAccessPass, null, 'the TAP value is never read back');
      // each typed collection and single GETs
      const oaths = (await client(appToken).api(`/users/${u.id}/authentication/softwareOathMethods`).get()) as { value: Json[] };
      assert.deepEqual(oaths.value.map((m) => m.id), [oathId]);
      const one = (await client(appToken).api(`/users/${u.id}/authentication/softwareOathMethods/${oathId}`).get()) as Json;
      assert.equal(one['@odata.type'], OATH_TYPE);
      const pw = (await client(appToken).api(`/users/${u.id}/authentication/passwordMethods/${PASSWORD_METHOD_ID}`).get()) as Json;
      assert.equal(pw.id, PASSWORD_METHOD_ID);
      const viaMethods = (await client(appToken).api(`/users/${u.id}/authentication/methods/${created.id as string}`).get()) as Json;
      assert.equal(viaMethods['@odata.type'], TAP_TYPE);
    });

    test('a TAP is created with 201, Entra’s defaults, and its value only in the create response', async () => {
      const u = await newUser();
      const before = await snapshot(u.id);
      const created = (await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({})) as Json;
      assert.equal(created['@odata.type'], TAP_TYPE);
      assert.match(String(created.temporaryAccessPass), /^[A-HJ-NP-Za-km-z2-9]{8}$/, 'length 8, no look-alikes');
      assert.equal(created.lifetimeInMinutes, 60);
      assert.equal(created.isUsableOnce, false);
      assert.equal(created.isUsable, true);
      assert.equal(created.methodUsabilityReason, 'EnabledByPolicy');
      const after = await snapshot(u.id);
      assert.equal(after.methods.length, 1);
      assert.notEqual(after.methods[0]!.secret, created.temporaryAccessPass, 'stored hashed');
      assert.equal(after.audit, before.audit + 1);
      const audit = await lastAudit();
      assert.deepEqual([audit.activity, audit.service, audit.target_id], ['Admin registered security info', 'Authentication Methods', u.id]);
      assert.equal((await lastEvent('user.method.added')).userId, u.id);
      const list = (await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).get()) as { value: Json[] };
      assert.deepEqual(list.value.map((m) => [m.id, m.temporaryAccessPass]), [[created.id, null]]);
      const got = (await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods/${created.id as string}`).get()) as Json;
      assert.equal(got.temporaryAccessPass, null);
      // a start in the future, one-time, a chosen lifetime
      const start = new Date(Date.now() + 86_400_000).toISOString();
      const later = (await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({ startDateTime: start, lifetimeInMinutes: 480, isUsableOnce: true })) as Json;
      assert.deepEqual([later.lifetimeInMinutes, later.isUsableOnce, later.isUsable, later.methodUsabilityReason, later.startDateTime], [480, true, false, 'NotYetValid', start]);
    });

    test('a new TAP replaces the old one, ending the browser sessions born of the old one', async () => {
      const u = await newUser();
      const first = (await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({})) as Json;
      const born = await tapBornSession(u, first.id as string);
      const other = await tapBornSession(u, 'another-tap');
      const second = (await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({ lifetimeInMinutes: 120 })) as Json;
      const s = await snapshot(u.id);
      assert.deepEqual(s.methods.map((m) => m.id), [second.id], 'one TAP per user');
      assert.deepEqual(s.sessions.map((r) => r.id), [other], `the session born of the old TAP (${born}) ended`);
      const deleted = await lastEvent('user.method.deleted');
      assert.deepEqual([deleted.userId, deleted.tapId], [u.id, first.id], 'the event names the replaced TAP for the engine');
    });

    test('DELETE a TAP: 204, gone, its sessions end, audited as Admin deleted security info with the TAP id in the event', async () => {
      const u = await newUser();
      const tap = (await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({})) as Json;
      await tapBornSession(u, tap.id as string);
      const before = await snapshot(u.id);
      await client(adminToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods/${tap.id as string}`).delete();
      const after = await snapshot(u.id);
      assert.deepEqual(after.methods, []);
      assert.deepEqual(after.sessions, []);
      assert.equal(after.audit, before.audit + 1);
      assert.equal(after.outbox, before.outbox + 1);
      const audit = await lastAudit();
      assert.deepEqual([audit.activity, audit.service, audit.operation_type], ['Admin deleted security info', 'Authentication Methods', 'Delete']);
      const event = await lastEvent('user.method.deleted');
      assert.equal(event.tapId, tap.id);
      assert.equal((event.sessions as unknown[]).length, 0, 'the inserted row had no live engine session, so no app to log out');
      const e = await graphError(client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods/${tap.id as string}`).get());
      assert.equal(e.statusCode, 404);
    });

    test('software OATH: list, get and delete (204); the password cannot be deleted', async () => {
      const u = await newUser();
      const a = await addOath(u);
      const b = await addOath(u);
      await client(appToken).api(`/users/${u.id}/authentication/softwareOathMethods/${a}`).delete();
      const list = (await client(appToken).api(`/users/${u.id}/authentication/softwareOathMethods`).get()) as { value: Json[] };
      assert.deepEqual(list.value.map((m) => m.id), [b]);
      assert.equal((await lastAudit()).activity, 'Admin deleted security info');
      assert.deepEqual((await lastEvent('user.method.deleted')).methods, [{ methodId: a, type: 'softwareOath' }]);
      // the password through the action (Graph has no DELETE for it)
      await assert.rejects(deleteMethod.plan(ctx, SYSTEM, u.id, { methodId: PASSWORD_METHOD_ID }), /password method cannot be deleted/);
    });

    test('FIDO2 passkeys through the Graph SDK: list, get, in /methods, delete (204, audited), then 404', async () => {
      const u = await newUser();
      await givePasskey(server, u, new SoftAuthenticator(server.origin), { name: 'Laptop' });
      await givePasskey(server, u, new SoftAuthenticator(server.origin, { synced: true }), { name: 'Phone' });
      const api = client(appToken);
      const list = (await api.api(`/users/${u.id}/authentication/fido2Methods`).get()) as { value: Json[] };
      const shape = (m: Json) => ({ ...m, id: typeof m.id, createdDateTime: typeof m.createdDateTime });
      assert.deepEqual(list.value.map(shape), [
        { '@odata.type': FIDO2_TYPE, id: 'string', displayName: 'Laptop', createdDateTime: 'string', aaGuid: '01020304-0506-0708-0102-030405060708', model: null, attestationCertificates: [], attestationLevel: 'notAttested', passkeyType: 'deviceBound' },
        { '@odata.type': FIDO2_TYPE, id: 'string', displayName: 'Phone', createdDateTime: 'string', aaGuid: '01020304-0506-0708-0102-030405060708', model: null, attestationCertificates: [], attestationLevel: 'notAttested', passkeyType: 'synced' },
      ]);
      const [laptop, phone] = list.value.map((m) => m.id as string);
      const one = (await api.api(`/users/${u.id}/authentication/fido2Methods/${laptop}`).get()) as Json;
      assert.equal(one.displayName, 'Laptop');
      const all = (await api.api(`/users/${u.id}/authentication/methods`).get()) as { value: Json[] };
      assert.deepEqual(all.value.map((m) => m['@odata.type']), [PASSWORD_TYPE, FIDO2_TYPE, FIDO2_TYPE]);
      await api.api(`/users/${u.id}/authentication/fido2Methods/${laptop}`).delete();
      assert.equal((await lastAudit()).activity, 'Admin deleted security info');
      assert.deepEqual((await lastEvent('user.method.deleted')).methods, [{ methodId: laptop, type: 'fido2' }]);
      const after = (await api.api(`/users/${u.id}/authentication/fido2Methods`).get()) as { value: Json[] };
      assert.deepEqual(after.value.map((m) => m.id), [phone]);
      const e = await graphError(api.api(`/users/${u.id}/authentication/fido2Methods/${laptop}`).get());
      assert.equal(e.statusCode, 404);
    });

    test('unknown method ids are a Graph 404, also an id of another type under a typed collection; nothing changes', async () => {
      const u = await newUser();
      const oath = await addOath(u);
      const before = await snapshot(u.id);
      const unknown = '00000000-1111-4222-8333-444444444444';
      for (const [verb, path] of [
        ['get', `/users/${u.id}/authentication/methods/${unknown}`],
        ['get', `/users/${u.id}/authentication/softwareOathMethods/${unknown}`],
        ['delete', `/users/${u.id}/authentication/softwareOathMethods/${unknown}`],
        ['get', `/users/${u.id}/authentication/temporaryAccessPassMethods/${unknown}`],
        ['delete', `/users/${u.id}/authentication/temporaryAccessPassMethods/${unknown}`],
        ['delete', `/users/${u.id}/authentication/temporaryAccessPassMethods/${oath}`],
        ['get', `/users/${unknown}/authentication/methods`],
      ] as const) {
        const req = client(appToken).api(path);
        const e = await graphError(verb === 'get' ? req.get() : req.delete());
        assert.equal(e.statusCode, 404, `${verb} ${path}`);
        assert.equal(e.code, 'Request_ResourceNotFound', `${verb} ${path}`);
      }
      assert.deepEqual(await snapshot(u.id), before);
    });

    test('nobody creates a TAP for themself through the admin API, a Global Administrator included (403, nothing changed)', async () => {
      const before = await snapshot(admin.id);
      for (const path of [`/users/${admin.id}/authentication/temporaryAccessPassMethods`, '/me/authentication/temporaryAccessPassMethods']) {
        const e = await graphError(client(adminToken).api(path).post({}));
        assert.equal(e.statusCode, 403, path);
        assert.match(e.message, /yourself/, path);
      }
      assert.deepEqual(await snapshot(admin.id), before);
    });

    test('a malformed TAP request is a 400 naming the field, and nothing changes', async () => {
      const u = await newUser();
      await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({});
      const before = await snapshot(u.id);
      const cases: [Json, RegExp][] = [
        [{ lifetimeInMinutes: 9 }, /lifetimeInMinutes/],
        [{ lifetimeInMinutes: 43_201 }, /lifetimeInMinutes/],
        [{ lifetimeInMinutes: '60' }, /lifetimeInMinutes/],
        [{ lifetimeInMinutes: 60.5 }, /lifetimeInMinutes/],
        [{ isUsableOnce: 'yes' }, /isUsableOnce/],
        [{ startDateTime: 'tomorrow' }, /startDateTime/],
        [{ startDateTime: 5 }, /startDateTime/],
        [{ startDateTime: '2027-02-30T00:00:00Z' }, /startDateTime/],
        [{ startDateTime: '2027-13-01T00:00:00Z' }, /startDateTime/],
        [{ startDateTime: '2027-01-31' }, /startDateTime/],
        [{ temporaryAccessPass: 'Chosen12' }, /temporaryAccessPass/],
        [{ colour: 'blue' }, /colour/],
      ];
      for (const [body, field] of cases) {
        const e = await graphError(client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post(body));
        assert.equal(e.statusCode, 400, JSON.stringify(body));
        assert.match(e.message, field, JSON.stringify(body));
      }
      assert.deepEqual(await snapshot(u.id), before, 'the old TAP is still there, nothing audited');
    });

    test('requirements (beta): per-user MFA state; enabled becomes enforced when an MFA method is registered (D18)', async () => {
      const beta = client(adminToken, 'beta');
      const u = await newUser();
      const r0 = (await beta.api(`/users/${u.id}/authentication/requirements`).get()) as Json;
      assert.equal(r0.perUserMfaState, 'disabled');
      await beta.api(`/users/${u.id}/authentication/requirements`).patch({ perUserMfaState: 'enabled' });
      assert.equal(((await beta.api(`/users/${u.id}/authentication/requirements`).get()) as Json).perUserMfaState, 'enabled', 'no MFA method yet');
      assert.deepEqual([(await lastAudit()).activity, (await lastEvent('user.mfa_state.updated')).userId], ['Enable Strong Authentication', u.id]);
      // a TAP is not a registered MFA method
      await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({});
      await beta.api(`/users/${u.id}/authentication/requirements`).patch({ perUserMfaState: 'enabled' });
      assert.equal(((await beta.api(`/users/${u.id}/authentication/requirements`).get()) as Json).perUserMfaState, 'enabled');
      await addOath(u);
      await beta.api(`/users/${u.id}/authentication/requirements`).patch({ perUserMfaState: 'enabled' });
      assert.equal(((await beta.api(`/users/${u.id}/authentication/requirements`).get()) as Json).perUserMfaState, 'enforced');
      await beta.api(`/users/${u.id}/authentication/requirements`).patch({ perUserMfaState: 'disabled' });
      assert.equal((await lastAudit()).activity, 'Disable Strong Authentication');
      const before = await snapshot(u.id);
      for (const body of [{ perUserMfaState: 'unknownFutureValue' }, { perUserMfaState: true }, { perUserMfaState: 'enforced', other: 1 }]) {
        const e = await graphError(beta.api(`/users/${u.id}/authentication/requirements`).patch(body));
        assert.equal(e.statusCode, 400, JSON.stringify(body));
      }
      assert.deepEqual(await snapshot(u.id), before);
      const v1 = await graphError(client(adminToken).api(`/users/${u.id}/authentication/requirements`).get());
      assert.equal(v1.statusCode, 400, 'beta only');
    });

    test('signInPreferences (beta): oath only with a software OATH method registered; system-preferred stays on', async () => {
      const beta = client(adminToken, 'beta');
      const u = await newUser();
      const p0 = (await beta.api(`/users/${u.id}/authentication/signInPreferences`).get()) as Json;
      assert.deepEqual([p0.isSystemPreferredAuthenticationMethodEnabled, p0.userPreferredMethodForSecondaryAuthentication], [true, null]);
      const e = await graphError(beta.api(`/users/${u.id}/authentication/signInPreferences`).patch({ userPreferredMethodForSecondaryAuthentication: 'oath' }));
      assert.equal(e.statusCode, 400);
      assert.match(e.message, /userPreferredMethodForSecondaryAuthentication/);
      await addOath(u);
      await beta.api(`/users/${u.id}/authentication/signInPreferences`).patch({ userPreferredMethodForSecondaryAuthentication: 'oath' });
      assert.equal(((await beta.api(`/users/${u.id}/authentication/signInPreferences`).get()) as Json).userPreferredMethodForSecondaryAuthentication, 'oath');
      assert.equal((await server.store.db.selectFrom('users').select('preferred_mfa_method').where('id', '=', u.id).executeTakeFirstOrThrow()).preferred_mfa_method, 'softwareOath');
      assert.equal((await lastAudit()).activity, 'PATCH UserAuthMethod.PatchSignInPreferencesAsync');
    });

    test('Require re-register MFA deletes and keeps methods per the literal table, checked through Graph', async () => {
      const u = await newUser();
      await addOath(u);
      await addOath(u);
      await client(appToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({});
      await givePasskey(server, u, new SoftAuthenticator(server.origin));
      const before = (await client(appToken).api(`/users/${u.id}/authentication/methods`).get()) as { value: Json[] };
      const plan = await requireReregisterMfa.plan(ctx, SYSTEM, u.id);
      // the preview lists which methods go and which stay, and warns that sessions survive
      const fates = Object.fromEntries(plan.preview.methods!.map((m) => [m.id, m.fate]));
      for (const m of before.value) assert.equal(fates[m.id as string], REREGISTER[m['@odata.type'] as string], `preview: ${m['@odata.type'] as string}`);
      assert.ok(plan.preview.warnings.some((w) => /Revoke sessions/.test(w) && /attacker/.test(w)), plan.preview.warnings.join(' | '));
      await requireReregisterMfa.apply(ctx, plan);
      const after = (await client(appToken).api(`/users/${u.id}/authentication/methods`).get()) as { value: Json[] };
      const expected = before.value.filter((m) => REREGISTER[m['@odata.type'] as string] === 'kept').map((m) => m.id);
      assert.deepEqual(after.value.map((m) => m.id), expected);
      assert.deepEqual([...new Set(after.value.map((m) => m['@odata.type']))].sort(), [PASSWORD_TYPE, TAP_TYPE, FIDO2_TYPE].sort());
      // spec §5: the preview says the user still signs in with the passkey, and suggests a TAP
      assert.ok(plan.preview.warnings.some((w) => /^fido2AuthenticationMethod .* is kept and satisfies MFA: the user signs in with it and is NOT sent to registration\. Delete it too .*Temporary Access Pass/.test(w)), plan.preview.warnings.join(' | '));
      assert.equal(plan.preview.nextSignIn, 'normal: a kept method satisfies MFA');
      const audit = await lastAudit();
      assert.equal(audit.activity, 'Admin deleted security info');
      assert.equal((JSON.parse(audit.modified) as unknown[]).length, 2, 'one record listing both deleted OATH methods');
      assert.equal(((await lastEvent('user.method.deleted')).methods as unknown[]).length, 2);
    });

    test('a plan is stale when the user’s methods changed since the preview', async () => {
      const u = await newUser();
      await addOath(u);
      const plan = await requireReregisterMfa.plan(ctx, SYSTEM, u.id);
      await addOath(u);
      await assert.rejects(requireReregisterMfa.apply(ctx, plan), /changed since the preview/);
      assert.equal((await snapshot(u.id)).methods.length, 2);
    });

    test('Revoke MFA sessions moves mfaRememberedValidFrom and leaves browser sessions alone', async () => {
      const u = await newUser();
      const session = await tapBornSession(u, 'x');
      const plan = await revokeMfaSessions.plan(ctx, SYSTEM, u.id);
      const result = await revokeMfaSessions.apply(ctx, plan);
      const s = await snapshot(u.id);
      assert.equal(s.user!.mfa_remembered_valid_from, result.appliedAt);
      assert.equal(s.user!.sign_in_sessions_valid_from, u.sign_in_sessions_valid_from, 'sessions stamp unchanged');
      assert.deepEqual(s.sessions.map((r) => r.id), [session]);
      assert.equal((await lastEvent('user.mfa_sessions.revoked')).userId, u.id);
    });

    test('security defaults: read, switched by a Global Administrator (204, audited), refused without the permission', async () => {
      const p0 = (await client(adminToken).api('/policies/identitySecurityDefaultsEnforcementPolicy').get()) as Json;
      assert.deepEqual([p0.id, p0.isEnabled], ['00000000-0000-0000-0000-000000000005', false]);
      await client(adminToken).api('/policies/identitySecurityDefaultsEnforcementPolicy').patch({ isEnabled: true });
      assert.equal(((await client(adminToken).api('/policies/identitySecurityDefaultsEnforcementPolicy').get()) as Json).isEnabled, true);
      assert.equal((await lastAudit()).activity, 'Update policy');
      await client(adminToken).api('/policies/identitySecurityDefaultsEnforcementPolicy').patch({ isEnabled: false });
      const bad = await graphError(client(adminToken).api('/policies/identitySecurityDefaultsEnforcementPolicy').patch({ isEnabled: 'yes' }));
      assert.equal(bad.statusCode, 400);
      const refused = await graphError(client(appToken).api('/policies/identitySecurityDefaultsEnforcementPolicy').patch({ isEnabled: true }));
      assert.equal(refused.statusCode, 403);
      assert.equal(((await client(adminToken).api('/policies/identitySecurityDefaultsEnforcementPolicy').get()) as Json).isEnabled, false);
    });

    test('query options: none on the methods collections and objects (400 naming it); $select on security defaults', async () => {
      const user = await newUser();
      const refusal = async (path: string, version: 'v1.0' | 'beta' = 'v1.0') => {
        const res = await fetch(`${server.origin}/${version}${path}`, { headers: { authorization: `Bearer ${adminToken}` } });
        return [res.status, ((await res.json()) as { error?: { code: string; message: string } }).error] as const;
      };
      const before = await snapshot(user.id);
      for (const collection of ['methods', 'passwordMethods', 'softwareOathMethods', 'fido2Methods', 'temporaryAccessPassMethods']) {
        for (const [query, option] of [['$filter=(', '$filter'], ['$top=abc', '$top'], ['$foo=1', '$foo'], ['$skiptoken=abc', '$skiptoken'], ['$orderby=nope', '$orderby'], ['$search=a', '$search'], ['$select=id', '$select']] as const) {
          const [s, e] = await refusal(`/users/${user.id}/authentication/${collection}?${query}`);
          assert.deepEqual([s, e?.code, e?.message], [400, 'Request_UnsupportedQuery', `Query option '${option}' is not supported on ${collection}.`]);
        }
      }
      const [status, error] = await refusal(`/users/${user.id}/authentication/passwordMethods/${PASSWORD_METHOD_ID}?$top=1`);
      assert.deepEqual([status, error?.code, error?.message], [400, 'Request_UnsupportedQuery', "Query option '$top' is not supported on an authentication method."]);
      const [meStatus, meError] = await refusal('/me/authentication/methods?$foo=1');
      assert.deepEqual([meStatus, meError?.code, meError?.message], [400, 'Request_UnsupportedQuery', "Query option '$foo' is not supported on methods."]);
      // a beta-only segment on v1.0 is named as missing before its query options are looked at
      const [v1Status, v1Error] = await refusal(`/users/${user.id}/authentication/requirements?$foo=1`);
      assert.deepEqual([v1Status, v1Error?.code, v1Error?.message], [400, 'BadRequest', "Resource not found for the segment 'requirements'."]);
      const [betaStatus, betaError] = await refusal(`/users/${user.id}/authentication/requirements?$foo=1`, 'beta');
      assert.deepEqual([betaStatus, betaError?.code, betaError?.message], [400, 'Request_UnsupportedQuery', "Query option '$foo' is not supported on requirements."]);
      assert.deepEqual(await snapshot(user.id), before, 'nothing changed');
      // without options, and through the SDK, the reads answer as before
      assert.ok(Array.isArray(((await client(adminToken).api(`/users/${user.id}/authentication/methods`).get()) as { value: unknown[] }).value));

      // security defaults: $select as Graph documents it; other options refused, naming them
      const policy = '/policies/identitySecurityDefaultsEnforcementPolicy';
      const selected = (await client(adminToken).api(policy).select(['isEnabled']).get()) as Json;
      assert.deepEqual({ ...selected, '@odata.context': undefined }, { '@odata.context': undefined, isEnabled: false });
      assert.match(String(selected['@odata.context']), /\/v1\.0\/\$metadata#policies\/identitySecurityDefaultsEnforcementPolicy\(isEnabled\)\/\$entity$/);
      for (const [query, option] of [['$filter=(', '$filter'], ['$top=abc', '$top'], ['$foo=1', '$foo'], ['$skiptoken=abc', '$skiptoken'], ['$orderby=nope', '$orderby'], ['$search=a', '$search']] as const) {
        const [s, e] = await refusal(`${policy}?${query}`);
        assert.deepEqual([s, e?.code, e?.message], [400, 'Request_UnsupportedQuery', `Query option '${option}' is not supported on identitySecurityDefaultsEnforcementPolicy.`]);
      }
      const [selStatus, selError] = await refusal(`${policy}?$select=nope`);
      assert.deepEqual([selStatus, selError?.code], [400, 'BadRequest']);
      assert.match(selError!.message, /Could not find a property named 'nope' for \$select/);
    });
  });
}

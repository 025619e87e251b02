// The authentication methods policy (spec §7, D23) through @microsoft/microsoft-graph-client: a new
// tenant's defaults in Graph's shapes, PATCH of a configuration (204, read back, audited as Entra's
// `Authentication Methods Policy Update`, an outbox event), bad bodies refused with 400 invalidRequest and
// nothing changed, who may read and write; the policy driving what users may register and use (TAP
// creation within the TAP configuration's bounds, refused for an excluded user with the reason; a TOTP
// excluded for a group neither offered at sign-in nor addable at My Security Info); exclude winning over
// include; View authentication methods policy at /latchkey/v1 and on the command line. Every expected
// table is written out here, never read from the code's tables.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Client, GraphError } from '@microsoft/microsoft-graph-client';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { GRAPH_APP_ID, addAppSecret, createApp, grantPermission } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { type User, createUser } from '../src/directory/users.js';
import { insertTap } from '../src/methods/tap/index.js';
import { Jar, appGraphToken, authorize, consentNativeAppToGraph, delegatedGraphToken, startSignIn } from './helpers/http-signin.js';
import { enrollTotp, totpAt } from './helpers/mfa.js';
import { databases, freshPostgres, startTestServer, type TestServer } from './helpers/server.js';
import { Migrations } from '../src/storage/migrations.js';
import type { Database } from '../src/storage/schema.js';
import { graphError } from './helpers/graph.js';

const PW = DEMO.demoPassword;
const POLICY = '/policies/authenticationMethodsPolicy';
const CONFIGS = `${POLICY}/authenticationMethodConfigurations`;
type Json = Record<string, unknown>;

function without(o: Json, key: string): Json {
  return Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));
}


for (const dbKind of await databases()) {
  describe(`authentication methods policy (${dbKind})`, () => {
    let server: TestServer;
    let adminToken: string;
    let n = 0;
    const db = () => server.store.db;
    const client = (bearer: string) => Client.init({ baseUrl: `${server.origin}/`, defaultVersion: 'v1.0', customHosts: new Set(['localhost']), authProvider: (done) => done(null, bearer) });
    const newUser = (roles: string[] = []) => createUser(db(), { tenantId: server.tenantId, upn: `p${++n}-${Date.now()}@${server.tenantDomain}`, displayName: `Policy ${n}`, password: PW, roles });
    const newGroup = async (name: string, members: User[]) => {
      const id = crypto.randomUUID();
      await db().insertInto('groups').values({ id, tenant_id: server.tenantId, display_name: name, description: null, is_assignable_to_role: 0, created_at: Date.now(), mail_nickname: name }).execute();
      for (const m of members) await db().insertInto('group_members').values({ group_id: id, user_id: m.id }).execute();
      return id;
    };
    const api = async (path: string, init: { method?: string; body?: unknown; token?: string } = {}) => {
      const body = init.body === undefined ? undefined : JSON.stringify(init.body);
      const res = await fetch(`${server.origin}/latchkey/v1${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers: { authorization: `Bearer ${init.token ?? adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Json };
    };
    const auditCount = async () => Number((await db().selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const patchConfig = (id: string, body: Json, token = adminToken) => client(token).api(`${CONFIGS}/${id}`).patch(body) as Promise<unknown>;
    /** the literal D23 TAP configuration, restored after a test changes it */
    const TAP_D23 = { state: 'enabled', includeTargets: [{ targetType: 'group', id: 'all_users', isRegistrationRequired: false }], excludeTargets: [], defaultLifetimeInMinutes: 60, minimumLifetimeInMinutes: 10, maximumLifetimeInMinutes: 43_200, defaultLength: 8, isUsableOnce: false };
    const ALL = [{ targetType: 'group', id: 'all_users' }];

    before(async () => {
      server = await startTestServer(dbKind);
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
    });
    after(async () => {
      await server?.close();
    });

    test('a new tenant has D23’s policy, in Graph’s shapes, its configurations expanded on GET', async () => {
      const p = (await client(adminToken).api(POLICY).get()) as Json;
      assert.equal(p.id, 'authenticationMethodsPolicy');
      assert.equal(p.policyMigrationState, 'migrationComplete');
      const configs = p.authenticationMethodConfigurations as Json[];
      const table = configs.map((c) => [c.id, c['@odata.type'], c.state, (c.includeTargets as Json[]).map((t) => `${t.targetType as string}:${t.id as string}`).join(','), (c.excludeTargets as Json[]).length]);
      assert.deepEqual(table, [
        ['Fido2', '#microsoft.graph.fido2AuthenticationMethodConfiguration', 'enabled', 'group:all_users', 0],
        ['MicrosoftAuthenticator', '#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration', 'enabled', 'group:all_users', 0],
        ['Sms', '#microsoft.graph.smsAuthenticationMethodConfiguration', 'enabled', 'group:all_users', 0],
        ['Voice', '#microsoft.graph.voiceAuthenticationMethodConfiguration', 'enabled', 'group:all_users', 0],
        ['Email', '#microsoft.graph.emailAuthenticationMethodConfiguration', 'enabled', 'group:all_users', 0],
        ['TemporaryAccessPass', '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration', 'enabled', 'group:all_users', 0],
        ['SoftwareOath', '#microsoft.graph.softwareOathAuthenticationMethodConfiguration', 'enabled', 'group:all_users', 0],
        ['HardwareOath', '#microsoft.graph.hardwareOathAuthenticationMethodConfiguration', 'disabled', 'group:all_users', 0],
      ]);
      // one configuration, its id case-insensitive, with its own settings
      const tap = (await client(adminToken).api(`${CONFIGS}/temporaryaccesspass`).get()) as Json;
      assert.deepEqual(without(tap, '@odata.context'), { '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration', id: 'TemporaryAccessPass', ...TAP_D23 });
      const fido = (await client(adminToken).api(`${CONFIGS}/Fido2`).get()) as Json;
      assert.deepEqual([fido.isAttestationEnforced, fido.isSelfServiceRegistrationAllowed, fido.keyRestrictions], [false, true, { isEnforced: false, enforcementType: 'block', aaGuids: [] }]);
      const unknown = await graphError(client(adminToken).api(`${CONFIGS}/Passwordless`).get());
      assert.equal(unknown.statusCode, 404);
    });

    test('PATCH a configuration: 204, read back, audited as Authentication Methods Policy Update, an outbox event; TAP creation follows its bounds and defaults', async () => {
      const before = await auditCount();
      await patchConfig('TemporaryAccessPass', { '@odata.type': '#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration', minimumLifetimeInMinutes: 30, maximumLifetimeInMinutes: 240, defaultLifetimeInMinutes: 90, defaultLength: 12 });
      try {
        const tap = (await client(adminToken).api(`${CONFIGS}/TemporaryAccessPass`).get()) as Json;
        assert.deepEqual([tap.minimumLifetimeInMinutes, tap.maximumLifetimeInMinutes, tap.defaultLifetimeInMinutes, tap.defaultLength, tap.isUsableOnce], [30, 240, 90, 12, false]);
        assert.equal(await auditCount(), before + 1);
        const audit = await db().selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
        assert.deepEqual([audit.activity, audit.service, audit.category, audit.operation_type, audit.target_id, audit.result], ['Authentication Methods Policy Update', 'Authentication Methods', 'ApplicationManagement', 'Update', 'TemporaryAccessPass', 'success']);
        const modified = (JSON.parse(audit.modified) as Json[]).map((m) => [m.displayName, m.oldValue, m.newValue]);
        assert.deepEqual(modified, [['defaultLifetimeInMinutes', '60', '90'], ['minimumLifetimeInMinutes', '10', '30'], ['maximumLifetimeInMinutes', '43200', '240'], ['defaultLength', '8', '12']]);
        const event = await db().selectFrom('outbox').selectAll().where('type', '=', 'tenant.methods_policy.updated').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
        assert.equal((JSON.parse(event.payload) as Json).configurationId, 'TemporaryAccessPass');
        // TAP creation (Graph and /latchkey/v1) defaults to and stays within the configuration
        const u = await newUser();
        const created = (await client(adminToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({})) as Json;
        assert.equal(created.lifetimeInMinutes, 90);
        assert.equal(String(created.temporaryAccessPass).length, 12);
        for (const lifetime of [20, 300]) {
          const e = await graphError(client(adminToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({ lifetimeInMinutes: lifetime }));
          assert.equal(e.statusCode, 400);
          assert.match(e.message, /lifetimeInMinutes must be a whole number from 30 to 240/);
        }
        const viaApi = await api(`/users/${u.id}/actions/createTap`, { body: { dryRun: true, lifetimeInMinutes: 20 } });
        assert.equal(viaApi.status, 400);
        assert.match(JSON.stringify(viaApi.body), /from 30 to 240/);
        // a policy that makes every pass one-time refuses a multi-use one, and defaults to one-time
        await patchConfig('TemporaryAccessPass', { isUsableOnce: true });
        const refused = await graphError(client(adminToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({ isUsableOnce: false }));
        assert.match(refused.message, /isUsableOnce must be true/);
        assert.equal(((await client(adminToken).api(`/users/${u.id}/authentication/temporaryAccessPassMethods`).post({})) as Json).isUsableOnce, true);
      } finally {
        await patchConfig('TemporaryAccessPass', TAP_D23);
      }
    });

    test('bad PATCH bodies are refused with 400 invalidRequest naming the field, and nothing changes', async () => {
      const group = await newGroup('Bad body group', []);
      const policyBefore = (await client(adminToken).api(POLICY).get()) as Json;
      const auditBefore = await auditCount();
      const cases: [string, Json, RegExp][] = [
        ['Sms', { state: 'off' }, /'state' must be one of enabled, disabled/],
        ['Sms', { colour: 'blue' }, /'colour' does not exist on type 'microsoft.graph.smsAuthenticationMethodConfiguration'/],
        ['Sms', { '@odata.type': '#microsoft.graph.voiceAuthenticationMethodConfiguration' }, /'@odata.type' must be '#microsoft.graph.smsAuthenticationMethodConfiguration'/],
        ['Sms', { includeTargets: 'all_users' }, /'includeTargets' must be a list/],
        ['Sms', { includeTargets: [{ targetType: 'user', id: 'all_users' }] }, /'includeTargets\[0\].targetType' must be 'group'/],
        ['Sms', { includeTargets: [{ targetType: 'group', id: crypto.randomUUID() }] }, /'includeTargets\[0\].id': group '.*' does not exist/],
        ['Sms', { excludeTargets: ALL }, /'excludeTargets\[0\].id': all_users cannot be excluded/],
        ['Sms', { excludeTargets: [{ targetType: 'group', id: group }, { targetType: 'group', id: group }] }, /'excludeTargets\[1\].id': group '.*' is listed twice/],
        ['Sms', { includeTargets: [{ targetType: 'group', id: 'all_users', isUsableForSignIn: 'yes' }] }, /'includeTargets\[0\].isUsableForSignIn' must be a boolean/],
        ['Voice', { isOfficePhoneAllowed: 1 }, /'isOfficePhoneAllowed' must be a boolean/],
        ['Email', { allowExternalIdToUseEmailOtp: 'sometimes' }, /'allowExternalIdToUseEmailOtp' must be one of default, enabled, disabled/],
        ['TemporaryAccessPass', { defaultLength: 7 }, /'defaultLength' must be a whole number from 8 to 48/],
        ['TemporaryAccessPass', { maximumLifetimeInMinutes: 43_201 }, /'maximumLifetimeInMinutes' must be a whole number from 10 to 43200/],
        ['TemporaryAccessPass', { minimumLifetimeInMinutes: 120, maximumLifetimeInMinutes: 60 }, /'minimumLifetimeInMinutes' \(120\) must not exceed 'maximumLifetimeInMinutes' \(60\)/],
        ['TemporaryAccessPass', { defaultLifetimeInMinutes: 9000, maximumLifetimeInMinutes: 480 }, /'defaultLifetimeInMinutes' \(9000\) must lie between/],
        ['Fido2', { keyRestrictions: { aaGuids: ['not-a-guid'] } }, /'keyRestrictions.aaGuids\[0\]' must be an AAGUID/],
        ['Fido2', { keyRestrictions: { enforcementType: 'maybe' } }, /'keyRestrictions.enforcementType' must be one of allow, block/],
        ['MicrosoftAuthenticator', { includeTargets: [{ targetType: 'group', id: 'all_users', authenticationMode: 'sms' }] }, /'includeTargets\[0\].authenticationMode' must be one of any, push, deviceBasedPush/],
        ['MicrosoftAuthenticator', { featureSettings: { displayAppInformationRequiredState: { state: 'always' } } }, /'featureSettings.displayAppInformationRequiredState.state' must be one of default, enabled, disabled/],
        ['SoftwareOath', { id: 'HardwareOath' }, /'id' is read-only and must be 'SoftwareOath'/],
      ];
      for (const [id, body, message] of cases) {
        const e = await graphError(patchConfig(id, body));
        assert.equal(e.statusCode, 400, `${id} ${JSON.stringify(body)}`);
        assert.equal(e.code, 'invalidRequest', `${id} ${JSON.stringify(body)}`);
        assert.match(e.message, message, `${id} ${JSON.stringify(body)}`);
      }
      const policyErrors: [Json, RegExp][] = [
        [{ displayName: 'Mine' }, /'displayName' is read-only/],
        [{ authenticationMethodConfigurations: [] }, /'authenticationMethodConfigurations' is read-only: PATCH each configuration/],
        [{ policyMigrationState: 'done' }, /'policyMigrationState' must be one of preMigration, migrationInProgress, migrationComplete/],
      ];
      for (const [body, message] of policyErrors) {
        const e = await graphError(client(adminToken).api(POLICY).patch(body));
        assert.deepEqual([e.statusCode, e.code], [400, 'invalidRequest'], JSON.stringify(body));
        assert.match(e.message, message);
      }
      const missing = await graphError(patchConfig('Passkeys', { state: 'disabled' }));
      assert.equal(missing.statusCode, 404);
      assert.deepEqual((await client(adminToken).api(POLICY).get()) as Json, policyBefore, 'the policy is unchanged');
      assert.equal(await auditCount(), auditBefore, 'nothing audited');
      // a good PATCH of the policy itself answers with the policy
      const p = (await client(adminToken).api(POLICY).patch({ policyMigrationState: 'migrationInProgress' })) as Json;
      assert.equal(p.policyMigrationState, 'migrationInProgress');
      await client(adminToken).api(POLICY).patch({ policyMigrationState: 'migrationComplete' });
    });

    test('who may read and write the policy (research §3, §10)', async () => {
      // caller → [GET policy, PATCH a configuration]
      const expected: Record<string, [number, number]> = {
        'Global Administrator': [200, 204],
        'Authentication Policy Administrator': [200, 204],
        'Global Reader': [200, 403],
        'Authentication Administrator': [403, 403],
        'Privileged Authentication Administrator': [403, 403],
        '(no role)': [403, 403],
        'app with Policy.Read.All': [200, 403],
        'app with Policy.ReadWrite.AuthenticationMethod': [200, 204],
        'app with UserAuthenticationMethod.ReadWrite.All': [403, 403],
      };
      const tokens: Record<string, string> = {};
      for (const role of ['Global Administrator', 'Authentication Policy Administrator', 'Global Reader', 'Authentication Administrator', 'Privileged Authentication Administrator', '(no role)']) {
        const u = await newUser(role === '(no role)' ? [] : [role]);
        tokens[role] = await delegatedGraphToken(server, u.upn, PW);
      }
      for (const permission of ['Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod']) {
        const id = crypto.randomUUID();
        await createApp(db(), { id, tenantId: server.tenantId, displayName: `Policy app ${permission}`, kind: 'web' });
        const secret = await addAppSecret(db(), id);
        await grantPermission(db(), id, GRAPH_APP_ID, 'application', [permission]);
        tokens[`app with ${permission}`] = await appGraphToken(server, id, secret);
      }
      tokens['app with UserAuthenticationMethod.ReadWrite.All'] = await appGraphToken(server, DEMO.automationAppId, 'automation-secret-value');
      const seen: Record<string, [number, number]> = {};
      for (const [who, token] of Object.entries(tokens)) {
        const read = await client(token).api(POLICY).get().then(() => 200, (e: GraphError) => e.statusCode);
        const auditBefore = await auditCount();
        const write = await patchConfig('Voice', { isOfficePhoneAllowed: false }, token).then(() => 204, (e: GraphError) => e.statusCode);
        if (write !== 204) assert.equal(await auditCount(), auditBefore, `${who}: a refused write audits nothing`);
        seen[who] = [read, write];
      }
      assert.deepEqual(seen, expected);
      const refused = await graphError(patchConfig('Voice', { isOfficePhoneAllowed: true }, tokens['Global Reader']!));
      assert.equal(refused.code, 'Authorization_RequestDenied');
      assert.match(refused.message, /Authentication Policy Administrator, Global Administrator/);
    });

    test('exclude wins over include: the effective policy for a user, at /latchkey/v1 and in the actions list', async () => {
      const [inOnly, inBoth, inNone] = [await newUser(), await newUser(), await newUser()];
      const pilots = await newGroup('Pilots', [inOnly, inBoth]);
      const contractors = await newGroup('Contractors', [inBoth]);
      await patchConfig('SoftwareOath', { includeTargets: [{ targetType: 'group', id: pilots }], excludeTargets: [{ targetType: 'group', id: contractors }] });
      await patchConfig('Sms', { state: 'disabled' });
      await patchConfig('Email', { includeTargets: [{ targetType: 'group', id: pilots }] });
      try {
        const view = async (u: User) => {
          const r = await api(`/users/${u.upn}/methodsPolicy`);
          assert.equal(r.status, 200, JSON.stringify(r.body));
          assert.equal((r.body.target as Json).id, u.id);
          return (r.body.value as Json[]).map((m) => [m.method, m.enabled, m.reasonText]);
        };
        assert.deepEqual(await view(inBoth), [
          ['Password', true, 'always enabled'],
          ['Fido2', true, 'enabled for all users'],
          ['MicrosoftAuthenticator', true, 'enabled for all users'],
          ['Sms', false, 'disabled in the authentication methods policy'],
          ['Voice', true, 'enabled for all users'],
          ['Email', true, 'enabled for group Pilots'],
          ['TemporaryAccessPass', true, 'enabled for all users'],
          ['SoftwareOath', false, 'excluded by group Contractors'],
          ['HardwareOath', false, 'disabled in the authentication methods policy'],
        ]);
        assert.deepEqual((await view(inOnly)).filter(([m]) => ['Email', 'SoftwareOath'].includes(m as string)), [['Email', true, 'enabled for group Pilots'], ['SoftwareOath', true, 'enabled for group Pilots']]);
        assert.deepEqual((await view(inNone)).filter(([m]) => ['Email', 'SoftwareOath'].includes(m as string)), [['Email', false, 'not in an included group'], ['SoftwareOath', false, 'not in an included group']]);
        const excluded = ((await api(`/users/${inBoth.id}/methodsPolicy`)).body.value as Json[]).find((m) => m.method === 'SoftwareOath')!;
        assert.deepEqual(excluded.excludedBy, { id: contractors, displayName: 'Contractors' });
        // listed among the actions with its right; a plain user may not view another's
        const actions = (await api(`/users/${inBoth.id}/actions`)).body.value as Json[];
        assert.deepEqual(actions.filter((a) => a.name === 'viewMethodsPolicy').map((a) => [a.allowed, a.destructive]), [[true, false]]);
        const plain = await delegatedGraphToken(server, inNone.upn, PW);
        const other = await api(`/users/${inBoth.id}/methodsPolicy`, { token: plain });
        assert.equal(other.status, 403);
        assert.match(JSON.stringify(other.body), /Authentication Policy Administrator/);
        assert.equal((await api(`/users/${inNone.id}/methodsPolicy`, { token: plain })).status, 200, 'one’s own');
        const asAction = await api(`/users/${inBoth.id}/actions/viewMethodsPolicy`, { body: { dryRun: true } });
        assert.equal(asAction.status, 400, 'a read has nothing to plan or apply');
      } finally {
        await patchConfig('SoftwareOath', { includeTargets: ALL, excludeTargets: [] });
        await patchConfig('Sms', { state: 'enabled' });
        await patchConfig('Email', { includeTargets: ALL });
      }
    });

    test('a TAP excluded for a group is neither created for its members nor usable by them, with the reason', async () => {
      const member = await newUser();
      const outsider = await newUser();
      const held = await insertTap(db(), server.secrets, member, 'HeldPass234', { startAt: Date.now(), lifetimeMinutes: 60, isUsableOnce: false }, Date.now());
      const blocked = await newGroup('No passes', [member]);
      await patchConfig('TemporaryAccessPass', { excludeTargets: [{ targetType: 'group', id: blocked }] });
      try {
        const e = await graphError(client(adminToken).api(`/users/${member.id}/authentication/temporaryAccessPassMethods`).post({}));
        assert.equal(e.statusCode, 400);
        assert.match(e.message, /cannot be created for this user: the method is excluded by group No passes/);
        const viaApi = await api(`/users/${member.id}/actions/createTap`, { body: { dryRun: true } });
        assert.equal(viaApi.status, 400);
        assert.match(JSON.stringify(viaApi.body), /excluded by group No passes/);
        assert.deepEqual((await db().selectFrom('auth_methods').select('id').where('user_id', '=', member.id).execute()).map((r) => r.id), [held.id], 'the held TAP is untouched, none added');
        // the TAP already held is reported unusable by the policy...
        const shown = (await client(adminToken).api(`/users/${member.id}/authentication/temporaryAccessPassMethods`).get()) as { value: Json[] };
        assert.deepEqual(shown.value.map((m) => [m.isUsable, m.methodUsabilityReason]), [[false, 'DisabledByPolicy']]);
        // ...and the sign-in does not offer it: the password comes after the user name
        const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: 'http://localhost:5999', scope: 'openid', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' }, { user: member.upn, password: PW });
        assert.ok(out.redirect?.searchParams.get('code'), 'signed in with the password (no TAP screen)');
        // someone outside the group still gets one
        assert.equal(((await client(adminToken).api(`/users/${outsider.id}/authentication/temporaryAccessPassMethods`).post({})) as Json).isUsable, true);
      } finally {
        await patchConfig('TemporaryAccessPass', TAP_D23);
      }
    });

    test('an authenticator app excluded for a group is not offered at sign-in nor addable at My Security Info, with the reason', async () => {
      const user = await newUser();
      const secret = await enrollTotp(server, user);
      // signed in to My Security Info while the app is allowed (its sign-in needs MFA: the TOTP)
      const jar = new Jar();
      const start = await fetch(`${server.origin}/mysecurityinfo`, { redirect: 'manual' });
      const authorizeUrl = new URL(start.headers.get('location')!, server.origin);
      const mfa = () => ({ method: 'softwareOath', code: totpAt(secret) });
      const signedIn = await authorize(server, jar, Object.fromEntries(authorizeUrl.searchParams), { user: user.upn, password: PW, answers: { mfa } });
      assert.ok(signedIn.redirect, JSON.stringify(signedIn.html?.slice(0, 300)));
      const page = await fetch(signedIn.redirect, { headers: { cookie: jar.header() }, redirect: 'manual' });
      jar.take(page);
      const html = await page.text();
      assert.equal(page.status, 200, html.slice(0, 300));
      const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
      // the page takes forms only: the same fields as JSON or plain text are a 415 page and start nothing
      const pendingBefore = await db().selectFrom('auth_methods').select('id').where('user_id', '=', user.id).execute();
      for (const [type, body] of [['application/json', JSON.stringify({ csrf, op: 'add_totp' })], ['text/plain', new URLSearchParams({ csrf, op: 'add_totp' }).toString()]] as const) {
        const notForm = await fetch(`${server.origin}/mysecurityinfo`, { method: 'POST', headers: { cookie: jar.header(), 'content-type': type }, body, redirect: 'manual' });
        const notFormHtml = await notForm.text();
        assert.equal(notForm.status, 415, `${type}: ${notFormHtml.slice(0, 200)}`);
        assert.match(notFormHtml, /The request was not sent as a form\./, type);
      }
      assert.deepEqual(await db().selectFrom('auth_methods').select('id').where('user_id', '=', user.id).execute(), pendingBefore, 'no enrollment started by a JSON or text post');
      // then the user's group is excluded: the next request refuses a new authenticator app
      await newGroup('No apps', [user]);
      const noApps = (await db().selectFrom('groups').select('id').where('display_name', '=', 'No apps').executeTakeFirstOrThrow()).id;
      await patchConfig('SoftwareOath', { excludeTargets: [{ targetType: 'group', id: noApps }] });
      try {
        const methodsBefore = await db().selectFrom('auth_methods').select('id').where('user_id', '=', user.id).execute();
        const add = await fetch(`${server.origin}/mysecurityinfo`, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ csrf, op: 'add_totp' }), redirect: 'manual' });
        const addHtml = await add.text();
        assert.equal(add.status, 403);
        assert.match(addHtml, /You can&#39;t add an authenticator app: it is excluded by group No apps|You can't add an authenticator app: it is excluded by group No apps/);
        assert.deepEqual(await db().selectFrom('auth_methods').select('id').where('user_id', '=', user.id).execute(), methodsBefore, 'no pending enrollment made');
        // at sign-in the registered app is not offered: MFA is required and nothing is left, and the
        // registration interrupt says why
        const j2 = new Jar();
        const { at } = await startSignIn(server, j2, Object.fromEntries(authorizeUrl.searchParams));
        const step = async (fields?: Record<string, string>) => {
          const res = await fetch(at, fields ? { method: 'POST', headers: { cookie: j2.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields), redirect: 'manual' } : { headers: { cookie: j2.header() }, redirect: 'manual' });
          j2.take(res);
          return res.text();
        };
        const flowCsrf = /name="csrf" value="([^"]+)"/.exec(await step())![1]!;
        await step({ csrf: flowCsrf, step: 'username', loginfmt: user.upn });
        const afterPassword = await step({ csrf: flowCsrf, step: 'password', passwd: PW });
        assert.doesNotMatch(afterPassword, /name="step" value="mfa"/, 'the TOTP step is not offered');
        const blocked = /id="registrationBlocked"[^>]*>([^<]+)</.exec(afterPassword)?.[1];
        assert.match(blocked ?? afterPassword.slice(0, 500), /doesn(&#39;|')t let you register an authenticator app \(excluded by group No apps\)/);
      } finally {
        await patchConfig('SoftwareOath', { excludeTargets: [] });
      }
    });

    test('a tenant that existed before migration 0009 gets D23’s policy from it', async () => {
      const pgDb = dbKind === 'postgres' ? await freshPostgres() : undefined;
      const k = new Kysely<Database>({ dialect: pgDb ? new PostgresDialect({ pool: new pg.Pool({ connectionString: pgDb.url, max: 1 }) }) : new SqliteDialect({ database: new SqliteDatabase(':memory:') }) });
      try {
        const migrator = new Migrator({ db: k, provider: new Migrations(dbKind) });
        assert.equal((await migrator.migrateTo('0008_device_code_attempts')).error, undefined);
        await k.insertInto('tenants').values({ id: 'old-tenant', domain: 'old.test', display_name: 'Old', created_at: 1 }).execute();
        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const row = await k.selectFrom('methods_policy').selectAll().executeTakeFirstOrThrow();
        assert.deepEqual([row.tenant_id, row.version], ['old-tenant', 1]);
        const doc = JSON.parse(row.policy) as { configurations: Record<string, Json> };
        assert.deepEqual(Object.entries(doc.configurations).map(([id, c]) => [id, c.state]), [
          ['Fido2', 'enabled'], ['MicrosoftAuthenticator', 'enabled'], ['Sms', 'enabled'], ['Voice', 'enabled'],
          ['Email', 'enabled'], ['TemporaryAccessPass', 'enabled'], ['SoftwareOath', 'enabled'], ['HardwareOath', 'disabled'],
        ]);
        assert.deepEqual(doc.configurations.TemporaryAccessPass, TAP_D23);
      } finally {
        await k.destroy();
        await pgDb?.drop();
      }
    });

    if (dbKind === 'sqlite') {
      test('view-methods-policy on the command line: a table, --json, --help exits 0', async () => {
        const run = promisify(execFile);
        const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, LATCHKEY_DATA_DIR: server.dataDir } });
        const u = await newUser();
        await newGroup('Cli excluded', [u]);
        const gid = (await db().selectFrom('groups').select('id').where('display_name', '=', 'Cli excluded').executeTakeFirstOrThrow()).id;
        await patchConfig('Voice', { excludeTargets: [{ targetType: 'group', id: gid }] });
        try {
          const help = await cli('view-methods-policy', '--help');
          assert.match(help.stdout, /usage: npm run cli -- view-methods-policy <user id or UPN>/);
          const table = await cli('view-methods-policy', u.upn);
          const lines = table.stdout.trim().split('\n').slice(2).map((l) => l.split(/\s{2,}/));
          assert.deepEqual(lines, [
            ['METHOD', 'ENABLED', 'WHY'],
            ['Password', 'yes', 'always enabled'],
            ['Passkey (FIDO2)', 'yes', 'enabled for all users'],
            ['Microsoft Authenticator', 'yes', 'enabled for all users'],
            ['SMS', 'yes', 'enabled for all users'],
            ['Voice call', 'no', 'excluded by group Cli excluded'],
            ['Email OTP', 'yes', 'enabled for all users'],
            ['Temporary Access Pass', 'yes', 'enabled for all users'],
            ['Software OATH tokens', 'yes', 'enabled for all users'],
            ['Hardware OATH tokens', 'no', 'disabled in the authentication methods policy'],
          ]);
          const json = JSON.parse((await cli('view-methods-policy', u.upn, '--json')).stdout) as { target: Json; value: Json[] };
          assert.equal(json.target.id, u.id);
          assert.deepEqual(json.value.find((m) => m.method === 'Voice'), { method: 'Voice', displayName: 'Voice call', enabled: false, reason: 'excluded', reasonText: 'excluded by group Cli excluded', excludedBy: { id: gid, displayName: 'Cli excluded' } });
        } finally {
          await patchConfig('Voice', { excludeTargets: [] });
        }
      });
    }
  });
}

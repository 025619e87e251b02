// The compromised-account playbook (spec §5) over /latchkey/v1 on a taken-over account: the attacker holds
// a browser session, a refresh token and their own TOTP method. The dry run previews every step as one
// plan and changes nothing; apply runs the steps in order, each audited; afterwards the attacker's
// session, refresh token and method are dead and the user signs in with the Temporary Access Pass shown
// once in the TAP step's result (never stored, not in the report) and registers anew. A run stopped after
// step 3 has committed (a crash) is resumed by a fresh server instance on the same database and finishes
// the same; applying the same run id again changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Actor } from '../src/admin/actor.js';
import { type ActionContext, ActionError } from '../src/admin/action.js';
import { applyRun, parsePlaybookInput, previewPlaybook, startRun } from '../src/admin/playbook.js';
import { loadConfig } from '../src/config/index.js';
import { DEMO } from '../src/directory/seed.js';
import { type User, createUser, findUserByUpn } from '../src/directory/users.js';
import { type RunningServer, startServer } from '../src/server.js';
import { Jar, authorize, consentNativeAppToGraph, delegatedGraphToken, pkce, token } from './helpers/http-signin.js';
import { enrollTotp } from './helpers/mfa.js';
import { type DbKind, type TestServer, databases, freshPostgres, testCa } from './helpers/server.js';
import { HA, PLAIN, REVOKE_TABLE as TABLE, REVOKE_TARGETS as TARGETS } from './helpers/revoke-rights.js';

const PW = 'Playbook-Victim-Pw-58';
const REDIRECT = 'http://localhost:5999';
const SCOPE = 'openid profile offline_access';
// what a full run on the taken-over account writes to the audit log, in order (step 6 is the tenant's)
// Graph's id of every user's password method (Entra's well-known value)
const PASSWORD_ID = '28c10230-6103-485e-b985-444c60001490';
const FULL_RUN_AUDIT = ['Disable account', 'Admin deleted security info', 'Reset password (by admin)', 'Update StsRefreshTokenValidFrom Timestamp', 'Update user', 'Update tenant settings', 'Admin registered security info', 'Enable account'];

interface RunBody { runId: string; status: string; nextStep: string | null; results: { step: string; number: number; status: string; temporaryAccessPass?: string }[]; error?: { code: string; message: string } }

/** A server on a database this test keeps across instances (a restart is a new instance on the same data). */
async function serverOn(dbKind: DbKind) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-playbook-'));
  const pg = dbKind === 'postgres' ? await freshPostgres() : undefined;
  const configFor = (port: number) => loadConfig({ LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_SECURITY_DEFAULTS: 'false' }, { dataDir, port, host: '127.0.0.1', tlsCaCert: testCa(), databaseUrl: pg?.url ?? '', bootstrapAdminPassword: 'Bootstrap-Admin-Pw-1', automationClientSecret: 'automation-secret-value' });
  const start = async (port = 0) => {
    const s = await startServer(configFor(port));
    return Object.assign(s, { dataDir, dbKind, tenantUrl: `${s.origin}/${s.tenantId}` }) as RunningServer & TestServer;
  };
  return { start, async drop() { await pg?.drop(); fs.rmSync(dataDir, { recursive: true, force: true }); } };
}

for (const dbKind of await databases()) {
  describe(`the compromised-account playbook (${dbKind})`, () => {
    const api = async (server: TestServer, tokenValue: string, p: string, body?: unknown) => {
      const res = await fetch(`${server.origin}/latchkey/v1${p}`, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${tokenValue}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      let json: unknown;
      try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, text, body: json as RunBody & Record<string, unknown> };
    };
    const audits = async (server: TestServer) => (await server.store.db.selectFrom('audit_log').select(['activity']).orderBy('id').execute()).map((a) => a.activity);

    /** The victim, and an attacker holding a browser session, a refresh token and their own TOTP method. */
    const takeOver = async (server: TestServer, name: string) => {
      const upn = `${name}@${server.tenantDomain}`;
      const victim = await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: name, password: PW });
      const attackerJar = new Jar();
      const p = pkce();
      const out = await authorize(server, attackerJar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: p.challenge, code_challenge_method: 'S256' }, { user: upn, password: PW });
      const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: p.verifier });
      assert.ok(t.body.refresh_token);
      await enrollTotp(server, victim);
      const totp = await server.store.db.selectFrom('auth_methods').select('id').where('user_id', '=', victim.id).where('type', '=', 'softwareOath').executeTakeFirstOrThrow();
      return { upn, victim, attackerJar, refreshToken: t.body.refresh_token, totpId: totp.id };
    };

    /** After the playbook: the attacker's session, refresh token and method are dead; the user signs in with the TAP and registers anew. */
    const assertRecovered = async (server: TestServer, x: Awaited<ReturnType<typeof takeOver>>, tap: string) => {
      const r = await token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: x.refreshToken });
      assert.equal(r.body.error, 'invalid_grant', JSON.stringify(r.body));
      const p = pkce();
      const silent = await authorize(server, x.attackerJar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: p.challenge, code_challenge_method: 'S256', prompt: 'none' }, { user: x.upn, password: PW });
      assert.equal(silent.redirect?.searchParams.get('code') ?? null, null, "the attacker's browser session is dead");
      assert.equal(await server.store.db.selectFrom('auth_methods').select('id').where('id', '=', x.totpId).executeTakeFirst(), undefined, "the attacker's TOTP method is gone");
      // the old password is no more (the attacker knew it)
      assert.notEqual((await findUserByUpn(server.store.db, server.tenantId, x.upn))!.password_hash, x.victim.password_hash);
      // the user signs in with the TAP handed over out of band, and registers anew
      const q = pkce();
      const userJar = new Jar();
      const out = await authorize(server, userJar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: q.challenge, code_challenge_method: 'S256' }, { user: x.upn, password: '', answers: { tap: () => ({ accesspass: tap }), password: () => assert.fail('the TAP is asked, not the password') } });
      const code = out.redirect?.searchParams.get('code');
      assert.ok(code, `signed in with the TAP: ${out.html?.slice(0, 300) ?? out.redirect?.toString()}`);
      const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code, redirect_uri: REDIRECT, code_verifier: q.verifier });
      assert.ok(t.body.access_token, JSON.stringify(t.body));
      const user = (await findUserByUpn(server.store.db, server.tenantId, x.upn)) as User;
      assert.equal(user.account_enabled, 1);
      await enrollTotp(server, user);
      const methods = (await server.store.db.selectFrom('auth_methods').select('type').where('user_id', '=', user.id).where('status', '=', 'active').execute()).map((m) => m.type).sort();
      assert.deepEqual(methods, ['softwareOath', 'temporaryAccessPass']);
    };

    let server: TestServer & RunningServer;
    let drop: () => Promise<void>;
    let adminToken: string;
    before(async () => {
      const s = await serverOn(dbKind);
      drop = s.drop;
      server = await s.start();
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
    });
    after(async () => {
      await server?.close();
      await drop?.();
    });

    test('dry run previews every step and changes nothing; apply runs them in order, audited; the attacker is out and the user is back with the TAP', async () => {
      const x = await takeOver(server, 'pbvictim');
      const auditBefore = await audits(server);
      const dry = await api(server, adminToken, `/users/${x.upn}/playbook`, { dryRun: true });
      assert.equal(dry.status, 200, dry.text);
      const preview = dry.body as unknown as { steps: { step: string; number: number; allowed: boolean }[]; ending: { kind: string }[]; nextSignIn: string; warnings: string[] };
      assert.deepEqual(preview.steps.map((s) => [s.number, s.step, s.allowed]), [[1, 'disableAccount', true], [2, 'requireReregisterMfa', true], [3, 'resetPassword', true], [4, 'revokeSessions', true], [5, 'revokeMfaSessions', true], [6, 'registrationPolicy', true], [7, 'createTap', true], [8, 'enableAccount', true]]);
      assert.deepEqual(preview.ending.map((l) => l.kind).sort(), ['grant', 'session'], "the attacker's session and grant end now");
      assert.match(preview.nextSignIn, /Temporary Access Pass/);
      assert.deepEqual(await audits(server), auditBefore, 'a dry run writes nothing');

      const runId = crypto.randomUUID();
      const applied = await api(server, adminToken, `/users/${x.upn}/playbook`, { dryRun: false, runId });
      assert.equal(applied.status, 200, applied.text);
      assert.equal(applied.body.runId, runId);
      assert.equal(applied.body.status, 'completed');
      assert.deepEqual(applied.body.results.map((r) => [r.number, r.status]), [[1, 'done'], [2, 'done'], [3, 'done'], [4, 'done'], [5, 'done'], [6, 'done'], [7, 'done'], [8, 'done']]);
      const tap = applied.body.results.find((r) => r.step === 'createTap')?.temporaryAccessPass;
      assert.ok(tap, 'the TAP is in its step result, once');
      assert.deepEqual((await audits(server)).slice(auditBefore.length), FULL_RUN_AUDIT);

      // the TAP is kept nowhere: not in the run, its progress or its report (JSON, text, HTML)
      const row = await server.store.db.selectFrom('playbook_runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(tap));
      const progress = await api(server, adminToken, `/playbook-runs/${runId}`);
      assert.equal(progress.status, 200);
      assert.equal(progress.body.status, 'completed');
      assert.ok(!progress.text.includes(tap));
      for (const format of ['json', 'text', 'html']) {
        const report = await api(server, adminToken, `/playbook-runs/${runId}/report?format=${format}`);
        assert.equal(report.status, 200, report.text);
        assert.ok(!report.text.includes(tap), `no TAP in the ${format} report`);
        assert.match(report.text, /Revoke sessions|revokeSessions/);
      }
      const text = (await api(server, adminToken, `/playbook-runs/${runId}/report?format=text`)).text;
      assert.match(text, /What was done:/);
      assert.match(text, /Still alive:/);
      assert.match(text, /access tokens of .* until /, 'the still-live access tokens and when they expire');

      await assertRecovered(server, x, tap);

      // the same run id again: nothing changes
      const n = (await audits(server)).length;
      const again = await api(server, adminToken, `/users/${x.upn}/playbook`, { dryRun: false, runId });
      assert.equal(again.status, 200, again.text);
      assert.equal(again.body.status, 'completed');
      assert.equal(again.body.results.find((r) => r.step === 'createTap')?.temporaryAccessPass, undefined, 'shown once');
      const resumed = await api(server, adminToken, `/playbook-runs/${runId}/resume`, {});
      assert.equal(resumed.status, 200);
      assert.equal((await audits(server)).length, n, 'applying the same run again writes nothing');
    });

    test("the dry run's texts are true inside the playbook: the password is shown to nobody, no step advises what another chosen step does, and what the chosen steps leave undone is said once", async () => {
      const x = await takeOver(server, 'pbtexts');
      const issued = await api(server, adminToken, `/users/${x.victim.id}/actions/createTap`, { dryRun: false });
      assert.equal(issued.status, 200, issued.text);
      const tapId = (await server.store.db.selectFrom('auth_methods').select('id').where('user_id', '=', x.victim.id).where('type', '=', 'temporaryAccessPass').executeTakeFirstOrThrow()).id;
      type StepDoc = { step: string; changes: { property: string; oldValue: string | null; newValue: string | null }[]; methods?: { id: string; type: string; fate: string }[]; warnings: string[] };
      const dryRun = async (body: Record<string, unknown>) => {
        const res = await api(server, adminToken, `/users/${x.victim.id}/playbook`, { dryRun: true, ...body });
        assert.equal(res.status, 200, res.text);
        return res.body as unknown as { steps: StepDoc[]; warnings: string[] };
      };
      const stepOf = (p: { steps: StepDoc[] }, step: string) => p.steps.find((s) => s.step === step)!;
      const change = (p: { steps: StepDoc[] }, step: string, property: string) => stepOf(p, step).changes.find((c) => c.property === property);
      const auditBefore = await audits(server);

      // every step: the TAP issued earlier is kept by step 2 and replaced at step 7; nothing is advised that another step does
      const full = await dryRun({});
      assert.deepEqual(full.steps.map((s) => [s.step, s.warnings]), [
        ['disableAccount', []],
        ['requireReregisterMfa', [`The Temporary Access Pass ${tapId} is kept by this step; step 7 replaces it and ends the sessions and refresh tokens signed in with it.`]],
        ['resetPassword', []],
        ['revokeSessions', []],
        ['revokeMfaSessions', []],
        ['registrationPolicy', []],
        ['createTap', [`The existing Temporary Access Pass ${tapId} is deleted; the sessions and refresh tokens signed in with it end.`]],
        ['enableAccount', ['Sessions and refresh tokens issued before step 1 disabled the account stay dead: the user signs in again.']],
      ]);
      assert.deepEqual(full.warnings, []);
      assert.deepEqual(stepOf(full, 'requireReregisterMfa').methods, [
        { id: PASSWORD_ID, type: 'password', fate: 'kept' },
        { id: x.totpId, type: 'softwareOath', fate: 'deleted' },
        { id: tapId, type: 'temporaryAccessPass', fate: 'kept' },
      ]);
      const fates = (p: { steps: StepDoc[] }, step: string) => stepOf(p, step).methods!.map((m) => [m.id === tapId ? 'the TAP issued earlier' : m.type, m.fate]);
      assert.deepEqual(fates(full, 'createTap'), [['the TAP issued earlier', 'deleted'], ['temporaryAccessPass', 'added']], "the attacker's method is gone by step 7");
      assert.deepEqual(change(full, 'resetPassword', 'password'), { property: 'password', oldValue: '(set)', newValue: '(random, shown to nobody)' });
      assert.deepEqual(change(full, 'resetPassword', 'passwordProfile.forceChangePasswordNextSignIn'), { property: 'passwordProfile.forceChangePasswordNextSignIn', oldValue: 'false', newValue: 'false' });
      assert.deepEqual(stepOf(full, 'enableAccount').changes, [{ property: 'accountEnabled', oldValue: 'false', newValue: 'true' }], 'as after step 1');

      // some steps only: the TAP deleted at step 2 with the attacker's method; no TAP, no Revoke sessions
      const some = await dryRun({ steps: ['requireReregisterMfa', 'resetPassword', 'revokeMfaSessions'], deleteMethodIds: [tapId] });
      assert.deepEqual(some.steps.map((s) => [s.step, s.warnings]), [
        ['requireReregisterMfa', [`The sessions and refresh tokens signed in with the Temporary Access Pass ${tapId} end with it.`]],
        ['resetPassword', ['The new password is shown to nobody and no Temporary Access Pass is issued: the user cannot sign in with a password until it is reset again.']],
        ['revokeMfaSessions', ['Remembered-MFA devices are forgotten, and the MFA recorded in refresh tokens issued before no longer counts: a refresh for a resource that requires MFA is refused (AADSTS50076). Browser sessions keep their MFA.']],
      ]);
      assert.deepEqual(stepOf(some, 'requireReregisterMfa').methods, [
        { id: PASSWORD_ID, type: 'password', fate: 'kept' },
        { id: x.totpId, type: 'softwareOath', fate: 'deleted' },
        { id: tapId, type: 'temporaryAccessPass', fate: 'deleted' },
      ]);
      assert.deepEqual(some.warnings, [
        "Step 4 (Revoke sessions) is not chosen: the browser sessions and refresh tokens no chosen step ends stay signed in, an attacker's included.",
        'No Temporary Access Pass is issued: the user needs another way to sign in and register again.',
      ]);

      // step 2 alone keeps the TAP, which still signs the user in
      const alone = await dryRun({ steps: ['requireReregisterMfa'] });
      assert.deepEqual(alone.steps.map((s) => [s.step, s.warnings]), [['requireReregisterMfa', [`The Temporary Access Pass ${tapId} is kept: while it is usable the user signs in with it. Choose it among the methods to delete if you did not issue it.`]]]);
      assert.deepEqual(alone.warnings, [
        "Step 4 (Revoke sessions) is not chosen: the browser sessions and refresh tokens no chosen step ends stay signed in, an attacker's included.",
        'Neither step 4 (Revoke sessions) nor step 5 (Revoke MFA sessions) is chosen: remembered MFA still counts.',
        'No Temporary Access Pass is issued: the user needs another way to sign in and register again.',
      ]);
      // disable, revoke sessions and a TAP: the methods untouched and the account left disabled, said once for the whole
      const noMethods = await dryRun({ steps: ['disableAccount', 'revokeSessions', 'createTap'] });
      assert.deepEqual(noMethods.steps.map((s) => [s.step, s.warnings]), [
        ['disableAccount', []],
        ['revokeSessions', []],
        ['createTap', [`The existing Temporary Access Pass ${tapId} is deleted; the sessions and refresh tokens signed in with it end.`]],
      ]);
      assert.deepEqual(fates(noMethods, 'createTap'), [['softwareOath', 'kept'], ['the TAP issued earlier', 'deleted'], ['temporaryAccessPass', 'added']]);
      assert.deepEqual(noMethods.warnings, ['Step 2 (Require re-register MFA) is not chosen: a method an attacker added still works.', 'The account stays disabled: the user cannot sign in until it is enabled.']);
      assert.deepEqual(await audits(server), auditBefore, 'dry runs write nothing');

      // applied: the run's results say the same of the password and the account
      const run = await api(server, adminToken, `/users/${x.victim.id}/playbook`, { dryRun: false });
      assert.equal(run.status, 200, run.text);
      const results = run.body.results as unknown as StepDoc[];
      assert.deepEqual(change({ steps: results }, 'resetPassword', 'password'), { property: 'password', oldValue: '(set)', newValue: '(random, shown to nobody)' });
      assert.deepEqual(stepOf({ steps: results }, 'enableAccount').changes, [{ property: 'accountEnabled', oldValue: 'false', newValue: 'true' }]);
      assert.doesNotMatch(run.text, /password[^"]*shown once/);
    });

    test('a run stopped after step 3 committed is resumed by a fresh server on the same database and finishes the same', async () => {
      const x = await takeOver(server, 'pbcrash');
      const admin = (await findUserByUpn(server.store.db, server.tenantId, `admin@${server.tenantDomain}`))!;
      const actor: Actor = { kind: 'user', id: admin.id, displayName: admin.display_name, upn: admin.upn, roles: ['Global Administrator'], scopes: ['Directory.AccessAsUser.All'] };
      const ctx: ActionContext = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
      // the tenant's policy is back to "anywhere", as before the first run
      await server.store.db.updateTable('tenant_settings').set({ registration_policy: 'anywhere', updated_at: Date.now() }).execute();
      const auditBefore = await audits(server);
      const { row } = await startRun(ctx, actor, x.upn, parsePlaybookInput({}));
      const stopped = await applyRun(ctx, actor, row.id, { stopAfter: 3 });
      assert.equal(stopped.temporaryAccessPass, undefined);
      const mid = await server.store.db.selectFrom('playbook_runs').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
      assert.deepEqual([mid.status, Number(mid.next_step), (JSON.parse(mid.results) as unknown[]).length], ['running', 3, 3]);
      assert.deepEqual((await audits(server)).slice(auditBefore.length), FULL_RUN_AUDIT.slice(0, 3));
      assert.equal((await findUserByUpn(server.store.db, server.tenantId, x.upn))!.account_enabled, 0, 'stopped with the account disabled');

      // the process dies; a new instance starts on the same database and port
      const port = server.port;
      await server.close();
      server = await (await serverOnSame(server, port))();
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      const progress = await api(server, adminToken, `/playbook-runs/${row.id}`);
      assert.equal(progress.status, 200, progress.text);
      assert.deepEqual([progress.body.status, progress.body.nextStep], ['running', 'revokeSessions']);
      const resumed = await api(server, adminToken, `/playbook-runs/${row.id}/resume`, {});
      assert.equal(resumed.status, 200, resumed.text);
      assert.equal(resumed.body.status, 'completed');
      assert.deepEqual(resumed.body.results.map((r) => [r.number, r.status]), [[1, 'done'], [2, 'done'], [3, 'done'], [4, 'done'], [5, 'done'], [6, 'done'], [7, 'done'], [8, 'done']]);
      const tap = resumed.body.results.find((r) => r.step === 'createTap')?.temporaryAccessPass;
      assert.ok(tap);
      assert.deepEqual((await audits(server)).filter((a) => a !== 'Add user' && !a.startsWith('Sign')).slice(-8), FULL_RUN_AUDIT);
      await assertRecovered(server, x, tap);
      const n = (await audits(server)).length;
      assert.equal((await api(server, adminToken, `/playbook-runs/${row.id}/resume`, {})).status, 200);
      assert.equal((await audits(server)).length, n, 'resuming a finished run changes nothing');
    });

    test('a runId retried with the same request answers the stored run; with other steps or step input it is a 400 naming what differs, and nothing changes', async () => {
      const upn = `pbretry@${server.tenantDomain}`;
      const user = await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: 'pbretry', password: PW });
      const runId = 'retry-run-0001';
      const first = await api(server, adminToken, `/users/${user.id}/playbook`, { dryRun: false, steps: ['revokeSessions', 'createTap'], runId });
      assert.equal(first.status, 200, first.text);
      assert.equal(first.body.status, 'completed');
      assert.ok(first.body.results.find((r) => r.step === 'createTap')?.temporaryAccessPass);
      const n = (await audits(server)).length;
      const row = await server.store.db.selectFrom('playbook_runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow();
      // the same request again (steps in another order are the same steps): the stored run, no TAP, nothing new
      const same = await api(server, adminToken, `/users/${user.id}/playbook`, { dryRun: false, steps: ['createTap', 'revokeSessions'], runId });
      assert.equal(same.status, 200, same.text);
      assert.equal(same.body.runId, runId);
      assert.deepEqual(same.body.results, first.body.results.map((r) => { const { temporaryAccessPass, ...rest } = r; assert.ok(r.step === 'createTap' || temporaryAccessPass === undefined); return rest; }));
      const refused: [Record<string, unknown>, RegExp][] = [
        [{ steps: ['disableAccount'] }, /^Run 'retry-run-0001' was started with steps revokeSessions, createTap \(this request: steps disableAccount\); a retry must send the same request \(to run other steps or input, use a new runId\)\.$/],
        [{ steps: ['revokeSessions', 'createTap'], tapIsUsableOnce: true }, /was started with no tapIsUsableOnce \(this request: tapIsUsableOnce true\)/],
        [{ steps: ['revokeSessions', 'createTap'], tapLifetimeInMinutes: 120 }, /was started with no tapLifetimeInMinutes \(this request: tapLifetimeInMinutes 120\)/],
        [{}, /was started with steps revokeSessions, createTap \(this request: steps disableAccount, requireReregisterMfa/],
      ];
      for (const [input, message] of refused) {
        const res = await api(server, adminToken, `/users/${user.id}/playbook`, { dryRun: false, ...input, runId });
        assert.equal(res.status, 400, `${JSON.stringify(input)}: ${res.text}`);
        assert.equal(res.body.error?.code, 'Request_BadRequest');
        assert.match(res.body.error?.message ?? '', message);
      }
      assert.equal((await findUserByUpn(server.store.db, server.tenantId, upn))!.account_enabled, 1, 'disableAccount never ran');
      assert.equal((await audits(server)).length, n);
      assert.deepEqual(await server.store.db.selectFrom('playbook_runs').selectAll().where('id', '=', runId).executeTakeFirstOrThrow(), row);
    });

    test("one new runId started at the same moment for two users: one run, and the other start is refused as another user's run", async () => {
      const a = await createUser(server.store.db, { tenantId: server.tenantId, upn: `pbrace-a@${server.tenantDomain}`, displayName: 'pbrace-a', password: PW });
      const b = await createUser(server.store.db, { tenantId: server.tenantId, upn: `pbrace-b@${server.tenantDomain}`, displayName: 'pbrace-b', password: PW });
      const admin = (await findUserByUpn(server.store.db, server.tenantId, `admin@${server.tenantDomain}`))!;
      const actor: Actor = { kind: 'user', id: admin.id, displayName: admin.display_name, upn: admin.upn, roles: ['Global Administrator'], scopes: ['Directory.AccessAsUser.All'] };
      const ctx: ActionContext = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
      const input = parsePlaybookInput({ steps: ['revokeSessions'] });
      // both starts read "no such run" before either writes it
      const [ra, rb] = await Promise.allSettled([startRun(ctx, actor, a.id, input, 'race-run-0001'), startRun(ctx, actor, b.id, input, 'race-run-0001')]);
      const row = await server.store.db.selectFrom('playbook_runs').selectAll().where('id', '=', 'race-run-0001').executeTakeFirstOrThrow();
      const [won, lost] = row.target_id === a.id ? [ra, rb] : [rb, ra];
      assert.equal(won.status, 'fulfilled');
      assert.equal(lost.status, 'rejected', 'the start for the other user is refused');
      const e = (lost as PromiseRejectedResult).reason as unknown;
      assert.ok(e instanceof ActionError && e.code === 'invalid', String(e));
      assert.equal((e as ActionError).message, "Playbook run 'race-run-0001' is another user's run.");
    });

    test('bad input and rights: unknown steps, malformed bodies, unknown runs, another caller: clear errors, nothing changed', async () => {
      const upn = `pbbad@${server.tenantDomain}`;
      await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: 'pbbad', password: PW });
      const n = (await audits(server)).length;
      const runs = await server.store.db.selectFrom('playbook_runs').select('id').execute();
      const cases: [unknown, number, string, RegExp][] = [
        [{ dryRun: true, steps: ['revokeSessions', 'formatDisk'] }, 400, 'Request_BadRequest', /Step 'formatDisk' is not a playbook step/],
        [{ dryRun: true, steps: [] }, 400, 'Request_BadRequest', /'steps' must be a non-empty array/],
        [{ dryRun: true, steps: 'revokeSessions' }, 400, 'Request_BadRequest', /'steps' must be a non-empty array/],
        [{ dryRun: true, steps: ['revokeSessions', 'revokeSessions'] }, 400, 'Request_BadRequest', /names a step twice/],
        [{ dryRun: true, bogus: 1 }, 400, 'Request_BadRequest', /'bogus' is not an input of the playbook/],
        [{ dryRun: false, steps: ['revokeSessions'], deleteMethodIds: ['x'] }, 400, 'Request_BadRequest', /needs the step 'requireReregisterMfa'/],
        [{ dryRun: false, steps: ['requireReregisterMfa'], deleteMethodIds: ['no-such-method'] }, 404, 'Request_ResourceNotFound', /no-such-method/],
        [{ dryRun: false, runId: 'x' }, 400, 'Request_BadRequest', /'runId' must be/],
        [{ steps: ['revokeSessions'] }, 400, 'BadRequest', /'dryRun' is required/],
        [[1], 400, 'BadRequest', /JSON object/],
      ];
      for (const [body, status, code, message] of cases) {
        const res = await api(server, adminToken, `/users/${upn}/playbook`, body);
        assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
        assert.equal((res.body as unknown as { error: { code: string } }).error.code, code);
        assert.match((res.body as unknown as { error: { message: string } }).error.message, message);
      }
      assert.equal((await api(server, adminToken, '/playbook-runs/00000000-0000-0000-0000-000000000000')).status, 404);
      assert.equal((await api(server, adminToken, '/playbook-runs/00000000-0000-0000-0000-000000000000/resume', {})).status, 404);
      assert.equal((await api(server, adminToken, `/users/nobody@${server.tenantDomain}/playbook`, { dryRun: true })).status, 404);
      assert.equal((await audits(server)).length, n);
      assert.deepEqual(await server.store.db.selectFrom('playbook_runs').select('id').execute(), runs);
    });

    test('who may run the playbook: the Revoke sessions table (literal), never on oneself', async () => {
      const ctx: ActionContext = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
      const targets = new Map<string, string>();
      for (const [i, role] of TARGETS.entries()) targets.set(role, (await createUser(server.store.db, { tenantId: server.tenantId, upn: `pbt${i}@${server.tenantDomain}`, displayName: `pbt${i}`, password: PW, roles: role === PLAIN ? [] : [role] })).id);
      const only = parsePlaybookInput({ steps: ['revokeSessions'] });
      for (const [actorRole, allowed] of Object.entries(TABLE)) {
        const actor: Actor = { kind: 'user', id: crypto.randomUUID(), displayName: actorRole, upn: 'a@x', roles: [actorRole], scopes: ['Directory.AccessAsUser.All'] };
        for (const role of TARGETS) {
          const code: string = await previewPlaybook(ctx, actor, targets.get(role)!, only).then(() => 'ok', (e: unknown) => (e instanceof ActionError ? e.code : String(e)));
          assert.equal(code, allowed.includes(role) ? 'ok' : 'forbidden', `${actorRole} on ${role}`);
        }
      }
      // a Helpdesk Administrator may revoke a plain user's sessions but not manage methods: the dry run says
      // which step it may not apply, and apply is refused before anything changes
      const hd: Actor = { kind: 'user', id: crypto.randomUUID(), displayName: HA, upn: 'hd@x', roles: [HA], scopes: ['Directory.AccessAsUser.All'] };
      const p = await previewPlaybook(ctx, hd, targets.get(PLAIN)!, parsePlaybookInput({}));
      assert.deepEqual(p.steps.filter((s) => !s.allowed).map((s) => s.step), ['disableAccount', 'requireReregisterMfa', 'revokeMfaSessions', 'registrationPolicy', 'createTap', 'enableAccount']);
      assert.ok(p.warnings.some((w) => /Step 2 \(requireReregisterMfa\) cannot be applied/.test(w)));
      const n = (await audits(server)).length;
      await assert.rejects(startRun(ctx, hd, targets.get(PLAIN)!, parsePlaybookInput({})), (e: unknown) => e instanceof ActionError && e.code === 'forbidden' && /Step 1 \(disableAccount\)/.test(e.message));
      assert.equal((await audits(server)).length, n);
      // never on oneself
      const admin = (await findUserByUpn(server.store.db, server.tenantId, `admin@${server.tenantDomain}`))!;
      const self = await api(server, adminToken, `/users/${admin.id}/playbook`, { dryRun: true, steps: ['revokeSessions'] });
      assert.equal(self.status, 403, self.text);
    });
  });
}

/** Starts a new instance on the data of `old` (closed), at the same port: the same origin and issuer. */
async function serverOnSame(old: TestServer & RunningServer, port: number) {
  return async () => {
    const config = { ...old.config, port };
    const s = await startServer(config);
    await answering(`${s.origin}/${s.tenantId}/v2.0/.well-known/openid-configuration`);
    return Object.assign(s, { dataDir: old.dataDir, dbKind: old.dbKind, tenantUrl: `${s.origin}/${s.tenantId}` }) as RunningServer & TestServer;
  };
}

/**
 * Waits until a restarted server answers on its port: a client connection kept alive to the closed
 * instance may fail its next request once (fetch failed) before the client sees the close. Every failure
 * but the last is dropped; the last is thrown with its cause.
 */
async function answering(url: string) {
  let last: unknown;
  for (let i = 0; i < 20; i++) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = new Error(`${url} answered ${res.status}`);
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the restarted server does not answer: ${String(last)} (${String((last as { cause?: unknown })?.cause)})`);
}

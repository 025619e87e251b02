// /latchkey/v1 over HTTPS with Latchkey-issued Graph tokens (spec D21, §5 "Preview"): a dry run keeps a
// plan server-side and returns the preview with its lists paged; apply changes exactly that plan once;
// an expired, stale or already-applied plan is a 412 and changes nothing; a plan holds no password;
// GET .../actions agrees with what a dry run allows; tenant settings are read and changed (audited);
// every refusal is in Graph's error shape and changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { sweepExpired } from '../src/storage/oidc-adapter.js';
import { appGraphToken, consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const PW = 'Api-Test-Actor-Pw-31';

interface GraphErrorBody {
  error: { code: string; message: string; innerError: { date: string; 'request-id': string; 'client-request-id': string } };
}
interface PlanBody {
  planId: string;
  action: string;
  createdDateTime: string;
  expiresDateTime: string;
  appliedDateTime: string | null;
  preview: { action: string; target: { id: string; userPrincipalName: string }; ending: { id: string }[]; surviving: { id: string }[]; endingCount: number; survivingCount: number; 'ending@odata.nextLink'?: string; changes: { property: string }[] };
}
interface ResultBody {
  planId: string;
  appliedDateTime: string;
  ended: { id: string }[];
  newPassword?: string;
}
interface ActionsBody {
  value: { name: string; allowed: boolean; reason?: string; missingRight?: string }[];
}

function assertGraphError(status: number, body: unknown, expectStatus: number, code: string, what: string): GraphErrorBody {
  assert.equal(status, expectStatus, `${what}: ${JSON.stringify(body)}`);
  const b = body as GraphErrorBody;
  assert.equal(b.error?.code, code, what);
  assert.equal(typeof b.error.message, 'string', what);
  assert.ok(b.error.innerError['request-id'], what);
  assert.ok(b.error.innerError.date, what);
  return b;
}

for (const dbKind of await databases()) {
  describe(`/latchkey/v1 (${dbKind})`, () => {
    let server: TestServer;
    let appToken: string;
    let adminToken: string;
    let helpdeskToken: string;
    let privAuthToken: string;
    const domain = () => server.tenantDomain;
    const db = () => server.store.db;

    const api = async (path: string, init: { method?: string; body?: unknown; raw?: string; token?: string; headers?: Record<string, string> } = {}) => {
      const body = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
      const res = await fetch(path.startsWith('https://') ? path : `${server.origin}/latchkey/v1${path}`, {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers: { authorization: `Bearer ${init.token ?? adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
        body,
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
    };
    const dryRun = (upn: string, action: string, input: Record<string, unknown> = {}, token?: string, query = '') => api(`/users/${upn}/actions/${action}${query}`, { body: { dryRun: true, ...input }, token });
    const applyPlan = (planId: string, token?: string) => api(`/plans/${planId}/apply`, { method: 'POST', token });
    const audits = async () => (await db().selectFrom('audit_log').select(['activity', 'target_name']).orderBy('id').execute()).map((a) => `${a.activity} ${a.target_name}`);
    const newUser = async (name: string, roles: string[] = []) => createUser(db(), { tenantId: server.tenantId, upn: `${name}@${domain()}`, displayName: name, password: PW, roles });

    before(async () => {
      server = await startTestServer(dbKind);
      appToken = await appGraphToken(server, DEMO.automationAppId, 'automation-secret-value');
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      await newUser('helpdesk', ['Helpdesk Administrator']);
      helpdeskToken = await delegatedGraphToken(server, `helpdesk@${server.tenantDomain}`, PW);
      await newUser('privauth', ['Privileged Authentication Administrator']);
      privAuthToken = await delegatedGraphToken(server, `privauth@${server.tenantDomain}`, PW);
    });
    after(async () => {
      await server?.close();
    });

    test('a dry run keeps a plan and changes nothing; apply changes exactly it, audited; a second apply is a 412 and changes nothing', async () => {
      const upn = `dave@${domain()}`;
      await newUser('dave');
      const before = await findUserByUpn(db(), server.tenantId, upn);
      const auditBefore = await audits();
      const t0 = Date.now();
      const dry = await dryRun(upn, 'revokeSessions');
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
      const plan = dry.body as PlanBody;
      assert.equal(plan.action, 'revokeSessions');
      assert.equal(plan.preview.target.userPrincipalName, upn);
      assert.equal(plan.appliedDateTime, null);
      // the default lifetime: 10 minutes
      const life = Date.parse(plan.expiresDateTime) - Date.parse(plan.createdDateTime);
      assert.equal(life, 600_000);
      assert.ok(Date.parse(plan.createdDateTime) >= t0 - 5);
      assert.equal(dry.headers.get('location'), `${server.origin}/latchkey/v1/plans/${plan.planId}`);
      assert.deepEqual(await findUserByUpn(db(), server.tenantId, upn), before, 'a dry run writes nothing to the user');
      assert.deepEqual(await audits(), auditBefore, 'a dry run is not audited');
      const row = await db().selectFrom('admin_plans').selectAll().where('id', '=', plan.planId).executeTakeFirstOrThrow();
      assert.equal(row.applied_at, null);
      assert.equal(row.action, 'revokeSessions');

      const got = await api(`/plans/${plan.planId}`);
      assert.equal(got.status, 200);
      assert.deepEqual((got.body as PlanBody).preview, plan.preview, 'the stored plan reads back as previewed');

      const applied = await applyPlan(plan.planId);
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.equal((applied.body as ResultBody).planId, plan.planId);
      const afterApply = (await findUserByUpn(db(), server.tenantId, upn))!;
      assert.ok(afterApply.sign_in_sessions_valid_from > before!.sign_in_sessions_valid_from);
      assert.deepEqual(await audits(), [...auditBefore, `Update StsRefreshTokenValidFrom Timestamp ${upn}`]);

      const again = await applyPlan(plan.planId);
      const err = assertGraphError(again.status, again.body, 412, 'PreconditionFailed', 'second apply');
      assert.match(err.error.message, /already applied/);
      assert.deepEqual(await findUserByUpn(db(), server.tenantId, upn), afterApply, 'the second apply changes nothing');
      assert.deepEqual(await audits(), [...auditBefore, `Update StsRefreshTokenValidFrom Timestamp ${upn}`]);
      assert.equal(typeof ((await api(`/plans/${plan.planId}`)).body as PlanBody).appliedDateTime, 'string');
    });

    test('two concurrent applies of one plan: exactly one succeeds, the user changes once', async () => {
      const upn = `erin@${domain()}`;
      await newUser('erin');
      const plan = (await dryRun(upn, 'disableAccount')).body as PlanBody;
      const [a, b] = await Promise.all([applyPlan(plan.planId), applyPlan(plan.planId)]);
      assert.deepEqual([a.status, b.status].sort(), [200, 412]);
      const rows = await db().selectFrom('audit_log').select('activity').where('target_name', '=', upn).execute();
      assert.deepEqual(rows.map((r) => r.activity), ['Disable account']);
      assert.equal((await findUserByUpn(db(), server.tenantId, upn))!.account_enabled, 0);
    });

    test('dryRun false plans and applies at once; a generated password is returned once and kept nowhere', async () => {
      const upn = `frank@${domain()}`;
      await newUser('frank');
      const res = await api(`/users/${upn}/actions/resetPassword`, { body: { dryRun: false } });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const result = res.body as ResultBody;
      assert.match(result.newPassword ?? '', /^\S{16}$/);
      const user = (await findUserByUpn(db(), server.tenantId, upn))!;
      assert.equal(user.force_change_password, 1);
      assert.match(user.password_hash ?? '', /^\$argon2id\$/);
      assert.deepEqual(await db().selectFrom('admin_plans').select('id').where('target_id', '=', user.id).execute(), [], 'no plan is kept for plan-and-apply');

      // a dry run of a generated reset: the plan has no password at all; apply returns it once
      const plan = (await dryRun(upn, 'resetPassword')).body as PlanBody;
      const row = await db().selectFrom('admin_plans').selectAll().where('id', '=', plan.planId).executeTakeFirstOrThrow();
      assert.doesNotMatch(row.plan, /password_hash|argon2/);
      const applied = (await applyPlan(plan.planId)).body as ResultBody;
      assert.match(applied.newPassword ?? '', /^\S{16}$/);
      assert.notEqual(applied.newPassword, result.newPassword);
      const stored = await db().selectFrom('admin_plans').select('plan').where('id', '=', plan.planId).executeTakeFirstOrThrow();
      assert.ok(!stored.plan.includes(applied.newPassword!), 'the generated password is not written to the plan');
      assert.ok(!JSON.stringify((await api(`/plans/${plan.planId}`)).body).includes(applied.newPassword!));
    });

    test('a plan with an admin-chosen password keeps only its argon2id hash, and apply writes that hash', async () => {
      const upn = `grace@${domain()}`;
      await newUser('grace');
      const chosen = 'Chosen-By-Admin-Pw-77';
      const dry = await dryRun(upn, 'resetPassword', { newPassword: chosen, forceChangePasswordNextSignIn: false });
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
      const plan = dry.body as PlanBody;
      assert.ok(!JSON.stringify(plan).includes(chosen), 'the preview does not show the password');
      const row = await db().selectFrom('admin_plans').selectAll().where('id', '=', plan.planId).executeTakeFirstOrThrow();
      const everything = JSON.stringify(row);
      assert.ok(!everything.includes(chosen), 'the plan row does not hold the password');
      const hash = (JSON.parse(row.plan) as { patch: { password_hash?: string } }).patch.password_hash;
      assert.match(hash ?? '', /^\$argon2id\$/);
      const applied = await applyPlan(plan.planId);
      assert.equal(applied.status, 200);
      assert.equal((applied.body as ResultBody).newPassword, undefined, 'a chosen password is not echoed');
      const user = (await findUserByUpn(db(), server.tenantId, upn))!;
      assert.equal(user.password_hash, hash);
      assert.equal(user.force_change_password, 0);
    });

    test('an expired plan is a 412 and changes nothing; the sweeper deletes it', async () => {
      const upn = `heidi@${domain()}`;
      await newUser('heidi');
      const plan = (await dryRun(upn, 'disableAccount')).body as PlanBody;
      await db().updateTable('admin_plans').set({ expires_at: Date.now() - 1 }).where('id', '=', plan.planId).execute();
      const before = await findUserByUpn(db(), server.tenantId, upn);
      const auditBefore = await audits();
      const res = await applyPlan(plan.planId);
      const err = assertGraphError(res.status, res.body, 412, 'PreconditionFailed', 'expired plan');
      assert.match(err.error.message, /expired/);
      assert.deepEqual(await findUserByUpn(db(), server.tenantId, upn), before);
      assert.deepEqual(await audits(), auditBefore);
      await sweepExpired(db());
      assert.equal(await db().selectFrom('admin_plans').select('id').where('id', '=', plan.planId).executeTakeFirst(), undefined);
      assertGraphError((await applyPlan(plan.planId)).status, (await applyPlan(plan.planId)).body, 404, 'Request_ResourceNotFound', 'swept plan');
    });

    test('a stale plan (the user changed since the preview) is a 412 and changes nothing; the plan stays unapplied', async () => {
      const upn = `ivan@${domain()}`;
      const ivan = await newUser('ivan');
      const plan = (await dryRun(upn, 'disableAccount')).body as PlanBody;
      // the user changes between preview and apply: a role assigned
      await db().insertInto('user_roles').values({ user_id: ivan.id, role: 'Reports Reader' }).execute();
      const before = await findUserByUpn(db(), server.tenantId, upn);
      const auditBefore = await audits();
      const res = await applyPlan(plan.planId);
      assertGraphError(res.status, res.body, 412, 'PreconditionFailed', 'stale plan');
      assert.deepEqual(await findUserByUpn(db(), server.tenantId, upn), before);
      assert.equal(before!.account_enabled, 1);
      assert.deepEqual(await audits(), auditBefore);
      assert.equal((await db().selectFrom('admin_plans').select('applied_at').where('id', '=', plan.planId).executeTakeFirstOrThrow()).applied_at, null);

      // a password changed since the preview makes it stale too
      const plan2 = (await dryRun(upn, 'revokeSessions')).body as PlanBody;
      await api(`/users/${upn}/actions/resetPassword`, { body: { dryRun: false } });
      assertGraphError((await applyPlan(plan2.planId)).status, (await applyPlan(plan2.planId)).body, 412, 'PreconditionFailed', 'stale after a reset');
    });

    test('only the caller who made a plan may read or apply it', async () => {
      const upn = `judy@${domain()}`;
      await newUser('judy');
      const plan = (await dryRun(upn, 'revokeSessions', {}, appToken)).body as PlanBody;
      const before = await findUserByUpn(db(), server.tenantId, upn);
      const other = await applyPlan(plan.planId, adminToken);
      assertGraphError(other.status, other.body, 403, 'Authorization_RequestDenied', 'apply by another caller');
      assertGraphError((await api(`/plans/${plan.planId}`, { token: adminToken })).status, (await api(`/plans/${plan.planId}`, { token: adminToken })).body, 403, 'Authorization_RequestDenied', 'read by another caller');
      assert.deepEqual(await findUserByUpn(db(), server.tenantId, upn), before);
      assert.equal((await applyPlan(plan.planId, appToken)).status, 200);
    });

    test("a preview's lists are paged: $top on the dry run, then @odata.nextLink to the end", async () => {
      const upn = `kim@${domain()}`;
      await newUser('kim');
      // three sign-ins: three browser sessions and three refresh-token grants
      for (let i = 0; i < 3; i++) await delegatedGraphToken(server, upn, PW);
      const plan = (await dryRun(upn, 'revokeSessions', {}, undefined, '?$top=2')).body as PlanBody;
      assert.equal(plan.preview.endingCount, 6);
      assert.equal(plan.preview.ending.length, 2);
      const ids = plan.preview.ending.map((l) => l.id);
      let next = plan.preview['ending@odata.nextLink'];
      while (next) {
        const page = await api(next);
        assert.equal(page.status, 200, JSON.stringify(page.body));
        const b = page.body as { value: { id: string }[]; '@odata.nextLink'?: string };
        assert.ok(b.value.length <= 2);
        ids.push(...b.value.map((l) => l.id));
        next = b['@odata.nextLink'];
      }
      const all = (await api(`/plans/${plan.planId}/ending?$top=100`)).body as { value: { id: string }[]; '@odata.nextLink'?: string };
      assert.deepEqual(ids, all.value.map((l) => l.id));
      assert.equal(new Set(ids).size, 6);
      assert.equal(all['@odata.nextLink'], undefined);
      assertGraphError((await api(`/plans/${plan.planId}/ending?$skiptoken=garbage`)).status, (await api(`/plans/${plan.planId}/ending?$skiptoken=garbage`)).body, 400, 'BadRequest', 'altered skiptoken');
      // the plan keeps the first page it was asked for: apply lists the sessions it ended and that page's
      // grants, counts them all, and links to the rest of the plan's ending list
      const applied = (await applyPlan(plan.planId)).body as ResultBody & { endedCount: number; 'ended@odata.nextLink'?: string };
      assert.equal(applied.endedCount, 6);
      const endedIds = applied.ended.map((l) => l.id);
      assert.equal(new Set(endedIds).size, endedIds.length);
      assert.match(applied['ended@odata.nextLink'] ?? '', new RegExp(`/latchkey/v1/plans/${plan.planId}/ending\\?\\$skiptoken=`));
      assert.equal(applied.ended.filter((l) => (l as { kind?: string }).kind === 'session').length, 3, 'the three browser sessions are listed');
      const rest: string[] = [];
      next = applied['ended@odata.nextLink'];
      while (next) {
        const b = (await api(next)).body as { value: { id: string }[]; '@odata.nextLink'?: string };
        rest.push(...b.value.map((l) => l.id));
        next = b['@odata.nextLink'];
      }
      assert.deepEqual([...new Set([...endedIds, ...rest])].sort(), [...ids].sort(), 'apply ends exactly what the preview listed');
    });

    test('malformed requests are refused in Graph’s shape and change nothing', async () => {
      const upn = `bob@${domain()}`;
      const before = await findUserByUpn(db(), server.tenantId, upn);
      const auditBefore = await audits();
      const plansBefore = (await db().selectFrom('admin_plans').select('id').execute()).length;
      const cases: [string, Promise<{ status: number; body: unknown }>, number, string, RegExp?][] = [
        ['not JSON', api(`/users/${upn}/actions/revokeSessions`, { raw: '{"dryRun": tru' }), 400, 'BadRequest'],
        ['a JSON array', api(`/users/${upn}/actions/revokeSessions`, { body: [true] }), 400, 'BadRequest'],
        ['no body', api(`/users/${upn}/actions/revokeSessions`, { method: 'POST' }), 400, 'BadRequest'],
        ['dryRun missing', api(`/users/${upn}/actions/revokeSessions`, { body: {} }), 400, 'BadRequest', /dryRun/],
        ['dryRun a string', api(`/users/${upn}/actions/revokeSessions`, { body: { dryRun: 'yes' } }), 400, 'BadRequest', /dryRun/],
        ['newPassword a number', dryRun(upn, 'resetPassword', { newPassword: 5 }), 400, 'Request_BadRequest', /newPassword/],
        ['force flag a string', dryRun(upn, 'setPasswordProfile', { forceChangePasswordNextSignIn: 'true' }), 400, 'Request_BadRequest', /forceChangePasswordNextSignIn/],
        ['unknown input property', dryRun(upn, 'revokeSessions', { everywhere: true }), 400, 'Request_BadRequest', /everywhere/],
        ['weak chosen password', dryRun(upn, 'resetPassword', { newPassword: 'short' }), 400, 'Request_BadRequest'],
        // a lone surrogate (JSON can carry one, no keyboard can type it): refused as Graph refuses it
        ['chosen password with a lone high surrogate', dryRun(upn, 'resetPassword', { newPassword: '\ud800Abcdefgh-1x' }), 400, 'Request_BadRequest', /newPassword.*not allowed/],
        ['profile password with a lone low surrogate', dryRun(upn, 'setPasswordProfile', { password: 'Abcdefgh-1x\udfff' }), 400, 'Request_BadRequest', /password.*not allowed/],
        ['unknown action', dryRun(upn, 'frobnicate'), 404, 'ResourceNotFound', /frobnicate/],
        ['unknown user', dryRun(`nobody@${domain()}`, 'revokeSessions'), 404, 'Request_ResourceNotFound'],
        ['unknown plan', applyPlan('00000000-0000-0000-0000-000000000000'), 404, 'Request_ResourceNotFound'],
        ['apply with input', api('/plans/00000000-0000-0000-0000-000000000000/apply', { body: { newPassword: 'x' } }), 400, 'BadRequest'],
        ['unknown route', api('/users/bob/nothing-here'), 404, 'ResourceNotFound'],
        ['wrong method', api(`/users/${upn}/actions/revokeSessions`), 404, 'ResourceNotFound'],
        ['unknown query option', dryRun(upn, 'revokeSessions', {}, undefined, '?$expand=x'), 400, 'BadRequest', /\$expand/],
        ['bad $top', dryRun(upn, 'revokeSessions', {}, undefined, '?$top=0'), 400, 'BadRequest'],
        ['form body', api(`/users/${upn}/actions/revokeSessions`, { raw: 'dryRun=false', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'UnsupportedMediaType'],
        ['body too large', api(`/users/${upn}/actions/revokeSessions`, { raw: JSON.stringify({ dryRun: false, pad: 'x'.repeat(64 * 1024) }) }), 413, 'RequestEntityTooLarge'],
        ['no token', api(`/users/${upn}/actions/revokeSessions`, { body: { dryRun: false }, token: '' }), 401, 'InvalidAuthenticationToken'],
        ['garbage token', api(`/users/${upn}/actions/revokeSessions`, { body: { dryRun: false }, token: 'abc.def.ghi' }), 401, 'InvalidAuthenticationToken'],
      ];
      for (const [what, p, status, code, message] of cases) {
        const r = await p;
        const err = assertGraphError(r.status, r.body, status, code, what);
        if (message) assert.match(err.error.message, message, what);
      }
      assert.deepEqual(await findUserByUpn(db(), server.tenantId, upn), before);
      assert.deepEqual(await audits(), auditBefore);
      assert.equal((await db().selectFrom('admin_plans').select('id').execute()).length, plansBefore);
    });

    test('GET .../actions agrees with what a dry run allows or refuses, action by action', async () => {
      await newUser('lee', ['Global Reader']);
      const inputs: Record<string, Record<string, unknown>> = { setPasswordProfile: { forceChangePasswordNextSignIn: true }, deleteMethod: { methodId: '00000000-0000-0000-0000-000000000000' }, setPerUserMfa: { state: 'disabled' }, endSession: { sessionId: 'no-such-session' }, endGrant: { grantId: 'no-such-grant' } };
      const pairs: [string, string, string][] = [
        ['Global Administrator', adminToken, `bob@${domain()}`],
        ['Global Administrator on self', adminToken, `admin@${domain()}`],
        ['app without a directory role', appToken, `bob@${domain()}`],
        ['Helpdesk Administrator', helpdeskToken, `bob@${domain()}`],
        ['Helpdesk Administrator on a Global Reader', helpdeskToken, `lee@${domain()}`],
        ['Privileged Authentication Administrator on the only Global Administrator', privAuthToken, `admin@${domain()}`],
      ];
      const seen = { allowed: 0, refused: 0 };
      for (const [who, token, upn] of pairs) {
        const list = await api(`/users/${upn}/actions`, { token });
        assert.equal(list.status, 200, `${who}: ${JSON.stringify(list.body)}`);
        const value = (list.body as ActionsBody).value;
        assert.deepEqual(value.map((a) => a.name).sort(), ['createTap', 'deleteMethod', 'deleteUser', 'disableAccount', 'enableAccount', 'requireReregisterMfa', 'resetPassword', 'revokeMfaSessions', 'revokeSessions', 'setPasswordProfile', 'setPerUserMfa', 'viewMethodsPolicy', 'endSession', 'endGrant'].sort());
        for (const a of value) {
          // View authentication methods policy is a read: its GET, not a dry run, is what it allows
          const dry = a.name === 'viewMethodsPolicy' ? await api(`/users/${upn}/methodsPolicy`, { token }) : await dryRun(upn, a.name, inputs[a.name] ?? {}, token);
          if (a.allowed) {
            // deleting a method no user has: the rights pass, then the method is not found
            if (a.name === 'deleteMethod' && dry.status === 404) continue;
            // ending a session or a grant the user does not hold: the rights pass, then it is not found
            if ((a.name === 'endSession' || a.name === 'endGrant') && dry.status === 404) continue;
            assert.equal(dry.status, 200, `${who} / ${a.name}: GET says allowed, dry run said ${JSON.stringify(dry.body)}`);
            seen.allowed++;
          } else {
            assert.ok([400, 403].includes(dry.status), `${who} / ${a.name}: GET says refused (${a.reason}), dry run answered ${dry.status}`);
            assert.equal((dry.body as GraphErrorBody).error.message, a.reason, `${who} / ${a.name}: the same reason`);
            seen.refused++;
          }
        }
      }
      assert.ok(seen.allowed > 5 && seen.refused > 5, JSON.stringify(seen));
      // the reasons name what is missing
      const onSelf = ((await api(`/users/admin@${domain()}/actions`)).body as ActionsBody).value.find((a) => a.name === 'disableAccount')!;
      assert.equal(onSelf.allowed, false);
      assert.equal(onSelf.missingRight, 'not self');
      const protectedTarget = ((await api(`/users/admin@${domain()}/actions`, { token: privAuthToken })).body as ActionsBody).value.find((a) => a.name === 'deleteUser')!;
      assert.match(protectedTarget.reason ?? '', /no enabled Global Administrator/);
      const helpdesk = ((await api(`/users/lee@${domain()}/actions`, { token: helpdeskToken })).body as ActionsBody).value.find((a) => a.name === 'resetPassword')!;
      assert.match(helpdesk.missingRight ?? '', /Global Administrator/);
      assertGraphError((await api(`/users/nobody@${domain()}/actions`)).status, (await api(`/users/nobody@${domain()}/actions`)).body, 404, 'Request_ResourceNotFound', 'unknown user');
    });

    test('tenant settings: read, changed by a Global Administrator (audited); bad values name the field and change nothing', async () => {
      const got = await api('/tenant/settings');
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.deepEqual({ ...(got.body as Record<string, unknown>), lastModifiedDateTime: null }, { rememberMfaDays: 14, registrationPolicy: 'anywhere', wrongCodeLimit: 5, securityDefaultsEnabled: false, lastModifiedDateTime: null });
      const row = () => db().selectFrom('tenant_settings').selectAll().where('tenant_id', '=', server.tenantId).executeTakeFirst();
      const before = await row();
      const auditBefore = await audits();
      const bad: [unknown, RegExp][] = [
        [{ rememberMfaDays: 0 }, /rememberMfaDays/],
        [{ rememberMfaDays: 366 }, /rememberMfaDays/],
        [{ rememberMfaDays: 1.5 }, /rememberMfaDays/],
        [{ registrationPolicy: 'nowhere' }, /registrationPolicy/],
        [{ wrongCodeLimit: 'five' }, /wrongCodeLimit/],
        [{ rememberMfaDays: 30, wrongCodeLimit: 101 }, /wrongCodeLimit/],
        [{ securityDefaultsEnabled: true }, /securityDefaultsEnabled/],
        [{ colour: 'blue' }, /colour/],
        [{}, /no setting/],
        // null beside a real change: it was read as "not given" and the change applied
        [{ rememberMfaDays: null, wrongCodeLimit: 7 }, /'rememberMfaDays' cannot be null/],
        [{ registrationPolicy: null }, /'registrationPolicy' cannot be null/],
      ];
      for (const [body, field] of bad) {
        const r = await api('/tenant/settings', { method: 'PATCH', body });
        const err = assertGraphError(r.status, r.body, 400, 'Request_BadRequest', JSON.stringify(body));
        assert.match(err.error.message, field);
      }
      assert.deepEqual(await row(), before, 'nothing changed');
      assert.deepEqual(await audits(), auditBefore);
      for (const [who, token] of [['an app without a policy permission', appToken], ['a Helpdesk Administrator', helpdeskToken]] as const) {
        const r = await api('/tenant/settings', { method: 'PATCH', body: { rememberMfaDays: 30 }, token });
        assertGraphError(r.status, r.body, 403, 'Authorization_RequestDenied', who);
      }
      const ok = await api('/tenant/settings', { method: 'PATCH', body: { rememberMfaDays: 30, registrationPolicy: 'mfaOrTap' } });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
      assert.deepEqual({ ...(ok.body as Record<string, unknown>), lastModifiedDateTime: null }, { rememberMfaDays: 30, registrationPolicy: 'mfaOrTap', wrongCodeLimit: 5, securityDefaultsEnabled: false, lastModifiedDateTime: null });
      const after = (await row())!;
      assert.equal(after.remember_mfa_days, 30);
      assert.equal(after.registration_policy, 'mfaOrTap');
      assert.equal(after.wrong_code_limit, 5);
      const audit = await db().selectFrom('audit_log').selectAll().where('activity', '=', 'Update tenant settings').execute();
      assert.equal(audit.length, 1);
      assert.deepEqual(JSON.parse(audit[0]!.modified), [
        { displayName: 'rememberMfaDays', oldValue: '14', newValue: '30' },
        { displayName: 'registrationPolicy', oldValue: 'anywhere', newValue: 'mfaOrTap' },
      ]);
      assert.equal((await db().selectFrom('outbox').select('type').where('type', '=', 'tenant.settings.updated').execute()).length, 1);
      await api('/tenant/settings', { method: 'PATCH', body: { rememberMfaDays: 14, registrationPolicy: 'anywhere' } });
    });
  });
}

describe('/latchkey/v1 plan lifetime from configuration', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite', { adminPlanTtl: 90 });
  });
  after(async () => {
    await server?.close();
  });

  test('LATCHKEY_ADMIN_PLAN_TTL sets when a plan expires', async () => {
    const token = await appGraphToken(server, DEMO.automationAppId, 'automation-secret-value');
    const res = await fetch(`${server.origin}/latchkey/v1/users/bob@${server.tenantDomain}/actions/revokeSessions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ dryRun: true }) });
    assert.equal(res.status, 200);
    const plan = (await res.json()) as PlanBody;
    assert.equal(Date.parse(plan.expiresDateTime) - Date.parse(plan.createdDateTime), 90_000);
    const row = await server.store.db.selectFrom('admin_plans').selectAll().where('id', '=', plan.planId).executeTakeFirstOrThrow();
    assert.equal(row.expires_at - row.created_at, 90_000);
  });
});

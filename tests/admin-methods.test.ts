// The admin actions on authentication methods through their plan/apply: a TAP plan holds no secret and
// its preview warns that old methods stay; replacing a TAP lists the old one as deleted; an app's
// requireMfa is switched only by a Global Administrator or an app with Application.ReadWrite.All, audited
// as "Update application", and a stale plan is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActionContext } from '../src/admin/action.js';
import type { Actor } from '../src/admin/actor.js';
import * as createTap from '../src/admin/actions/create-tap.js';
import * as deleteMethod from '../src/admin/actions/delete-method.js';
import * as setAppRequireMfa from '../src/admin/actions/set-app-require-mfa.js';
import { DEMO } from '../src/directory/seed.js';
import { backchannelLogoutSubscribers } from '../src/events/backchannel-logout.js';
import { createUser } from '../src/directory/users.js';
import { Jar, authorize, pkce } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const SYSTEM = { kind: 'system', id: 'system', displayName: 'test' } as const;

for (const dbKind of await databases()) {
  describe(`admin actions on methods (${dbKind})`, () => {
    let server: TestServer;
    let ctx: ActionContext;
    const person = (roles: string[], scopes = ['Directory.AccessAsUser.All']): Actor => ({ kind: 'user', id: `actor-${roles.join('-')}`, displayName: 'actor', upn: 'actor@x', roles, scopes });

    before(async () => {
      server = await startTestServer(dbKind);
      ctx = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
    });
    after(async () => {
      await server?.close();
    });

    test('a TAP plan holds no secret; its preview warns that old methods are NOT removed; a replaced TAP is listed as deleted', async () => {
      const u = await createUser(server.store.db, { tenantId: server.tenantId, upn: `tap-${dbKind}@${server.tenantDomain}`, displayName: 'Tap', password: DEMO.demoPassword });
      const first = await createTap.plan(ctx, SYSTEM, u.id, { lifetimeInMinutes: 30 });
      assert.ok(first.preview.warnings.some((w) => /NOT removed/.test(w)), first.preview.warnings.join(' | '));
      const applied = await createTap.apply(ctx, first);
      assert.ok(applied.secret);
      assert.ok(!JSON.stringify(first).includes(applied.secret!), 'the plan never held the value');
      const second = await createTap.plan(ctx, SYSTEM, u.id);
      assert.deepEqual(second.preview.methods, [
        { id: first.input.id, type: 'temporaryAccessPass', fate: 'deleted' },
        { id: second.input.id, type: 'temporaryAccessPass', fate: 'added' },
      ]);
      assert.ok(second.preview.warnings.some((w) => w.includes(first.input.id)));
      await assert.rejects(createTap.plan(ctx, SYSTEM, u.id, { lifetimeInMinutes: 43_201 }), /lifetimeInMinutes/);
    });

    test('two TAPs applied at once from plans made together: one is created, the other plan is stale; one TAP remains', async () => {
      const u = await createUser(server.store.db, { tenantId: server.tenantId, upn: `tap-race-${dbKind}@${server.tenantDomain}`, displayName: 'Race', password: DEMO.demoPassword });
      for (let round = 0; round < 3; round++) {
        const plans = await Promise.all([createTap.plan(ctx, SYSTEM, u.id), createTap.plan(ctx, SYSTEM, u.id)]);
        const outcomes = await Promise.allSettled(plans.map((p) => createTap.apply(ctx, p)));
        assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, `round ${round}`);
        const refused = outcomes.find((o) => o.status === 'rejected');
        assert.match(String(refused?.reason), /changed since the preview/);
        const taps = await server.store.db.selectFrom('auth_methods').select('id').where('user_id', '=', u.id).execute();
        assert.equal(taps.length, 1, `round ${round}: one TAP per user`);
      }
    });

    test('an app’s requireMfa: Global Administrator or Application.ReadWrite.All only, audited, stale plans refused', async () => {
      const appId = DEMO.apiAppId;
      const requireMfa = async () => (await server.store.db.selectFrom('apps').select('require_mfa').where('id', '=', appId).executeTakeFirstOrThrow()).require_mfa;
      for (const actor of [person(['Authentication Administrator']), person(['Privileged Authentication Administrator']), person(['Global Administrator'], ['User.Read.All']), { kind: 'app', id: 'a', displayName: 'a', roles: [], permissions: ['User.ReadWrite.All'] } as Actor]) {
        await assert.rejects(setAppRequireMfa.plan(ctx, actor, appId, { requireMfa: true }), (e: Error & { code?: string }) => e.code === 'forbidden', JSON.stringify(actor));
      }
      assert.equal(await requireMfa(), 0);
      const plan = await setAppRequireMfa.plan(ctx, person(['Global Administrator']), appId, { requireMfa: true });
      assert.deepEqual(plan.preview.changes, [{ property: 'requireMfa', oldValue: 'false', newValue: 'true' }]);
      await setAppRequireMfa.apply(ctx, plan);
      assert.equal(await requireMfa(), 1);
      const audit = await server.store.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      assert.deepEqual([audit.activity, audit.target_id, audit.category], ['Update application', appId, 'ApplicationManagement']);
      const event = await server.store.db.selectFrom('outbox').selectAll().where('type', '=', 'app.require_mfa.updated').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(event.payload), { appId, requireMfa: true });
      // made before the change above: stale
      const byApp = await setAppRequireMfa.plan(ctx, { kind: 'app', id: 'a', displayName: 'a', roles: [], permissions: ['Application.ReadWrite.All'] }, appId, { requireMfa: false });
      await server.store.db.updateTable('apps').set({ display_name: 'Renamed API' }).where('id', '=', appId).execute();
      await assert.rejects(setAppRequireMfa.apply(ctx, byApp), /changed since the preview/);
      assert.equal(await requireMfa(), 1);
      await assert.rejects(setAppRequireMfa.plan(ctx, SYSTEM, 'no-such-app', { requireMfa: true }), /does not exist/);
      // back as it was for the other tests (the demo native app's sign-ins reach this API)
      await setAppRequireMfa.apply(ctx, await setAppRequireMfa.plan(ctx, SYSTEM, appId, { requireMfa: false }));
    });

    test('a deleted TAP’s event fans out to back-channel logout; a deleted method that ended no session is not a delivery failure', async () => {
      const subs = backchannelLogoutSubscribers({ db: server.store.db, provider: server.provider, outbound: { allowPrivate: true } });
      const fan = subs['user.method.deleted']!;
      const event = (payload: unknown) => ({ id: 1, tenantId: server.tenantId, type: 'user.method.deleted', payload, at: Date.now(), attempt: 1 });
      assert.deepEqual(await fan(event({ userId: 'u', methodId: 'm', type: 'softwareOath' })), {});
      assert.deepEqual(await fan(event({ userId: 'u', tapId: 't', sessions: [{ sessionUid: 's', apps: [{ clientId: 'no-such-app', sid: 'sid' }] }] })), { followUps: [] });
    });

    test('deleting a TAP previews and ends the live browser session born of it, with the sid each app holds for back-channel logout', async () => {
      const upn = `tap-live-${dbKind}@${server.tenantDomain}`;
      const u = await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: 'Live', password: DEMO.demoPassword });
      const jar = new Jar();
      const params = (extra: Record<string, string> = {}) => ({ client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: 'http://localhost:5999', scope: 'openid', code_challenge: pkce().challenge, code_challenge_method: 'S256', ...extra });
      const signedIn = await authorize(server, jar, params(), { user: upn, password: DEMO.demoPassword });
      assert.ok(signedIn.redirect?.searchParams.get('code'), 'signed in');
      const tap = await createTap.apply(ctx, await createTap.plan(ctx, SYSTEM, u.id));
      // the session as a TAP sign-in records it (spec §1: the TAP a session came from)
      await server.store.db.updateTable('signin_sessions').set({ tap_id: tap.method.id }).where('user_id', '=', u.id).execute();
      const plan = await deleteMethod.plan(ctx, SYSTEM, u.id, { methodId: tap.method.id });
      assert.equal(plan.preview.ending.length, 1, 'the preview lists the session born of the TAP');
      assert.equal(plan.preview.ending[0]!.refusal, 'sessions_revoked');
      const result = await deleteMethod.apply(ctx, plan);
      assert.deepEqual(result.ended.map((l) => l.id), plan.preview.ending.map((l) => l.id));
      const event = await server.store.db.selectFrom('outbox').selectAll().where('type', '=', 'user.method.deleted').orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
      const payload = JSON.parse(event.payload) as { tapId: string; sessions: { sessionUid: string; apps: { clientId: string; sid: string }[] }[] };
      assert.equal(payload.tapId, tap.method.id);
      assert.equal(payload.sessions.length, 1);
      assert.equal(payload.sessions[0]!.apps[0]?.clientId, DEMO.nativeAppId);
      assert.ok(payload.sessions[0]!.apps[0]?.sid, 'the sid the app holds');
      // the browser's session is over: a silent authorize needs a sign-in
      const silent = await authorize(server, jar, params({ prompt: 'none' }), { user: upn, password: DEMO.demoPassword });
      assert.equal(silent.redirect?.searchParams.get('error'), 'login_required');
    });
  });
}

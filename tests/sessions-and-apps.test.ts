// The user's sessions and apps at /latchkey/v1 (spec D25): the lists of live browser sessions and
// refresh-token grants (paged), and ending exactly one of them with endSession / endGrant (plan/apply,
// audited, outbox event). Ending a session kills it with its codes and signs the demo portal out of it by
// back-channel logout; ending a grant kills its refresh-token chain and its access tokens at Latchkey's
// own routes. Only that one dies: the user's other session still gets a code with prompt=none and the
// other grant still refreshes. Rights are Revoke sessions' (a literal table); bad input changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import * as endGrant from '../src/admin/actions/end-grant.js';
import * as endSession from '../src/admin/actions/end-session.js';
import { type ActionContext, ActionError } from '../src/admin/action.js';
import type { Actor } from '../src/admin/actor.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser } from '../src/directory/users.js';
import { Jar, authorize, consentNativeAppToGraph, delegatedGraphToken, pkce, token, demoPortalSignIn as signInToDemoPortal } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { GA, HA, PLAIN, REVOKE_TABLE as TABLE, REVOKE_TARGETS as TARGETS } from './helpers/revoke-rights.js';
import { eventually } from './helpers/eventually.js';

const PW = 'Sessions-Apps-Pw-44';
const REDIRECT = 'http://localhost:5999';
const SCOPE = 'openid profile offline_access';


interface SessionItem { id: string; apps: { appId: string }[]; userAgent: string; ipAddress: string; createdDateTime: string; lastUsedDateTime: string; mfaDateTime: string | null; authenticationMethods: string[] }
interface GrantItem { id: string; appId: string; createdDateTime: string; lastUsedDateTime: string; ipAddress: string | null }

for (const dbKind of await databases()) {
  describe(`sessions and apps, end one (${dbKind})`, () => {
    let server: TestServer;
    let adminToken: string;
    const db = () => server.store.db;
    const api = async (path: string, init: { body?: unknown; token?: string } = {}) => {
      const res = await fetch(`${server.origin}/latchkey/v1${path}`, {
        method: init.body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${init.token ?? adminToken}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & { value?: unknown[]; error?: { code: string; message: string } } };
    };
    const newUser = (name: string, roles: string[] = []) => createUser(db(), { tenantId: server.tenantId, upn: `${name}@${server.tenantDomain}`, displayName: name, password: PW, roles });
    const audits = async () => (await db().selectFrom('audit_log').select(['activity', 'target_name']).orderBy('id').execute()).map((a) => `${a.activity} ${a.target_name}`);
    const outboxTypes = async () => (await db().selectFrom('outbox').select('type').orderBy('id').execute()).map((r) => r.type);

    /** Signs in to the native app in this jar (a new browser session when the jar has none); returns its tokens. */
    const nativeSignIn = async (jar: Jar, upn: string, extra: Record<string, string> = {}) => {
      const p = pkce();
      const out = await authorize(server, jar, { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: p.challenge, code_challenge_method: 'S256', ...extra }, { user: upn, password: PW });
      const code = out.redirect?.searchParams.get('code');
      return { out, code, redeem: () => token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: code!, redirect_uri: REDIRECT, code_verifier: p.verifier }) };
    };
    const refresh = (rt: string) => token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: rt });
    const userinfo = (at: string) => fetch(`${server.tenantUrl}/openid/userinfo`, { headers: { authorization: `Bearer ${at}` } }).then((r) => r.status);

    /** Signs in to the demo portal over HTTP in this jar; the portal's own cookie is kept by the jar too. */
    const portalSignIn = (jar: Jar, upn: string) => signInToDemoPortal(server, jar, upn, PW);
    const portalSignedIn = async (jar: Jar) => (await (await fetch(`${server.origin}/demo/`, { headers: { cookie: jar.header() } })).text()).includes('id="userName"');

    before(async () => {
      server = await startTestServer(dbKind, { allowPrivateOutbound: true });
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
    });
    after(async () => {
      await server?.close();
    });

    test('ending one browser session: it dies with its codes, the portal is signed out of it by back-channel logout; the other session and every grant live on', async () => {
      const upn = `sabob@${server.tenantDomain}`;
      await newUser('sabob');
      const jarA = new Jar();
      const jarB = new Jar();
      await portalSignIn(jarA, upn); // session A: the demo portal took part
      const a = await nativeSignIn(jarA, upn, { prompt: 'none' }); // same session A, the native app too
      const rtA = (await a.redeem()).body.refresh_token!;
      const b = await nativeSignIn(jarB, upn); // session B
      const rtB = (await b.redeem()).body.refresh_token!;
      assert.ok(rtA && rtB);
      const pendingA = await nativeSignIn(jarA, upn, { prompt: 'none' }); // a code of session A, not redeemed yet
      assert.ok(pendingA.code);

      const list = await api(`/users/${upn}/sessions`);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      const sessions = list.body.value as SessionItem[];
      assert.equal(sessions.length, 2);
      const sessionA = sessions.find((s) => s.apps.some((x) => x.appId === DEMO.webAppId))!;
      const sessionB = sessions.find((s) => s !== sessionA)!;
      assert.deepEqual(sessionA.apps.map((x) => x.appId).sort(), [DEMO.nativeAppId, DEMO.webAppId].sort());
      assert.deepEqual(sessionB.apps.map((x) => x.appId), [DEMO.nativeAppId]);
      assert.equal(sessionA.ipAddress, '127.0.0.1');
      assert.deepEqual(sessionA.authenticationMethods, ['password']);
      assert.equal(sessionA.mfaDateTime, null);
      // paged: one a page, the nextLink leads to the other
      const page1 = await api(`/users/${upn}/sessions?$top=1`);
      assert.deepEqual((page1.body.value as SessionItem[]).map((s) => s.id), [sessions[0]!.id]);
      const next = String(page1.body['@odata.nextLink']);
      const page2 = await api(next.slice(`${server.origin}/latchkey/v1`.length));
      assert.deepEqual((page2.body.value as SessionItem[]).map((s) => s.id), [sessions[1]!.id]);
      assert.equal(page2.body['@odata.nextLink'], undefined);
      const grantsBefore = (await api(`/users/${upn}/grants`)).body.value as GrantItem[];
      assert.ok(grantsBefore.length >= 2, JSON.stringify(grantsBefore));

      const auditBefore = await audits();
      const dry = await api(`/users/${upn}/actions/endSession`, { body: { dryRun: true, sessionId: sessionA.id } });
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
      const preview = dry.body.preview as { ending: { kind: string; id: string }[]; surviving: { kind: string; id: string }[] };
      assert.deepEqual(preview.ending.map((l) => [l.kind, l.id]), [['session', sessionA.id]]);
      assert.ok(preview.surviving.some((l) => l.kind === 'session' && l.id === sessionB.id));
      assert.equal(preview.surviving.filter((l) => l.kind === 'grant').length, grantsBefore.length, 'every grant survives');
      assert.deepEqual(await audits(), auditBefore, 'a dry run writes nothing');
      assert.equal(await portalSignedIn(jarA), true);

      const applied = await api(`/plans/${String(dry.body.planId)}/apply`, { body: {} });
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.deepEqual((applied.body.ended as { id: string }[]).map((l) => l.id), [sessionA.id]);
      assert.deepEqual(await audits(), [...auditBefore, `End user session ${upn}`]);

      // back-channel logout reaches the demo portal for the sid it holds in session A
      await eventually('the portal is signed out', async () => ((await portalSignedIn(jarA)) ? undefined : true));
      const logouts = await db().selectFrom('outbox').select(['payload', 'delivered_at']).where('type', '=', 'backchannel.logout').execute();
      assert.deepEqual(logouts.map((r) => [(JSON.parse(r.payload) as { clientId: string; reason: string }).clientId, (JSON.parse(r.payload) as { reason: string }).reason]), [[DEMO.webAppId, 'endSession']]);

      // its code dies with it; a silent authorize in its browser finds no session
      const redeemed = await pendingA.redeem();
      assert.equal(redeemed.body.error, 'invalid_grant', JSON.stringify(redeemed.body));
      const silentA = await nativeSignIn(jarA, upn, { prompt: 'none' });
      assert.equal(silentA.code ?? null, null);
      assert.ok(silentA.out.redirect?.searchParams.get('error'), 'prompt=none in the ended session is refused');
      // the other session still gets a code with prompt=none, and every refresh token still refreshes
      const silentB = await nativeSignIn(jarB, upn, { prompt: 'none' });
      assert.ok(silentB.code, `the other session lives: ${silentB.out.redirect?.toString()}`);
      assert.ok((await refresh(rtA)).body.refresh_token, 'the grant of the ended session lives on');
      assert.ok((await refresh(rtB)).body.refresh_token);
      assert.deepEqual(((await api(`/users/${upn}/sessions`)).body.value as SessionItem[]).map((s) => s.id), [sessionB.id]);

      // the same plan again: 412, nothing more
      const again = await api(`/plans/${String(dry.body.planId)}/apply`, { body: {} });
      assert.equal(again.status, 412);
      // ending the ended session: not found
      const gone = await api(`/users/${upn}/actions/endSession`, { body: { dryRun: false, sessionId: sessionA.id } });
      assert.equal(gone.status, 404, JSON.stringify(gone.body));
      assert.deepEqual(await audits(), [...auditBefore, `End user session ${upn}`]);
    });

    test('ending one grant: its refresh token is refused and its access token too at userinfo; the other grant refreshes and the browser session lives on', async () => {
      const upn = `sacarol@${server.tenantDomain}`;
      await newUser('sacarol');
      const jar1 = new Jar();
      const jar2 = new Jar();
      const t1 = (await (await nativeSignIn(jar1, upn)).redeem()).body;
      const t2 = (await (await nativeSignIn(jar2, upn)).redeem()).body;
      const gid1 = String(decodeJwt(t1.access_token!).latchkey_gid);
      const gid2 = String(decodeJwt(t2.access_token!).latchkey_gid);
      assert.notEqual(gid1, gid2, 'two sign-ins, two grants');
      const grants = (await api(`/users/${upn}/grants`)).body.value as GrantItem[];
      assert.deepEqual(grants.map((g) => g.id).sort(), [gid1, gid2].sort());
      assert.ok(grants.every((g) => g.appId === DEMO.nativeAppId && g.ipAddress === '127.0.0.1'), JSON.stringify(grants));
      assert.equal(await userinfo(t1.access_token!), 200);

      const events = await outboxTypes();
      const applied = await api(`/users/${upn}/actions/endGrant`, { body: { dryRun: false, grantId: gid1 } });
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      assert.deepEqual((applied.body.ended as { kind: string; id: string }[]).map((l) => [l.kind, l.id]), [['grant', gid1]]);
      assert.deepEqual(await outboxTypes(), [...events, 'user.grant.ended']);

      const r1 = await refresh(t1.refresh_token!);
      assert.equal(r1.body.error, 'invalid_grant', JSON.stringify(r1.body));
      assert.equal(await userinfo(t1.access_token!), 401, "Latchkey's own routes refuse its access token at once");
      assert.equal(await userinfo(t2.access_token!), 200);
      assert.ok((await refresh(t2.refresh_token!)).body.refresh_token, 'the other grant still refreshes');
      const silent = await nativeSignIn(jar1, upn, { prompt: 'none' });
      assert.ok(silent.code, 'the browser session of the ended grant lives on');
      assert.ok(((await api(`/users/${upn}/grants`)).body.value as GrantItem[]).every((g) => g.id !== gid1));
    });

    test('bad input: unknown or foreign session and grant ids, malformed bodies: clear errors, nothing changed', async () => {
      const upn = `sadan@${server.tenantDomain}`;
      const other = `saerin@${server.tenantDomain}`;
      await newUser('sadan');
      await newUser('saerin');
      const jar = new Jar();
      const t = (await (await nativeSignIn(jar, other)).redeem()).body;
      const erinSession = ((await api(`/users/${other}/sessions`)).body.value as SessionItem[])[0]!;
      const erinGrant = String(decodeJwt(t.access_token!).latchkey_gid);
      const auditBefore = await audits();
      const cases: [string, unknown, number, string, RegExp][] = [
        ['endSession', { dryRun: true, sessionId: 'no-such-session' }, 404, 'Request_ResourceNotFound', /Session 'no-such-session' does not exist for this user/],
        ['endSession', { dryRun: false, sessionId: erinSession.id }, 404, 'Request_ResourceNotFound', /does not exist for this user/],
        ['endGrant', { dryRun: false, grantId: erinGrant }, 404, 'Request_ResourceNotFound', /Grant '.*' does not exist for this user/],
        ['endGrant', { dryRun: true, grantId: 'x'.repeat(300) }, 400, 'Request_BadRequest', /Property 'grantId' is too long/],
        ['endSession', { dryRun: true }, 400, 'Request_BadRequest', /Property 'sessionId' is required/],
        ['endSession', { dryRun: true, sessionId: 42 }, 400, 'Request_BadRequest', /Property 'sessionId' must be a string/],
        ['endGrant', { dryRun: true, grantId: 'g', extra: 1 }, 400, 'Request_BadRequest', /Property 'extra' is not an input of this action/],
        ['endGrant', { grantId: 'g' }, 400, 'BadRequest', /'dryRun' is required/],
        ['endSession', [], 400, 'BadRequest', /must be a JSON object/],
      ];
      for (const [action, body, status, code, message] of cases) {
        const res = await api(`/users/${upn}/actions/${action}`, { body });
        assert.equal(res.status, status, `${action} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error?.code, code);
        assert.match(res.body.error!.message, message);
      }
      const badSkip = await api(`/users/${upn}/sessions?$skiptoken=abc`);
      assert.equal(badSkip.status, 400);
      const badOption = await api(`/users/${upn}/grants?$filter=x`);
      assert.equal(badOption.status, 400);
      assert.match(badOption.body.error!.message, /Query option '\$filter' is not supported/);
      assert.equal((await api('/users/nobody@nowhere.test/sessions')).status, 404);
      assert.deepEqual(await audits(), auditBefore);
      assert.equal(((await api(`/users/${other}/sessions`)).body.value as SessionItem[]).length, 1, "the other user's session lives");
      assert.ok((await refresh(t.refresh_token!)).body.refresh_token, "the other user's grant lives");
    });

    test('who may end a session or a grant: the Revoke sessions table (literal), delegated', async () => {
      // actor role -> the target roles it may act on (tests/helpers/revoke-rights.ts, literal)
      const ctx: ActionContext = { db: db(), secrets: server.secrets, tenantId: server.tenantId, config: server.config };
      const targets = new Map<string, string>();
      for (const [i, role] of TARGETS.entries()) targets.set(role, (await newUser(`rt${i}`, role === PLAIN ? [] : [role])).id);
      for (const [actorRole, allowed] of Object.entries(TABLE)) {
        const actor: Actor = { kind: 'user', id: crypto.randomUUID(), displayName: actorRole, upn: 'actor@x', roles: [actorRole], scopes: ['Directory.AccessAsUser.All'] };
        for (const role of TARGETS) {
          const runs: [string, () => Promise<unknown>][] = [['endSession', () => endSession.plan(ctx, actor, targets.get(role)!, { sessionId: 'none' })], ['endGrant', () => endGrant.plan(ctx, actor, targets.get(role)!, { grantId: 'none' })]];
          for (const [name, run] of runs) {
            // past the rights check the unknown id is "not found"; before it, "forbidden"
            const code: string = await run().then(() => 'ok', (e: unknown) => (e instanceof ActionError ? e.code : String(e)));
            assert.equal(code, allowed.includes(role) ? 'not_found' : 'forbidden', `${actorRole} ${name} on ${role}`);
          }
        }
      }
      // without a scope that allows it, nobody may
      const noScope: Actor = { kind: 'user', id: crypto.randomUUID(), displayName: 'x', upn: 'x@x', roles: [GA], scopes: ['User.Read'] };
      await assert.rejects(endSession.plan(ctx, noScope, targets.get(PLAIN)!, { sessionId: 'none' }), (e: unknown) => e instanceof ActionError && e.code === 'forbidden' && /User.RevokeSessions.All/.test(e.message));
      // over HTTP: a Helpdesk Administrator may not end a Global Administrator's session (403, the roles named)
      await newUser('hd', [HA]);
      const hdToken = await delegatedGraphToken(server, `hd@${server.tenantDomain}`, PW);
      const res = await api(`/users/${targets.get(GA)!}/actions/endSession`, { body: { dryRun: true, sessionId: 'none' }, token: hdToken });
      assert.equal(res.status, 403);
      assert.match(res.body.error!.message, /Privileged Authentication Administrator/);
    });
  });
}

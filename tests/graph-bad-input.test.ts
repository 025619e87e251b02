// Every Graph route (/v1.0 and /beta), found on the running server rather than listed by hand, refuses bad
// input the way Graph does and changes nothing: no token, a token without the permission, malformed JSON,
// JSON that is not an object, wrong property types, unknown properties, hostile ids, a body over the limit,
// a content type that is not JSON, an unsupported method. Each answer must be a 4xx (never a 500) in Graph's
// error shape {error:{code,message,innerError}}, and after each request the directory rows (users,
// user_roles, groups, group_members, app_directory_roles, audit_log, outbox) must be exactly as before: no
// change and no audit record added.
//
// Callers: none, a garbage token, the demo portal's app token (User.Read.All only: reads may succeed), alice's
// delegated token with User.Read only (refused everywhere but /me), and a delegated Global Administrator for
// everything else, so that refusals come from validation rather than rights.
//
// How routes are found: Fastify's printRoutes({ commonPrefix: false }) tree, parsed (depth from the
// 4-character indentation, path = the segments along the branch, methods in parentheses). The parser is
// checked against the server itself: every route it yields must satisfy app.hasRoute(), and a line it
// cannot read fails the test, so a change of Fastify's format cannot silently shrink the coverage. An
// onRoute hook would be neater but must be added before the routes are registered, which startServer does.
// New routes are covered as they are added: ids in their paths get a real object's id when the segment
// before names a known collection (users, groups, members, methods, directory roles, role definitions and
// assignments), and a fresh GUID otherwise; bodies start from a valid body where the route's input is known.
// Outbox delivery bookkeeping (attempts, delivered_at, ...) may move on its own and is not compared. When a
// request wrongly changes something it is reported, the new state becomes the baseline, and a revoked
// administrator token is replaced, so that one bug does not hide the answers to the requests after it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createApp } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn } from '../src/directory/users.js';
import { Jar, authorize, consentNativeAppToGraph, delegatedGraphToken, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const GRAPH = 'https://graph.microsoft.com/.default';
const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';
const BODY_LIMIT = 256 * 1024;
const GLOBAL_ADMIN_TEMPLATE = '62e90394-69f5-4237-9190-012177145e10';
const USER_ADMIN_TEMPLATE = 'fe930be7-5e62-47db-91af-98c3a49a38b1';
/** GETs a delegated token with only User.Read may make (the signed-in user's own objects); all else needs more. */
const USER_READ_OK = [/^\/(v1\.0|beta)\/(me|organization)(\/|$)/];
/** Graph answers these without a token (none exist yet); every other route must refuse a missing token. */
const ANONYMOUS_READS = [/\/\$metadata$/];
const TABLES = ['users', 'user_roles', 'groups', 'group_members', 'app_directory_roles', 'apps', 'app_secrets', 'app_identifier_uris', 'directory_versions', 'service_principals', 'permission_grants', 'audit_log', 'outbox'] as const;
/** outbox columns a deliverer may move on its own (claiming, retrying); the event itself must not change */
const OUTBOX_BOOKKEEPING = ['attempts', 'next_attempt_at', 'delivered_at', 'failed_at', 'last_error', 'claimed_until', 'claimed_by'];

interface Route {
  method: string;
  path: string;
}

/** Routes from Fastify's printRoutes({ commonPrefix: false }) tree (HEAD left out: it has no body to check). */
function parseRoutes(tree: string): Route[] {
  const out: Route[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    if (!line.trim()) continue;
    const m = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z]+(?:, [A-Z]+)*)\))?$/.exec(line);
    if (!m) throw new Error(`printRoutes line not understood: ${JSON.stringify(line)}`);
    const depth = m[1]!.length / 4;
    if (depth > stack.length) throw new Error(`printRoutes indentation jumps: ${JSON.stringify(line)}`);
    stack.length = depth;
    stack.push(m[2]!);
    if (m[3]) for (const method of m[3].split(', ')) if (method !== 'HEAD') out.push({ method, path: stack.join('') });
  }
  return out;
}

interface GraphErrorBody {
  error?: { code?: unknown; message?: unknown; innerError?: { date?: unknown; 'request-id'?: unknown } };
}

type Snapshot = Record<string, string[]>;

for (const dbKind of await databases()) {
  describe(`Graph bad input, every route (${dbKind})`, () => {
    let server: TestServer;
    let adminToken: string;
    let weakToken: string;
    let userReadToken: string;
    let realOperationId: string;
    let routes: Route[];
    let realUserId: string;
    let adminId: string;
    let realGroupId: string;
    const realSp = { id: '', graphId: '', assignmentId: '', grantId: '', appWithoutSp: '' };
    let realApp: { id: string; appId: string };
    let realKeyId: string;
    let baseline: Snapshot;

    const snapshot = async (): Promise<Snapshot> => {
      const out: Snapshot = {};
      for (const t of TABLES) {
        const rows = (await server.store.db.selectFrom(t).selectAll().execute()) as Record<string, unknown>[];
        out[t] = rows
          .map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).filter(([k]) => !(t === 'outbox' && OUTBOX_BOOKKEEPING.includes(k))).map(([k, v]) => [k, typeof v === 'bigint' ? String(v) : v]))))
          .sort();
      }
      return out;
    };

    /** What changed since the baseline (then the new state is the baseline, so that each change is reported once). */
    const changes = async (): Promise<string | undefined> => {
      const now = await snapshot();
      const out: string[] = [];
      for (const t of TABLES) {
        if (JSON.stringify(now[t]) === JSON.stringify(baseline[t])) continue;
        const index = (rows: string[]) => new Map(rows.map((r) => { const o = JSON.parse(r) as Record<string, unknown>; return [o.id !== undefined ? String(o.id) : r, o] as const; }));
        const was = index(baseline[t]!);
        const is = index(now[t]!);
        for (const [k, o] of is) {
          const old = was.get(k);
          if (!old) out.push(`${t}: row added ${JSON.stringify(o).slice(0, 300)}`);
          else {
            const cols = Object.keys(o).filter((c) => JSON.stringify(o[c]) !== JSON.stringify(old[c]));
            if (cols.length) out.push(`${t} ${k}: ${cols.map((c) => `${c} ${JSON.stringify(old[c]).slice(0, 40)} → ${JSON.stringify(o[c]).slice(0, 40)}`).join(', ')}`);
          }
        }
        for (const [k, o] of was) if (!is.has(k)) out.push(`${t}: row removed ${JSON.stringify(o).slice(0, 300)}`);
      }
      baseline = now;
      return out.length ? `changed ${out.join('; ')}` : undefined;
    };

    const signInAdmin = (): Promise<string> => delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');

    /** After a request wrongly changed something (say, revoked the administrator's sessions), the tests go on with a working token. */
    const recover = async () => {
      const me = await fetch(`${server.origin}/v1.0/me`, { headers: { authorization: `Bearer ${adminToken}` } });
      if (me.status !== 401) return;
      await new Promise((r) => setTimeout(r, 1100)); // token iat has second precision; the revocation stamp has ms
      adminToken = await signInAdmin();
      baseline = await snapshot();
    };

    /** A real id for a path parameter, by the collection segment before it. */
    const realValue = (prev: string | undefined): string => {
      switch (prev) {
        case 'users':
        case 'members':
        case 'owners':
        case 'directoryObjects':
          return realUserId;
        case 'groups':
          return realGroupId;
        case 'methods':
        case 'passwordMethods':
          return PASSWORD_METHOD_ID;
        case 'directoryRoles':
          return GLOBAL_ADMIN_TEMPLATE; // activated: the administrator holds it
        case 'roleDefinitions':
          return USER_ADMIN_TEMPLATE;
        case 'operations':
          return realOperationId;
        case 'roleAssignments':
          return `${GLOBAL_ADMIN_TEMPLATE}_${adminId}`;
        case 'servicePrincipals':
          return realSp.id;
        case 'appRoleAssignments':
        case 'appRoleAssignedTo':
          return realSp.assignmentId;
        case 'oauth2PermissionGrants':
          return realSp.grantId;
        case 'authenticationMethodConfigurations':
          return 'SoftwareOath';
        case 'applications':
          return realApp.id;
        case '__appId': // the (appId='…') key, as the server routes it
          return realApp.appId;
        default:
          return crypto.randomUUID();
      }
    };

    /** The route path with every parameter filled in with a real id, except `bad` for the parameter at index `at`. */
    const fill = (path: string, at = -1, bad = ''): string => {
      const segs = path.split('/');
      let n = 0;
      return segs
        .map((s, i) => {
          if (s === '*') return 'x';
          if (!s.startsWith(':')) return s;
          return n++ === at ? bad : encodeURIComponent(realValue(segs[i - 1]));
        })
        .join('/');
    };
    const paramCount = (path: string) => path.split('/').filter((s) => s.startsWith(':')).length;

    /** A body that would pass validation, for routes whose input is known; {} for the others. */
    const validBody = (r: Route): Record<string, unknown> => {
      const p = r.path.replace(/^\/(v1\.0|beta)/, '');
      const d = server.tenantDomain;
      const key = `${r.method} ${p}`;
      if (key === 'POST /users') return { accountEnabled: true, displayName: 'Zed', mailNickname: 'zed', userPrincipalName: `zed@${d}`, passwordProfile: { password: 'Sturdy-Password-11', forceChangePasswordNextSignIn: false } };
      if (key === 'PATCH /users/:id') return { displayName: 'Renamed', accountEnabled: true, mail: `x@${d}`, passwordProfile: { password: 'Sturdy-Password-12', forceChangePasswordNextSignIn: false } };
      if (/resetPassword$/.test(p)) return { newPassword: 'Chosen-Password-13' };
      if (key === 'POST /groups') return { displayName: 'Zed group', mailNickname: 'zedgroup', mailEnabled: false, securityEnabled: true, description: 'x', isAssignableToRole: false, groupTypes: [] };
      if (key === 'PATCH /groups/:id') return { displayName: 'Renamed group', description: 'y' };
      if (key === 'POST /roleManagement/directory/roleAssignments') return { principalId: realUserId, roleDefinitionId: USER_ADMIN_TEMPLATE, directoryScopeId: '/' };
      if (key === 'POST /servicePrincipals') return { appId: realSp.appWithoutSp };
      if (key === 'POST /servicePrincipals/:id/appRoleAssignments' || key === 'POST /servicePrincipals/:id/appRoleAssignedTo') return { principalId: realSp.id, resourceId: realSp.graphId, appRoleId: '741f803b-c850-494e-b5df-cde7c675a1ca' };
      if (key === 'POST /oauth2PermissionGrants') return { clientId: realSp.id, consentType: 'AllPrincipals', resourceId: realSp.graphId, scope: 'User.Read' };
      if (key === 'PATCH /oauth2PermissionGrants/:id') return { scope: 'User.Read openid' };
      if (key === 'POST /applications' || /^PATCH \/applications\//.test(key)) return { displayName: 'Zed app', web: { redirectUris: ['https://zed.example/cb'], logoutUrl: 'https://zed.example/out' }, spa: { redirectUris: ['https://zed.example/spa'] }, publicClient: { redirectUris: ['http://localhost'] }, identifierUris: ['api://zed'], isFallbackPublicClient: true, notes: 'n' };
      if (/addPassword$/.test(p)) return { passwordCredential: { displayName: 'x', endDateTime: '2030-01-01T00:00:00Z' } };
      if (/removePassword$/.test(p)) return { keyId: realKeyId };
      if (/\/\$ref$/.test(p)) return { '@odata.id': `${server.origin}/v1.0/directoryObjects/${realUserId}` };
      return {};
    };

    /** The same body with one property of the wrong type, or a string property no store should take (NUL, very long). */
    const wrongTypes = (b: Record<string, unknown>): Record<string, unknown>[] => {
      const out: Record<string, unknown>[] = [];
      const wrong = (v: unknown): unknown[] => {
        if (typeof v === 'string') return [12345, true, ['x'], { x: 1 }, 'x\u0000y', 'x'.repeat(5000)];
        if (typeof v === 'boolean') return ['true', 1, [], {}];
        if (typeof v === 'number') return ['1', false];
        if (Array.isArray(v)) return ['x', { x: 1 }, [42], [null]];
        if (v && typeof v === 'object') return ['x', 42, [v]];
        return [];
      };
      for (const [k, v] of Object.entries(b)) {
        for (const w of wrong(v)) out.push({ ...b, [k]: w });
        if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k2, v2] of Object.entries(v)) for (const w of wrong(v2)) out.push({ ...b, [k]: { ...v, [k2]: w } });
      }
      // properties every Graph route might read, each of the wrong type (unknown properties where they do not belong)
      out.push({ accountEnabled: 'yes' }, { displayName: 42 }, { newPassword: 42 }, { passwordProfile: 'x' }, { userPrincipalName: ['a'] }, { mail: { x: 1 } });
      // a name that may be changed but never emptied, and a string that is not Unicode text (a lone surrogate)
      out.push({ displayName: null }, { displayName: '' }, { displayName: '   ' }, { displayName: 'F\ud800x' }, { userPrincipalName: null });
      return out;
    };

    const send = async (r: Route, url: string, init: { token?: string; body?: string | Uint8Array; contentType?: string } = {}) => {
      const headers: Record<string, string> = {};
      if (init.token) headers.authorization = `Bearer ${init.token}`;
      if (init.contentType) headers['content-type'] = init.contentType;
      const res = await fetch(`${server.origin}${url}`, { method: r.method, headers, body: init.body, redirect: 'manual' });
      const text = await res.text();
      return { status: res.status, type: res.headers.get('content-type') ?? '', text };
    };

    let failures: string[] = [];

    /** Sends one bad request: a 4xx in Graph's error shape (or, where allowed, a 2xx read), then nothing changed. Problems are collected. */
    const expectRefused = async (r: Route, url: string, what: string, init: Parameters<typeof send>[2] = {}, opts: { status?: number; code?: string; readMayPass?: boolean } = {}) => {
      const label = `${r.method} ${url.length > 120 ? `${url.slice(0, 120)}…` : url} [${what}]`;
      const res = await send(r, url, init);
      const answer = `${res.status} ${res.type} ${res.text.slice(0, 300)}`;
      const problems: string[] = [];
      if (!(opts.readMayPass && r.method === 'GET' && res.status >= 200 && res.status < 300)) {
        if (!(res.status >= 400 && res.status < 500)) problems.push(`not a 4xx`);
        else if (opts.status !== undefined && res.status !== opts.status) problems.push(`status ${res.status}, expected ${opts.status}`);
        let body: GraphErrorBody | undefined;
        try {
          body = JSON.parse(res.text) as GraphErrorBody;
        } catch {
          problems.push('body is not JSON');
        }
        if (!/^application\/json\b/.test(res.type)) problems.push('content-type is not application/json');
        const e = body?.error;
        if (body && !(e && typeof e.code === 'string' && e.code && typeof e.message === 'string' && e.innerError && typeof e.innerError['request-id'] === 'string' && typeof e.innerError.date === 'string')) problems.push('not Graph\'s error shape');
        else if (opts.code !== undefined && e?.code !== opts.code) problems.push(`code ${String(e?.code)}, expected ${opts.code}`);
      }
      const changed = await changes();
      if (changed) {
        problems.push(changed);
        await recover();
      }
      if (problems.length) failures.push(`${label}: ${problems.join('; ')}\n      answer: ${answer}`);
    };

    const reportFailures = () => {
      const f = failures;
      failures = [];
      if (f.length) assert.fail(`${f.length} bad answer(s):\n  ${f.join('\n  ')}`);
    };

    before(async () => {
      server = await startTestServer(dbKind);
      const d = server.tenantDomain;
      // the most privileged caller (a delegated Global Administrator), so that refusals come from validation, not rights
      await consentNativeAppToGraph(server);
      adminToken = await signInAdmin();
      // the demo portal's app token: User.Read.All only
      const weak = await token(server, { grant_type: 'client_credentials', client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', scope: GRAPH });
      weakToken = weak.body.access_token!;
      assert.ok(weakToken, JSON.stringify(weak.body));

      // alice through the demo portal: a delegated token with User.Read only
      const p = pkce();
      const redirectUri = `${server.origin}/demo/callback`;
      const signIn = await authorize(server, new Jar(), { client_id: DEMO.webAppId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid https://graph.microsoft.com/User.Read', code_challenge: p.challenge, code_challenge_method: 'S256' });
      const ut = await token(server, { grant_type: 'authorization_code', client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', code: signIn.redirect!.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: p.verifier, scope: 'https://graph.microsoft.com/User.Read' });
      userReadToken = ut.body.access_token!;
      assert.ok(userReadToken, JSON.stringify(ut.body));

      realUserId = (await findUserByUpn(server.store.db, server.tenantId, `carol@${d}`))!.id;
      // a real password-reset operation on that user (before the baseline), for the operations route
      const reset = await fetch(`${server.origin}/v1.0/users/${realUserId}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
      assert.equal(reset.status, 202);
      realOperationId = /\/operations\/([^/?]+)$/.exec(reset.headers.get('location') ?? '')?.[1] ?? '';
      assert.ok(realOperationId, `Location: ${reset.headers.get('location')}`);
      adminId = (await findUserByUpn(server.store.db, server.tenantId, `admin@${d}`))!.id;
      realGroupId = crypto.randomUUID();
      await server.store.db.insertInto('groups').values({ id: realGroupId, tenant_id: server.tenantId, display_name: 'Fixture group', description: null, is_assignable_to_role: 0, created_at: Date.now() }).execute();
      await server.store.db.insertInto('group_members').values({ group_id: realGroupId, user_id: (await findUserByUpn(server.store.db, server.tenantId, `bob@${d}`))!.id }).execute();

      // a real service principal (the demo portal's) with a real app role assignment and delegated grant, and an app without one
      const spOf = async (appId: string) => (await server.store.db.selectFrom('service_principals').select('id').where('app_id', '=', appId).executeTakeFirstOrThrow()).id;
      realSp.id = await spOf(DEMO.webAppId);
      realSp.graphId = await spOf('00000003-0000-0000-c000-000000000000');
      const graphGet = async (path: string) => ((await (await fetch(`${server.origin}/v1.0${path}`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as { value: { id: string }[] }).value[0]!.id;
      realSp.assignmentId = await graphGet(`/servicePrincipals/${realSp.id}/appRoleAssignments`);
      realSp.grantId = await graphGet(`/servicePrincipals/${realSp.id}/oauth2PermissionGrants`);
      realSp.appWithoutSp = (await createApp(server.store.db, { tenantId: server.tenantId, displayName: 'No service principal yet', kind: 'web', servicePrincipal: false })).id;
      // an application with a secret, for the /applications routes
      const made = await fetch(`${server.origin}/v1.0/applications`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ displayName: 'Fixture app', identifierUris: ['api://fixture'] }) });
      realApp = (await made.json()) as { id: string; appId: string };
      assert.equal(made.status, 201);
      const pw = await fetch(`${server.origin}/v1.0/applications/${realApp.id}/addPassword`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: '{}' });
      realKeyId = ((await pw.json()) as { keyId: string }).keyId;

      const tree = server.app.printRoutes({ commonPrefix: false });
      routes = parseRoutes(tree).filter((r) => /^\/(v1\.0|beta)(\/|$)/.test(r.path));
      for (const r of routes) assert.ok(server.app.hasRoute({ method: r.method as 'GET', url: r.path }), `parsed route ${r.method} ${r.path} exists`);
      for (const known of ['GET /v1.0/users', 'POST /v1.0/users', 'PATCH /v1.0/users/:id', 'DELETE /beta/users/:id', 'POST /beta/users/:id/revokeSignInSessions']) {
        assert.ok(routes.some((r) => `${r.method} ${r.path}` === known), `route discovery found ${known}:\n${tree}`);
      }
      baseline = await snapshot();
    });
    after(async () => {
      await server?.close();
    });

    test('every route and method refuses bad input with a Graph 4xx and changes nothing', async (t) => {
      for (const r of routes) {
        await t.test(`${r.method} ${r.path}`, async () => {
          const url = fill(r.path);
          const hasBody = ['POST', 'PATCH', 'PUT'].includes(r.method);
          const json = (v: unknown) => ({ token: adminToken, body: JSON.stringify(v), contentType: 'application/json' });
          const sample = hasBody ? { body: JSON.stringify(validBody(r)), contentType: 'application/json' } : {};

          // authentication and rights
          const anonymous = r.method === 'GET' && ANONYMOUS_READS.some((re) => re.test(r.path));
          await expectRefused(r, url, 'no token', sample, anonymous ? { readMayPass: true } : { status: 401, code: 'InvalidAuthenticationToken' });
          await expectRefused(r, url, 'garbage token', { ...sample, token: 'not.a.token' }, { status: 401, code: 'InvalidAuthenticationToken' });
          await expectRefused(r, url, 'app token with User.Read.All only', { ...sample, token: weakToken }, { readMayPass: true });
          if (!/^\/(v1\.0|beta)\/me(\/|$)/.test(r.path)) {
            await expectRefused(r, url, 'delegated token with User.Read only', { ...sample, token: userReadToken }, { readMayPass: USER_READ_OK.some((re) => re.test(r.path)) });
          }

          // hostile ids, one parameter at a time (the others real)
          const BAD_IDS = [encodeURIComponent("'; DROP TABLE users;--"), 'a'.repeat(300), '%00', 'x%00y', '..%2F', '..%2F..%2Fusers', 'not-a-guid', '00000000-0000-0000-0000-000000000000', '%E0%A4%A', '%25'];
          for (let i = 0; i < paramCount(r.path); i++) {
            for (const bad of BAD_IDS) {
              // 'not-a-guid' and the zero GUID are well-formed ids that exist nowhere: 404 (or 400) is expected
              await expectRefused(r, fill(r.path, i, bad), `bad id #${i} ${bad.slice(0, 30)}`, hasBody ? json(validBody(r)) : { token: adminToken });
            }
          }

          if (hasBody) {
            const valid = validBody(r);
            await expectRefused(r, url, 'malformed JSON', { token: adminToken, body: '{"displayName": ', contentType: 'application/json' }, { status: 400 });
            await expectRefused(r, url, 'malformed JSON, trailing garbage', { token: adminToken, body: `${JSON.stringify(valid)} x`, contentType: 'application/json' }, { status: 400 });
            await expectRefused(r, url, 'prototype pollution', { token: adminToken, body: `{"__proto__":{"isAdmin":true},${JSON.stringify(valid).slice(1)}`, contentType: 'application/json' });
            for (const v of [[], [valid], 'a string', 42, true, null]) await expectRefused(r, url, `JSON ${JSON.stringify(v).slice(0, 40)}`, json(v), { status: 400 });
            for (const b of wrongTypes(valid)) await expectRefused(r, url, `wrong type ${JSON.stringify(b).slice(0, 120)}`, json(b), { status: 400 });
            await expectRefused(r, url, 'unknown property', json({ ...valid, unknownProperty: 1 }), { status: 400 });
            await expectRefused(r, url, 'unknown property only', json({ surname: 'x', extension_abc_flag: true }), { status: 400 });
            const huge = JSON.stringify({ ...valid, displayName: 'x'.repeat(BODY_LIMIT + 10) });
            await expectRefused(r, url, 'body over the limit', { token: adminToken, body: huge, contentType: 'application/json' }, { status: 413 });
            await expectRefused(r, url, 'body over the limit, no token', { body: huge, contentType: 'application/json' });
            for (const [type, body] of [
              ['text/plain', JSON.stringify(valid)],
              ['text/plain;charset=utf-8', JSON.stringify(valid)],
              ['multipart/form-data; boundary=XyZ', '--XyZ\r\nContent-Disposition: form-data; name="displayName"\r\n\r\nx\r\n--XyZ--\r\n'],
              ['application/x-www-form-urlencoded', 'displayName=x'],
              ['application/xml', '<user><displayName>x</displayName></user>'],
              ['application/json-patch+json', JSON.stringify([{ op: 'replace', path: '/displayName', value: 'x' }])],
            ] as const) {
              await expectRefused(r, url, `content type ${type}`, { token: adminToken, body, contentType: type }, { status: 415 });
            }
          }
          reportFailures();
        });
      }
    });

    test('every read refuses a query option it does not support (400 naming it), a single object as much as a collection', async () => {
      // what a read takes (its answer to a plain GET is a 2xx) and what it must refuse: an unknown option by
      // name, as Request_UnsupportedQuery; options that are malformed or not supported on the route, as a 400
      const BAD_OPTIONS = ['$filter=(', '$top=abc', '$skiptoken=abc', '$orderby=nope', '$search=a', '$foo=1'];
      const checked: string[] = [];
      for (const r of routes.filter((x) => x.method === 'GET' && !ANONYMOUS_READS.some((re) => re.test(x.path)))) {
        const url = fill(r.path);
        const plain = await send(r, url, { token: adminToken });
        if (plain.status < 200 || plain.status >= 300) continue;
        checked.push(r.path);
        for (const option of BAD_OPTIONS) {
          const expected = option === '$foo=1' ? { status: 400, code: 'Request_UnsupportedQuery' } : { status: 400 };
          await expectRefused(r, `${url}?${option}`, `query option ${option}`, { token: adminToken }, expected);
        }
        const unknown = JSON.parse((await send(r, `${url}?$foo=1`, { token: adminToken })).text) as GraphErrorBody;
        if (!/^Query option '\$foo' is not supported on /.test(String(unknown.error?.message))) failures.push(`GET ${url}?$foo=1: the refusal does not name '$foo': ${String(unknown.error?.message)}`);
      }
      // the reads the sweep once found answering 200 to all of these are among those checked
      for (const path of ['/v1.0/me', '/beta/users/:id', '/v1.0/users/:id/authentication/methods', '/v1.0/me/authentication/temporaryAccessPassMethods', '/v1.0/users/:id/authentication/passwordMethods/:methodId', '/beta/users/:id/authentication/signInPreferences', '/v1.0/policies/identitySecurityDefaultsEnforcementPolicy']) {
        assert.ok(checked.includes(path), `${path} is a read the sweep checked: ${checked.join(', ')}`);
      }
      reportFailures();
    });

    test('methods a route does not have are refused in Graph shape and change nothing', async (t) => {
      const byPath = new Map<string, Set<string>>();
      for (const r of routes) byPath.set(r.path, (byPath.get(r.path) ?? new Set()).add(r.method));
      for (const [path, methods] of byPath) {
        await t.test(path, async () => {
          for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].filter((m) => !methods.has(m))) {
            const r = { method, path };
            const init = ['POST', 'PATCH', 'PUT'].includes(method) ? { token: adminToken, body: JSON.stringify({ displayName: 'x' }), contentType: 'application/json' } : { token: adminToken };
            await expectRefused(r, fill(path), 'method not supported', init);
          }
          reportFailures();
        });
      }
    });
  });
}

// A JSON request body with a member name given twice in one object is refused with a 400 in the endpoint's
// wire format before any handler runs (src/http/json-body.ts): `{"dryRun":true,"dryRun":false}` once
// applied an admin action its sender may have meant as a preview, as JSON.parse keeps the last name.
// Names are compared decoded (`\u0061` is `a`); the same name in two objects, and a string value spelled
// like a name, are accepted as before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { duplicateMemberName } from '../src/http/json-body.js';
import { authorize, consentNativeAppToGraph, delegatedGraphToken, Jar, pkce, token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const PW = 'Dup-Keys-Test-Pw-47';
const GRAPH_DEFAULT = 'https://graph.microsoft.com/.default';

interface GraphErrorBody {
  error: { code: string; message: string; innerError: { date: string; 'request-id': string; 'client-request-id': string } };
}

describe('duplicateMemberName (the scanner, on valid JSON texts)', () => {
  const cases: [string, string | undefined][] = [
    ['{"dryRun":true,"dryRun":false}', 'dryRun'],
    ['{"a":1,"\\u0061":2}', 'a'],
    ['{"displayName":"a","display\\u004eame":"b"}', 'displayName'],
    ['{"x":{"a":1,"b":2,"a":3}}', 'a'],
    ['[{"id":1},{"id":2,"type":"x","id":3}]', 'id'],
    ['{"a":[{"b":{}}],"c":{"d":[1,{"e":1}]},"a":0}', 'a'],
    ['{"\\"":1,"\\u0022":2}', '"'],
    ['{"":1,"":2}', ''],
    // no duplicate: the same name in different objects, values spelled like names, escaped quotes in values
    ['{"a":{"x":1},"b":{"x":2}}', undefined],
    ['[{"id":1,"type":"x"},{"id":2,"type":"y"}]', undefined],
    ['{"a":"b","b":"a"}', undefined],
    ['{"displayName":"x\\",\\"displayName\\":\\"y"}', undefined],
    ['{"a":"\\\\","b":"{\\"a\\":1,"}', undefined],
    ['{"a":["a","a",{"a":"a"}],"b":{"a":{"a":{}}}}', undefined],
    ['{"a":1,"A":2,"\\u00e9":3,"é":4}', 'é'],
    ['{"a":1,"A":2}', undefined],
    ['[]', undefined],
    ['"{\\"a\\":1,\\"a\\":2}"', undefined],
    ['{ "a" : 1 , "b" : { } , "c" : [ ] }', undefined],
    ['{ "a" : 1 ,\n "a" : 2 }', 'a'],
  ];
  for (const [text, expected] of cases) {
    test(`${text} → ${expected === undefined ? 'none' : JSON.stringify(expected)}`, () => {
      JSON.parse(text); // every case is valid JSON
      assert.equal(duplicateMemberName(text), expected);
    });
  }
});

for (const dbKind of await databases()) {
  describe(`a JSON body with a duplicate member name is refused before any handler (${dbKind})`, () => {
    let server: TestServer;
    let adminToken: string;
    const db = () => server.store.db;

    /** A request with `body` sent exactly as given (a JSON.stringify could not write a duplicate). */
    const send = async (method: string, path: string, body?: string) => {
      const res = await fetch(`${server.origin}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body });
      const text = await res.text();
      return { status: res.status, type: res.headers.get('content-type') ?? '', body: text ? (JSON.parse(text) as unknown) : undefined };
    };
    const refused = (r: { status: number; type: string; body: unknown }, name: string, what: string): GraphErrorBody => {
      assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
      assert.match(r.type, /^application\/json/, what);
      const b = r.body as GraphErrorBody;
      assert.equal(b.error?.code, 'BadRequest', what);
      assert.equal(b.error.message, `The property '${name}' appears more than once in the request body.`, what);
      assert.ok(b.error.innerError['request-id'], what);
      assert.ok(b.error.innerError.date, what);
      return b;
    };
    const audits = async () => (await db().selectFrom('audit_log').select(['id', 'activity', 'target_name']).orderBy('id').execute()).map((a) => `${a.id} ${a.activity} ${a.target_name}`);
    const newUser = async (name: string) => createUser(db(), { tenantId: server.tenantId, upn: `${name}@${server.tenantDomain}`, displayName: name, password: PW, roles: [] });

    /** A refresh token for `upn`, through a real sign-in with the demo native app. */
    const refreshTokenFor = async (upn: string): Promise<string> => {
      const p = pkce();
      const redirectUri = 'http://localhost:5999';
      const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: redirectUri, scope: 'openid offline_access https://graph.microsoft.com/Directory.AccessAsUser.All', code_challenge: p.challenge, code_challenge_method: 'S256' }, { user: upn, password: PW });
      const t = await token(server, { grant_type: 'authorization_code', client_id: DEMO.nativeAppId, code: out.redirect!.searchParams.get('code')!, redirect_uri: redirectUri, code_verifier: p.verifier, scope: GRAPH_DEFAULT });
      assert.ok(t.body.refresh_token, JSON.stringify(t.body));
      return t.body.refresh_token;
    };
    const refresh = (rt: string) => token(server, { grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: rt, scope: GRAPH_DEFAULT });

    before(async () => {
      server = await startTestServer(dbKind);
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
    });
    after(async () => {
      await server?.close();
    });

    test('/latchkey/v1 action with {"dryRun":true,"dryRun":false}: 400 naming dryRun; the sessions are untouched, nothing is planned or audited', async () => {
      const upn = `dupkeys-sessions@${server.tenantDomain}`;
      await newUser('dupkeys-sessions');
      let rt = await refreshTokenFor(upn);
      const userBefore = await findUserByUpn(db(), server.tenantId, upn);
      const auditBefore = await audits();
      const plansBefore = await db().selectFrom('admin_plans').select('id').execute();
      const path = `/latchkey/v1/users/${upn}/actions/revokeSessions`;

      refused(await send('POST', path, '{"dryRun":true,"dryRun":false}'), 'dryRun', 'plain duplicate');
      refused(await send('POST', path, '{"dryRun":true,"dry\\u0052un":false}'), 'dryRun', 'escaped duplicate');
      refused(await send('POST', path, '{"dryRun":false,"dryRun":true}'), 'dryRun', 'the other order');

      assert.deepEqual(await findUserByUpn(db(), server.tenantId, upn), userBefore, 'the user is unchanged');
      assert.deepEqual(await audits(), auditBefore, 'nothing audited');
      assert.deepEqual(await db().selectFrom('admin_plans').select('id').execute(), plansBefore, 'no plan kept');
      const still = await refresh(rt);
      assert.equal(still.status, 200, `the refresh token still refreshes: ${JSON.stringify(still.body)}`);
      rt = still.body.refresh_token ?? rt;

      // the control: the same action with a well-formed body applies, and the refresh token then stops working
      const applied = await send('POST', path, '{"dryRun":false}');
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      const dead = await refresh(rt);
      assert.equal(dead.body.error, 'invalid_grant', JSON.stringify(dead.body));
    });

    test('Graph PATCH /users/{id} with displayName twice, plain or escaped: 400 in Graph’s shape; the user is unchanged', async () => {
      const user = await newUser('dupkeys-rename');
      const before = await findUserByUpn(db(), server.tenantId, `dupkeys-rename@${server.tenantDomain}`);
      const auditBefore = await audits();
      for (const prefix of ['/v1.0', '/beta']) {
        refused(await send('PATCH', `${prefix}/users/${user.id}`, '{"displayName":"Renamed A","displayName":"Renamed B"}'), 'displayName', `${prefix} plain`);
        refused(await send('PATCH', `${prefix}/users/${user.id}`, '{"displayName":"a","display\\u004eame":"b"}'), 'displayName', `${prefix} escaped`);
        refused(await send('PATCH', `${prefix}/users/${user.id}`, '{"passwordProfile":{"forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignIn":false}}'), 'forceChangePasswordNextSignIn', `${prefix} nested`);
      }
      assert.deepEqual(await findUserByUpn(db(), server.tenantId, `dupkeys-rename@${server.tenantDomain}`), before, 'the user is unchanged');
      assert.deepEqual(await audits(), auditBefore, 'nothing audited');
      const got = await send('GET', `/v1.0/users/${user.id}?$select=displayName`);
      assert.equal((got.body as { displayName: string }).displayName, 'dupkeys-rename');
    });

    test('a JSON body that is not UTF-8 (bytes or a declared charset) is refused in Graph’s shape; the user is unchanged', async () => {
      const user = await newUser('dupkeys-utf8');
      const before = await findUserByUpn(db(), server.tenantId, `dupkeys-utf8@${server.tenantDomain}`);
      const auditBefore = await audits();
      const raw = async (bytes: Buffer, contentType: string) => {
        const res = await fetch(`${server.origin}/v1.0/users/${user.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${adminToken}`, 'content-type': contentType }, body: bytes });
        const text = await res.text();
        return { status: res.status, body: (text ? JSON.parse(text) : undefined) as GraphErrorBody };
      };
      // [what, body bytes, content type, the message]
      const cases: [string, Buffer, string, string][] = [
        ['Latin-1 bytes', Buffer.from('{"displayName":"caf\xe9"}', 'latin1'), 'application/json', 'The request body is not valid UTF-8.'],
        ['a byte-order mark of UTF-16', Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), 'application/json', 'The request body is not valid UTF-8.'],
        ['charset=utf-16', Buffer.from('{"displayName":"x"}'), 'application/json; charset=utf-16', "The request body's charset 'utf-16' is not supported: send JSON as UTF-8."],
        ['charset=latin1', Buffer.from('{"displayName":"x"}'), 'application/json; charset="ISO-8859-1"', "The request body's charset 'iso-8859-1' is not supported: send JSON as UTF-8."],
      ];
      for (const [what, bytes, type, message] of cases) {
        const r = await raw(bytes, type);
        assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.error.code, 'BadRequest', what);
        assert.equal(r.body.error.message, message, what);
      }
      assert.deepEqual(await findUserByUpn(db(), server.tenantId, `dupkeys-utf8@${server.tenantDomain}`), before, 'the user is unchanged');
      assert.deepEqual(await audits(), auditBefore, 'nothing audited');
      // UTF-8, declared or not, is read as sent
      assert.equal((await raw(Buffer.from('{"displayName":"Café ☕"}', 'utf8'), 'application/json; charset=UTF-8')).status, 204);
      const got = await send('GET', `/v1.0/users/${user.id}?$select=displayName`);
      assert.equal((got.body as { displayName: string }).displayName, 'Café ☕');
    });

    test('no false positives: the same name in sibling and nested objects, and string values spelled like names, are accepted', async () => {
      // one name in several objects: redirectUris in web and spa, id and type in each resourceAccess entry
      const appBody = `{
        "displayName": "Dup keys app",
        "web": { "redirectUris": ["https://dup.example/cb"] },
        "spa": { "redirectUris": ["https://dup.example/spa"] },
        "requiredResourceAccess": [{ "resourceAppId": "00000003-0000-0000-c000-000000000000", "resourceAccess": [
          { "id": "e1fe6dd8-ba31-4d61-89e7-88639da4683d", "type": "Scope" },
          { "id": "37f7f235-527c-4136-accd-4a02d197296e", "type": "Scope" } ] }]
      }`;
      const made = await send('POST', '/v1.0/applications', appBody);
      assert.equal(made.status, 201, JSON.stringify(made.body));
      const app = made.body as { web: { redirectUris: string[] }; spa: { redirectUris: string[] }; requiredResourceAccess: { resourceAccess: { id: string }[] }[] };
      assert.deepEqual(app.web.redirectUris, ['https://dup.example/cb']);
      assert.deepEqual(app.spa.redirectUris, ['https://dup.example/spa']);
      assert.equal(app.requiredResourceAccess[0]!.resourceAccess.length, 2);

      // string values that look like names: a value equal to another member's name, and one spelling a member
      const user = await newUser('dupkeys-values');
      const named = await send('PATCH', `/v1.0/users/${user.id}`, `{"displayName":"mail","mail":"dupkeys-values@${server.tenantDomain}"}`);
      assert.equal(named.status, 204, JSON.stringify(named.body));
      const tricky = 'x","displayName":"y';
      const patched = await send('PATCH', `/v1.0/users/${user.id}`, `{"displayName":${JSON.stringify(tricky)},"mail":"displayName@${server.tenantDomain}"}`);
      assert.equal(patched.status, 204, JSON.stringify(patched.body));
      const got = await send('GET', `/v1.0/users/${user.id}?$select=displayName,mail`);
      assert.deepEqual(got.body && { displayName: (got.body as { displayName: string }).displayName, mail: (got.body as { mail: string }).mail }, { displayName: tricky, mail: `displayName@${server.tenantDomain}` });

      // /latchkey/v1: a dry run whose body names dryRun once still plans
      const dry = await send('POST', `/latchkey/v1/users/dupkeys-values@${server.tenantDomain}/actions/revokeSessions`, '{ "dryRun" : true }');
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
    });

    test('a body that is not JSON is refused as before (the parser’s own error, not a duplicate)', async () => {
      const r = await send('POST', `/latchkey/v1/users/admin@${server.tenantDomain}/actions/revokeSessions`, '{');
      assert.equal(r.status, 400);
      const b = r.body as GraphErrorBody;
      assert.equal(b.error.code, 'BadRequest');
      assert.doesNotMatch(b.error.message, /more than once/);
    });
  });
}

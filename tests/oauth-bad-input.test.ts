// The OAuth endpoints ignore parameters they do not know (MSAL sends many) but answer a malformed or
// missing required one with the OAuth error JSON in Entra's shape (error, error_description starting
// `AADSTSnnnnn:`, error_codes) and a 400/401, never a 500; authorize errors that cannot be redirected get
// an error page. After every refusal the server still answers, and a refusal changes none of the
// directory's data nor issues anything. Plain fetch over HTTPS with the test CA; no browser.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { DEMO } from '../src/directory/seed.js';
import { GRAPH_RESOURCE } from '../src/directory/apps.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';
import { Jar, authorize, pkce, token, startSignIn } from './helpers/http-signin.js';

const FORM = 'application/x-www-form-urlencoded';
const NATIVE_REDIRECT = 'http://localhost:41234';

/** What MSAL (node) adds to its requests, and claims content nobody here understands. */
const MSAL_EXTRAS: Record<string, string> = {
  'x-client-SKU': 'msal.js.node',
  'x-client-VER': '3.8.0',
  'x-client-OS': 'linux',
  'x-client-CPU': 'x64',
  'x-app-name': 'latchkey-tests',
  'x-app-ver': '1.0',
  'client-request-id': '0b7c4b1e-6d1d-4f7a-9a33-5c5c2b2f6a11',
  'x-ms-lib-capability': 'retry-after, h429',
  'x-client-current-telemetry': '5|771,0|,|',
  client_info: '1',
  claims: JSON.stringify({ id_token: { signin_state: { essential: false }, unknown_claim: null }, access_token: { nbf: { essential: true, value: '1700000000' }, xms_cc: { values: ['cp9'] } } }),
  some_future_parameter: 'whatever',
};
const MSAL_HEADERS: Record<string, string> = { 'x-client-SKU': 'msal.js.node', 'x-client-VER': '3.8.0', 'x-ms-lib-capability': 'retry-after, h429', 'client-request-id': MSAL_EXTRAS['client-request-id']!, 'return-client-request-id': 'true' };

interface Answer {
  status: number;
  type: string;
  location: string | null;
  wwwAuthenticate: string | null;
  text: string;
}

for (const dbKind of await databases()) {
  describe(`OAuth endpoints refuse bad input in Entra's shape, never with a 500 (${dbKind})`, () => {
    let server: TestServer;

    before(async () => {
      server = await startTestServer(dbKind);
    });
    after(async () => {
      await server?.close();
    });

    const url = (path: string) => (path.startsWith('http') ? path : `${server.origin}${path}`);
    const tenantPath = (rest: string) => `/${server.tenantId}${rest}`;

    async function send(path: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Answer> {
      const res = await fetch(url(path), { redirect: 'manual', ...init });
      return { status: res.status, type: res.headers.get('content-type') ?? '', location: res.headers.get('location'), wwwAuthenticate: res.headers.get('www-authenticate'), text: await res.text() };
    }
    const post = (path: string, body: string | Buffer | undefined, contentType: string | undefined = FORM, headers: Record<string, string> = {}) =>
      send(path, { method: 'POST', body, headers: { ...(contentType ? { 'content-type': contentType } : {}), ...headers } });

    /** The server still answers: health, discovery, and a real token. */
    async function assertAlive(what: string) {
      const h = await fetch(`${server.origin}/healthz`);
      assert.equal(h.status, 200, `${what}: server still up`);
      const d = await fetch(`${server.origin}/${server.tenantId}/v2.0/.well-known/openid-configuration`);
      assert.equal(d.status, 200, `${what}: discovery still answers`);
    }

    /** The OAuth error JSON in Entra's shape, with the given status, error and (when given) AADSTS code. */
    async function assertOAuthError(r: Answer, what: string, want: { status: number; error: string; aadsts?: number; names?: RegExp }) {
      assert.notEqual(r.status, 500, `${what}: never a 500: ${r.text.slice(0, 300)}`);
      assert.equal(r.status, want.status, `${what}: ${r.text.slice(0, 300)}`);
      assert.match(r.type, /^application\/json/, `${what}: JSON, got ${r.type}`);
      const body = JSON.parse(r.text) as { error?: string; error_description?: string; error_codes?: number[]; correlation_id?: string };
      assert.equal(body.error, want.error, `${what}: ${r.text.slice(0, 300)}`);
      const m = /^AADSTS(\d+): /.exec(body.error_description ?? '');
      assert.ok(m, `${what}: error_description starts with AADSTSnnnnn: (${body.error_description})`);
      assert.deepEqual(body.error_codes, [Number(m[1])], `${what}: error_codes match the description`);
      if (want.aadsts !== undefined) assert.deepEqual(body.error_codes, [want.aadsts], `${what}: ${body.error_description}`);
      // a malformed request names what was wrong, beyond AADSTS900144's generic text
      if (want.names) assert.match(body.error_description!.replace(/ Trace ID: .*$/, ''), want.names, `${what}: names what was wrong`);
      await assertAlive(what);
      return body;
    }

    /** An error page (HTML, no redirect anywhere), for authorize errors that must not go to the redirect_uri. */
    async function assertErrorPage(r: Answer, what: string, aadsts?: number) {
      assert.notEqual(r.status, 500, `${what}: never a 500`);
      assert.ok(r.status >= 400 && r.status < 500, `${what}: a 4xx, got ${r.status}`);
      assert.equal(r.location, null, `${what}: must not redirect (got ${r.location})`);
      assert.match(r.type, /^text\/html/, what);
      assert.match(r.text, /having trouble signing you in/, what);
      if (aadsts !== undefined) assert.match(r.text, new RegExp(`AADSTS${aadsts}:`), `${what}: page names AADSTS${aadsts}`);
      await assertAlive(what);
    }

    /** Directory rows and issued credentials: a refusal changes none of them. */
    async function snapshot() {
      const db = server.store.db;
      return JSON.stringify({
        users: await db.selectFrom('users').selectAll().orderBy('id').execute(),
        roles: await db.selectFrom('user_roles').selectAll().orderBy('user_id').orderBy('role').execute(),
        apps: await db.selectFrom('apps').selectAll().orderBy('id').execute(),
        secrets: await db.selectFrom('app_secrets').selectAll().orderBy('id').execute(),
        grants: await db.selectFrom('permission_grants').select(['client_app_id', 'resource_app_id', 'kind', 'value']).orderBy('client_app_id').orderBy('resource_app_id').orderBy('value').execute(),
        sessions: await db.selectFrom('signin_sessions').select(['id', 'user_id', 'created_at']).orderBy('id').execute(),
        issued: await db.selectFrom('oidc_models').select(['model', 'id_hash', 'consumed_at']).where('model', 'in', ['AccessToken', 'ClientCredentials', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'Grant', 'Session']).orderBy('model').orderBy('id_hash').execute(),
      });
    }
    async function refusalsChangeNothing(run: () => Promise<void>) {
      const beforeRows = await snapshot();
      await run();
      assert.equal(await snapshot(), beforeRows, 'a refusal changed the directory or issued a credential');
    }

    test('unknown parameters (MSAL telemetry, claims nobody understands) are ignored everywhere', async () => {
      // client credentials, extras in the body and in headers
      const cc = await post(tenantPath('/oauth2/v2.0/token'), new URLSearchParams({ grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: `${GRAPH_RESOURCE}/.default`, ...MSAL_EXTRAS }).toString(), FORM, MSAL_HEADERS);
      assert.equal(cc.status, 200, cc.text);
      assert.equal(decodeJwt((JSON.parse(cc.text) as { access_token: string }).access_token).aud, GRAPH_RESOURCE);
      // device authorization
      const dc = await post(tenantPath('/oauth2/v2.0/devicecode'), new URLSearchParams({ client_id: DEMO.nativeAppId, scope: 'openid offline_access User.Read', ...MSAL_EXTRAS }).toString(), FORM, MSAL_HEADERS);
      assert.equal(dc.status, 200, dc.text);
      // authorize → sign-in → code, then the code and a refresh, all with the extras
      const { verifier, challenge } = pkce();
      const az = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope: 'openid profile offline_access User.Read', code_challenge: challenge, code_challenge_method: 'S256', prompt: 'select_account', response_mode: 'query', login_hint: `alice@${server.tenantDomain}`, domain_hint: 'organizations', ...MSAL_EXTRAS });
      const code = az.redirect?.searchParams.get('code');
      assert.ok(code, az.redirect?.href ?? `${az.status} ${az.html?.slice(0, 300)}`);
      const t = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code, redirect_uri: NATIVE_REDIRECT, code_verifier: verifier, scope: 'openid profile offline_access User.Read', ...MSAL_EXTRAS });
      assert.equal(t.status, 200, JSON.stringify(t.body));
      assert.equal(decodeJwt(t.body.access_token!).xms_cc, undefined, 'no cp1 asked (only an unknown capability): no xms_cc');
      const r = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: t.body.refresh_token!, scope: `${DEMO.apiIdentifier}/read offline_access`, ...MSAL_EXTRAS });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      // a refusal echoes client-request-id as correlation_id, as Entra does
      const refused = await post(tenantPath('/oauth2/v2.0/token'), new URLSearchParams({ grant_type: 'refresh_token', client_id: DEMO.nativeAppId, refresh_token: 'nope', ...MSAL_EXTRAS }).toString());
      const body = await assertOAuthError(refused, 'refusal with client-request-id', { status: 400, error: 'invalid_grant', aadsts: 9002313 });
      assert.equal(body.correlation_id, MSAL_EXTRAS['client-request-id']);
    });

    test('token endpoint: missing or malformed required parameters', async () => {
      await refusalsChangeNothing(async () => {
        const T = tenantPath('/oauth2/v2.0/token');
        const native = `client_id=${DEMO.nativeAppId}`;
        const automation = `client_id=${DEMO.automationAppId}&client_secret=automation-secret-value`;
        const cases: [string, Promise<Answer>, { status: number; error: string; aadsts?: number; names?: RegExp }][] = [
          ['no grant_type', post(T, native), { status: 400, error: 'invalid_request', aadsts: 900144, names: /'grant_type'/ }],
          ['unknown grant_type', post(T, `grant_type=magic&${native}`), { status: 400, error: 'unsupported_grant_type', aadsts: 70003 }],
          ['password grant (not offered)', post(T, `grant_type=password&${native}&username=alice&password=x&scope=User.Read`), { status: 400, error: 'unsupported_grant_type', aadsts: 70003 }],
          ['authorization_code without code', post(T, `grant_type=authorization_code&${native}&redirect_uri=${NATIVE_REDIRECT}&code_verifier=${'a'.repeat(43)}`), { status: 400, error: 'invalid_request', aadsts: 900144, names: /'code'/ }],
          ['authorization_code without redirect_uri', post(T, `grant_type=authorization_code&${native}&code=abc&code_verifier=${'a'.repeat(43)}`), { status: 400, error: 'invalid_request', aadsts: 900144, names: /'redirect_uri'/ }],
          ['authorization_code with an unknown code', post(T, `grant_type=authorization_code&${native}&code=abc&redirect_uri=${NATIVE_REDIRECT}&code_verifier=${'a'.repeat(43)}`), { status: 400, error: 'invalid_grant', aadsts: 70008 }],
          ['refresh_token without refresh_token', post(T, `grant_type=refresh_token&${native}`), { status: 400, error: 'invalid_request', aadsts: 900144, names: /'refresh_token'/ }],
          ['device_code without device_code', post(T, `grant_type=device_code&${native}`), { status: 400, error: 'invalid_request', aadsts: 900144, names: /'device_code'/ }],
          ['device_code with an unknown device_code', post(T, `grant_type=device_code&${native}&device_code=abc`), { status: 400, error: 'invalid_grant', aadsts: 70008 }],
          ['no client_id', post(T, 'grant_type=refresh_token&refresh_token=x'), { status: 400, error: 'invalid_request', aadsts: 900144 }],
          // a refresh token of an app that is not (or no longer) registered: the grant is gone (invalid_grant, bad_token: MSAL drops it)
          ['unknown client_id', post(T, 'grant_type=refresh_token&refresh_token=x&client_id=not-an-app'), { status: 400, error: 'invalid_grant', aadsts: 700016 }],
          ['client_id with a NUL byte', post(T, 'grant_type=client_credentials&client_id=a%00b&client_secret=x&scope=.default'), { status: 401, error: 'invalid_client', aadsts: 700016 }],
          ['client_credentials without client_secret', post(T, `grant_type=client_credentials&client_id=${DEMO.automationAppId}&scope=.default`), { status: 401, error: 'invalid_client' }],
          ['client_credentials without scope', post(T, `grant_type=client_credentials&${automation}`), { status: 400, error: 'invalid_request', aadsts: 900144, names: /'scope'/ }],
          ['client_credentials with a blank scope', post(T, `grant_type=client_credentials&${automation}&scope=%20%20`), { status: 400, error: 'invalid_request', aadsts: 900144 }],
          ['client_credentials with scope=openid', post(T, `grant_type=client_credentials&${automation}&scope=openid`), { status: 400, error: 'invalid_scope', aadsts: 70011 }],
          ['client_credentials for a named permission', post(T, `grant_type=client_credentials&${automation}&scope=${encodeURIComponent(`${GRAPH_RESOURCE}/User.Read`)}`), { status: 400, error: 'invalid_scope', aadsts: 70011 }],
          ['client_credentials for a bare name', post(T, `grant_type=client_credentials&${automation}&scope=junk`), { status: 400, error: 'invalid_scope', aadsts: 70011, names: /scope https:\/\/graph\.microsoft\.com\/junk is not valid\. Client credential flows must have a scope value with \/\.default/ }],
          ['client_credentials for .default and a bare name', post(T, `grant_type=client_credentials&${automation}&scope=${encodeURIComponent(`${GRAPH_RESOURCE}/.default junk`)}`), { status: 400, error: 'invalid_scope', aadsts: 70011 }],
          ['client_credentials for /.default without a resource', post(T, `grant_type=client_credentials&${automation}&scope=/.default`), { status: 400, error: 'invalid_scope', aadsts: 70011 }],
          ['client_credentials with a 100 KB scope', post(T, `grant_type=client_credentials&${automation}&scope=${'a'.repeat(100_000)}`), { status: 400, error: 'invalid_scope', aadsts: 70011 }],
          ['client_credentials for two resources', post(T, `grant_type=client_credentials&${automation}&scope=${encodeURIComponent(`${GRAPH_RESOURCE}/.default ${DEMO.apiIdentifier}/.default`)}`), { status: 400, error: 'invalid_scope', aadsts: 70011 }],
          ['client_credentials for an unknown resource', post(T, `grant_type=client_credentials&${automation}&scope=api://nothing-here/.default`), { status: 400, error: 'invalid_target', aadsts: 500011 }],
          ['client_credentials by a public client', post(T, `grant_type=client_credentials&${native}&scope=.default`), { status: 400, error: 'invalid_request' }],
          ['scope with a NUL byte', post(T, `grant_type=client_credentials&${automation}&scope=api://x%00/.default`), { status: 400, error: 'invalid_scope' }],
          ['client credentials twice (Basic and body)', post(T, `grant_type=client_credentials&scope=.default&${automation}`, FORM, { authorization: `Basic ${Buffer.from(`${DEMO.automationAppId}:automation-secret-value`).toString('base64')}` }), { status: 400, error: 'invalid_request' }],
          ['Basic header that is not base64', post(T, 'grant_type=client_credentials&scope=.default', FORM, { authorization: 'Basic !!!' }), { status: 400, error: 'invalid_request' }],
          ['Basic header with bad percent-encoding', post(T, 'grant_type=client_credentials&scope=.default', FORM, { authorization: `Basic ${Buffer.from('%ZZ:%E0%A4%A').toString('base64')}` }), { status: 400, error: 'invalid_request' }],
        ];
        for (const [what, answer, want] of cases) await assertOAuthError(await answer, what, want);
      });
    });

    test("an error's error_uri opens a page that says what its AADSTS code means", async () => {
      const r = await post(tenantPath('/oauth2/v2.0/token'), `grant_type=authorization_code&client_id=${DEMO.nativeAppId}&code=abc&redirect_uri=${NATIVE_REDIRECT}&code_verifier=${'a'.repeat(43)}`);
      const body = JSON.parse(r.text) as { error_uri: string; error_codes: number[] };
      assert.equal(body.error_uri, `${server.origin}/error?code=70008`);
      const page = await fetch(body.error_uri);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const html = await page.text();
      assert.match(html, /<h1>AADSTS70008<\/h1>/);
      assert.match(html, /The provided authorization code or refresh token has expired or is not valid\./);
      // a sign-in page's code too, without its "(AADSTSnnnnn)" suffix
      assert.match(await (await fetch(`${server.origin}/error?code=50126`)).text(), /Your account or password is incorrect\.[^(]*<\/li>/);
      const unknown = await fetch(`${server.origin}/error?code=12345`);
      assert.equal(unknown.status, 200);
      assert.match(await unknown.text(), /does not answer with this code/);
      const junk = await fetch(`${server.origin}/error?code=%3Cscript%3E`);
      assert.equal(junk.status, 400);
      assert.doesNotMatch(await junk.text(), /<script>/);
    });

    test('token endpoint: repeated parameters, wrong bodies, wrong content types, oversized and undecodable input', async () => {
      await refusalsChangeNothing(async () => {
        const T = tenantPath('/oauth2/v2.0/token');
        const cc = `grant_type=client_credentials&client_id=${DEMO.automationAppId}&client_secret=automation-secret-value&scope=.default`;
        const invalid = { status: 400, error: 'invalid_request', aadsts: 900144 };
        const cases: [string, () => Promise<Answer>, { status: number; error: string; aadsts?: number; names?: RegExp }][] = [
          ['repeated grant_type', () => post(T, `${cc}&grant_type=client_credentials`), { ...invalid, names: /'grant_type'/ }],
          ['repeated client_secret', () => post(T, `${cc}&client_secret=other`), invalid],
          ['repeated scope', () => post(T, `${cc}&scope=.default`), { ...invalid, names: /'scope'/ }],
          ['JSON body', () => post(T, JSON.stringify({ grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: '.default' }), 'application/json'), invalid],
          ['malformed JSON body', () => post(T, '{"grant_type":', 'application/json'), invalid],
          ['empty form body', () => post(T, ''), invalid],
          ['no body and no content type', () => post(T, undefined, undefined), invalid],
          ['text/plain body', () => post(T, cc, 'text/plain'), invalid],
          ['multipart body', () => post(T, `--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nclient_credentials\r\n--x--\r\n`, 'multipart/form-data; boundary=x'), invalid],
          ['form body over 256 KiB', () => post(T, `${cc}&padding=${'a'.repeat(300 * 1024)}`), invalid],
          ['JSON body over 256 KiB', () => post(T, JSON.stringify({ padding: 'a'.repeat(300 * 1024) }), 'application/json'), invalid],
          // (the engine re-reads our parsed form with querystring's 1000-key limit: grant_type, last, is lost)
          ['5000 parameters', () => post(T, `${Array.from({ length: 5000 }, (_, i) => `p${i}=${i}`).join('&')}&grant_type=magic`), invalid],
          ['invalid percent-encoding', () => post(T, 'grant_type=client_credentials&client_id=%ZZ%E0%A4%A&client_secret=%&scope=%G0'), { status: 401, error: 'invalid_client', aadsts: 700016 }],
          ['invalid UTF-8 bytes', () => post(T, Buffer.concat([Buffer.from('grant_type='), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('&client_id='), Buffer.from([0xc0, 0xaf])])), { status: 401, error: 'invalid_client', aadsts: 700016 }],
          ['percent-encoded invalid UTF-8', () => post(T, 'grant_type=%FF%FE&client_id=%C0%AF'), { status: 401, error: 'invalid_client', aadsts: 700016 }],
          ['invalid UTF-8 in the grant_type of a known client', () => post(T, Buffer.concat([Buffer.from(`client_id=${DEMO.nativeAppId}&grant_type=`), Buffer.from([0xff, 0xfe, 0xc3])])), { status: 400, error: 'unsupported_grant_type', aadsts: 70003 }],
        ];
        for (const [what, run, want] of cases) await assertOAuthError(await run(), what, want);
        // the engine's own route table: GET is not a token request
        const get = await send(T);
        assert.ok(get.status >= 400 && get.status < 500, `GET token: ${get.status}`);
        await assertAlive('GET token');
      });
    });

    test('authorize: missing or unknown client and unregistered redirect_uri get an error page, never a redirect', async () => {
      await refusalsChangeNothing(async () => {
        const { challenge } = pkce();
        const base: Record<string, string> = { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope: 'openid User.Read', code_challenge: challenge, code_challenge_method: 'S256', state: 'st' };
        const A = (params: Record<string, string>) => send(`${tenantPath('/oauth2/v2.0/authorize')}?${new URLSearchParams(params)}`, { headers: { accept: 'text/html' } });
        const { client_id: _omit, ...noClient } = base;
        void _omit;
        await assertErrorPage(await A(noClient), 'missing client_id', 900144);
        await assertErrorPage(await A({ ...base, client_id: 'not-an-app' }), 'unknown client_id', 700016);
        await assertErrorPage(await A({ ...base, client_id: '00000000-0000-0000-0000-000000000000' }), 'unknown client_id (GUID)', 700016);
        await assertErrorPage(await A({ ...base, client_id: 'a\0b' }), 'client_id with a NUL byte', 700016);
        await assertErrorPage(await A({ ...base, client_id: GRAPH_RESOURCE }), 'a resource, not a client', 700016);
        for (const redirect of ['https://evil.example/cb', `${server.origin}/demo/callback`, 'http://localhost:41234/', 'http://localhost.evil.example:41234', 'javascript:alert(1)']) {
          await assertErrorPage(await A({ ...base, redirect_uri: redirect }), `unregistered redirect_uri ${redirect}`, 50011);
          await assertErrorPage(await A({ ...base, redirect_uri: redirect, prompt: 'none' }), `unregistered redirect_uri ${redirect} with prompt=none`, 50011);
        }
        await assertErrorPage(await A({ ...base, client_id: DEMO.webAppId, redirect_uri: 'https://evil.example/demo/callback' }), 'web app, foreign redirect_uri', 50011);
        // without accept: text/html the page is still not a redirect
        const json = await send(`${tenantPath('/oauth2/v2.0/authorize')}?${new URLSearchParams({ ...base, redirect_uri: 'https://evil.example/cb' })}`);
        assert.equal(json.location, null);
        assert.ok(json.status >= 400 && json.status < 500);
        await assertAlive('unregistered redirect_uri, no accept header');
      });
    });

    test('authorize: response types and parameters that are not allowed go back to the app as errors, with nothing issued', async () => {
      await refusalsChangeNothing(async () => {
        const { challenge } = pkce();
        const base: Record<string, string> = { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope: 'openid User.Read', code_challenge: challenge, code_challenge_method: 'S256', state: 'st' };
        const A = (params: Record<string, string>, extra = '') => send(`${tenantPath('/oauth2/v2.0/authorize')}?${new URLSearchParams(params)}${extra}`, { headers: { accept: 'text/html' } });
        const cases: [string, Promise<Answer>, string][] = [
          ['response_type=token', A({ ...base, response_type: 'token' }), 'unsupported_response_type'],
          ['response_type=id_token', A({ ...base, response_type: 'id_token', nonce: 'n' }), 'unsupported_response_type'],
          ['response_type=code id_token', A({ ...base, response_type: 'code id_token', nonce: 'n' }), 'unsupported_response_type'],
          ['no response_type', A({ ...base, response_type: '' }), 'invalid_request'],
          ['claims that are not JSON', A({ ...base, claims: '{not json' }), 'invalid_request'],
          ['repeated scope', A(base, '&scope=openid'), 'invalid_request'],
          ['unknown prompt', A({ ...base, prompt: 'dance' }), 'invalid_request'],
          ['scope with a NUL byte', A({ ...base, scope: 'openid api://a\0/x' }), 'invalid_scope'],
        ];
        for (const [what, answer, error] of cases) {
          const r = await answer;
          assert.notEqual(r.status, 500, what);
          const location = r.location ?? '';
          assert.ok(location.startsWith(NATIVE_REDIRECT), `${what}: back to the app (${r.status} ${location} ${r.text.slice(0, 200)})`);
          const back = new URL(location.replace('#', '?'));
          assert.equal(back.searchParams.get('error'), error, `${what}: ${location}`);
          for (const issued of ['code', 'access_token', 'id_token']) assert.equal(back.searchParams.get(issued), null, `${what}: no ${issued}`);
          assert.equal(back.searchParams.get('iss'), server.issuer);
          await assertAlive(what);
        }
      });
    });

    test('devicecode: unknown or missing client', async () => {
      await refusalsChangeNothing(async () => {
        const D = tenantPath('/oauth2/v2.0/devicecode');
        await assertOAuthError(await post(D, 'client_id=not-an-app&scope=User.Read'), 'unknown client', { status: 401, error: 'invalid_client', aadsts: 700016 });
        await assertOAuthError(await post(D, 'client_id=a%00b&scope=User.Read'), 'client_id with a NUL byte', { status: 401, error: 'invalid_client', aadsts: 700016 });
        await assertOAuthError(await post(D, 'scope=User.Read'), 'no client', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(D, `client_id=${DEMO.nativeAppId}`), 'no scope', { status: 400, error: 'invalid_request', aadsts: 900144, names: /'scope'/ });
        await assertOAuthError(await post(D, `client_id=${DEMO.nativeAppId}&scope=%20`), 'a blank scope', { status: 400, error: 'invalid_request', aadsts: 900144, names: /'scope'/ });
        await assertOAuthError(await post(D, `client_id=${DEMO.nativeAppId}&scope=User.Read&scope=openid`), 'repeated scope', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(D, `client_id=${DEMO.nativeAppId}&scope=api://nothing-here/read`), 'unknown resource', { status: 400, error: 'invalid_target', aadsts: 500011 });
        await assertOAuthError(await post(D, JSON.stringify({ client_id: DEMO.nativeAppId }), 'application/json'), 'JSON body', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(D, `client_id=${DEMO.nativeAppId}&padding=${'a'.repeat(300 * 1024)}`), 'body over 256 KiB', { status: 400, error: 'invalid_request', aadsts: 900144 });
      });
    });

    test('introspection: no client authentication, a wrong secret, no token, unreadable bodies', async () => {
      await refusalsChangeNothing(async () => {
        const I = tenantPath('/oauth2/v2.0/introspect');
        const api = `client_id=${DEMO.apiAppId}&client_secret=demo-api-secret`;
        const basic = (id: string, secret: string) => ({ authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` });
        await assertOAuthError(await post(I, 'token=abc'), 'no client authentication', { status: 401, error: 'invalid_client', aadsts: 7000218 });
        await assertOAuthError(await post(I, `token=abc&client_id=${DEMO.apiAppId}`), 'client_id without secret', { status: 401, error: 'invalid_client', aadsts: 7000218 });
        await assertOAuthError(await post(I, `token=abc&client_id=${DEMO.apiAppId}&client_secret=wrong`), 'wrong secret (post)', { status: 401, error: 'invalid_client', aadsts: 7000215 });
        await assertOAuthError(await post(I, 'token=abc', FORM, basic(DEMO.apiAppId, 'wrong')), 'wrong secret (basic)', { status: 401, error: 'invalid_client', aadsts: 7000215 });
        await assertOAuthError(await post(I, 'token=abc&client_id=not-an-app&client_secret=x'), 'unknown client', { status: 401, error: 'invalid_client', aadsts: 700016 });
        await assertOAuthError(await post(I, `token=abc&client_id=${DEMO.nativeAppId}&client_secret=x`), 'a public client', { status: 401, error: 'invalid_client', aadsts: 700016 });
        await assertOAuthError(await post(I, 'token=abc&client_id=a%00b&client_secret=x'), 'client_id with a NUL byte', { status: 401, error: 'invalid_client', aadsts: 700016 });
        await assertOAuthError(await post(I, 'token=abc', FORM, { authorization: `Basic ${Buffer.from('%ZZ:%E0%A4%A').toString('base64')}` }), 'Basic with bad percent-encoding', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(I, api), 'no token', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(I, `${api}&token=`), 'empty token', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(I, '{"token":', 'application/json'), 'malformed JSON', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(I, `${api}&token=${'a'.repeat(300 * 1024)}`), 'body over 256 KiB', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(I, 'token=abc', 'text/plain'), 'text/plain body', { status: 400, error: 'invalid_request' });
        // garbage tokens are simply inactive
        for (const garbage of ['abc', 'a.b.c', 'a%00b', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.']) {
          const r = await post(I, `${api}&token=${garbage}`);
          assert.equal(r.status, 200, `${garbage}: ${r.text}`);
          assert.deepEqual(JSON.parse(r.text), { active: false });
        }
        await assertAlive('introspection');
      });
    });

    test('userinfo: a garbage bearer is 401 with WWW-Authenticate', async () => {
      await refusalsChangeNothing(async () => {
        const U = tenantPath('/openid/userinfo');
        const cases: [string, Record<string, string>][] = [
          ['no authorization', {}],
          ['garbage bearer', { authorization: 'Bearer garbage' }],
          ['garbage JWT', { authorization: 'Bearer a.b.c' }],
          ['unsigned JWT', { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4IiwiYXVkIjoiaHR0cHM6Ly9ncmFwaC5taWNyb3NvZnQuY29tIn0.' }],
          ['empty bearer', { authorization: 'Bearer ' }],
          ['Basic instead of Bearer', { authorization: 'Basic YTpi' }],
          ['bearer with spaces', { authorization: 'Bearer a b c' }],
        ];
        for (const [what, headers] of cases) {
          for (const method of ['GET', 'POST']) {
            const r = await send(U, { method, headers });
            assert.equal(r.status, 401, `${method} ${what}: ${r.text}`);
            assert.match(r.wwwAuthenticate ?? '', /^Bearer .*error="invalid_token"/, `${method} ${what}`);
            await assertAlive(`${method} ${what}`);
          }
        }
        const bad = await post(U, '{"x":', 'application/json', { authorization: 'Bearer garbage' });
        assert.ok(bad.status === 400 || bad.status === 401, `malformed JSON body: ${bad.status} ${bad.text}`);
        await assertAlive('userinfo with a malformed body');
      });
    });

    test('revocation: garbage tokens, missing token or client, wrong secret', async () => {
      await refusalsChangeNothing(async () => {
        const R = tenantPath('/oauth2/v2.0/revoke');
        for (const garbage of ['garbage', 'a.b.c', 'a%00b', '%ZZ']) {
          const r = await post(R, `token=${garbage}&client_id=${DEMO.nativeAppId}`);
          assert.equal(r.status, 200, `revoking garbage (RFC 7009): ${r.status} ${r.text}`);
          assert.equal(r.text, '');
          assert.equal(r.type, '', 'an empty answer has no content type (oidc-client-ts refuses text/plain)');
          await assertAlive(`revoke ${garbage}`);
        }
        // an access token is a JWT: it cannot be revoked (RFC 7009's unsupported_token_type), it lives until it expires
        const t = await post(tenantPath('/oauth2/v2.0/token'), new URLSearchParams({ grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: `${GRAPH_RESOURCE}/.default` }).toString());
        const accessToken = (JSON.parse(t.text) as { access_token: string }).access_token;
        const jwt = await assertOAuthError(await post(R, new URLSearchParams({ token: accessToken, token_type_hint: 'access_token', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value' }).toString()), 'an access token', { status: 400, error: 'unsupported_token_type' });
        assert.match(jwt.error_description!, /Access tokens are JWTs that cannot be revoked/);
        await assertOAuthError(await post(R, 'token=garbage'), 'no client', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(R, `client_id=${DEMO.nativeAppId}`), 'no token', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(R, `token=garbage&client_id=${DEMO.webAppId}&client_secret=wrong`), 'wrong secret', { status: 401, error: 'invalid_client', aadsts: 7000215 });
        await assertOAuthError(await post(R, 'token=garbage&client_id=not-an-app'), 'unknown client', { status: 401, error: 'invalid_client', aadsts: 700016 });
        await assertOAuthError(await post(R, 'token=garbage&client_id=a%00b'), 'client_id with a NUL byte', { status: 401, error: 'invalid_client', aadsts: 700016 });
        await assertOAuthError(await post(R, `token=garbage&client_id=${DEMO.nativeAppId}&token=other`), 'repeated token', { status: 400, error: 'invalid_request', aadsts: 900144 });
        await assertOAuthError(await post(R, `client_id=${DEMO.nativeAppId}&token=${'a'.repeat(300 * 1024)}`), 'body over 256 KiB', { status: 400, error: 'invalid_request', aadsts: 900144 });
      });
    });

    test('malformed percent-encoding in paths under the tenant gets a 400 and the server keeps serving', async () => {
      await refusalsChangeNothing(async () => {
        const tid = server.tenantId;
        const paths = [
          '/%E0%A4%A',
          '/%ZZ',
          '/%',
          `/${tid}/oauth2/v2.0/token%`,
          `/${tid}/oauth2/v2.0/authorize%E0%A4%A?client_id=x`,
          `/${tid}/oauth2/v2.0/authorize/%E0%A4%A`,
          `/${tid}%ZZ/oauth2/v2.0/token`,
          `/${tid}%E0%A4%A/v2.0/.well-known/openid-configuration`,
          `/organizations%ZZ/oauth2/v2.0/authorize`,
          `/${tid}/v2.0/.well-known/openid-configuration%`,
          `/${tid}/discovery/v2.0/keys%`,
          `/${tid}/oauth2/v2.0/devicecode%E0`,
          `/${tid}/oauth2/deviceauth/%E0%A4%A`,
          `/${tid}/openid/userinfo%`,
          `/${tid}/oauth2/v2.0/introspect%ZZ`,
          `/${tid}/%E0%A4%A`,
          '/signin/%E0%A4%A',
          // ... and in the query
          `/${tid}/oauth2/v2.0/authorize?client_id=%E0%A4%A&response_type=code`,
          `/${tid}/oauth2/v2.0/token?x=%ZZ`,
          `/organizations/oauth2/v2.0/authorize?state=%`,
        ];
        for (const path of paths) {
          for (const method of ['GET', 'POST']) {
            const r = await send(path, method === 'POST' ? { method, headers: { 'content-type': FORM }, body: 'grant_type=client_credentials' } : { method });
            assert.equal(r.status, 400, `${method} ${path}: ${r.text.slice(0, 200)}`);
            assert.doesNotMatch(r.text, /__malformed/, `${method} ${path}: no internal path in the answer`);
            await assertAlive(`${method} ${path}`);
          }
        }
      });
    });

    test('logout: a refusal is a page naming what was wrong, whatever the Accept header asks for', async () => {
      await refusalsChangeNothing(async () => {
        // [query, what the page must say beyond AADSTS900144's generic text] — the engine once answered
        // these with bare JSON (no AADSTS code) to any client that did not prefer HTML
        const cases: [string, string][] = [
          [`client_id=${DEMO.nativeAppId}&post_logout_redirect_uri=${encodeURIComponent('https://evil.example/')}`, 'post_logout_redirect_uri not registered.'],
          ['id_token_hint=junk', 'Could not decode id_token_hint.'],
          ['client_id=a&client_id=b', "&#39;client_id&#39; parameter must not be provided twice."],
        ];
        for (const [query, said] of cases) {
          for (const accept of ['application/json', '*/*', 'text/html']) {
            const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/logout?${query}`, { headers: { accept }, redirect: 'manual' });
            const html = await res.text();
            const what = `logout?${query} (Accept: ${accept})`;
            assert.equal(res.status, 400, what);
            assert.match(String(res.headers.get('content-type')), /^text\/html/, what);
            assert.equal(res.headers.get('x-content-type-options'), 'nosniff', what);
            const message = /<p id="errorCode">([^<]*)<\/p>/.exec(html)?.[1];
            assert.equal(message, `AADSTS900144: The request is missing a required parameter or has a malformed one. ${said}`, what);
          }
        }
        await assertAlive('logout refusals');
      });
    });

    test('sign-in: a user name with a NUL byte is refused with a page, not a 500', async () => {
      await refusalsChangeNothing(async () => {
        const jar = new Jar();
        const { challenge } = pkce();
        const q = new URLSearchParams({ client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope: 'openid', code_challenge: challenge, code_challenge_method: 'S256' });
        const first = await startSignIn(server, jar, Object.fromEntries(q));
        const page = first.at;
        const csrf = /name="csrf" value="([^"]+)"/.exec(first.html)?.[1] ?? '';
        const res = await fetch(page, { method: 'POST', headers: { cookie: jar.header(), 'content-type': FORM }, body: new URLSearchParams({ csrf, step: 'username', loginfmt: `ali\0ce@${server.tenantDomain}` }), redirect: 'manual' });
        await res.text();
        assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`);
        await assertAlive('sign-in with a NUL byte');
      });
    });
  });
}

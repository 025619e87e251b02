// Graph /applications refuses bad application properties the way Graph does, naming what was wrong, and
// changes nothing (apps, secrets, identifier URIs, the directory version, audit and outbox are compared
// before and after each request): malformed and non-HTTPS redirect URIs (loopback http allowed),
// fragments and wildcards, identifier URIs taken by another app or repeated, scopes and app roles that
// are not well-formed, enabled permissions removed without being disabled first, unknown properties,
// wrong types, bodies over the limit, an unknown keyId for removePassword. The generic checks of every
// route (tokens, hostile ids, content types, methods) are tests/graph-bad-input.test.ts's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const TABLES = ['apps', 'app_secrets', 'app_identifier_uris', 'directory_versions', 'audit_log', 'outbox'] as const;
const SCOPE = { id: '6a2f4c1e-0b3d-4e5f-8a9b-0c1d2e3f4a5b', value: 'Things.Read', type: 'User', isEnabled: true, adminConsentDisplayName: 'Read', adminConsentDescription: 'Read' };
const ROLE = { id: '7b3f4c1e-0b3d-4e5f-8a9b-0c1d2e3f4a5b', value: 'Things.All', displayName: 'All', description: 'All', isEnabled: true, allowedMemberTypes: ['Application'] };

for (const dbKind of await databases()) {
  describe(`Graph /applications bad input (${dbKind})`, () => {
    let server: TestServer;
    let admin: string;
    let app: { id: string; appId: string };

    const snapshot = async () => {
      const out: Record<string, unknown[]> = {};
      // the outbox's delivery bookkeeping moves on its own: its events are compared, not their attempts
      for (const t of TABLES) out[t] = (await server.store.db.selectFrom(t).selectAll().execute()).map((r) => JSON.stringify(t === 'outbox' ? { id: r.id, type: (r as { type: string }).type, payload: (r as { payload: string }).payload } : r)).sort();
      return out;
    };
    const send = async (method: string, path: string, body: unknown, raw?: string) => {
      const res = await fetch(`${server.origin}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: raw ?? JSON.stringify(body) });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as { error?: { code: string; message: string } } };
    };
    /** A refusal with this status and code whose message matches, and no row changed. */
    const refused = async (method: string, path: string, body: unknown, status: number, code: string, message: RegExp, raw?: string) => {
      const before = await snapshot();
      const r = await send(method, path, body, raw);
      assert.equal(r.status, status, `${method} ${path} ${JSON.stringify(body).slice(0, 200)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error?.code, code, JSON.stringify(r.body));
      assert.match(r.body.error?.message ?? '', message);
      assert.deepEqual(await snapshot(), before, `nothing changed: ${JSON.stringify(body).slice(0, 200)}`);
    };

    before(async () => {
      server = await startTestServer(dbKind);
      await consentNativeAppToGraph(server);
      admin = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      const made = await send('POST', '/v1.0/applications', { displayName: 'Holder', identifierUris: ['api://taken'], api: { oauth2PermissionScopes: [SCOPE] }, appRoles: [ROLE] });
      assert.equal(made.status, 201);
      app = made.body as unknown as { id: string; appId: string };
    });
    after(async () => {
      await server?.close();
    });

    test('redirect URIs: malformed, non-HTTPS (but loopback), fragments, wildcards, repeated, too many, per platform', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ web: { redirectUris: ['not a uri'] } }, /web\.redirectUris.*not an absolute URI/],
        [{ web: { redirectUris: ['/relative/path'] } }, /web\.redirectUris.*not an absolute URI/],
        [{ web: { redirectUris: ['http://app.example/cb'] } }, /web\.redirectUris.*must use HTTPS/],
        [{ spa: { redirectUris: ['http://10.0.0.1/cb'] } }, /spa\.redirectUris.*must use HTTPS/],
        [{ web: { redirectUris: ['ftp://app.example/cb'] } }, /web\.redirectUris.*must use HTTPS/],
        [{ web: { redirectUris: ['https://app.example/cb#frag'] } }, /fragment/],
        [{ publicClient: { redirectUris: ['msalapp://auth#x'] } }, /publicClient\.redirectUris.*fragment/],
        [{ spa: { redirectUris: ['https://*.example/cb'] } }, /wildcard/],
        [{ publicClient: { redirectUris: ['javascript:alert(1)'] } }, /javascript scheme/],
        [{ publicClient: { redirectUris: ['https://localhost/cb'] } }, /loopback/],
        [{ web: { redirectUris: ['https://a.example/cb', 'https://a.example/cb'] } }, /repeated/],
        [{ web: { redirectUris: Array.from({ length: 257 }, (_, i) => `https://a.example/${i}`) } }, /at most 256|more than 256/],
        [{ web: { redirectUris: [`https://a.example/${'x'.repeat(300)}`] } }, /longer than 256/],
        [{ web: { logoutUrl: 'http://app.example/out' } }, /web\.logoutUrl.*must use HTTPS/],
        [{ extension_latchkey_backchannelLogoutUri: 'https://app.example/bc#x' }, /backchannelLogoutUri.*fragment/],
      ];
      for (const [body, message] of cases) {
        await refused('POST', '/v1.0/applications', { displayName: 'Bad', ...body }, 400, 'Request_BadRequest', message);
        await refused('PATCH', `/v1.0/applications/${app.id}`, body, 400, 'Request_BadRequest', message);
      }
      // loopback http is allowed on every platform
      const ok = await send('PATCH', `/v1.0/applications/${app.id}`, { web: { redirectUris: ['http://localhost:8080/cb', 'http://127.0.0.1/cb'] }, spa: { redirectUris: ['http://localhost:3000'] }, publicClient: { redirectUris: ['http://localhost', 'msalapp://auth'] } });
      assert.equal(ok.status, 204, JSON.stringify(ok.body));
    });

    test('identifier URIs: taken by another app (also on PATCH), repeated, malformed', async () => {
      await refused('POST', '/v1.0/applications', { displayName: 'Dup', identifierUris: ['api://taken'] }, 400, 'Request_MultipleObjectsWithSameKeyValue', /identifierUris already exists: 'api:\/\/taken'/);
      const other = await send('POST', '/v1.0/applications', { displayName: 'Other' });
      await refused('PATCH', `/v1.0/applications/${(other.body as { id: string }).id}`, { identifierUris: ['api://free', 'api://taken'] }, 400, 'Request_MultipleObjectsWithSameKeyValue', /api:\/\/taken/);
      await refused('POST', '/v1.0/applications', { displayName: 'Dup', identifierUris: ['api://same', 'API://same'] }, 400, 'Request_BadRequest', /repeated/);
      for (const bad of ['not a uri', 'ftp://x.example', 'api://x#frag', 'api://x/*']) await refused('POST', '/v1.0/applications', { displayName: 'Bad', identifierUris: [bad] }, 400, 'Request_BadRequest', /identifierUris/);
      // the holder may keep its own URI
      assert.equal((await send('PATCH', `/v1.0/applications/${app.id}`, { identifierUris: ['api://taken', 'api://taken-too'] })).status, 204);
    });

    test('scopes and app roles: ids, values, types; an enabled one is disabled before it is removed', async () => {
      const scope = (p: Record<string, unknown>) => ({ api: { oauth2PermissionScopes: [{ ...SCOPE, ...p }] } });
      await refused('PATCH', `/v1.0/applications/${app.id}`, scope({ id: 'not-a-guid' }), 400, 'Request_BadRequest', /not a GUID/);
      await refused('PATCH', `/v1.0/applications/${app.id}`, scope({ value: 'has space' }), 400, 'Request_BadRequest', /has a space/);
      await refused('PATCH', `/v1.0/applications/${app.id}`, scope({ type: 'Everyone' }), 400, 'Request_BadRequest', /'User' or 'Admin'/);
      await refused('PATCH', `/v1.0/applications/${app.id}`, { api: { oauth2PermissionScopes: [SCOPE, { ...SCOPE, id: '8c3f4c1e-0b3d-4e5f-8a9b-0c1d2e3f4a5b' }] } }, 400, 'Request_BadRequest', /two items with the value/);
      await refused('PATCH', `/v1.0/applications/${app.id}`, { appRoles: [{ ...ROLE, allowedMemberTypes: ['Robots'] }] }, 400, 'Request_BadRequest', /allowedMemberTypes/);
      await refused('PATCH', `/v1.0/applications/${app.id}`, { api: { oauth2PermissionScopes: [] } }, 400, 'Request_BadRequest', /CannotDeleteOrUpdateEnabledEntitlement/);
      await refused('PATCH', `/v1.0/applications/${app.id}`, { appRoles: [{ ...ROLE, value: 'Renamed' }] }, 400, 'Request_BadRequest', /CannotDeleteOrUpdateEnabledEntitlement/);
      // disabled first, then removed: accepted
      assert.equal((await send('PATCH', `/v1.0/applications/${app.id}`, { appRoles: [{ ...ROLE, isEnabled: false }] })).status, 204);
      assert.equal((await send('PATCH', `/v1.0/applications/${app.id}`, { appRoles: [] })).status, 204);
    });

    test('unknown properties, wrong types, null where not allowed, oversized bodies, unsupported settings', async () => {
      const path = `/v1.0/applications/${app.id}`;
      for (const [body, message] of [
        [{ frobnicate: 1 }, /'frobnicate' does not exist/],
        [{ web: { redirectUris: ['https://a.example'], colour: 'red' } }, /'colour' does not exist/],
        [{ passwordCredentials: [] }, /'passwordCredentials' does not exist/],
        [{ displayName: 42 }, /'displayName' must be a string/],
        [{ displayName: null }, /'displayName' cannot be null/],
        [{ displayName: '   ' }, /must not be empty/],
        [{ identifierUris: 'api://x' }, /identifierUris.*array/],
        [{ web: { redirectUris: [42] } }, /web\.redirectUris\[0\]' must be a string/],
        [{ web: 'https://a.example' }, /'web' must be an object/],
        [{ isFallbackPublicClient: 'yes' }, /must be a boolean/],
        [{ extension_latchkey_requireMfa: 1 }, /must be a boolean/],
        [{ signInAudience: 'AzureADMultipleOrgs' }, /AzureADMyOrg/],
        [{ web: { implicitGrantSettings: { enableIdTokenIssuance: true } } }, /implicit flow/],
        [{ tags: 'x' }, /'tags' must be an array/],
        [{ requiredResourceAccess: [{ resourceAppId: 'x', resourceAccess: [] }] }, /not a GUID/],
        [{ requiredResourceAccess: [{ resourceAppId: '00000003-0000-0000-c000-000000000000', resourceAccess: [{ id: 'e1fe6dd8-ba31-4d61-89e7-88639da4683d', type: 'Permission' }] }] }, /'Scope' or 'Role'/],
        // unknown permission ids: an API that is not in the tenant, a scope Graph does not expose, Graph's User.Read.All app role named as a scope
        [{ requiredResourceAccess: [{ resourceAppId: '11111111-2222-4333-8444-555555555555', resourceAccess: [] }] }, /no application or API of this tenant/],
        [{ requiredResourceAccess: [{ resourceAppId: '00000003-0000-0000-c000-000000000000', resourceAccess: [{ id: '11111111-2222-4333-8444-555555555555', type: 'Scope' }] }] }, /does not expose/],
        [{ requiredResourceAccess: [{ resourceAppId: '00000003-0000-0000-c000-000000000000', resourceAccess: [{ id: 'df021288-bdef-4463-88db-98f22de89214', type: 'Scope' }] }] }, /delegated permission id 'df021288-bdef-4463-88db-98f22de89214'.*does not expose/],
      ] as [Record<string, unknown>, RegExp][]) {
        await refused('PATCH', path, body, 400, 'Request_BadRequest', message);
      }
      await refused('POST', '/v1.0/applications', { web: { redirectUris: [] } }, 400, 'Request_BadRequest', /'displayName' is required/);
      const before = await snapshot();
      const huge = await fetch(`${server.origin}${path}`, { method: 'PATCH', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ notes: 'x'.repeat(300 * 1024) }) });
      assert.equal(huge.status, 413);
      assert.deepEqual(await snapshot(), before);
      await refused('PATCH', path, { notes: 'x'.repeat(2000) }, 400, 'Request_BadRequest', /too long/);
    });

    test('a path no route serves names its segment as the client sent it, never the path the router rewrote it to', async () => {
      const before = await snapshot();
      for (const [path, message] of [
        [`/v1.0/applications(appId='${app.appId}')/owners`, "Resource not found for the segment 'owners'."],
        [`/beta/applications(appId=%27${app.appId}%27)/owners/x`, "Resource not found for the segment 'owners'."],
        ["/v1.0/applications(appId='22222222-2222-4222-8222-222222222222')/owners", "Resource not found for the segment 'owners'."],
        [`/v1.0/servicePrincipals(appId='${app.appId}')/frobnicate`, "Resource not found for the segment 'frobnicate'."],
        [`/v1.0/applications/${app.id}/owners`, "Resource not found for the segment 'owners'."],
        ['/v1.0/nothingHere/x', "Resource not found for the segment 'nothingHere'."],
        ['/v1.0/users/x/frob/y', "Resource not found for the segment 'frob'."],
        // a client's URL parser reads /v1.0/users/.. as /v1.0/: no resource is named at all
        ['/v1.0/users/..', "Invalid request: the URL names no resource after '/v1.0/'."],
        ['/beta/', "Invalid request: the URL names no resource after '/beta/'."],
        ['/v1.0/users/x//methods', "Invalid request: the URL has an empty segment after '/v1.0/users/x'."],
      ] as const) {
        const r = await send('GET', path, undefined);
        assert.deepEqual([r.status, r.body.error?.code, r.body.error?.message], [400, 'BadRequest', message], path);
      }
      // a path that is served, by other methods
      const put = await send('PUT', `/v1.0/applications(appId='${app.appId}')`, {});
      assert.deepEqual([put.status, put.body.error?.code, put.body.error?.message], [400, 'BadRequest', `The method 'PUT' is not supported on '/v1.0/applications(appId='${app.appId}')'.`]);
      assert.deepEqual(await snapshot(), before);
    });

    test('addPassword and removePassword: unknown keyId (404), malformed keyId, bad dates, unknown properties', async () => {
      await refused('POST', `/v1.0/applications/${app.id}/removePassword`, { keyId: '00000000-0000-4000-8000-000000000000' }, 404, 'Request_ResourceNotFound', /No password credential with keyId/);
      await refused('POST', `/v1.0/applications/${app.id}/removePassword`, { keyId: 'not-a-guid' }, 404, 'Request_ResourceNotFound', /No password credential/);
      await refused('POST', `/v1.0/applications/${app.id}/removePassword`, {}, 400, 'Request_BadRequest', /'keyId' is required/);
      await refused('POST', `/v1.0/applications/${app.id}/addPassword`, { passwordCredential: { endDateTime: 'tomorrow' } }, 400, 'Request_BadRequest', /endDateTime/);
      await refused('POST', `/v1.0/applications/${app.id}/addPassword`, { passwordCredential: { endDateTime: '2001-01-01T00:00:00Z' } }, 400, 'Request_BadRequest', /later than now/);
      await refused('POST', `/v1.0/applications/${app.id}/addPassword`, { passwordCredential: { secretText: 'chosen' } }, 400, 'Request_BadRequest', /'secretText' does not exist/);
      await refused('POST', `/v1.0/applications/${app.id}/addPassword`, { passwordCredential: 'x' }, 400, 'Request_BadRequest', /'passwordCredential' must be an object/);
      await refused('POST', '/v1.0/applications/00000000-0000-4000-8000-000000000000/addPassword', {}, 404, 'Request_ResourceNotFound', /does not exist/);
    });
  });
}

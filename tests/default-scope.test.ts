// `{resource}/.default` in delegated flows (authorization code, refresh, device code), as Entra answers it:
// the access token's scp lists every delegated permission consented for the app on that resource, and the
// token response's scope lists them by full name with `{resource}/.default` itself. The app is registered
// and consented through Graph, as an admin does it, so the expected lists below are exactly that consent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { DEMO } from '../src/directory/seed.js';
import { Jar, assertRefused, authorize, consentNativeAppToGraph, delegatedGraphToken, fillSignIn, pkce, token, type TokenResponse } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const GRAPH = 'https://graph.microsoft.com';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const REDIRECT = 'http://localhost:47311';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const sorted = (s: unknown) => String(s).split(' ').sort();
const scp = (r: TokenResponse) => sorted(decodeJwt(r.body.access_token!).scp);

for (const dbKind of await databases()) {
  describe(`.default in delegated flows expands to the app's consented delegated permissions (${dbKind})`, () => {
    let server: TestServer;
    let adminToken: string;
    /** the app under test: a public client registered through Graph, and its Graph consent's id */
    let appId: string;
    let graphGrantId: string;
    let noGraphAppId: string;

    async function graph<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${server.origin}/v1.0${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await res.text();
      assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    }

    /** An application with a public-client redirect URI, its service principal, and delegated consent per resource (AllPrincipals). */
    async function registerApp(displayName: string, consents: [resourceAppId: string, scope: string][]): Promise<{ appId: string; grantIds: string[] }> {
      const app = await graph<{ appId: string }>('POST', '/applications', { displayName, publicClient: { redirectUris: ['http://localhost'] }, isFallbackPublicClient: true });
      const sp = await graph<{ id: string }>('POST', '/servicePrincipals', { appId: app.appId });
      const grantIds: string[] = [];
      for (const [resourceAppId, scope] of consents) {
        const resource = await graph<{ id: string }>('GET', `/servicePrincipals(appId='${resourceAppId}')`);
        grantIds.push((await graph<{ id: string }>('POST', '/oauth2PermissionGrants', { clientId: sp.id, consentType: 'AllPrincipals', resourceId: resource.id, scope })).id);
      }
      return { appId: app.appId, grantIds };
    }

    before(async () => {
      server = await startTestServer(dbKind);
      await consentNativeAppToGraph(server);
      adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      const notes = await registerApp('Contoso Notes', [
        [GRAPH_APP_ID, 'User.Read Mail.Read'],
        [DEMO.apiAppId, 'read'],
      ]);
      appId = notes.appId;
      graphGrantId = notes.grantIds[0]!;
      noGraphAppId = (await registerApp('Contoso Reports', [[DEMO.apiAppId, 'read']])).appId;
    });
    after(async () => {
      await server?.close();
    });

    /** Authorization code with PKCE for `scope`, redeemed with the same scope (as MSAL does). */
    async function codeTokens(scope: string, clientId = appId): Promise<TokenResponse> {
      const p = pkce();
      const out = await authorize(server, new Jar(), { client_id: clientId, response_type: 'code', redirect_uri: REDIRECT, scope, code_challenge: p.challenge, code_challenge_method: 'S256' });
      const code = out.redirect?.searchParams.get('code');
      assert.ok(code, `a code: ${out.redirect?.href ?? out.status}`);
      const r = await token(server, { grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: REDIRECT, code_verifier: p.verifier, scope });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r;
    }
    const refresh = (rt: string, scope: string) => token(server, { grant_type: 'refresh_token', client_id: appId, refresh_token: rt, scope });

    test('authorization code for Graph .default with openid profile offline_access: scp is the consented list; the response scope lists it by full name with .default', async () => {
      const r = await codeTokens(`${GRAPH}/.default openid profile offline_access`);
      assert.deepEqual(scp(r), ['Mail.Read', 'User.Read']);
      assert.deepEqual(sorted(r.body.scope), [`${GRAPH}/.default`, `${GRAPH}/Mail.Read`, `${GRAPH}/User.Read`, 'openid', 'profile']);
      assert.equal(decodeJwt(r.body.access_token!).aud, GRAPH);
      assert.ok(r.body.id_token && r.body.refresh_token, 'openid and offline_access still give an ID token and a refresh token');
    });

    test('authorization code for Graph .default alone: the same scp, and no OpenID scopes in the response', async () => {
      const r = await codeTokens(`${GRAPH}/.default`);
      assert.deepEqual(scp(r), ['Mail.Read', 'User.Read']);
      assert.deepEqual(sorted(r.body.scope), [`${GRAPH}/.default`, `${GRAPH}/Mail.Read`, `${GRAPH}/User.Read`]);
    });

    test('a code for a named Graph scope redeemed without a scope (as OIDC clients other than MSAL redeem) is answered by short names, never with .default', async () => {
      const p = pkce();
      const out = await authorize(server, new Jar(), { client_id: appId, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid User.Read', code_challenge: p.challenge, code_challenge_method: 'S256' });
      const code = out.redirect?.searchParams.get('code');
      assert.ok(code, `a code: ${out.redirect?.href ?? out.status}`);
      const r = await token(server, { grant_type: 'authorization_code', client_id: appId, code, redirect_uri: REDIRECT, code_verifier: p.verifier });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      // every consented Graph scope by its short name (as Entra's scp carries the resource's consented scopes), no .default
      assert.deepEqual(sorted(r.body.scope), ['Mail.Read', 'User.Read', 'openid']);
    });

    test('.default with another scope of the same resource: the token still carries every consented scope', async () => {
      const r = await codeTokens(`${GRAPH}/.default ${GRAPH}/User.Read openid offline_access`);
      assert.deepEqual(scp(r), ['Mail.Read', 'User.Read']);
      assert.deepEqual(sorted(r.body.scope), [`${GRAPH}/.default`, `${GRAPH}/Mail.Read`, `${GRAPH}/User.Read`, 'openid']);
      const again = await refresh(r.body.refresh_token!, `${GRAPH}/Mail.Read ${GRAPH}/.default`);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(scp(again), ['Mail.Read', 'User.Read']);
      assert.deepEqual(sorted(again.body.scope), [`${GRAPH}/.default`, `${GRAPH}/Mail.Read`, `${GRAPH}/User.Read`]);
    });

    test("a refresh for another resource's .default expands to that resource's consent; a named Graph scope is still answered by short name", async () => {
      const r = await codeTokens('User.Read openid offline_access');
      assert.deepEqual(sorted(r.body.scope), ['Mail.Read', 'User.Read', 'openid'], 'without .default: the short form, as before');
      const api = await refresh(r.body.refresh_token!, `${DEMO.apiIdentifier}/.default`);
      assert.equal(api.status, 200, JSON.stringify(api.body));
      assert.equal(decodeJwt(api.body.access_token!).aud, DEMO.apiAppId);
      assert.deepEqual(scp(api), ['read']);
      assert.deepEqual(sorted(api.body.scope), [`${DEMO.apiIdentifier}/.default`, `${DEMO.apiIdentifier}/read`]);
      const graphDefault = await refresh(api.body.refresh_token!, `${GRAPH}/.default offline_access`);
      assert.deepEqual(scp(graphDefault), ['Mail.Read', 'User.Read']);
      assert.deepEqual(sorted(graphDefault.body.scope), [`${GRAPH}/.default`, `${GRAPH}/Mail.Read`, `${GRAPH}/User.Read`]);
    });

    test('an app with no delegated consent on Graph is refused Graph .default (consent_required, AADSTS65001) and gets no token', async () => {
      const p = pkce();
      const out = await authorize(server, new Jar(), { client_id: noGraphAppId, response_type: 'code', redirect_uri: REDIRECT, scope: `${GRAPH}/.default openid offline_access`, code_challenge: p.challenge, code_challenge_method: 'S256' });
      assert.equal(out.redirect?.searchParams.get('error'), 'consent_required', out.redirect?.href);
      assert.match(out.redirect?.searchParams.get('error_description') ?? '', /^AADSTS65001: /);
      assert.equal(out.redirect?.searchParams.get('code'), null);
      // its refresh token (from the API it is consented for) does not reach Graph either
      const api = await codeTokens(`${DEMO.apiIdentifier}/.default openid offline_access`, noGraphAppId);
      assert.deepEqual(scp(api), ['read']);
      const graphDefault = await token(server, { grant_type: 'refresh_token', client_id: noGraphAppId, refresh_token: api.body.refresh_token!, scope: `${GRAPH}/.default` });
      assertRefused(graphDefault, 'invalid_grant', 65001, 'Graph .default without consent');
      assert.equal(graphDefault.body.suberror, 'consent_required', 'MSAL asks for an interactive sign-in');
      assert.equal(graphDefault.body.access_token, undefined);
    });

    test('consent taken back: the next refresh is refused with AADSTS65001 (consent_required) and the refresh token lives on; consent given again, it works', async () => {
      const tasks = await registerApp('Contoso Tasks', [[GRAPH_APP_ID, 'User.Read']]);
      const r = await codeTokens(`${GRAPH}/.default openid offline_access`, tasks.appId);
      assert.deepEqual(scp(r), ['User.Read']);
      const rt = r.body.refresh_token!;
      const tasksRefresh = (scope?: string) => token(server, { grant_type: 'refresh_token', client_id: tasks.appId, refresh_token: rt, ...(scope ? { scope } : {}) });
      await graph('DELETE', `/oauth2PermissionGrants/${tasks.grantIds[0]}`);
      for (const [what, scope] of [['.default', `${GRAPH}/.default`], ['a named scope', `${GRAPH}/User.Read`], ['no scope', undefined]] as const) {
        const refused = await tasksRefresh(scope);
        assertRefused(refused, 'invalid_grant', 65001, `refresh for ${what} after the consent was deleted`);
        assert.equal(refused.body.suberror, 'consent_required');
        assert.equal(refused.body.access_token, undefined);
      }
      // the refusal consumed nothing: with consent given again, the same refresh token works
      const sp = await graph<{ id: string }>('GET', `/servicePrincipals(appId='${tasks.appId}')`);
      const resource = await graph<{ id: string }>('GET', `/servicePrincipals(appId='${GRAPH_APP_ID}')`);
      await graph('POST', '/oauth2PermissionGrants', { clientId: sp.id, consentType: 'AllPrincipals', resourceId: resource.id, scope: 'User.Read' });
      const again = await tasksRefresh(`${GRAPH}/.default`);
      assert.equal(again.status, 200, JSON.stringify(again.body));
      assert.deepEqual(scp(again), ['User.Read']);
    });

    test('after an admin consents another Graph permission, the next refresh for .default carries it in scp and in the response scope', async () => {
      const r = await codeTokens(`${GRAPH}/.default openid profile offline_access`);
      assert.deepEqual(scp(r), ['Mail.Read', 'User.Read']);
      let rt = r.body.refresh_token!;
      await graph('PATCH', `/oauth2PermissionGrants/${graphGrantId}`, { scope: 'User.Read Mail.Read User.Read.All' });
      try {
        const after = await refresh(rt, `${GRAPH}/.default openid profile offline_access`);
        rt = after.body.refresh_token!; // public client: rotated (D2)
        assert.equal(after.status, 200, JSON.stringify(after.body));
        assert.deepEqual(scp(after), ['Mail.Read', 'User.Read', 'User.Read.All']);
        assert.deepEqual(sorted(after.body.scope), [`${GRAPH}/.default`, `${GRAPH}/Mail.Read`, `${GRAPH}/User.Read`, `${GRAPH}/User.Read.All`, 'openid', 'profile']);
      } finally {
        await graph('PATCH', `/oauth2PermissionGrants/${graphGrantId}`, { scope: 'User.Read Mail.Read' });
      }
      // and the consent taken back: gone from the next token
      const back = await refresh(rt, `${GRAPH}/.default`);
      assert.equal(back.status, 200, JSON.stringify(back.body));
      assert.deepEqual(scp(back), ['Mail.Read', 'User.Read']);
    });

    test('device code for Graph .default: scp is the consented list and the response scope lists it with .default', async () => {
      const scope = `${GRAPH}/.default openid profile offline_access`;
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/devicecode`, { method: 'POST', body: new URLSearchParams({ client_id: appId, scope }) });
      const dc = (await res.json()) as { device_code: string; user_code: string };
      assert.equal(res.status, 200, JSON.stringify(dc));
      await enterUserCodeAndSignIn(dc.user_code);
      const r = await token(server, { grant_type: DEVICE_GRANT, client_id: appId, device_code: dc.device_code, scope });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(scp(r), ['Mail.Read', 'User.Read']);
      assert.deepEqual(sorted(r.body.scope), [`${GRAPH}/.default`, `${GRAPH}/Mail.Read`, `${GRAPH}/User.Read`, 'openid', 'profile']);
    });

    /** The device-code pages without a browser: the code, "Continue", then the sign-in pages, to the signed-in page. */
    async function enterUserCodeAndSignIn(userCode: string): Promise<void> {
      const jar = new Jar();
      const hidden = (html: string) => Object.fromEntries([...html.matchAll(/<input[^>]*type="hidden"[^>]*>/g)].map((m) => [/name="([^"]+)"/.exec(m[0])?.[1] ?? '', /value="([^"]*)"/.exec(m[0])?.[1] ?? '']));
      const post = async (url: URL, fields: Record<string, string>) => {
        const r = await fetch(url, { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields), redirect: 'manual' });
        jar.take(r);
        return r;
      };
      const page = new URL(`${server.tenantUrl}/oauth2/deviceauth`);
      const first = await fetch(page, { headers: { cookie: jar.header() } });
      jar.take(first);
      const confirm = await post(page, { ...hidden(await first.text()), user_code: userCode });
      const confirmHtml = await confirm.text();
      assert.match(confirmHtml, /Are you trying to sign in/, confirmHtml.slice(0, 300));
      let res = await post(page, hidden(confirmHtml));
      for (let i = 0; i < 8 && (res.status === 302 || res.status === 303); i++) {
        let next = new URL(res.headers.get('location')!, server.origin);
        if (next.pathname.startsWith('/signin/')) next = await fillSignIn(server, jar, next, `alice@${server.tenantDomain}`, DEMO.demoPassword);
        res = await fetch(next, { headers: { cookie: jar.header() }, redirect: 'manual' });
        jar.take(res);
      }
      const done = await res.text();
      assert.match(done, /deviceSignedIn/, `the signed-in page: ${res.status} ${done.slice(0, 300)}`);
    }
  });
}

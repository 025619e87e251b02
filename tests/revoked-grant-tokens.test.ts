// An access token dies with its grant at Latchkey's own routes (userinfo, introspection, Graph): a grant
// revoked because its code was replayed (D20) or its rotated refresh token reused (D2) takes the access
// tokens already issued from it, although their signature and lifetime are still good.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO } from '../src/directory/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { Jar, authorize, consentNativeAppToGraph, pkce, token } from './helpers/http-signin.js';

const NATIVE = 'http://localhost:41236';
const GRAPH = 'openid offline_access https://graph.microsoft.com/Directory.AccessAsUser.All';

describe('access tokens of a revoked grant', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite');
    await consentNativeAppToGraph(server);
  });
  after(async () => {
    await server?.close();
  });

  async function code(clientId: string, redirectUri: string, scope: string) {
    const { verifier, challenge } = pkce();
    const out = await authorize(server, new Jar(), { client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope, code_challenge: challenge, code_challenge_method: 'S256' });
    const c = out.redirect?.searchParams.get('code');
    assert.ok(c, out.html?.slice(0, 300));
    return { code: c, verifier };
  }
  const userinfo = (at: string) => fetch(`${server.tenantUrl}/openid/userinfo`, { headers: { authorization: `Bearer ${at}` } }).then((r) => r.status);
  const graphMe = (at: string) => fetch(`${server.origin}/v1.0/me`, { headers: { authorization: `Bearer ${at}` } }).then((r) => r.status);
  const introspect = async (at: string) => {
    const r = await fetch(`${server.tenantUrl}/oauth2/v2.0/introspect`, { method: 'POST', body: new URLSearchParams({ client_id: DEMO.apiAppId, client_secret: 'demo-api-secret', token: at }) });
    return ((await r.json()) as { active: boolean }).active;
  };

  test('a replayed authorization code: the first access token is refused at userinfo and Graph (401)', async () => {
    const c = await code(DEMO.nativeAppId, NATIVE, GRAPH);
    const form = { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code: c.code, redirect_uri: NATIVE, code_verifier: c.verifier, scope: GRAPH };
    const first = await token(server, form);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const at = first.body.access_token!;
    assert.equal(await userinfo(at), 200);
    assert.equal(await graphMe(at), 200);
    const replay = await token(server, form);
    assert.deepEqual(replay.body.error_codes, [54005]);
    assert.equal(await userinfo(at), 401);
    assert.equal(await graphMe(at), 401);
  });

  test('a reused public-client refresh token: the access tokens of the chain are refused at userinfo and Graph (401)', async () => {
    const c = await code(DEMO.nativeAppId, NATIVE, GRAPH);
    const first = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code: c.code, redirect_uri: NATIVE, code_verifier: c.verifier, scope: GRAPH });
    const rotated = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: first.body.refresh_token!, scope: GRAPH });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const at = rotated.body.access_token!;
    assert.equal(await graphMe(at), 200);
    const reuse = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: first.body.refresh_token!, scope: GRAPH });
    assert.equal(reuse.body.error, 'invalid_grant');
    assert.equal(await userinfo(at), 401);
    assert.equal(await graphMe(at), 401);
  });

  test('a replayed authorization code: an API introspecting the first access token sees it inactive', async () => {
    const redirect = `${server.origin}/demo/callback`;
    const scope = `openid offline_access ${DEMO.apiIdentifier}/read`;
    const c = await code(DEMO.webAppId, redirect, scope);
    const form = { client_id: DEMO.webAppId, client_secret: 'demo-portal-secret', grant_type: 'authorization_code', code: c.code, redirect_uri: redirect, code_verifier: c.verifier, scope };
    const first = await token(server, form);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(await introspect(first.body.access_token!), true);
    await token(server, form);
    assert.equal(await introspect(first.body.access_token!), false);
  });
});

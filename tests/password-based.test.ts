// "Password-based" (spec §8) is stored with the grant when it is made and copied into its access tokens;
// the validity rule reads that stored fact, never the token's amr (rules 3 and 4).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeJwt } from 'jose';
import { DEMO } from '../src/directory/seed.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { Jar, assertRefused, authorize, pkce, token } from './helpers/http-signin.js';

const REDIRECT = 'http://localhost:41235';
const SCOPE = 'openid profile offline_access User.Read';

describe('password-based is stored, not derived from amr', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer('sqlite');
  });
  after(async () => {
    await server?.close();
  });

  async function signIn() {
    const { verifier, challenge } = pkce();
    const out = await authorize(server, new Jar(), { client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: REDIRECT, scope: SCOPE, code_challenge: challenge, code_challenge_method: 'S256' });
    const code = out.redirect?.searchParams.get('code');
    assert.ok(code);
    const r = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier, scope: SCOPE });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  }
  const passwordChanged = () => server.store.db.updateTable('users').set({ last_password_change_at: Date.now() }).where('upn_lower', '=', `alice@${server.tenantDomain}`).execute();

  test('a password sign-in makes a password-based grant; its access token says so; a password change kills its refresh token (AADSTS50173)', async () => {
    const t = await signIn();
    const claims = decodeJwt(t.access_token!);
    assert.equal(claims.latchkey_pwd, true);
    assert.equal(typeof claims.latchkey_gid, 'string');
    const grant = (await server.provider.Grant.find(String(claims.latchkey_gid))) as unknown as Record<string, unknown>;
    assert.equal(grant.latchkeyPasswordBased, true);
    await passwordChanged();
    const r = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: t.refresh_token!, scope: SCOPE });
    assertRefused(r, 'invalid_grant', 50173, 'refresh after a password change');
  });

  test('a grant stored as not password-based survives a password change although its amr holds pwd (rule 3 reads the stored fact)', async () => {
    const t = await signIn();
    const claims = decodeJwt(t.access_token!);
    assert.deepEqual(claims.amr, ['pwd']);
    const grant = await server.provider.Grant.find(String(claims.latchkey_gid));
    (grant as unknown as Record<string, unknown>).latchkeyPasswordBased = false; // as a passkey sign-in will store it
    await grant!.save();
    await passwordChanged();
    const r = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: t.refresh_token!, scope: SCOPE });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const after = decodeJwt(r.body.access_token!);
    assert.equal(after.latchkey_pwd, false, 'the access token carries the grant fact');
    assert.deepEqual(after.amr, ['pwd']);
  });
});

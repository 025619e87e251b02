// The one validity rule (spec §2) is wired into refresh, userinfo, introspection and an existing browser
// session at authorize, with millisecond times (D5). The stamps are set directly in the store here; the
// admin actions that set them are a separate concern.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import type { Browser, BrowserContext } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { browserSkipReason, captureRedirect, closeQuietly, launchBrowser, signIn } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('validity rule wiring', { skip: browserSkipReason() }, () => {
  let server: TestServer;
  let browser: Browser;
  let web: client.Configuration;
  let api: client.Configuration;
  const upn = () => `bob@${server.tenantDomain}`;
  const redirectUri = () => `${server.origin}/demo/callback`;

  before(async () => {
    server = await startTestServer('sqlite');
    browser = await launchBrowser();
    web = await client.discovery(new URL(server.issuer), DEMO.webAppId, 'demo-portal-secret');
    api = await client.discovery(new URL(server.issuer), DEMO.apiAppId, 'demo-api-secret');
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  async function signInAndRedeem(context: BrowserContext, prompt?: string) {
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(web, { redirect_uri: redirectUri(), scope: `openid profile offline_access ${DEMO.apiIdentifier}/read`, code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...(prompt ? { prompt } : {}) });
    const page = await context.newPage();
    const cb = await captureRedirect(page, redirectUri(), async () => {
      await page.goto(url.href);
      if (!prompt) await signIn(page, upn(), DEMO.demoPassword);
    });
    await closeQuietly(page);
    if (cb.searchParams.get('error')) return { error: cb.searchParams.get('error')! };
    return { tokens: await client.authorizationCodeGrant(web, cb, { pkceCodeVerifier: verifier }) };
  }

  const stamp = (column: 'sign_in_sessions_valid_from' | 'last_password_change_at' | 'disabled_at', at: number) =>
    server.store.db.updateTable('users').set({ [column]: at }).where('upn_lower', '=', upn()).execute();

  test('a password change just after sign-in kills the refresh token and the browser session (AADSTS50173)', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const { tokens } = await signInAndRedeem(context);
    assert.ok(tokens?.refresh_token);
    await stamp('last_password_change_at', Date.now()); // within the same second as the sign-in
    await assert.rejects(client.refreshTokenGrant(web, tokens.refresh_token), (e: client.ResponseBodyError) => {
      assert.equal(e.error, 'invalid_grant');
      assert.match(e.error_description ?? '', /^AADSTS50173:/);
      assert.equal((e.cause as { suberror?: string }).suberror, 'bad_token');
      return true;
    });
    const logged = await server.store.db.selectFrom('signin_log').selectAll().where('error_code', '=', 50173).execute();
    assert.equal(logged.length, 1, 'the refused refresh is logged once (D11)');
    assert.equal(logged[0]!.interactive, 0);
    assert.equal(logged[0]!.app_id, DEMO.webAppId);
    assert.equal(logged[0]!.user_id, (await server.store.db.selectFrom('users').select('id').where('upn_lower', '=', upn()).executeTakeFirstOrThrow()).id);
    assert.equal((await client.tokenIntrospection(web, tokens.refresh_token)).active, false);
    assert.equal((await client.tokenIntrospection(api, tokens.access_token)).active, false, 'the access token is dead at introspection (D8)');
    const silent = await signInAndRedeem(context, 'none');
    assert.equal(silent.error, 'login_required', 'the password-based browser session is dead');
    await context.close();
  });

  test('a sign-in a few milliseconds after a revocation stamp is alive', async () => {
    await stamp('sign_in_sessions_valid_from', Date.now());
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const { tokens } = await signInAndRedeem(context);
    const r = await client.refreshTokenGrant(web, tokens!.refresh_token!);
    assert.ok(r.access_token);
    const silent = await signInAndRedeem(context, 'none');
    assert.ok(silent.tokens, 'the new session gives a code without a page');
    await context.close();
  });

  test('revoking sessions kills refresh token and session; userinfo refuses the old token', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const { tokens } = await signInAndRedeem(context);
    const graph = await client.refreshTokenGrant(web, tokens!.refresh_token!, { scope: 'https://graph.microsoft.com/User.Read' });
    assert.equal((await client.fetchUserInfo(web, graph.access_token, client.skipSubjectCheck)).preferred_username, upn());
    await stamp('sign_in_sessions_valid_from', Date.now());
    await assert.rejects(client.refreshTokenGrant(web, tokens!.refresh_token!), (e: client.ResponseBodyError) => /^AADSTS50173:/.test(e.error_description ?? ''));
    await assert.rejects(client.fetchUserInfo(web, graph.access_token, client.skipSubjectCheck));
    assert.equal((await signInAndRedeem(context, 'none')).error, 'login_required');
    await context.close();
  });

  test('a disabled account is refused at refresh with AADSTS50057 and at the password page', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const { tokens } = await signInAndRedeem(context);
    await server.store.db.updateTable('users').set({ account_enabled: 0, disabled_at: Date.now() }).where('upn_lower', '=', upn()).execute();
    try {
      await assert.rejects(client.refreshTokenGrant(web, tokens!.refresh_token!), (e: client.ResponseBodyError) => {
        assert.match(e.error_description ?? '', /^AADSTS50057:/);
        assert.equal((e.cause as { suberror?: string }).suberror, 'bad_token');
        return true;
      });
      const fresh = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await fresh.newPage();
      await page.goto(client.buildAuthorizationUrl(web, { redirect_uri: redirectUri(), scope: 'openid', code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()), code_challenge_method: 'S256' }).href);
      await page.fill('#i0116', upn());
      await page.click('#idSIButton9');
      await page.fill('#i0118', DEMO.demoPassword);
      await page.click('#idSIButton9');
      await page.waitForSelector('#passwordError');
      assert.match((await page.textContent('#passwordError')) ?? '', /50057/);
      await fresh.close();
    } finally {
      await server.store.db.updateTable('users').set({ account_enabled: 1 }).where('upn_lower', '=', upn()).execute();
    }
    // Enable does not revive what was issued before the disable (D6)
    await assert.rejects(client.refreshTokenGrant(web, tokens!.refresh_token!), (e: client.ResponseBodyError) => /^AADSTS50173:/.test(e.error_description ?? ''));
    await context.close();
  });
});

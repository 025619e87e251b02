// The browser sign-in flow in real Chromium (spec §8, D13, D15): "Stay signed in?" decides whether the
// engine's session cookie is persistent, a forced password change comes before any code, the per-flow
// CSRF token is enforced, sign-out ends the session, and a wrong password is refused with AADSTS50126.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as client from 'openid-client';
import type { Browser, BrowserContext } from 'playwright-core';
import { verifyPassword } from '../src/crypto/secrets.js';
import { DEMO } from '../src/directory/seed.js';
import { createUser, findUserById } from '../src/directory/users.js';
import { browserSkipReason, captureRedirect, launchBrowser, launchPersistent, signIn } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const SESSION_COOKIE = '__Host-lk_session';

describe('browser sign-in (sqlite)', { skip }, () => {
  let server: TestServer;
  let browser: Browser;
  let web: client.Configuration;
  const profiles: string[] = [];
  const redirectUri = () => `${server.origin}/demo/callback`;

  before(async () => {
    server = await startTestServer('sqlite');
    browser = await launchBrowser();
    web = await client.discovery(new URL(server.issuer), DEMO.webAppId, 'demo-portal-secret');
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    for (const dir of profiles) fs.rmSync(dir, { recursive: true, force: true });
  });

  function profileDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-profile-'));
    profiles.push(dir);
    return dir;
  }

  /** An authorization request of the demo web app (code + PKCE) and what is needed to redeem its code. */
  async function authorization(extra: Record<string, string> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const url = client.buildAuthorizationUrl(web, {
      redirect_uri: redirectUri(),
      scope: 'openid profile',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      ...extra,
    });
    return {
      url: url.href,
      state,
      redeem: (cb: URL) => client.authorizationCodeGrant(web, cb, { pkceCodeVerifier: verifier, expectedState: state }),
    };
  }

  async function sessionCookie(context: BrowserContext) {
    return (await context.cookies(server.origin)).find((c) => c.name === SESSION_COOKIE);
  }

  /** Requests the browser made to the app's redirect URI (an authorization response of any kind). */
  function watchRedirects(context: BrowserContext): string[] {
    const seen: string[] = [];
    context.on('request', (r) => {
      if (r.url().startsWith(redirectUri())) seen.push(r.url());
    });
    return seen;
  }

  async function newUser(password: string, forceChangePassword: boolean) {
    const name = `u${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    return createUser(server.store.db, { tenantId: server.tenantId, upn: `${name}@${server.tenantDomain}`, displayName: name, password, forceChangePassword });
  }

  function signinLog(userId: string) {
    return server.store.db.selectFrom('signin_log').selectAll().where('user_id', '=', userId).orderBy('id').execute();
  }

  /** The persistent-profile scenario shared by "Stay signed in" Yes and No. */
  async function signInThenRestart(kmsi: boolean) {
    const dir = profileDir();
    const first = await authorization();
    let context = await launchPersistent(dir);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const cb = await captureRedirect(page, redirectUri(), async () => {
        await page.goto(first.url);
        await signIn(page, `alice@${server.tenantDomain}`, DEMO.demoPassword, { kmsi });
      });
      assert.equal(cb.searchParams.get('error'), null, `authorization error: ${cb.searchParams.get('error_description')}`);
      assert.ok(cb.searchParams.get('code'), 'the first sign-in returns a code');
      const tokens = await first.redeem(cb);
      assert.ok(tokens.id_token, 'the code is redeemable');
      const cookie = await sessionCookie(context);
      assert.ok(cookie, `the ${SESSION_COOKIE} cookie is set`);
      await context.close();

      context = await launchPersistent(dir);
      const again = await authorization({ prompt: 'none' });
      const page2 = context.pages()[0] ?? (await context.newPage());
      const cb2 = await captureRedirect(page2, redirectUri(), async () => {
        await page2.goto(again.url).catch(() => {}); // the navigation ends at the app's (absent) callback
      });
      return { cookie, cb2, again };
    } finally {
      await context.close();
    }
  }

  test('Stay signed in = Yes gives a persistent session cookie that survives a browser restart', async () => {
    const before = Date.now();
    const { cookie, cb2, again } = await signInThenRestart(true);
    assert.ok(cookie!.expires * 1000 > before + 86_400_000, `the cookie expires more than a day from now (expires=${cookie!.expires})`);
    assert.equal(cookie!.secure, true);
    assert.equal(cookie!.httpOnly, true);
    assert.equal(cookie!.sameSite, 'Lax');
    assert.equal(cb2.searchParams.get('error'), null, `prompt=none after a restart: ${cb2.searchParams.get('error')} ${cb2.searchParams.get('error_description')}`);
    assert.ok(cb2.searchParams.get('code'), 'prompt=none after a restart returns a code (SSO without a page)');
    assert.equal(cb2.searchParams.get('state'), again.state);
    const tokens = await again.redeem(cb2);
    assert.ok(tokens.id_token);
  });

  test('Stay signed in = No gives a browser-session cookie that does not survive a restart', async () => {
    const { cookie, cb2 } = await signInThenRestart(false);
    assert.equal(cookie!.expires, -1, 'a browser-session cookie has no expiry');
    assert.equal(cookie!.secure, true);
    assert.equal(cookie!.httpOnly, true);
    assert.equal(cookie!.sameSite, 'Lax');
    assert.equal(cb2.searchParams.get('code'), null);
    assert.equal(cb2.searchParams.get('error'), 'login_required');
  });

  test('a user flagged to change the password must set a new one before any code is issued', async () => {
    const oldPassword = 'Old-Passw0rd-for-test';
    const newPassword = 'A-brand-new-Passphrase-9';
    const user = await newUser(oldPassword, true);
    const auth = await authorization();
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const redirects = watchRedirects(context);
    try {
      const page = await context.newPage();
      await page.goto(auth.url);
      await page.fill('#i0116', user.upn);
      await page.click('#idSIButton9');
      await page.fill('#i0118', oldPassword);
      await page.click('#idSIButton9');
      await page.waitForSelector('#newPassword');
      assert.deepEqual(redirects, [], 'nothing reaches the app before the password is changed');

      const attempt = async (pw: string) => {
        await page.fill('#currentPassword', oldPassword);
        await page.fill('#newPassword', pw);
        await page.fill('#confirmNewPassword', pw);
        await page.click('#idSIButton9');
        await page.waitForLoadState('load');
      };
      await attempt('short1');
      assert.match((await page.textContent('#passwordError')) ?? '', /at least 8 characters/);
      assert.ok(await page.isVisible('#newPassword'), 'a too-short password keeps the step');
      await attempt('Password123');
      assert.match((await page.textContent('#passwordError')) ?? '', /harder for people to guess/);
      assert.ok(await page.isVisible('#newPassword'), 'a common password keeps the step');
      const unchanged = await findUserById(server.store.db, user.id);
      assert.equal(unchanged!.force_change_password, 1);
      assert.equal(unchanged!.password_hash, user.password_hash, 'a refused new password changes nothing');
      assert.deepEqual(redirects, []);

      const cb = await captureRedirect(page, redirectUri(), async () => {
        await attempt(newPassword);
        await page.waitForSelector('text=Stay signed in?');
        assert.deepEqual(redirects, [], 'the code waits for "Stay signed in?"');
        await page.click('#idSIButton9');
      });
      assert.ok(cb.searchParams.get('code'));
      const tokens = await auth.redeem(cb);
      assert.equal(tokens.claims()?.oid, user.id);
    } finally {
      await context.close();
    }

    const changed = await findUserById(server.store.db, user.id);
    assert.equal(changed!.force_change_password, 0);
    assert.ok(changed!.last_password_change_at > user.last_password_change_at, 'lastPasswordChangeDateTime moved');
    assert.equal(await verifyPassword(changed!.password_hash!, oldPassword), false);
    assert.equal(await verifyPassword(changed!.password_hash!, newPassword), true);

    // a fresh browser: the old password is refused, the new one works without another change
    const fresh = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await fresh.newPage();
      await page.goto((await authorization()).url);
      await page.fill('#i0116', user.upn);
      await page.click('#idSIButton9');
      await page.fill('#i0118', oldPassword);
      await page.click('#idSIButton9');
      await page.waitForSelector('#passwordError');
      assert.match((await page.textContent('#passwordError')) ?? '', /50126/);
      await page.fill('#i0118', newPassword);
      await page.click('#idSIButton9');
      await page.waitForSelector('text=Stay signed in?');
    } finally {
      await fresh.close();
    }
  });

  test('a tampered CSRF token is refused with a page message and changes nothing', async () => {
    const password = 'Csrf-Test-Passw0rd';
    const user = await newUser(password, true);
    const auth = await authorization();
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const redirects = watchRedirects(context);
    try {
      const page = await context.newPage();
      await page.goto(auth.url);
      await page.fill('#i0116', user.upn);
      await page.click('#idSIButton9');
      await page.waitForSelector('#i0118');
      const signinUrl = page.url();
      const csrfInput = page.locator('form:has(#i0118) input[name=csrf]');
      const genuine = (await csrfInput.getAttribute('value'))!;
      const tampered = genuine.slice(0, -2) + (genuine.endsWith('AA') ? 'BB' : 'AA');
      await csrfInput.evaluate((el, value) => {
        (el as unknown as { value: string }).value = value;
      }, tampered);
      await page.fill('#i0118', password);
      const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === signinUrl), page.click('#idSIButton9')]);
      assert.equal(response.status(), 403);
      assert.match((await page.textContent('body')) ?? '', /could not be verified/);
      assert.deepEqual(redirects, [], 'no authorization response');

      const logged = await server.store.db.selectFrom('signin_log').selectAll().where('reason', 'like', '%csrf%').execute();
      assert.ok(logged.length >= 1, 'the refusal is in the sign-in log');
      assert.equal(logged.at(-1)!.status, 'failure');
      assert.equal(logged.at(-1)!.app_id, DEMO.webAppId);
      const row = await findUserById(server.store.db, user.id);
      assert.deepEqual(row, user, 'the user is unchanged');

      // the flow did not advance: it is still at the password step, and the genuine form still works
      await page.goto(signinUrl);
      await page.waitForSelector('#i0118');
      assert.equal(await page.isVisible('#newPassword'), false);
      await page.fill('#i0118', password);
      await page.click('#idSIButton9');
      await page.waitForSelector('#newPassword');
      assert.deepEqual(redirects, []);
    } finally {
      await context.close();
    }
  });

  test('sign-out ends the browser session', async () => {
    const context = await launchPersistent(profileDir());
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const first = await authorization();
      const cb = await captureRedirect(page, redirectUri(), async () => {
        await page.goto(first.url);
        await signIn(page, `bob@${server.tenantDomain}`, DEMO.demoPassword, { kmsi: true });
      });
      assert.ok(cb.searchParams.get('code'));

      // while signed in, prompt=none succeeds (so the later login_required is the sign-out's doing)
      const sso = await authorization({ prompt: 'none' });
      const cbSso = await captureRedirect(page, redirectUri(), async () => {
        await page.goto(sso.url).catch(() => {});
      });
      assert.ok(cbSso.searchParams.get('code'), `SSO before sign-out: ${cbSso.searchParams.get('error')}`);

      const postLogout = `${server.origin}/demo/`;
      await page.goto(`${server.tenantUrl}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent(postLogout)}&client_id=${DEMO.webAppId}`);
      await page.waitForSelector('#idSIButton9');
      await Promise.all([page.waitForURL((u) => u.href.startsWith(postLogout)), page.click('#idSIButton9')]);
      assert.equal(await sessionCookie(context), undefined, 'the session cookie is gone');

      const afterLogout = await authorization({ prompt: 'none' });
      const cb2 = await captureRedirect(page, redirectUri(), async () => {
        await page.goto(afterLogout.url).catch(() => {});
      });
      assert.equal(cb2.searchParams.get('code'), null);
      assert.equal(cb2.searchParams.get('error'), 'login_required');
    } finally {
      await context.close();
    }
  });

  test('wrong password shows AADSTS50126 and logs the refusal', async () => {
    const password = 'Right-Passw0rd-here';
    const user = await newUser(password, false);
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const redirects = watchRedirects(context);
    try {
      const page = await context.newPage();
      await page.goto((await authorization()).url);
      await page.fill('#i0116', user.upn);
      await page.click('#idSIButton9');
      await page.fill('#i0118', 'Wrong-Passw0rd-here');
      await page.click('#idSIButton9');
      await page.waitForSelector('#passwordError');
      assert.match((await page.textContent('#passwordError')) ?? '', /AADSTS50126/);
      assert.ok(await page.isVisible('#i0118'), 'the password step is shown again');
      assert.deepEqual(redirects, []);
    } finally {
      await context.close();
    }
    const log = await signinLog(user.id);
    const refusal = log.find((r) => r.error_code === 50126);
    assert.ok(refusal, 'a sign-in log row with error code 50126');
    assert.equal(refusal.status, 'failure');
    assert.equal(refusal.user_name, user.upn);
    assert.equal(refusal.interactive, 1);
    assert.equal(log.filter((r) => r.status === 'success').length, 0);
    assert.deepEqual(await findUserById(server.store.db, user.id), user, 'the user row is unchanged');
  });
});

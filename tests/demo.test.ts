// The demo relying party: sign in to the demo portal in Chromium, see the user and claims, call the demo API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn } from '../src/directory/users.js';
import * as revokeSessions from '../src/admin/actions/revoke-sessions.js';
import { browserSkipReason, launchBrowser, signInToDemoPortal } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';

describe('demo portal and demo API', { skip: browserSkipReason() }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer('sqlite');
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('signing in to the demo portal shows the user and claims, and the demo API answers for her', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await signInToDemoPortal(page, server.origin, `alice@${server.tenantDomain}`, DEMO.demoPassword);
    assert.equal(await page.textContent('#userName'), 'Alice Example');
    assert.equal(await page.textContent('#upn'), `alice@${server.tenantDomain}`);
    const idClaims = await page.textContent('#idClaims');
    assert.match(idClaims ?? '', new RegExp(server.tenantId));
    assert.match((await page.textContent('#atClaims')) ?? '', /scp\s*read/);
    await page.click('#callApi');
    await page.waitForSelector('#apiResult');
    const result = JSON.parse((await page.textContent('#apiResult')) ?? '{}') as { user?: string; scp?: string };
    assert.equal(result.user, `alice@${server.tenantDomain}`);
    assert.equal(result.scp, 'read');
    await context.close();
  });

  test('revoking her sessions signs her out of the demo portal by back-channel logout, with default outbound rules', async () => {
    assert.equal(server.config.allowPrivateOutbound, false);
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await signInToDemoPortal(page, server.origin, `carol@${server.tenantDomain}`, DEMO.demoPassword);
    const carol = (await findUserByUpn(server.store.db, server.tenantId, `carol@${server.tenantDomain}`))!;
    const ctx = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
    await revokeSessions.apply(ctx, await revokeSessions.plan(ctx, { kind: 'system', id: 'system', displayName: 'test' }, carol.id));
    let signedOut = false;
    for (let i = 0; i < 50 && !signedOut; i++) {
      await new Promise((r) => setTimeout(r, 100));
      await page.goto(`${server.origin}/demo/`);
      signedOut = ((await page.textContent('body')) ?? '').includes('You are not signed in');
    }
    assert.ok(signedOut, 'the portal ended its session within 5 s');
    await context.close();
  });

  test('the demo API refuses a call without a token, and one with a token it cannot introspect', async () => {
    const none = await fetch(`${server.origin}/demo/api/hello`);
    assert.equal(none.status, 401);
    const bad = await fetch(`${server.origin}/demo/api/hello`, { headers: { authorization: 'Bearer not.a.token' } });
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as { error: string }).error, 'invalid_token');
  });

  test('a callback that does not match a sign-in started here is refused', async () => {
    const res = await fetch(`${server.origin}/demo/callback?code=abc&state=xyz`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /state mismatch/);
  });
});

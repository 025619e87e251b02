// Passkeys in real Chromium with the DevTools virtual authenticator (CTAP2, internal, resident keys, user
// verification): registered on My Security Info after recent MFA and after a TAP sign-in, refused when
// the MFA is older than 5 minutes; then used after the user name and without one; and the seed's cell: a
// user with a passkey and an authenticator app, Require re-register MFA, and the user signs in with the
// passkey and reaches the app without any registration page.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ActionContext } from '../src/admin/action.js';
import * as createTap from '../src/admin/actions/create-tap.js';
import * as requireReregisterMfa from '../src/admin/actions/require-reregister-mfa.js';
import { DEMO } from '../src/directory/seed.js';
import { type User, createUser } from '../src/directory/users.js';
import { listMethods } from '../src/methods/store.js';
import { browserSkipReason, closeQuietly, launchBrowser } from './helpers/browser.js';
import { enrollTotp, totpAt } from './helpers/mfa.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

/** Signs in to My Security Info with the password and the authenticator app's code, answering Stay signed in. */
async function securityInfoWithTotp(page: Page, origin: string, upn: string, secret: string): Promise<void> {
  await page.goto(`${origin}/mysecurityinfo`);
  await page.fill('#i0116', upn);
  await page.click('#idSIButton9');
  await page.fill('#i0118', DEMO.demoPassword);
  await page.click('#idSIButton9');
  await page.fill('#idTxtBx_SAOTCC_OTC', totpAt(secret));
  await page.click('#idSubmit_SAOTCC_Continue');
  await page.click('#idSIButton9');
}

const skip = browserSkipReason();
const SHOTS = process.env.LATCHKEY_SCREENSHOTS;
const SYSTEM = { kind: 'system', id: 'system', displayName: 'test' } as const;

/** Screenshots at desktop and phone width (390 px), when LATCHKEY_SCREENSHOTS names a folder. */
async function shot(page: Page, name: string) {
  if (!SHOTS) return;
  const size = page.viewportSize();
  for (const [w, label] of [[1280, 'desktop'], [390, 'phone']] as const) {
    await page.setViewportSize({ width: w, height: 860 });
    await page.screenshot({ path: `${SHOTS}/${name}-${label}.png`, fullPage: true });
  }
  if (size) await page.setViewportSize(size);
}

for (const dbKind of await databases()) describe(`passkeys in Chromium with a virtual authenticator (${dbKind})`, { skip }, () => {
  let server: TestServer;
  let browser: Browser;
  let ctx: ActionContext;
  before(async () => {
    server = await startTestServer(dbKind);
    browser = await launchBrowser();
    ctx = { db: server.store.db, secrets: server.secrets, tenantId: server.tenantId, config: server.config };
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A browser context with its own virtual platform authenticator. */
  async function withAuthenticator(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    await cdp.send('WebAuthn.addVirtualAuthenticator', { options: { protocol: 'ctap2', ctap2Version: 'ctap2_1', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } });
    return { context, page };
  }

  const newUser = (name: string) => createUser(server.store.db, { tenantId: server.tenantId, upn: `${name}@${server.tenantDomain}`, displayName: name, password: DEMO.demoPassword });
  const types = async (u: User) => (await listMethods(server.store.db, u.id)).map((m) => m.type).sort();

  async function addPasskey(page: Page) {
    await page.click('#addPasskey');
    await page.waitForSelector('#createPasskey');
    await page.click('#createPasskey');
    await page.waitForSelector('text=Passkey added.');
  }

  /** Signs in to My Security Info with a passkey: after the user name, or without it. */
  async function passkeySignIn(page: Page, upn?: string) {
    await page.goto(`${server.origin}/mysecurityinfo`);
    await page.waitForSelector('#i0116');
    if (upn) {
      await page.fill('#i0116', upn);
      await page.click('#idSIButton9');
      await page.waitForSelector('#passkeyButton');
      assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'passkeyButton', 'the passkey button has the focus');
      await shot(page, 'passkey-step');
      await page.click('#passkeyButton');
    } else {
      await shot(page, 'username-with-passkey');
      await page.click('#passkeySignIn');
    }
    await page.waitForSelector('text=Stay signed in?');
    await page.click('#idSIButton9');
    await page.waitForSelector('#methods');
  }

  test('registered after recent MFA; refused when the MFA is older than 5 minutes; used after the user name and without one', async () => {
    const u = await newUser('passkey-mfa');
    const secret = await enrollTotp(server, u);
    const { context, page } = await withAuthenticator();
    const headers: Record<string, string>[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/signin/') || r.url().includes('/mysecurityinfo')) headers.push(r.headers());
    });
    await securityInfoWithTotp(page, server.origin, u.upn, secret);
    await page.waitForSelector('#addPasskey');
    await addPasskey(page);
    await shot(page, 'security-info-passkey');
    assert.deepEqual(await types(u), ['fido2', 'softwareOath']);
    assert.match((await page.textContent('#methods'))!, /Passkey · device-bound/);
    assert.ok(headers.every((h) => !String(h['content-type']).startsWith('text/html') || /script-src 'self'/.test(h['content-security-policy'] ?? '')), 'every page forbids inline script');

    // the gate: MFA more than 5 minutes old
    await server.store.db.updateTable('signin_sessions').set({ mfa_at: Date.now() - 6 * 60_000 }).where('user_id', '=', u.id).execute();
    await page.click('#addPasskey');
    await page.waitForSelector('#securityInfoError');
    assert.match((await page.textContent('#securityInfoError'))!, /verify your identity again/);
    assert.equal((await listMethods(server.store.db, u.id)).filter((m) => m.type === 'fido2').length, 1, 'no second passkey');

    await context.clearCookies();
    await passkeySignIn(page, u.upn);
    await context.clearCookies();
    await passkeySignIn(page);
    const sessions = await server.store.db.selectFrom('signin_sessions').select(['password_based', 'methods']).where('user_id', '=', u.id).orderBy('created_at').execute();
    assert.deepEqual(sessions.slice(-2).map((s) => [s.password_based, s.methods]), [[0, '["fido2"]'], [0, '["fido2"]']]);
    await closeQuietly(page);
    await context.close();
  });

  test('registered after a Temporary Access Pass sign-in', async () => {
    const u = await newUser('passkey-tap');
    // spec §8: a user with an MFA method who signs in with a TAP is not sent to the registration interrupt
    await enrollTotp(server, u);
    const tap = await createTap.apply(ctx, await createTap.plan(ctx, SYSTEM, u.id, {}));
    const { context, page } = await withAuthenticator();
    await page.goto(`${server.origin}/mysecurityinfo`);
    await page.fill('#i0116', u.upn);
    await page.click('#idSIButton9');
    await page.fill('#accessPass', tap.secret!);
    await page.click('#idSIButton9');
    await page.click('#idSIButton9');
    await page.waitForSelector('#addPasskey');
    // a TAP sign-in passes the gate whatever its age
    await server.store.db.updateTable('signin_sessions').set({ mfa_at: Date.now() - 30 * 60_000 }).where('user_id', '=', u.id).execute();
    await addPasskey(page);
    assert.deepEqual(await types(u), ['fido2', 'softwareOath', 'temporaryAccessPass']);
    await closeQuietly(page);
    await context.close();
  });

  test('the seed’s passkey cell: passkey and authenticator app, Require re-register MFA, the passkey signs in with no registration page; with a TAP the user registers a new app', async () => {
    const u = await newUser('passkey-reregister');
    const secret = await enrollTotp(server, u);
    const { context, page } = await withAuthenticator();
    await securityInfoWithTotp(page, server.origin, u.upn, secret);
    await addPasskey(page);
    const plan = await requireReregisterMfa.plan(ctx, SYSTEM, u.id);
    assert.ok(plan.preview.warnings.some((w) => /fido2AuthenticationMethod .* NOT sent to registration/.test(w)));
    await requireReregisterMfa.apply(ctx, plan);
    assert.deepEqual(await types(u), ['fido2']);
    await context.clearCookies();
    const pages: string[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/signin/') && r.request().method() === 'POST') void r.text().then((t) => pages.push(t)).catch(() => {});
    });
    // passkeySignIn goes from the passkey straight to "Stay signed in?": a registration page would stop it
    await passkeySignIn(page);
    assert.ok(pages.every((h) => !h.includes('More information required')), 'no registration page');
    assert.deepEqual(await types(u), ['fido2']);
    // given a TAP, the same user signs in with it and registers a new authenticator app (the TAP is the gate)
    const tap = await createTap.apply(ctx, await createTap.plan(ctx, SYSTEM, u.id, {}));
    await context.clearCookies();
    await page.goto(`${server.origin}/mysecurityinfo`);
    await page.fill('#i0116', u.upn);
    await page.click('#idSIButton9');
    await page.fill('#accessPass', tap.secret!);
    await page.click('#idSIButton9');
    await page.waitForSelector('text=Stay signed in?');
    await page.click('#idSIButton9');
    await page.click('#addMethod');
    await page.waitForSelector('#totpSecret');
    const newSecret = (await page.textContent('#totpSecret'))!.trim();
    await page.fill('#enrollCode', totpAt(newSecret));
    await page.click('#confirmTotp');
    await page.waitForSelector('text=Authenticator app added.');
    assert.deepEqual(await types(u), ['fido2', 'softwareOath', 'temporaryAccessPass']);
    await closeQuietly(page);
    await context.close();
  });
});

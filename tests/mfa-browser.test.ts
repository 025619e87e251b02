// MFA pages in real Chromium (spec §8): a user with no method reaching My Security Info registers an
// authenticator app at the "More information required" interrupt (code computed here from the key the
// page shows), adds a second app and deletes one on My Security Info, and then signs in to the demo
// portal with the password and a code when per-user MFA is on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn } from '../src/directory/users.js';
import { listMethods } from '../src/methods/store.js';
import { PERIOD_S } from '../src/methods/software-oath/index.js';
import { browserSkipReason, closeQuietly, launchBrowser } from './helpers/browser.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const SHOTS = process.env.LATCHKEY_SCREENSHOTS;

function codeOf(secret: string, offsetSteps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: PERIOD_S, algorithm: 'SHA1' }).generate({ timestamp: Date.now() + offsetSteps * PERIOD_S * 1000 });
}

async function shot(page: Page, name: string) {
  if (SHOTS) await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

describe('MFA pages in Chromium (sqlite)', { skip }, () => {
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

  test('registration interrupt, My Security Info (add, delete), then a TOTP sign-in to the demo portal', async () => {
    const upn = `alice@${server.tenantDomain}`;
    const alice = await findUserByUpn(server.store.db, server.tenantId, upn);
    assert.ok(alice);
    const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 420, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${server.origin}/mysecurityinfo`);
    await page.waitForSelector('#i0116');
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'i0116', 'the user name field has the focus');
    await shot(page, 'signin-username');
    await page.fill('#i0116', upn);
    await page.click('#idSIButton9');
    await page.fill('#i0118', DEMO.demoPassword);
    await page.click('#idSIButton9');
    await page.waitForSelector('#totpSecret');
    await shot(page, 'signin-register');
    const first = (await page.textContent('#totpSecret'))!.trim();
    await page.fill('#registerCode', codeOf(first));
    await page.click('#idSIButton9');
    await page.waitForSelector('text=Stay signed in?');
    await page.click('#idSIButton9');
    await page.waitForSelector('#methods');
    await shot(page, 'security-info');
    assert.equal((await listMethods(server.store.db, alice.id)).length, 1);

    await page.click('#addMethod');
    await page.waitForSelector('#totpSecret');
    const second = (await page.textContent('#totpSecret'))!.trim();
    assert.notEqual(second, first);
    await page.fill('#enrollCode', codeOf(second));
    await page.click('#confirmTotp');
    await page.waitForSelector('#securityInfoMessage');
    await shot(page, 'security-info-two');
    const methods = await listMethods(server.store.db, alice.id);
    assert.deepEqual(methods.map((m) => m.type), ['softwareOath', 'softwareOath']);
    // delete the first app
    await page.click(`form:has(input[value="${methods[0]!.id}"]) button`);
    await page.waitForSelector('text=Method deleted.');
    assert.deepEqual((await listMethods(server.store.db, alice.id)).map((m) => m.id), [methods[1]!.id]);
    const audit = await server.store.db.selectFrom('audit_log').select('activity').where('target_id', '=', alice.id).orderBy('id').execute();
    assert.deepEqual(audit.map((a) => a.activity), ['User registered security info', 'User registered security info', 'User deleted security info']);
    await closeQuietly(page);
    await context.close();

    // per-user MFA: the demo portal sign-in asks for a code from the remaining app
    await server.store.db.updateTable('users').set({ per_user_mfa_state: 'enforced' }).where('id', '=', alice.id).execute();
    const ctx2 = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 420, height: 860 } });
    const p2 = await ctx2.newPage();
    await p2.goto(`${server.origin}/demo/`);
    await p2.click('#signin');
    await p2.fill('#i0116', upn);
    await p2.click('#idSIButton9');
    await p2.fill('#i0118', DEMO.demoPassword);
    await p2.click('#idSIButton9');
    await p2.waitForSelector('#idTxtBx_SAOTCC_OTC');
    assert.equal(await p2.evaluate('document.activeElement && document.activeElement.id'), 'idTxtBx_SAOTCC_OTC', 'the code field has the focus');
    await shot(p2, 'signin-mfa');
    await p2.fill('#idTxtBx_SAOTCC_OTC', codeOf(second, 1));
    await p2.click('#idSubmit_SAOTCC_Continue');
    await p2.waitForSelector('text=Stay signed in?');
    await p2.click('#idSIButton9');
    await p2.waitForSelector('#userName');
    await closeQuietly(p2);
    await ctx2.close();
  });
});

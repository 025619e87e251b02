// The seed's scenario end to end (spec §5, §6, §8), in real Chromium with Graph and /latchkey/v1:
// a user signs in with password and TOTP; an attacker in a second browser, holding the phished password
// and one phished code, signs in and registers their own authenticator app; the admin previews and
// applies Require re-register MFA — both apps are gone (Graph shows it) and the attacker's session
// still lives, as the preview said; the admin revokes sessions and creates a TAP; the user signs in with
// the TAP and registers a new app; the attacker's browser and refresh token are dead.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn } from '../src/directory/users.js';
import { PERIOD_S } from '../src/methods/software-oath/index.js';
import { listMethods } from '../src/methods/store.js';
import { browserSkipReason, captureRedirect, closeQuietly, launchBrowser } from './helpers/browser.js';
import { consentNativeAppToGraph, delegatedGraphToken, pkce, token } from './helpers/http-signin.js';
import { enrollTotp, totpAt } from './helpers/mfa.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

const skip = browserSkipReason();
const NATIVE_REDIRECT = 'http://localhost:53125';

const codeAt = (secret: string, steps = 0) => totpAt(secret, Date.now() + steps * PERIOD_S * 1000);

async function signInPages(page: Page, upn: string, password: string, code: string) {
  await page.fill('#i0116', upn);
  await page.click('#idSIButton9');
  await page.fill('#i0118', password);
  await page.click('#idSIButton9');
  await page.fill('#idTxtBx_SAOTCC_OTC', code);
  await page.click('#idSubmit_SAOTCC_Continue');
  await page.waitForSelector('text=Stay signed in?');
  await page.click('#idSIButton9');
}

for (const dbKind of await databases()) {
  describe(`the seed's scenario (${dbKind})`, { skip }, () => {
    let server: TestServer;
    let browser: Browser;
    before(async () => {
      server = await startTestServer(dbKind);
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('phished password and code, attacker app, Require re-register MFA, Revoke sessions, TAP, new app', async () => {
      const upn = `carol@${server.tenantDomain}`;
      const carol = (await findUserByUpn(server.store.db, server.tenantId, upn))!;
      const e = { secret: await enrollTotp(server, carol, 3) };
      await server.store.db.updateTable('users').set({ per_user_mfa_state: 'enforced' }).where('id', '=', carol.id).execute();
      await consentNativeAppToGraph(server, ['Directory.AccessAsUser.All', 'UserAuthenticationMethod.ReadWrite.All']);
      const adminToken = await delegatedGraphToken(server, `admin@${server.tenantDomain}`, 'Bootstrap-Admin-Pw-1');
      const api = async (method: string, path: string, body?: unknown) => {
        const res = await fetch(`${server.origin}${path}`, { method, headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
        // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test reads loosely shaped JSON replies
        return { status: res.status, body: (await res.json()) as Record<string, any> };
      };

      // 1. the user signs in to the demo portal with password and code
      const userCtx = await browser.newContext({ ignoreHTTPSErrors: true });
      const userPage = await userCtx.newPage();
      await userPage.goto(`${server.origin}/demo/`);
      await userPage.click('#signin');
      await signInPages(userPage, upn, DEMO.demoPassword, codeAt(e.secret));
      await userPage.waitForSelector('#userName');

      // 2. the attacker, with the password and one phished code, signs in to My Security Info and adds an app
      const attacker = await browser.newContext({ ignoreHTTPSErrors: true });
      const ap = await attacker.newPage();
      await ap.goto(`${server.origin}/mysecurityinfo`);
      await signInPages(ap, upn, DEMO.demoPassword, codeAt(e.secret, 1));
      await ap.waitForSelector('#methods');
      await ap.click('#addMethod');
      await ap.waitForSelector('#totpSecret');
      const attackerSecret = (await ap.textContent('#totpSecret'))!.trim();
      await ap.fill('#enrollCode', codeAt(attackerSecret));
      await ap.click('#confirmTotp');
      await ap.waitForSelector('text=Authenticator app added.');
      // ... and takes a refresh token for the native app from the same browser session
      const { verifier, challenge } = pkce();
      const authz = `${server.tenantUrl}/oauth2/v2.0/authorize?${new URLSearchParams({ client_id: DEMO.nativeAppId, response_type: 'code', redirect_uri: NATIVE_REDIRECT, scope: 'openid offline_access User.Read', code_challenge: challenge, code_challenge_method: 'S256' })}`;
      const cb = await captureRedirect(ap, NATIVE_REDIRECT, async () => {
        await ap.goto(authz).catch(() => {});
      });
      const stolen = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: NATIVE_REDIRECT, code_verifier: verifier, scope: 'openid offline_access User.Read' });
      assert.equal(stolen.status, 200, JSON.stringify(stolen.body));
      const methodsBefore = await api('GET', `/v1.0/users/${carol.id}/authentication/softwareOathMethods`);
      assert.equal(methodsBefore.body.value.length, 2, 'the user app and the attacker app');

      // 3. Require re-register MFA: preview, then apply exactly that plan
      const dry = await api('POST', `/latchkey/v1/users/${carol.id}/actions/requireReregisterMfa`, { dryRun: true });
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
      const fates = Object.fromEntries((dry.body.preview.methods as { type: string; fate: string; id: string }[]).map((m) => [m.id, `${m.type}:${m.fate}`]));
      assert.equal(Object.values(fates).filter((f) => f === 'softwareOath:deleted').length, 2);
      assert.equal(dry.body.preview.endingCount, 0, 'no session or token ends');
      assert.ok((dry.body.preview.warnings as string[]).some((w) => /Revoke sessions/.test(w)), 'the preview says sessions survive and suggests Revoke sessions');
      const applied = await api('POST', `/latchkey/v1/plans/${dry.body.planId}/apply`);
      assert.equal(applied.status, 200, JSON.stringify(applied.body));
      const methodsAfter = await api('GET', `/v1.0/users/${carol.id}/authentication/methods`);
      assert.deepEqual((methodsAfter.body.value as { '@odata.type': string }[]).map((m) => m['@odata.type']), ['#microsoft.graph.passwordAuthenticationMethod'], 'Graph shows only the password');
      // the attacker's session still lives, as the preview said
      await ap.goto(`${server.origin}/mysecurityinfo`);
      await ap.waitForSelector('#methods');
      const stillRefreshes = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: stolen.body.refresh_token!, scope: 'openid offline_access User.Read' });
      assert.equal(stillRefreshes.status, 200, JSON.stringify(stillRefreshes.body));

      // 4. Revoke sessions, then a one-time TAP
      const revoked = await api('POST', `/latchkey/v1/users/${carol.id}/actions/revokeSessions`, { dryRun: false });
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      const tap = await api('POST', `/latchkey/v1/users/${carol.id}/actions/createTap`, { dryRun: false, isUsableOnce: true, lifetimeInMinutes: 60 });
      assert.equal(tap.status, 200, JSON.stringify(tap.body));
      const tapValue = tap.body.temporaryAccessPass as string;
      assert.match(tapValue, /^[A-Za-z0-9]{8,48}$/);

      // 5. the user signs in with the TAP and registers a new authenticator app
      const fresh = await browser.newContext({ ignoreHTTPSErrors: true });
      const fp = await fresh.newPage();
      await fp.goto(`${server.origin}/demo/`);
      await fp.click('#signin');
      await fp.fill('#i0116', upn);
      await fp.click('#idSIButton9');
      await fp.fill('#accessPass', tapValue);
      await fp.click('#idSIButton9');
      await fp.waitForSelector('#totpSecret');
      const newSecret = (await fp.textContent('#totpSecret'))!.trim();
      await fp.fill('#registerCode', codeAt(newSecret));
      await fp.click('#idSIButton9');
      await fp.waitForSelector('text=Stay signed in?');
      await fp.click('#idSIButton9');
      await fp.waitForSelector('#userName');
      const now = await listMethods(server.store.db, carol.id);
      assert.deepEqual(now.map((m) => m.type).sort(), ['softwareOath', 'temporaryAccessPass']);

      // 6. the attacker's browser and refresh token are dead
      await ap.goto(`${server.origin}/mysecurityinfo`);
      await ap.waitForSelector('#i0116');
      const dead = await token(server, { client_id: DEMO.nativeAppId, grant_type: 'refresh_token', refresh_token: stillRefreshes.body.refresh_token!, scope: 'openid offline_access User.Read' });
      assert.equal(dead.body.error, 'invalid_grant');
      assert.deepEqual(dead.body.error_codes, [50173]);
      assert.equal(dead.body.suberror, 'bad_token');
      for (const p of [userPage, ap, fp]) await closeQuietly(p);
      await Promise.all([userCtx.close(), attacker.close(), fresh.close()]);
    });
  });
}

// Secrets at rest (spec D14): after a full sign-in, code exchange and refresh, neither the database nor
// the data folder holds a usable refresh token, authorization code, session id, client secret or
// token-signing private key, TOTP seed, Temporary Access Pass, or client secret added through Graph's addPassword.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import * as client from 'openid-client';
import type { Browser } from 'playwright-core';
import { Secret, TOTP } from 'otpauth';
import { GRAPH_APP_ID, grantPermission } from '../src/directory/apps.js';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn } from '../src/directory/users.js';
import { beginEnrollment, confirmEnrollment } from '../src/methods/software-oath/index.js';
import { findPending } from '../src/methods/store.js';
import { generateTapValue, insertTap } from '../src/methods/tap/index.js';
import { browserSkipReason, captureRedirect, launchBrowser, signIn } from './helpers/browser.js';
import { token } from './helpers/http-signin.js';
import { databases, startTestServer, type TestServer } from './helpers/server.js';

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

for (const dbKind of await databases()) {
  describe(`secrets at rest (${dbKind})`, { skip: browserSkipReason() }, () => {
    let server: TestServer;
    let browser: Browser;
    const masterKey = crypto.randomBytes(32).toString('base64');
    before(async () => {
      // the master key comes from the environment, as in production, so the data folder holds none
      server = await startTestServer(dbKind, {}, { LATCHKEY_MASTER_KEY: masterKey });
      browser = await launchBrowser();
    });
    after(async () => {
      await browser?.close();
      await server?.close();
    });

    test('database and data folder hold no usable token, code, session id, client secret or signing key', async () => {
      const web = await client.discovery(new URL(server.issuer), DEMO.webAppId, 'demo-portal-secret');
      const verifier = client.randomPKCECodeVerifier();
      const redirectUri = `${server.origin}/demo/callback`;
      const url = client.buildAuthorizationUrl(web, { redirect_uri: redirectUri, scope: 'openid profile offline_access User.Read', code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256' });
      const context = await browser.newContext({ ignoreHTTPSErrors: true });
      const page = await context.newPage();
      const cb = await captureRedirect(page, redirectUri, async () => {
        await page.goto(url.href);
        await signIn(page, `alice@${server.tenantDomain}`, DEMO.demoPassword);
      });
      const cookies = await context.cookies();
      await context.close();
      const code = cb.searchParams.get('code')!;
      const tokens = await client.authorizationCodeGrant(web, cb, { pkceCodeVerifier: verifier });
      const refreshed = await client.refreshTokenGrant(web, tokens.refresh_token!);
      const sessionCookie = cookies.find((c) => c.name === '__Host-lk_session')?.value;
      assert.ok(sessionCookie, 'the browser holds a session cookie');

      // the signing key's private exponent, read back through the master key
      const keyRows = await server.store.db.selectFrom('signing_keys').selectAll().execute();
      const privateD = keyRows.map((r) => (JSON.parse(server.secrets.decrypt(r.private_jwk, `signing-key:${r.kid}`)) as { d: string }).d);
      assert.ok(privateD.length >= 1);

      const secrets: Record<string, string> = {
        'refresh token': tokens.refresh_token!,
        'authorization code': code,
        'session cookie (session id)': sessionCookie,
        'client secret': 'demo-portal-secret',
        'demo API client secret': 'demo-api-secret',
        'automation client secret': 'automation-secret-value',
        'user password': DEMO.demoPassword,
        'master key': masterKey,
        ...Object.fromEntries(privateD.map((d, i) => [`signing key ${i} private exponent`, d])),
      };
      if (refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token) secrets['rotated refresh token'] = refreshed.refresh_token;
      // authentication methods (spec §4, §6): a TOTP seed and a TAP value, in Base32 and as typed
      const alice = await findUserByUpn(server.store.db, server.tenantId, `alice@${server.tenantDomain}`);
      const enrollment = await beginEnrollment({ db: server.store.db, secrets: server.secrets }, alice!, 'test');
      assert.ok(enrollment !== 'limit_reached');
      const pending = await findPending(server.store.db, alice!.id, enrollment.id);
      const seedCode = new TOTP({ secret: Secret.fromBase32(enrollment.secret), digits: 6, period: 30 }).generate();
      assert.equal(await confirmEnrollment({ db: server.store.db, secrets: server.secrets }, pending!, seedCode), 'ok');
      secrets['TOTP seed (Base32)'] = enrollment.secret;
      secrets['TOTP seed (hex)'] = Buffer.from(Secret.fromBase32(enrollment.secret).bytes).toString('hex');
      secrets['TOTP otpauth URI'] = enrollment.uri;
      const tapValue = generateTapValue(24);
      await insertTap(server.store.db, server.secrets, alice!, tapValue, { startAt: Date.now(), lifetimeMinutes: 60, isUsableOnce: true }, Date.now());
      secrets['Temporary Access Pass'] = tapValue;
      // a client secret added through Graph's addPassword (returned once, stored as an argon2id hash)
      await grantPermission(server.store.db, DEMO.automationAppId, GRAPH_APP_ID, 'application', ['Application.ReadWrite.All']);
      const appToken = (await token(server, { grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: 'https://graph.microsoft.com/.default' })).body.access_token!;
      const graph = async (path: string, body: unknown) => (await fetch(`${server.origin}/v1.0${path}`, { method: 'POST', headers: { authorization: `Bearer ${appToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Record<string, string>>;
      const registered = await graph('/applications', { displayName: 'Secret holder' });
      const added = await graph(`/applications/${registered.id}/addPassword`, { passwordCredential: { displayName: 'at rest' } });
      assert.ok(added.secretText && added.secretText.length >= 32, JSON.stringify(added));
      secrets['addPassword client secret'] = added.secretText;

      // everything at rest: every file in the data folder, and for PostgreSQL every row as text
      const haystacks: { where: string; text: string }[] = filesUnder(server.dataDir).map((f) => ({ where: f, text: fs.readFileSync(f).toString('latin1') }));
      if (dbKind === 'postgres') {
        const tables = await sql<{ tablename: string }>`select tablename from pg_tables where schemaname = 'public'`.execute(server.store.db);
        for (const { tablename } of tables.rows) {
          const rows = await sql<{ r: string }>`select row_to_json(t)::text as r from ${sql.table(tablename)} t`.execute(server.store.db);
          haystacks.push({ where: `table ${tablename}`, text: rows.rows.map((r) => r.r).join('\n') });
        }
      } else {
        assert.ok(haystacks.some((h) => h.where.endsWith('latchkey.sqlite')), 'the SQLite file is in the data folder');
      }
      for (const [what, value] of Object.entries(secrets)) {
        for (const h of haystacks) {
          assert.ok(!h.text.includes(value), `${what} found in clear in ${h.where}`);
          assert.ok(!h.text.includes(Buffer.from(value).toString('base64')), `${what} found base64-encoded in ${h.where}`);
        }
      }
      assert.ok(!fs.existsSync(path.join(server.dataDir, 'master.key')), 'no master key file when it comes from the environment');
      // the TLS private key must be readable by the server: it is at least owner-only
      const tlsKey = path.join(server.dataDir, 'tls', 'server.key');
      assert.equal(fs.statSync(tlsKey).mode & 0o077, 0, 'the TLS key file is 0600');
    });
  });
}

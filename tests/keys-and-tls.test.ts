// Signing keys (created on first start, encrypted, rotatable with the old key still published) and
// HTTPS out of the box (a local CA for localhost, 127.0.0.1 and ::1; plain HTTP behind a TLS proxy).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { loadConfig } from '../src/config/index.js';
import { DEMO } from '../src/directory/seed.js';
import { startServer } from '../src/server.js';
import { testCa } from './helpers/server.js';

const ccBody = new URLSearchParams({ grant_type: 'client_credentials', client_id: DEMO.automationAppId, client_secret: 'automation-secret-value', scope: 'https://graph.microsoft.com/.default' });

function tmpDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-keys-'));
}

describe('signing keys', () => {
  test('rotation publishes the new key, signs with it after restart, and keeps the old key published', async () => {
    const dataDir = tmpDir();
    const config = loadConfig({ LATCHKEY_LOG_LEVEL: 'warn' }, { dataDir, port: 0, tlsCaCert: testCa(), automationClientSecret: 'automation-secret-value', bootstrapAdminPassword: 'Bootstrap-Admin-Pw-1' });
    let server = await startServer(config);
    try {
      const tenantUrl = `${server.origin}/${server.tenantId}`;
      const jwks1 = (await (await fetch(`${tenantUrl}/discovery/v2.0/keys`)).json()) as JSONWebKeySet;
      assert.equal(jwks1.keys.length, 1);
      assert.equal(jwks1.keys[0]!.alg, 'RS256');
      assert.equal((jwks1.keys[0] as { d?: string }).d, undefined, 'no private member is published');
      const oldToken = ((await (await fetch(`${tenantUrl}/oauth2/v2.0/token`, { method: 'POST', body: ccBody })).json()) as { access_token: string }).access_token;
      const oldKid = decodeProtectedHeader(oldToken).kid;
      assert.equal(oldKid, jwks1.keys[0]!.kid);

      // rotate through the operator command, then restart on the same data folder
      await server.close();
      execFileSync(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'keys', 'rotate'], { env: { ...process.env, LATCHKEY_DATA_DIR: dataDir }, stdio: 'pipe' });
      server = await startServer(config);
      const tenantUrl2 = `${server.origin}/${server.tenantId}`;
      const jwks2 = (await (await fetch(`${tenantUrl2}/discovery/v2.0/keys`)).json()) as JSONWebKeySet;
      assert.equal(jwks2.keys.length, 2);
      const newToken = ((await (await fetch(`${tenantUrl2}/oauth2/v2.0/token`, { method: 'POST', body: ccBody })).json()) as { access_token: string }).access_token;
      const newKid = decodeProtectedHeader(newToken).kid;
      assert.notEqual(newKid, oldKid, 'new tokens are signed with the new key');
      assert.deepEqual(jwks2.keys.map((k) => k.kid).sort(), [oldKid, newKid].sort());
      // a token signed before the rotation still verifies against the published set
      const set = createLocalJWKSet(jwks2);
      await jwtVerify(oldToken, set);
      await jwtVerify(newToken, set);
      // the private keys are stored encrypted
      const rows = await server.store.db.selectFrom('signing_keys').select(['private_jwk']).execute();
      for (const r of rows) assert.match(r.private_jwk, /^v1\./);

      // once every token the old key signed has expired, it is no longer published
      await server.close();
      const longest = Math.max(config.accessTokenMaxTtl, config.idTokenTtl) * 1000;
      const expired = await startServer(config).then(async (s) => {
        await s.store.db.updateTable('signing_keys').set({ retired_at: Date.now() - longest - 1000 }).where('kid', '=', oldKid!).execute();
        await s.close();
        return startServer(config);
      });
      server = expired;
      const jwks3 = (await (await fetch(`${server.origin}/${server.tenantId}/discovery/v2.0/keys`)).json()) as JSONWebKeySet;
      assert.deepEqual(jwks3.keys.map((k) => k.kid), [newKid]);
    } finally {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('HTTPS out of the box', () => {
  test('first start creates a local CA and a certificate for localhost, 127.0.0.1 and ::1', async () => {
    const dataDir = tmpDir();
    const server = await startServer(loadConfig({ LATCHKEY_LOG_LEVEL: 'warn' }, { dataDir, port: 0 }));
    try {
      const ca = new X509Certificate(fs.readFileSync(path.join(dataDir, 'tls', 'ca.crt')));
      const leaf = new X509Certificate(fs.readFileSync(path.join(dataDir, 'tls', 'server.crt')));
      assert.equal(server.tls?.caFile, path.join(dataDir, 'tls', 'ca.crt'));
      assert.ok(ca.ca, 'the CA certificate is a CA');
      assert.ok(leaf.verify(ca.publicKey), 'the server certificate is signed by the local CA');
      assert.ok(leaf.checkHost('localhost'));
      assert.ok(leaf.checkIP('127.0.0.1'));
      assert.ok(leaf.checkIP('::1'));
      assert.equal(fs.statSync(path.join(dataDir, 'tls', 'ca.key')).mode & 0o077, 0);
      assert.equal(fs.statSync(path.join(dataDir, 'master.key')).mode & 0o077, 0);
      // the server really serves that certificate: curl with only the local CA trusted
      // (asynchronously: the server runs in this process)
      const { stdout } = await promisify(execFile)('curl', ['-sS', '--max-time', '10', '--resolve', `localhost:${server.port}:127.0.0.1`, '--cacert', path.join(dataDir, 'tls', 'ca.crt'), `${server.origin}/healthz`]);
      assert.equal((JSON.parse(stdout) as { status: string }).status, 'ok');
    } finally {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('plain HTTP behind a TLS proxy advertises the public https origin', async () => {
    const dataDir = tmpDir();
    const server = await startServer(loadConfig({ LATCHKEY_LOG_LEVEL: 'warn' }, { dataDir, port: 0, tls: 'off', publicUrl: 'https://idp.example.test', trustProxy: true }));
    try {
      assert.equal(server.tls, undefined);
      const res = await fetch(`http://127.0.0.1:${server.port}/${server.tenantId}/v2.0/.well-known/openid-configuration`);
      const md = (await res.json()) as { issuer: string; token_endpoint: string };
      assert.equal(md.issuer, `https://idp.example.test/${server.tenantId}/v2.0`);
      assert.equal(md.token_endpoint, `https://idp.example.test/${server.tenantId}/oauth2/v2.0/token`);
      assert.equal(fs.existsSync(path.join(dataDir, 'tls')), false, 'no TLS material is made');
    } finally {
      await server.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

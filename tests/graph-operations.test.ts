// Graph resetPassword's operation (D17) lives in the database: its Location answers `succeeded` after a
// restart on the same data folder, and the sweeper removes operations older than a week.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { findUserByUpn } from '../src/directory/users.js';
import { startServer } from '../src/server.js';
import { sweepExpired } from '../src/storage/oidc-adapter.js';
import { consentNativeAppToGraph, delegatedGraphToken } from './helpers/http-signin.js';
import { type TestServer, testCa } from './helpers/server.js';

const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

test('a resetPassword operation URL answers succeeded after a restart, until the sweeper removes it', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-ops-'));
  // the second start listens on the first one's port: the issuer (and so the token) stays the same
  const configAt = (port: number) => loadConfig({ LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_SECURITY_DEFAULTS: 'false' }, { dataDir, port, host: '127.0.0.1', tlsCaCert: testCa(), automationClientSecret: 'automation-secret-value', bootstrapAdminPassword: 'Bootstrap-Admin-Pw-1' });
  const start = async (port = 0) => {
    const s = await startServer(configAt(port));
    return { ...s, dataDir, dbKind: 'sqlite', tenantUrl: `${s.origin}/${s.tenantId}` } as TestServer;
  };
  let server = await start();
  try {
    await consentNativeAppToGraph(server);
    const adminToken = await delegatedGraphToken(server, 'admin@contoso.test', 'Bootstrap-Admin-Pw-1');
    const bob = (await findUserByUpn(server.store.db, server.tenantId, 'bob@contoso.test'))!;
    const reset = await fetch(`${server.origin}/v1.0/users/${bob.id}/authentication/methods/${PASSWORD_METHOD_ID}/resetPassword`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(reset.status, 202);
    const location = reset.headers.get('location')!;
    assert.match(location, new RegExp(`/v1\\.0/users/${bob.id}/authentication/operations/[0-9a-f-]{36}$`));
    const opPath = new URL(location).pathname;

    const port = Number(new URL(server.origin).port);
    await server.close();
    server = await start(port);
    // the first request may meet the closed keep-alive socket of the stopped server: it is sent again
    const res = await fetch(`${server.origin}${opPath}`, { headers: { authorization: `Bearer ${adminToken}` } }).catch(() => fetch(`${server.origin}${opPath}`, { headers: { authorization: `Bearer ${adminToken}` } }));
    assert.equal(res.status, 200);
    const op = (await res.json()) as { id: string; status: string };
    assert.equal(op.status, 'succeeded');
    assert.equal(op.id, opPath.split('/').pop());

    assert.equal(await sweepExpired(server.store.db, Date.now() + 6 * 86_400_000) >= 0, true);
    assert.equal((await fetch(`${server.origin}${opPath}`, { headers: { authorization: `Bearer ${adminToken}` } })).status, 200, 'kept for a week');
    await sweepExpired(server.store.db, Date.now() + 8 * 86_400_000);
    const gone = await fetch(`${server.origin}${opPath}`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.equal(gone.status, 404);
    assert.equal(((await gone.json()) as { error: { code: string } }).error.code, 'Request_ResourceNotFound');
  } finally {
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

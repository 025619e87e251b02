// First start: the demo tenant, the bootstrap admin (a printed one-time password that must be changed, or
// one from the environment that need not), the automation app, and the JSON seed file (docs/seed.md).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.js';
import { verifyPassword } from '../src/crypto/secrets.js';
import { findUserByUpn, userRoles } from '../src/directory/users.js';
import { startServer } from '../src/server.js';
import { startTestServer, testCa } from './helpers/server.js';

const ccForm = (clientId: string, secret: string) => new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: 'https://graph.microsoft.com/.default' });

describe('first start', () => {
  test('without a bootstrap password, a one-time password is printed once and must be changed at first sign-in', async () => {
    const server = await startTestServer('sqlite', { bootstrapAdminPassword: '', automationClientSecret: '' });
    try {
      const line = server.printed.find((p) => p.startsWith('Global Administrator'));
      assert.ok(line, 'the admin password is printed');
      const password = /: (\S+)$/.exec(line)![1]!;
      const admin = await findUserByUpn(server.store.db, server.tenantId, `admin@${server.tenantDomain}`);
      assert.ok(admin);
      assert.equal(admin.force_change_password, 1);
      assert.ok(await verifyPassword(admin.password_hash!, password));
      assert.deepEqual(await userRoles(server.store.db, admin.id), ['Global Administrator']);
      const secretLine = server.printed.find((p) => p.startsWith('Automation app'));
      const secret = /: (\S+)$/.exec(secretLine ?? '')![1]!;
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/token`, { method: 'POST', body: ccForm('44444444-4444-4444-8444-444444444444', secret) });
      assert.equal(res.status, 200, 'the printed automation secret works');
    } finally {
      await server.close();
    }
  });

  test('a bootstrap password from the environment is used as given and need not be changed', async () => {
    const server = await startTestServer('sqlite', { bootstrapAdminPassword: 'Env-Admin-Password-7', automationClientSecret: 'env-automation-secret' });
    try {
      const admin = await findUserByUpn(server.store.db, server.tenantId, `ADMIN@${server.tenantDomain.toUpperCase()}`);
      assert.equal(admin?.force_change_password, 0);
      assert.ok(await verifyPassword(admin.password_hash!, 'Env-Admin-Password-7'));
      assert.equal(server.printed.some((p) => p.includes('Env-Admin-Password-7') || p.includes('env-automation-secret')), false, 'secrets given by the environment are not printed');
      const res = await fetch(`${server.tenantUrl}/oauth2/v2.0/token`, { method: 'POST', body: ccForm('44444444-4444-4444-8444-444444444444', 'env-automation-secret') });
      assert.equal(res.status, 200);
    } finally {
      await server.close();
    }
  });

  test('a seed file creates its users and apps; a later start neither re-seeds nor prints secrets', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-seed-'));
    const seedFile = path.join(dir, 'seed.json');
    fs.writeFileSync(seedFile, JSON.stringify({
      users: [{ userPrincipalName: 'dave@contoso.test', displayName: 'Dave Seeded', password: 'Seeded-Password-42', roles: ['Helpdesk Administrator'] }, { userPrincipalName: 'erin@contoso.test', displayName: 'Erin Disabled', accountEnabled: false }],
      apps: [{ displayName: 'Seeded daemon', appId: '55555555-5555-4555-8555-555555555555', kind: 'web', secret: 'seeded-daemon-secret', graphApplication: ['User.Read.All'] }],
    }));
    const config = loadConfig({ LATCHKEY_LOG_LEVEL: 'warn' }, { dataDir: path.join(dir, 'data'), port: 0, tlsCaCert: testCa(), seedFile, demo: false, bootstrapAdminPassword: 'Bootstrap-Admin-Pw-1', automationClientSecret: 'x-automation-secret' });
    let server = await startServer(config);
    try {
      const dave = await findUserByUpn(server.store.db, server.tenantId, 'dave@contoso.test');
      assert.equal(dave?.display_name, 'Dave Seeded');
      assert.ok(await verifyPassword(dave.password_hash!, 'Seeded-Password-42'));
      assert.deepEqual(await userRoles(server.store.db, dave.id), ['Helpdesk Administrator']);
      assert.equal((await findUserByUpn(server.store.db, server.tenantId, 'erin@contoso.test'))?.account_enabled, 0);
      assert.equal(await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'), undefined, 'no demo users with LATCHKEY_DEMO=false');
      const res = await fetch(`${server.origin}/${server.tenantId}/oauth2/v2.0/token`, { method: 'POST', body: ccForm('55555555-5555-4555-8555-555555555555', 'seeded-daemon-secret') });
      assert.equal(res.status, 200);
      await server.close();
      server = await startServer(config);
      assert.deepEqual(server.printed, []);
      const count = await server.store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 3, 'admin, dave and erin, once');
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a bad seed file stops the first start and leaves no half-made tenant', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-seed-'));
    const seedFile = path.join(dir, 'seed.json');
    fs.writeFileSync(seedFile, JSON.stringify({ users: [{ userPrincipalName: 'x@contoso.test', displayName: 'X' }, { userPrincipalName: 'X@contoso.test', displayName: 'X again' }], apps: [{ displayName: 'bad', kind: 'daemon' }] }));
    const config = loadConfig({ LATCHKEY_LOG_LEVEL: 'warn' }, { dataDir: path.join(dir, 'data'), port: 0, tlsCaCert: testCa(), seedFile });
    try {
      await assert.rejects(startServer(config), (e: Error) => {
        assert.match(e.message, /users\[1\]\.userPrincipalName X@contoso.test is repeated/);
        assert.match(e.message, /apps\[0\]\.kind must be web, native or spa/);
        return true;
      });
      fs.writeFileSync(seedFile, JSON.stringify({ users: [{ userPrincipalName: 'x@contoso.test', displayName: 'X' }] }));
      const server = await startServer(config);
      try {
        assert.ok(await findUserByUpn(server.store.db, server.tenantId, 'x@contoso.test'), 'the corrected file is applied at the next start');
      } finally {
        await server.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

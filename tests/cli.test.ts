// The operator command line calls the same admin actions: --dry-run prints the preview and writes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findUserByUpn } from '../src/directory/users.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const run = promisify(execFile);

describe('command line admin actions', () => {
  let server: TestServer;
  const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, LATCHKEY_DATA_DIR: server.dataDir } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
  before(async () => {
    server = await startTestServer('sqlite');
  });
  after(async () => {
    await server?.close();
  });

  test('revoke-sessions --dry-run prints the preview and changes nothing; without it, the stamp moves and is audited', async () => {
    const before = (await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'))!;
    const dry = await cli('revoke-sessions', 'alice@contoso.test', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    const preview = JSON.parse(dry.stdout) as { action: string; target: { userPrincipalName: string } };
    assert.equal(preview.action, 'revokeSessions');
    assert.equal(preview.target.userPrincipalName, 'alice@contoso.test');
    assert.deepEqual(await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'), before);
    assert.equal((await server.store.db.selectFrom('audit_log').selectAll().execute()).length, 0);
    const real = await cli('revoke-sessions', 'alice@contoso.test');
    assert.equal(real.code, 0, real.stderr);
    const after = (await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'))!;
    assert.ok(after.sign_in_sessions_valid_from > before.sign_in_sessions_valid_from);
    const audit = await server.store.db.selectFrom('audit_log').selectAll().execute();
    assert.deepEqual(audit.map((a) => [a.activity, a.actor_id]), [['Update StsRefreshTokenValidFrom Timestamp', 'system']]);
  });

  test('reset-password prints the generated password once; an unknown user is refused', async () => {
    const out = await cli('reset-password', 'bob@contoso.test');
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /new password \(shown once\): \S{16}/);
    const bob = (await findUserByUpn(server.store.db, server.tenantId, 'bob@contoso.test'))!;
    assert.equal(bob.force_change_password, 1);
    const missing = await cli('disable', 'nobody@contoso.test');
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /refused \(not_found\)/);
    const usage = await cli('frobnicate', 'x');
    assert.equal(usage.code, 2);
  });

  test('create-tap prints the pass once; require-reregister-mfa --dry-run lists which methods go and which stay', async () => {
    const out = await cli('create-tap', 'carol@contoso.test');
    assert.equal(out.code, 0, out.stderr);
    const value = /Temporary Access Pass \(shown once\): (\S{8})$/m.exec(out.stdout)?.[1];
    assert.ok(value, out.stdout);
    assert.ok(!out.stdout.split(value)[0]!.includes(value), 'the preview printed before apply holds no value');
    const dry = await cli('require-reregister-mfa', 'carol@contoso.test', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    const preview = JSON.parse(dry.stdout) as { action: string; methods: { type: string; fate: string }[]; warnings: string[] };
    assert.equal(preview.action, 'requireReregisterMfa');
    assert.deepEqual(preview.methods.map((m) => [m.type, m.fate]), [['password', 'kept'], ['temporaryAccessPass', 'kept']]);
    assert.ok(preview.warnings.some((w) => /Revoke sessions/.test(w)));
  });
});

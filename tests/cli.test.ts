// The operator command line calls the same admin actions through the registry: every command has --help
// (exit 0); --dry-run prints the preview and writes nothing; a destructive action asks first, and without
// a terminal refuses unless --yes; --json prints one JSON document; `users list` shows users and roles.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ACTIONS } from '../src/admin/registry.js';
import { verifyPassword } from '../src/crypto/secrets.js';
import { GRAPH_APP_ID, grantPermission } from '../src/directory/apps.js';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const run = promisify(execFile);

describe('command line admin actions', () => {
  let server: TestServer;
  const cliWithStdin = (stdin: string | undefined, ...args: string[]) => {
    const p = run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, LATCHKEY_DATA_DIR: server.dataDir } });
    if (stdin !== undefined) p.child.stdin?.end(stdin);
    return p.then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  };
  const cli = (...args: string[]) => cliWithStdin(undefined, ...args);
  const audits = async () => (await server.store.db.selectFrom('audit_log').select(['activity', 'actor_id', 'target_name']).orderBy('id').execute()).map((a) => [a.activity, a.actor_id, a.target_name]);
  before(async () => {
    server = await startTestServer('sqlite');
  });
  after(async () => {
    await server?.close();
  });

  test('--help of every command exits 0 and describes it; an unknown command is a usage error (2)', async () => {
    const commands = [[], ['help'], ['keys', 'rotate'], ['sweep'], ['users', 'list'], ['apps', 'list'], ['apps', 'create'], ['apps', 'add-secret'], ...Object.values(ACTIONS).map((a) => [a.command])];
    const outs = await Promise.all(commands.map((c) => cli(...c, '--help')));
    for (const [i, out] of outs.entries()) {
      assert.equal(out.code, 0, `${commands[i]!.join(' ')} --help: ${out.stderr}`);
      assert.match(out.stdout, /usage: npm run cli -- /, commands[i]!.join(' '));
    }
    const overview = outs[0]!.stdout;
    for (const a of Object.values(ACTIONS)) assert.ok(overview.includes(a.command), `the overview lists ${a.command}`);
    const reset = await cli('reset-password', '--help');
    assert.match(reset.stdout, /--force-change-password-next-sign-in/);
    assert.match(reset.stdout, /--new-password-stdin .*never from the command line/);
    const usage = await cli('frobnicate', 'x');
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown command/);
    const badOption = await cli('revoke-sessions', 'alice@contoso.test', '--everywhere');
    assert.equal(badOption.code, 2);
    assert.match(badOption.stderr, /unknown option --everywhere/);
  });

  test('sessions list, sessions end, grants list and playbook: --help on each; the playbook dry run changes nothing, --yes applies every step and prints the TAP once', async () => {
    for (const c of [['sessions', 'list'], ['grants', 'list'], ['sessions', 'end'], ['grants', 'end'], ['playbook']]) {
      const out = await cli(...c, '--help');
      assert.equal(out.code, 0, `${c.join(' ')}: ${out.stderr}`);
      assert.match(out.stdout, new RegExp(`usage: npm run cli -- ${c.join(' ')}`));
    }
    const upn = 'cli-playbook@contoso.test';
    await createUser(server.store.db, { tenantId: server.tenantId, upn, displayName: 'Cli Playbook', password: 'Cli-Playbook-Pw-90' });
    const list = await cli('sessions', 'list', upn, '--json');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as { value: unknown[] }).value, []);
    const grants = await cli('grants', 'list', upn);
    assert.equal(grants.code, 0, grants.stderr);
    assert.match(grants.stdout, /none/);
    const gone = await cli('sessions', 'end', upn, 'no-such-session', '--yes');
    assert.equal(gone.code, 3);
    assert.match(gone.stderr, /Session 'no-such-session' does not exist for this user/);
    const auditBefore = await audits();
    const dry = await cli('playbook', upn, '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /1\. Disable the account/);
    assert.match(dry.stdout, /next sign-in: with the Temporary Access Pass/);
    assert.deepEqual(await audits(), auditBefore);
    const badStep = await cli('playbook', upn, '--steps', 'revokeSessions,formatDisk', '--yes');
    assert.equal(badStep.code, 3);
    assert.match(badStep.stderr, /Step 'formatDisk' is not a playbook step/);
    const applied = await cli('playbook', upn, '--steps', 'revokeSessions,createTap', '--yes');
    assert.equal(applied.code, 0, applied.stderr);
    const tap = /Temporary Access Pass \(shown once, hand it over out of band\): (\S+)/.exec(applied.stdout)?.[1];
    assert.ok(tap, applied.stdout);
    assert.equal(applied.stdout.split(tap).length, 2, 'the TAP is printed once, not in the report');
    assert.match(applied.stdout, /What was done:/);
    assert.deepEqual((await audits()).slice(auditBefore.length).map((a) => a[0]), ['Update StsRefreshTokenValidFrom Timestamp', 'Admin registered security info']);
  });

  test('revoke-sessions --dry-run prints the preview and changes nothing; with --yes the stamp moves and is audited', async () => {
    const before = (await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'))!;
    const auditBefore = await audits();
    const dry = await cli('revoke-sessions', 'alice@contoso.test', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^revokeSessions for Alice Example <alice@contoso\.test>/);
    assert.match(dry.stdout, /signInSessionsValidFromDateTime: .* -> \(the time of apply\)/);
    assert.match(dry.stdout, /dry run: nothing was changed/);
    const json = await cli('revoke-sessions', 'alice@contoso.test', '--dry-run', '--json');
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { preview: { action: string; target: { userPrincipalName: string } } };
    assert.equal(doc.preview.action, 'revokeSessions');
    assert.equal(doc.preview.target.userPrincipalName, 'alice@contoso.test');
    assert.deepEqual(await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'), before);
    assert.deepEqual(await audits(), auditBefore);
    const real = await cli('revoke-sessions', 'alice@contoso.test', '--yes');
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /applied at /);
    const after = (await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'))!;
    assert.ok(after.sign_in_sessions_valid_from > before.sign_in_sessions_valid_from);
    assert.deepEqual(await audits(), [...auditBefore, ['Update StsRefreshTokenValidFrom Timestamp', 'system', 'alice@contoso.test']]);
  });

  test('a destructive action without --yes and without a terminal is refused (exit 4) and changes nothing; a non-destructive one runs', async () => {
    const before = (await findUserByUpn(server.store.db, server.tenantId, 'carol@contoso.test'))!;
    const auditBefore = await audits();
    for (const cmd of ['disable-account', 'disable', 'revoke-sessions', 'reset-password', 'delete-user']) {
      const out = await cli(cmd, 'carol@contoso.test');
      assert.equal(out.code, 4, `${cmd}: ${out.stderr}`);
      assert.match(out.stderr, /not applied: .* is destructive; pass --yes/);
    }
    assert.deepEqual(await findUserByUpn(server.store.db, server.tenantId, 'carol@contoso.test'), before);
    assert.deepEqual(await audits(), auditBefore);
    // enable is not destructive: it applies without a prompt
    const enable = await cli('enable-account', 'carol@contoso.test', '--json');
    assert.equal(enable.code, 0, enable.stderr);
    const doc = JSON.parse(enable.stdout) as { preview: { action: string }; result: { appliedDateTime: string } };
    assert.equal(doc.preview.action, 'enableAccount');
    assert.ok(Date.parse(doc.result.appliedDateTime) > 0);
  });

  test('reset-password prints the generated password once; options come from the action input; refusals exit 3', async () => {
    const out = await cli('reset-password', 'bob@contoso.test', '--yes');
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /new password \(shown once\): \S{16}/);
    const bob = (await findUserByUpn(server.store.db, server.tenantId, 'bob@contoso.test'))!;
    assert.equal(bob.force_change_password, 1);
    const json = await cli('reset-password', 'bob@contoso.test', '--yes', '--json', '--no-force-change-password-next-sign-in');
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as { result: { newPassword: string } };
    assert.match(doc.result.newPassword, /^\S{16}$/);
    assert.equal((await findUserByUpn(server.store.db, server.tenantId, 'bob@contoso.test'))!.force_change_password, 0);
    const flags = await cli('set-password-profile', 'bob@contoso.test', '--force-change-password-next-sign-in', '--yes');
    assert.equal(flags.code, 0, flags.stderr);
    assert.equal((await findUserByUpn(server.store.db, server.tenantId, 'bob@contoso.test'))!.force_change_password, 1);
    const missing = await cli('disable', 'nobody@contoso.test', '--yes');
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /refused \(not_found\)/);
    const nothing = await cli('set-password-profile', 'bob@contoso.test', '--yes');
    assert.equal(nothing.code, 3);
    assert.match(nothing.stderr, /refused \(invalid\)/);
  });

  test('a chosen password is read from stdin, never from the command line, and needs --yes', async () => {
    const chosen = 'Chosen-On-Stdin-Pw-93';
    const before = (await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'))!;
    const noYes = await cliWithStdin(`${chosen}\n`, 'reset-password', 'alice@contoso.test', '--new-password-stdin');
    assert.equal(noYes.code, 2);
    assert.match(noYes.stderr, /needs --yes/);
    assert.deepEqual(await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'), before);
    const out = await cliWithStdin(`${chosen}\n`, 'reset-password', 'alice@contoso.test', '--new-password-stdin', '--yes');
    assert.equal(out.code, 0, out.stderr);
    assert.ok(!out.stdout.includes(chosen), 'the chosen password is not printed');
    assert.doesNotMatch(out.stdout, /new password \(shown once\)/);
    const after = (await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'))!;
    assert.notEqual(after.password_hash, before.password_hash);
    assert.equal(await verifyPassword(after.password_hash!, chosen), true);
    assert.equal(after.force_change_password, 0);
    const weak = await cliWithStdin('short\n', 'reset-password', 'alice@contoso.test', '--new-password-stdin', '--yes');
    assert.equal(weak.code, 3);
    assert.match(weak.stderr, /refused \(invalid\)/);
  });

  test('users list shows user principal name, display name, enabled and roles; --json for scripts', async () => {
    await createUser(server.store.db, { tenantId: server.tenantId, upn: 'helpdesk@contoso.test', displayName: 'Help Desk', password: 'Cli-Test-Password-41', accountEnabled: false, roles: ['Helpdesk Administrator', 'Reports Reader'] });
    const out = await cli('users', 'list');
    assert.equal(out.code, 0, out.stderr);
    const lines = out.stdout.trim().split('\n');
    assert.match(lines[0]!, /^USER PRINCIPAL NAME\s+DISPLAY NAME\s+ENABLED\s+ROLES$/);
    assert.ok(lines.some((l) => /^admin@contoso\.test\s+Global Administrator\s+yes\s+Global Administrator$/.test(l)), out.stdout);
    assert.ok(lines.some((l) => /^helpdesk@contoso\.test\s+Help Desk\s+no\s+Helpdesk Administrator, Reports Reader$/.test(l)), out.stdout);
    const json = await cli('users', 'list', '--json');
    const rows = JSON.parse(json.stdout) as { userPrincipalName: string; displayName: string; accountEnabled: boolean; roles: string[] }[];
    assert.deepEqual(rows.find((r) => r.userPrincipalName === 'helpdesk@contoso.test'), { ...rows.find((r) => r.userPrincipalName === 'helpdesk@contoso.test'), displayName: 'Help Desk', accountEnabled: false, roles: ['Helpdesk Administrator', 'Reports Reader'] });
    assert.ok(rows.some((r) => r.userPrincipalName === 'alice@contoso.test' && r.roles.length === 0));
  });

  test('create-tap prints the pass once; require-reregister-mfa --dry-run lists which methods go and which stay', async () => {
    const out = await cli('create-tap', 'carol@contoso.test', '--yes');
    assert.equal(out.code, 0, out.stderr);
    const value = /Temporary Access Pass \(shown once\): (\S{8})$/m.exec(out.stdout)?.[1];
    assert.ok(value, out.stdout);
    assert.ok(!out.stdout.split(value)[0]!.includes(value), 'the preview printed before apply holds no value');
    const dry = await cli('require-reregister-mfa', 'carol@contoso.test', '--dry-run', '--json');
    assert.equal(dry.code, 0, dry.stderr);
    const { preview } = JSON.parse(dry.stdout) as { preview: { action: string; methods: { type: string; fate: string }[]; warnings: string[] } };
    const text = await cli('require-reregister-mfa', 'carol@contoso.test', '--dry-run');
    assert.match(text.stdout, /authentication methods:\n\s+password\s+\S+\s+kept/);
    assert.equal(preview.action, 'requireReregisterMfa');
    assert.deepEqual(preview.methods.map((m) => [m.type, m.fate]), [['password', 'kept'], ['temporaryAccessPass', 'kept']]);
    assert.ok(preview.warnings.some((w) => /Revoke sessions/.test(w)));
  });

  test('apps create registers an app with redirect URIs by platform; apps list shows it; apps add-secret prints a secret once that works at the token endpoint', async () => {
    const dry = await cli('apps', 'create', 'CLI app', '--web-redirect-uri', 'https://cli.example/cb', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^createApplication for CLI app/);
    assert.match(dry.stdout, /nothing was changed/);
    const bad = await cli('apps', 'create', 'CLI app', '--web-redirect-uri', 'http://cli.example/cb');
    assert.equal(bad.code, 3, 'refused by the action');
    assert.match(bad.stderr, /must use HTTPS/);
    const made = await cli('apps', 'create', 'CLI app', '--web-redirect-uri', 'https://cli.example/cb', '--spa-redirect-uri', 'https://cli.example/spa', '--public-client-redirect-uri', 'http://localhost', '--json');
    assert.equal(made.code, 0, made.stderr);
    const { result } = JSON.parse(made.stdout) as { result: { appId: string; id: string; servicePrincipalId: string } };
    const sp = await server.store.db.selectFrom('service_principals').select(['id', 'app_id']).where('app_id', '=', result.appId).execute();
    assert.deepEqual(sp, [{ id: result.servicePrincipalId, app_id: result.appId }], 'the app is registered with its service principal');
    const listed = JSON.parse((await cli('apps', 'list', '--json')).stdout) as { appId: string; id: string; web: string[]; spa: string[]; publicClient: string[]; secrets: number }[];
    const mine = listed.find((a) => a.appId === result.appId)!;
    assert.deepEqual([mine.id, mine.web, mine.spa, mine.publicClient, mine.secrets], [result.id, ['https://cli.example/cb'], ['https://cli.example/spa'], ['http://localhost'], 0]);
    assert.match((await cli('apps', 'list')).stdout, /APP ID \(CLIENT ID\)[\s\S]*CLI app/);

    const secret = await cli('apps', 'add-secret', result.appId, '--display-name', 'from the cli');
    assert.equal(secret.code, 0, secret.stderr);
    const value = /client secret \(shown once, store it now\): (\S+)/.exec(secret.stdout)?.[1];
    assert.ok(value, secret.stdout);
    await grantPermission(server.store.db, result.appId, GRAPH_APP_ID, 'application', ['User.Read.All']);
    const t = await fetch(`${server.tenantUrl}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials', client_id: result.appId, client_secret: value, scope: 'https://graph.microsoft.com/.default' }) });
    assert.equal(t.status, 200, await t.clone().text());
    assert.equal(((await server.store.db.selectFrom('app_secrets').select('display_name').where('app_id', '=', result.appId).execute())[0])?.display_name, 'from the cli');
    const activities = (await audits()).filter((a) => a[2] === 'CLI app');
    assert.deepEqual(activities, [['Add application', 'system', 'CLI app'], ['Add service principal', 'system', 'CLI app'], ['Update application – Certificates and secrets management', 'system', 'CLI app']]);
    const unknown = await cli('apps', 'add-secret', '00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.code, 3);
    const usage = await cli('apps', 'add-secret', 'not-an-id');
    assert.equal(usage.code, 2);
  });
});

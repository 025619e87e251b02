// The command line's bad input and edges, found by a black-box sweep: a usage error is one line on stderr
// (exit 2) naming what was wrong and changes nothing; an option's value is never another option; empty
// values and control characters are refused; dates are strict ISO 8601; names from the directory are
// printed with their control characters escaped; keys rotate and sweep take --json; nothing is created
// where no Latchkey data is; at a terminal, end of input at the prompt is a no and --json shows the
// preview with the question.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createUser, findUserByUpn } from '../src/directory/users.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const run = promisify(execFile);
const AUTOMATION_APP = '44444444-4444-4444-8444-444444444444';

/** stderr without Node 20's warning from oidc-provider, which is not the command line's */
const errLines = (stderr: string) => stderr.split('\n').filter((l) => l && !l.startsWith('oidc-provider WARNING'));

describe('command line sweep: bad input and edges', () => {
  let server: TestServer;
  const cli = (env: Record<string, string>, stdin: string | undefined, ...args: string[]) => {
    const p = run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { env: { ...process.env, LATCHKEY_DATA_DIR: server.dataDir, ...env } });
    p.child.stdin?.end(stdin ?? '');
    return p.then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  };
  const secretsOf = async (appId: string) => (await server.store.db.selectFrom('app_secrets').select('id').where('app_id', '=', appId).execute()).length;
  /** Runs a command on a terminal (util-linux `script`), answering the [y/N] question with `answer` when it is asked. */
  const atTerminal = (answer: string, ...args: string[]) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('script', ['-qec', [process.execPath, '--import', 'tsx', 'src/cli.ts', ...args].join(' '), '/dev/null'], { env: { ...process.env, LATCHKEY_DATA_DIR: server.dataDir } });
      let output = '';
      let asked = false;
      child.stdout.on('data', (d: Buffer) => {
        output += String(d);
        if (!asked && output.includes('[y/N]')) {
          asked = true;
          child.stdin.write(answer);
        }
      });
      child.on('exit', (code) => {
        child.stdin.end();
        resolve({ code, output: output.replace(/\r/g, '') });
      });
    });

  before(async () => {
    server = await startTestServer('sqlite');
  });
  after(async () => {
    await server?.close();
  });

  test('a usage error is one line on stderr naming what was wrong, exit 2, nothing on stdout', async () => {
    const cases: [string[], string][] = [
      [['frobnicate'], 'latchkey: unknown command: frobnicate (see --help)'],
      [['keys'], 'latchkey: unknown command: keys (the keys commands: keys rotate) (see --help)'],
      [['keys', 'rotate', '--bogus'], 'latchkey: unknown option --bogus for keys rotate (see --help)'],
      [['users', 'list', '--bogus'], 'latchkey: unknown option --bogus for users list (see --help)'],
      [['sessions', 'list'], 'latchkey: sessions list takes exactly one user (id or UPN) (see --help)'],
      [['sessions', 'list', 'alice@contoso.test', '--bogus'], 'latchkey: unknown option --bogus for sessions list (see --help)'],
      [['sessions', 'end', 'alice@contoso.test'], 'latchkey: sessions end takes exactly a user and a session id (see --help)'],
      [['demo', 'totp', 'alice', '--bogus'], 'latchkey: unknown option --bogus for demo totp (see --help)'],
      [['revoke-sessions', 'alice@contoso.test', '--everywhere'], 'latchkey: unknown option --everywhere for revoke-sessions (see --help)'],
      [['apps', 'frob'], 'latchkey: unknown command: apps frob (the apps commands: apps list, apps create, apps add-secret) (see --help)'],
    ];
    for (const [args, expected] of cases) {
      const out = await cli({}, undefined, ...args);
      assert.equal(out.code, 2, args.join(' '));
      assert.equal(out.stdout, '', args.join(' '));
      assert.deepEqual(errLines(out.stderr), [expected], args.join(' '));
    }
  });

  test("an option's value is never the next option: --display-name --dry-run is refused, not a secret named --dry-run added for real", async () => {
    const before = await secretsOf(AUTOMATION_APP);
    const secret = await cli({}, undefined, 'apps', 'add-secret', AUTOMATION_APP, '--display-name', '--dry-run');
    assert.equal(secret.code, 2, secret.stdout);
    assert.deepEqual(errLines(secret.stderr), ['latchkey: --display-name needs a value (see --help)']);
    assert.equal(secret.stdout, '');
    assert.equal(await secretsOf(AUTOMATION_APP), before);
    const tap = await cli({}, undefined, 'create-tap', 'carol@contoso.test', '--lifetime-in-minutes', '--dry-run');
    assert.deepEqual([tap.code, errLines(tap.stderr)], [2, ['latchkey: --lifetime-in-minutes needs a value (see --help)']]);
    const steps = await cli({}, undefined, 'playbook', 'carol@contoso.test', '--steps', '--dry-run');
    assert.deepEqual([steps.code, errLines(steps.stderr)], [2, ['latchkey: --steps needs a value (see --help)']]);
  });

  test('empty values and control characters are refused, named and escaped, and change nothing', async () => {
    const apps = async () => (await server.store.db.selectFrom('apps').select('id').execute()).length;
    const appsBefore = await apps();
    const evil = await cli({}, undefined, 'apps', 'create', 'Evil\x1b[2JApp');
    assert.equal(evil.code, 2);
    assert.deepEqual(errLines(evil.stderr), ['latchkey: argument 3 (after create) "Evil\\x1b[2JApp" contains a control character (see --help)']);
    assert.equal(await apps(), appsBefore);
    const user = await cli({}, undefined, 'reset-password', 'alice@contoso.test\x07', '--dry-run');
    assert.deepEqual([user.code, errLines(user.stderr)], [2, ['latchkey: argument 2 (after reset-password) "alice@contoso.test\\x07" contains a control character (see --help)']]);
    const empty = await cli({}, undefined, 'reset-password', '', '--dry-run');
    assert.deepEqual([empty.code, errLines(empty.stderr)], [2, ['latchkey: argument 2 (after reset-password) is empty (see --help)']]);
    const secretsBefore = await secretsOf(AUTOMATION_APP);
    const noName = await cli({}, undefined, 'apps', 'add-secret', AUTOMATION_APP, '--display-name', '');
    assert.deepEqual([noName.code, errLines(noName.stderr)], [2, ['latchkey: the value of --display-name is empty (see --help)']]);
    assert.equal(await secretsOf(AUTOMATION_APP), secretsBefore);
    const alice = await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test');
    const nothing = await cli({}, '', 'reset-password', 'alice@contoso.test', '--new-password-stdin', '--yes');
    assert.deepEqual([nothing.code, errLines(nothing.stderr)], [2, ['latchkey: --new-password-stdin: nothing was read from stdin (pipe the value in, ending with a newline) (see --help)']]);
    const bell = await cli({}, 'Chosen-\x1b-Password-55\n', 'reset-password', 'alice@contoso.test', '--new-password-stdin', '--yes');
    assert.deepEqual([bell.code, errLines(bell.stderr)], [2, ['latchkey: --new-password-stdin: the value read from stdin contains a control character (see --help)']]);
    assert.deepEqual(await findUserByUpn(server.store.db, server.tenantId, 'alice@contoso.test'), alice);
  });

  test('apps add-secret --end-date-time takes ISO 8601 only, and no day that does not exist', async () => {
    const before = await secretsOf(AUTOMATION_APP);
    for (const bad of ['2099-02-30', '1', 'May 5', '2099-01-31T24:00:00Z']) {
      const out = await cli({}, undefined, 'apps', 'add-secret', AUTOMATION_APP, '--end-date-time', bad);
      assert.equal(out.code, 2, bad);
      assert.deepEqual(errLines(out.stderr), [`latchkey: --end-date-time ${bad} is not a date and time (ISO 8601 with its zone, e.g. 2027-01-31 or 2027-01-31T00:00:00Z) (see --help)`]);
    }
    assert.equal(await secretsOf(AUTOMATION_APP), before);
    const day = await cli({}, undefined, 'apps', 'add-secret', AUTOMATION_APP, '--end-date-time', '2099-01-31', '--json');
    assert.equal(day.code, 0, day.stderr);
    assert.equal((JSON.parse(day.stdout) as { result: { endDateTime: string } }).result.endDateTime, '2099-01-31T00:00:00.000Z');
    const zoned = await cli({}, undefined, 'apps', 'add-secret', AUTOMATION_APP, '--end-date-time', '2099-01-31T10:30:00+02:00', '--json');
    assert.equal(zoned.code, 0, zoned.stderr);
    assert.equal((JSON.parse(zoned.stdout) as { result: { endDateTime: string } }).result.endDateTime, '2099-01-31T08:30:00.000Z');
  });

  test("names from the directory are printed with their control characters escaped (a terminal shows them, not obeys them); --json keeps them", async () => {
    await createUser(server.store.db, { tenantId: server.tenantId, upn: 'mallory@contoso.test', displayName: 'Mallory\x1b[2J\x07', password: 'Mallory-Password-71' });
    const list = await cli({}, undefined, 'users', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.ok(!list.stdout.includes('\x1b') && !list.stdout.includes('\x07'), 'no raw control character on stdout');
    assert.ok(list.stdout.split('\n').some((l) => /^mallory@contoso\.test\s+Mallory\\x1b\[2J\\x07\s+yes\s+-$/.test(l)), list.stdout);
    const dry = await cli({}, undefined, 'revoke-sessions', 'mallory@contoso.test', '--dry-run');
    assert.equal(dry.stdout.split('\n')[0], `revokeSessions for Mallory\\x1b[2J\\x07 <mallory@contoso.test> (${(await findUserByUpn(server.store.db, server.tenantId, 'mallory@contoso.test'))!.id})`);
    const json = JSON.parse((await cli({}, undefined, 'users', 'list', '--json')).stdout) as { userPrincipalName: string; displayName: string }[];
    assert.equal(json.find((u) => u.userPrincipalName === 'mallory@contoso.test')?.displayName, 'Mallory\x1b[2J\x07');
  });

  test('keys rotate and sweep take --json; help <command> is <command> --help; the overview says each command in a whole sentence', async () => {
    const keys = await cli({}, undefined, 'keys', 'rotate', '--json');
    assert.equal(keys.code, 0, keys.stderr);
    const { kid } = JSON.parse(keys.stdout) as { kid: string };
    assert.equal((await server.store.db.selectFrom('signing_keys').select('kid').where('kid', '=', kid).execute()).length, 1);
    const sweep = await cli({}, undefined, 'sweep', '--json');
    assert.equal(sweep.code, 0, sweep.stderr);
    assert.equal(typeof (JSON.parse(sweep.stdout) as { deletedRows: number }).deletedRows, 'number');
    const help = await cli({}, undefined, 'help', 'reset-password');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: npm run cli -- reset-password <user id or UPN> \[options\]\n/);
    const overview = (await cli({}, undefined, '--help')).stdout;
    assert.ok(overview.includes('\n  apps create                    Registers an application with its service principal, and prints its appId (client id), object id and service principal id.\n'), overview);
  });

  test('where there is no Latchkey data, a command refuses (exit 2) and creates neither a database nor a master key', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-cli-empty-'));
    try {
      for (const args of [['keys', 'rotate'], ['users', 'list'], ['revoke-sessions', 'alice@contoso.test', '--dry-run']]) {
        const out = await cli({ LATCHKEY_DATA_DIR: empty }, undefined, ...args);
        assert.equal(out.code, 2, args.join(' '));
        assert.deepEqual(errLines(out.stderr), [`latchkey: no Latchkey database in ${empty}: start Latchkey once first, or set LATCHKEY_DATA_DIR (or LATCHKEY_DATABASE_URL) to where it keeps its data`]);
      }
      assert.deepEqual(fs.readdirSync(empty), []);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  test('at a terminal: end of input at the question is a no (exit 4, nothing applied); with --json the preview comes with the question', async () => {
    const before = await findUserByUpn(server.store.db, server.tenantId, 'bob@contoso.test');
    const eof = await atTerminal('\x04', 'revoke-sessions', 'bob@contoso.test');
    assert.equal(eof.code, 4, eof.output);
    assert.match(eof.output, /\[y\/N\] .*not applied\n/);
    const no = await atTerminal('n\r', 'revoke-sessions', 'bob@contoso.test', '--json');
    assert.equal(no.code, 4, no.output);
    assert.match(no.output, /^revokeSessions for Bob Example <bob@contoso\.test> \(.*\)$/m);
    assert.match(no.output, /^next sign-in: normal\n[\s\S]*Apply revoke-sessions to bob@contoso\.test\? \[y\/N\] /m);
    assert.deepEqual(await findUserByUpn(server.store.db, server.tenantId, 'bob@contoso.test'), before);
  });
});

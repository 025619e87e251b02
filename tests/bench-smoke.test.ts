// `npm run bench` must keep running: every scenario, once, with the smallest counts, ends with its
// result line and no failed request. Nothing here reads a figure: speed is the bench's to print, not a
// test's to time. (An app registration rule once made a scenario's setup get no token, and the whole bench
// stopped with it; nothing in the suite saw it.)
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '..');

/** The line each scenario ends its report with (the goal or ratio it exists for). */
const RESULT_LINES: Record<string, RegExp> = {
  refresh: /^refresh\s+\|.*\(goal ≥ 0\.6: (met|NOT met)\)/m,
  client_credentials: /^client_credentials: per-round ratios /m,
  'revoke-sessions': /^goal: constant in the count \(t\(3\) \/ t\(2\)/m,
  'password-signin': /^ratio sign-ins\/s ÷ verifies\/s: \d/m,
  'the engine floor': /^floor ratio sign-ins\/s ÷ verifies\/s: \d/m,
  'the HTTP floor': /^HTTP floor ratio sign-ins\/s ÷ verifies\/s: \d/m,
  "the ratio goal's budget": /^the ratio goal's budget in this run: .* = \d+\.\d\d ms\n {2}Latchkey: \d+\.\d\d ms beyond one verify.*\n {2}the floor: .*\n {2}the HTTP floor: /m,
  'mfa-signin': /^ratio password \+ TOTP ÷ password only sign-ins\/s: \d/m,
  'passkey-signin': /^ratio passkey ÷ password only sign-ins\/s: \d/m,
  'graph-app': /^ratio Graph-created ÷ seeded: \d/m,
};

/** `npm run bench` with the smallest counts and `extra` arguments; its output, once it exited with 0. */
function smallBench(extra: string[]): string {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'bench', 'run.ts'),
      ...['--quiet-wait', '0', '--requests', '30', '--warmup', '30', '--rounds', '1'],
      ...['--signins', '6', '--signin-warmup', '2', '--signin-rounds', '1', '--mfa-users', '8'],
      ...['--revoke-counts', '2,3', '--revoke-calls', '1', '--revoke-warmup', '1'],
      ...extra,
    ],
    { cwd: root, encoding: 'utf8', timeout: 300_000 },
  );
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, `the bench exited with ${r.status ?? r.signal}:\n${out.slice(-3000)}`);
  return r.stdout;
}

test('every bench scenario runs to its result, with the smallest counts', () => {
  const stdout = smallBench([]);
  for (const [scenario, line] of Object.entries(RESULT_LINES)) assert.match(stdout, line, `no result line for ${scenario}:\n${stdout.slice(-3000)}`);
  // a request or sign-in the load generator found wrong is reported as a note ("… failed …"), not counted
  assert.doesNotMatch(stdout, /^note: .*\bfailed\b/m);
  assert.match(stdout, /^bench took \d+ s$/m);
});

test("password-signin under --profile: statements per sign-in, and each server's main-thread CPU per request kind", () => {
  const stdout = smallBench(['--scenario', 'password-signin', '--profile']);
  assert.match(stdout, /^SQL statements run per sign-in: \d/m);
  // the exact split (schedstat) for Latchkey and both floors, each request kind named, none failed
  for (const [server, kinds] of [
    ["Latchkey's", ['authorize', 'username', 'password', 'kmsi']],
    ["the floor's server's", ['authorize', 'page', 'password', 'resume']],
    ["the HTTP floor's server's", ['authorize', 'page', 'password', 'resume']],
  ] as const) {
    const at = stdout.indexOf(`${server} main thread CPU per request kind (schedstat, 6 sign-ins one at a time, no profiler):`);
    assert.ok(at >= 0, `no per-request split for ${server}:\n${stdout.slice(-3000)}`);
    const block = stdout.slice(at).split('\n\n')[0]!;
    for (const kind of [...kinds, 'all']) assert.match(block, new RegExp(`^  ${kind} +\\d+\\.\\d\\d ms per sign-in$`, 'm'), `${server} split lacks ${kind}:\n${block}`);
  }
});

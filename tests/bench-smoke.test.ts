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
  'mfa-signin': /^ratio password \+ TOTP ÷ password only sign-ins\/s: \d/m,
  'passkey-signin': /^ratio passkey ÷ password only sign-ins\/s: \d/m,
  'graph-app': /^ratio Graph-created ÷ seeded: \d/m,
};

test('every bench scenario runs to its result, with the smallest counts', () => {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(root, 'bench', 'run.ts'),
      ...['--quiet-wait', '0', '--requests', '30', '--warmup', '30', '--rounds', '1'],
      ...['--signins', '6', '--signin-warmup', '2', '--signin-rounds', '1', '--mfa-users', '8'],
      ...['--revoke-counts', '2,3', '--revoke-calls', '1', '--revoke-warmup', '1'],
    ],
    { cwd: root, encoding: 'utf8', timeout: 300_000 },
  );
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, `the bench exited with ${r.status ?? r.signal}:\n${out.slice(-3000)}`);
  for (const [scenario, line] of Object.entries(RESULT_LINES)) assert.match(r.stdout, line, `no result line for ${scenario}:\n${r.stdout.slice(-3000)}`);
  // a request or sign-in the load generator found wrong is reported as a note ("… failed …"), not counted
  assert.doesNotMatch(r.stdout, /^note: .*\bfailed\b/m);
  assert.match(r.stdout, /^bench took \d+ s$/m);
});

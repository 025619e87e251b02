// `npm run bench`: refresh-token and client-credentials grants per second, Latchkey against a bare
// oidc-provider with its in-memory store, on this machine, same request shapes for both; plus, on Latchkey
// alone, Revoke sessions against the number of live refresh tokens (revoke-sessions.ts), password
// sign-ins against the raw argon2id rate (password-signin.ts), password + TOTP sign-ins against
// password-only ones (mfa-signin.ts) and passkey sign-ins against password-only ones (passkey-signin.ts).
// See README.md. Each server runs in its own child process; this
// process is the load generator. Prints tables; the ratios are the output that matters, not the absolute
// numbers.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { percentile, runLoad, type LoadResult } from './load.js';
import { ATTEMPTS, cpuMs, machineBusyMs, waitForQuiet, watched, type Watch } from './machine.js';
import { graphAppScenario } from './graph-app.js';
import { mfaSigninScenario } from './mfa-signin.js';
import { passkeySigninScenario } from './passkey-signin.js';
import { passwordSigninScenario } from './password-signin.js';
import { summarizeProfile } from './profile-summary.js';
import { table } from './report.js';
import { revokeSessionsScenario } from './revoke-sessions.js';
import { type ChildHandle, type ChildStats, CLIENT_CREDENTIALS_SCOPE, type Command, type CommandBody, REFRESH_REQUEST_SCOPE, type ReadyInfo, type Reply } from './protocol.js';

const root = path.resolve(import.meta.dirname, '..');

const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '4' },
    'revoke-counts': { type: 'string', default: '10,1000,10000' },
    'revoke-calls': { type: 'string', default: '10' },
    'revoke-warmup': { type: 'string', default: '3' },
    signins: { type: 'string', default: '200' },
    'signin-warmup': { type: 'string', default: '1000' },
    'signin-concurrency': { type: 'string', default: '4' },
    'signin-rounds': { type: 'string', default: '4' },
    'mfa-users': { type: 'string', default: '3000' },
    'passkey-usernameless': { type: 'boolean', default: false },
    'time-cap': { type: 'string', default: '60' },
    'quiet-wait': { type: 'string', default: '15' },
    scenario: { type: 'string', default: 'all' },
    profile: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
const TOKEN_SCENARIOS = ['refresh', 'client_credentials'] as const;
const LATCHKEY_SCENARIOS = ['revoke-sessions', 'password-signin', 'mfa-signin', 'passkey-signin', 'graph-app'] as const;
const ALL_SCENARIOS: readonly string[] = [...TOKEN_SCENARIOS, ...LATCHKEY_SCENARIOS];
/** what `--scenario all` (the default) runs */
const DEFAULT_SCENARIOS: readonly string[] = [...TOKEN_SCENARIOS, ...LATCHKEY_SCENARIOS];
if (args.help) {
  console.log(`usage: npm run bench -- [options]
  --scenario S     refresh | client_credentials | revoke-sessions | password-signin | mfa-signin |
                   passkey-signin | graph-app, comma-separated, or all (all: ${DEFAULT_SCENARIOS.join(', ')})
  --quiet-wait S   before each measured run, wait up to S seconds for other processes to use less than
                   15% of the machine's CPU (15; 0: do not wait); a run during which they used more is
                   run again (at most 3 tries)
  --time-cap S     cap of one measured run, seconds (60)
  --profile        after the measured runs, one more run per server and scenario with the V8 CPU
                   profiler on; prints where the time went and Latchkey's SQL statements per token
                   request and per sign-in; does not change the measured figures
  --verbose        show the servers' own output
 token grants (refresh, client_credentials; Latchkey against a bare oidc-provider):
  --requests N     measured requests per server, scenario and round (1000)
  --warmup N       unmeasured requests per server and scenario before the first round (2000)
  --concurrency N  requests in flight (10)
  --rounds N       rounds; each runs both servers, alternating which goes first (4)
 revoke-sessions (Latchkey only):
  --revoke-counts L  live refresh tokens of the user, comma-separated, each ≥ 2 (10,1000,10000)
  --revoke-calls N   measured calls per count and path, direct and Graph (10)
  --revoke-warmup N  unmeasured calls per path before the first count (3)
 password-signin, mfa-signin, passkey-signin (Latchkey only; password-signin: sign-ins against raw
 argon2id verifies, mfa-signin: password + TOTP sign-ins against password-only ones, passkey-signin:
 passkey sign-ins against password-only ones):
  --signins N             measured sign-ins (and verifies, or password-only sign-ins) per round (200)
  --signin-warmup N       unmeasured runs of each kind before the first round (1000)
  --signin-concurrency N  sign-ins, and verifies, in flight (4)
  --signin-rounds N       rounds; each runs both kinds, alternating which goes first (4)
  --mfa-users N           mfa-signin: users with per-user MFA and a TOTP method, each used at most once
                          per 30 s time step (3000: enough for 100 MFA sign-ins/s)
  --passkey-usernameless  passkey-signin: the passkey without a user name (the assertion posted on the
                          user-name page) instead of after it (the passkey page)`);
  process.exit(0);
}
function int(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got ${v}`);
  return n;
}
const REQUESTS = int('requests', args.requests, 1);
const WARMUP = int('warmup', args.warmup, 0);
const CONCURRENCY = int('concurrency', args.concurrency, 1);
const ROUNDS = int('rounds', args.rounds, 1);
const TIME_CAP_MS = int('time-cap', args['time-cap'], 1) * 1000;
const QUIET_WAIT_MS = int('quiet-wait', args['quiet-wait'], 0) * 1000;
const SCENARIOS = args.scenario === 'all' ? DEFAULT_SCENARIOS : (args.scenario ?? '').split(',').map((x) => x.trim());
for (const s of SCENARIOS) if (!ALL_SCENARIOS.includes(s)) throw new Error(`--scenario must be ${ALL_SCENARIOS.join(', ')} (comma-separated) or all, got ${s}`);
const REVOKE_COUNTS = (args['revoke-counts'] ?? '').split(',').map((v) => int('revoke-counts', v.trim(), 2));
if (REVOKE_COUNTS.length < 2) throw new Error('--revoke-counts needs at least two counts');
const REVOKE_CALLS = int('revoke-calls', args['revoke-calls'], 1);
const REVOKE_WARMUP = int('revoke-warmup', args['revoke-warmup'], 0);
const SIGNINS = int('signins', args.signins, 1);
const SIGNIN_WARMUP = int('signin-warmup', args['signin-warmup'], 0);
const SIGNIN_CONCURRENCY = int('signin-concurrency', args['signin-concurrency'], 1);
const SIGNIN_ROUNDS = int('signin-rounds', args['signin-rounds'], 1);
const MFA_USERS = int('mfa-users', args['mfa-users'], 1);

type Scenario = (typeof TOKEN_SCENARIOS)[number];
const isTokenScenario = (s: string): s is Scenario => (TOKEN_SCENARIOS as readonly string[]).includes(s);

/** One server child: started with tsx in its own Node process, driven over IPC. */
class ServerChild implements ChildHandle {
  info!: ReadyInfo;
  private readonly tail: string[] = [];
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private exited = false;
  private exitedHow = '';
  private readonly exit: Promise<void>;

  private constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    this.exit = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        this.exited = true;
        this.exitedHow = `exited (${signal ?? code})`;
        for (const p of this.pending.values()) p.reject(new Error(`${name} server ${this.exitedHow}\n${this.tail.join('\n')}`));
        this.pending.clear();
        resolve();
      }),
    );
    // a failed send is reported to the caller of call(); this only keeps it from being an unhandled event
    proc.on('error', (e) => this.keep(`[bench] ${e.message}`));
    proc.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${name} server: ${m.error}`));
    });
  }

  private keep(line: string) {
    this.tail.push(line);
    if (this.tail.length > 40) this.tail.shift();
    if (args.verbose) console.error(`[${this.name}] ${line}`);
  }

  static start(name: string, file: string, env: NodeJS.ProcessEnv, nodeArgs: string[] = []): Promise<ServerChild> {
    const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(root, file)], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    const child = new ServerChild(name, proc);
    readline.createInterface({ input: proc.stderr! }).on('line', (l) => child.keep(l));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`${name} server did not get ready within 120 s\n${child.tail.join('\n')}`));
      }, 120_000);
      readline.createInterface({ input: proc.stdout! }).on('line', (l) => {
        let msg: Partial<ReadyInfo> | undefined;
        try {
          msg = JSON.parse(l) as Partial<ReadyInfo>;
        } catch {
          msg = undefined;
        }
        if (msg?.benchReady) {
          clearTimeout(timer);
          child.info = msg as ReadyInfo;
          resolve(child);
        } else {
          child.keep(l);
        }
      });
      void child.exit.then(() => {
        clearTimeout(timer);
        reject(new Error(`${name} server exited before it was ready\n${child.tail.join('\n')}`));
      });
    });
  }

  call<T>(cmd: CommandBody): Promise<T> {
    if (this.exited || !this.proc.connected) return Promise.reject(new Error(`${this.name} server is not running${this.exitedHow ? `: it ${this.exitedHow}` : ''}\n${this.tail.join('\n')}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ ...cmd, id } as Command, (err) => {
        if (!err) return;
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  stats(): Promise<ChildStats> {
    return this.call<ChildStats>({ cmd: 'stats' });
  }

  /** Asks the child to close (it exits when the IPC channel goes); SIGKILL by its pid after 5 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    if (this.proc.connected) this.proc.disconnect();
    else this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.killNow(), 5000);
    await this.exit;
    clearTimeout(timer);
  }

  killNow() {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

function jwtParts(jwt: unknown): { header: Record<string, unknown>; payload: Record<string, unknown>; bytes: number } | undefined {
  if (typeof jwt !== 'string') return undefined;
  const [h, p, s] = jwt.split('.');
  if (!h || !p || s === undefined) return undefined;
  try {
    return { header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>, payload: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>, bytes: jwt.length };
  } catch {
    return undefined;
  }
}

/** Request bodies and answer checks of a scenario on one server. */
function workload(s: ServerChild, scenario: Scenario, tokens: string[]) {
  const i = s.info;
  if (scenario === 'refresh') {
    return {
      body: (n: number) => new URLSearchParams({ grant_type: 'refresh_token', client_id: i.refreshClientId, refresh_token: tokens[n]!, scope: REFRESH_REQUEST_SCOPE }).toString(),
      check: (status: number, j: Record<string, unknown> | undefined, n: number) => {
        if (status !== 200 || !j) return 'not a 200 JSON answer';
        if (typeof j.access_token !== 'string' || j.access_token.split('.').length !== 3) return 'no JWT access token';
        if (typeof j.id_token !== 'string') return 'no ID token';
        if (typeof j.refresh_token !== 'string' || j.refresh_token === tokens[n]) return 'refresh token not rotated';
        return undefined;
      },
    };
  }
  const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: i.ccClientId, client_secret: i.ccClientSecret, scope: CLIENT_CREDENTIALS_SCOPE }).toString();
  return {
    body: () => body,
    check: (status: number, j: Record<string, unknown> | undefined) => {
      if (status !== 200 || !j) return 'not a 200 JSON answer';
      if (typeof j.access_token !== 'string' || j.access_token.split('.').length !== 3) return 'no JWT access token';
      return undefined;
    },
  };
}

async function tokensFor(s: ServerChild, scenario: Scenario, n: number): Promise<string[]> {
  return scenario === 'refresh' ? s.call<string[]>({ cmd: 'mint', n }) : [];
}

async function run(s: ServerChild, scenario: Scenario, tokens: string[], offset: number, total: number): Promise<LoadResult> {
  const w = workload(s, scenario, tokens);
  return runLoad({ url: s.info.tokenUrl, total, concurrency: CONCURRENCY, timeCapMs: TIME_CAP_MS, body: (n) => w.body(offset + n), check: (st, j, n) => w.check(st, j, offset + n) });
}

/** One request of each scenario; describes what came back, so that the two servers' work can be compared. */
async function probe(s: ServerChild, scenario: Scenario): Promise<string> {
  const tokens = await tokensFor(s, scenario, 1);
  const w = workload(s, scenario, tokens);
  let answer: Record<string, unknown> | undefined;
  const r = await runLoad({
    url: s.info.tokenUrl,
    total: 1,
    concurrency: 1,
    timeCapMs: TIME_CAP_MS,
    body: w.body,
    check: (st, j, n) => {
      answer = j;
      return w.check(st, j, n);
    },
  });
  if (r.failed) throw new Error(`${s.name} ${scenario}: ${r.firstFailure}`);
  const at = jwtParts(answer?.access_token);
  const id = jwtParts(answer?.id_token);
  const desc = (name: string, t: ReturnType<typeof jwtParts>) => (t ? `${name} ${String(t.header.alg)} typ ${String(t.header.typ ?? '-')}, ${Object.keys(t.payload).length} claims, ${t.bytes} B` : `no ${name}`);
  const parts = [desc('access token', at), `aud ${String(at?.payload.aud)}`];
  if (scenario === 'refresh') parts.push(desc('ID token', id), 'refresh token rotated');
  return parts.join('; ');
}

/** What one server did in one scenario: its measured runs (one per round) and its memory. */
interface Tally {
  rounds: Measured[];
  rssBefore: number;
  rssAfter: number;
}

type Measured = LoadResult & Watch;

async function measuredRun(s: ServerChild, scenario: Scenario): Promise<Measured> {
  const tokens = await tokensFor(s, scenario, REQUESTS);
  const { value, watch } = await watched(s, QUIET_WAIT_MS, () => run(s, scenario, tokens, 0, REQUESTS));
  return { ...value, ...watch };
}

async function scenarioRounds(servers: ServerChild[], scenario: Scenario): Promise<Map<string, Tally>> {
  const tallies = new Map<string, Tally>(servers.map((s) => [s.name, { rounds: [], rssBefore: 0, rssAfter: 0 }]));
  for (let round = 0; round < ROUNDS; round++) {
    // alternate which server goes first (ABBA...), so that a drift in the machine's state hits both alike
    const order = round % 2 === 0 ? servers : [...servers].reverse();
    for (const s of order) {
      const t = tallies.get(s.name)!;
      if (round === 0 && WARMUP) {
        const warm = await run(s, scenario, await tokensFor(s, scenario, WARMUP), 0, WARMUP);
        if (warm.failed) throw new Error(`${s.name} ${scenario} warm-up: ${warm.failed} failed; first: ${warm.firstFailure}`);
      }
      if (round === 0) t.rssBefore = (await s.stats()).rss;
      for (let attempt = 1; ; attempt++) {
        const r = await measuredRun(s, scenario);
        const foreign = r.foreignCpuMs / r.capacityMs;
        const noisy = r.disturbed && attempt < ATTEMPTS;
        process.stderr.write(
          `  ${scenario} round ${round + 1}/${ROUNDS} ${s.name.padEnd(8)} ${(r.ok / r.seconds).toFixed(0).padStart(6)} req/s, server CPU ${(r.serverCpuMs / r.sent).toFixed(2)} ms/req, ` +
            `other processes ${(100 * foreign).toFixed(0).padStart(2)}% of the machine` +
            `${r.waitedMs >= 1000 ? ` (after waiting ${(r.waitedMs / 1000).toFixed(0)} s for a quieter machine)` : ''}${r.failed ? `, ${r.failed} failed` : ''}${r.cappedByTime ? ' (time cap)' : ''}` +
            `${noisy ? ' — disturbed, run again' : r.disturbed ? ' — disturbed, its round is left out' : ''}\n`,
        );
        if (noisy) continue;
        t.rounds.push(r);
        break;
      }
    }
  }
  for (const s of servers) {
    const t = tallies.get(s.name)!;
    t.rssAfter = (await s.stats()).rss;
  }
  return tallies;
}

async function profileRun(s: ServerChild, scenario: Scenario, dir: string): Promise<{ file: string; sql: string[] }> {
  const counted = Math.min(200, REQUESTS);
  const tokens = await tokensFor(s, scenario, WARMUP + counted + REQUESTS);
  if (WARMUP) await run(s, scenario, tokens, 0, WARMUP);
  // SQL statements per request: counted on a run of their own, so that counting costs nothing in the profile
  await s.call({ cmd: 'counters', on: true });
  const c = await run(s, scenario, tokens, WARMUP, counted);
  const counts = await s.call<Record<string, number>>({ cmd: 'counters', on: false });
  await waitForQuiet(QUIET_WAIT_MS);
  const m0 = machineBusyMs();
  const p0 = process.cpuUsage();
  const c0 = await s.stats();
  await s.call({ cmd: 'profile-start', intervalUs: 250 });
  const r = await run(s, scenario, tokens, WARMUP + counted, REQUESTS);
  const file = path.join(dir, `${s.name}-${scenario}.cpuprofile`);
  await s.call({ cmd: 'profile-stop', file });
  const c1 = await s.stats();
  const p1 = process.cpuUsage(p0);
  const foreign = Math.max(0, machineBusyMs() - m0 - (cpuMs(c1) - cpuMs(c0)) - (p1.user + p1.system) / 1000) / (r.seconds * 1000 * os.cpus().length);
  process.stderr.write(`  profiled ${scenario} on ${s.name}: ${(r.ok / r.seconds).toFixed(0)} req/s under the profiler, other processes ${(100 * foreign).toFixed(0)}% of the machine\n`);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const sql = total
    ? [
        `  SQL statements run per request: ${(total / c.sent).toFixed(1)}`,
        ...Object.entries(counts)
          .sort((a, b) => b[1] - a[1])
          .map(([shape, n]) => `    ${(n / c.sent).toFixed(2).padStart(5)}  ${shape}`),
      ]
    : [];
  return { file, sql };
}

const rpsOf = (r: LoadResult) => r.ok / r.seconds;

function aggregate(runs: Measured[]) {
  const sum = (f: (r: Measured) => number) => runs.reduce((a, r) => a + f(r), 0);
  const ok = sum((r) => r.ok);
  const sent = sum((r) => r.sent);
  return {
    ok,
    sent,
    failed: sum((r) => r.failed),
    rps: ok / sum((r) => r.seconds),
    cpuPerReq: sum((r) => r.serverCpuMs) / sent,
    /** the server's main thread's share of it (Linux's schedstat), when every run measured it */
    mainCpuPerReq: runs.every((r) => r.serverMainCpuMs !== undefined) ? sum((r) => r.serverMainCpuMs!) / sent : undefined,
    foreignCpuMs: sum((r) => r.foreignCpuMs),
    capacityMs: sum((r) => r.capacityMs),
    latencies: runs.flatMap((r) => r.latencies).sort((a, b) => a - b),
    firstFailure: runs.find((r) => r.firstFailure)?.firstFailure,
    capped: runs.some((r) => r.cappedByTime),
  };
}

const mb = (b: number) => (b / 2 ** 20).toFixed(0);
const ms = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));


async function main(children: ServerChild[], dataDir: string): Promise<void> {
  const started = Date.now();
  const tokenScenarios = SCENARIOS.filter(isTokenScenario);
  console.log(`Latchkey bench (${SCENARIOS.join(', ')}) — Node ${process.versions.node}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim() ?? '?'})\n`);
  const profileDir = args.profile ? fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-profiles-')) : undefined;

  // one at a time, so that neither start-up (argon2 seeding, key generation) disturbs the other
  const servers: ServerChild[] = [];
  // the bare engine: the token grants' baseline, and password-signin's floor
  let bare: ServerChild | undefined;
  if (tokenScenarios.length || SCENARIOS.includes('password-signin')) {
    bare = await ServerChild.start('bare', 'bench/bare-server.ts', {});
    children.push(bare);
    if (tokenScenarios.length) servers.push(bare);
  }
  const latchkey = await ServerChild.start('latchkey', 'bench/latchkey-server.ts', { BENCH_DATA_DIR: dataDir });
  children.push(latchkey);
  servers.push(latchkey);

  if (tokenScenarios.length) await tokenGrants(servers, tokenScenarios, profileDir);
  if (SCENARIOS.includes('revoke-sessions')) {
    console.log('');
    const lines = await revokeSessionsScenario(latchkey, { counts: REVOKE_COUNTS, calls: REVOKE_CALLS, warmupCalls: REVOKE_WARMUP, quietWaitMs: QUIET_WAIT_MS, profileDir, root });
    for (const l of lines) console.log(l);
  }
  const signinOptions = { signins: SIGNINS, warmup: SIGNIN_WARMUP, concurrency: SIGNIN_CONCURRENCY, rounds: SIGNIN_ROUNDS, quietWaitMs: QUIET_WAIT_MS, timeCapMs: TIME_CAP_MS, profileDir, root };
  if (SCENARIOS.includes('password-signin')) {
    console.log('');
    for (const l of await passwordSigninScenario(latchkey, bare, signinOptions)) console.log(l);
  }
  if (SCENARIOS.includes('mfa-signin')) {
    console.log('');
    for (const l of await mfaSigninScenario(latchkey, { ...signinOptions, mfaUsers: MFA_USERS })) console.log(l);
  }
  if (SCENARIOS.includes('passkey-signin')) {
    console.log('');
    for (const l of await passkeySigninScenario(latchkey, { ...signinOptions, usernameless: args['passkey-usernameless'] })) console.log(l);
  }
  if (SCENARIOS.includes('graph-app')) {
    console.log('');
    for (const l of await graphAppScenario(latchkey, { requests: REQUESTS, warmup: WARMUP, concurrency: CONCURRENCY, rounds: ROUNDS, quietWaitMs: QUIET_WAIT_MS, timeCapMs: TIME_CAP_MS, root })) console.log(l);
  }
  if (profileDir) console.log(`\nCPU profiles (.cpuprofile, open in Chrome DevTools) are in ${profileDir}`);
  console.log(`\nbench took ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** The refresh and client-credentials scenarios: Latchkey against the bare engine. */
async function tokenGrants(servers: ServerChild[], scenarios: Scenario[], profileDir: string | undefined): Promise<void> {
  console.log(`Token grants, Latchkey vs bare oidc-provider ${readVersion('oidc-provider')}: ${ROUNDS} round(s) of ${REQUESTS} measured requests per server and scenario (${WARMUP} warm-up requests before the first), concurrency ${CONCURRENCY}, keep-alive HTTP/1.1, plain HTTP on loopback for both\n`);
  const idle = new Map<string, number>();
  for (const s of servers) idle.set(s.name, (await s.stats()).rss);

  for (const scenario of scenarios) for (const s of servers) console.log(`${s.name.padEnd(8)} ${scenario.padEnd(18)} ${await probe(s, scenario)}`);
  console.log('');

  const results = new Map<Scenario, Map<string, Tally>>();
  for (const scenario of scenarios) results.set(scenario, await scenarioRounds(servers, scenario));

  const rows = [['scenario', 'bare req/s', 'latchkey req/s', 'ratio', 'bare p50/p99 ms', 'latchkey p50/p99 ms', 'bare CPU ms/req', 'latchkey CPU ms/req', 'bare RSS MB', 'latchkey RSS MB']];
  const notes: string[] = [];
  const details: string[] = [];
  let foreign = 0;
  let capacity = 0;
  for (const [scenario, tallies] of results) {
    const b = tallies.get('bare')!;
    const l = tallies.get('latchkey')!;
    // rounds in which either run stayed disturbed after its tries are left out (unless all are)
    const clean = b.rounds.map((r, i) => !r.disturbed && !l.rounds[i]!.disturbed);
    const use = clean.some(Boolean) ? clean : clean.map(() => true);
    const b1 = aggregate(b.rounds.filter((_, i) => use[i]));
    const l1 = aggregate(l.rounds.filter((_, i) => use[i]));
    const ratio = l1.rps / b1.rps;
    const goal = scenario === 'refresh' ? ` (goal ≥ 0.6: ${ratio >= 0.6 ? 'met' : 'NOT met'})` : '';
    rows.push([
      scenario,
      b1.rps.toFixed(0),
      l1.rps.toFixed(0),
      `${ratio.toFixed(2)}${goal}`,
      `${ms(percentile(b1.latencies, 50))} / ${ms(percentile(b1.latencies, 99))}`,
      `${ms(percentile(l1.latencies, 50))} / ${ms(percentile(l1.latencies, 99))}`,
      b1.cpuPerReq.toFixed(2),
      l1.cpuPerReq.toFixed(2),
      `${mb(b.rssBefore)} → ${mb(b.rssAfter)}`,
      `${mb(l.rssBefore)} → ${mb(l.rssAfter)}`,
    ]);
    const perRound = b.rounds.map((r, i) => `${(rpsOf(l.rounds[i]!) / rpsOf(r)).toFixed(2)}${use[i] ? '' : '*'}`);
    const usedRatios = b.rounds.flatMap((r, i) => (use[i] ? [rpsOf(l.rounds[i]!) / rpsOf(r)] : [])).sort((x, y) => x - y);
    details.push(
      `${scenario}: per-round ratios ${perRound.join(' ')} (median ${percentile(usedRatios, 50).toFixed(2)}${use.every(Boolean) ? '' : '; * disturbed, left out'}); ` +
        `CPU-time ratio (bare CPU ms/req ÷ latchkey CPU ms/req) ${(b1.cpuPerReq / l1.cpuPerReq).toFixed(2)}; ` +
        (b1.mainCpuPerReq !== undefined && l1.mainCpuPerReq !== undefined ? `main thread CPU ms/req: bare ${b1.mainCpuPerReq.toFixed(2)}, latchkey ${l1.mainCpuPerReq.toFixed(2)}; ` : '') +
        `req/s per round: bare ${b.rounds.map((r) => rpsOf(r).toFixed(0)).join(' ')}, latchkey ${l.rounds.map((r) => rpsOf(r).toFixed(0)).join(' ')}`,
    );
    if (!clean.some(Boolean)) notes.push(`${scenario}: every round was disturbed by other processes; the figures use them all and are not reliable`);
    for (const [name, t] of tallies) {
      const a = aggregate(t.rounds.filter((_, i) => use[i]));
      foreign += a.foreignCpuMs;
      capacity += a.capacityMs;
      if (a.failed) notes.push(`${scenario} on ${name}: ${a.failed} of ${a.sent} answers failed the check (not counted in req/s); first: ${a.firstFailure}`);
      if (a.capped) notes.push(`${scenario} on ${name}: a run hit the ${TIME_CAP_MS / 1000} s time cap; req/s is over the requests that finished`);
    }
  }
  console.log(table(rows));
  console.log('');
  for (const d of details) console.log(d);
  console.log(`\nratio = latchkey req/s ÷ bare req/s over the rounds used; req/s counts only answers that passed the check. CPU ms/req: the server process's CPU time (all its threads, crypto included) per request.`);
  console.log(`RSS at idle after start: bare ${mb(idle.get('bare')!)} MB, latchkey ${mb(idle.get('latchkey')!)} MB; RSS columns: after the warm-up → after the last round.`);
  const foreignShare = capacity ? foreign / capacity : 0;
  console.log(`Other processes on this machine used ${(100 * foreignShare).toFixed(0)}% of its CPU capacity during the measured runs that count${foreignShare > 0.05 ? ' — the figures are disturbed; rerun on a quiet machine (the CPU ms/req columns are the least affected)' : ''}.`);
  for (const n of notes) console.log(`note: ${n}`);

  if (profileDir) {
    const dir = profileDir;
    console.log(`\nCPU profiles (V8 sampling profiler on each server's main thread, one extra run per server and scenario after the measured rounds; not part of the figures above) in ${dir}:`);
    for (const scenario of scenarios) {
      for (const s of servers) {
        const { file, sql } = await profileRun(s, scenario, dir);
        console.log(`\n${s.name}, ${scenario} — ${file}`);
        console.log(summarizeProfile(file, root, s.name === 'latchkey' ? 20 : 8));
        for (const line of sql) console.log(line);
      }
    }
  }
}

function readVersion(pkg: string): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

const children: ServerChild[] = [];
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'));
let cleaned: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaned ??= Promise.all(children.map((c) => c.stop())).then(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  return cleaned;
}
process.on('exit', () => {
  for (const c of children) c.killNow();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\nbench interrupted (${sig}); stopping the servers`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  await main(children, dataDir);
} catch (e) {
  console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}

// Scenario password-signin (Latchkey only): full password sign-ins per second through the real sign-in
// pages over HTTP, as a browser without JavaScript does them (fresh cookie jar per sign-in):
//   GET /{tenant}/oauth2/v2.0/authorize (demo native app, PKCE) → GET /signin/{uid} → POST user name →
//   POST password → POST Stay signed in = Yes → GET the resumed authorize → redirect with the code,
// against the raw argon2id verify rate at the same parameters (@node-rs/argon2 verify of a hash made by
// hashPassword), measured in the Latchkey process at the same concurrency. The ratio sign-ins/s ÷
// verifies/s says how much of a sign-in's cost is the password hash (goal ≥ 0.8). Right passwords only:
// smart lockout is on. Each concurrent worker signs in as a user of its own.
import crypto from 'node:crypto';
import type http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { type HttpAnswer, httpRequest, Jar, loopbackAgent } from './http-client.js';
import { percentile } from './load.js';
import { untilUndisturbed, type Watch } from './machine.js';
import { summarizeProfile } from './profile-summary.js';
import { type Argon2Run, type ChildHandle, type SigninSetup } from './protocol.js';
import { table } from './report.js';

export interface SigninOptions {
  /** measured sign-ins per round */
  signins: number;
  /** unmeasured sign-ins (and as many verifies) before the first round */
  warmup: number;
  concurrency: number;
  /** rounds; each runs sign-ins and verifies, alternating which goes first */
  rounds: number;
  quietWaitMs: number;
  timeCapMs: number;
  /** a folder for a CPU profile of one more sign-in run, or undefined */
  profileDir?: string;
  root: string;
}

/** The goal: sign-ins/s at least this share of the raw argon2id verifies/s. */
const GOAL = 0.8;
const REDIRECT_URI = 'http://localhost';
const SCOPE = 'openid profile offline_access User.Read';

interface SigninRun {
  ok: number;
  failed: number;
  firstFailure?: string;
  seconds: number;
  /** milliseconds, sorted */
  latencies: number[];
  requests: number;
  cappedByTime: boolean;
}

interface Measured<T> {
  value: T;
  watch: Watch;
}

const fmt = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));

export async function passwordSigninScenario(s: ChildHandle, o: SigninOptions): Promise<string[]> {
  const agent = loopbackAgent(o.concurrency);
  try {
    return await scenario(s, o, agent);
  } finally {
    agent.destroy();
  }
}

async function scenario(s: ChildHandle, o: SigninOptions, agent: http.Agent): Promise<string[]> {
  const tenantId = s.info.tenantId;
  if (!tenantId) throw new Error('password-signin runs on Latchkey only');
  const base = `http://127.0.0.1:${s.info.port}`;
  const users = await s.call<SigninSetup>({ cmd: 'signin-setup', users: o.concurrency });
  /** the engine and the pages name the public origin (https://localhost:<port>); the bench stays on the loopback address it listens on */
  const local = (u: URL) => new URL(u.pathname + u.search, base);

  /** One sign-in by a new browser; undefined when it ended with a code for the app, else what went wrong. */
  async function signIn(upn: string, count: { requests: number }): Promise<string | undefined> {
    const jar = new Jar();
    const verifier = crypto.randomBytes(32).toString('base64url');
    const state = crypto.randomBytes(8).toString('base64url');
    const params = new URLSearchParams({
      client_id: s.info.refreshClientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: SCOPE,
      code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state,
    });
    const send = async (url: URL, form?: Record<string, string>): Promise<HttpAnswer> => {
      count.requests++;
      const headers: http.OutgoingHttpHeaders = { cookie: jar.header(), accept: 'text/html' };
      if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
      const a = await httpRequest(agent, url, form ? { method: 'POST', headers, body: new URLSearchParams(form).toString() } : { headers });
      jar.take(a);
      return a;
    };
    let url = new URL(`${base}/${tenantId}/oauth2/v2.0/authorize?${params}`);
    let a = await send(url);
    const expected = ['username', 'password', 'kmsi'];
    for (let hop = 0; hop < 10; hop++) {
      const location = a.headers.location;
      if ((a.status === 302 || a.status === 303) && location) {
        const back = new URL(location, base);
        if (back.origin === REDIRECT_URI) {
          if (back.searchParams.get('error')) return `the app got an error: ${back.searchParams.get('error')} ${back.searchParams.get('error_description') ?? ''}`;
          if (!back.searchParams.get('code')) return `no code in the redirect to the app: ${location}`;
          if (back.searchParams.get('state') !== state) return 'the state came back changed';
          return expected.length ? `signed in without the ${expected.join(', ')} step(s)` : undefined;
        }
        url = local(back);
        a = await send(url);
        continue;
      }
      if (a.status !== 200 || !url.pathname.startsWith('/signin/')) return `HTTP ${a.status} at ${url.pathname}: ${a.text.slice(0, 300)}`;
      const csrf = /name="csrf" value="([^"]+)"/.exec(a.text)?.[1];
      const step = /name="step" value="([^"]+)"/.exec(a.text)?.[1];
      if (!csrf || !step) return `no sign-in form at ${url.pathname}: ${a.text.slice(0, 300)}`;
      if (step !== expected[0]) return `sign-in page at step ${step}, expected ${expected[0] ?? 'none'}: ${/role="alert">([^<]*)/.exec(a.text)?.[1] ?? a.text.slice(0, 300)}`;
      expected.shift();
      const fields: Record<string, string> = { csrf, step };
      if (step === 'username') fields.loginfmt = upn;
      else if (step === 'password') fields.passwd = users.password;
      else fields.kmsi = 'yes';
      a = await send(url, fields);
    }
    return 'too many redirects';
  }

  async function signinRun(total: number): Promise<SigninRun> {
    const latencies: number[] = [];
    const count = { requests: 0 };
    let next = 0;
    let ok = 0;
    let failed = 0;
    let firstFailure: string | undefined;
    let cappedByTime = false;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(o.timeCapMs) * 1_000_000n;
    await Promise.all(
      users.upns.map(async (upn) => {
        while (next < total) {
          if (process.hrtime.bigint() > deadline) {
            cappedByTime = true;
            return;
          }
          next++;
          const t0 = process.hrtime.bigint();
          let why: string | undefined;
          try {
            why = await signIn(upn, count);
          } catch (e) {
            why = `request failed: ${e instanceof Error ? e.message : String(e)}`;
          }
          if (why) {
            failed++;
            firstFailure ??= why;
          } else {
            ok++;
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
          }
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    return { ok, failed, firstFailure, seconds, latencies: latencies.sort((x, y) => x - y), requests: count.requests, cappedByTime };
  }

  const argon2 = (n: number) => s.call<Argon2Run>({ cmd: 'argon2', n, concurrency: o.concurrency });

  // warm-up (JIT, SQLite pages, argon2's memory): not measured
  if (o.warmup) {
    const w = await signinRun(o.warmup);
    if (w.failed) throw new Error(`password-signin warm-up: ${w.failed} of ${o.warmup} sign-ins failed; first: ${w.firstFailure}`);
    await argon2(o.warmup);
  }

  const signins: Measured<SigninRun>[] = [];
  const verifies: Measured<Argon2Run>[] = [];
  for (let round = 0; round < o.rounds; round++) {
    const label = `password-signin round ${round + 1}/${o.rounds}`;
    const doSignins = async () => {
      const r = await untilUndisturbed(s, o.quietWaitMs, () => signinRun(o.signins), (v) => `${label} sign-ins      ${(v.ok / v.seconds).toFixed(1).padStart(6)}/s${v.failed ? `, ${v.failed} failed` : ''}${v.cappedByTime ? ' (time cap)' : ''}`);
      signins.push(r);
    };
    const doVerifies = async () => {
      const r = await untilUndisturbed(s, o.quietWaitMs, () => argon2(o.signins), (v) => `${label} argon2 verify ${(v.n / v.seconds).toFixed(1).padStart(6)}/s`);
      verifies.push(r);
    };
    // alternate which goes first (ABBA...)
    if (round % 2 === 0) {
      await doSignins();
      await doVerifies();
    } else {
      await doVerifies();
      await doSignins();
    }
  }

  // ----- report -----
  // rounds in which either run stayed disturbed after its tries are left out (unless all are)
  const clean = signins.map((r, i) => !r.watch.disturbed && !verifies[i]!.watch.disturbed);
  const use = clean.some(Boolean) ? clean : clean.map(() => true);
  const si = signins.filter((_, i) => use[i]);
  const ve = verifies.filter((_, i) => use[i]);
  const sum = <T>(xs: T[], f: (x: T) => number) => xs.reduce((acc, x) => acc + f(x), 0);
  const ok = sum(si, (r) => r.value.ok);
  const failed = sum(si, (r) => r.value.failed);
  const signinRate = ok / sum(si, (r) => r.value.seconds);
  const verifyRate = sum(ve, (r) => r.value.n) / sum(ve, (r) => r.value.seconds);
  const ratio = signinRate / verifyRate;
  const sLat = si.flatMap((r) => r.value.latencies).sort((a, b) => a - b);
  const vLat = ve.flatMap((r) => r.value.latencies).sort((a, b) => a - b);
  const sServerCpu = sum(si, (r) => r.watch.serverCpuMs) / (ok + failed);
  const vServerCpu = sum(ve, (r) => r.watch.serverCpuMs) / sum(ve, (r) => r.value.n);
  const sOwnCpu = sum(si, (r) => r.watch.ownCpuMs) / (ok + failed);
  const vOwnCpu = sum(ve, (r) => r.watch.ownCpuMs) / sum(ve, (r) => r.value.n);
  const requestsPer = sum(si, (r) => r.value.requests) / (ok + failed);

  const out: string[] = [];
  out.push(`password-signin — full password sign-ins through the sign-in pages over HTTP (authorize → user name → password → Stay signed in → code; ${requestsPer.toFixed(0)} requests each, fresh cookie jar, demo native app with PKCE) against raw argon2id verifies (@node-rs/argon2, hash by hashPassword: m=19456 KiB, t=2, p=1) in the Latchkey process`);
  out.push(`  ${o.rounds} round(s) of ${o.signins} sign-ins and ${o.signins} verifies, concurrency ${o.concurrency} for both (one user per sign-in worker), after ${o.warmup} warm-up sign-ins and verifies`);
  out.push('');
  out.push(
    table([
      ['', 'per second', 'p50 / p99 ms', 'Latchkey CPU ms each', 'load generator CPU ms each'],
      ['sign-ins', signinRate.toFixed(1), `${fmt(percentile(sLat, 50))} / ${fmt(percentile(sLat, 99))}`, sServerCpu.toFixed(2), sOwnCpu.toFixed(2)],
      ['argon2id verifies', verifyRate.toFixed(1), `${fmt(percentile(vLat, 50))} / ${fmt(percentile(vLat, 99))}`, vServerCpu.toFixed(2), vOwnCpu.toFixed(2)],
    ]),
  );
  out.push('');
  const perRound = signins.map((r, i) => `${(r.value.ok / r.value.seconds / (verifies[i]!.value.n / verifies[i]!.value.seconds)).toFixed(2)}${use[i] ? '' : '*'}`);
  out.push(`ratio sign-ins/s ÷ verifies/s: ${ratio.toFixed(2)} (goal ≥ ${GOAL}: ${ratio >= GOAL ? 'met' : 'NOT met'}); per round ${perRound.join(' ')}${use.every(Boolean) ? '' : ' (* disturbed, left out)'}`);
  out.push(
    `CPU per sign-in beyond one verify: Latchkey ${(sServerCpu - vServerCpu).toFixed(2)} ms (${fmt((100 * (sServerCpu - vServerCpu)) / sServerCpu)}% of its ${sServerCpu.toFixed(2)} ms), load generator ${(sOwnCpu - vOwnCpu).toFixed(2)} ms; the ${os.cpus().length} CPUs are shared by both processes, and argon2 runs on libuv's pool (${process.env.UV_THREADPOOL_SIZE ?? 4} threads)`,
  );
  if (failed) out.push(`note: ${failed} of ${ok + failed} sign-ins failed (not counted); first: ${si.find((r) => r.value.firstFailure)?.value.firstFailure}`);
  if (si.some((r) => r.value.cappedByTime)) out.push(`note: a sign-in run hit the ${o.timeCapMs / 1000} s time cap; the rate is over the sign-ins that finished`);
  if (!clean.some(Boolean)) out.push('note: every round was disturbed by other processes; the figures use them all and are not reliable');

  if (o.profileDir) {
    // SQL statements per sign-in, counted on a run of their own (counting costs nothing in the profile)
    await s.call({ cmd: 'counters', on: true });
    const counted = await signinRun(Math.min(50, o.signins));
    const counts = await s.call<Record<string, number>>({ cmd: 'counters', on: false });
    const per = counted.ok + counted.failed;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    out.push('');
    out.push(`SQL statements run per sign-in: ${(total / per).toFixed(1)}`);
    for (const [shape, n] of Object.entries(counts).sort((a, b) => b[1] - a[1])) out.push(`  ${(n / per).toFixed(2).padStart(5)}  ${shape}`);
    const file = path.join(o.profileDir, 'latchkey-password-signin.cpuprofile');
    await s.call({ cmd: 'profile-start', intervalUs: 250 });
    const r = await signinRun(o.signins);
    await s.call({ cmd: 'profile-stop', file });
    out.push('');
    out.push(`CPU profile of ${o.signins} more sign-ins (${(r.ok / r.seconds).toFixed(1)}/s under the profiler), Latchkey's main thread (argon2 itself runs on libuv's pool, not in this profile) — ${file}`);
    out.push(summarizeProfile(file, o.root, 25));
  }
  return out;
}

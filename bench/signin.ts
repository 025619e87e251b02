// What the sign-in scenarios (password-signin.ts, mfa-signin.ts) share: the browser without JavaScript that
// signs in through the real sign-in pages over HTTP (fresh cookie jar per sign-in):
//   GET /{tenant}/oauth2/v2.0/authorize (demo native app, PKCE), answered with the user-name page → POST user
//   name → POST password → [POST a code at the MFA step] → POST Stay signed in = Yes, answered with the
//   redirect to the app with the code (a browser with a session would get the engine's resume first)
// (with a passkey instead of the password: POST user name → POST the assertion on the passkey page, or the
// assertion on the user-name page without a user name → Stay signed in → code),
// a run of such sign-ins by concurrent workers, measured rounds of two kinds of run alternating which goes
// first (ABBA), and the SQL statement counts under --profile.
import crypto from 'node:crypto';
import type http from 'node:http';
import path from 'node:path';
import { type HttpAnswer, httpRequest, Jar, loopbackAgent } from './http-client.js';
import { percentile, runWorkers } from './load.js';
import { mainThreadSchedstat, untilUndisturbed, type Watch } from './machine.js';
import { busyByRequest, type RequestSpan, summarizeProfile } from './profile-summary.js';
import { CACHE_LOAD, type ChildHandle } from './protocol.js';
import { table } from './report.js';

export interface SigninOptions {
  /** measured sign-ins per round */
  signins: number;
  /** unmeasured sign-ins (and as many of the other kind of run) before the first round */
  warmup: number;
  concurrency: number;
  /** rounds; each runs both kinds of run, alternating which goes first */
  rounds: number;
  quietWaitMs: number;
  timeCapMs: number;
  /** a folder for a CPU profile of one more sign-in run, or undefined */
  profileDir?: string;
  root: string;
}

const REDIRECT_URI = 'http://localhost';
const SCOPE = 'openid profile offline_access User.Read';

/** Who signs in, and with what. */
export interface Credentials {
  upn: string;
  /** the first factor, unless `passkey` is given */
  password?: string;
  /**
   * A passkey as the first factor (and MFA): `assertion(page)` is what the browser posts in the
   * `credential` field (PublicKeyCredential.toJSON(), as JSON) for the WebAuthn options the page embeds;
   * after the user name (the passkey page, step `passkey`), or `usernameless`: on the user-name page,
   * without a user name.
   */
  passkey?: { assertion: (page: string) => string; usernameless?: boolean };
  /**
   * The second factor, when MFA is required of this user: the method the MFA page must offer and the code
   * to post, asked for when the page is there (a one-time code belongs to the moment it is posted).
   */
  mfa?: { method: string; code: () => string };
}

export interface SigninRun {
  ok: number;
  failed: number;
  firstFailure?: string;
  seconds: number;
  /** milliseconds, sorted */
  latencies: number[];
  requests: number;
  cappedByTime: boolean;
}

export interface Measured<T> {
  value: T;
  watch: Watch;
}

export const fmt = (v: number) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
export const sum = <T>(xs: readonly T[], f: (x: T) => number) => xs.reduce((acc, x) => acc + f(x), 0);

/**
 * The browser of one Latchkey child: `signIn(credentials)` runs one sign-in with a fresh cookie jar and
 * returns undefined when it ended with a code for the app, else what went wrong.
 */
export function signinClient(s: ChildHandle, agent: http.Agent) {
  const tenantId = s.info.tenantId;
  if (!tenantId) throw new Error('the sign-in scenarios run on Latchkey only');
  const base = `http://127.0.0.1:${s.info.port}`;
  /** the engine and the pages name the public origin (https://localhost:<port>); the bench stays on the loopback address it listens on */
  const local = (u: URL) => new URL(u.pathname + u.search, base);

  /** `onRequest`, when given, hears of each request: its kind (authorize, redirect, or the step posted) and when it went and came back */
  return async function signIn(who: Credentials, count: { requests: number }, onRequest?: (kind: string, sent: bigint, answered: bigint) => void): Promise<string | undefined> {
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
    const send = async (kind: string, url: URL, form?: Record<string, string>): Promise<HttpAnswer> => {
      count.requests++;
      const headers: http.OutgoingHttpHeaders = { cookie: jar.header(), accept: 'text/html' };
      if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
      const sent = process.hrtime.bigint();
      const a = await httpRequest(agent, url, form ? { method: 'POST', headers, body: new URLSearchParams(form).toString() } : { headers });
      onRequest?.(kind, sent, process.hrtime.bigint());
      jar.take(a);
      return a;
    };
    let url = new URL(`${base}/${tenantId}/oauth2/v2.0/authorize?${params}`);
    let a = await send('authorize', url);
    const expected = who.passkey ? ['username', ...(who.passkey.usernameless ? [] : ['passkey']), 'kmsi'] : ['username', 'password', ...(who.mfa ? ['mfa'] : []), 'kmsi'];
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
        a = await send('redirect', url);
        continue;
      }
      // a sign-in page (authorize answers a new sign-in with the first one): its form posts to /signin/{uid}
      const action = /<form[^>]*action="(\/signin\/[^"]+)"/.exec(a.text)?.[1];
      if (a.status !== 200 || !action) return `HTTP ${a.status} at ${url.pathname}: ${a.text.slice(0, 300)}`;
      url = new URL(action, base);
      // the page's first form is its step's (others, after it, are Back and the like)
      const csrf = /name="csrf" value="([^"]+)"/.exec(a.text)?.[1];
      const step = /name="step" value="([^"]+)"/.exec(a.text)?.[1];
      if (!csrf || !step) return `no sign-in form at ${url.pathname}: ${a.text.slice(0, 300)}`;
      if (step !== expected[0]) return `sign-in page at step ${step}, expected ${expected[0] ?? 'none'}: ${/role="alert">([^<]*)/.exec(a.text)?.[1] ?? a.text.slice(0, 300)}`;
      expected.shift();
      const fields: Record<string, string> = { csrf, step };
      if (step === 'username' && who.passkey?.usernameless) fields.credential = who.passkey.assertion(a.text);
      else if (step === 'username') fields.loginfmt = who.upn;
      else if (step === 'passkey' && who.passkey) fields.credential = who.passkey.assertion(a.text);
      else if (step === 'password') fields.passwd = who.password ?? '';
      else if (step === 'mfa' && who.mfa) {
        const method = /name="method" value="([^"]+)"/.exec(a.text)?.[1];
        if (method !== who.mfa.method) return `the MFA page offers ${method ?? 'no method'}, expected ${who.mfa.method}`;
        fields.method = method;
        fields.code = who.mfa.code();
      } else fields.kmsi = 'yes';
      a = await send(step, url, fields);
    }
    return 'too many redirects';
  };
}

/**
 * `total` sign-ins by `workers` concurrent workers; `who(worker)` says who signs in next (it may wait,
 * e.g. for a user whose one-time code is new). Stops starting sign-ins after `timeCapMs`.
 */
export async function signinRun(signIn: ReturnType<typeof signinClient>, total: number, workers: number, timeCapMs: number, who: (worker: number) => Credentials | Promise<Credentials>): Promise<SigninRun> {
  const latencies: number[] = [];
  const count = { requests: 0 };
  const r = await runWorkers(total, workers, timeCapMs, async (_, worker) => {
    const credentials = await who(worker);
    const t0 = process.hrtime.bigint();
    const why = await signIn(credentials, count);
    if (!why) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
    return why;
  });
  return { ...r, latencies: latencies.sort((x, y) => x - y), requests: count.requests };
}

/** Runs `fn` with a keep-alive agent for `sockets` connections to the loopback server, destroyed after. */
export async function withAgent<T>(sockets: number, fn: (agent: http.Agent) => Promise<T>): Promise<T> {
  const agent = loopbackAgent(sockets);
  try {
    return await fn(agent);
  } finally {
    agent.destroy();
  }
}

/** The measured runs of each kind, one per round, and which rounds to use. */
export interface Rounds<A, B> {
  as: Measured<A>[];
  bs: Measured<B>[];
  use: boolean[];
  allDisturbed: boolean;
}

/** One kind of measured run of a round: its name, the run, and its progress line. */
export interface RunKind<T> {
  run: () => Promise<T>;
  progress: (value: T) => string;
}

/**
 * `o.rounds` rounds of a run of each kind, alternating which goes first (ABBA...), each run waiting for a
 * quiet machine and run again while disturbed; then which rounds to use: those where neither run stayed
 * disturbed (all of them when every round was).
 */
export async function abbaRounds<A, B>(server: ChildHandle, o: SigninOptions, label: string, a: RunKind<A>, b: RunKind<B>): Promise<Rounds<A, B>> {
  const as: Measured<A>[] = [];
  const bs: Measured<B>[] = [];
  for (let round = 0; round < o.rounds; round++) {
    const prefix = `${label} round ${round + 1}/${o.rounds}`;
    const doA = async () => as.push(await untilUndisturbed(server, o.quietWaitMs, a.run, (v) => `${prefix} ${a.progress(v)}`));
    const doB = async () => bs.push(await untilUndisturbed(server, o.quietWaitMs, b.run, (v) => `${prefix} ${b.progress(v)}`));
    if (round % 2 === 0) {
      await doA();
      await doB();
    } else {
      await doB();
      await doA();
    }
  }
  const clean = as.map((r, i) => !r.watch.disturbed && !bs[i]!.watch.disturbed);
  const allDisturbed = !clean.some(Boolean);
  return { as, bs, use: allDisturbed ? clean.map(() => true) : clean, allDisturbed };
}

/** A progress line's part for a sign-in run. */
export function signinProgress(name: string, v: SigninRun): string {
  return `${name} ${(v.ok / v.seconds).toFixed(1).padStart(6)}/s${v.failed ? `, ${v.failed} failed` : ''}${v.cappedByTime ? ' (time cap)' : ''}`;
}

/** The server's main-thread CPU and run-queue wait per unit of work, ms, when every run measured them. */
export function mainThread(runs: readonly { watch: Watch }[], per: number): { mainCpu?: number; mainWait?: number } {
  if (!runs.length || runs.some((r) => r.watch.serverMainCpuMs === undefined)) return {};
  return { mainCpu: sum(runs, (r) => r.watch.serverMainCpuMs!) / per, mainWait: sum(runs, (r) => r.watch.serverMainWaitMs!) / per };
}

/** The totals of the sign-in runs of the rounds used. */
export function signinTotals(runs: readonly Measured<SigninRun>[]) {
  const ok = sum(runs, (r) => r.value.ok);
  const failed = sum(runs, (r) => r.value.failed);
  const latencies = runs.flatMap((r) => r.value.latencies).sort((a, b) => a - b);
  return {
    ok,
    failed,
    rate: ok / sum(runs, (r) => r.value.seconds),
    latencies,
    serverCpu: sum(runs, (r) => r.watch.serverCpuMs) / (ok + failed),
    ...mainThread(runs, ok + failed),
    ownCpu: sum(runs, (r) => r.watch.ownCpuMs) / (ok + failed),
    requestsPer: sum(runs, (r) => r.value.requests) / (ok + failed),
    firstFailure: runs.find((r) => r.value.firstFailure)?.value.firstFailure,
    capped: runs.some((r) => r.value.cappedByTime),
  };
}

/** Notes on failed sign-ins and time caps for the report. */
export function signinNotes(name: string, t: ReturnType<typeof signinTotals>, timeCapMs: number): string[] {
  const out: string[] = [];
  if (t.failed) out.push(`note: ${t.failed} of ${t.ok + t.failed} ${name} failed (not counted); first: ${t.firstFailure}`);
  if (t.capped) out.push(`note: a ${name} run hit the ${timeCapMs / 1000} s time cap; the rate is over the sign-ins that finished`);
  return out;
}

/**
 * SQL statements counted by the child during `run` (a run of its own: counting costs nothing in the profile), per
 * sign-in: all of them, and the sign-in's own (`own`: without what caches loaded, which is once per entry and
 * 5 s whatever the rate, so that a slower run of the same sign-ins counts more of it).
 */
export async function statementsPerSignin(s: ChildHandle, run: () => Promise<SigninRun>): Promise<{ perSignin: number; own: number; byShape: Map<string, number>; failed: number }> {
  await s.call({ cmd: 'counters', on: true });
  const counted = await run();
  const counts = await s.call<Record<string, number>>({ cmd: 'counters', on: false });
  const per = counted.ok + counted.failed;
  const byShape = new Map(Object.entries(counts).map(([shape, n]) => [shape, n / per]));
  const own = sum([...byShape].filter(([shape]) => !shape.startsWith(CACHE_LOAD)), ([, n]) => n);
  return { perSignin: sum([...byShape.values()], (n) => n), own, byShape, failed: counted.failed };
}

/** The per-statement table: statements per sign-in by shape, most first. */
export function statementLines(byShape: Map<string, number>): string[] {
  return [...byShape.entries()].sort((a, b) => b[1] - a[1]).map(([shape, n]) => `  ${n.toFixed(2).padStart(5)}  ${shape}`);
}

/** A kind of sign-in of a scenario: its name and `run(total)`, a run of that many. */
export type SigninKind = readonly [name: string, run: (total: number) => Promise<SigninRun>];

/** The unmeasured warm-up (JIT, SQLite pages, argon2's memory): `n` sign-ins of each kind, every one of which must succeed. */
export async function warmUp(label: string, n: number, kinds: readonly SigninKind[]): Promise<void> {
  if (!n) return;
  for (const [name, run] of kinds) {
    const w = await run(n);
    if (w.failed) throw new Error(`${label} warm-up: ${w.failed} of ${n} ${name} sign-ins failed; first: ${w.firstFailure}`);
  }
}

/** Measured rounds of two kinds of sign-in (ABBA), with their progress lines. */
export function signinRounds(s: ChildHandle, o: SigninOptions, label: string, a: SigninKind, b: SigninKind): Promise<Rounds<SigninRun, SigninRun>> {
  const width = Math.max(a[0].length, b[0].length);
  const kind = ([name, run]: SigninKind): RunKind<SigninRun> => ({ run: () => run(o.signins), progress: (v) => signinProgress(name.padEnd(width), v) });
  return abbaRounds(s, o, label, kind(a), kind(b));
}

/**
 * Two kinds of sign-in over the rounds used: the table (sign-ins/s, p50/p99, CPU and requests per sign-in),
 * the ratio B ÷ A against its goal (≥) with the per-round ratios, and the notes on failures, time caps and
 * disturbed rounds.
 */
export function compareSignins(rounds: Rounds<SigninRun, SigninRun>, names: readonly [string, string], goal: number, timeCapMs: number) {
  const { use } = rounds;
  const a = signinTotals(rounds.as.filter((_, i) => use[i]));
  const b = signinTotals(rounds.bs.filter((_, i) => use[i]));
  const ratio = b.rate / a.rate;
  const row = (name: string, t: typeof a) => [name, t.rate.toFixed(1), `${fmt(percentile(t.latencies, 50))} / ${fmt(percentile(t.latencies, 99))}`, t.serverCpu.toFixed(2), t.ownCpu.toFixed(2), t.requestsPer.toFixed(0)];
  const rate = (r: Measured<SigninRun>) => r.value.ok / r.value.seconds;
  const perRound = rounds.as.map((r, i) => `${(rate(rounds.bs[i]!) / rate(r)).toFixed(2)}${use[i] ? '' : '*'}`);
  const lines = [
    table([['', 'sign-ins per second', 'p50 / p99 ms', 'Latchkey CPU ms each', 'load generator CPU ms each', 'requests each'], row(names[0], a), row(names[1], b)]),
    '',
    `ratio ${names[1]} ÷ ${names[0]} sign-ins/s: ${ratio.toFixed(2)} (goal ≥ ${goal}: ${ratio >= goal ? 'met' : 'NOT met'}); per round ${perRound.join(' ')}${use.every(Boolean) ? '' : ' (* disturbed, left out)'}`,
  ];
  const notes = [...signinNotes(`${names[0]} sign-ins`, a, timeCapMs), ...signinNotes(`${names[1]} sign-ins`, b, timeCapMs)];
  if (rounds.allDisturbed) notes.push('note: every round was disturbed by other processes; the figures use them all and are not reliable');
  return { a, b, ratio, lines, notes };
}

/**
 * SQL statements per sign-in of two kinds (`n` of each, counted on runs of their own), with the
 * per-statement tables of both and of their difference B − A (named `diffName`).
 */
export async function compareStatements(s: ChildHandle, n: number, a: SigninKind, b: SigninKind, diffName: string) {
  const p = await statementsPerSignin(s, () => a[1](n));
  const m = await statementsPerSignin(s, () => b[1](n));
  const diff = new Map([...new Set([...p.byShape.keys(), ...m.byShape.keys()])].map((k) => [k, (m.byShape.get(k) ?? 0) - (p.byShape.get(k) ?? 0)]));
  const tables = [`${a[0]} sign-in:`, ...statementLines(p.byShape), `${b[0]} sign-in:`, ...statementLines(m.byShape), `${diffName} (${b[0]} minus ${a[0]}):`, ...statementLines(new Map([...diff].filter(([, d]) => Math.abs(d) >= 0.005)))];
  const cacheNote = `(the sign-ins' own statements; caches loaded ${(p.perSignin - p.own).toFixed(2)} more per ${a[0]} sign-in and ${(m.perSignin - m.own).toFixed(2)} per ${b[0]} one, once per entry and 5 s whatever the rate: the "${CACHE_LOAD.trim()}" lines)`;
  return { a: p.own, b: m.own, failed: p.failed + m.failed, tables, cacheNote };
}

/** A CPU profile of `o.signins` more sign-ins of a kind (Latchkey's main thread), summarised; `note` says what the profile does not show. */
export async function profileSignins(s: ChildHandle, o: SigninOptions & { profileDir: string }, fileName: string, [name, run]: SigninKind, note: string): Promise<string[]> {
  const file = path.join(o.profileDir, fileName);
  await s.call({ cmd: 'profile-start', intervalUs: 250 });
  const r = await run(o.signins);
  await s.call({ cmd: 'profile-stop', file });
  return ['', `CPU profile of ${o.signins} more ${name} sign-ins (${(r.ok / r.seconds).toFixed(1)}/s under the profiler), Latchkey's main thread${note ? ` (${note})` : ''} — ${file}`, summarizeProfile(file, o.root, 25)];
}

/**
 * Where a sign-in's time on Latchkey's main thread goes, request by request: `n` sign-ins one at a time
 * (so that every sample of the profile falls in one request, or between two), each request's span noted by
 * the load generator, a profile at 100 µs. Profiler overhead included, and no other sign-in beside: for
 * finding the costly request, not a figure of the goal.
 */
export async function profileByRequest(s: ChildHandle, o: SigninOptions & { profileDir: string }, fileName: string, signIn: ReturnType<typeof signinClient>, who: Credentials, n: number): Promise<string[]> {
  const file = path.join(o.profileDir, fileName);
  const spans: RequestSpan[] = [];
  const count = { requests: 0 };
  await s.call({ cmd: 'profile-start', intervalUs: 100 });
  let failed = 0;
  for (let i = 0; i < n; i++) if (await signIn(who, count, (kind, sent, answered) => spans.push({ kind, sent, answered }))) failed++;
  await s.call({ cmd: 'profile-stop', file });
  return [
    '',
    ...(await mainThreadByRequest('Latchkey', s.info.pid, n, (onAnswer) => signIn(who, { requests: 0 }, onAnswer))),
    '',
    `Latchkey's main thread per request kind, ${n} sign-ins one at a time under the profiler${failed ? ` (${failed} failed)` : ''} — ${file}`,
    ...busyByRequest(file, o.root, spans, n),
  ];
}

/**
 * A server's main-thread CPU per kind of request, exactly (Linux's schedstat, no profiler): `n` sign-ins
 * one at a time, the thread's CPU time read after each answer, so each request is charged what the thread
 * did from the previous answer to its own (its own work, and any timer that fell in between). `signIn` runs
 * one sign-in and names each request to `onAnswer` as it is answered.
 */
export async function mainThreadByRequest(label: string, pid: number, n: number, signIn: (onAnswer: (kind: string) => void) => Promise<string | undefined>): Promise<string[]> {
  const read = () => mainThreadSchedstat(pid)?.onCpu;
  if (read() === undefined) return [`${label}'s main thread per request kind: no schedstat on this machine`];
  const byKind = new Map<string, number>();
  let failed = 0;
  for (let i = 0; i < n; i++) {
    let last = read()!;
    const failure = await signIn((kind) => {
      const now = read()!;
      byKind.set(kind, (byKind.get(kind) ?? 0) + now - last);
      last = now;
    });
    if (failure) failed++;
  }
  const total = [...byKind.values()].reduce((a, b) => a + b, 0);
  return [
    `${label}'s main thread CPU per request kind (schedstat, ${n} sign-ins one at a time, no profiler${failed ? `, ${failed} failed` : ''}):`,
    ...[...byKind.entries()].sort((a, b) => b[1] - a[1]).map(([kind, us]) => `  ${kind.padEnd(20)} ${(us / 1000 / n).toFixed(2).padStart(6)} ms per sign-in`),
    `  ${'all'.padEnd(20)} ${(total / 1000 / n).toFixed(2).padStart(6)} ms per sign-in`,
  ];
}

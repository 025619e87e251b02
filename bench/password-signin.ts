// Scenario password-signin (Latchkey only): full password sign-ins per second through the real sign-in
// pages over HTTP, as a browser without JavaScript does them (fresh cookie jar per sign-in):
//   GET /{tenant}/oauth2/v2.0/authorize (demo native app, PKCE), answered with the user-name page → POST user
//   name → POST password → POST Stay signed in = Yes, answered with the redirect to the app with the code,
// against the raw argon2id verify rate at the same parameters (@node-rs/argon2 verify of a hash made by
// hashPassword), measured in the Latchkey process at the same concurrency. The ratio sign-ins/s ÷
// verifies/s says how much of a sign-in's cost is the password hash (goal ≥ 0.8). Right passwords only:
// smart lockout is on. Each concurrent worker signs in as a user of its own.
import crypto from 'node:crypto';
import type http from 'node:http';
import os from 'node:os';
import { percentile } from './load.js';
import { type Argon2Run, CACHE_LOAD, type ChildHandle, type SigninSetup } from './protocol.js';
import { SIGNIN_PASSWORD } from './child.js';
import { httpRequest, Jar } from './http-client.js';
import { table } from './report.js';
import { abbaRounds, fmt, mainThread, mainThreadByRequest, type Rounds, type SigninRun, profileByRequest, profileSignins, signinClient, signinNotes, signinProgress, signinRun, signinTotals, type SigninOptions, statementLines, statementsPerSignin, sum, withAgent } from './signin.js';

export type { SigninOptions } from './signin.js';

/** The goal: sign-ins/s at least this share of the raw argon2id verifies/s. */
const GOAL = 0.8;
/** The goal: SQL statements per sign-in, every one counted (caches' loads included). */
const STATEMENTS_GOAL = 20;

/** The goal: Latchkey's CPU per sign-in beyond one verify, ms. */
const CPU_GOAL_MS = 3;

export async function passwordSigninScenario(s: ChildHandle, bare: ChildHandle | undefined, o: SigninOptions): Promise<string[]> {
  const latchkey = await withAgent(o.concurrency, (agent) => scenario(s, o, agent));
  const out = [...latchkey.lines];
  const floors: [string, Summary][] = [];
  for (const kind of bare ? [ENGINE_FLOOR, HTTP_FLOOR] : []) {
    const f = await withAgent(o.concurrency, (agent) => floor(bare!, o, agent, kind));
    out.push('', ...f.lines);
    floors.push([`the ${kind.label}`, f.summary]);
  }
  out.push('', ...budget(latchkey.summary, floors));
  return out;
}

/** A sign-in's CPU beyond one verify, ms: the server's and the load generator's (they share the CPUs). */
const beyondVerify = (r: Summary) => r.si.serverCpu - r.vServerCpu + (r.si.ownCpu - r.vOwnCpu);

/**
 * What the ratio goal asks of a sign-in's cost in this run. Both runs keep the CPUs busy, so each rate is
 * about the CPUs' time over the CPU one operation takes (the server's and the load generator's together):
 * sign-ins reach GOAL of the verifies when a sign-in costs at most 1 ÷ GOAL of a verify, that is at most
 * (1 ÷ GOAL − 1) of a verify's CPU beyond it. The floors' own costs in the same run say what part of that
 * budget the engine's flow and bare HTTP already take.
 */
function budget(latchkey: Summary, floors: [string, Summary][]): string[] {
  const verify = latchkey.vServerCpu + latchkey.vOwnCpu;
  const allowed = verify * (1 / GOAL - 1);
  const line = (who: string, r: Summary) => `  ${who}: ${beyondVerify(r).toFixed(2)} ms beyond one verify of ${(r.vServerCpu + r.vOwnCpu).toFixed(2)} ms (ratio from CPU ${((r.vServerCpu + r.vOwnCpu) / (r.si.serverCpu + r.si.ownCpu)).toFixed(2)}, measured ${r.ratio.toFixed(2)})`;
  return [
    `the ratio goal's budget in this run: sign-ins reach ${GOAL} of the verifies when a sign-in's CPU beyond one verify (server and load generator together) is at most ${(1 / GOAL - 1).toFixed(2)} × a verify's ${verify.toFixed(2)} ms = ${allowed.toFixed(2)} ms`,
    line('Latchkey', latchkey),
    ...floors.map(([who, r]) => line(who, r)),
  ];
}

/**
 * One sign-in through the bare engine's floor flow (bare-server.ts): GET authorize (PKCE) → GET the
 * interaction page → POST the password → GET the resumed authorize → the redirect with the code.
 */
function floorClient(bare: ChildHandle, agent: http.Agent, kind: FloorKind) {
  const base = bare.info.issuer + kind.prefix;
  const pagePath = `${new URL(base).pathname.replace(/\/$/, '')}/interaction/`;
  /** `onAnswer`, when given, hears each request's kind as it is answered: authorize, page, password, resume */
  return async function signIn(password: string, count: { requests: number }, onAnswer?: (kind: string) => void): Promise<string | undefined> {
    const jar = new Jar();
    const verifier = crypto.randomBytes(32).toString('base64url');
    const state = crypto.randomBytes(8).toString('base64url');
    const params = new URLSearchParams({ client_id: bare.info.refreshClientId, response_type: 'code', redirect_uri: FLOOR_REDIRECT, scope: 'openid profile offline_access', code_challenge: crypto.createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256', state });
    let url = new URL(`${base}/auth?${params}`);
    // true once the interaction page was shown: its form is posted next, to the same address
    let post = false;
    for (let hop = 0; hop < 8; hop++) {
      count.requests++;
      const a = await httpRequest(agent, url, post ? { method: 'POST', headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ passwd: password }).toString() } : { headers: { cookie: jar.header() } });
      onAnswer?.(hop === 0 ? 'authorize' : post ? 'password' : url.pathname.startsWith(pagePath) ? 'page' : 'resume');
      jar.take(a);
      const posted = post;
      post = false;
      const location = a.headers.location;
      if ((a.status === 302 || a.status === 303) && location) {
        const back = new URL(location, base);
        if (back.href.startsWith(FLOOR_REDIRECT)) return back.searchParams.get('code') && back.searchParams.get('state') === state ? undefined : `no code in ${location}`;
        url = back;
        continue;
      }
      if (a.status !== 200 || posted || !url.pathname.startsWith(pagePath)) return `HTTP ${a.status} at ${url.pathname}: ${a.text.slice(0, 200)}`;
      post = true;
    }
    return 'too many redirects';
  };
}

const FLOOR_REDIRECT = 'http://127.0.0.1/callback';

interface FloorKind {
  /** where the flow is served on the bare server */
  prefix: string;
  /** the progress and table label */
  label: string;
  /** the table's heading */
  heading: string;
  /** what its ratio bounds */
  meaning: string;
}

const ENGINE_FLOOR: FloorKind = {
  prefix: '',
  label: 'floor',
  heading: "the floor — the bare oidc-provider's own authorization-code flow with the thinnest password page (one argon2id verify, memory store, no user-name or Stay-signed-in page, no lockout, log or CSRF token; {requests} requests each), against raw argon2id verifies in the bare process",
  meaning: "the most a sign-in through the engine's authorize and resume could reach here",
};

const HTTP_FLOOR: FloorKind = {
  prefix: '/http-floor',
  label: 'HTTP floor',
  heading: 'the HTTP floor — the same {requests} requests and the same argon2id verify served by node:http alone (a cookie, the password page, its verify, the code; no engine, store, parameter checks, signing or page), against raw argon2id verifies in the bare process',
  meaning: 'the most any sign-in of these requests could reach here with this load generator beside it',
};

/**
 * The floor of a sign-in through the engine's own flow, measured the same way: the bare engine's flow with
 * the thinnest password page (one argon2id verify, no store, 4 requests, its resume included) against raw
 * verifies in the bare process. Its ratio is the most a sign-in that goes through the engine's authorize
 * and resume could reach on this machine, with this load generator beside it (Latchkey's new sign-ins skip
 * the resume: their last post answers with the code). The HTTP floor is the same measurement of the same
 * four requests served by node:http alone: the most any sign-in of four requests could reach here.
 */
async function floor(bare: ChildHandle, o: SigninOptions, agent: http.Agent, kind: FloorKind): Promise<{ lines: string[]; summary: Summary }> {
  const signIn = floorClient(bare, agent, kind);
  const signins = (total: number) => signinRun((who, count) => signIn(who.password ?? '', count), total, o.concurrency, o.timeCapMs, () => ({ upn: '', password: SIGNIN_PASSWORD }));
  const argon2 = (n: number) => bare.call<Argon2Run>({ cmd: 'argon2', n, concurrency: o.concurrency });
  if (o.warmup) {
    const w = await signins(o.warmup);
    if (w.failed) throw new Error(`signin ${kind.label} warm-up: ${w.failed} of ${o.warmup} sign-ins failed; first: ${w.firstFailure}`);
    await argon2(o.warmup);
  }
  const rounds = await abbaRounds(
    bare,
    o,
    `signin-${kind.label.replace(' ', '-').toLowerCase()}`,
    { run: () => signins(o.signins), progress: (v) => signinProgress(`${kind.label} sign-ins`, v) },
    { run: () => argon2(o.signins), progress: (v) => `argon2 verify  ${(v.n / v.seconds).toFixed(1).padStart(6)}/s` },
  );
  const r = summarize(rounds);
  const lines = [
    `${kind.heading.replace('{requests}', r.si.requestsPer.toFixed(0))}; ${kind.meaning}`,
    '',
    table([
      ['', 'per second', 'p50 / p99 ms', 'bare server CPU ms each', 'load generator CPU ms each'],
      [`${kind.label} sign-ins`, r.si.rate.toFixed(1), `${fmt(percentile(r.si.latencies, 50))} / ${fmt(percentile(r.si.latencies, 99))}`, r.si.serverCpu.toFixed(2), r.si.ownCpu.toFixed(2)],
      ['argon2id verifies', r.verifyRate.toFixed(1), `${fmt(percentile(r.vLat, 50))} / ${fmt(percentile(r.vLat, 99))}`, r.vServerCpu.toFixed(2), r.vOwnCpu.toFixed(2)],
    ]),
    '',
    `${kind.label} ratio sign-ins/s ÷ verifies/s: ${r.ratio.toFixed(2)}; per round ${r.perRound.join(' ')}`,
    `${kind.label} CPU per sign-in beyond one verify: bare server ${(r.si.serverCpu - r.vServerCpu).toFixed(2)} ms, load generator ${(r.si.ownCpu - r.vOwnCpu).toFixed(2)} ms`,
    ...threadSplit('bare server', r),
    ...signinNotes(`${kind.label} sign-ins`, r.si, o.timeCapMs),
    ...(o.profileDir ? ['', ...(await mainThreadByRequest(`the ${kind.label}'s server`, bare.info.pid, Math.min(200, o.signins), (onAnswer) => signIn(SIGNIN_PASSWORD, { requests: 0 }, onAnswer)))] : []),
  ];
  return { lines, summary: r };
}

/**
 * "Beyond one verify" split by thread (Linux's schedstat): the server's main thread (every request's
 * JavaScript, SQLite, the sockets) against the rest (libuv's pool running argon2, GC helpers). A raw
 * verify's main thread does almost nothing, so the main thread's difference is the requests' own work;
 * the rest's difference is the verify itself costing more beside that work (caches, memory bandwidth, the
 * scheduler) plus the engine's own pool jobs.
 */
function threadSplit(server: string, r: ReturnType<typeof summarize>): string[] {
  const { si, vMain } = r;
  if (si.mainCpu === undefined || si.mainWait === undefined || vMain.mainCpu === undefined) return [];
  const main = si.mainCpu - vMain.mainCpu;
  const rest = si.serverCpu - si.mainCpu - (r.vServerCpu - vMain.mainCpu);
  return [
    `  of which ${server}'s main thread ${main.toFixed(2)} ms (${si.mainCpu.toFixed(2)} per sign-in, ${vMain.mainCpu.toFixed(2)} per verify), its other threads ${rest.toFixed(2)} ms (argon2's pool, GC helpers, the checkpointer: ${(si.serverCpu - si.mainCpu).toFixed(2)} per sign-in, ${(r.vServerCpu - vMain.mainCpu).toFixed(2)} per verify); the main thread waited ${si.mainWait.toFixed(2)} ms per sign-in for a CPU, runnable`,
  ];
}

type Summary = ReturnType<typeof summarize>;

/** Sign-in runs against verify runs over the rounds used. */
function summarize(rounds: Rounds<SigninRun, Argon2Run>) {
  const { use } = rounds;
  const si = signinTotals(rounds.as.filter((_, i) => use[i]));
  const ve = rounds.bs.filter((_, i) => use[i]);
  const verifyRate = sum(ve, (r) => r.value.n) / sum(ve, (r) => r.value.seconds);
  return {
    si,
    verifyRate,
    ratio: si.rate / verifyRate,
    vLat: ve.flatMap((r) => r.value.latencies).sort((a, b) => a - b),
    vServerCpu: sum(ve, (r) => r.watch.serverCpuMs) / sum(ve, (r) => r.value.n),
    vMain: mainThread(ve, sum(ve, (r) => r.value.n)),
    vOwnCpu: sum(ve, (r) => r.watch.ownCpuMs) / sum(ve, (r) => r.value.n),
    perRound: rounds.as.map((a, i) => `${(a.value.ok / a.value.seconds / (rounds.bs[i]!.value.n / rounds.bs[i]!.value.seconds)).toFixed(2)}${use[i] ? '' : '*'}`),
  };
}

async function scenario(s: ChildHandle, o: SigninOptions, agent: http.Agent): Promise<{ lines: string[]; summary: Summary }> {
  const users = await s.call<SigninSetup>({ cmd: 'signin-setup', users: o.concurrency });
  const signIn = signinClient(s, agent);
  // each worker signs in as a user of its own
  const signins = (total: number) => signinRun(signIn, total, users.upns.length, o.timeCapMs, (w) => ({ upn: users.upns[w]!, password: users.password }));
  const argon2 = (n: number) => s.call<Argon2Run>({ cmd: 'argon2', n, concurrency: o.concurrency });

  // warm-up (JIT, SQLite pages, argon2's memory): not measured
  if (o.warmup) {
    const w = await signins(o.warmup);
    if (w.failed) throw new Error(`password-signin warm-up: ${w.failed} of ${o.warmup} sign-ins failed; first: ${w.firstFailure}`);
    await argon2(o.warmup);
  }

  const rounds = await abbaRounds(
    s,
    o,
    'password-signin',
    { run: () => signins(o.signins), progress: (v) => signinProgress('sign-ins     ', v) },
    { run: () => argon2(o.signins), progress: (v) => `argon2 verify ${(v.n / v.seconds).toFixed(1).padStart(6)}/s` },
  );

  // ----- report -----
  const summary = summarize(rounds);
  const { si, verifyRate, ratio, vLat, vServerCpu, vOwnCpu, perRound } = summary;
  const { use } = rounds;

  const out: string[] = [];
  out.push(`password-signin — full password sign-ins through the sign-in pages over HTTP (authorize → user name → password → Stay signed in → code; ${si.requestsPer.toFixed(0)} requests each, fresh cookie jar, demo native app with PKCE) against raw argon2id verifies (@node-rs/argon2, hash by hashPassword: m=19456 KiB, t=2, p=1) in the Latchkey process`);
  out.push(`  ${o.rounds} round(s) of ${o.signins} sign-ins and ${o.signins} verifies, concurrency ${o.concurrency} for both (one user per sign-in worker), after ${o.warmup} warm-up sign-ins and verifies`);
  out.push('');
  out.push(
    table([
      ['', 'per second', 'p50 / p99 ms', 'Latchkey CPU ms each', 'load generator CPU ms each'],
      ['sign-ins', si.rate.toFixed(1), `${fmt(percentile(si.latencies, 50))} / ${fmt(percentile(si.latencies, 99))}`, si.serverCpu.toFixed(2), si.ownCpu.toFixed(2)],
      ['argon2id verifies', verifyRate.toFixed(1), `${fmt(percentile(vLat, 50))} / ${fmt(percentile(vLat, 99))}`, vServerCpu.toFixed(2), vOwnCpu.toFixed(2)],
    ]),
  );
  out.push('');
  out.push(`ratio sign-ins/s ÷ verifies/s: ${ratio.toFixed(2)} (goal ≥ ${GOAL}: ${ratio >= GOAL ? 'met' : 'NOT met'}); per round ${perRound.join(' ')}${use.every(Boolean) ? '' : ' (* disturbed, left out)'}`);
  const cpu = si.serverCpu - vServerCpu;
  out.push(
    `CPU per sign-in beyond one verify: Latchkey ${cpu.toFixed(2)} ms (goal ≤ ${CPU_GOAL_MS}: ${cpu <= CPU_GOAL_MS ? 'met' : 'NOT met'}; ${fmt((100 * cpu) / si.serverCpu)}% of its ${si.serverCpu.toFixed(2)} ms), load generator ${(si.ownCpu - vOwnCpu).toFixed(2)} ms; the ${os.cpus().length} CPUs are shared by both processes, and argon2 runs on libuv's pool (${process.env.UV_THREADPOOL_SIZE ?? 4} threads)`,
  );
  out.push(...threadSplit('Latchkey', summary));
  out.push(...signinNotes('sign-ins', si, o.timeCapMs));
  if (rounds.allDisturbed) out.push('note: every round was disturbed by other processes; the figures use them all and are not reliable');

  if (o.profileDir) {
    const counted = await statementsPerSignin(s, () => signins(Math.min(50, o.signins)));
    out.push('');
    const met = counted.perSignin <= STATEMENTS_GOAL + 1e-9 ? 'met' : 'NOT met';
    out.push(`SQL statements run per sign-in: ${counted.perSignin.toFixed(1)} (goal ≤ ${STATEMENTS_GOAL}: ${met}; ${(counted.perSignin - counted.own).toFixed(2)} of them loaded by caches, the "${CACHE_LOAD.trim()}" lines)${counted.failed ? ` (${counted.failed} of the sign-ins counted failed)` : ''}`);
    out.push(...statementLines(counted.byShape));
    out.push(...(await profileSignins(s, { ...o, profileDir: o.profileDir }, 'latchkey-password-signin.cpuprofile', ['password', signins], "argon2 itself runs on libuv's pool, not in this profile")));
    out.push(...(await profileByRequest(s, { ...o, profileDir: o.profileDir }, 'latchkey-password-signin-by-request.cpuprofile', signIn, { upn: users.upns[0]!, password: users.password }, Math.min(200, o.signins))));
  }
  return { lines: out, summary };
}

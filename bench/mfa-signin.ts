// Scenario mfa-signin (Latchkey only): what a second factor adds to a sign-in. In the same Latchkey
// process, rounds of password-only sign-ins and of password + TOTP sign-ins through the real sign-in pages
// over HTTP (signin.ts: a browser without JavaScript, fresh cookie jar per sign-in), alternating which goes
// first (ABBA). Goal: password + TOTP sign-ins/s ≥ 0.8 × password-only sign-ins/s, and (--profile) at most
// 2 SQL statements per MFA step.
//
// The TOTP users have per-user MFA enforced and a software OATH method each, with a seed this process knows;
// it computes each code as an authenticator app would. A code's time step is accepted once per user
// (replay protection), so a pool of users is taken round-robin and each is handed to a sign-in only when it
// has not used the current 30 s step; password-only sign-ins use one user per worker, as password-signin.
import type http from 'node:http';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { percentile } from './load.js';
import { summarizeProfile } from './profile-summary.js';
import { type ChildHandle, type MfaSetup, type SigninSetup } from './protocol.js';
import { table } from './report.js';
import { abbaRounds, type Credentials, fmt, signinClient, signinNotes, signinProgress, signinRun, signinTotals, type SigninOptions, withAgent, statementLines, statementsPerSignin } from './signin.js';

export interface MfaSigninOptions extends SigninOptions {
  /** users with per-user MFA and a TOTP method */
  mfaUsers: number;
}

/** The goals: password + TOTP sign-ins/s at least this share of password-only ones… */
const RATE_GOAL = 0.8;
/** …and at most this many more SQL statements per sign-in for the MFA step. */
const STATEMENTS_GOAL = 2;

/**
 * The TOTP users, taken round-robin; each is handed out only when it has not used the current time step
 * (the server accepts a step once per method), else the taker waits for the next step.
 */
class TotpPool {
  private readonly totps: TOTP[];
  /** the latest time step each user has been given a code for (or reserved) */
  private readonly lastStep: number[];
  private next = 0;
  /** time the takers waited for a new step, ms (all takers together) */
  waitedMs = 0;

  constructor(private readonly setup: MfaSetup) {
    this.totps = setup.users.map((u) => new TOTP({ secret: Secret.fromBase32(u.seed), digits: 6, period: setup.periodS, algorithm: 'SHA1' }));
    this.lastStep = setup.users.map(() => -1);
  }

  private step(ms = Date.now()): number {
    return Math.floor(ms / 1000 / this.setup.periodS);
  }

  async take(): Promise<Credentials> {
    const i = this.next;
    this.next = (this.next + 1) % this.totps.length;
    while (this.lastStep[i]! >= this.step()) {
      const wait = (this.step() + 1) * this.setup.periodS * 1000 - Date.now() + 5;
      this.waitedMs += wait;
      await new Promise((r) => setTimeout(r, wait));
    }
    this.lastStep[i] = this.step();
    return {
      upn: this.setup.users[i]!.upn,
      password: this.setup.password,
      mfa: {
        method: 'softwareOath',
        code: () => {
          const now = Date.now();
          this.lastStep[i] = Math.max(this.lastStep[i]!, this.step(now));
          return this.totps[i]!.generate({ timestamp: now });
        },
      },
    };
  }
}

export async function mfaSigninScenario(s: ChildHandle, o: MfaSigninOptions): Promise<string[]> {
  return withAgent(o.concurrency, (agent) => scenario(s, o, agent));
}

async function scenario(s: ChildHandle, o: MfaSigninOptions, agent: http.Agent): Promise<string[]> {
  const plain = await s.call<SigninSetup>({ cmd: 'signin-setup', users: o.concurrency });
  const mfa = await s.call<MfaSetup>({ cmd: 'mfa-setup', users: o.mfaUsers });
  process.stderr.write(`  mfa-signin: ${mfa.users.length} users with per-user MFA and a TOTP method made in ${(mfa.setupMs / 1000).toFixed(1)} s\n`);
  const pool = new TotpPool(mfa);
  const signIn = signinClient(s, agent);
  const passwordOnly = (total: number) => signinRun(signIn, total, plain.upns.length, o.timeCapMs, (w) => ({ upn: plain.upns[w]!, password: plain.password }));
  const withTotp = (total: number) => signinRun(signIn, total, o.concurrency, o.timeCapMs, () => pool.take());

  // warm-up (JIT, SQLite pages, argon2's memory): not measured
  if (o.warmup) {
    for (const [name, run] of [['password-only', passwordOnly], ['password + TOTP', withTotp]] as const) {
      const w = await run(o.warmup);
      if (w.failed) throw new Error(`mfa-signin warm-up: ${w.failed} of ${o.warmup} ${name} sign-ins failed; first: ${w.firstFailure}`);
    }
  }
  const waitedBefore = pool.waitedMs;

  const rounds = await abbaRounds(
    s,
    o,
    'mfa-signin',
    { run: () => passwordOnly(o.signins), progress: (v) => signinProgress('password only  ', v) },
    { run: () => withTotp(o.signins), progress: (v) => signinProgress('password + TOTP', v) },
  );

  // ----- report -----
  const { use } = rounds;
  const pw = signinTotals(rounds.as.filter((_, i) => use[i]));
  const mf = signinTotals(rounds.bs.filter((_, i) => use[i]));
  const ratio = mf.rate / pw.rate;
  const row = (name: string, t: typeof pw) => [name, t.rate.toFixed(1), `${fmt(percentile(t.latencies, 50))} / ${fmt(percentile(t.latencies, 99))}`, t.serverCpu.toFixed(2), t.ownCpu.toFixed(2), t.requestsPer.toFixed(0)];

  const out: string[] = [];
  out.push('mfa-signin — password-only sign-ins against password + TOTP sign-ins (per-user MFA enforced, software OATH code at the MFA step), both through the sign-in pages over HTTP in the same Latchkey process (fresh cookie jar, demo native app with PKCE, Stay signed in = Yes, code at the redirect URI)');
  out.push(
    `  ${o.rounds} round(s) of ${o.signins} sign-ins of each kind, concurrency ${o.concurrency}, after ${o.warmup} warm-up sign-ins of each; password only: one user per worker; password + TOTP: ${mfa.users.length} users taken in turn, each at most once per ${mfa.periodS} s time step, codes computed here from their seeds`,
  );
  out.push('');
  out.push(table([['', 'sign-ins per second', 'p50 / p99 ms', 'Latchkey CPU ms each', 'load generator CPU ms each', 'requests each'], row('password only', pw), row('password + TOTP', mf)]));
  out.push('');
  const rate = (r: { value: { ok: number; seconds: number } }) => r.value.ok / r.value.seconds;
  const perRound = rounds.as.map((r, i) => `${(rate(rounds.bs[i]!) / rate(r)).toFixed(2)}${use[i] ? '' : '*'}`);
  out.push(`ratio password + TOTP ÷ password-only sign-ins/s: ${ratio.toFixed(2)} (goal ≥ ${RATE_GOAL}: ${ratio >= RATE_GOAL ? 'met' : 'NOT met'}); per round ${perRound.join(' ')}${use.every(Boolean) ? '' : ' (* disturbed, left out)'}`);
  out.push(`the MFA step costs Latchkey ${(mf.serverCpu - pw.serverCpu).toFixed(2)} ms of CPU per sign-in (${fmt((100 * (mf.serverCpu - pw.serverCpu)) / pw.serverCpu)}% over a password-only sign-in), the load generator ${(mf.ownCpu - pw.ownCpu).toFixed(2)} ms`);
  out.push(...signinNotes('password-only sign-ins', pw, o.timeCapMs), ...signinNotes('password + TOTP sign-ins', mf, o.timeCapMs));
  if (pool.waitedMs > waitedBefore) out.push(`note: password + TOTP sign-ins waited ${((pool.waitedMs - waitedBefore) / 1000).toFixed(1)} s in all for a user with a new time step (too few users for this rate: raise --mfa-users); their rate is understated`);
  if (rounds.allDisturbed) out.push('note: every round was disturbed by other processes; the figures use them all and are not reliable');

  if (o.profileDir) {
    const n = Math.min(50, o.signins);
    const p = await statementsPerSignin(s, () => passwordOnly(n));
    const m = await statementsPerSignin(s, () => withTotp(n));
    const perStep = m.perSignin - p.perSignin;
    const failed = p.failed + m.failed;
    out.push('');
    out.push(`SQL statements run per password-only sign-in: ${p.perSignin.toFixed(1)}, per password + TOTP sign-in: ${m.perSignin.toFixed(1)}; per MFA step: ${perStep.toFixed(1)} (goal ≤ ${STATEMENTS_GOAL}: ${perStep <= STATEMENTS_GOAL + 1e-9 ? 'met' : 'NOT met'})${failed ? ` (${failed} of the sign-ins counted failed)` : ''}`);
    out.push('password-only sign-in:');
    out.push(...statementLines(p.byShape));
    out.push('password + TOTP sign-in:');
    out.push(...statementLines(m.byShape));
    const diff = new Map([...new Set([...p.byShape.keys(), ...m.byShape.keys()])].map((k) => [k, (m.byShape.get(k) ?? 0) - (p.byShape.get(k) ?? 0)]));
    out.push('the MFA step (password + TOTP minus password only):');
    out.push(...statementLines(new Map([...diff].filter(([, d]) => Math.abs(d) >= 0.005))));
    const file = path.join(o.profileDir, 'latchkey-mfa-signin.cpuprofile');
    await s.call({ cmd: 'profile-start', intervalUs: 250 });
    const r = await withTotp(o.signins);
    await s.call({ cmd: 'profile-stop', file });
    out.push('');
    out.push(`CPU profile of ${o.signins} more password + TOTP sign-ins (${(r.ok / r.seconds).toFixed(1)}/s under the profiler), Latchkey's main thread (argon2 itself runs on libuv's pool, not in this profile) — ${file}`);
    out.push(summarizeProfile(file, o.root, 25));
  }
  return out;
}

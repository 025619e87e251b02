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
import { Secret, TOTP } from 'otpauth';
import { type ChildHandle, type MfaSetup, type SigninSetup } from './protocol.js';
import { compareSignins, compareStatements, type Credentials, fmt, profileSignins, signinClient, type SigninKind, type SigninOptions, signinRounds, signinRun, warmUp, withAgent } from './signin.js';

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
  const passwordOnly: SigninKind = ['password only', (total) => signinRun(signIn, total, plain.upns.length, o.timeCapMs, (w) => ({ upn: plain.upns[w]!, password: plain.password }))];
  const withTotp: SigninKind = ['password + TOTP', (total) => signinRun(signIn, total, o.concurrency, o.timeCapMs, () => pool.take())];

  await warmUp('mfa-signin', o.warmup, [passwordOnly, withTotp]);
  const waitedBefore = pool.waitedMs;
  const rounds = await signinRounds(s, o, 'mfa-signin', passwordOnly, withTotp);

  // ----- report -----
  const { a: pw, b: mf, lines, notes } = compareSignins(rounds, [passwordOnly[0], withTotp[0]], RATE_GOAL, o.timeCapMs);
  const out: string[] = [];
  out.push('mfa-signin — password-only sign-ins against password + TOTP sign-ins (per-user MFA enforced, software OATH code at the MFA step), both through the sign-in pages over HTTP in the same Latchkey process (fresh cookie jar, demo native app with PKCE, Stay signed in = Yes, code at the redirect URI)');
  out.push(
    `  ${o.rounds} round(s) of ${o.signins} sign-ins of each kind, concurrency ${o.concurrency}, after ${o.warmup} warm-up sign-ins of each; password only: one user per worker; password + TOTP: ${mfa.users.length} users taken in turn, each at most once per ${mfa.periodS} s time step, codes computed here from their seeds`,
  );
  out.push('');
  out.push(...lines);
  out.push(`the MFA step costs Latchkey ${(mf.serverCpu - pw.serverCpu).toFixed(2)} ms of CPU per sign-in (${fmt((100 * (mf.serverCpu - pw.serverCpu)) / pw.serverCpu)}% over a password-only sign-in), the load generator ${(mf.ownCpu - pw.ownCpu).toFixed(2)} ms`);
  out.push(...notes);
  if (pool.waitedMs > waitedBefore) out.push(`note: password + TOTP sign-ins waited ${((pool.waitedMs - waitedBefore) / 1000).toFixed(1)} s in all for a user with a new time step (too few users for this rate: raise --mfa-users); their rate is understated`);

  if (o.profileDir) {
    const st = await compareStatements(s, Math.min(50, o.signins), passwordOnly, withTotp, 'the MFA step');
    const perStep = st.b - st.a;
    out.push('');
    out.push(`SQL statements run per password-only sign-in: ${st.a.toFixed(1)}, per password + TOTP sign-in: ${st.b.toFixed(1)}; per MFA step: ${perStep.toFixed(1)} (goal ≤ ${STATEMENTS_GOAL}: ${perStep <= STATEMENTS_GOAL + 1e-9 ? 'met' : 'NOT met'}) ${st.cacheNote}${st.failed ? ` (${st.failed} of the sign-ins counted failed)` : ''}`);
    out.push(...st.tables);
    out.push(...(await profileSignins(s, { ...o, profileDir: o.profileDir }, 'latchkey-mfa-signin.cpuprofile', withTotp, 'argon2 itself runs on libuv\'s pool, not in this profile')));
  }
  return out;
}

// The one validity rule (spec §2 rules 1–4, D5, D6) as a property: randomized histories of sign-ins,
// refresh-token chains and actions at millisecond times (many in the same second and the same
// millisecond), with the expected outcome modelled here from the spec's rules — event by event: each
// event kills what was issued strictly before it, which the spec's "issue time ≥ stamp is alive" means —
// and compared with whyInvalid for every credential, at the end and at random points on the way.
// A seeded PRNG (no packages); a failure prints the seed and the history. Rerun one with
// LATCHKEY_PROPERTY_SEED=<seed> (and LATCHKEY_PROPERTY_RUNS=1).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { User } from '../src/directory/users.js';
import { type CredentialFacts, whyInvalid } from '../src/protocol/validity.js';

// ---- PRNG ----------------------------------------------------------------------------------------

/** mulberry32: small, fast, good enough to shuffle histories; the same seed gives the same history. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    weighted: <T extends string>(w: Record<T, number>): T => {
      const total = Object.values<number>(w).reduce((s, x) => s + x, 0);
      let r = next() * total;
      for (const [k, x] of Object.entries<number>(w)) {
        r -= x;
        if (r < 0) return k as T;
      }
      return Object.keys(w)[0] as T;
    },
  };
}

// ---- the model ------------------------------------------------------------------------------------

type Reason = 'revoked' | 'password' | 'disabled';

interface Credential {
  name: string;
  kind: 'session' | 'refresh_token';
  issuedAt: number;
  passwordBased: boolean;
  confidential: boolean;
  /** why it died, event by event (empty: alive as far as the events go) */
  killedBy: Set<Reason>;
}

type Event =
  | { t: number; type: 'signIn'; passwordBased: boolean }
  | { t: number; type: 'chain'; confidential: boolean; from: string }
  | { t: number; type: 'refresh'; chain: string }
  | { t: number; type: 'revokeSessions' | 'ownPasswordChange' | 'adminReset' | 'disable' | 'enable' | 'delete' }
  | { t: number; type: 'check' };

/** The user as the store would hold it after the events so far (what whyInvalid reads). */
interface Stamps {
  exists: boolean;
  enabled: boolean;
  signInSessionsValidFrom: number;
  lastPasswordChange: number;
  disabledAt: number | null;
  adminResetAt: number | null;
}

/**
 * Applies one event to the model. The expected fates come from the spec's rules, stated per event:
 * - revoke sessions: everything issued before it dies (rule 2);
 * - disable: everything issued before it dies, and stays dead after enable (rule 2, D6); while the
 *   account is disabled (or gone) everything is refused as disabled (rule 1);
 * - any password change: password-based sessions and tokens issued before it die (rule 3);
 * - admin reset, in addition: non-password-based refresh tokens and every confidential-client token
 *   issued before it die; non-password-based sessions survive (rule 4);
 * - enable revives nothing.
 */
function step(e: Event, creds: Credential[], u: Stamps): void {
  const before = (c: Credential) => c.issuedAt < e.t; // "issue time ≥ stamp" is alive
  switch (e.type) {
    case 'revokeSessions':
      for (const c of creds) if (before(c)) c.killedBy.add('revoked');
      u.signInSessionsValidFrom = e.t;
      break;
    case 'disable':
      for (const c of creds) if (before(c)) c.killedBy.add('revoked');
      u.enabled = false;
      u.disabledAt = e.t;
      break;
    case 'enable':
      u.enabled = true;
      break;
    case 'ownPasswordChange':
      for (const c of creds) if (before(c) && c.passwordBased) c.killedBy.add('password');
      u.lastPasswordChange = e.t;
      break;
    case 'adminReset':
      for (const c of creds) if (before(c) && (c.passwordBased || c.kind === 'refresh_token' || c.confidential)) c.killedBy.add('password');
      u.lastPasswordChange = e.t;
      u.adminResetAt = e.t;
      break;
    case 'delete':
      u.exists = false;
      break;
    default:
      break;
  }
}

/** The expected outcome now: alive, or dead with the reasons any of which may be named. */
function expected(c: Credential, u: Stamps): { alive: boolean; reasons: Reason[] } {
  if (!u.exists || !u.enabled) return { alive: false, reasons: ['disabled'] };
  return c.killedBy.size ? { alive: false, reasons: [...c.killedBy] } : { alive: true, reasons: [] };
}

const CLASS: Record<string, Reason> = { sessions_revoked: 'revoked', password_changed: 'password', user_disabled: 'disabled' };

function userRow(u: Stamps, createdAt: number): User | undefined {
  if (!u.exists) return undefined;
  return {
    id: '00000000-0000-4000-8000-000000000001',
    tenant_id: 't',
    upn: 'p@contoso.test',
    upn_lower: 'p@contoso.test',
    display_name: 'P',
    mail: null,
    password_hash: 'x',
    account_enabled: u.enabled ? 1 : 0,
    force_change_password: 0,
    force_change_password_mfa: 0,
    last_password_change_at: u.lastPasswordChange,
    sign_in_sessions_valid_from: u.signInSessionsValidFrom,
    mfa_remembered_valid_from: u.signInSessionsValidFrom,
    disabled_at: u.disabledAt,
    admin_reset_at: u.adminResetAt,
    per_user_mfa_state: 'disabled',
    preferred_mfa_method: null,
    system_preferred_mfa: null,
    created_at: createdAt,
  };
}

const factsOf = (c: Credential): CredentialFacts => ({ kind: c.kind, issuedAt: c.issuedAt, passwordBased: c.passwordBased, ...(c.kind === 'refresh_token' ? { confidentialClient: c.confidential } : {}) });

/** Compares the model with whyInvalid for every credential; returns the disagreements. */
function compare(creds: Credential[], u: Stamps, createdAt: number, when: string): string[] {
  const row = userRow(u, createdAt);
  const out: string[] = [];
  for (const c of creds) {
    const exp = expected(c, u);
    const got = whyInvalid(row, factsOf(c));
    if (exp.alive !== (got === undefined)) out.push(`${when}: ${c.name} expected ${exp.alive ? 'alive' : `dead (${exp.reasons.join('|')})`}, whyInvalid says ${got ?? 'alive'}`);
    else if (got !== undefined) {
      const cls = CLASS[got];
      if (!cls || !exp.reasons.includes(cls)) out.push(`${when}: ${c.name} dead as expected, but for ${got}; expected ${exp.reasons.join('|')}`);
    }
  }
  return out;
}

// ---- histories ---------------------------------------------------------------------------------------

interface History {
  seed: number;
  createdAt: number;
  events: Event[];
}

/** A random history: times in ms, often the same millisecond, mostly the same second. */
function generate(seed: number): History {
  const r = prng(seed);
  const createdAt = 1_700_000_000_000 + r.int(0, 1_000_000_000);
  let t = createdAt + r.int(0, 2);
  const events: Event[] = [];
  let enabled = true;
  let exists = true;
  let sessions = 0;
  let chains = 0;
  const sessionNames: string[] = [];
  const chainNames: string[] = [];
  const length = r.int(3, 40);
  for (let i = 0; i < length && exists; i++) {
    t += r.pick([0, 0, 0, 0, 1, 1, 2, r.int(3, 999), r.int(3, 999), r.int(1000, 120_000)]);
    const type = r.weighted({ signIn: 6, chain: 6, refresh: 3, revokeSessions: 1.5, ownPasswordChange: 1.5, adminReset: 1.5, disable: 1.2, enable: 1.2, delete: 0.1, check: 2 });
    switch (type) {
      case 'signIn':
        if (!enabled) break; // a disabled user cannot sign in
        events.push({ t, type, passwordBased: r.chance(0.6) });
        sessionNames.push(`S${++sessions}`);
        break;
      case 'chain':
        if (!enabled || !sessionNames.length) break; // a code comes from a browser session
        events.push({ t, type, confidential: r.chance(0.5), from: r.pick(sessionNames) });
        chainNames.push(`R${++chains}`);
        break;
      case 'refresh':
        if (chainNames.length) events.push({ t, type, chain: r.pick(chainNames) });
        break;
      case 'ownPasswordChange':
        if (enabled) events.push({ t, type }); // the user is signed in to change it
        break;
      case 'disable':
        if (enabled) {
          events.push({ t, type });
          enabled = false;
        }
        break;
      case 'enable':
        if (!enabled) {
          events.push({ t, type });
          enabled = true;
        }
        break;
      case 'delete':
        events.push({ t, type });
        exists = false;
        break;
      default:
        events.push({ t, type });
    }
  }
  return { seed, createdAt, events };
}

/** Runs a history through the model and whyInvalid; returns the disagreements. */
function run(h: History): string[] {
  const u: Stamps = { exists: true, enabled: true, signInSessionsValidFrom: h.createdAt, lastPasswordChange: h.createdAt, disabledAt: null, adminResetAt: null };
  const creds: Credential[] = [];
  const sessions = new Map<string, Credential>();
  const problems: string[] = [];
  let s = 0;
  let c = 0;
  for (const [i, e] of h.events.entries()) {
    if (e.type === 'signIn') {
      const cred: Credential = { name: `S${++s}`, kind: 'session', issuedAt: e.t, passwordBased: e.passwordBased, confidential: false, killedBy: new Set() };
      creds.push(cred);
      sessions.set(cred.name, cred);
    } else if (e.type === 'chain') {
      // the chain is as password-based as the session whose code it redeemed; its original issue time is
      // the redemption (rotation keeps it)
      const from = sessions.get(e.from)!;
      creds.push({ name: `R${++c}(${e.confidential ? 'confidential' : 'public'} from ${e.from})`, kind: 'refresh_token', issuedAt: e.t, passwordBased: from.passwordBased, confidential: e.confidential, killedBy: new Set() });
    } else if (e.type === 'refresh' || e.type === 'check') {
      // a refresh (rotation keeps the original issue time) or a look: the rule must agree right now
      problems.push(...compare(creds, u, h.createdAt, `after event ${i} (${e.type} at +${e.t - h.createdAt} ms)`));
    } else {
      step(e, creds, u);
    }
  }
  problems.push(...compare(creds, u, h.createdAt, 'at the end'));
  return problems;
}

function describeHistory(h: History): string {
  return h.events
    .map((e, i) => {
      const extra = e.type === 'signIn' ? (e.passwordBased ? ' password' : ' passwordless') : e.type === 'chain' ? ` ${e.confidential ? 'confidential' : 'public'} from ${e.from}` : e.type === 'refresh' ? ` ${e.chain}` : '';
      return `  ${String(i).padStart(2)} +${e.t - h.createdAt}ms ${e.type}${extra}`;
    })
    .join('\n');
}

// ---- tests -----------------------------------------------------------------------------------------

describe('the validity rule over randomized histories', () => {
  test('whyInvalid agrees with the spec’s rules for every credential of 2000 histories', () => {
    const base = process.env.LATCHKEY_PROPERTY_SEED ? Number(process.env.LATCHKEY_PROPERTY_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
    const runs = Number(process.env.LATCHKEY_PROPERTY_RUNS ?? 2000);
    let credentials = 0;
    let sameMs = 0;
    for (let i = 0; i < runs; i++) {
      const seed = (base + i) >>> 0;
      const h = generate(seed);
      credentials += h.events.filter((e) => e.type === 'signIn' || e.type === 'chain').length;
      sameMs += h.events.filter((e, j) => j > 0 && e.t === h.events[j - 1]!.t).length;
      const problems = run(h);
      if (problems.length) {
        assert.fail(`history with seed ${seed} (base seed ${base}; rerun: LATCHKEY_PROPERTY_SEED=${seed} LATCHKEY_PROPERTY_RUNS=1):\n${describeHistory(h)}\n${problems.join('\n')}`);
      }
    }
    assert.ok(credentials > runs * 5, `the histories issue credentials (${credentials})`);
    assert.ok(sameMs > runs, `many events share a millisecond (${sameMs})`);
  });

  // The ordering edge cases, each as a fixed history.
  const T = 1_750_000_000_000;
  const at = (ms: number) => T + ms;
  const check = (events: Event[], expect: Record<string, 'alive' | Reason>) => {
    const h: History = { seed: 0, createdAt: T, events };
    assert.deepEqual(run(h), [], describeHistory(h));
    // and the expectations written here, against whyInvalid directly
    const u: Stamps = { exists: true, enabled: true, signInSessionsValidFrom: T, lastPasswordChange: T, disabledAt: null, adminResetAt: null };
    const creds: Credential[] = [];
    const sessions = new Map<string, Credential>();
    let s = 0;
    let c = 0;
    for (const e of events) {
      if (e.type === 'signIn') {
        const cred: Credential = { name: `S${++s}`, kind: 'session', issuedAt: e.t, passwordBased: e.passwordBased, confidential: false, killedBy: new Set() };
        creds.push(cred);
        sessions.set(cred.name, cred);
      } else if (e.type === 'chain') creds.push({ name: `R${++c}`, kind: 'refresh_token', issuedAt: e.t, passwordBased: sessions.get(e.from)!.passwordBased, confidential: e.confidential, killedBy: new Set() });
      else step(e, creds, u);
    }
    const got = Object.fromEntries(creds.map((cr) => [cr.name, CLASS[whyInvalid(userRow(u, T), factsOf(cr)) ?? ''] ?? 'alive']));
    assert.deepEqual(got, expect, describeHistory(h));
  };

  test('issued in the same millisecond as a stamp is alive; one millisecond before is dead (D5)', () => {
    for (const action of ['revokeSessions', 'ownPasswordChange', 'adminReset'] as const) {
      const why: Reason = action === 'revokeSessions' ? 'revoked' : 'password';
      check(
        [
          { t: at(5), type: 'signIn', passwordBased: true },
          { t: at(6), type: 'signIn', passwordBased: true },
          { t: at(6), type: 'chain', confidential: false, from: 'S1' },
          { t: at(6), type: action },
          { t: at(6), type: 'signIn', passwordBased: true },
          { t: at(6), type: 'chain', confidential: true, from: 'S2' },
        ],
        { S1: why, S2: 'alive', R1: 'alive', S3: 'alive', R2: 'alive' },
      );
    }
  });

  test('enable after disable revives nothing; what is issued after the enable lives (D6)', () => {
    check(
      [
        { t: at(1), type: 'signIn', passwordBased: true },
        { t: at(1), type: 'chain', confidential: false, from: 'S1' },
        { t: at(2), type: 'signIn', passwordBased: false },
        { t: at(2), type: 'chain', confidential: true, from: 'S2' },
        { t: at(3), type: 'disable' },
        { t: at(3), type: 'enable' },
        { t: at(3), type: 'signIn', passwordBased: true },
        { t: at(4), type: 'chain', confidential: false, from: 'S3' },
      ],
      { S1: 'revoked', R1: 'revoked', S2: 'revoked', R2: 'revoked', S3: 'alive', R3: 'alive' },
    );
    // while disabled, everything (even what a same-millisecond stamp spares) is refused as disabled
    check(
      [
        { t: at(1), type: 'signIn', passwordBased: true },
        { t: at(2), type: 'signIn', passwordBased: false },
        { t: at(2), type: 'disable' },
      ],
      { S1: 'disabled', S2: 'disabled' },
    );
  });

  test('admin reset: non-password-based sessions survive; non-password refresh tokens and confidential-client tokens die (rule 4)', () => {
    const holdings: Event[] = [
      { t: at(1), type: 'signIn', passwordBased: true }, // S1
      { t: at(1), type: 'signIn', passwordBased: false }, // S2
      { t: at(2), type: 'chain', confidential: false, from: 'S1' }, // R1 public, password-based
      { t: at(2), type: 'chain', confidential: false, from: 'S2' }, // R2 public, non-password-based
      { t: at(2), type: 'chain', confidential: true, from: 'S1' }, // R3 confidential, password-based
      { t: at(2), type: 'chain', confidential: true, from: 'S2' }, // R4 confidential, non-password-based
    ];
    check([...holdings, { t: at(3), type: 'adminReset' }], { S1: 'password', S2: 'alive', R1: 'password', R2: 'password', R3: 'password', R4: 'password' });
    // the user's own change kills only what is password-based
    check([...holdings, { t: at(3), type: 'ownPasswordChange' }], { S1: 'password', S2: 'alive', R1: 'password', R2: 'alive', R3: 'password', R4: 'alive' });
    // revoke and disable kill all of it
    check([...holdings, { t: at(3), type: 'revokeSessions' }], { S1: 'revoked', S2: 'revoked', R1: 'revoked', R2: 'revoked', R3: 'revoked', R4: 'revoked' });
  });

  test('a deleted user’s credentials are all refused', () => {
    check(
      [
        { t: at(1), type: 'signIn', passwordBased: false },
        { t: at(1), type: 'chain', confidential: true, from: 'S1' },
        { t: at(2), type: 'delete' },
      ],
      { S1: 'disabled', R1: 'disabled' },
    );
  });
});

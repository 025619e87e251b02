// Smart lockout (spec §9, D12): failed passwords are counted per user and per kind of location —
// familiar (an IP prefix, /24 IPv4 or /48 IPv6, with a successful sign-in in the last 30 days) or
// unfamiliar — so an attacker elsewhere cannot lock the user out at the office. The threshold (10)
// locks for the base duration (60 s), doubling with each further lockout up to a cap; once a lockout
// has expired, the next distinct wrong password locks again at once (Entra: "The account locks again
// after each subsequent failed sign-in attempt"). Repeating one of the last 3 distinct wrong passwords
// does not count; they are remembered as HMACs under a server secret, never as password hashes.
//
// Everything lives in the database, so several instances share the counters. Updates are
// compare-and-swap on the whole row (retried on conflict): portable across SQLite and PostgreSQL and
// free of lost updates between instances without row locks.
import net from 'node:net';
import type { Secrets } from '../../crypto/secrets.js';
import type { Db } from '../../storage/db.js';
import type { SigninLockoutTable } from '../../storage/schema.js';
import { statement } from '../../storage/statements.js';

export type LocationKind = 'familiar' | 'unfamiliar';

export interface LockoutConfig {
  /** distinct failed passwords that lock the account (Entra: 10) */
  threshold: number;
  /** length of the first lockout, ms (Entra: 60 s); doubles with each further one */
  durationMs: number;
  /** longest lockout, ms */
  maxDurationMs: number;
  /** quiet time after which the counters and the lockout history are forgotten, ms */
  resetAfterMs: number;
  /** how long a prefix stays familiar after a successful sign-in from it, ms */
  familiarForMs: number;
  /** how many distinct wrong passwords are remembered (Entra: 3) */
  recentBad: number;
}

export const DEFAULT_LOCKOUT: LockoutConfig = {
  threshold: 10,
  durationMs: 60_000,
  maxDurationMs: 3_600_000,
  resetAfterMs: 24 * 3_600_000,
  familiarForMs: 30 * 86_400_000,
  recentBad: 3,
};

/** The module's parameters from the two configuration keys (anything else keeps its default). */
export function lockoutConfig(c: { lockoutThreshold?: number; lockoutDurationSeconds?: number } = {}): LockoutConfig {
  const durationMs = (c.lockoutDurationSeconds ?? DEFAULT_LOCKOUT.durationMs / 1000) * 1000;
  return {
    ...DEFAULT_LOCKOUT,
    threshold: c.lockoutThreshold ?? DEFAULT_LOCKOUT.threshold,
    durationMs,
    maxDurationMs: Math.max(DEFAULT_LOCKOUT.maxDurationMs, durationMs),
  };
}

/** The eight 16-bit groups of a valid IPv6 address (`::` and an embedded IPv4 tail allowed). */
function ipv6Groups(ip: string): number[] | undefined {
  let s = ip;
  const v4 = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [b0, b1, b2, b3] = v4.slice(2).map(Number) as [number, number, number, number];
    s = `${v4[1]}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0) return undefined;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16));
}

/**
 * The location an address belongs to: its /24 for IPv4 (also IPv4-mapped IPv6), its /48 for IPv6.
 * `req.ip` is the socket's address, or the forwarded one only when trustProxy is configured.
 */
export function locationOf(ip: string): string {
  let a = (ip ?? '').trim();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) a = mapped[1]!;
  if (net.isIPv4(a)) {
    const o = a.split('.');
    return `${o[0]}.${o[1]}.${o[2]}.0/24`;
  }
  if (net.isIPv6(a)) {
    const g = ipv6Groups(a);
    if (g) return `${g.slice(0, 3).map((n) => n.toString(16)).join(':')}::/48`;
  }
  // not an address (should not happen): its own location, bounded
  return `other:${a.slice(0, 64)}`;
}

/** When the user last signed in successfully from the address's prefix, if ever (as recorded). */
async function lastSuccessFrom(db: Db, userId: string, ip: string): Promise<number | undefined> {
  return (await familiarRow(db, userId, locationOf(ip))).rows[0]?.last_success_at;
}

/** Whether the user signed in successfully from the address's prefix within the last 30 days. */
export async function isFamiliar(db: Db, userId: string, ip: string, now: number, cfg: LockoutConfig = DEFAULT_LOCKOUT): Promise<boolean> {
  const at = await lastSuccessFrom(db, userId, ip);
  return at !== undefined && at > now - cfg.familiarForMs;
}

async function kindOf(db: Db, userId: string, ip: string, now: number, cfg: LockoutConfig): Promise<LocationKind> {
  return (await isFamiliar(db, userId, ip, now, cfg)) ? 'familiar' : 'unfamiliar';
}

const familiarRow = statement((db, userId: string, prefix: string) => db.selectFrom('familiar_locations').select('last_success_at').where('user_id', '=', userId).where('prefix', '=', prefix));
const lockoutRow = statement((db, userId: string, location: LocationKind) => db.selectFrom('signin_lockouts').selectAll().where('user_id', '=', userId).where('location', '=', location));

async function readRow(db: Db, userId: string, location: LocationKind): Promise<SigninLockoutTable | undefined> {
  return (await lockoutRow(db, userId, location)).rows[0];
}

export interface LockState {
  locked: boolean;
  /** end of the lockout, ms */
  until?: number;
  location: LocationKind;
}

/** What a lock check read: enough for recordSuccess to write only what changes. */
export interface LockCheck extends LockState {
  /** the prefix's recorded last success, if any */
  lastSuccessAt?: number;
  /** a counter row exists for this kind of location */
  counted: boolean;
}

/** Whether the counter for the address's kind of location is locked now. */
export async function checkLocked(db: Db, userId: string, ip: string, now: number, cfg: LockoutConfig = DEFAULT_LOCKOUT): Promise<LockCheck> {
  const lastSuccessAt = await lastSuccessFrom(db, userId, ip);
  const location: LocationKind = lastSuccessAt !== undefined && lastSuccessAt > now - cfg.familiarForMs ? 'familiar' : 'unfamiliar';
  const row = await readRow(db, userId, location);
  const known = { location, lastSuccessAt, counted: !!row };
  if (row?.locked_until != null && row.locked_until > now) return { locked: true, until: row.locked_until, ...known };
  return { locked: false, ...known };
}

function parseRecent(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

function lockLength(priorLockouts: number, cfg: LockoutConfig): number {
  return Math.min(cfg.maxDurationMs, cfg.durationMs * 2 ** Math.min(priorLockouts, 30));
}

export interface FailureOutcome extends LockState {
  /** false when the password was one of the recent wrong ones (or the account was already locked) */
  counted: boolean;
  failures: number;
}

/**
 * Counts a wrong password (one that was verified and did not match) against the address's kind of
 * location; locks at the threshold, or at once when an earlier lockout has just expired.
 */
export async function recordFailure(db: Db, secrets: Secrets, userId: string, ip: string, password: string, now: number, cfg: LockoutConfig = DEFAULT_LOCKOUT): Promise<FailureOutcome> {
  const location = await kindOf(db, userId, ip, now, cfg);
  const mac = secrets.lookupHash(password, 'lockout:' + userId);
  // each round one writer wins, and once the lock is taken everyone returns early: bounded by the threshold
  for (let attempt = 0; attempt < cfg.threshold + 20; attempt++) {
    const row = await readRow(db, userId, location);
    if (row?.locked_until != null && row.locked_until > now) {
      return { locked: true, until: row.locked_until, location, counted: false, failures: row.failures };
    }
    // a long quiet time forgets everything; so does no row at all
    const lastActivity = row ? Math.max(row.updated_at, row.locked_until ?? 0) : 0;
    const fresh = !row || now - lastActivity > cfg.resetAfterMs;
    const failures = fresh ? 0 : row.failures;
    const lockouts = fresh ? 0 : row.lockouts;
    const recent = fresh ? [] : parseRecent(row.recent_bad);
    if (recent.includes(mac)) {
      return { locked: false, location, counted: false, failures };
    }
    const nextRecent = JSON.stringify([mac, ...recent].slice(0, cfg.recentBad));
    let next: { failures: number; lockouts: number; locked_until: number | null };
    // after an expired lockout the next distinct wrong password locks again, for longer
    const rearmed = lockouts > 0 && row?.locked_until != null && row.locked_until <= now;
    if (rearmed || failures + 1 >= cfg.threshold) {
      next = { failures: 0, lockouts: lockouts + 1, locked_until: now + lockLength(lockouts, cfg) };
    } else {
      next = { failures: failures + 1, lockouts, locked_until: null };
    }
    const values = { ...next, recent_bad: nextRecent, updated_at: now };
    let written: boolean;
    if (!row) {
      const r = await db
        .insertInto('signin_lockouts')
        .values({ user_id: userId, location, ...values })
        .onConflict((oc) => oc.columns(['user_id', 'location']).doNothing())
        .executeTakeFirst();
      written = Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
    } else {
      // compare-and-swap on every column: if anything moved since the read, read again
      let q = db
        .updateTable('signin_lockouts')
        .set(values)
        .where('user_id', '=', userId)
        .where('location', '=', location)
        .where('failures', '=', row.failures)
        .where('lockouts', '=', row.lockouts)
        .where('recent_bad', '=', row.recent_bad)
        .where('updated_at', '=', row.updated_at);
      q = row.locked_until == null ? q.where('locked_until', 'is', null) : q.where('locked_until', '=', row.locked_until);
      const r = await q.executeTakeFirst();
      written = Number(r.numUpdatedRows) === 1;
    }
    if (written) {
      const locked = next.locked_until != null && next.locked_until > now;
      return { locked, ...(locked ? { until: next.locked_until! } : {}), location, counted: true, failures: next.failures };
    }
  }
  throw new Error('lockout counter kept changing under concurrent updates');
}

/** A familiar prefix's last success is written at most this often: familiarity may end up to a day early, never late. */
const FAMILIAR_REFRESH_MS = 86_400_000;

/**
 * A successful password from the address, after `checkLocked` found it unlocked: its prefix becomes (stays)
 * familiar, and the counter of the kind of location it was judged by starts over. Only what changes is
 * written: most sign-ins come from a prefix recorded within the day, with no counter. Prefixes unused for 30
 * days are forgotten by the sweeper (and are unfamiliar before that: isFamiliar compares the time).
 */
export async function recordSuccess(db: Db, userId: string, ip: string, now: number, check: LockCheck): Promise<void> {
  if (check.lastSuccessAt === undefined || check.lastSuccessAt <= now - FAMILIAR_REFRESH_MS) {
    await db
      .insertInto('familiar_locations')
      .values({ user_id: userId, prefix: locationOf(ip), last_success_at: now })
      .onConflict((oc) => oc.columns(['user_id', 'prefix']).doUpdateSet({ last_success_at: now }))
      .execute();
  }
  if (check.counted) await db.deleteFrom('signin_lockouts').where('user_id', '=', userId).where('location', '=', check.location).execute();
}

const queues = new Map<string, Promise<unknown>>();

/**
 * Runs one password attempt for a user at a time in this process: lock check, password check and counter
 * update happen as one step, so a burst of parallel guesses cannot all pass the lock check before any of
 * them is counted. (Across several instances the counter's conditional updates still bound the burst to
 * one lock check per instance.)
 */
export function oneAttemptAtATime<T>(userId: string, attempt: () => Promise<T>): Promise<T> {
  const prev = queues.get(userId) ?? Promise.resolve();
  const run = prev.then(attempt, attempt);
  const tail = run.catch(() => undefined);
  queues.set(userId, tail);
  void tail.then(() => {
    if (queues.get(userId) === tail) queues.delete(userId);
  });
  return run;
}

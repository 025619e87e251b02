// Wrong one-time codes per user and method (spec §9): at most `limit` in a window (tenant setting,
// default 5 in 10 minutes). A compare-and-swap on one row, portable across both databases.
import type { Db } from '../storage/db.js';
import { statement } from '../storage/statements.js';

export interface AttemptLimit {
  limit: number;
  windowMs: number;
}

export interface AttemptState {
  /** the user may not try this method now (too many wrong codes in the window) */
  exhausted: boolean;
  /** wrong codes are on record (a success clears them) */
  recorded: boolean;
}

const failuresRow = statement((db, userId: string, method: string) => db.selectFrom('mfa_failures').select(['count', 'window_start']).where('user_id', '=', userId).where('method', '=', method));

export async function attemptState(db: Db, userId: string, method: string, lim: AttemptLimit, now = Date.now()): Promise<AttemptState> {
  return attemptStateOf((await failuresRow(db, userId, method)).rows[0], lim, now);
}

/** The state of a wrong-code record already read (with the methods: `listMethodsWithFailures`). */
export function attemptStateOf(row: { count: number; window_start: number } | undefined, lim: AttemptLimit, now = Date.now()): AttemptState {
  return { exhausted: !!row && row.window_start > now - lim.windowMs && row.count >= lim.limit, recorded: !!row };
}

/** true when the user may not try this method now (too many wrong codes in the window). */
export async function attemptsExhausted(db: Db, userId: string, method: string, lim: AttemptLimit, now = Date.now()): Promise<boolean> {
  return (await attemptState(db, userId, method, lim, now)).exhausted;
}

export async function recordWrongCode(db: Db, userId: string, method: string, lim: AttemptLimit, now = Date.now()): Promise<void> {
  for (let i = 0; i < 5; i++) {
    const row = await db.selectFrom('mfa_failures').select(['count', 'window_start']).where('user_id', '=', userId).where('method', '=', method).executeTakeFirst();
    if (!row) {
      const r = await db.insertInto('mfa_failures').values({ user_id: userId, method, window_start: now, count: 1 }).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0) === 1) return;
      continue;
    }
    const fresh = row.window_start <= now - lim.windowMs;
    const r = await db
      .updateTable('mfa_failures')
      .set(fresh ? { window_start: now, count: 1 } : { count: row.count + 1 })
      .where('user_id', '=', userId)
      .where('method', '=', method)
      .where('count', '=', row.count)
      .where('window_start', '=', row.window_start)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return;
  }
}

export async function clearWrongCodes(db: Db, userId: string, method: string): Promise<void> {
  await db.deleteFrom('mfa_failures').where('user_id', '=', userId).where('method', '=', method).execute();
}

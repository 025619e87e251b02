// Wrong user codes on the device-code page (the engine's code_verification route): at most
// WRONG_USER_CODE_LIMIT a minute per browser session and per IP address, counted in the database
// (`device_code_attempts`, swept), so guessing a user code is slow on every instance and memory stays bounded.
import { sql } from 'kysely';
import type { Secrets } from '../crypto/secrets.js';
import type { Db } from '../storage/db.js';

export const WRONG_USER_CODE_LIMIT = 10;
export const WRONG_USER_CODE_WINDOW_MS = 60_000;

/**
 * The counters a request counts against: its browser session (the engine's session cookie, kept only as
 * a keyed hash) and its IP address. A request without the cookie counts against its address only.
 */
export function attemptKeys(secrets: Secrets, sessionCookie: string | undefined, ip: string): string[] {
  return [...(sessionCookie ? [`session:${secrets.lookupHash(sessionCookie, 'device-code-attempts:session')}`] : []), `ip:${ip}`];
}

/** Whether any of the counters is at the limit within its window. */
export async function tooManyWrongUserCodes(db: Db, keys: string[], now = Date.now()): Promise<boolean> {
  const row = await db
    .selectFrom('device_code_attempts')
    .select('key')
    .where('key', 'in', keys)
    .where('window_start', '>', now - WRONG_USER_CODE_WINDOW_MS)
    .where('count', '>=', WRONG_USER_CODE_LIMIT)
    .executeTakeFirst();
  return row !== undefined;
}

/** Counts one wrong user code on each counter; a counter whose window has passed starts a new one. */
export async function countWrongUserCode(db: Db, keys: string[], now = Date.now()): Promise<void> {
  const passed = now - WRONG_USER_CODE_WINDOW_MS;
  for (const key of keys) {
    await db
      .insertInto('device_code_attempts')
      .values({ key, window_start: now, count: 1 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({
          // one statement: concurrent wrong codes each count
          count: sql<number>`CASE WHEN device_code_attempts.window_start <= ${passed} THEN 1 ELSE device_code_attempts.count + 1 END`,
          window_start: sql<number>`CASE WHEN device_code_attempts.window_start <= ${passed} THEN CAST(${now} AS BIGINT) ELSE device_code_attempts.window_start END`,
        }),
      )
      .execute();
  }
}

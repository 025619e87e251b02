// The auth_methods table: one row per registered method (spec §4). Pending rows are enrollments not yet
// confirmed with a first code; they are invisible everywhere but their own enrollment and expire.
import type { Db } from '../storage/db.js';
import type { MethodRow, MethodType } from './types.js';
import { statement } from '../storage/statements.js';

const activeMethods = statement((db, userId: string) => db.selectFrom('auth_methods').selectAll().where('user_id', '=', userId).where('status', '=', 'active').orderBy('created_at'));

export async function listMethods(db: Db, userId: string): Promise<MethodRow[]> {
  return (await activeMethods(db, userId)).rows as MethodRow[];
}

const activeMethodsAndFailures = statement((db, userId: string, method: string) =>
  db
    .selectFrom('auth_methods as m')
    .leftJoin('mfa_failures as f', (j) => j.onRef('f.user_id', '=', 'm.user_id').on('f.method', '=', method))
    .selectAll('m')
    .select(['f.count as failed_count', 'f.window_start as failed_since'])
    .where('m.user_id', '=', userId)
    .where('m.status', '=', 'active')
    .orderBy('m.created_at'),
);

/**
 * The user's active methods and the wrong codes on record for one method (spec §9), in one statement: what
 * the second factor reads. The record is undefined when there is none (or the user has no active method).
 */
export async function listMethodsWithFailures(db: Db, userId: string, method: string): Promise<{ methods: MethodRow[]; failures?: { count: number; window_start: number } }> {
  const rows = (await activeMethodsAndFailures(db, userId, method)).rows;
  const first = rows[0];
  const failures = first && first.failed_count !== null && first.failed_since !== null ? { count: Number(first.failed_count), window_start: Number(first.failed_since) } : undefined;
  const methods = rows.map((r) => {
    const m: Partial<typeof r> = { ...r };
    delete m.failed_count;
    delete m.failed_since;
    return m as MethodRow;
  });
  return { methods, failures };
}

export async function listMethodsOfType(db: Db, userId: string, type: MethodType): Promise<MethodRow[]> {
  return (await db.selectFrom('auth_methods').selectAll().where('user_id', '=', userId).where('type', '=', type).where('status', '=', 'active').orderBy('created_at').execute()) as MethodRow[];
}

export async function findMethod(db: Db, userId: string, id: string): Promise<MethodRow | undefined> {
  return (await db.selectFrom('auth_methods').selectAll().where('id', '=', id).where('user_id', '=', userId).where('status', '=', 'active').executeTakeFirst()) as MethodRow | undefined;
}

export async function findPending(db: Db, userId: string, id: string, now = Date.now()): Promise<MethodRow | undefined> {
  return (await db.selectFrom('auth_methods').selectAll().where('id', '=', id).where('user_id', '=', userId).where('status', '=', 'pending').where('expires_at', '>', now).executeTakeFirst()) as MethodRow | undefined;
}

export async function deleteMethod(db: Db, userId: string, id: string): Promise<boolean> {
  const r = await db.deleteFrom('auth_methods').where('id', '=', id).where('user_id', '=', userId).where('status', '=', 'active').executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}

export function parseState<T>(row: MethodRow): T {
  return JSON.parse(row.state) as T;
}

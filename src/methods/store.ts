// The auth_methods table: one row per registered method (spec §4). Pending rows are enrollments not yet
// confirmed with a first code; they are invisible everywhere but their own enrollment and expire.
import type { Db } from '../storage/db.js';
import type { MethodRow, MethodType } from './types.js';
import { statement } from '../storage/statements.js';

const activeMethods = statement((db, userId: string) => db.selectFrom('auth_methods').selectAll().where('user_id', '=', userId).where('status', '=', 'active').orderBy('created_at'));

export async function listMethods(db: Db, userId: string): Promise<MethodRow[]> {
  return (await activeMethods(db, userId)).rows as MethodRow[];
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

// The one "last Global Administrator" rule: no change may leave the tenant without an enabled user holding
// the Global Administrator role (delete user, disable account, removing the role, and any later path that
// could end a Global Administrator). Every such path calls keepsGlobalAdmin, at plan and again inside the
// transaction that writes the change.
import { PostgresAdapter, sql } from 'kysely';
import type { Db } from '../storage/db.js';
import { ActionError } from './action.js';
import { ROLES } from './roles.js';

/**
 * Refuses (ActionError 'invalid', nothing written) when `userId` is an enabled Global Administrator and no
 * other enabled user holds the role. `what` names the change in the message ("delete the user").
 * Within a PostgreSQL transaction it first takes a tenant-wide lock, so two concurrent changes to two
 * different Global Administrators cannot each count on the other (SQLite transactions are serial).
 */
export async function keepsGlobalAdmin(db: Db, tenantId: string, userId: string, what: string): Promise<void> {
  if (db.isTransaction && db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql`select pg_advisory_xact_lock(hashtext(${`latchkey:global-admins:${tenantId}`}))`.execute(db);
  }
  const enabledAdmins = await db
    .selectFrom('user_roles')
    .innerJoin('users', 'users.id', 'user_roles.user_id')
    .select('users.id')
    .where('user_roles.role', '=', ROLES.globalAdmin)
    .where('users.tenant_id', '=', tenantId)
    .where('users.account_enabled', '=', 1)
    .limit(2)
    .execute();
  if (enabledAdmins.length === 1 && enabledAdmins[0]!.id === userId) {
    throw new ActionError('invalid', `Cannot ${what}: the tenant would be left with no enabled Global Administrator; give the role to another enabled user first.`);
  }
}

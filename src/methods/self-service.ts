// A user's own changes to their methods (the registration interrupt, My Security Info): the change, the
// audit record with Entra's names and the outbox event, in one transaction (spec §4: every user method
// change is audited and tells relying parties).
import type { User } from '../directory/users.js';
import { writeAudit } from '../events/audit.js';
import { enqueue } from '../events/outbox.js';
import type { Db } from '../storage/db.js';

function selfActor(user: User) {
  return { kind: 'user' as const, id: user.id, displayName: user.display_name, upn: user.upn, roles: [], scopes: [] };
}

/** Records that the user registered a method (call inside the transaction that made it). */
export async function recordUserAddedMethod(trx: Db, user: User, method: { id: string; type: string }): Promise<void> {
  await writeAudit(trx, user.tenant_id, { activity: 'User registered security info', category: 'UserManagement', service: 'Authentication Methods', operationType: 'Add', actor: selfActor(user), target: { id: user.id, name: user.upn }, modified: [{ displayName: 'Method', oldValue: null, newValue: method.type }] });
  await enqueue(trx, user.tenant_id, 'user.method.added', { userId: user.id, methodId: method.id, type: method.type, by: 'user' });
}

/** Deletes one of the user's own methods with its audit record and event; false when it was not there. */
export async function userDeletesMethod(db: Db, user: User, methodId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('auth_methods').select(['id', 'type']).where('id', '=', methodId).where('user_id', '=', user.id).where('status', '=', 'active').executeTakeFirst();
    if (!row) return false;
    await trx.deleteFrom('auth_methods').where('id', '=', row.id).execute();
    // a deleted TAP ends the browser sessions born of it (spec §6 Decision)
    if (row.type === 'temporaryAccessPass') await trx.deleteFrom('signin_sessions').where('tap_id', '=', row.id).execute();
    await writeAudit(trx, user.tenant_id, { activity: 'User deleted security info', category: 'UserManagement', service: 'Authentication Methods', operationType: 'Delete', actor: selfActor(user), target: { id: user.id, name: user.upn }, modified: [{ displayName: 'Method', oldValue: row.type, newValue: null }] });
    await enqueue(trx, user.tenant_id, 'user.method.deleted', { userId: user.id, methodId: row.id, type: row.type, by: 'user' });
    return true;
  });
}

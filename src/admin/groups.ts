// What the group admin actions share: the rights to write groups and their members (Graph's permissions,
// and for delegated callers a group-managing directory role), and the stricter rule for role-assignable
// groups, whose members hold the group's roles, so changing them is role management (Entra).
import type { Db } from '../storage/db.js';
import type { GroupTable } from '../storage/schema.js';
import { ActionError } from './action.js';
import type { Actor } from './actor.js';
import { checkAnyRole, checkPermission } from './change.js';
import { GROUP_WRITE_ROLES, ROLES } from './roles.js';

const WRITE_DELEGATED = ['Group.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const WRITE_APP = ['Group.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const CHANGE_APP = ['Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const MEMBER_DELEGATED = ['GroupMember.ReadWrite.All', ...WRITE_DELEGATED];
const MEMBER_APP = ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const ROLE_ASSIGNABLE_ROLES = [ROLES.privilegedRoleAdmin, ROLES.globalAdmin];
const ROLE_ASSIGNABLE_APP = ['RoleManagement.ReadWrite.Directory'];

export type GroupWrite = 'create' | 'update' | 'delete' | 'members';

const WHAT: Record<GroupWrite, string> = { create: 'creating groups', update: 'updating groups', delete: 'deleting groups', members: 'changing group members' };

/** The rights to write groups (`create` also allows Group.Create for apps; `members` GroupMember.ReadWrite.All). */
export function checkGroupWrite(actor: Actor, write: GroupWrite): void {
  if (write === 'members') checkPermission(actor, MEMBER_DELEGATED, MEMBER_APP);
  else checkPermission(actor, WRITE_DELEGATED, write === 'create' ? WRITE_APP : CHANGE_APP);
  checkAnyRole(actor, GROUP_WRITE_ROLES, WHAT[write]);
}

/** Members of a role-assignable group hold its roles: only role administrators may change them. */
export function checkRoleAssignable(actor: Actor, g: Pick<GroupTable, 'is_assignable_to_role'>, what: string): void {
  if (g.is_assignable_to_role !== 1) return;
  if (actor.kind === 'app') checkPermission(actor, [], ROLE_ASSIGNABLE_APP);
  checkAnyRole(actor, ROLE_ASSIGNABLE_ROLES, `${what} of a role-assignable group`);
}

export const notFound = (id: string) => new ActionError('not_found', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

export async function loadGroup(db: Db, tenantId: string, id: string): Promise<GroupTable> {
  const g = await db.selectFrom('groups').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  if (!g) throw notFound(id);
  return g;
}

export async function loadUser(db: Db, tenantId: string, id: string) {
  const u = await db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where((eb) => eb.or([eb('id', '=', id), eb('upn_lower', '=', id.toLowerCase())])).executeTakeFirst();
  if (!u) throw notFound(id);
  return u;
}

/** The audit record of a membership change (the user is the target; the group is named in the change). */
export function memberAudit(add: boolean, g: Pick<GroupTable, 'id' | 'display_name'>, u: { id: string; upn: string }) {
  return {
    activity: add ? 'Add member to group' : 'Remove member from group',
    category: 'GroupManagement',
    service: 'Core Directory',
    operationType: add ? ('Assign' as const) : ('Unassign' as const),
    target: { id: u.id, name: u.upn },
    modified: [
      { displayName: 'Group.ObjectID', oldValue: add ? null : g.id, newValue: add ? g.id : null },
      { displayName: 'Group.DisplayName', oldValue: add ? null : g.display_name, newValue: add ? g.display_name : null },
    ],
  };
}

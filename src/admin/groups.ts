// What the group admin actions share: the rights to write groups and their members (Graph's permissions,
// and for delegated callers a group-managing directory role), and the other rule for role-assignable
// groups, whose members hold the group's roles, so writing them is role management: Entra's Groups and User
// Administrators may not (their actions exclude role-assignable groups), its Privileged Role Administrator
// may, though it may not write plain groups ("Use Microsoft Entra groups to manage role assignments").
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
// Entra: "the RoleManagement.ReadWrite.Directory permission is required ...; Group.ReadWrite.All won't work"
const ROLE_ASSIGNABLE_APP = ['RoleManagement.ReadWrite.Directory'];

export type GroupWrite = 'create' | 'update' | 'delete' | 'members';

/** The kind of group a write is on: plain, or role-assignable. */
export type GroupKind = Pick<GroupTable, 'is_assignable_to_role'>;
export const PLAIN_GROUP: GroupKind = { is_assignable_to_role: 0 };
export const ROLE_ASSIGNABLE_GROUP: GroupKind = { is_assignable_to_role: 1 };

// what each refusal names after "Insufficient privileges to complete the operation: "
const WHAT: Record<GroupWrite, string> = { create: 'creating groups', update: 'updating groups', delete: 'deleting groups', members: 'changing group members' };
const WHAT_ROLE_ASSIGNABLE: Record<GroupWrite, string> = {
  create: 'creating a role-assignable group',
  update: 'updating a role-assignable group',
  delete: 'deleting a role-assignable group',
  members: 'changing the members of a role-assignable group',
};

/**
 * The permission a group write needs (`create` also allows Group.Create for apps; `members`
 * GroupMember.ReadWrite.All), whatever the group: checked before the group is read.
 */
export function checkGroupPermission(actor: Actor, write: GroupWrite): void {
  if (write === 'members') checkPermission(actor, MEMBER_DELEGATED, MEMBER_APP);
  else checkPermission(actor, WRITE_DELEGATED, write === 'create' ? WRITE_APP : CHANGE_APP);
}

/**
 * The rights to make a group write on a group of this kind: the permission, then for a plain group a
 * group-managing role (Groups, User or Global Administrator); for a role-assignable one, apps also need
 * RoleManagement.ReadWrite.Directory and delegated callers a role administrator's role (Privileged Role or
 * Global Administrator) instead.
 */
export function checkGroupWrite(actor: Actor, write: GroupWrite, g: GroupKind): void {
  checkGroupPermission(actor, write);
  if (g.is_assignable_to_role !== 1) {
    checkAnyRole(actor, GROUP_WRITE_ROLES, WHAT[write]);
    return;
  }
  if (actor.kind === 'app') checkPermission(actor, [], ROLE_ASSIGNABLE_APP);
  checkAnyRole(actor, ROLE_ASSIGNABLE_ROLES, WHAT_ROLE_ASSIGNABLE[write]);
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

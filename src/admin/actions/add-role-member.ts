// Add member to role (Graph POST /directoryRoles/{id}/members/$ref, POST roleAssignments): a user, or an
// app's service principal, gets a directory role. Audited as `Add member to role`. Any pending plan on
// that user becomes stale (plans fingerprint roles).
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, checkAnyRole, checkPermission, commitChange, newChangePlan } from '../change.js';
import { notFound } from '../groups.js';
import { ROLE_ASSIGN_ROLES } from '../roles.js';
import type { Db } from '../../storage/db.js';

const WRITE_DELEGATED = ['RoleManagement.ReadWrite.Directory', 'Directory.AccessAsUser.All'];
const WRITE_APP = ['RoleManagement.ReadWrite.Directory'];

export interface RoleMemberInput {
  role: { name: string; templateId: string };
  /** a user by id or UPN, or (unless `usersOnly`) an app's id */
  principalId: string;
  /** only users may be named */
  usersOnly?: boolean;
}

export interface Principal {
  kind: 'user' | 'app';
  id: string;
  name: string;
}

export function checkRoleWrite(actor: Actor): void {
  checkPermission(actor, WRITE_DELEGATED, WRITE_APP);
  checkAnyRole(actor, ROLE_ASSIGN_ROLES, 'assigning or removing directory roles');
}

/** A principal to hold a role: a user, or (when allowed) an app's service principal. */
export async function findPrincipal(db: Db, tenantId: string, id: string, usersOnly = false): Promise<Principal> {
  const user = await db.selectFrom('users').select(['id', 'upn']).where('tenant_id', '=', tenantId).where((eb) => eb.or([eb('id', '=', id), eb('upn_lower', '=', id.toLowerCase())])).executeTakeFirst();
  if (user) return { kind: 'user', id: user.id, name: user.upn };
  if (!usersOnly) {
    const app = await db.selectFrom('apps').select(['id', 'display_name']).where('tenant_id', '=', tenantId).where('id', '=', id).where('kind', '!=', 'resource').executeTakeFirst();
    if (app) return { kind: 'app', id: app.id, name: app.display_name };
  }
  throw notFound(id);
}

export function roleAudit(add: boolean, role: RoleMemberInput['role'], p: Principal) {
  return {
    activity: add ? 'Add member to role' : 'Remove member from role',
    category: 'RoleManagement',
    service: 'Core Directory',
    operationType: add ? ('Assign' as const) : ('Unassign' as const),
    target: { id: p.id, name: p.name },
    modified: [
      { displayName: 'Role.ObjectID', oldValue: add ? null : role.templateId, newValue: add ? role.templateId : null },
      { displayName: 'Role.DisplayName', oldValue: add ? null : role.name, newValue: add ? role.name : null },
      { displayName: 'Role.TemplateId', oldValue: add ? null : role.templateId, newValue: add ? role.templateId : null },
    ],
  };
}

export async function plan(ctx: ActionContext, actor: Actor, input: RoleMemberInput): Promise<ChangePlan<RoleMemberInput & { principal: Principal }>> {
  checkRoleWrite(actor);
  const principal = await findPrincipal(ctx.db, ctx.tenantId, input.principalId, input.usersOnly);
  return newChangePlan({ action: 'addRoleMember', actor, input: { ...input, principal }, preview: { action: 'addRoleMember', target: { type: 'Role', id: input.role.templateId, displayName: input.role.name }, changes: [{ property: 'members', oldValue: null, newValue: principal.name }], warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<RoleMemberInput & { principal: Principal }>): Promise<ChangeResult<Principal>> {
  const { role, principal: p } = plan.input;
  return commitChange(ctx, plan, async (trx, actor) => {
    checkRoleWrite(actor);
    const conflict = () => new ActionError('invalid', "One or more added object references already exist for the following modified properties: 'members'.");
    if (p.kind === 'user') {
      if (await trx.selectFrom('user_roles').select('role').where('user_id', '=', p.id).where('role', '=', role.name).executeTakeFirst()) throw conflict();
      await trx.insertInto('user_roles').values({ user_id: p.id, role: role.name }).execute();
    } else {
      if (await trx.selectFrom('app_directory_roles').select('role').where('app_id', '=', p.id).where('role', '=', role.name).executeTakeFirst()) throw conflict();
      await trx.insertInto('app_directory_roles').values({ app_id: p.id, role: role.name }).execute();
    }
    return { value: p, audit: [roleAudit(true, role, p)], event: { type: 'role.member.added', payload: { role: role.name, principalType: p.kind, principalId: p.id } } };
  });
}

// Remove member from role (Graph DELETE /directoryRoles/{id}/members/{id}/$ref, DELETE roleAssignments):
// a user or an app's service principal loses a directory role. The tenant keeps an enabled Global
// Administrator (global-admins.ts). Audited as `Remove member from role`.
import type { ActionContext } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { keepsGlobalAdmin } from '../global-admins.js';
import { notFound } from '../groups.js';
import { ROLES } from '../roles.js';
import { type Principal, type RoleMemberInput, checkRoleWrite, findPrincipal, roleAudit } from './add-role-member.js';

const WHAT = 'remove the Global Administrator role from this user';

export async function plan(ctx: ActionContext, actor: Actor, input: RoleMemberInput): Promise<ChangePlan<RoleMemberInput & { principal: Principal }>> {
  checkRoleWrite(actor);
  const principal = await findPrincipal(ctx.db, ctx.tenantId, input.principalId, input.usersOnly);
  if (principal.kind === 'user' && input.role.name === ROLES.globalAdmin) await keepsGlobalAdmin(ctx.db, ctx.tenantId, principal.id, WHAT);
  return newChangePlan({ action: 'removeRoleMember', actor, input: { ...input, principal }, preview: { action: 'removeRoleMember', target: { type: 'Role', id: input.role.templateId, displayName: input.role.name }, changes: [{ property: 'members', oldValue: principal.name, newValue: null }], warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<RoleMemberInput & { principal: Principal }>): Promise<ChangeResult<undefined>> {
  const { role, principal: p } = plan.input;
  return commitChange(ctx, plan, async (trx, actor) => {
    checkRoleWrite(actor);
    if (p.kind === 'user' && role.name === ROLES.globalAdmin) await keepsGlobalAdmin(trx, ctx.tenantId, p.id, WHAT);
    const gone = p.kind === 'user' ? await trx.deleteFrom('user_roles').where('user_id', '=', p.id).where('role', '=', role.name).executeTakeFirst() : await trx.deleteFrom('app_directory_roles').where('app_id', '=', p.id).where('role', '=', role.name).executeTakeFirst();
    if (Number(gone.numDeletedRows) !== 1) throw notFound(plan.input.principalId);
    return { value: undefined, audit: [roleAudit(false, role, p)], event: { type: 'role.member.removed', payload: { role: role.name, principalType: p.kind, principalId: p.id } } };
  });
}

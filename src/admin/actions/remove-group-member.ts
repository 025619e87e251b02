// Remove member from group (Graph DELETE /groups/{id}/members/{userId}/$ref). Audited as
// `Remove member from group`.
import type { ActionContext } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { checkGroupPermission, checkGroupWrite, loadGroup, loadUser, memberAudit, notFound } from '../groups.js';
import type { GroupMemberInput } from './add-group-member.js';

export async function plan(ctx: ActionContext, actor: Actor, input: GroupMemberInput): Promise<ChangePlan<GroupMemberInput & { asked: string }>> {
  checkGroupPermission(actor, 'members');
  const g = await loadGroup(ctx.db, ctx.tenantId, input.groupId);
  checkGroupWrite(actor, 'members', g);
  const u = await loadUser(ctx.db, ctx.tenantId, input.userId);
  return newChangePlan({ action: 'removeGroupMember', actor, input: { groupId: g.id, userId: u.id, asked: input.userId }, preview: { action: 'removeGroupMember', target: { type: 'Group', id: g.id, displayName: g.display_name }, changes: [{ property: 'members', oldValue: u.upn, newValue: null }], warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<GroupMemberInput & { asked: string }>): Promise<ChangeResult<undefined>> {
  return commitChange(ctx, plan, async (trx, actor) => {
    const g = await loadGroup(trx, ctx.tenantId, plan.input.groupId);
    checkGroupWrite(actor, 'members', g);
    const u = await loadUser(trx, ctx.tenantId, plan.input.userId);
    const gone = await trx.deleteFrom('group_members').where('group_id', '=', g.id).where('user_id', '=', u.id).executeTakeFirst();
    if (Number(gone.numDeletedRows) !== 1) throw notFound(plan.input.asked);
    return { value: undefined, audit: [memberAudit(false, g, u)], event: { type: 'group.member.removed', payload: { groupId: g.id, userId: u.id } } };
  });
}

// Add member to group (Graph POST /groups/{id}/members/$ref): one user. Audited as `Add member to group`.
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { checkGroupPermission, checkGroupWrite, loadGroup, loadUser, memberAudit } from '../groups.js';

export interface GroupMemberInput {
  groupId: string;
  /** the user, by id or UPN */
  userId: string;
}

export async function plan(ctx: ActionContext, actor: Actor, input: GroupMemberInput): Promise<ChangePlan<GroupMemberInput>> {
  checkGroupPermission(actor, 'members');
  const g = await loadGroup(ctx.db, ctx.tenantId, input.groupId);
  checkGroupWrite(actor, 'members', g);
  const u = await loadUser(ctx.db, ctx.tenantId, input.userId);
  return newChangePlan({ action: 'addGroupMember', actor, input: { groupId: g.id, userId: u.id }, preview: { action: 'addGroupMember', target: { type: 'Group', id: g.id, displayName: g.display_name }, changes: [{ property: 'members', oldValue: null, newValue: u.upn }], warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<GroupMemberInput>): Promise<ChangeResult<undefined>> {
  return commitChange(ctx, plan, async (trx, actor) => {
    const g = await loadGroup(trx, ctx.tenantId, plan.input.groupId); // deleted meanwhile: 404, not a foreign-key error
    checkGroupWrite(actor, 'members', g);
    const u = await loadUser(trx, ctx.tenantId, plan.input.userId);
    const exists = await trx.selectFrom('group_members').select('user_id').where('group_id', '=', g.id).where('user_id', '=', u.id).executeTakeFirst();
    if (exists) throw new ActionError('invalid', "One or more added object references already exist for the following modified properties: 'members'.");
    await trx.insertInto('group_members').values({ group_id: g.id, user_id: u.id }).execute();
    return { value: undefined, audit: [memberAudit(true, g, u)], event: { type: 'group.member.added', payload: { groupId: g.id, userId: u.id } } };
  });
}

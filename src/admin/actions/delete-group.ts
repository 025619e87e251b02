// Delete group (Graph DELETE /groups/{id}): the group and its memberships. Audited as `Delete group`.
import type { ActionContext } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { checkGroupPermission, checkGroupWrite, loadGroup, notFound } from '../groups.js';

export async function plan(ctx: ActionContext, actor: Actor, groupId: string): Promise<ChangePlan<{ groupId: string }>> {
  checkGroupPermission(actor, 'delete');
  const g = await loadGroup(ctx.db, ctx.tenantId, groupId);
  checkGroupWrite(actor, 'delete', g);
  return newChangePlan({ action: 'deleteGroup', actor, input: { groupId: g.id }, preview: { action: 'deleteGroup', target: { type: 'Group', id: g.id, displayName: g.display_name }, changes: [{ property: 'group', oldValue: g.display_name, newValue: null }], warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<{ groupId: string }>): Promise<ChangeResult<undefined>> {
  return commitChange(ctx, plan, async (trx, actor) => {
    const g = await loadGroup(trx, ctx.tenantId, plan.input.groupId);
    checkGroupWrite(actor, 'delete', g);
    const members = await trx.selectFrom('group_members').select('user_id').where('group_id', '=', g.id).execute();
    await trx.deleteFrom('group_members').where('group_id', '=', g.id).execute();
    const gone = await trx.deleteFrom('groups').where('id', '=', g.id).executeTakeFirst();
    if (Number(gone.numDeletedRows) !== 1) throw notFound(g.id);
    return {
      value: undefined,
      audit: [{ activity: 'Delete group', category: 'GroupManagement', service: 'Core Directory', operationType: 'Delete', target: { id: g.id, name: g.display_name }, modified: [{ displayName: 'DisplayName', oldValue: g.display_name, newValue: null }] }],
      event: { type: 'group.deleted', payload: { groupId: g.id, memberIds: members.map((m) => m.user_id) } },
    };
  });
}

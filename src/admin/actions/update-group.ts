// Update group (Graph PATCH /groups/{id}): display name and description. Audited as `Update group`.
import type { GroupTable } from '../../storage/schema.js';
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type Change, type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { checkGroupPermission, checkGroupWrite, loadGroup } from '../groups.js';

export interface UpdateGroupInput {
  displayName?: string;
  description?: string | null;
}

function changesOf(g: GroupTable, input: UpdateGroupInput): Change[] {
  const out: Change[] = [];
  if (input.displayName !== undefined) out.push({ property: 'DisplayName', oldValue: g.display_name, newValue: input.displayName });
  if (input.description !== undefined) out.push({ property: 'Description', oldValue: g.description, newValue: input.description });
  return out;
}

export async function plan(ctx: ActionContext, actor: Actor, groupId: string, input: UpdateGroupInput): Promise<ChangePlan<UpdateGroupInput & { groupId: string }>> {
  checkGroupPermission(actor, 'update');
  const g = await loadGroup(ctx.db, ctx.tenantId, groupId);
  checkGroupWrite(actor, 'update', g);
  if (input.displayName === undefined && input.description === undefined) throw new ActionError('invalid', 'The request body has no property to update.');
  return newChangePlan({ action: 'updateGroup', actor, input: { ...input, groupId: g.id }, preview: { action: 'updateGroup', target: { type: 'Group', id: g.id, displayName: g.display_name }, changes: changesOf(g, input), warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<UpdateGroupInput & { groupId: string }>): Promise<ChangeResult<GroupTable>> {
  const { groupId, ...input } = plan.input;
  return commitChange(ctx, plan, async (trx, actor) => {
    const g = await loadGroup(trx, ctx.tenantId, groupId);
    checkGroupWrite(actor, 'update', g);
    const set = { ...(input.displayName !== undefined ? { display_name: input.displayName } : {}), ...(input.description !== undefined ? { description: input.description } : {}) };
    await trx.updateTable('groups').set(set).where('id', '=', g.id).execute();
    const changes = changesOf(g, input);
    return {
      value: { ...g, ...set },
      audit: [{ activity: 'Update group', category: 'GroupManagement', service: 'Core Directory', operationType: 'Update', target: { id: g.id, name: set.display_name ?? g.display_name }, modified: changes.map((c) => ({ displayName: c.property, oldValue: c.oldValue, newValue: c.newValue })) }],
      event: { type: 'group.updated', payload: { groupId: g.id, properties: changes.map((c) => c.property) } },
    };
  });
}

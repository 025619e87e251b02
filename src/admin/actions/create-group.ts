// Create group (Graph POST /groups): a security group, optionally role-assignable, with its first members.
// Audited as `Add group` and one `Add member to group` per member, in one transaction.
import crypto from 'node:crypto';
import type { GroupTable } from '../../storage/schema.js';
import type { ActionContext } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { PLAIN_GROUP, ROLE_ASSIGNABLE_GROUP, checkGroupWrite, loadUser, memberAudit } from '../groups.js';

export interface CreateGroupInput {
  displayName: string;
  mailNickname: string;
  description?: string;
  isAssignableToRole: boolean;
  /** users by id or UPN */
  memberIds: string[];
}

export async function plan(ctx: ActionContext, actor: Actor, input: CreateGroupInput): Promise<ChangePlan<CreateGroupInput>> {
  checkGroupWrite(actor, 'create', input.isAssignableToRole ? ROLE_ASSIGNABLE_GROUP : PLAIN_GROUP);
  const members = [];
  for (const id of input.memberIds) members.push(await loadUser(ctx.db, ctx.tenantId, id));
  const memberIds = [...new Set(members.map((m) => m.id))];
  return newChangePlan({
    action: 'createGroup',
    actor,
    input: { ...input, memberIds },
    preview: {
      action: 'createGroup',
      target: { type: 'Group', id: '(assigned at apply)', displayName: input.displayName },
      changes: [
        { property: 'displayName', oldValue: null, newValue: input.displayName },
        { property: 'mailNickname', oldValue: null, newValue: input.mailNickname },
        { property: 'isAssignableToRole', oldValue: null, newValue: String(input.isAssignableToRole) },
        ...members.map((m) => ({ property: 'members', oldValue: null, newValue: m.upn })),
      ],
      warnings: [],
    },
  });
}

export function apply(ctx: ActionContext, plan: ChangePlan<CreateGroupInput>): Promise<ChangeResult<GroupTable>> {
  const input = plan.input;
  return commitChange(ctx, plan, async (trx, actor, now) => {
    checkGroupWrite(actor, 'create', input.isAssignableToRole ? ROLE_ASSIGNABLE_GROUP : PLAIN_GROUP);
    const group: GroupTable = { id: crypto.randomUUID(), tenant_id: ctx.tenantId, display_name: input.displayName, description: input.description ?? null, is_assignable_to_role: input.isAssignableToRole ? 1 : 0, created_at: now, mail_nickname: input.mailNickname };
    await trx.insertInto('groups').values(group).execute();
    const members = [];
    for (const id of input.memberIds) {
      const u = await loadUser(trx, ctx.tenantId, id);
      await trx.insertInto('group_members').values({ group_id: group.id, user_id: u.id }).execute();
      members.push(u);
    }
    return {
      value: group,
      audit: [
        {
          activity: 'Add group',
          category: 'GroupManagement',
          service: 'Core Directory',
          operationType: 'Add',
          target: { id: group.id, name: group.display_name },
          modified: [
            { displayName: 'DisplayName', oldValue: null, newValue: group.display_name },
            { displayName: 'MailNickname', oldValue: null, newValue: group.mail_nickname },
            { displayName: 'IsAssignableToRole', oldValue: null, newValue: String(input.isAssignableToRole) },
          ],
        },
        ...members.map((u) => memberAudit(true, group, u)),
      ],
      event: { type: 'group.created', payload: { groupId: group.id, memberIds: members.map((u) => u.id) } },
    };
  });
}

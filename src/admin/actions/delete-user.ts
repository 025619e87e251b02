// Delete user: the user and everything it holds die (rule 1: the user no longer exists); the engine's
// rows are swept later.
import { type ActionContext, type ApplyResult, type Plan, type RightsRule, checkRights, commit, fingerprint, loadTarget, newPlan, preview } from '../action.js';
import type { Actor } from '../actor.js';
import { keepsGlobalAdmin } from '../global-admins.js';

export const RULE: RightsRule = {
  kind: 'sensitive',
  delegatedScopes: ['User.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'],
  appPermissions: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  appNeedsRole: true,
  what: 'delete the user',
};

export async function plan(ctx: ActionContext, actor: Actor, targetId: string): Promise<Plan<Record<string, never>>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  await keepsGlobalAdmin(ctx.db, ctx.tenantId, target.user.id, 'delete the user');
  const p = await preview(ctx, 'deleteUser', target, {}, { deletesUser: true, changes: [{ property: 'user', oldValue: target.user.upn, newValue: null }] });
  return newPlan({ action: 'deleteUser', actor, rule: RULE, targetId: target.user.id, input: {}, fingerprint: fingerprint(target), preview: p, patch: {}, deletesUser: true });
}

export function apply(ctx: ActionContext, plan: Plan): Promise<ApplyResult> {
  return commit(ctx, plan, {
    guard: (trx, target) => keepsGlobalAdmin(trx, ctx.tenantId, target.user.id, 'delete the user'),
    event: 'user.deleted',
    audit: () => ({ activity: 'Delete user', service: 'Core Directory', operationType: 'Delete' }),
    extra: async (trx) => {
      await trx.deleteFrom('signin_sessions').where('user_id', '=', plan.targetId).execute();
      await trx.deleteFrom('signin_lockouts').where('user_id', '=', plan.targetId).execute();
      await trx.deleteFrom('familiar_locations').where('user_id', '=', plan.targetId).execute();
    },
  });
}

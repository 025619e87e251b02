// Disable account: accountEnabled = false and the disabled-at stamp, so that everything issued before
// stays dead after Enable (spec §5, D6). Next sign-in is refused with AADSTS50057.
import { type ActionContext, type ApplyResult, type Plan, type RightsRule, NOW, checkRights, commit, fingerprint, loadTarget, newPlan, preview } from '../action.js';
import type { Actor } from '../actor.js';
import { keepsGlobalAdmin } from '../global-admins.js';

export const RULE: RightsRule = {
  kind: 'sensitive',
  delegatedScopes: ['User.EnableDisableAccount.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'],
  appPermissions: ['User.EnableDisableAccount.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  appNeedsRole: true,
  what: 'disable the account',
};

export async function plan(ctx: ActionContext, actor: Actor, targetId: string): Promise<Plan<Record<string, never>>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  await keepsGlobalAdmin(ctx.db, ctx.tenantId, target.user.id, 'disable the account');
  const patch = { account_enabled: 0, disabled_at: NOW };
  const warnings = target.user.account_enabled === 1 ? [] : ['The account is already disabled; applying moves the disabled-at stamp to now.'];
  const p = await preview(ctx, 'disableAccount', target, patch, { changes: [{ property: 'accountEnabled', oldValue: String(target.user.account_enabled === 1), newValue: 'false' }], warnings });
  return newPlan({ action: 'disableAccount', actor, rule: RULE, targetId: target.user.id, input: {}, fingerprint: fingerprint(target), preview: p, patch });
}

export function apply(ctx: ActionContext, plan: Plan): Promise<ApplyResult> {
  return commit(ctx, plan, {
    guard: (trx, target) => keepsGlobalAdmin(trx, ctx.tenantId, target.user.id, 'disable the account'),
    event: 'user.disabled',
    audit: (_now, before) => ({ activity: 'Disable account', service: 'Core Directory', operationType: 'Update', modified: [{ displayName: 'AccountEnabled', oldValue: String(before.account_enabled === 1), newValue: 'false' }] }),
  });
}

// Enable account: accountEnabled = true; the disabled-at stamp stays, so nothing issued before the
// disable comes back (spec §5, D6).
import { type ActionContext, type ApplyResult, type Plan, checkRights, commit, fingerprint, loadTarget, newPlan, preview } from '../action.js';
import type { Actor } from '../actor.js';
import { RULE as DISABLE_RULE } from './disable-account.js';

export const RULE = { ...DISABLE_RULE, what: 'enable the account' };

export async function plan(ctx: ActionContext, actor: Actor, targetId: string): Promise<Plan<Record<string, never>>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const patch = { account_enabled: 1 };
  const p = await preview(ctx, 'enableAccount', target, patch, {
    changes: [{ property: 'accountEnabled', oldValue: String(target.user.account_enabled === 1), newValue: 'true' }],
    warnings: target.user.disabled_at ? ['Sessions and refresh tokens issued before the account was disabled stay dead: the user signs in again.'] : [],
  });
  return newPlan({ action: 'enableAccount', actor, rule: RULE, targetId: target.user.id, input: {}, fingerprint: fingerprint(target), preview: p, patch });
}

export function apply(ctx: ActionContext, plan: Plan): Promise<ApplyResult> {
  return commit(ctx, plan, {
    event: 'user.enabled',
    audit: (_now, before) => ({ activity: 'Enable account', service: 'Core Directory', operationType: 'Update', modified: [{ displayName: 'AccountEnabled', oldValue: String(before.account_enabled === 1), newValue: 'true' }] }),
  });
}

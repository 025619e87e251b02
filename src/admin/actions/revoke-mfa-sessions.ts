// Revoke MFA sessions (spec §5; per-user MFA's "Revoke multifactor authentication sessions", which Graph
// lacks: D21): mfaRememberedValidFrom = now. Remembered-MFA device cookies from before it no longer count,
// and neither does the MFA recorded in refresh tokens issued before it (rule 6). Browser sessions stay
// signed in (spec §5 Decision) and refresh tokens stay valid for resources that do not need MFA.
import { type ActionContext, type ApplyResult, type Plan, NOW, checkRights, commit, fingerprint, loadTarget, newPlan, preview } from '../action.js';
import type { Actor } from '../actor.js';
import { METHODS_WRITE_RULE } from '../methods.js';

export const RULE = { ...METHODS_WRITE_RULE, what: 'revoke MFA sessions' };

export async function plan(ctx: ActionContext, actor: Actor, targetId: string): Promise<Plan<Record<string, never>>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const patch = { mfa_remembered_valid_from: NOW };
  const p = await preview(ctx, 'revokeMfaSessions', target, patch, {
    changes: [{ property: 'mfaRememberedValidFrom', oldValue: new Date(target.user.mfa_remembered_valid_from).toISOString(), newValue: '(the time of apply)' }],
    warnings: [
      'Browser sessions stay signed in, and their recorded MFA still counts.',
      'Refresh tokens stay valid, but their MFA no longer counts: a refresh for a resource that requires MFA is refused (AADSTS50076) until the user signs in again with MFA.',
      'Remembered-MFA devices are forgotten. To sign the user out everywhere, use Revoke sessions.',
    ],
  });
  return newPlan({ action: 'revokeMfaSessions', actor, rule: RULE, targetId: target.user.id, input: {}, fingerprint: fingerprint(target), preview: p, patch });
}

export function apply(ctx: ActionContext, plan: Plan): Promise<ApplyResult> {
  return commit(ctx, plan, {
    event: 'user.mfa_sessions.revoked',
    // Entra documents no audit activity for this button (entra-research §11): an "Update user" record
    // whose modified property names the stamp.
    audit: (now, before) => ({
      activity: 'Update user',
      service: 'Core Directory',
      operationType: 'Update',
      modified: [{ displayName: 'StrongAuthenticationRememberedMfaValidFrom', oldValue: new Date(before.mfa_remembered_valid_from).toISOString(), newValue: new Date(now).toISOString() }],
    }),
  });
}

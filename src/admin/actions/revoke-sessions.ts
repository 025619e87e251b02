// Revoke sessions (user overview; Graph revokeSignInSessions): signInSessionsValidFromDateTime = now and,
// following Entra's 2026 merge of the two buttons, mfaRememberedValidFrom = now (spec §5).
import { type ActionContext, type ApplyResult, type Plan, type RightsRule, NOW, checkRights, commit, fingerprint, loadTarget, newPlan, preview } from '../action.js';
import type { Actor } from '../actor.js';

export const RULE: RightsRule = {
  kind: 'password', // Entra: whoever may reset the password may invalidate refresh tokens
  delegatedScopes: ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'],
  appPermissions: ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  selfAllowed: true, // POST /me/revokeSignInSessions ("sign out everywhere")
  what: 'revoke sessions',
};

export async function plan(ctx: ActionContext, actor: Actor, targetId: string): Promise<Plan<Record<string, never>>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const patch = { sign_in_sessions_valid_from: NOW, mfa_remembered_valid_from: NOW };
  const p = await preview(ctx, 'revokeSessions', target, patch, {
    changes: [{ property: 'signInSessionsValidFromDateTime', oldValue: new Date(target.user.sign_in_sessions_valid_from).toISOString(), newValue: '(the time of apply)' }],
  });
  return newPlan({ action: 'revokeSessions', actor, rule: RULE, targetId: target.user.id, input: {}, fingerprint: fingerprint(target), preview: p, patch });
}

export function apply(ctx: ActionContext, plan: Plan): Promise<ApplyResult> {
  return commit(ctx, plan, {
    event: 'user.sessions.revoked',
    audit: (now, before) => ({
      activity: 'Update StsRefreshTokenValidFrom Timestamp',
      service: 'Core Directory',
      operationType: 'Update',
      modified: [{ displayName: 'StsRefreshTokensValidFrom', oldValue: new Date(before.sign_in_sessions_valid_from).toISOString(), newValue: new Date(now).toISOString() }],
    }),
  });
}

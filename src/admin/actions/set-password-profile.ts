// PATCH /users/{id} passwordProfile: a new password and/or the forced-change flags. A new password set by
// anyone but the user is an admin reset (D7: rule 4); only the flags change nothing else.
import { hashPassword } from '../../crypto/secrets.js';
import { checkNewPassword } from '../../signin/password-policy.js';
import { type ActionContext, type ApplyResult, type Plan, type RightsRule, type UserPatch, ActionError, NOW, checkRights, commit, fingerprint, loadTarget, newPlan, preview } from '../action.js';
import type { Actor } from '../actor.js';

export const RULE: RightsRule = {
  kind: 'sensitive',
  delegatedScopes: ['User.ReadWrite.All', 'User-PasswordProfile.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'],
  appPermissions: ['User.ReadWrite.All', 'User-PasswordProfile.ReadWrite.All', 'Directory.ReadWrite.All'],
  appNeedsRole: true, // D7: app-only password changes need a directory role covering the target
  what: 'change the password profile',
};

export interface PasswordProfileInput {
  password?: string;
  forceChangePasswordNextSignIn?: boolean;
  forceChangePasswordNextSignInWithMfa?: boolean;
}

export async function plan(ctx: ActionContext, actor: Actor, targetId: string, input: PasswordProfileInput): Promise<Plan<PasswordProfileInput>> {
  if (input.password === undefined && input.forceChangePasswordNextSignIn === undefined && input.forceChangePasswordNextSignInWithMfa === undefined) {
    throw new ActionError('invalid', 'passwordProfile must contain password, forceChangePasswordNextSignIn or forceChangePasswordNextSignInWithMfa.');
  }
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const patch: UserPatch = {};
  const changes = [];
  if (input.password !== undefined) {
    const problem = checkNewPassword(input.password, { minLength: ctx.config.passwordMinLength, userName: target.user.upn });
    if (problem) throw new ActionError('invalid', problem);
    Object.assign(patch, { password_hash: await hashPassword(input.password), last_password_change_at: NOW, admin_reset_at: NOW });
    changes.push({ property: 'passwordProfile.password', oldValue: null, newValue: '(set)' });
  }
  if (input.forceChangePasswordNextSignIn !== undefined) {
    patch.force_change_password = input.forceChangePasswordNextSignIn ? 1 : 0;
    changes.push({ property: 'passwordProfile.forceChangePasswordNextSignIn', oldValue: String(target.user.force_change_password === 1), newValue: String(input.forceChangePasswordNextSignIn) });
  }
  if (input.forceChangePasswordNextSignInWithMfa !== undefined) {
    patch.force_change_password_mfa = input.forceChangePasswordNextSignInWithMfa ? 1 : 0;
    changes.push({ property: 'passwordProfile.forceChangePasswordNextSignInWithMfa', oldValue: String(target.user.force_change_password_mfa === 1), newValue: String(input.forceChangePasswordNextSignInWithMfa) });
  }
  const p = await preview(ctx, 'setPasswordProfile', target, patch, { changes });
  // D21: the plan holds no secret: the new password is in the patch only as its argon2id hash
  const kept: PasswordProfileInput = { ...input };
  delete kept.password;
  return newPlan({ action: 'setPasswordProfile', actor, rule: RULE, targetId: target.user.id, input: kept, fingerprint: fingerprint(target), preview: p, patch });
}

export function apply(ctx: ActionContext, plan: Plan<PasswordProfileInput>): Promise<ApplyResult> {
  const setsPassword = plan.patch.password_hash !== undefined;
  return commit(ctx, plan, {
    event: setsPassword ? 'user.password.reset' : 'user.password_profile.updated',
    audit: () => ({
      activity: setsPassword ? 'Reset password' : 'Set force change user password',
      service: 'Core Directory',
      operationType: 'Update',
      modified: plan.preview.changes.map((c) => ({ displayName: c.property, oldValue: c.oldValue, newValue: c.newValue })),
    }),
  });
}

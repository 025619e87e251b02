// Reset password (by admin): a generated password shown once with a forced change (admin portal), or an
// admin-chosen one with an optional forced change (M365 admin center; Graph resetPassword newPassword).
// Password-based sessions die; every refresh token dies, including non-password-based and confidential
// clients' (spec §2 rule 4, §5). Graph resetPassword is delegated only (D7).
import crypto from 'node:crypto';
import { hashPassword } from '../../crypto/secrets.js';
import { checkNewPassword } from '../../signin/password-policy.js';
import { type ActionContext, type ApplyResult, type Plan, type RightsRule, type UserPatch, ActionError, NOW, checkRights, commit, fingerprint, loadTarget, newPlan, preview } from '../action.js';
import type { Actor } from '../actor.js';

export const RULE: RightsRule = {
  kind: 'password',
  delegatedScopes: ['UserAuthenticationMethod.ReadWrite.All', 'User.ReadWrite.All', 'User-PasswordProfile.ReadWrite.All', 'Directory.AccessAsUser.All'],
  appPermissions: [], // delegated only, as in Entra (D7): apps use setPasswordProfile
  what: 'reset the password',
};

export interface ResetPasswordInput {
  /** the admin's chosen password; absent: one is generated and shown once */
  newPassword?: string;
  /** forced change at next sign-in; default true for a generated password, false for a chosen one */
  forceChangePasswordNextSignIn?: boolean;
}

// no look-alikes (0/O, 1/l/I)
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

export function generatePassword(length = 16): string {
  for (;;) {
    const bytes = crypto.randomBytes(length);
    const pw = [...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join('');
    if (/[A-Z]/.test(pw) && /[a-z]/.test(pw) && /[2-9]/.test(pw)) return pw;
  }
}

/** What a reset plan keeps: no password. A generated one is made at apply; a chosen one is only in the patch, as its argon2id hash. */
export interface ResetPasswordPlanInput {
  generated: boolean;
  forceChangePasswordNextSignIn: boolean;
}

export async function plan(ctx: ActionContext, actor: Actor, targetId: string, input: ResetPasswordInput = {}): Promise<Plan<ResetPasswordPlanInput>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const generated = input.newPassword === undefined;
  if (input.newPassword !== undefined) {
    const problem = checkNewPassword(input.newPassword, { minLength: ctx.config.passwordMinLength, userName: target.user.upn });
    if (problem) throw new ActionError('invalid', problem);
  }
  const force = input.forceChangePasswordNextSignIn ?? generated;
  const patch: UserPatch = {
    ...(input.newPassword !== undefined ? { password_hash: await hashPassword(input.newPassword) } : {}),
    last_password_change_at: NOW,
    admin_reset_at: NOW,
    force_change_password: force ? 1 : 0,
  };
  // the preview shows the user as it will be: with a password, whichever kind
  const p = await preview(ctx, 'resetPassword', target, { ...patch, password_hash: patch.password_hash ?? '(generated at apply)' }, {
    changes: [
      { property: 'password', oldValue: target.user.password_hash ? '(set)' : '(none)', newValue: generated ? '(generated, shown once after apply)' : '(chosen by the admin)' },
      { property: 'lastPasswordChangeDateTime', oldValue: new Date(target.user.last_password_change_at).toISOString(), newValue: '(the time of apply)' },
      { property: 'passwordProfile.forceChangePasswordNextSignIn', oldValue: String(target.user.force_change_password === 1), newValue: String(force) },
    ],
    warnings: ['Authentication methods and remembered MFA are unchanged: reset or re-register them too if the account is compromised.'],
  });
  // D21: a plan holds no secret, so it may be kept (server-side plans) and shown (previews)
  return newPlan({ action: 'resetPassword', actor, rule: RULE, targetId: target.user.id, input: { generated, forceChangePasswordNextSignIn: force }, fingerprint: fingerprint(target), preview: p, patch });
}

export async function apply(ctx: ActionContext, plan: Plan<ResetPasswordPlanInput>): Promise<ApplyResult> {
  // a generated password is made now, hashed before the transaction, and returned once
  const secret = plan.input.generated ? generatePassword() : undefined;
  const written = secret === undefined ? plan : { ...plan, patch: { ...plan.patch, password_hash: await hashPassword(secret) } };
  const result = await commit(ctx, written, {
    event: 'user.password.reset',
    audit: () => ({
      activity: 'Reset password (by admin)',
      service: 'Self-service Password Management',
      operationType: 'Update',
      modified: [{ displayName: 'forceChangePasswordNextSignIn', oldValue: null, newValue: String(plan.patch.force_change_password === 1) }],
    }),
  });
  return secret === undefined ? { ...result, plan } : { ...result, plan, secret };
}

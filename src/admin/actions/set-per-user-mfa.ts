// Set per-user MFA state (spec §5; Graph beta PATCH …/authentication/requirements perUserMfaState):
// disabled / enabled / enforced. `enabled` becomes `enforced` when the user already has a registered MFA
// method (D18, as Entra documents); a TAP is temporary and does not count (spec §8). Enabling is a
// critical event: refresh tokens without MFA need MFA at their next use.
import { strategy } from '../../methods/index.js';
import { type ActionContext, type ApplyResult, type Plan, type RightsRule, ActionError, checkRights, commit, fingerprint, loadTarget, newPlan, preview } from '../action.js';
import type { Actor } from '../actor.js';

export const RULE: RightsRule = {
  kind: 'mfaState',
  delegatedScopes: ['Policy.ReadWrite.AuthenticationMethod', 'UserAuthenticationMethod.ReadWrite.All', 'Directory.AccessAsUser.All'],
  appPermissions: ['Policy.ReadWrite.AuthenticationMethod', 'UserAuthenticationMethod.ReadWrite.All'],
  what: 'change the per-user MFA state',
};

export const PER_USER_MFA_STATES = ['disabled', 'enabled', 'enforced'] as const;
export type PerUserMfaState = (typeof PER_USER_MFA_STATES)[number];

export interface SetPerUserMfaInput {
  state: PerUserMfaState;
}

export async function plan(ctx: ActionContext, actor: Actor, targetId: string, input: SetPerUserMfaInput): Promise<Plan<SetPerUserMfaInput>> {
  if (!PER_USER_MFA_STATES.includes(input.state)) throw new ActionError('invalid', `perUserMfaState must be one of ${PER_USER_MFA_STATES.join(', ')}.`);
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const rows = await ctx.db.selectFrom('auth_methods').select('type').where('user_id', '=', target.user.id).where('status', '=', 'active').execute();
  const registered = rows.some((r) => r.type !== 'temporaryAccessPass' && strategy(r.type)?.satisfiesMfa);
  const state: PerUserMfaState = input.state === 'enabled' && registered ? 'enforced' : input.state;
  const patch = { per_user_mfa_state: state };
  const warnings: string[] = [];
  if (state !== input.state) warnings.push('The user already has a registered MFA method: the state becomes enforced.');
  if (state !== 'disabled' && target.user.per_user_mfa_state === 'disabled') warnings.push('MFA is required at every sign-in from now on: refresh tokens issued without MFA need MFA at their next use.');
  if (state !== 'disabled' && !registered) warnings.push('The user has no MFA method: the next sign-in asks them to register one.');
  const p = await preview(ctx, 'setPerUserMfa', target, patch, { changes: [{ property: 'perUserMfaState', oldValue: target.user.per_user_mfa_state, newValue: state }], warnings });
  return newPlan({ action: 'setPerUserMfa', actor, rule: RULE, targetId: target.user.id, input: { state }, fingerprint: fingerprint(target), preview: p, patch });
}

export function apply(ctx: ActionContext, plan: Plan<SetPerUserMfaInput>): Promise<ApplyResult> {
  const on = plan.input.state !== 'disabled';
  return commit(ctx, plan, {
    event: 'user.mfa_state.updated',
    audit: (_now, before) => ({
      activity: on ? 'Enable Strong Authentication' : 'Disable Strong Authentication',
      service: 'Core Directory',
      operationType: 'Update',
      modified: [{ displayName: 'StrongAuthenticationRequirement', oldValue: before.per_user_mfa_state, newValue: plan.input.state }],
    }),
    extra: () => Promise.resolve({ state: plan.input.state }),
  });
}

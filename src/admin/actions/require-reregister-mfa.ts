// Require re-register MFA (spec §5; Entra's "Require re-register multifactor authentication" button, which
// Graph lacks: D21). Each method's strategy says what happens to it (`onRequireReregister`): phone,
// Authenticator and software OATH are deleted, hardware OATH deactivated, and the password, passkeys,
// Windows Hello, email and the TAP kept. Sessions, refresh tokens and remembered MFA are unchanged, an
// attacker's included: the preview says so and suggests Revoke sessions.
import { METHODS, strategy } from '../../methods/index.js';
import { PASSWORD_METHOD_ID } from '../../methods/password/index.js';
import type { MethodType, ReregisterEffect } from '../../methods/types.js';
import { type ActionContext, type ApplyResult, type Plan, ActionError, checkRights, commit, fingerprint, loadTarget, newPlan, preview } from '../action.js';
import type { Actor } from '../actor.js';
import { METHODS_WRITE_RULE, methodLabel, methodLine } from '../methods.js';

export const RULE = { ...METHODS_WRITE_RULE, what: 'require re-registration of MFA' };

export interface ReregisterPlanInput {
  /** the methods deleted at apply (ids and types, as listed in the preview) */
  deletes: { methodId: string; type: string }[];
}

const FATE: Record<ReregisterEffect, 'deleted' | 'deactivated' | 'kept'> = { delete: 'deleted', deactivate: 'deactivated', keep: 'kept' };

export async function plan(ctx: ActionContext, actor: Actor, targetId: string): Promise<Plan<ReregisterPlanInput>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const rows = await ctx.db.selectFrom('auth_methods').select(['id', 'type']).where('user_id', '=', target.user.id).where('status', '=', 'active').orderBy('created_at').execute();
  const fates = rows.map((r) => {
    const effect = strategy(r.type)?.onRequireReregister ?? 'keep';
    // No method deactivates yet; hardware OATH will, through its own strategy (spec §4: back to "assigned").
    if (effect === 'deactivate') throw new ActionError('invalid', `Deactivating a ${r.type} method is not supported yet.`);
    return { row: r, effect };
  });
  const deleted = fates.filter((f) => f.effect === 'delete').map((f) => f.row);
  const kept = fates.filter((f) => f.effect === 'keep').map((f) => f.row);
  const methods = [...(target.user.password_hash ? [methodLine({ id: PASSWORD_METHOD_ID, type: 'password' }, FATE[METHODS.password.onRequireReregister])] : []), ...fates.map((f) => methodLine(f.row, FATE[f.effect]))];

  const warnings = ['Browser sessions, refresh tokens and remembered MFA are unchanged, an attacker’s included: use Revoke sessions too if the account may be compromised.'];
  // a kept method that satisfies MFA on its own lets the user sign in without registering again
  const keptMfa = kept.filter((r) => strategy(r.type)?.satisfiesMfa);
  for (const r of keptMfa) {
    const type = r.type as MethodType;
    if (type === 'temporaryAccessPass') warnings.push(`The Temporary Access Pass ${r.id} is kept: while it is usable the user signs in with it; delete it if you did not issue it.`);
    else warnings.push(`${methodLabel(r)} is kept and satisfies MFA: the user signs in with it and is NOT sent to registration. Delete it too if it may be compromised, and hand over a Temporary Access Pass.`);
  }
  if (!deleted.length) warnings.push('The user has no method that this action deletes: applying changes nothing but the audit log.');
  const p = await preview(ctx, 'requireReregisterMfa', target, {}, {
    changes: deleted.map((r) => ({ property: `authentication/${strategy(r.type)?.collection ?? r.type}/${r.id}`, oldValue: methodLabel(r), newValue: null })),
    warnings,
  });
  p.methods = methods;
  const mfaLeft = keptMfa.some((r) => r.type !== 'temporaryAccessPass');
  p.nextSignIn = mfaLeft ? 'normal: a kept method satisfies MFA' : 'where MFA is required: the registration interrupt ("More information required") after the first factor';
  return newPlan({ action: 'requireReregisterMfa', actor, rule: RULE, targetId: target.user.id, input: { deletes: deleted.map((r) => ({ methodId: r.id, type: r.type })) }, fingerprint: fingerprint(target), preview: p, patch: {} });
}

export function apply(ctx: ActionContext, plan: Plan<ReregisterPlanInput>): Promise<ApplyResult> {
  const { deletes } = plan.input;
  return commit(ctx, plan, {
    event: 'user.method.deleted',
    // One record for the action, listing each deleted method as a modified property (spec §5: one audit
    // record per action), under the activity Entra logs for each method an admin deletes.
    audit: () => ({
      activity: 'Admin deleted security info',
      service: 'Authentication Methods',
      operationType: 'Delete',
      modified: deletes.map((d) => ({ displayName: 'StrongAuthenticationMethod', oldValue: methodLabel({ id: d.methodId, type: d.type }), newValue: null })),
    }),
    extra: async (trx) => {
      // the fingerprint (method ids) guarantees these are exactly the rows the preview listed
      if (deletes.length) await trx.deleteFrom('auth_methods').where('user_id', '=', plan.targetId).where('id', 'in', deletes.map((d) => d.methodId)).execute();
      return { methods: deletes };
    },
  });
}

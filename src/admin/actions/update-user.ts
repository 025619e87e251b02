// Update user (Graph PATCH /users/{id}, the ordinary properties): displayName, mail, userPrincipalName.
// Audited as `Update user`; the outbox gets `user.updated`. Rights: the "who may perform sensitive
// actions" matrix on the target for delegated callers (spec §10); app-only callers need, besides the
// permission, a directory role covering a target that holds any directory role (D24: an automation secret
// must not re-point an administrator's identity).
import { type ActionContext, type ApplyResult, type Plan, type RightsRule, type UserPatch, ActionError, checkRights, commit, fingerprint, loadTarget, newPlan, preview } from '../action.js';
import type { Actor } from '../actor.js';
import { WRITE_APP, WRITE_DELEGATED, checkNewUpn } from './create-user.js';

export const RULE: RightsRule = {
  kind: 'sensitive',
  delegatedScopes: WRITE_DELEGATED,
  appPermissions: WRITE_APP,
  selfAllowed: true,
  what: 'change properties',
};

/** Graph user properties D24 names that Latchkey does not store: authorized like the others, then refused. */
export const UNSTORED = ['otherMails', 'mobilePhone', 'businessPhones'] as const;

export interface UpdateUserInput {
  displayName?: string;
  mail?: string | null;
  userPrincipalName?: string;
  /** properties of UNSTORED that the request names */
  unstored?: string[];
}

export async function plan(ctx: ActionContext, actor: Actor, targetId: string, input: UpdateUserInput): Promise<Plan<UpdateUserInput>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  // D24: a privileged target is changed by app-only callers only with a covering directory role
  const rule = { ...RULE, appNeedsRole: target.roles.length > 0 };
  checkRights(actor, target, rule);
  if (input.unstored?.length) throw new ActionError('invalid', `Property '${input.unstored[0]}' is not supported by Latchkey and cannot be set.`);
  const u = target.user;
  const patch: UserPatch = {};
  const changes = [];
  if (input.displayName !== undefined && input.displayName !== u.display_name) {
    patch.display_name = input.displayName;
    changes.push({ property: 'DisplayName', oldValue: u.display_name, newValue: input.displayName });
  }
  if (input.mail !== undefined && input.mail !== u.mail) {
    patch.mail = input.mail;
    changes.push({ property: 'Mail', oldValue: u.mail, newValue: input.mail });
  }
  if (input.userPrincipalName !== undefined && input.userPrincipalName !== u.upn) {
    await checkNewUpn(ctx.db, ctx.tenantId, input.userPrincipalName, u.id);
    Object.assign(patch, { upn: input.userPrincipalName, upn_lower: input.userPrincipalName.toLowerCase() });
    changes.push({ property: 'UserPrincipalName', oldValue: u.upn, newValue: input.userPrincipalName });
  }
  const p = await preview(ctx, 'updateUser', target, patch, { changes });
  return newPlan({ action: 'updateUser', actor, rule, targetId: u.id, input, fingerprint: fingerprint(target), preview: p, patch });
}

export async function apply(ctx: ActionContext, plan: Plan<UpdateUserInput>): Promise<ApplyResult> {
  try {
    return await commit(ctx, plan, {
      event: 'user.updated',
      audit: () => ({ activity: 'Update user', service: 'Core Directory', operationType: 'Update', modified: plan.preview.changes.map((c) => ({ displayName: c.property, oldValue: c.oldValue, newValue: c.newValue })) }),
    });
  } catch (e) {
    // a concurrent rename to the same UPN lost the race on the unique index
    const upn = plan.input.userPrincipalName;
    if (upn && !(e instanceof ActionError) && (await ctx.db.selectFrom('users').select('id').where('tenant_id', '=', ctx.tenantId).where('upn_lower', '=', upn.toLowerCase()).where('id', '!=', plan.targetId).executeTakeFirst())) {
      throw new ActionError('duplicate', 'Another object with the same value for property userPrincipalName already exists.');
    }
    throw e;
  }
}

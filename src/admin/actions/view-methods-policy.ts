// View authentication methods policy (spec §5 row, §7): for one user, per method, whether the policy
// enables it for them and why not (disabled; not in an included group; excluded by group X — exclude wins).
// Read-only: plan() returns the view as its preview, apply() writes nothing. Who may: whoever reads the
// user's methods, and an Authentication Policy Administrator (roles.ts `methodsPolicyRead`); anyone may
// see their own.
import { ALL_USERS, CONFIG_IDS, CONFIG_NAMES, accessText, evaluate, groupsOf, readMethodsPolicy } from '../../methods/policy.js';
import { type ActionContext, type ApplyResult, type EffectiveMethod, type Plan, type Preview, type RightsRule, type Target, checkRights, fingerprint, loadTarget, newPlan } from '../action.js';
import type { Actor } from '../actor.js';
import { READ_APP, READ_DELEGATED } from './update-methods-policy.js';

export const RULE: RightsRule = {
  kind: 'methodsPolicyRead',
  delegatedScopes: [...READ_DELEGATED, 'UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'],
  appPermissions: [...READ_APP, 'UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'],
  selfAllowed: true,
  what: "view the authentication methods policy",
};

/** The user's effective policy, read now (not through the cache: an admin looks at what is stored). */
export async function effectivePolicy(ctx: ActionContext, target: Target): Promise<EffectiveMethod[]> {
  const [policy, groups] = await Promise.all([readMethodsPolicy(ctx.db, ctx.tenantId), groupsOf(ctx.db, target.user.id)]);
  const access = evaluate(policy.doc, groups);
  return [
    { method: 'Password', displayName: 'Password', enabled: true, reason: 'alwaysEnabled', reasonText: 'always enabled' },
    ...CONFIG_IDS.map((id) => {
      const a = access[id];
      return { method: id, displayName: CONFIG_NAMES[id], enabled: a.enabled, reason: a.reason, reasonText: accessText(a), ...(a.excludedBy ? { excludedBy: a.excludedBy } : {}), ...(a.includedBy && a.includedBy.id !== ALL_USERS ? { includedBy: a.includedBy } : {}) };
    }),
  ];
}

export async function view(ctx: ActionContext, actor: Actor, targetId: string): Promise<{ target: Preview['target']; value: EffectiveMethod[] }> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  return { target: { id: target.user.id, userPrincipalName: target.user.upn, displayName: target.user.display_name }, value: await effectivePolicy(ctx, target) };
}

export async function plan(ctx: ActionContext, actor: Actor, targetId: string): Promise<Plan<Record<string, never>>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const preview: Preview = {
    action: 'viewMethodsPolicy',
    target: { id: target.user.id, userPrincipalName: target.user.upn, displayName: target.user.display_name },
    changes: [],
    ending: [],
    surviving: [],
    accessTokensLiveUntil: [],
    nextSignIn: 'unchanged (a read)',
    warnings: [],
    methodsPolicy: await effectivePolicy(ctx, target),
  };
  return newPlan({ action: 'viewMethodsPolicy', actor, rule: RULE, targetId: target.user.id, input: {}, fingerprint: fingerprint(target), preview, patch: {} });
}

/** A read: nothing to write. */
export function apply(_ctx: ActionContext, plan: Plan<Record<string, never>>): Promise<ApplyResult> {
  return Promise.resolve({ plan, appliedAt: Date.now(), ended: [], endedCount: 0 });
}

// Plans kept server-side (spec D21, §5 "Preview"): a dry run stores its plan; apply loads exactly that
// plan, claims it (at most once, even under concurrency) and writes it in the same transaction, so a
// refused apply leaves the plan as it was. A plan holds no secret (see the reset-password action).
import type { ActionContext, Plan } from '../admin/action.js';
import { ActionError } from '../admin/action.js';
import type { Actor } from '../admin/actor.js';
import type { ApplyResult } from '../admin/action.js';
import type { RegisteredAction } from '../admin/registry.js';
import type { Db } from '../storage/db.js';
import type { AdminPlanTable } from '../storage/schema.js';

/** What the JSON column keeps: the plan without its id, actor and rule (columns, or the registry's). */
type Kept = Pick<Plan, 'input' | 'fingerprint' | 'madeAt' | 'preview' | 'patch' | 'deletesUser'>;

export async function savePlan(db: Db, tenantId: string, plan: Plan, ttlSeconds: number): Promise<AdminPlanTable> {
  const kept: Kept = { input: plan.input, fingerprint: plan.fingerprint, madeAt: plan.madeAt, preview: plan.preview, patch: plan.patch, deletesUser: plan.deletesUser };
  const row: AdminPlanTable = {
    id: plan.id,
    tenant_id: tenantId,
    action: plan.action,
    actor_kind: plan.actor.kind,
    actor_id: plan.actor.id,
    target_id: plan.targetId,
    plan: JSON.stringify(kept),
    created_at: plan.madeAt,
    expires_at: plan.madeAt + ttlSeconds * 1000,
    applied_at: null,
  };
  await db.insertInto('admin_plans').values(row).execute();
  return row;
}

export async function findPlan(db: Db, tenantId: string, id: string): Promise<AdminPlanTable | undefined> {
  return db.selectFrom('admin_plans').selectAll().where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
}

export function sameActor(row: AdminPlanTable, actor: Actor): boolean {
  return row.actor_kind === actor.kind && row.actor_id === actor.id;
}

/** The stored plan, acted by `actor` (the one who made it, with the rights its token holds now). */
export function planOf(row: AdminPlanTable, actor: Actor, action: RegisteredAction): Plan {
  const kept = JSON.parse(row.plan) as Kept;
  return { id: row.id, action: action.name, actor, rule: action.rule, targetId: row.target_id, ...kept };
}

/** Why this row cannot be applied now (expired, already applied), or undefined. */
export function unusable(row: AdminPlanTable, now: number): ActionError | undefined {
  if (row.applied_at !== null) return new ActionError('stale', `The plan was already applied at ${new Date(row.applied_at).toISOString()}; make a new preview.`);
  if (row.expires_at <= now) return new ActionError('stale', `The plan expired at ${new Date(row.expires_at).toISOString()}; make a new preview.`);
  return undefined;
}

/**
 * Applies a stored plan once: the claim (applied_at set where it is still null and the plan unexpired)
 * and the action's writes are one transaction, so two concurrent applies change the user once, and a
 * refused apply (stale, forbidden) leaves the plan unclaimed.
 */
export async function applyStoredPlan(ctx: ActionContext, row: AdminPlanTable, actor: Actor, action: RegisteredAction): Promise<ApplyResult> {
  const plan = planOf(row, actor, action);
  return ctx.db.transaction().execute(async (trx) => {
    const now = Date.now();
    const claimed = await trx.updateTable('admin_plans').set({ applied_at: now }).where('id', '=', row.id).where('applied_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) {
      const current = await trx.selectFrom('admin_plans').selectAll().where('id', '=', row.id).executeTakeFirst();
      throw (current && unusable(current, now)) ?? new ActionError('stale', 'The plan can no longer be applied; make a new preview.');
    }
    return action.apply({ ...ctx, db: trx }, plan);
  });
}

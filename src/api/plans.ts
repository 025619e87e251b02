// Plans kept server-side (spec D21, §5 "Preview"): a dry run stores its plan; apply loads exactly that
// plan, claims it (at most once, even under concurrency) and writes it in the same transaction, so a
// refused apply leaves the plan as it was. A plan holds no secret (see the reset-password action).
import type { ActionContext, CredentialLine, Plan } from '../admin/action.js';
import { ActionError, listedCounts } from '../admin/action.js';
import type { Actor } from '../admin/actor.js';
import type { ApplyResult } from '../admin/action.js';
import type { RegisteredAction } from '../admin/registry.js';
import type { Db } from '../storage/db.js';
import type { AdminPlanTable } from '../storage/schema.js';

/** What the JSON column keeps: the plan without its id, actor and rule (columns, or the registry's). */
type Kept = Pick<Plan, 'input' | 'fingerprint' | 'madeAt' | 'preview' | 'patch' | 'deletesUser' | 'listed'>;

/** A plan's whole lists, kept apart from it when longer than its first page. */
export interface PlanLines {
  ending: CredentialLine[];
  surviving: CredentialLine[];
}

/** The plan row: what apply reads and claims, of constant size whatever the user holds. */
export type PlanRow = AdminPlanTable;

/**
 * Keeps a plan. Its preview's lists are kept whole with it when they fit in `firstPage` lines; longer, the
 * plan keeps their first page and their lengths, and the whole lists go to a column only paging reads.
 */
export async function savePlan(db: Db, tenantId: string, plan: Plan, ttlSeconds: number, firstPage: number): Promise<PlanRow> {
  const { ending, surviving } = plan.preview;
  const long = ending.length > firstPage || surviving.length > firstPage;
  const kept: Kept = {
    input: plan.input,
    fingerprint: plan.fingerprint,
    madeAt: plan.madeAt,
    preview: long ? { ...plan.preview, ending: ending.slice(0, firstPage), surviving: surviving.slice(0, firstPage) } : plan.preview,
    patch: plan.patch,
    deletesUser: plan.deletesUser,
    ...(long ? { listed: listedCounts(plan) } : {}),
  };
  const row: PlanRow = {
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
  if (long) await db.insertInto('admin_plan_lines').values({ plan_id: row.id, lines: JSON.stringify({ ending, surviving } satisfies PlanLines) }).execute();
  return row;
}

const PLAN_COLUMNS = ['id', 'tenant_id', 'action', 'actor_kind', 'actor_id', 'target_id', 'plan', 'created_at', 'expires_at', 'applied_at'] as const;

export async function findPlan(db: Db, tenantId: string, id: string): Promise<PlanRow | undefined> {
  return db.selectFrom('admin_plans').select(PLAN_COLUMNS).where('id', '=', id).where('tenant_id', '=', tenantId).executeTakeFirst();
}

/** A plan's whole lists: from their own row when the plan keeps only their first page, else from the plan itself. */
export async function planLines(db: Db, plan: Plan): Promise<PlanLines> {
  if (!plan.listed) return { ending: plan.preview.ending, surviving: plan.preview.surviving };
  const row = await db.selectFrom('admin_plan_lines').select('lines').where('plan_id', '=', plan.id).executeTakeFirst();
  return row?.lines ? (JSON.parse(row.lines) as PlanLines) : { ending: plan.preview.ending, surviving: plan.preview.surviving };
}

export function sameActor(row: PlanRow, actor: Actor): boolean {
  return row.actor_kind === actor.kind && row.actor_id === actor.id;
}

/** The stored plan, acted by `actor` (the one who made it, with the rights its token holds now). */
export function planOf(row: PlanRow, actor: Actor, action: RegisteredAction): Plan {
  const kept = JSON.parse(row.plan) as Kept;
  return { id: row.id, action: action.name, actor, rule: action.rule, targetId: row.target_id, ...kept };
}

/** Why this row cannot be applied now (expired, already applied), or undefined. */
export function unusable(row: PlanRow, now: number): ActionError | undefined {
  if (row.applied_at !== null) return new ActionError('stale', `The plan was already applied at ${new Date(row.applied_at).toISOString()}; make a new preview.`);
  if (row.expires_at <= now) return new ActionError('stale', `The plan expired at ${new Date(row.expires_at).toISOString()}; make a new preview.`);
  return undefined;
}

/**
 * Applies a stored plan once: the claim (applied_at set where it is still null and the plan unexpired)
 * and the action's writes are one transaction, so two concurrent applies change the user once, and a
 * refused apply (stale, forbidden) leaves the plan unclaimed.
 */
export async function applyStoredPlan(ctx: ActionContext, row: PlanRow, actor: Actor, action: RegisteredAction): Promise<ApplyResult> {
  const plan = planOf(row, actor, action);
  return ctx.db.transaction().execute(async (trx) => {
    const now = Date.now();
    const claimed = await trx.updateTable('admin_plans').set({ applied_at: now }).where('id', '=', row.id).where('applied_at', 'is', null).where('expires_at', '>', now).executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) {
      const current = await trx.selectFrom('admin_plans').select(PLAN_COLUMNS).where('id', '=', row.id).executeTakeFirst();
      throw (current && unusable(current, now)) ?? new ActionError('stale', 'The plan can no longer be applied; make a new preview.');
    }
    return action.apply({ ...ctx, db: trx }, plan);
  });
}

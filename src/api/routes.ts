// /latchkey/v1 users and plans (spec D21): the actions a caller may do on a user, a dry run that keeps its
// plan server-side and returns the preview (its lists paged), apply of exactly that plan (412 when it is
// stale or expired), and plan-and-apply at once. Routes are thin: parse, authorize, call the registry.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ActionContext, ActionError, type ApplyResult, type CredentialLine, type Plan, listedCounts, loadTarget } from '../admin/action.js';
import type { Actor } from '../admin/actor.js';
import * as viewMethodsPolicy from '../admin/actions/view-methods-policy.js';
import { ACTIONS, type RegisteredAction, findAction, refusal } from '../admin/registry.js';
import { authenticate } from '../graph/auth.js';
import { GraphError } from '../graph/errors.js';
import type { GraphDeps } from '../graph/index.js';
import { decodeSkipToken, encodeSkipToken, parseTop } from '../graph/odata.js';
import { applyStoredPlan, findPlan, planLines, planOf, sameActor, savePlan } from './plans.js';

export const API_PREFIX = '/latchkey/v1';
const DEFAULT_TOP = 50;
const MAX_TOP = 500;

type Handler = (req: FastifyRequest, reply: FastifyReply, actor: Actor) => Promise<unknown>;

const iso = (ms: number) => new Date(ms).toISOString();

/** A JSON object body (an absent body is an empty object when `emptyOk`). */
export function objectBody(req: FastifyRequest, emptyOk = false): Record<string, unknown> {
  const b = req.body;
  if (emptyOk && (b === undefined || b === '')) return {};
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new GraphError(400, 'BadRequest', 'The request body must be a JSON object.');
  return b as Record<string, unknown>;
}

/** Refuses query options this route does not know (a typo must not be silently ignored). */
export function checkQuery(req: FastifyRequest, allowed: readonly string[]): Record<string, string> {
  const q = req.query as Record<string, unknown>;
  for (const [k, v] of Object.entries(q)) {
    if (!allowed.includes(k)) throw new GraphError(400, 'BadRequest', `Query option '${k}' is not supported here${allowed.length ? ` (supported: ${allowed.join(', ')})` : ''}.`);
    if (typeof v !== 'string') throw new GraphError(400, 'BadRequest', `Query option '${k}' may be given once.`);
  }
  return q as Record<string, string>;
}

/** The refusal `check` gives the actor (its message and the missing right), or undefined when it passes. */
export function refusalOf(check: (actor: Actor) => void, actor: Actor): { reason: string; missingRight?: string } | undefined {
  try {
    check(actor);
    return undefined;
  } catch (e) {
    if (e instanceof ActionError) return { reason: e.message, ...(e.missingRight ? { missingRight: e.missingRight } : {}) };
    if (e instanceof GraphError) return { reason: e.message };
    throw e;
  }
}

/** Writes a caller may ask for, each judged by the check the write itself makes first (`.../actions` routes). */
export function judged(actions: readonly { name: string; summary: string; check: (actor: Actor) => void }[], actor: Actor) {
  return actions.map(({ name, summary, check }) => {
    const why = refusalOf(check, actor);
    return { name, summary, allowed: !why, ...(why ?? {}) };
  });
}

function idParam(value: string | undefined, what: string): string {
  if (!value || value.length > 256 || value.includes('\0')) throw new GraphError(400, 'BadRequest', `Invalid ${what}.`);
  return value;
}

type ListName = 'ending' | 'surviving';

export function registerApiRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  // previews list refresh-token grants too (lean: false): the caller asked to see them
  const ctx: ActionContext = { db, secrets: deps.secrets, tenantId: tenant.id, config: deps.config };
  const base = `${deps.origin}${API_PREFIX}`;

  const guarded = (handler: Handler) => async (req: FastifyRequest, reply: FastifyReply) => handler(req, reply, await authenticate(req, db, deps.verify));

  /** One page of a plan's list, with the link to the next. */
  /** One page of a plan's list (`all` holds at least its lines up to offset + top), with the link to the next. */
  const listPage = (planId: string, name: ListName, all: CredentialLine[], top: number, offset: number, count: number) => {
    const value = all.slice(offset, offset + top);
    const next = offset + top < count ? `${base}/plans/${planId}/${name}?$top=${top}&$skiptoken=${encodeSkipToken({ o: offset + top })}` : undefined;
    return { value, next };
  };

  /** A plan as the API shows it: its lists' first `top` lines (read whole only when the plan keeps fewer). */
  const planView = async (plan: Plan, expiresAt: number, top: number, appliedAt: number | null) => {
    const counts = listedCounts(plan);
    const { ending, surviving, ...rest } = plan.preview.ending.length >= Math.min(top, counts.ending) && plan.preview.surviving.length >= Math.min(top, counts.surviving) ? plan.preview : { ...plan.preview, ...(await planLines(db, plan)) };
    const e = listPage(plan.id, 'ending', ending, top, 0, counts.ending);
    const s = listPage(plan.id, 'surviving', surviving, top, 0, counts.surviving);
    return {
      planId: plan.id,
      action: plan.action,
      createdDateTime: iso(plan.madeAt),
      expiresDateTime: iso(expiresAt),
      appliedDateTime: appliedAt === null ? null : iso(appliedAt),
      preview: {
        ...rest,
        endingCount: counts.ending,
        ending: e.value,
        ...(e.next ? { 'ending@odata.nextLink': e.next } : {}),
        survivingCount: counts.surviving,
        surviving: s.value,
        ...(s.next ? { 'surviving@odata.nextLink': s.next } : {}),
      },
    };
  };

  const resultView = (action: RegisteredAction, result: ApplyResult) => ({
    planId: result.plan.id,
    action: result.plan.action,
    target: result.plan.preview.target,
    appliedDateTime: iso(result.appliedAt),
    changes: result.plan.preview.changes,
    endedCount: result.endedCount,
    ended: result.ended,
    // a plan kept with only the first page of its lists: the rest of what ended is the rest of its ending list
    ...(result.plan.listed && result.endedCount > result.ended.length
      ? { 'ended@odata.nextLink': `${base}/plans/${result.plan.id}/ending?$skiptoken=${encodeSkipToken({ o: result.plan.preview.ending.length })}` }
      : {}),
    // a value made at apply (a generated password): returned once, here, and kept nowhere
    ...(result.secret !== undefined ? { [action.secret.property]: result.secret } : {}),
  });

  // --- what the caller may do on this user ---
  scope.get('/users/:id/actions', guarded(async (req, reply, actor) => {
    checkQuery(req, []);
    const target = await loadTarget(db, tenant.id, idParam((req.params as { id?: string }).id, 'user id'));
    const value = [];
    for (const action of Object.values(ACTIONS)) {
      const why = await refusal(ctx, actor, target, action);
      value.push({
        name: action.name,
        summary: action.summary,
        destructive: action.destructive,
        input: action.input,
        allowed: !why,
        ...(why ? { reason: why.message, ...(why.missingRight ? { missingRight: why.missingRight } : {}) } : {}),
      });
    }
    return reply.send({ target: { id: target.user.id, userPrincipalName: target.user.upn, displayName: target.user.display_name }, value });
  }));

  // --- View authentication methods policy (a read: spec §5, §7) ---
  scope.get('/users/:id/methodsPolicy', guarded(async (req, reply, actor) => {
    checkQuery(req, []);
    return reply.send(await viewMethodsPolicy.view(ctx, actor, idParam((req.params as { id?: string }).id, 'user id')));
  }));

  // --- dry run (plan kept) or plan-and-apply ---
  scope.post('/users/:id/actions/:action', guarded(async (req, reply, actor) => {
    const q = checkQuery(req, ['$top']);
    const top = q.$top !== undefined ? parseTop(q.$top, MAX_TOP) : DEFAULT_TOP;
    const params = req.params as { id?: string; action?: string };
    const action = findAction(params.action ?? '');
    if (!action) throw new GraphError(404, 'ResourceNotFound', `Action '${String(params.action).slice(0, 64)}' does not exist. Actions: ${Object.keys(ACTIONS).join(', ')}.`);
    const id = idParam(params.id, 'user id');
    if (action.readOnly) throw new GraphError(400, 'BadRequest', `Action '${action.name}' is a read with nothing to apply: GET ${API_PREFIX}/users/{id}/methodsPolicy.`);
    const { dryRun, ...rest } = objectBody(req);
    if (typeof dryRun !== 'boolean') throw new GraphError(400, 'BadRequest', "Property 'dryRun' is required and must be a boolean: true returns the preview and a plan to apply, false applies at once.");
    const input = action.parseInput(rest);
    const plan = await action.plan(ctx, actor, id, input);
    if (dryRun) {
      const row = await savePlan(db, tenant.id, plan, deps.config.adminPlanTtl, top);
      return reply.header('location', `${base}/plans/${plan.id}`).send(await planView(plan, row.expires_at, top, null));
    }
    return reply.send(resultView(action, await action.apply(ctx, plan)));
  }));

  // --- a plan: read it, page its lists, apply it ---
  const ownPlan = async (req: FastifyRequest, actor: Actor) => {
    const planId = idParam((req.params as { planId?: string }).planId, 'plan id');
    const row = await findPlan(db, tenant.id, planId);
    if (!row) throw new GraphError(404, 'Request_ResourceNotFound', `Plan '${planId.slice(0, 64)}' does not exist (plans are deleted some time after they expire).`);
    if (!sameActor(row, actor)) throw new GraphError(403, 'Authorization_RequestDenied', 'Only the caller who made a plan may read or apply it.');
    const action = findAction(row.action);
    if (!action) throw new GraphError(404, 'Request_ResourceNotFound', `Plan '${planId}' is for action '${row.action}', which this server does not know.`);
    return { row, action, plan: planOf(row, actor, action) };
  };

  scope.get('/plans/:planId', guarded(async (req, reply, actor) => {
    const q = checkQuery(req, ['$top']);
    const { row, plan } = await ownPlan(req, actor);
    return reply.send(await planView(plan, row.expires_at, q.$top !== undefined ? parseTop(q.$top, MAX_TOP) : DEFAULT_TOP, row.applied_at));
  }));

  for (const name of ['ending', 'surviving'] as const) {
    scope.get(`/plans/:planId/${name}`, guarded(async (req, reply, actor) => {
      const q = checkQuery(req, ['$top', '$skiptoken']);
      const { plan } = await ownPlan(req, actor);
      const top = q.$top !== undefined ? parseTop(q.$top, MAX_TOP) : DEFAULT_TOP;
      let offset = 0;
      if (q.$skiptoken !== undefined) {
        const o = decodeSkipToken(q.$skiptoken).o;
        if (typeof o !== 'number' || !Number.isInteger(o) || o < 0) throw new GraphError(400, 'BadRequest', 'The $skiptoken is not valid.');
        offset = o;
      }
      const counts = listedCounts(plan);
      const count = name === 'ending' ? counts.ending : counts.surviving;
      const lines = offset + top <= plan.preview[name].length || plan.preview[name].length >= count ? plan.preview[name] : (await planLines(db, plan))[name];
      const page = listPage(plan.id, name, lines, top, offset, count);
      return reply.send({ value: page.value, ...(page.next ? { '@odata.nextLink': page.next } : {}) });
    }));
  }

  scope.post('/plans/:planId/apply', guarded(async (req, reply, actor) => {
    checkQuery(req, []);
    // apply takes no input: exactly the plan is applied (an empty object is tolerated)
    if (Object.keys(objectBody(req, true)).length) throw new GraphError(400, 'BadRequest', 'Apply takes no input: it applies exactly the plan. Make a new dry run to change the input.');
    const { row, action } = await ownPlan(req, actor);
    try {
      return reply.send(resultView(action, await applyStoredPlan(ctx, row, actor, action)));
    } catch (e) {
      if (e instanceof ActionError && e.code === 'not_found') throw new ActionError('stale', e.message);
      throw e;
    }
  }));
}

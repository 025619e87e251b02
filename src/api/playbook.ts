// /latchkey/v1 routes of the compromised-account playbook (spec §5, D21): a dry run previewing every chosen
// step as one plan; apply, which starts a run and applies it step by step; the run's progress; resume
// (also: applying again with the same runId); the report as JSON, text or HTML. The TAP appears once, in
// the result of the step that made it, in the answer of the call that applied that step.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ActionContext, ActionError } from '../admin/action.js';
import type { Actor } from '../admin/actor.js';
import { type ApplyRunResult, applyRun, findRun, parsePlaybookInput, previewPlaybook, runView, sameRunActor, startRun } from '../admin/playbook.js';
import { buildReport, reportHtml, reportText } from '../admin/playbook-report.js';
import { authenticate } from '../graph/auth.js';
import { GraphError } from '../graph/errors.js';
import type { GraphDeps } from '../graph/index.js';
import { API_PREFIX, checkQuery, objectBody } from './routes.js';

const RUN_ID = /^[A-Za-z0-9-]{8,64}$/;

export function registerPlaybookRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const ctx: ActionContext = { db, secrets: deps.secrets, tenantId: tenant.id, config: deps.config };
  const guarded = (handler: (req: FastifyRequest, reply: FastifyReply, actor: Actor) => Promise<unknown>) => async (req: FastifyRequest, reply: FastifyReply) => handler(req, reply, await authenticate(req, db, deps.verify));
  const runUrl = (id: string) => `${deps.origin}${API_PREFIX}/playbook-runs/${id}`;

  const applied = (reply: FastifyReply, out: ApplyRunResult) => {
    const view = runView(out.row);
    const results = view.results.map((r) => (r.step === 'createTap' && out.temporaryAccessPass !== undefined ? { ...r, temporaryAccessPass: out.temporaryAccessPass } : r));
    return reply.header('location', runUrl(out.row.id)).send({ ...view, results });
  };

  const ownRun = async (req: FastifyRequest, actor: Actor) => {
    const runId = (req.params as { runId?: string }).runId ?? '';
    const row = await findRun(ctx, runId);
    if (!row) throw new GraphError(404, 'Request_ResourceNotFound', `Playbook run '${runId.slice(0, 64)}' does not exist.`);
    if (!sameRunActor(row, actor)) throw new GraphError(403, 'Authorization_RequestDenied', 'Only the caller who started a playbook run may read or resume it.');
    return row;
  };

  scope.post('/users/:id/playbook', guarded(async (req, reply, actor) => {
    checkQuery(req, []);
    const id = (req.params as { id?: string }).id ?? '';
    if (!id || id.length > 256 || id.includes('\0')) throw new GraphError(400, 'BadRequest', 'Invalid user id.');
    const { dryRun, runId, ...rest } = objectBody(req);
    if (typeof dryRun !== 'boolean') throw new GraphError(400, 'BadRequest', "Property 'dryRun' is required and must be a boolean: true previews every chosen step, false starts the run and applies it.");
    if (runId !== undefined && (typeof runId !== 'string' || !RUN_ID.test(runId))) throw new ActionError('invalid', "Property 'runId' must be 8 to 64 letters, digits or hyphens (a GUID).");
    if (dryRun && runId !== undefined) throw new ActionError('invalid', "Property 'runId' is for applying: a dry run starts no run.");
    const input = parsePlaybookInput(rest);
    if (dryRun) return reply.send({ dryRun: true, ...(await previewPlaybook(ctx, actor, id, input)) });
    // the same run id again resumes that run, which must be this user's (startRun checks)
    const started = await startRun(ctx, actor, id, input, runId);
    return applied(reply, await applyRun(ctx, actor, started.row.id));
  }));

  scope.get('/playbook-runs/:runId', guarded(async (req, reply, actor) => {
    checkQuery(req, []);
    return reply.send(runView(await ownRun(req, actor)));
  }));

  scope.post('/playbook-runs/:runId/resume', guarded(async (req, reply, actor) => {
    checkQuery(req, []);
    if (Object.keys(objectBody(req, true)).length) throw new GraphError(400, 'BadRequest', 'Resume takes no input: it applies the steps the run has left.');
    const row = await ownRun(req, actor);
    return applied(reply, await applyRun(ctx, actor, row.id));
  }));

  scope.get('/playbook-runs/:runId/report', guarded(async (req, reply, actor) => {
    const q = checkQuery(req, ['format']);
    const format = q.format ?? 'json';
    if (!['json', 'text', 'html'].includes(format)) throw new GraphError(400, 'BadRequest', "Query option 'format' must be json, text or html.");
    const report = await buildReport(ctx, await ownRun(req, actor));
    if (format === 'text') return reply.header('content-type', 'text/plain; charset=utf-8').send(reportText(report));
    if (format === 'html') return reply.header('content-type', 'text/html; charset=utf-8').header('x-content-type-options', 'nosniff').send(reportHtml(report));
    return reply.send(report);
  }));
}

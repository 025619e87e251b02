// The account-compromise recovery, "the playbook" (spec §5): in order, (1) disable the account (optional),
// (2) require re-register MFA and delete the methods the attacker added (passkeys included when chosen),
// (3) reset the password if the user has one, (4) revoke sessions, (5) revoke MFA sessions, (6) make the
// registration policy require MFA or a TAP for security info, (7) issue a TAP to hand over out of band,
// (8) enable the account. Each step is the existing admin actions' plan() and apply(), audited as they
// are. A dry run previews all chosen steps as one plan; applying makes a **run** (a `playbook_runs` row)
// and applies it step by step, each step in one transaction with the run's progress, so a run stopped
// between two steps (a crash) resumes where it stopped and a finished run applied again changes nothing.
// The TAP is returned once, to the caller whose apply made it; no run row or report holds it.
import crypto from 'node:crypto';
import { tenantSettings, writeTenantSettings } from '../directory/settings.js';
import { writeAudit } from '../events/audit.js';
import { enqueue } from '../events/outbox.js';
import type { PlaybookRunTable } from '../storage/schema.js';
import { type ActionContext, type ActionErrorCode, type CredentialLine, type Preview, type RightsRule, ActionError, checkRights, loadTarget } from './action.js';
import type { Actor } from './actor.js';
import { RULE as REVOKE_RULE } from './actions/revoke-sessions.js';
import { STEPS, type StepName, playbookWarnings, stepTexts } from './playbook-texts.js';
import { ACTIONS } from './registry.js';
import { ROLES } from './roles.js';

export { STEPS, type StepName };

export const STEP_TITLES: Record<StepName, string> = {
  disableAccount: 'Disable the account',
  requireReregisterMfa: 'Require re-register MFA and delete the methods the attacker added',
  resetPassword: 'Reset the password (a random one nobody is shown)',
  revokeSessions: 'Revoke sessions',
  revokeMfaSessions: 'Revoke MFA sessions',
  registrationPolicy: 'Require MFA or a Temporary Access Pass to register security info',
  createTap: 'Issue a Temporary Access Pass to hand over out of band',
  enableAccount: 'Enable the account',
};

/** The playbook as a whole: the rights of Revoke sessions, never on oneself. */
export const RULE: RightsRule = { ...REVOKE_RULE, selfAllowed: false, what: 'run the compromised-account playbook' };

/** Who may change the tenant's registration policy (as PATCH /latchkey/v1/tenant/settings). */
const POLICY_ROLES: readonly string[] = [ROLES.globalAdmin, ROLES.authPolicyAdmin];
const POLICY_SCOPES: readonly string[] = ['Policy.ReadWrite.AuthenticationMethod', 'Directory.AccessAsUser.All'];

export interface PlaybookInput {
  steps: StepName[];
  /** step 2: methods to delete beyond what re-register deletes (a passkey the attacker added) */
  deleteMethodIds: string[];
  /** step 7 */
  tapLifetimeInMinutes?: number;
  tapIsUsableOnce?: boolean;
}

export interface StepPreview {
  step: StepName;
  number: number;
  title: string;
  allowed: boolean;
  reason?: string;
  /** why it may not be applied: a missing right (forbidden), or the input (not_found, invalid) */
  refusal?: ActionErrorCode;
  skipped?: string;
  changes: Preview['changes'];
  endingCount: number;
  methods?: Preview['methods'];
  warnings: string[];
}

export interface PlaybookPreview {
  target: Preview['target'];
  steps: StepPreview[];
  /** what ends now (every step's, once) */
  ending: CredentialLine[];
  /** what survives every step */
  surviving: CredentialLine[];
  accessTokensLiveUntil: Preview['accessTokensLiveUntil'];
  nextSignIn: string;
  warnings: string[];
}

export interface StepResult {
  step: StepName;
  number: number;
  title: string;
  status: 'done' | 'skipped';
  note?: string;
  appliedDateTime: string;
  changes: Preview['changes'];
  ended: CredentialLine[];
  accessTokensLiveUntil: Preview['accessTokensLiveUntil'];
}

const iso = (ms: number) => new Date(ms).toISOString();
const numberOf = (s: StepName) => STEPS.indexOf(s) + 1;

/** Checks a request body's playbook input: known steps, once each, put in the spec's order. */
export function parsePlaybookInput(body: Readonly<Record<string, unknown>>): PlaybookInput {
  const known = ['steps', 'deleteMethodIds', 'tapLifetimeInMinutes', 'tapIsUsableOnce'];
  for (const k of Object.keys(body)) if (!known.includes(k)) throw new ActionError('invalid', `Property '${k}' is not an input of the playbook (known: ${known.join(', ')}).`);
  const steps = body.steps ?? [...STEPS];
  if (!Array.isArray(steps) || !steps.length || steps.some((s) => typeof s !== 'string')) throw new ActionError('invalid', `Property 'steps' must be a non-empty array of step names (${STEPS.join(', ')}).`);
  for (const s of steps as string[]) if (!(STEPS as readonly string[]).includes(s)) throw new ActionError('invalid', `Step '${s.slice(0, 64)}' is not a playbook step (steps: ${STEPS.join(', ')}).`);
  if (new Set(steps).size !== steps.length) throw new ActionError('invalid', "Property 'steps' names a step twice.");
  const ids = body.deleteMethodIds ?? [];
  if (!Array.isArray(ids) || ids.length > 50 || ids.some((i) => typeof i !== 'string' || !i || i.length > 256 || i.includes('\0'))) throw new ActionError('invalid', "Property 'deleteMethodIds' must be an array of at most 50 method ids.");
  if (ids.length && !steps.includes('requireReregisterMfa')) throw new ActionError('invalid', "Property 'deleteMethodIds' needs the step 'requireReregisterMfa'.");
  const life = body.tapLifetimeInMinutes;
  if (life !== undefined && !(typeof life === 'number' && Number.isInteger(life) && life >= 10 && life <= 43_200)) throw new ActionError('invalid', "Property 'tapLifetimeInMinutes' must be a whole number between 10 and 43200.");
  const once = body.tapIsUsableOnce;
  if (once !== undefined && typeof once !== 'boolean') throw new ActionError('invalid', "Property 'tapIsUsableOnce' must be a boolean.");
  if ((life !== undefined || once !== undefined) && !steps.includes('createTap')) throw new ActionError('invalid', "The TAP's lifetime and one-time use need the step 'createTap'.");
  return {
    steps: STEPS.filter((s) => (steps as string[]).includes(s)),
    deleteMethodIds: [...new Set(ids as string[])],
    ...(life !== undefined ? { tapLifetimeInMinutes: life } : {}),
    ...(once !== undefined ? { tapIsUsableOnce: once } : {}),
  };
}

function policyRefusal(actor: Actor): string | undefined {
  if (actor.kind === 'system') return undefined;
  if (actor.kind === 'user' && !actor.scopes.some((s) => POLICY_SCOPES.includes(s))) return `Insufficient privileges to change the registration policy: the token needs one of the delegated permissions ${POLICY_SCOPES.join(', ')}.`;
  if (actor.kind === 'app' && !actor.permissions.includes('Policy.ReadWrite.AuthenticationMethod')) return 'Insufficient privileges to change the registration policy: the app needs the application permission Policy.ReadWrite.AuthenticationMethod.';
  if (actor.kind === 'user' && !actor.roles.some((r) => POLICY_ROLES.includes(r))) return `Insufficient privileges to change the registration policy: a directory role among ${POLICY_ROLES.join(', ')} is required.`;
  return undefined;
}

/** The plans of one step (step 2 is re-register plus one delete per chosen method), or why it is skipped. */
async function stepPlans(ctx: ActionContext, actor: Actor, targetId: string, step: StepName, input: PlaybookInput) {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  switch (step) {
    case 'requireReregisterMfa': {
      const plans = [await ACTIONS.requireReregisterMfa!.plan(ctx, actor, targetId, {})];
      const deleted = new Set(plans[0]!.preview.methods?.filter((m) => m.fate === 'deleted').map((m) => m.id));
      for (const methodId of input.deleteMethodIds) if (!deleted.has(methodId)) plans.push(await ACTIONS.deleteMethod!.plan(ctx, actor, targetId, { methodId }));
      return { plans };
    }
    case 'resetPassword':
      if (!target.user.password_hash) return { plans: [], skipped: 'the user has no password' };
      // generated and never shown: the attacker's password stops working, the user signs in with the TAP
      // (a forced change would ask that password, which nobody knows)
      return { plans: [await ACTIONS.resetPassword!.plan(ctx, actor, targetId, { forceChangePasswordNextSignIn: false })] };
    case 'registrationPolicy': {
      const refused = policyRefusal(actor);
      if (refused) throw new ActionError('forbidden', refused, POLICY_ROLES.join(' or '));
      const settings = await tenantSettings(ctx.db, ctx.tenantId);
      return { plans: [], skipped: settings.registration_policy === 'mfaOrTap' ? 'security info registration already needs MFA or a Temporary Access Pass' : undefined, policy: settings.registration_policy };
    }
    case 'createTap':
      return { plans: [await ACTIONS.createTap!.plan(ctx, actor, targetId, { ...(input.tapLifetimeInMinutes !== undefined ? { lifetimeInMinutes: input.tapLifetimeInMinutes } : {}), ...(input.tapIsUsableOnce !== undefined ? { isUsableOnce: input.tapIsUsableOnce } : {}) })] };
    default:
      return { plans: [await ACTIONS[step]!.plan(ctx, actor, targetId, {})] };
  }
}

/** The dry run: every chosen step's preview against the user as they are now, and the whole as one plan. */
export async function previewPlaybook(ctx: ActionContext, actor: Actor, targetId: string, input: PlaybookInput): Promise<PlaybookPreview> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const steps: StepPreview[] = [];
  const ending = new Map<string, CredentialLine>();
  const live = new Map<string, number>();
  let all: CredentialLine[] = [];
  const warnings: string[] = [];
  const gone = new Set<string>(); // methods deleted by an earlier step
  for (const step of input.steps) {
    const base = { step, number: numberOf(step), title: STEP_TITLES[step] };
    try {
      const r = await stepPlans(ctx, actor, target.user.id, step, input);
      const previews = r.plans.map((p) => p.preview);
      for (const p of previews) {
        for (const l of p.ending) ending.set(`${l.kind}:${l.id}`, l);
        for (const a of p.accessTokensLiveUntil) live.set(a.app, Math.max(live.get(a.app) ?? 0, Date.parse(a.until)));
        if (!all.length) all = [...p.ending, ...p.surviving];
      }
      // the actions' texts as true inside the playbook (the password shown to nobody, the other steps chosen)
      const texts = stepTexts(step, previews, input.steps, gone);
      for (const m of texts.methods ?? []) if (m.fate === 'deleted') gone.add(m.id);
      const changes = step === 'registrationPolicy' && !r.skipped ? [{ property: 'registrationPolicy', oldValue: r.policy ?? null, newValue: 'mfaOrTap' }] : texts.changes;
      steps.push({ ...base, allowed: true, ...(r.skipped ? { skipped: r.skipped } : {}), changes, endingCount: previews.reduce((n, p) => n + p.ending.length, 0), ...(texts.methods ? { methods: texts.methods } : {}), warnings: texts.warnings });
    } catch (e) {
      if (!(e instanceof ActionError)) throw e;
      steps.push({ ...base, allowed: false, reason: e.message, refusal: e.code, changes: [], endingCount: 0, warnings: [] });
      warnings.push(`Step ${base.number} (${step}) cannot be applied: ${e.message}`);
    }
  }
  warnings.push(...playbookWarnings(input.steps));
  const nextSignIn = input.steps.includes('createTap')
    ? `with the Temporary Access Pass of step 7 (shown once when that step is applied)${input.steps.includes('disableAccount') && !input.steps.includes('enableAccount') ? ', once the account is enabled' : ''}; then the user registers new methods at My Security Info`
    : 'as the remaining methods allow';
  return {
    target: { id: target.user.id, userPrincipalName: target.user.upn, displayName: target.user.display_name },
    steps,
    ending: [...ending.values()],
    surviving: all.filter((l) => !ending.has(`${l.kind}:${l.id}`)),
    accessTokensLiveUntil: [...live].map(([app, until]) => ({ app, until: iso(until) })),
    nextSignIn,
    warnings,
  };
}

// ---- runs ------------------------------------------------------------------------------------------

export interface RunView {
  runId: string;
  target: { id: string };
  status: PlaybookRunTable['status'];
  steps: StepName[];
  nextStep: StepName | null;
  error: string | null;
  createdDateTime: string;
  lastModifiedDateTime: string;
  completedDateTime: string | null;
  results: StepResult[];
}

export function runView(row: PlaybookRunTable): RunView {
  const { steps } = JSON.parse(row.steps) as PlaybookInput;
  return {
    runId: row.id,
    target: { id: row.target_id },
    status: row.status,
    steps,
    nextStep: steps[row.next_step] ?? null,
    error: row.error,
    createdDateTime: iso(row.created_at),
    lastModifiedDateTime: iso(row.updated_at),
    completedDateTime: row.completed_at === null ? null : iso(row.completed_at),
    results: JSON.parse(row.results) as StepResult[],
  };
}

export async function findRun(ctx: ActionContext, runId: string): Promise<PlaybookRunTable | undefined> {
  if (!runId || runId.length > 64 || runId.includes('\0')) return undefined;
  return ctx.db.selectFrom('playbook_runs').selectAll().where('id', '=', runId).where('tenant_id', '=', ctx.tenantId).executeTakeFirst();
}

export function sameRunActor(row: PlaybookRunTable, actor: Actor): boolean {
  return row.actor_kind === actor.kind && row.actor_id === actor.id;
}

/** The inputs of a run as a retry must send them again, each said as in a message ('no …' when absent). */
function inputTerms(input: PlaybookInput): Record<string, string> {
  const ids = [...input.deleteMethodIds].sort();
  return {
    steps: `steps ${input.steps.join(', ')}`,
    deleteMethodIds: ids.length ? `deleteMethodIds ${ids.join(', ')}` : 'no deleteMethodIds',
    tapLifetimeInMinutes: input.tapLifetimeInMinutes !== undefined ? `tapLifetimeInMinutes ${input.tapLifetimeInMinutes}` : 'no tapLifetimeInMinutes',
    tapIsUsableOnce: input.tapIsUsableOnce !== undefined ? `tapIsUsableOnce ${input.tapIsUsableOnce}` : 'no tapIsUsableOnce',
  };
}

/**
 * A retry with a run's id must be the request that started it: the same steps and step inputs (as parsed:
 * steps in the spec's order, deleteMethodIds as a set). Refused (400 naming what differs) otherwise, so a
 * reused id never answers with an old run in place of what was asked.
 */
function checkSameInput(row: PlaybookRunTable, input: PlaybookInput): void {
  const was = inputTerms(JSON.parse(row.steps) as PlaybookInput);
  const now = inputTerms(input);
  const differ = Object.keys(was).filter((k) => was[k] !== now[k]);
  if (!differ.length) return;
  throw new ActionError('invalid', `Run '${row.id}' was started with ${differ.map((k) => was[k]).join('; ')} (this request: ${differ.map((k) => now[k]).join('; ')}); a retry must send the same request (to run other steps or input, use a new runId).`);
}

/**
 * Starts a run (or finds the one with this id: applying the same run id again is a resume, never a second
 * run, and must send the same input). Refused (403 naming the step) when the actor may not apply one of the
 * chosen steps.
 */
export async function startRun(ctx: ActionContext, actor: Actor, targetId: string, input: PlaybookInput, runId: string = crypto.randomUUID()): Promise<{ row: PlaybookRunTable; preview?: PlaybookPreview }> {
  const existing = await findRun(ctx, runId);
  if (existing) {
    checkSameRun(existing, actor, (await loadTarget(ctx.db, ctx.tenantId, targetId)).user.id, input);
    return { row: existing };
  }
  const preview = await previewPlaybook(ctx, actor, targetId, input);
  const refused = preview.steps.find((s) => !s.allowed);
  if (refused) throw new ActionError(refused.refusal ?? 'forbidden', `Step ${refused.number} (${refused.step}) cannot be applied: ${refused.reason ?? ''}`);
  const now = Date.now();
  const row: PlaybookRunTable = { id: runId, tenant_id: ctx.tenantId, target_id: preview.target.id, actor_kind: actor.kind, actor_id: actor.id, steps: JSON.stringify(input), next_step: 0, status: 'running', results: '[]', error: null, created_at: now, updated_at: now, completed_at: null };
  await ctx.db.insertInto('playbook_runs').values(row).onConflict((oc) => oc.column('id').doNothing()).execute();
  // another request with this id may have started it meanwhile: it must be the same run
  const stored = (await findRun(ctx, runId))!;
  checkSameRun(stored, actor, preview.target.id, input);
  return { row: stored, preview };
}

/** A run found under a runId this request names must be its caller's, for its user, with its input. */
function checkSameRun(row: PlaybookRunTable, actor: Actor, targetId: string, input: PlaybookInput): void {
  if (!sameRunActor(row, actor)) throw new ActionError('forbidden', 'Only the caller who started a playbook run may resume it.');
  if (row.target_id !== targetId) throw new ActionError('invalid', `Playbook run '${row.id}' is another user's run.`);
  checkSameInput(row, input);
}

/** Applies one step in the caller's transaction; returns its result and the value shown once (a TAP). */
async function applyStep(ctx: ActionContext, actor: Actor, row: PlaybookRunTable, step: StepName, input: PlaybookInput): Promise<{ result: StepResult; secret?: string }> {
  const r = await stepPlans(ctx, actor, row.target_id, step, input);
  const now = Date.now();
  const result: StepResult = { step, number: numberOf(step), title: STEP_TITLES[step], status: r.skipped ? 'skipped' : 'done', ...(r.skipped ? { note: r.skipped } : {}), appliedDateTime: iso(now), changes: [], ended: [], accessTokensLiveUntil: [] };
  let secret: string | undefined;
  if (step === 'registrationPolicy' && !r.skipped) {
    const before = await tenantSettings(ctx.db, ctx.tenantId);
    await writeTenantSettings(ctx.db, { ...before, registration_policy: 'mfaOrTap', updated_at: Math.max(now, before.updated_at + 1) });
    const modified = [{ displayName: 'registrationPolicy', oldValue: before.registration_policy, newValue: 'mfaOrTap' }];
    await writeAudit(ctx.db, ctx.tenantId, { activity: 'Update tenant settings', category: 'Policy', service: 'Latchkey', operationType: 'Update', actor, target: { id: ctx.tenantId, name: ctx.tenantId }, modified, at: now });
    await enqueue(ctx.db, ctx.tenantId, 'tenant.settings.updated', { changed: ['registrationPolicy'] }, now);
    result.changes = [{ property: 'registrationPolicy', oldValue: before.registration_policy, newValue: 'mfaOrTap' }];
  }
  for (const plan of r.plans) {
    const applied = await ACTIONS[plan.action]!.apply(ctx, plan);
    result.ended.push(...applied.ended);
    result.accessTokensLiveUntil.push(...plan.preview.accessTokensLiveUntil);
    // the TAP is the one value this run hands over; a generated password is dropped (nobody is to know it)
    if (plan.action === 'createTap') secret = applied.secret;
  }
  if (r.plans.length) result.changes = stepTexts(step, r.plans.map((p) => p.preview), input.steps).changes;
  return { result, ...(secret !== undefined ? { secret } : {}) };
}

export interface ApplyRunResult {
  row: PlaybookRunTable;
  /** the TAP, when this call applied step 7: shown once, kept nowhere */
  temporaryAccessPass?: string;
}

/**
 * Applies a run's remaining steps, one transaction each: the step's claim on the run (next_step moves on
 * only from the value this call read), the actions' writes with their audit records and events, and the
 * step's result. A step another caller applied meanwhile is not applied twice. `stopAfter` (a step number)
 * stops after that step has committed, as a crash between two steps would.
 */
export async function applyRun(ctx: ActionContext, actor: Actor, runId: string, opts: { stopAfter?: number } = {}): Promise<ApplyRunResult> {
  let tap: string | undefined;
  for (;;) {
    const row = await findRun(ctx, runId);
    if (!row) throw new ActionError('not_found', `Playbook run '${runId.slice(0, 64)}' does not exist.`);
    if (!sameRunActor(row, actor)) throw new ActionError('forbidden', 'Only the caller who started a playbook run may resume it.');
    const input = JSON.parse(row.steps) as PlaybookInput;
    const step = input.steps[row.next_step];
    if (row.status === 'completed' || !step) return { row, ...(tap !== undefined ? { temporaryAccessPass: tap } : {}) };
    if (opts.stopAfter !== undefined && numberOf(step) > opts.stopAfter) return { row, ...(tap !== undefined ? { temporaryAccessPass: tap } : {}) };
    try {
      tap = (await ctx.db.transaction().execute(async (trx) => {
        const now = Date.now();
        const last = row.next_step + 1 === input.steps.length;
        const claimed = await trx.updateTable('playbook_runs').set({ next_step: row.next_step + 1, updated_at: now, error: null, status: last ? 'completed' : 'running', ...(last ? { completed_at: now } : {}) }).where('id', '=', row.id).where('next_step', '=', row.next_step).executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) return undefined; // applied by another caller meanwhile
        const { result, secret } = await applyStep({ ...ctx, db: trx }, actor, row, step, input);
        const results = [...(JSON.parse(row.results) as StepResult[]), result];
        await trx.updateTable('playbook_runs').set({ results: JSON.stringify(results) }).where('id', '=', row.id).execute();
        return secret;
      })) ?? tap;
    } catch (e) {
      if (!(e instanceof ActionError)) throw e;
      // a refused step changes nothing; the run waits for a resume (after the admin fixed the cause)
      await ctx.db.updateTable('playbook_runs').set({ status: 'failed', error: `Step ${numberOf(step)} (${step}): ${e.message}`, updated_at: Date.now() }).where('id', '=', row.id).where('next_step', '=', row.next_step).execute();
      throw new ActionError(e.code, `Step ${numberOf(step)} (${step}) was refused and the run stopped before it: ${e.message}`, e.missingRight);
    }
  }
}

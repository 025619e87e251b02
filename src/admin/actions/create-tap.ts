// Add a Temporary Access Pass (spec §5 "Add TAP", §6; Graph POST …/temporaryAccessPassMethods). The plan
// holds no secret: the value is generated at apply and returned once. An existing TAP is replaced, which
// deletes it with the same effect as Delete method (its sessions end). The user's other methods are NOT
// removed, and the preview says so. Nobody creates a TAP for themself, Global Administrators included.
// The TAP configuration of the authentication methods policy (spec §7) gives the lifetime bounds and
// defaults, the length and whether every pass is one-time; a user for whom the TAP method is not enabled
// gets none (Entra would create one that is never usable: Latchkey refuses, with the reason).
import crypto from 'node:crypto';
import { findUserById } from '../../directory/users.js';
import { enqueue } from '../../events/outbox.js';
import { type TapSettings, accessText, methodAccess, methodsPolicyFor, tapSettings } from '../../methods/policy.js';
import { TAP_LIMITS, type TapState, findTap, generateTapValue, insertTap, tapExpiresAt } from '../../methods/tap/index.js';
import { type ActionContext, type ApplyResult, type CredentialLine, type Plan, ActionError, checkRights, commit, fingerprint, loadTarget, newPlan, preview, withEnded } from '../action.js';
import type { Actor } from '../actor.js';
import { TAP_WRITE_RULE, endTapBornSessions, methodLabel, methodLine, tapBornSessionLines } from '../methods.js';

export const RULE = { ...TAP_WRITE_RULE, what: 'create a Temporary Access Pass' };

export interface CreateTapInput {
  /** ms; default: usable at once */
  startDateTime?: number;
  /** within the policy's minimum and maximum (10–43,200 at most); default: the policy's default (D23: 60) */
  lifetimeInMinutes?: number;
  /** default: the policy's isUsableOnce (D23: false); false is refused when the policy makes every pass one-time */
  isUsableOnce?: boolean;
}

export interface CreateTapPlanInput extends Required<CreateTapInput> {
  /** the new method's id (not a secret; chosen at plan so the preview can name it) */
  id: string;
  /** the TAP this one replaces, if any */
  replaces: string | null;
  /** characters of the pass: the policy's defaultLength when planned */
  length?: number;
}

/** Checks the input against the policy's TAP settings (spec §6, §7); throws ActionError('invalid') naming the field. */
export function validateTapInput(input: CreateTapInput, now: number, policy: TapSettings): Required<CreateTapInput> {
  const lifetime = input.lifetimeInMinutes ?? policy.defaultLifetimeInMinutes;
  const min = Math.max(policy.minimumLifetimeInMinutes, TAP_LIMITS.minLifetimeMinutes);
  const max = Math.min(policy.maximumLifetimeInMinutes, TAP_LIMITS.maxLifetimeMinutes);
  if (!Number.isInteger(lifetime) || lifetime < min || lifetime > max) {
    throw new ActionError('invalid', `lifetimeInMinutes must be a whole number from ${min} to ${max} (the authentication methods policy's Temporary Access Pass settings).`);
  }
  if (input.isUsableOnce === false && policy.isUsableOnce) throw new ActionError('invalid', 'isUsableOnce must be true: the authentication methods policy makes every Temporary Access Pass one-time.');
  const start = input.startDateTime ?? now;
  if (!Number.isFinite(start)) throw new ActionError('invalid', 'startDateTime is not a valid date and time.');
  return { startDateTime: start, lifetimeInMinutes: lifetime, isUsableOnce: input.isUsableOnce ?? policy.isUsableOnce };
}

export async function plan(ctx: ActionContext, actor: Actor, targetId: string, input: CreateTapInput = {}): Promise<Plan<CreateTapPlanInput>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const now = Date.now();
  const policy = await methodsPolicyFor(ctx.db, target.user);
  const access = methodAccess(policy, 'temporaryAccessPass');
  if (!access.enabled) throw new ActionError('invalid', `A Temporary Access Pass cannot be created for this user: the method is ${accessText(access)}.`);
  const settings = tapSettings(policy.policy.doc);
  const v = validateTapInput(input, now, settings);
  const old = await findTap(ctx.db, target.user.id);
  const id = crypto.randomUUID();
  const expires = tapExpiresAt({ startAt: v.startDateTime, lifetimeMinutes: v.lifetimeInMinutes, isUsableOnce: v.isUsableOnce });
  const others = await ctx.db.selectFrom('auth_methods').select(['id', 'type']).where('user_id', '=', target.user.id).where('status', '=', 'active').orderBy('created_at').execute();
  const warnings = [
    "The user's other authentication methods are NOT removed: a method an attacker added still works. Use Require re-register MFA or delete it.",
    ...(old ? [`The existing Temporary Access Pass ${old.id} is deleted; the sessions and refresh tokens signed in with it end.`] : []),
  ];
  const p = await preview(ctx, 'createTap', target, {}, {
    changes: [
      { property: 'authentication/temporaryAccessPassMethods', oldValue: old ? methodLabel(old) : null, newValue: `temporaryAccessPassAuthenticationMethod ${id} (value generated and shown once after apply)` },
      { property: 'temporaryAccessPass.startDateTime', oldValue: null, newValue: new Date(v.startDateTime).toISOString() },
      { property: 'temporaryAccessPass.expiresDateTime', oldValue: null, newValue: new Date(expires).toISOString() },
      { property: 'temporaryAccessPass.isUsableOnce', oldValue: null, newValue: String(v.isUsableOnce) },
    ],
    warnings,
  });
  p.methods = [...others.map((m) => methodLine(m, m.id === old?.id ? 'deleted' : 'kept')), methodLine({ id, type: 'temporaryAccessPass' }, 'added')];
  if (old) p.ending.push(...(await tapBornSessionLines(ctx.db, ctx.secrets, target.user.id, old.id)));
  p.nextSignIn = 'the Temporary Access Pass screen first, while the pass is usable';
  return newPlan({ action: 'createTap', actor, rule: RULE, targetId: target.user.id, input: { ...v, id, replaces: old?.id ?? null, length: settings.defaultLength }, fingerprint: fingerprint(target), preview: p, patch: {} });
}

export async function apply(ctx: ActionContext, plan: Plan<CreateTapPlanInput>): Promise<ApplyResult & { method: { id: string; createdAt: number; state: TapState } }> {
  const value = generateTapValue(plan.input.length ?? TAP_LIMITS.minLength);
  const { id, replaces, startDateTime, lifetimeInMinutes, isUsableOnce } = plan.input;
  const state: TapState = { startAt: startDateTime, lifetimeMinutes: lifetimeInMinutes, isUsableOnce };
  let ended: CredentialLine[] = [];
  const result = await commit(ctx, plan, {
    event: 'user.method.added',
    audit: () => ({
      activity: 'Admin registered security info',
      service: 'Authentication Methods',
      operationType: 'Add',
      modified: [
        { displayName: 'StrongAuthenticationMethod', oldValue: replaces ? methodLabel({ id: replaces, type: 'temporaryAccessPass' }) : null, newValue: methodLabel({ id, type: 'temporaryAccessPass' }) },
        { displayName: 'TemporaryAccessPass', oldValue: null, newValue: `start ${new Date(startDateTime).toISOString()}, ${lifetimeInMinutes} min, ${isUsableOnce ? 'one-time' : 'multi-use'}` },
      ],
    }),
    extra: async (trx, now) => {
      const user = (await findUserById(trx, plan.targetId))!;
      if (replaces) {
        // replacing is deleting (spec §6): its sessions end, and the engine ends its refresh tokens
        const tap = await endTapBornSessions(trx, ctx.secrets, plan.targetId, replaces);
        ended = tap.lines;
        await enqueue(trx, ctx.tenantId, 'user.method.deleted', { userId: plan.targetId, reason: 'createTap', methods: [{ methodId: replaces, type: 'temporaryAccessPass' }], tapId: replaces, sessions: tap.payload }, now);
      }
      await insertTap(trx, ctx.secrets, user, value, state, now, id);
      return { methods: [{ methodId: id, type: 'temporaryAccessPass' }] };
    },
  });
  return { ...withEnded(result, ended), secret: value, method: { id, createdAt: result.appliedAt, state } };
}

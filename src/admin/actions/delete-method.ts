// Delete one authentication method (spec §4 "admin may delete", §5 "Delete method"; Graph DELETE
// …/{type}Methods/{id}). The password cannot be deleted. Deleting a TAP ends the browser sessions born of
// it, and the event names the TAP so the refresh tokens born of it end too (spec §6 Decision, D9).
import { PASSWORD_METHOD_ID } from '../../methods/password/index.js';
import { strategy } from '../../methods/index.js';
import { findMethod } from '../../methods/store.js';
import { type ActionContext, type ApplyResult, type CredentialLine, type Plan, ActionError, checkRights, commit, fingerprint, loadTarget, newPlan, preview, withEnded } from '../action.js';
import type { Actor } from '../actor.js';
import { METHODS_WRITE_RULE, TAP_WRITE_RULE, endTapBornSessions, methodLabel, methodLine, tapBornSessionLines } from '../methods.js';

export const RULE = { ...METHODS_WRITE_RULE, what: 'delete an authentication method' };
const TAP_RULE = { ...TAP_WRITE_RULE, what: RULE.what };

export interface DeleteMethodInput {
  methodId: string;
  /** when given (a typed Graph collection), a method of another type is "not found" */
  type?: string;
}

export async function plan(ctx: ActionContext, actor: Actor, targetId: string, input: DeleteMethodInput): Promise<Plan<DeleteMethodInput & { type: string }>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  // the TAP's granular scope is enough to reach a TAP; any other method needs the classic one (below)
  checkRights(actor, target, TAP_RULE);
  if (input.methodId === PASSWORD_METHOD_ID && (input.type === undefined || input.type === 'password')) {
    throw new ActionError('invalid', 'The password method cannot be deleted; reset the password instead.');
  }
  // an id no method can have (NUL, overlong) is not looked up: PostgreSQL refuses NUL in text
  const possible = input.methodId.length > 0 && input.methodId.length <= 256 && !input.methodId.includes('\0');
  const row = possible ? await findMethod(ctx.db, target.user.id, input.methodId) : undefined;
  if (!row || (input.type !== undefined && row.type !== input.type)) throw new ActionError('not_found', `Authentication method '${input.methodId}' does not exist for this user.`);
  const s = strategy(row.type);
  if (!s?.adminMayDelete) throw new ActionError('invalid', `A ${row.type} method cannot be deleted by an admin.`);
  if (row.type !== 'temporaryAccessPass') checkRights(actor, target, RULE);
  const p = await preview(ctx, 'deleteMethod', target, {}, {
    changes: [{ property: `authentication/${s.collection}/${row.id}`, oldValue: methodLabel(row), newValue: null }],
    warnings: row.type === 'temporaryAccessPass' ? ['The sessions and refresh tokens signed in with this Temporary Access Pass end with it.'] : [],
  });
  p.methods = await methodsWithTypes(ctx, target.user.id, row.id);
  if (row.type === 'temporaryAccessPass') p.ending.push(...(await tapBornSessionLines(ctx.db, ctx.secrets, target.user.id, row.id)));
  return newPlan({ action: 'deleteMethod', actor, rule: row.type === 'temporaryAccessPass' ? TAP_RULE : RULE, targetId: target.user.id, input: { ...input, type: row.type }, fingerprint: fingerprint(target), preview: p, patch: {} });
}

async function methodsWithTypes(ctx: ActionContext, userId: string, deleted: string) {
  const rows = await ctx.db.selectFrom('auth_methods').select(['id', 'type']).where('user_id', '=', userId).where('status', '=', 'active').orderBy('created_at').execute();
  return rows.map((r) => methodLine(r, r.id === deleted ? 'deleted' : 'kept'));
}

export async function apply(ctx: ActionContext, plan: Plan<DeleteMethodInput & { type: string }>): Promise<ApplyResult> {
  const { methodId, type } = plan.input;
  let ended: CredentialLine[] = [];
  const result = await commit(ctx, plan, {
    event: 'user.method.deleted',
    audit: () => ({
      activity: 'Admin deleted security info',
      service: 'Authentication Methods',
      operationType: 'Delete',
      modified: [{ displayName: 'StrongAuthenticationMethod', oldValue: methodLabel({ id: methodId, type }), newValue: null }],
    }),
    extra: async (trx) => {
      await trx.deleteFrom('auth_methods').where('id', '=', methodId).where('user_id', '=', plan.targetId).execute();
      if (type !== 'temporaryAccessPass') return { methods: [{ methodId, type }] };
      const tap = await endTapBornSessions(trx, ctx.secrets, plan.targetId, methodId);
      ended = tap.lines;
      return { methods: [{ methodId, type }], tapId: methodId, sessions: tap.payload };
    },
  });
  return withEnded(result, ended);
}

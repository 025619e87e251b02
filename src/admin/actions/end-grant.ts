// End one refresh-token grant (spec D25, the user's sessions and apps): the grant and its whole
// refresh-token chain go (every engine row keyed on the grant id). Access tokens it issued live until they
// expire at other APIs; Latchkey's own routes refuse them at once, since they carry the grant id
// (`latchkey_gid`) and the grant is gone (src/protocol/access-tokens.ts). The user's other grants and
// browser sessions live on. Same rights as Revoke sessions.
import { type ActionContext, type ApplyResult, type Plan, type RightsRule, ActionError, checkRights, commit, fingerprint, line, loadTarget, newPlan, withEnded } from '../action.js';
import type { Actor } from '../actor.js';
import { findGrant, previewEndingOne } from '../end-one.js';
import { RULE as REVOKE_RULE } from './revoke-sessions.js';

export const RULE: RightsRule = { ...REVOKE_RULE, what: 'end a grant' };

export interface EndGrantInput {
  grantId: string;
}

export async function plan(ctx: ActionContext, actor: Actor, targetId: string, input: EndGrantInput): Promise<Plan<EndGrantInput>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const grant = await findGrant(ctx, target.user.id, input.grantId);
  const p = await previewEndingOne(ctx, 'endGrant', target, grant, 'refresh_token_invalid');
  return newPlan({ action: 'endGrant', actor, rule: RULE, targetId: target.user.id, input: { grantId: grant.grantId }, fingerprint: fingerprint(target), preview: p, patch: {} });
}

export async function apply(ctx: ActionContext, plan: Plan<EndGrantInput>): Promise<ApplyResult> {
  const { grantId } = plan.input;
  let ended: ApplyResult['ended'] = [];
  const result = await commit(ctx, plan, {
    event: 'user.grant.ended',
    audit: () => ({
      // Latchkey's own activity name: Entra has no "end one grant" button
      activity: 'End user refresh token grant',
      service: 'Latchkey',
      operationType: 'Delete',
      modified: [{ displayName: 'Grant', oldValue: grantId, newValue: null }],
    }),
    extra: async (trx) => {
      const grant = await findGrant({ ...ctx, db: trx }, plan.targetId, grantId).catch((e: unknown) => {
        throw e instanceof ActionError ? new ActionError('stale', 'The grant has already ended; make a new preview.') : e;
      });
      await trx.deleteFrom('oidc_models').where('grant_id', '=', grantId).execute();
      ended = [line(grant, { credential: grant, dies: 'refresh_token_invalid' })];
      return { grantId, clientId: grant.clientId };
    },
  });
  return withEnded(result, ended);
}

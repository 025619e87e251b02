// End one browser session (spec D25, the user's sessions and apps): its record and the engine's session
// go with the authorization codes it issued, and back-channel logout goes to the apps that took part in it
// (the event lists it with the sid each app holds). The user's other sessions and every refresh-token
// grant live on. Same rights as Revoke sessions.
import { type ActionContext, type ApplyResult, type Plan, type RightsRule, ActionError, checkRights, commit, fingerprint, line, loadTarget, newPlan, withEnded } from '../action.js';
import type { Actor } from '../actor.js';
import { findSession, previewEndingOne } from '../end-one.js';
import { RULE as REVOKE_RULE } from './revoke-sessions.js';

export const RULE: RightsRule = { ...REVOKE_RULE, what: 'end a session' };

export interface EndSessionInput {
  sessionId: string;
}

export async function plan(ctx: ActionContext, actor: Actor, targetId: string, input: EndSessionInput): Promise<Plan<EndSessionInput>> {
  const target = await loadTarget(ctx.db, ctx.tenantId, targetId);
  checkRights(actor, target, RULE);
  const session = await findSession(ctx, target.user.id, input.sessionId);
  const p = await previewEndingOne(ctx, 'endSession', target, session, 'sessions_revoked');
  return newPlan({ action: 'endSession', actor, rule: RULE, targetId: target.user.id, input: { sessionId: session.id }, fingerprint: fingerprint(target), preview: p, patch: {} });
}

export async function apply(ctx: ActionContext, plan: Plan<EndSessionInput>): Promise<ApplyResult> {
  const { sessionId } = plan.input;
  let ended: ApplyResult['ended'] = [];
  const result = await commit(ctx, plan, {
    event: 'user.session.ended',
    audit: () => ({
      // Latchkey's own activity name: Entra has no "end one session" button
      activity: 'End user session',
      service: 'Latchkey',
      operationType: 'Delete',
      modified: [{ displayName: 'Session', oldValue: sessionId, newValue: null }],
    }),
    extra: async (trx) => {
      const session = await findSession({ ...ctx, db: trx }, plan.targetId, sessionId).catch((e: unknown) => {
        throw e instanceof ActionError ? new ActionError('stale', 'The session has already ended; make a new preview.') : e;
      });
      await trx.deleteFrom('signin_sessions').where('id', '=', sessionId).where('user_id', '=', plan.targetId).execute();
      // the engine's session and the codes it issued (a code is refused anyway once its session record is gone)
      await trx.deleteFrom('oidc_models').where('session_uid', '=', sessionId).where('model', 'in', ['Session', 'AuthorizationCode']).execute();
      ended = [line(session, { credential: session, dies: 'sessions_revoked' })];
      return { sessionId, sessions: [{ sessionUid: session.id, apps: session.apps.map((a) => ({ clientId: a.clientId, sid: a.sid })) }] };
    },
  });
  return withEnded(result, ended);
}

// Delete application (Graph DELETE /applications/{id}): the registration, its secrets, identifier URIs,
// consents and directory roles go, and so does everything the engine issued to it (codes, refresh and
// access tokens, grants): a refresh or a code redemption after it is refused (invalid_grant, bad_token).
// Audited as `Delete application`. (Entra keeps a deleted application 30 days for restore; Latchkey does not.)
import { bumpDirectoryVersion } from '../../directory/version.js';
import type { ActionContext } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { applicationAudit, checkApplicationWrite, loadApplication } from '../applications.js';

export async function plan(ctx: ActionContext, actor: Actor, id: string, byAppId = false): Promise<ChangePlan<{ objectId: string }>> {
  checkApplicationWrite(actor, 'deleting applications');
  const app = await loadApplication(ctx.db, ctx.tenantId, id, byAppId);
  return newChangePlan({
    action: 'deleteApplication',
    actor,
    input: { objectId: app.objectId },
    preview: { action: 'deleteApplication', target: { type: 'Application', id: app.objectId, displayName: app.displayName }, changes: [{ property: 'AppId', oldValue: app.id, newValue: null }], warnings: ['Every token, code and grant issued to the application ends with it.'] },
  });
}

export function apply(ctx: ActionContext, plan: ChangePlan<{ objectId: string }>): Promise<ChangeResult<{ ended: number }>> {
  return commitChange(ctx, plan, async (trx, actor, now) => {
    checkApplicationWrite(actor, 'deleting applications');
    const app = await loadApplication(trx, ctx.tenantId, plan.input.objectId);
    // the engine's rows issued to it (no index on client_id: deleting an application is rare)
    const ended = await trx.deleteFrom('oidc_models').where('client_id', '=', app.id).executeTakeFirst();
    await trx.deleteFrom('apps').where('id', '=', app.id).execute();
    await bumpDirectoryVersion(trx, ctx.tenantId, now);
    return {
      value: { ended: Number(ended.numDeletedRows) },
      audit: [applicationAudit('Delete application', 'Delete', app, [{ property: 'AppId', oldValue: app.id, newValue: null }])],
      event: { type: 'application.deleted', payload: { id: app.objectId, appId: app.id } },
    };
  });
}

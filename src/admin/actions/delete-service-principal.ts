// Delete service principal (Graph DELETE /servicePrincipals/{id}): the service principal, the app role
// assignments and delegated grants it holds or is the resource of, and its directory roles, as Entra removes
// them with it. Audited as `Remove service principal`. Microsoft Graph's own is refused: nothing could get a
// token for Graph without it.
import { GRAPH_APP_ID } from '../../directory/apps.js';
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, newChangePlan } from '../change.js';
import { checkSpWrite, commitSpChange, loadServicePrincipal, spTarget } from '../service-principals.js';

async function load(ctx: ActionContext, id: string) {
  const sp = await loadServicePrincipal(ctx.db, ctx.tenantId, id);
  if (sp.appId === GRAPH_APP_ID) throw new ActionError('invalid', "Microsoft Graph's service principal cannot be deleted: every token for Graph depends on it.");
  return sp;
}

export async function plan(ctx: ActionContext, actor: Actor, id: string): Promise<ChangePlan<{ id: string }>> {
  checkSpWrite(actor, 'servicePrincipal');
  const sp = await load(ctx, id);
  return newChangePlan({ action: 'deleteServicePrincipal', actor, input: { id: sp.id }, preview: { action: 'deleteServicePrincipal', target: spTarget(sp), changes: [{ property: 'servicePrincipal', oldValue: sp.app.displayName, newValue: null }], warnings: ['Its application permissions and delegated grants (as client and as resource) are removed with it.'] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<{ id: string }>): Promise<ChangeResult<undefined>> {
  return commitSpChange(ctx, plan, async (trx, actor) => {
    checkSpWrite(actor, 'servicePrincipal');
    const sp = await load({ ...ctx, db: trx }, plan.input.id);
    const grants = await trx.deleteFrom('permission_grants').where((eb) => eb.or([eb('client_app_id', '=', sp.appId), eb('resource_app_id', '=', sp.appId)])).executeTakeFirst();
    await trx.deleteFrom('app_directory_roles').where('app_id', '=', sp.appId).execute();
    await trx.deleteFrom('service_principals').where('id', '=', sp.id).execute();
    return {
      value: undefined,
      audit: [{ activity: 'Remove service principal', category: 'ApplicationManagement', service: 'Core Directory', operationType: 'Delete', target: { id: sp.id, name: sp.app.displayName }, modified: [{ displayName: 'AppId', oldValue: sp.appId, newValue: null }] }],
      event: { type: 'service_principal.deleted', payload: { servicePrincipalId: sp.id, appId: sp.appId, permissionsRemoved: Number(grants.numDeletedRows) } },
    };
  });
}

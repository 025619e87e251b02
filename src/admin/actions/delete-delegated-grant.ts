// Delete delegated permission grant (Graph DELETE /oauth2PermissionGrants/{id}): the tenant-wide consent is
// gone; the next authorize and refresh for its scopes are refused for want of consent (AADSTS65001). The
// admin portal's own grant cannot be removed. Audited as `Remove delegated permission grant`.
import type { ActionContext } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, newChangePlan } from '../change.js';
import { checkSpWrite, commitSpChange, spTarget } from '../service-principals.js';
import { editableGrant } from './update-delegated-grant.js';

export async function plan(ctx: ActionContext, actor: Actor, id: string): Promise<ChangePlan<{ id: string }>> {
  checkSpWrite(actor, 'delegatedGrant');
  const g = await editableGrant(ctx.db, ctx.tenantId, id);
  return newChangePlan({ action: 'deleteDelegatedGrant', actor, input: { id: g.id }, preview: { action: 'deleteDelegatedGrant', target: spTarget(g.client), changes: [{ property: 'scope', oldValue: `${g.resource.app.displayName}: ${g.scopes.join(' ')}`, newValue: null }], warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<{ id: string }>): Promise<ChangeResult<undefined>> {
  return commitSpChange(ctx, plan, async (trx, actor) => {
    checkSpWrite(actor, 'delegatedGrant');
    const g = await editableGrant(trx, ctx.tenantId, plan.input.id);
    await trx.deleteFrom('permission_grants').where('client_app_id', '=', g.client.appId).where('resource_app_id', '=', g.resource.appId).where('kind', '=', 'delegated').execute();
    return {
      value: undefined,
      audit: [{ activity: 'Remove delegated permission grant', category: 'ApplicationManagement', service: 'Core Directory', operationType: 'Unassign', target: { id: g.resource.id, name: g.resource.app.displayName }, modified: [{ displayName: 'DelegatedPermissionGrant.Scope', oldValue: g.scopes.join(' '), newValue: null }, { displayName: 'ServicePrincipal.ObjectID', oldValue: g.client.id, newValue: null }] }],
      event: { type: 'service_principal.delegated_grant.removed', payload: { grantId: g.id, clientId: g.client.id, resourceId: g.resource.id, scope: g.scopes.join(' ') } },
    };
  });
}

// Remove app role assignment (Graph DELETE /servicePrincipals/{id}/appRoleAssignments/{assignmentId}, or
// .../{resourceId}/appRoleAssignedTo/{assignmentId}): the client's next client-credentials token lacks the
// role. Audited as `Remove app role assignment from service principal`.
import { type AppRoleAssignment, appRoleAssignments } from '../../directory/service-principals.js';
import type { Db } from '../../storage/db.js';
import type { ActionContext } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, newChangePlan } from '../change.js';
import { checkSpWrite, commitSpChange, loadServicePrincipal, spNotFound, spTarget } from '../service-principals.js';

export interface RemoveAppRoleAssignmentInput {
  /** the service principal of the path, and whether it is the assignment's principal or its resource */
  servicePrincipalId: string;
  side: 'principal' | 'resource';
  assignmentId: string;
}

async function find(db: Db, tenantId: string, input: RemoveAppRoleAssignmentInput): Promise<AppRoleAssignment> {
  const sp = await loadServicePrincipal(db, tenantId, input.servicePrincipalId);
  const all = await appRoleAssignments(db, tenantId, input.side === 'principal' ? { clientAppId: sp.appId } : { resourceAppId: sp.appId });
  const a = all.find((x) => x.id === input.assignmentId);
  if (!a) throw spNotFound(input.assignmentId);
  return a;
}

export async function plan(ctx: ActionContext, actor: Actor, input: RemoveAppRoleAssignmentInput): Promise<ChangePlan<RemoveAppRoleAssignmentInput>> {
  checkSpWrite(actor, 'appRoleAssignment');
  const a = await find(ctx.db, ctx.tenantId, input);
  checkSpWrite(actor, 'appRoleAssignment', a.resource.appId);
  return newChangePlan({ action: 'removeAppRoleAssignment', actor, input, preview: { action: 'removeAppRoleAssignment', target: spTarget(a.principal), changes: [{ property: 'appRoleAssignments', oldValue: `${a.resource.app.displayName}: ${a.value}`, newValue: null }], warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<RemoveAppRoleAssignmentInput>): Promise<ChangeResult<undefined>> {
  return commitSpChange(ctx, plan, async (trx, actor) => {
    checkSpWrite(actor, 'appRoleAssignment');
    const a = await find(trx, ctx.tenantId, plan.input);
    checkSpWrite(actor, 'appRoleAssignment', a.resource.appId);
    await trx.deleteFrom('permission_grants').where('client_app_id', '=', a.principal.appId).where('resource_app_id', '=', a.resource.appId).where('kind', '=', 'application').where('value', '=', a.value).execute();
    return {
      value: undefined,
      audit: [{
        activity: 'Remove app role assignment from service principal',
        category: 'ApplicationManagement',
        service: 'Core Directory',
        operationType: 'Unassign',
        target: { id: a.principal.id, name: a.principal.app.displayName },
        modified: [
          { displayName: 'AppRole.Id', oldValue: a.appRoleId, newValue: null },
          { displayName: 'AppRole.Value', oldValue: a.value, newValue: null },
          { displayName: 'ServicePrincipal.ObjectID', oldValue: a.resource.id, newValue: null },
        ],
      }],
      event: { type: 'service_principal.app_role_assignment.removed', payload: { assignmentId: a.id, principalId: a.principal.id, resourceId: a.resource.id, appRoleId: a.appRoleId, value: a.value } },
    };
  });
}

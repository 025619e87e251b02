// Add app role assignment (Graph POST /servicePrincipals/{id}/appRoleAssignments, or .../{resourceId}/
// appRoleAssignedTo): an application permission of the resource granted to a client service principal; the
// client's next client-credentials token carries it in `roles`. Audited as `Add app role assignment to
// service principal`.
import { appPermissions } from '../../directory/permission-ids.js';
import { type AppRoleAssignment, type ServicePrincipal, assignmentId } from '../../directory/service-principals.js';
import type { Db } from '../../storage/db.js';
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, newChangePlan } from '../change.js';
import { checkSpWrite, commitSpChange, loadServicePrincipal, spTarget } from '../service-principals.js';

export interface AddAppRoleAssignmentInput {
  principalId: string;
  resourceId: string;
  appRoleId: string;
}

interface Checked {
  principal: ServicePrincipal;
  resource: ServicePrincipal;
  appRoleId: string;
  value: string;
}

async function check(db: Db, tenantId: string, input: AddAppRoleAssignmentInput): Promise<Checked> {
  const principal = await loadServicePrincipal(db, tenantId, input.principalId, 'principalId');
  const resource = await loadServicePrincipal(db, tenantId, input.resourceId, 'resourceId');
  const role = appPermissions(resource.app).roles.find((r) => r.id.toLowerCase() === input.appRoleId.toLowerCase());
  if (!role) throw new ActionError('invalid', `Permission being assigned was not found on application '${resource.appId}': it has no app role with the id '${input.appRoleId.slice(0, 64)}'.`);
  const exists = await db.selectFrom('permission_grants').select('id').where('client_app_id', '=', principal.appId).where('resource_app_id', '=', resource.appId).where('kind', '=', 'application').where('value', '=', role.value).executeTakeFirst();
  if (exists) throw new ActionError('invalid', `Permission being assigned already exists on the object: '${principal.app.displayName}' holds '${role.value}' of '${resource.app.displayName}'.`);
  return { principal, resource, appRoleId: role.id, value: role.value };
}

export async function plan(ctx: ActionContext, actor: Actor, input: AddAppRoleAssignmentInput): Promise<ChangePlan<AddAppRoleAssignmentInput>> {
  checkSpWrite(actor, 'appRoleAssignment');
  const c = await check(ctx.db, ctx.tenantId, input);
  checkSpWrite(actor, 'appRoleAssignment', c.resource.appId);
  return newChangePlan({ action: 'addAppRoleAssignment', actor, input, preview: { action: 'addAppRoleAssignment', target: spTarget(c.principal), changes: [{ property: 'appRoleAssignments', oldValue: null, newValue: `${c.resource.app.displayName}: ${c.value}` }], warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<AddAppRoleAssignmentInput>): Promise<ChangeResult<AppRoleAssignment>> {
  return commitSpChange(ctx, plan, async (trx, actor, now) => {
    checkSpWrite(actor, 'appRoleAssignment');
    const { principal, resource, appRoleId, value } = await check(trx, ctx.tenantId, plan.input);
    checkSpWrite(actor, 'appRoleAssignment', resource.appId);
    await trx.insertInto('permission_grants').values({ client_app_id: principal.appId, resource_app_id: resource.appId, kind: 'application', value, created_at: now }).execute();
    const id = assignmentId(principal.id, resource.id, appRoleId);
    return {
      value: { id, principal, resource, appRoleId, value, createdAt: now },
      audit: [{
        activity: 'Add app role assignment to service principal',
        category: 'ApplicationManagement',
        service: 'Core Directory',
        operationType: 'Assign',
        target: { id: principal.id, name: principal.app.displayName },
        modified: [
          { displayName: 'AppRole.Id', oldValue: null, newValue: appRoleId },
          { displayName: 'AppRole.Value', oldValue: null, newValue: value },
          { displayName: 'ServicePrincipal.ObjectID', oldValue: null, newValue: resource.id },
          { displayName: 'ServicePrincipal.DisplayName', oldValue: null, newValue: resource.app.displayName },
        ],
      }],
      event: { type: 'service_principal.app_role_assignment.added', payload: { assignmentId: id, principalId: principal.id, resourceId: resource.id, appRoleId, value } },
    };
  });
}

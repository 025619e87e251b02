// What the admin actions on service principals and their permissions share: the rights (Graph's permissions
// for each call, and for delegated callers the directory roles Entra asks for), loading a service principal
// as a refusal when it is missing, and clearing the engine's cached view of app permissions after a change.
//
// Entra's rules (learn.microsoft.com: "Grant tenant-wide admin consent", "Delegate app management by task",
// the Cloud Application Administrator role): creating and deleting service principals is Application
// Administrator or Cloud Application Administrator (Global Administrator too); consenting to delegated
// permissions of any API, Microsoft Graph's included, is the same roles plus Privileged Role Administrator;
// granting application permissions (app role assignments) of Microsoft Graph is Privileged Role
// Administrator (or Global Administrator) only, those of any other API also Application and Cloud
// Application Administrator. App-only callers are governed by their permissions alone, as in Entra.
import { GRAPH_APP_ID } from '../directory/apps.js';
import { bumpDirectoryVersion } from '../directory/version.js';
import { GUID, type ServicePrincipal, findServicePrincipal } from '../directory/service-principals.js';
import type { Db } from '../storage/db.js';
import { type ActionContext, ActionError } from './action.js';
import type { Actor } from './actor.js';
import { type ChangePlan, type ChangeResult, type ChangeWrite, checkAnyRole, checkPermission, commitChange } from './change.js';
import { ROLES } from './roles.js';

// Entra's role names (the directory roles' list in roles.ts does not hold these two yet)
export const APPLICATION_ADMIN = 'Application Administrator';
export const CLOUD_APPLICATION_ADMIN = 'Cloud Application Administrator';

const APP_ADMIN_ROLES = [ROLES.globalAdmin, APPLICATION_ADMIN, CLOUD_APPLICATION_ADMIN];
const CONSENT_ROLES = [ROLES.globalAdmin, ROLES.privilegedRoleAdmin, APPLICATION_ADMIN, CLOUD_APPLICATION_ADMIN];
const GRAPH_APP_PERMISSION_ROLES = [ROLES.globalAdmin, ROLES.privilegedRoleAdmin];

export type SpWrite = 'servicePrincipal' | 'appRoleAssignment' | 'delegatedGrant';

const PERMISSIONS: Record<SpWrite, { delegated: string[]; application: string[] }> = {
  servicePrincipal: { delegated: ['Application.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'], application: ['Application.ReadWrite.All', 'Directory.ReadWrite.All'] },
  appRoleAssignment: { delegated: ['AppRoleAssignment.ReadWrite.All', 'Directory.AccessAsUser.All'], application: ['AppRoleAssignment.ReadWrite.All'] },
  delegatedGrant: { delegated: ['DelegatedPermissionGrant.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'], application: ['DelegatedPermissionGrant.ReadWrite.All', 'Directory.ReadWrite.All'] },
};

/** The rights to write service principals, app role assignments (on this resource) or delegated grants. */
export function checkSpWrite(actor: Actor, write: SpWrite, resourceAppId?: string): void {
  checkPermission(actor, PERMISSIONS[write].delegated, PERMISSIONS[write].application);
  if (write === 'servicePrincipal') checkAnyRole(actor, APP_ADMIN_ROLES, 'creating and deleting service principals');
  else if (write === 'delegatedGrant') checkAnyRole(actor, CONSENT_ROLES, 'granting tenant-wide consent to delegated permissions');
  else if (resourceAppId === GRAPH_APP_ID) checkAnyRole(actor, GRAPH_APP_PERMISSION_ROLES, "granting Microsoft Graph's application permissions");
  else checkAnyRole(actor, CONSENT_ROLES, 'granting application permissions');
}

export const spNotFound = (id: string) => new ActionError('not_found', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

/** A service principal by object id; ActionError not_found (invalid when not a GUID) otherwise. */
export async function loadServicePrincipal(db: Db, tenantId: string, id: string, property?: string): Promise<ServicePrincipal> {
  if (!GUID.test(id)) throw new ActionError('invalid', property ? `Property '${property}' must be the object id (a GUID) of a service principal; '${id.slice(0, 64)}' is not.` : `Invalid object identifier '${id.slice(0, 64)}'.`);
  const sp = await findServicePrincipal(db, tenantId, { id });
  if (!sp) throw property ? new ActionError('invalid', `Property '${property}': no service principal has the id '${id}'.`) : spNotFound(id);
  return sp;
}

/**
 * Commits a change to service principals or to what apps may do (commitChange: the change, its audit and its
 * outbox event in one transaction), with the directory version bumped in the same transaction, so the
 * engine's client view sees the change at the next request on every instance (src/directory/version.ts).
 */
export function commitSpChange<R>(ctx: ActionContext, plan: ChangePlan, write: (trx: Db, actor: Actor, now: number) => Promise<ChangeWrite<R>>): Promise<ChangeResult<R>> {
  return commitChange(ctx, plan, async (trx, actor, now) => {
    const written = await write(trx, actor, now);
    await bumpDirectoryVersion(trx, ctx.tenantId, now);
    return written;
  });
}

export function spTarget(sp: ServicePrincipal) {
  return { type: 'ServicePrincipal' as const, id: sp.id, displayName: sp.app.displayName };
}

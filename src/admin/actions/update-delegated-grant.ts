// Update delegated permission grant (Graph PATCH /oauth2PermissionGrants/{id} {scope}): the scopes consented
// for every user become exactly these; a scope taken away is refused at the next authorize and refresh
// (AADSTS65001). The admin portal's own grant is not an admin's to change. Audited as
// `Update delegated permission grant` (Entra's name for this change is not documented; marked unverified).
import { type DelegatedGrant, delegatedGrants, idsInPairId } from '../../directory/service-principals.js';
import type { Db } from '../../storage/db.js';
import { type ActionContext, ActionError } from '../action.js';
import { ADMIN_PORTAL_APP_ID } from '../../admin-portal/app-registration.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, newChangePlan } from '../change.js';
import { checkSpWrite, commitSpChange, spNotFound, spTarget } from '../service-principals.js';
import { checkScopes } from './create-delegated-grant.js';

export interface UpdateDelegatedGrantInput {
  id: string;
  scopes: string[];
}

/** A tenant-wide delegated grant by its id; not_found otherwise (a malformed id names nothing either). */
export async function findGrant(db: Db, tenantId: string, id: string): Promise<DelegatedGrant> {
  const ids = idsInPairId(id);
  if (!ids) throw spNotFound(id);
  const client = await db.selectFrom('service_principals').select('app_id').where('tenant_id', '=', tenantId).where('id', '=', ids.first).executeTakeFirst();
  const g = client && (await delegatedGrants(db, tenantId, { clientAppId: client.app_id })).find((x) => x.id === id);
  if (!g) throw spNotFound(id);
  return g;
}

/**
 * A grant an admin may change or delete: the admin portal's own consent is Latchkey's (remade at every
 * start, as Entra's first-party portals hold theirs): taking it away would lock every administrator out.
 */
export async function editableGrant(db: Db, tenantId: string, id: string): Promise<DelegatedGrant> {
  const g = await findGrant(db, tenantId, id);
  if (g.client.appId === ADMIN_PORTAL_APP_ID) throw new ActionError('invalid', "The admin portal's delegated permissions cannot be changed or removed: they are Latchkey's own, and every administrator signs in to the portal through them.");
  return g;
}

export async function plan(ctx: ActionContext, actor: Actor, input: UpdateDelegatedGrantInput): Promise<ChangePlan<UpdateDelegatedGrantInput>> {
  checkSpWrite(actor, 'delegatedGrant');
  const g = await editableGrant(ctx.db, ctx.tenantId, input.id);
  const scopes = checkScopes(g.resource, input.scopes);
  return newChangePlan({ action: 'updateDelegatedGrant', actor, input: { id: g.id, scopes }, preview: { action: 'updateDelegatedGrant', target: spTarget(g.client), changes: [{ property: 'scope', oldValue: g.scopes.join(' '), newValue: scopes.join(' ') }], warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<UpdateDelegatedGrantInput>): Promise<ChangeResult<undefined>> {
  return commitSpChange(ctx, plan, async (trx, actor, now) => {
    checkSpWrite(actor, 'delegatedGrant');
    const g = await editableGrant(trx, ctx.tenantId, plan.input.id);
    const scopes = checkScopes(g.resource, plan.input.scopes);
    const gone = g.scopes.filter((s) => !scopes.includes(s));
    const added = scopes.filter((s) => !g.scopes.includes(s));
    if (gone.length) await trx.deleteFrom('permission_grants').where('client_app_id', '=', g.client.appId).where('resource_app_id', '=', g.resource.appId).where('kind', '=', 'delegated').where('value', 'in', gone).execute();
    for (const value of added) await trx.insertInto('permission_grants').values({ client_app_id: g.client.appId, resource_app_id: g.resource.appId, kind: 'delegated', value, created_at: now }).execute();
    return {
      value: undefined,
      audit: [{ activity: 'Update delegated permission grant', category: 'ApplicationManagement', service: 'Core Directory', operationType: 'Update', target: { id: g.resource.id, name: g.resource.app.displayName }, modified: [{ displayName: 'DelegatedPermissionGrant.Scope', oldValue: g.scopes.join(' '), newValue: scopes.join(' ') }, { displayName: 'ServicePrincipal.ObjectID', oldValue: g.client.id, newValue: g.client.id }] }],
      event: { type: 'service_principal.delegated_grant.updated', payload: { grantId: g.id, clientId: g.client.id, resourceId: g.resource.id, scope: scopes.join(' '), removed: gone, added } },
    };
  });
}

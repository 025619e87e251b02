// Create delegated permission grant (Graph POST /oauth2PermissionGrants, consentType AllPrincipals): admin
// consent for every user to the client's use of the resource's delegated scopes; authorize stops asking for
// consent to them at once. Audited as Entra audits an admin consent: `Consent to application` and
// `Add delegated permission grant`. Consent for one user (`Principal`)
// is not kept by Latchkey (users consent at sign-in) and is refused.
import { type DelegatedGrant, type ServicePrincipal, delegatedGrants, grantId } from '../../directory/service-principals.js';
import { appPermissions } from '../../directory/permission-ids.js';
import type { Db } from '../../storage/db.js';
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, newChangePlan } from '../change.js';
import { checkSpWrite, commitSpChange, loadServicePrincipal, spTarget } from '../service-principals.js';

export interface CreateDelegatedGrantInput {
  clientId: string;
  resourceId: string;
  /** the scope values, as the request's space-separated `scope` named them */
  scopes: string[];
}

/** The scope values a resource exposes among these; ActionError naming the unknown ones otherwise. */
export function checkScopes(resource: ServicePrincipal, scopes: readonly string[]): string[] {
  if (scopes.length === 0) throw new ActionError('invalid', "Property 'scope' must name at least one delegated permission (to remove them all, delete the grant).");
  const known = new Set(appPermissions(resource.app).scopes.map((s) => s.value));
  const unknown = scopes.filter((s) => !known.has(s));
  if (unknown.length) throw new ActionError('invalid', `Property 'scope': '${resource.app.displayName}' exposes no delegated permission named ${unknown.map((s) => `'${s.slice(0, 64)}'`).join(', ')}.`);
  return [...new Set(scopes)];
}

async function check(db: Db, tenantId: string, input: CreateDelegatedGrantInput) {
  const client = await loadServicePrincipal(db, tenantId, input.clientId, 'clientId');
  const resource = await loadServicePrincipal(db, tenantId, input.resourceId, 'resourceId');
  const scopes = checkScopes(resource, input.scopes);
  if ((await delegatedGrants(db, tenantId, { clientAppId: client.appId, resourceAppId: resource.appId })).length) throw new ActionError('duplicate', `Permission entry already exists: '${client.app.displayName}' has a tenant-wide grant for '${resource.app.displayName}' (update its scope instead).`);
  return { client, resource, scopes };
}

export async function plan(ctx: ActionContext, actor: Actor, input: CreateDelegatedGrantInput): Promise<ChangePlan<CreateDelegatedGrantInput>> {
  checkSpWrite(actor, 'delegatedGrant');
  const c = await check(ctx.db, ctx.tenantId, input);
  return newChangePlan({ action: 'createDelegatedGrant', actor, input: { ...input, scopes: c.scopes }, preview: { action: 'createDelegatedGrant', target: spTarget(c.client), changes: [{ property: 'scope', oldValue: null, newValue: `${c.resource.app.displayName}: ${c.scopes.join(' ')}` }], warnings: [] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<CreateDelegatedGrantInput>): Promise<ChangeResult<DelegatedGrant>> {
  return commitSpChange(ctx, plan, async (trx, actor, now) => {
    checkSpWrite(actor, 'delegatedGrant');
    const { client, resource, scopes } = await check(trx, ctx.tenantId, plan.input);
    for (const value of scopes) await trx.insertInto('permission_grants').values({ client_app_id: client.appId, resource_app_id: resource.appId, kind: 'delegated', value, created_at: now }).execute();
    const id = grantId(client.id, resource.id);
    return {
      value: { id, client, resource, scopes, createdAt: now },
      audit: [
        // Entra's record of an admin consent, then the grant it made (one correlation id)
        { activity: 'Consent to application', category: 'ApplicationManagement', service: 'Core Directory', operationType: 'Assign', target: { id: client.id, name: client.app.displayName }, modified: [{ displayName: 'ConsentContext.IsAdminConsent', oldValue: null, newValue: 'True' }, { displayName: 'ConsentContext.OnBehalfOfAll', oldValue: null, newValue: 'True' }, { displayName: 'ConsentAction.Permissions', oldValue: null, newValue: `${resource.app.displayName}: ${scopes.join(' ')}` }] },
        { activity: 'Add delegated permission grant', category: 'ApplicationManagement', service: 'Core Directory', operationType: 'Assign', target: { id: resource.id, name: resource.app.displayName }, modified: [{ displayName: 'DelegatedPermissionGrant.Scope', oldValue: null, newValue: scopes.join(' ') }, { displayName: 'DelegatedPermissionGrant.ConsentType', oldValue: null, newValue: 'AllPrincipals' }, { displayName: 'ServicePrincipal.ObjectID', oldValue: null, newValue: client.id }] },
      ],
      event: { type: 'service_principal.delegated_grant.added', payload: { grantId: id, clientId: client.id, resourceId: resource.id, scope: scopes.join(' ') } },
    };
  });
}

// Delete service principal (Graph DELETE /servicePrincipals/{id}): the service principal, the app role
// assignments and delegated grants it holds or is the resource of, and its directory roles, as Entra removes
// them with it. Without a service principal the app gets no token in the tenant (AADSTS7000229 at the token
// endpoint, 700016 at authorize: src/protocol/errors.ts), so everything the engine issued to it (codes, refresh
// and access tokens, grants) ends with it, as with a deleted application; creating a service principal again
// lets it sign in anew. The directory version is bumped in the transaction (commitSpChange), so every
// instance's client view sees it at the next request. Audited as `Remove service principal`. Microsoft
// Graph's own is refused (nothing could get a token for Graph without it), and so are the admin portal's
// (every administrator signs in through it) and those of Latchkey's first-party apps, which Graph does not
// list among the tenant's applications either.
import { GRAPH_APP_ID } from '../../directory/apps.js';
import { FIRST_PARTY_APP_IDS } from '../../directory/first-party.js';
import { ADMIN_PORTAL_APP_ID } from '../../admin-portal/app-registration.js';
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, newChangePlan } from '../change.js';
import { checkSpWrite, commitSpChange, loadServicePrincipal, spTarget } from '../service-principals.js';

async function load(ctx: ActionContext, id: string) {
  const sp = await loadServicePrincipal(ctx.db, ctx.tenantId, id);
  if (sp.appId === GRAPH_APP_ID) throw new ActionError('invalid', "Microsoft Graph's service principal cannot be deleted: every token for Graph depends on it.");
  if (sp.appId === ADMIN_PORTAL_APP_ID) throw new ActionError('invalid', "The admin portal's service principal cannot be deleted: every administrator signs in to the portal through it.");
  if (FIRST_PARTY_APP_IDS.includes(sp.appId)) throw new ActionError('invalid', `The service principal of '${sp.app.displayName}' cannot be deleted: it is one of Latchkey's own apps.`);
  return sp;
}

export async function plan(ctx: ActionContext, actor: Actor, id: string): Promise<ChangePlan<{ id: string }>> {
  checkSpWrite(actor, 'servicePrincipal');
  const sp = await load(ctx, id);
  return newChangePlan({ action: 'deleteServicePrincipal', actor, input: { id: sp.id }, preview: { action: 'deleteServicePrincipal', target: spTarget(sp), changes: [{ property: 'servicePrincipal', oldValue: sp.app.displayName, newValue: null }], warnings: ['Its application permissions and delegated grants (as client and as resource) are removed with it.', 'The application can no longer sign users in or get tokens in this tenant, and every token, code and grant issued to it ends, until a service principal is created for it again.'] } });
}

export function apply(ctx: ActionContext, plan: ChangePlan<{ id: string }>): Promise<ChangeResult<undefined>> {
  return commitSpChange(ctx, plan, async (trx, actor) => {
    checkSpWrite(actor, 'servicePrincipal');
    const sp = await load({ ...ctx, db: trx }, plan.input.id);
    // the engine's rows issued to it (no index on client_id: deleting a service principal is rare)
    const ended = await trx.deleteFrom('oidc_models').where('client_id', '=', sp.appId).executeTakeFirst();
    const grants = await trx.deleteFrom('permission_grants').where((eb) => eb.or([eb('client_app_id', '=', sp.appId), eb('resource_app_id', '=', sp.appId)])).executeTakeFirst();
    await trx.deleteFrom('app_directory_roles').where('app_id', '=', sp.appId).execute();
    await trx.deleteFrom('service_principals').where('id', '=', sp.id).execute();
    return {
      value: undefined,
      audit: [{ activity: 'Remove service principal', category: 'ApplicationManagement', service: 'Core Directory', operationType: 'Delete', target: { id: sp.id, name: sp.app.displayName }, modified: [{ displayName: 'AppId', oldValue: sp.appId, newValue: null }] }],
      event: { type: 'service_principal.deleted', payload: { servicePrincipalId: sp.id, appId: sp.appId, permissionsRemoved: Number(grants.numDeletedRows), tokensEnded: Number(ended.numDeletedRows) } },
    };
  });
}

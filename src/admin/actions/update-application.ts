// Update application (Graph PATCH /applications/{id}): the properties given replace the stored ones
// (collections whole, as Graph does). Audited as `Update application`; the engine's client view sees the
// change on the next request on every instance (src/directory/version.ts).
import { type App, appFromRow, newAppRow } from '../../directory/apps.js';
import { bumpDirectoryVersion } from '../../directory/version.js';
import type { ActionContext } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { type ApplicationInput, applicationAudit, applicationChanges, checkApplicationInput, checkApplicationWrite, checkIdentifierUrisFree, checkResourceAccessKnown, loadApplication } from '../applications.js';

export type UpdateApplicationInput = ApplicationInput & { objectId: string };

export async function plan(ctx: ActionContext, actor: Actor, id: string, input: ApplicationInput, byAppId = false): Promise<ChangePlan<UpdateApplicationInput>> {
  checkApplicationWrite(actor, 'updating applications');
  const app = await loadApplication(ctx.db, ctx.tenantId, id, byAppId);
  checkApplicationInput(input, app);
  await checkIdentifierUrisFree(ctx.db, input.identifierUris ?? [], app.id);
  await checkResourceAccessKnown(ctx.db, ctx.tenantId, input.requiredResourceAccess, { appId: app.id, scopes: input.scopes ?? app.scopes, roles: input.roles ?? app.roles });
  return newChangePlan({
    action: 'updateApplication',
    actor,
    input: { ...input, objectId: app.objectId },
    preview: { action: 'updateApplication', target: { type: 'Application', id: app.objectId, displayName: app.displayName }, changes: applicationChanges(app, input), warnings: [] },
  });
}

/** The stored application with the input applied (the columns an update may change). */
function merged(app: App, input: ApplicationInput) {
  const row = newAppRow({
    tenantId: app.tenantId,
    id: app.id,
    objectId: app.objectId,
    displayName: input.displayName ?? app.displayName,
    webRedirectUris: input.webRedirectUris ?? app.webRedirectUris,
    spaRedirectUris: input.spaRedirectUris ?? app.spaRedirectUris,
    publicClientRedirectUris: input.publicClientRedirectUris ?? app.publicClientRedirectUris,
    isFallbackPublicClient: input.isFallbackPublicClient ?? app.isFallbackPublicClient,
    postLogoutRedirectUris: app.postLogoutRedirectUris,
    identifierUris: input.identifierUris ?? app.identifierUris,
    exposedScopes: input.scopes ?? app.scopes,
    appRoles: input.roles ?? app.roles,
    requiredResourceAccess: input.requiredResourceAccess ?? app.requiredResourceAccess,
    logoutUrl: input.logoutUrl !== undefined ? input.logoutUrl : app.logoutUrl,
    properties: { ...app.properties, ...input.properties },
    requireMfa: input.requireMfa ?? app.requireMfa,
    requirePkce: input.requirePkce ?? app.requirePkce,
    introspectionAllowed: input.introspectionAllowed ?? app.introspectionAllowed,
    backchannelLogoutUri: input.backchannelLogoutUri !== undefined ? input.backchannelLogoutUri : app.backchannelLogoutUri,
  });
  const FIXED = new Set(['id', 'object_id', 'tenant_id', 'kind', 'created_at', 'identifier_uri']);
  return Object.fromEntries(Object.entries(row).filter(([k]) => !FIXED.has(k))) as Partial<typeof row>;
}

export function apply(ctx: ActionContext, plan: ChangePlan<UpdateApplicationInput>): Promise<ChangeResult<App>> {
  const { objectId, ...input } = plan.input;
  return commitChange(ctx, plan, async (trx, actor, now) => {
    checkApplicationWrite(actor, 'updating applications');
    const app = await loadApplication(trx, ctx.tenantId, objectId);
    checkApplicationInput(input, app);
    const set = merged(app, input);
    await trx.updateTable('apps').set(set).where('id', '=', app.id).execute();
    if (input.identifierUris) {
      await checkIdentifierUrisFree(trx, input.identifierUris, app.id);
      await trx.deleteFrom('app_identifier_uris').where('app_id', '=', app.id).execute();
      for (const uri of input.identifierUris) await trx.insertInto('app_identifier_uris').values({ uri, app_id: app.id }).execute();
    }
    await bumpDirectoryVersion(trx, ctx.tenantId, now);
    const updated = appFromRow({ ...(await trx.selectFrom('apps').selectAll().where('id', '=', app.id).executeTakeFirstOrThrow()) });
    const changes = applicationChanges(app, input);
    return {
      value: updated,
      audit: [applicationAudit('Update application', 'Update', updated, changes)],
      event: { type: 'application.updated', payload: { id: app.objectId, appId: app.id, properties: changes.map((c) => c.property) } },
    };
  });
}

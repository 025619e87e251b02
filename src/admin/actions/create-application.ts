// Create application (Graph POST /applications, the command line's `apps create`): an app registration
// with its appId (client_id) and object id, redirect URIs by platform, identifier URIs, scopes and app
// roles. Audited as `Add application`; the engine's client view sees it on the next request.
import { type App, insertApp, newAppRow } from '../../directory/apps.js';
import { bumpDirectoryVersion } from '../../directory/version.js';
import type { ActionContext } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { type ApplicationInput, applicationAudit, applicationChanges, checkApplicationInput, checkApplicationWrite, checkIdentifierUrisFree, checkResourceAccessKnown, newId } from '../applications.js';

export type CreateApplicationInput = ApplicationInput & { displayName: string; appId: string; objectId: string };

export async function plan(ctx: ActionContext, actor: Actor, given: ApplicationInput & { displayName: string }): Promise<ChangePlan<CreateApplicationInput>> {
  checkApplicationWrite(actor, 'creating applications');
  checkApplicationInput(given);
  await checkIdentifierUrisFree(ctx.db, given.identifierUris ?? []);
  await checkResourceAccessKnown(ctx.db, ctx.tenantId, given.requiredResourceAccess);
  // the ids are chosen now, so a preview names the appId the app will have
  const input: CreateApplicationInput = { ...given, appId: newId(), objectId: newId() };
  return newChangePlan({
    action: 'createApplication',
    actor,
    input,
    preview: { action: 'createApplication', target: { type: 'Application', id: input.objectId, displayName: input.displayName }, changes: [{ property: 'AppId', oldValue: null, newValue: input.appId }, ...applicationChanges(undefined, input)], warnings: [] },
  });
}

export function apply(ctx: ActionContext, plan: ChangePlan<CreateApplicationInput>): Promise<ChangeResult<App>> {
  const input = plan.input;
  return commitChange(ctx, plan, async (trx, actor, now) => {
    checkApplicationWrite(actor, 'creating applications');
    await checkIdentifierUrisFree(trx, input.identifierUris ?? []);
    const row = newAppRow(
      {
        tenantId: ctx.tenantId,
        id: input.appId,
        objectId: input.objectId,
        displayName: input.displayName,
        webRedirectUris: input.webRedirectUris,
        spaRedirectUris: input.spaRedirectUris,
        publicClientRedirectUris: input.publicClientRedirectUris,
        isFallbackPublicClient: input.isFallbackPublicClient,
        identifierUris: input.identifierUris,
        exposedScopes: input.scopes,
        appRoles: input.roles,
        requiredResourceAccess: input.requiredResourceAccess,
        logoutUrl: input.logoutUrl,
        properties: input.properties,
        requireMfa: input.requireMfa,
        requirePkce: input.requirePkce,
        introspectionAllowed: input.introspectionAllowed,
        backchannelLogoutUri: input.backchannelLogoutUri,
      },
      now,
    );
    const app = await insertApp(trx, row);
    await bumpDirectoryVersion(trx, ctx.tenantId, now);
    return {
      value: app,
      audit: [applicationAudit('Add application', 'Add', app, [{ property: 'AppId', oldValue: null, newValue: app.id }, ...applicationChanges(undefined, input)])],
      event: { type: 'application.created', payload: { id: app.objectId, appId: app.id } },
    };
  });
}

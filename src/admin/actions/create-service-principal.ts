// Create service principal (Graph POST /servicePrincipals {appId}): the app's instance in the tenant, one
// per app. Audited as `Add service principal`.
import { findApp } from '../../directory/apps.js';
import { type ServicePrincipal, findServicePrincipal, newServicePrincipalRow } from '../../directory/service-principals.js';
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, newChangePlan } from '../change.js';
import { checkSpWrite, commitSpChange } from '../service-principals.js';

export interface CreateServicePrincipalInput {
  appId: string;
}

async function check(ctx: ActionContext, appId: string) {
  const app = await findApp(ctx.db, appId);
  if (!app || app.tenantId !== ctx.tenantId) throw new ActionError('invalid', `The appId '${appId.slice(0, 64)}' of the service principal does not reference a valid application object.`);
  if (await findServicePrincipal(ctx.db, ctx.tenantId, { appId: app.id })) throw new ActionError('duplicate', `Another object with the same value for property appId already exists: the application '${app.id}' has a service principal.`);
  return app;
}

export async function plan(ctx: ActionContext, actor: Actor, input: CreateServicePrincipalInput): Promise<ChangePlan<CreateServicePrincipalInput>> {
  checkSpWrite(actor, 'servicePrincipal');
  const app = await check(ctx, input.appId);
  return newChangePlan({
    action: 'createServicePrincipal',
    actor,
    input: { appId: app.id },
    preview: { action: 'createServicePrincipal', target: { type: 'ServicePrincipal', id: '(assigned at apply)', displayName: app.displayName }, changes: [{ property: 'appId', oldValue: null, newValue: app.id }], warnings: [] },
  });
}

export function apply(ctx: ActionContext, plan: ChangePlan<CreateServicePrincipalInput>): Promise<ChangeResult<ServicePrincipal>> {
  return commitSpChange(ctx, plan, async (trx, actor, now) => {
    checkSpWrite(actor, 'servicePrincipal');
    const app = await check({ ...ctx, db: trx }, plan.input.appId);
    const row = newServicePrincipalRow(ctx.tenantId, app.id, now);
    await trx.insertInto('service_principals').values(row).execute();
    return {
      value: { id: row.id, appId: app.id, accountEnabled: true, createdAt: now, app },
      audit: [{ activity: 'Add service principal', category: 'ApplicationManagement', service: 'Core Directory', operationType: 'Add', target: { id: row.id, name: app.displayName }, modified: [{ displayName: 'AppId', oldValue: null, newValue: app.id }, { displayName: 'DisplayName', oldValue: null, newValue: app.displayName }] }],
      event: { type: 'service_principal.created', payload: { servicePrincipalId: row.id, appId: app.id } },
    };
  });
}

// Remove password (Graph POST /applications/{id}/removePassword, by keyId): the secret is deleted, and
// a client-credentials or code request with it is refused from the next request on (AADSTS7000215: the
// secret check reads the stored hashes every time, src/directory/apps.ts SecretVerifier). Audited as
// `Update application – Certificates and secrets management`.
import { bumpDirectoryVersion } from '../../directory/version.js';
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { applicationAudit, checkApplicationWrite, loadApplication } from '../applications.js';
import { SECRETS_ACTIVITY } from './add-application-password.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function loadSecret(db: ActionContext['db'], appId: string, keyId: string) {
  const row = GUID.test(keyId) ? await db.selectFrom('app_secrets').select(['id', 'display_name', 'hint']).where('app_id', '=', appId).where('id', '=', keyId.toLowerCase()).executeTakeFirst() : undefined;
  if (!row) throw new ActionError('not_found', `No password credential with keyId '${keyId.slice(0, 100)}' exists on the application.`);
  return row;
}

export async function plan(ctx: ActionContext, actor: Actor, id: string, keyId: string, byAppId = false): Promise<ChangePlan<{ objectId: string; keyId: string }>> {
  checkApplicationWrite(actor, 'managing application secrets');
  const app = await loadApplication(ctx.db, ctx.tenantId, id, byAppId);
  const secret = await loadSecret(ctx.db, app.id, keyId);
  return newChangePlan({
    action: 'removeApplicationPassword',
    actor,
    input: { objectId: app.objectId, keyId: secret.id },
    preview: { action: 'removeApplicationPassword', target: { type: 'Application', id: app.objectId, displayName: app.displayName }, changes: [{ property: 'KeyDescription', oldValue: `${secret.display_name ?? ''} (${secret.hint}…)`, newValue: null }], warnings: ['Requests authenticated with this secret are refused from now on.'] },
  });
}

export function apply(ctx: ActionContext, plan: ChangePlan<{ objectId: string; keyId: string }>): Promise<ChangeResult<undefined>> {
  return commitChange(ctx, plan, async (trx, actor, now) => {
    checkApplicationWrite(actor, 'managing application secrets');
    const app = await loadApplication(trx, ctx.tenantId, plan.input.objectId);
    const secret = await loadSecret(trx, app.id, plan.input.keyId);
    await trx.deleteFrom('app_secrets').where('id', '=', secret.id).execute();
    await bumpDirectoryVersion(trx, ctx.tenantId, now);
    return {
      value: undefined,
      audit: [applicationAudit(SECRETS_ACTIVITY, 'Update', app, [{ property: 'KeyDescription', oldValue: `[KeyIdentifier=${secret.id},KeyType=Password,KeyUsage=Verify,DisplayName=${secret.display_name ?? ''}]`, newValue: null }])],
      event: { type: 'application.password.removed', payload: { id: app.objectId, appId: app.id, keyId: secret.id } },
    };
  });
}

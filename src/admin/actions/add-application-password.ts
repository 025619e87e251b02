// Add password (Graph POST /applications/{id}/addPassword, `apps add-secret`): a client secret, made at
// apply (a plan holds no secret, D21), returned once and stored as an argon2id hash (D14). Audited as
// `Update application – Certificates and secrets management`.
import crypto from 'node:crypto';
import { hashPassword, randomToken } from '../../crypto/secrets.js';
import { bumpDirectoryVersion } from '../../directory/version.js';
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { type ChangePlan, type ChangeResult, commitChange, newChangePlan } from '../change.js';
import { applicationAudit, checkApplicationWrite, loadApplication } from '../applications.js';

export const SECRETS_ACTIVITY = 'Update application – Certificates and secrets management';
/** Graph's default lifetime of a secret added without endDateTime: two years */
const DEFAULT_LIFETIME_MS = 2 * 365 * 86_400_000;

export interface AddPasswordInput {
  displayName?: string | null;
  startDateTime?: number;
  endDateTime?: number;
}

/** Graph's passwordCredential; `secretText` only in the answer of addPassword. */
export interface PasswordCredential {
  customKeyIdentifier: null;
  displayName: string | null;
  endDateTime: number | null;
  hint: string;
  keyId: string;
  secretText: string | null;
  startDateTime: number;
}

export async function plan(ctx: ActionContext, actor: Actor, id: string, input: AddPasswordInput, byAppId = false): Promise<ChangePlan<AddPasswordInput & { objectId: string }>> {
  checkApplicationWrite(actor, 'managing application secrets');
  const app = await loadApplication(ctx.db, ctx.tenantId, id, byAppId);
  if (input.endDateTime !== undefined && input.endDateTime <= Math.max(Date.now(), input.startDateTime ?? 0)) throw new ActionError('invalid', "Property 'endDateTime' must be later than now and than startDateTime.");
  if (input.displayName && input.displayName.length > 256) throw new ActionError('invalid', "Property 'displayName' must be at most 256 characters.");
  return newChangePlan({
    action: 'addApplicationPassword',
    actor,
    input: { ...input, objectId: app.objectId },
    preview: { action: 'addApplicationPassword', target: { type: 'Application', id: app.objectId, displayName: app.displayName }, changes: [{ property: 'KeyDescription', oldValue: null, newValue: input.displayName ?? '(a new client secret)' }], warnings: ['The secret is shown once, when it is added.'] },
  });
}

export function apply(ctx: ActionContext, plan: ChangePlan<AddPasswordInput & { objectId: string }>): Promise<ChangeResult<PasswordCredential>> {
  const input = plan.input;
  return commitChange(ctx, plan, async (trx, actor, now) => {
    checkApplicationWrite(actor, 'managing application secrets');
    const app = await loadApplication(trx, ctx.tenantId, input.objectId);
    const secretText = randomToken(30);
    const credential: PasswordCredential = { customKeyIdentifier: null, displayName: input.displayName ?? null, endDateTime: input.endDateTime ?? now + DEFAULT_LIFETIME_MS, hint: secretText.slice(0, 3), keyId: crypto.randomUUID(), secretText, startDateTime: input.startDateTime ?? now };
    await trx
      .insertInto('app_secrets')
      .values({ id: credential.keyId, app_id: app.id, secret_hash: await hashPassword(secretText), hint: credential.hint, created_at: now, expires_at: credential.endDateTime, display_name: credential.displayName, start_at: credential.startDateTime })
      .execute();
    await bumpDirectoryVersion(trx, ctx.tenantId, now);
    return {
      value: credential,
      audit: [applicationAudit(SECRETS_ACTIVITY, 'Update', app, [{ property: 'KeyDescription', oldValue: null, newValue: `[KeyIdentifier=${credential.keyId},KeyType=Password,KeyUsage=Verify,DisplayName=${credential.displayName ?? ''}]` }])],
      event: { type: 'application.password.added', payload: { id: app.objectId, appId: app.id, keyId: credential.keyId } },
    };
  });
}

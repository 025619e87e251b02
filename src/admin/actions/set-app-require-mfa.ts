// Set an app registration's `requireMfa` (spec §8, D18: Latchkey's own setting; Graph has no such
// property): every sign-in to the app, and every token for its API, then needs MFA. Only a Global
// Administrator may change it (Entra's Application and Cloud Application Administrator roles do not exist
// here), or an app holding Application.ReadWrite.All. Audited as Entra's "Update application".
import crypto from 'node:crypto';
import { writeAudit } from '../../events/audit.js';
import { enqueue } from '../../events/outbox.js';
import type { Db } from '../../storage/db.js';
import { bumpDirectoryVersion } from '../../directory/version.js';
import { type ActionContext, ActionError } from '../action.js';
import type { Actor } from '../actor.js';
import { ROLES } from '../roles.js';

const DELEGATED = ['Application.ReadWrite.All', 'Directory.AccessAsUser.All'];
const APPLICATION = ['Application.ReadWrite.All'];
const ROLES_ALLOWED = [ROLES.globalAdmin];

export interface SetAppRequireMfaInput {
  requireMfa: boolean;
}

/** The plan of an action on an app registration (not a user): what it changes, and what it was made from. */
export interface AppPlan {
  id: string;
  action: 'setAppRequireMfa';
  actor: Actor;
  appId: string;
  input: SetAppRequireMfaInput;
  fingerprint: string;
  madeAt: number;
  preview: { action: 'setAppRequireMfa'; target: { id: string; displayName: string }; changes: { property: string; oldValue: string | null; newValue: string | null }[]; warnings: string[] };
}

function checkAppRights(actor: Actor): void {
  if (actor.kind === 'system') return;
  if (actor.kind === 'user') {
    if (!DELEGATED.some((s) => actor.scopes.includes(s))) throw new ActionError('forbidden', `Insufficient privileges: the token needs one of the delegated permissions ${DELEGATED.join(', ')}.`, DELEGATED.join(' or '));
    if (!actor.roles.some((r) => (ROLES_ALLOWED as string[]).includes(r))) throw new ActionError('forbidden', `Insufficient privileges to change whether an app requires MFA: a directory role among ${ROLES_ALLOWED.join(', ')} is required.`, ROLES_ALLOWED.join(' or '));
    return;
  }
  if (!APPLICATION.some((p) => actor.permissions.includes(p))) throw new ActionError('forbidden', `Insufficient privileges: the app needs one of the application permissions ${APPLICATION.join(', ')}.`, APPLICATION.join(' or '));
}

async function loadApp(db: Db, tenantId: string, appId: string) {
  const app = await db.selectFrom('apps').select(['id', 'display_name', 'require_mfa']).where('tenant_id', '=', tenantId).where('id', '=', appId).executeTakeFirst();
  if (!app) throw new ActionError('not_found', `Application '${appId}' does not exist.`);
  return app;
}

const fingerprintOf = (app: { require_mfa: number; display_name: string }) => crypto.createHash('sha256').update(JSON.stringify([app.require_mfa, app.display_name])).digest('base64url');

export async function plan(ctx: ActionContext, actor: Actor, appId: string, input: SetAppRequireMfaInput): Promise<AppPlan> {
  if (typeof input.requireMfa !== 'boolean') throw new ActionError('invalid', 'requireMfa must be a boolean.');
  checkAppRights(actor);
  const app = await loadApp(ctx.db, ctx.tenantId, appId);
  const warnings = input.requireMfa && app.require_mfa !== 1 ? ['Refresh tokens of this app issued without MFA need MFA at their next use (AADSTS50076), and users without an MFA method are asked to register one.'] : [];
  return {
    id: crypto.randomUUID(),
    action: 'setAppRequireMfa',
    actor,
    appId: app.id,
    input,
    fingerprint: fingerprintOf(app),
    madeAt: Date.now(),
    preview: { action: 'setAppRequireMfa', target: { id: app.id, displayName: app.display_name }, changes: [{ property: 'requireMfa', oldValue: String(app.require_mfa === 1), newValue: String(input.requireMfa) }], warnings },
  };
}

export async function apply(ctx: ActionContext, plan: AppPlan): Promise<{ plan: AppPlan; appliedAt: number }> {
  const run = async (trx: Db) => {
    const app = await loadApp(trx, ctx.tenantId, plan.appId).catch(() => {
      throw new ActionError('stale', 'The application no longer exists; make a new preview.');
    });
    if (fingerprintOf(app) !== plan.fingerprint) throw new ActionError('stale', 'The application changed since the preview was made; make a new preview.');
    checkAppRights(plan.actor);
    const now = Math.max(Date.now(), plan.madeAt);
    await trx.updateTable('apps').set({ require_mfa: plan.input.requireMfa ? 1 : 0 }).where('id', '=', app.id).execute();
    await bumpDirectoryVersion(trx, ctx.tenantId);
    await writeAudit(trx, ctx.tenantId, {
      activity: 'Update application',
      service: 'Core Directory',
      category: 'ApplicationManagement',
      operationType: 'Update',
      actor: plan.actor,
      at: now,
      target: { id: app.id, name: app.display_name },
      modified: [{ displayName: 'RequireMfa', oldValue: String(app.require_mfa === 1), newValue: String(plan.input.requireMfa) }],
    });
    await enqueue(trx, ctx.tenantId, 'app.require_mfa.updated', { appId: app.id, requireMfa: plan.input.requireMfa }, now);
    return now;
  };
  const appliedAt = ctx.db.isTransaction ? await run(ctx.db) : await ctx.db.transaction().execute(run);
  return { plan, appliedAt };
}

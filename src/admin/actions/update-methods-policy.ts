// Update the authentication methods policy (spec §7; Graph PATCH /policies/authenticationMethodsPolicy
// and .../authenticationMethodConfigurations/{id}). plan() checks the rights and the body and returns the
// preview, writing nothing; apply() writes exactly the planned policy if the stored one has not changed
// since (the version stamp: stale otherwise), with Entra's audit record (`Authentication Methods Policy
// Update`, ApplicationManagement) and an outbox event, in one transaction. The new version replaces the
// cached one in this process at once. Rights (entra-research §3, §10): Authentication Policy
// Administrator or Global Administrator with Policy.ReadWrite.AuthenticationMethod; apps with that
// permission.
import crypto from 'node:crypto';
import { writeAudit } from '../../events/audit.js';
import { enqueue } from '../../events/outbox.js';
import { CONFIG_NAMES, type ConfigId, type MethodsPolicyDoc, readMethodsPolicy, rememberMethodsPolicy, systemCredentialPreferencesOf, writeMethodsPolicy } from '../../methods/policy.js';
import type { Db } from '../../storage/db.js';
import { type ActionContext, ActionError, currentActor } from '../action.js';
import type { Actor } from '../actor.js';
import { checkAnyRole, checkPermission } from '../change.js';
import { patchConfig, patchPolicy } from '../policy-patch.js';
import { ROLES } from '../roles.js';

export const WRITE_DELEGATED = ['Policy.ReadWrite.AuthenticationMethod', 'Directory.AccessAsUser.All'];
export const WRITE_APP = ['Policy.ReadWrite.AuthenticationMethod'];
export const WRITE_ROLES = [ROLES.authPolicyAdmin, ROLES.globalAdmin];
export const READ_DELEGATED = ['Policy.Read.All', 'Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod', 'Directory.Read.All', 'Directory.AccessAsUser.All'];
export const READ_APP = ['Policy.Read.All', 'Policy.Read.AuthenticationMethod', 'Policy.ReadWrite.AuthenticationMethod'];
export const READ_ROLES = [ROLES.authPolicyAdmin, ROLES.globalAdmin, ROLES.globalReader];

/** Reading the policy: a read permission, and for a delegated caller one of READ_ROLES. */
export function checkPolicyRead(actor: Actor): void {
  checkPermission(actor, READ_DELEGATED, READ_APP);
  checkAnyRole(actor, READ_ROLES, 'reading the authentication methods policy');
}

export function checkPolicyWrite(actor: Actor): void {
  checkPermission(actor, WRITE_DELEGATED, WRITE_APP);
  checkAnyRole(actor, WRITE_ROLES, 'changing the authentication methods policy');
}

export interface UpdateMethodsPolicyInput {
  /** the configuration to change; absent: the policy's own settings */
  configId?: ConfigId;
  /** Graph's PATCH body */
  body: Record<string, unknown>;
}

export interface PolicyPlan {
  id: string;
  action: 'updateMethodsPolicy';
  actor: Actor;
  input: UpdateMethodsPolicyInput;
  /** the stored version the change was planned on */
  version: number;
  next: MethodsPolicyDoc;
  madeAt: number;
  preview: { action: 'updateMethodsPolicy'; target: { id: string; displayName: string }; changes: { property: string; oldValue: string | null; newValue: string | null }[]; warnings: string[] };
}

const show = (v: unknown) => (v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v));

function diff(before: Record<string, unknown>, after: Record<string, unknown>): PolicyPlan['preview']['changes'] {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => k !== 'configurations');
  return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).map((k) => ({ property: k, oldValue: show(before[k]), newValue: show(after[k]) }));
}

export async function plan(ctx: ActionContext, actor: Actor, input: UpdateMethodsPolicyInput): Promise<PolicyPlan> {
  checkPolicyWrite(actor);
  const stored = await readMethodsPolicy(ctx.db, ctx.tenantId);
  const { configId } = input;
  let next: MethodsPolicyDoc;
  let changes: PolicyPlan['preview']['changes'];
  const warnings: string[] = [];
  if (configId) {
    const before = stored.doc.configurations[configId];
    const after = await patchConfig(ctx.db, ctx.tenantId, configId, before, input.body);
    next = { ...stored.doc, configurations: { ...stored.doc.configurations, [configId]: after } };
    changes = diff(before, after);
    if (before.state === 'enabled' && after.state === 'disabled') warnings.push(`${CONFIG_NAMES[configId]} can no longer be used or registered by anyone; methods already registered stay, unusable, until it is enabled again.`);
    if (JSON.stringify(before.excludeTargets) !== JSON.stringify(after.excludeTargets) || JSON.stringify(before.includeTargets) !== JSON.stringify(after.includeTargets)) {
      warnings.push(`Members of an excluded group, and users in no included group, can no longer use or register ${CONFIG_NAMES[configId]}.`);
    }
  } else {
    next = patchPolicy(stored.doc, input.body);
    // a policy stored before systemCredentialPreferences existed compares as its default
    const whole = (d: MethodsPolicyDoc) => ({ ...d, systemCredentialPreferences: systemCredentialPreferencesOf(d) }) as unknown as Record<string, unknown>;
    changes = diff(whole(stored.doc), whole(next));
  }
  const target = configId ? { id: configId, displayName: CONFIG_NAMES[configId] } : { id: 'authenticationMethodsPolicy', displayName: 'Authentication Methods Policy' };
  return { id: crypto.randomUUID(), action: 'updateMethodsPolicy', actor, input, version: stored.version, next, madeAt: Date.now(), preview: { action: 'updateMethodsPolicy', target, changes, warnings } };
}

export async function apply(ctx: ActionContext, plan: PolicyPlan): Promise<{ plan: PolicyPlan; appliedAt: number }> {
  const run = async (trx: Db) => {
    checkPolicyWrite(await currentActor(trx, plan.actor));
    const now = Math.max(Date.now(), plan.madeAt);
    const written = await writeMethodsPolicy(trx, ctx.tenantId, plan.next, plan.version, now);
    if (!written) throw new ActionError('stale', 'The authentication methods policy changed since the preview was made; make a new preview.');
    const { target, changes } = plan.preview;
    await writeAudit(trx, ctx.tenantId, {
      activity: 'Authentication Methods Policy Update',
      service: 'Authentication Methods',
      category: 'ApplicationManagement',
      operationType: 'Update',
      actor: plan.actor,
      at: now,
      target: { id: target.id, name: target.displayName },
      modified: changes.map((c) => ({ displayName: c.property, oldValue: c.oldValue, newValue: c.newValue })),
    });
    await enqueue(trx, ctx.tenantId, 'tenant.methods_policy.updated', { configurationId: plan.input.configId ?? null, version: written.version, changed: changes.map((c) => c.property) }, now);
    return written;
  };
  const written = ctx.db.isTransaction ? await run(ctx.db) : await ctx.db.transaction().execute(run);
  if (!ctx.db.isTransaction) rememberMethodsPolicy(ctx.db, ctx.tenantId, written);
  return { plan, appliedAt: written.updatedAt };
}

// What the directory admin actions share (create and update users, groups and their members, directory
// role assignments): rights checks that name the missing right, and commitChange(), which writes the
// change, its audit records and its outbox event in one transaction after checking the plan again with
// the actor's rights as they are then. Actions on a user's credentials and account state use commit() in
// action.ts, which also lists what dies.
import crypto from 'node:crypto';
import { type AuditEntry, writeAudit } from '../events/audit.js';
import { type EventType, enqueue } from '../events/outbox.js';
import type { Db } from '../storage/db.js';
import { type ActionContext, ActionError, currentActor } from './action.js';
import type { Actor } from './actor.js';

export type ChangeActionName =
  | 'createUser' | 'createGroup' | 'updateGroup' | 'deleteGroup' | 'addGroupMember' | 'removeGroupMember' | 'addRoleMember' | 'removeRoleMember'
  | 'createApplication' | 'updateApplication' | 'deleteApplication' | 'addApplicationPassword' | 'removeApplicationPassword'
  | 'createServicePrincipal' | 'deleteServicePrincipal' | 'addAppRoleAssignment' | 'removeAppRoleAssignment' | 'createDelegatedGrant' | 'updateDelegatedGrant' | 'deleteDelegatedGrant';

export interface Change {
  property: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface ChangePreview {
  action: ChangeActionName;
  target: { type: 'User' | 'Group' | 'Role' | 'ServicePrincipal' | 'Application'; id: string; displayName: string };
  changes: Change[];
  warnings: string[];
}

export interface ChangePlan<I = unknown> {
  id: string;
  action: ChangeActionName;
  actor: Actor;
  input: I;
  madeAt: number;
  preview: ChangePreview;
}

export function newChangePlan<I>(fields: Omit<ChangePlan<I>, 'id' | 'madeAt'>): ChangePlan<I> {
  return { id: crypto.randomUUID(), madeAt: Date.now(), ...fields };
}

export interface ChangeWrite<R> {
  /** what apply returns */
  value: R;
  /** the audit records (Entra's activity names), all sharing one correlation id */
  audit: Omit<AuditEntry, 'actor' | 'at' | 'correlationId'>[];
  event: { type: EventType; payload: unknown };
}

export interface ChangeResult<R> {
  plan: ChangePlan;
  appliedAt: number;
  value: R;
}

/**
 * Applies a plan in one transaction: `write` receives the actor with its directory roles as they are now
 * (it checks rights and preconditions again, then writes), and its audit records and outbox event are
 * written beside the change. A refusal inside `write` rolls everything back.
 */
export async function commitChange<R>(ctx: ActionContext, plan: ChangePlan, write: (trx: Db, actor: Actor, now: number) => Promise<ChangeWrite<R>>): Promise<ChangeResult<R>> {
  const run = async (trx: Db) => {
    const now = Math.max(Date.now(), plan.madeAt);
    const actor = await currentActor(trx, plan.actor);
    const w = await write(trx, actor, now);
    const correlationId = crypto.randomUUID();
    for (const a of w.audit) await writeAudit(trx, ctx.tenantId, { ...a, actor: plan.actor, at: now, correlationId });
    await enqueue(trx, ctx.tenantId, w.event.type, w.event.payload, now);
    return { plan, appliedAt: now, value: w.value };
  };
  return ctx.db.isTransaction ? run(ctx.db) : ctx.db.transaction().execute(run);
}

/** The actor holds one of these permissions (delegated scope or application permission); 403 otherwise. */
export function checkPermission(actor: Actor, delegated: readonly string[], application: readonly string[]): void {
  if (actor.kind === 'system') return;
  if (actor.kind === 'user' ? delegated.some((s) => actor.scopes.includes(s)) : application.some((p) => actor.permissions.includes(p))) return;
  const names = actor.kind === 'app' ? application : delegated;
  throw new ActionError('forbidden', `Insufficient privileges to complete the operation. One of these ${actor.kind === 'app' ? 'application' : 'delegated'} permissions is required: ${names.join(', ') || '(none: not available to this kind of caller)'}.`, names.join(' or '));
}

/** Delegated callers also need one of these directory roles (apps are governed by their permissions). */
export function checkAnyRole(actor: Actor, roles: readonly string[], what: string): void {
  if (actor.kind !== 'user') return;
  if (actor.roles.some((r) => roles.includes(r))) return;
  throw new ActionError('forbidden', `Insufficient privileges to complete the operation: ${what} needs one of the directory roles ${roles.join(', ')}.`, roles.join(' or '));
}

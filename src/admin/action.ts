// The shape every admin action shares (one file per action in ./actions, each with plan() and apply()):
// plan() reads, checks rights and preconditions, and returns the preview and the changes, writing
// nothing; apply() writes those changes, the audit record and the outbox events in one transaction,
// refusing a plan that the user's state has outgrown since it was made.
import crypto from 'node:crypto';
import type { Config } from '../config/index.js';
import type { Secrets } from '../crypto/secrets.js';
import type { User } from '../directory/users.js';
import type { Db } from '../storage/db.js';
import type { UserTable } from '../storage/schema.js';
import { type AuditEntry, writeAudit } from '../events/audit.js';
import { type EventType, type SessionEndedPayload, enqueue } from '../events/outbox.js';
import type { Actor } from './actor.js';
import { type CredentialView, type Fate, type GrantView, type SessionView, userCredentials, whatDies } from './credentials.js';
import { type RightKind, mayActOn, rolesAllowedOn } from './roles.js';

export type ActionName =
  | 'resetPassword' | 'revokeSessions' | 'disableAccount' | 'enableAccount' | 'deleteUser' | 'setPasswordProfile' | 'updateUser'
  | 'deleteMethod' | 'createTap' | 'requireReregisterMfa' | 'revokeMfaSessions' | 'setPerUserMfa' | 'setAppRequireMfa' | 'viewMethodsPolicy'
  | 'endSession' | 'endGrant';

export type ActionErrorCode = 'not_found' | 'forbidden' | 'stale' | 'invalid' | 'duplicate';

/**
 * Whether a string holds a UTF-16 surrogate without its pair: JSON can carry one (`"\ud800"`), no text
 * can, and it would be stored and read back as U+FFFD (a password nobody can type).
 */
export function hasLoneSurrogate(s: string): boolean {
  return /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

/** A refused action: nothing was changed. `missingRight` names what the actor lacks (403). */
export class ActionError extends Error {
  override name = 'ActionError';
  constructor(
    readonly code: ActionErrorCode,
    message: string,
    readonly missingRight?: string,
  ) {
    super(message);
  }
}

export interface ActionContext {
  db: Db;
  secrets: Secrets;
  tenantId: string;
  config: Config;
  /**
   * Callers that show no preview (the Graph API) list only browser sessions (needed for back-channel
   * logout), not refresh-token grants, so an action costs the same whatever the user's token count:
   * the kill itself is a stamp either way.
   */
  lean?: boolean;
}

/** A column value, or "the time of apply" (stamps are taken when the change is written, D5). */
export type PatchValue = string | number | null | { now: true };
export type UserPatch = Partial<Record<keyof UserTable, PatchValue>>;
export const NOW = { now: true } as const;

export interface CredentialLine {
  kind: 'session' | 'grant';
  id: string;
  app: string;
  device: string;
  ip: string | null;
  lastUsedAt: string;
  /** for a dying credential: the AADSTS refusal its next use gets */
  refusal?: string;
}

export interface Preview {
  action: ActionName;
  target: { id: string; userPrincipalName: string; displayName: string };
  changes: { property: string; oldValue: string | null; newValue: string | null }[];
  ending: CredentialLine[];
  surviving: CredentialLine[];
  /** apps whose access tokens stay usable until they expire (non-CAE), at the latest `until` */
  accessTokensLiveUntil: { app: string; until: string }[];
  nextSignIn: string;
  warnings: string[];
  /** actions on authentication methods: each method of the user and what the action does to it */
  methods?: { id: string; type: string; fate: 'deleted' | 'deactivated' | 'kept' | 'added' }[];
  /** View authentication methods policy: per method, enabled for the user or not, and why (spec §7) */
  methodsPolicy?: EffectiveMethod[];
}

export interface EffectiveMethod {
  /** the policy's configuration id (`Password` for the password, which no configuration governs) */
  method: string;
  displayName: string;
  enabled: boolean;
  reason: 'enabled' | 'disabled' | 'notIncluded' | 'excluded' | 'alwaysEnabled';
  reasonText: string;
  excludedBy?: { id: string; displayName: string };
  includedBy?: { id: string; displayName: string };
}

export interface Plan<I = unknown> {
  id: string;
  action: ActionName;
  actor: Actor;
  targetId: string;
  input: I;
  fingerprint: string;
  madeAt: number;
  preview: Preview;
  patch: UserPatch;
  /** set only when the action deletes the user */
  deletesUser?: boolean;
  /** the rights rule checked at plan, checked again at apply with the actor's roles as they are then */
  rule?: RightsRule;
  /**
   * set when the preview's lists hold only their first page (a stored plan: the whole lists are kept apart
   * and paged), with the whole lists' lengths
   */
  listed?: ListedCounts;
}

export interface ListedCounts {
  ending: number;
  /** of `ending`, the refresh-token grants */
  endingGrants: number;
  surviving: number;
}

/** The lengths of a plan's preview lists, whether it holds them whole or only their first page. */
export function listedCounts(plan: Pick<Plan, 'preview' | 'listed'>): ListedCounts {
  return plan.listed ?? { ending: plan.preview.ending.length, endingGrants: plan.preview.ending.filter((l) => l.kind === 'grant').length, surviving: plan.preview.surviving.length };
}

export interface ApplyResult {
  plan: Plan;
  appliedAt: number;
  /**
   * what died: the browser sessions the change ended, the plan's ending grants (the first page only when
   * the plan holds only that: `endedCount` counts them all) and the grants made between preview and apply
   * that the change kills
   */
  ended: CredentialLine[];
  endedCount: number;
  /** a value shown once (a generated password) */
  secret?: string;
}

export interface Target {
  user: User;
  roles: string[];
  /** the user's registered methods as far as a plan depends on them (a one-time TAP's use included) */
  methods?: { id: string; used_at: number | null }[];
}

export async function loadTarget(db: Db, tenantId: string, id: string): Promise<Target> {
  const user = await db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where((eb) => eb.or([eb('id', '=', id), eb('upn_lower', '=', id.toLowerCase())])).executeTakeFirst();
  if (!user) throw new ActionError('not_found', `User '${id}' does not exist.`);
  const roles = (await db.selectFrom('user_roles').select('role').where('user_id', '=', user.id).execute()).map((r) => r.role).sort();
  const methods = await db.selectFrom('auth_methods').select(['id', 'used_at']).where('user_id', '=', user.id).where('status', '=', 'active').orderBy('id').execute();
  return { user, roles, methods };
}

/** Everything a plan depends on: account state, credentials' stamps, password, methods, roles (spec §5 "stale"). */
export function fingerprint(t: Target): string {
  const u = t.user;
  const methods = (t.methods ?? []).map((m) => `${m.id}:${m.used_at ?? ''}`).join(',');
  const state = [u.account_enabled, u.password_hash, u.force_change_password, u.force_change_password_mfa, u.last_password_change_at, u.sign_in_sessions_valid_from, u.mfa_remembered_valid_from, u.disabled_at, u.admin_reset_at, u.upn, t.roles.join(','), u.per_user_mfa_state, methods];
  return crypto.createHash('sha256').update(JSON.stringify(state)).digest('base64url');
}

export interface RightsRule {
  kind: RightKind;
  /** delegated: one of these scopes must be in the token */
  delegatedScopes: readonly string[];
  /** app-only: one of these application permissions must be granted */
  appPermissions: readonly string[];
  /** app-only callers also need a directory role covering the target (D7) */
  appNeedsRole?: boolean;
  /** whether an actor may do this to themself */
  selfAllowed?: boolean;
  what: string;
}

/** Checks the actor's rights on the target; throws ActionError('forbidden') naming the missing right. */
export function checkRights(actor: Actor, target: Target, rule: RightsRule): void {
  if (actor.kind === 'system') return;
  if (actor.kind === 'user') {
    if (actor.id === target.user.id && !rule.selfAllowed) throw new ActionError('forbidden', `You cannot ${rule.what} for yourself through an admin action.`, 'not self');
    if (!rule.delegatedScopes.some((s) => actor.scopes.includes(s))) {
      throw new ActionError('forbidden', `Insufficient privileges: the token needs one of the delegated permissions ${rule.delegatedScopes.join(', ')}.`, rule.delegatedScopes.join(' or '));
    }
    if (actor.id === target.user.id && rule.selfAllowed) return;
    if (!mayActOn(rule.kind, actor.roles, target.roles)) {
      const need = rolesAllowedOn(rule.kind, target.roles);
      throw new ActionError('forbidden', `Insufficient privileges to ${rule.what} for this user: a directory role among ${need.join(', ')} is required.`, need.join(' or '));
    }
    return;
  }
  if (!rule.appPermissions.some((p) => actor.permissions.includes(p))) {
    throw new ActionError('forbidden', `Insufficient privileges: the app needs one of the application permissions ${rule.appPermissions.join(', ')}.`, rule.appPermissions.join(' or '));
  }
  if (rule.appNeedsRole && !mayActOn(rule.kind, actor.roles, target.roles)) {
    const need = rolesAllowedOn(rule.kind, target.roles);
    throw new ActionError('forbidden', `Insufficient privileges to ${rule.what} for this user: the app's service principal needs a directory role among ${need.join(', ')}.`, need.join(' or '));
  }
}

/** The actor with the directory roles it holds now (a role lost between preview and apply counts). */
export async function currentActor(db: Db, actor: Actor): Promise<Actor> {
  if (actor.kind === 'user') return { ...actor, roles: (await db.selectFrom('user_roles').select('role').where('user_id', '=', actor.id).execute()).map((r) => r.role) };
  if (actor.kind === 'app') return { ...actor, roles: (await db.selectFrom('app_directory_roles').select('role').where('app_id', '=', actor.id).execute()).map((r) => r.role) };
  return actor;
}

function resolvePatch(patch: UserPatch, now: number): Partial<UserTable> {
  return Object.fromEntries(Object.entries(patch).map(([k, v]) => [k, v !== null && typeof v === 'object' ? now : v])) as Partial<UserTable>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function line(c: CredentialView, fate?: Fate): CredentialLine {
  const s = c as SessionView;
  const g = c as GrantView;
  return c.kind === 'session'
    ? { kind: 'session', id: s.id, app: s.apps.map((a) => a.appName).join(', ') || '(browser)', device: s.userAgent, ip: s.ip, lastUsedAt: iso(s.lastUsedAt), ...(fate ? { refusal: fate.dies } : {}) }
    : { kind: 'grant', id: g.grantId, app: g.appName, device: g.clientKind, ip: null, lastUsedAt: iso(g.lastUsedAt), ...(fate ? { refusal: fate.dies } : {}) };
}

function nextSignIn(after: User | undefined): string {
  if (!after) return 'none: the user no longer exists';
  if (after.account_enabled !== 1) return 'refused (AADSTS50057) until the account is enabled';
  if (!after.password_hash) return 'no password: the user cannot sign in with one';
  if (after.force_change_password_mfa === 1) return 'with the password, then MFA, then a forced password change';
  if (after.force_change_password === 1) return 'with the password, then a forced password change';
  return 'normal';
}

/** Builds the preview of a patch on the target from what the user holds now. */
export async function preview(ctx: ActionContext, action: ActionName, target: Target, patch: UserPatch, opts: { deletesUser?: boolean; changes: Preview['changes']; warnings?: string[] }): Promise<Preview> {
  const now = Date.now();
  const after = opts.deletesUser ? undefined : { ...target.user, ...resolvePatch(patch, now) };
  const creds = await userCredentials(ctx.db, ctx.secrets, target.user.id, { grants: !ctx.lean });
  const { dying, surviving } = whatDies(target.user, after, creds);
  const atTtl = ctx.config.accessTokenMaxTtl * 1000;
  const liveApps = new Map<string, number>();
  for (const f of dying) {
    const c = f.credential;
    const names = c.kind === 'session' ? c.apps.map((a) => a.appName) : [c.appName];
    for (const n of names) liveApps.set(n, Math.max(liveApps.get(n) ?? 0, Math.min(now, c.lastUsedAt) + atTtl, now));
  }
  return {
    action,
    target: { id: target.user.id, userPrincipalName: target.user.upn, displayName: target.user.display_name },
    changes: opts.changes,
    ending: dying.map((f) => line(f.credential, f)),
    surviving: surviving.map((c) => line(c)),
    accessTokensLiveUntil: [...liveApps].map(([app, until]) => ({ app, until: iso(until) })),
    nextSignIn: nextSignIn(after),
    warnings: opts.warnings ?? [],
  };
}

export function newPlan<I>(fields: Omit<Plan<I>, 'id' | 'madeAt'>): Plan<I> {
  return { id: crypto.randomUUID(), madeAt: Date.now(), ...fields };
}

export interface CommitSpec {
  audit: (now: number, before: User) => Omit<AuditEntry, 'actor' | 'at'>;
  event: EventType;
  /**
   * extra writes in the same transaction (e.g. a new password hash computed before); what it returns is
   * added to the event's payload, its `sessions` (ended by the extra writes) to the stamp's
   */
  extra?: (trx: Db, now: number) => Promise<void | { sessions?: SessionEndedPayload['sessions']; [k: string]: unknown }>;
  /** a precondition checked again inside the transaction, before anything is written */
  guard?: (trx: Db, target: Target) => Promise<void>;
}

/**
 * Writes a plan: re-reads the target, refuses if its state changed since the plan (stale), applies the
 * patch with the stamps at `now`, writes the audit record and the outbox event, all in one transaction.
 */
export async function commit(ctx: ActionContext, plan: Plan, spec: CommitSpec): Promise<ApplyResult> {
  // within a caller's transaction (several parts of one update, all or nothing), or in one of its own
  const inTransaction = <T>(fn: (trx: Db) => Promise<T>): Promise<T> => (ctx.db.isTransaction ? fn(ctx.db) : ctx.db.transaction().execute(fn));
  const written = await inTransaction(async (trx) => {
    // Lock the user's row first (a no-op write; PostgreSQL holds it to the end of the transaction, SQLite
    // writes one transaction at a time), so two applies on one user run one after the other and the
    // second sees the first's changes: stale, never a second TAP or a double patch.
    await trx.updateTable('users').set((eb) => ({ account_enabled: eb.ref('account_enabled') })).where('id', '=', plan.targetId).execute();
    const target = await loadTarget(trx, ctx.tenantId, plan.targetId).catch((e: unknown) => {
      throw e instanceof ActionError && e.code === 'not_found' ? new ActionError('stale', 'The user no longer exists; make a new preview.') : e;
    });
    if (fingerprint(target) !== plan.fingerprint) throw new ActionError('stale', "The user's account, credentials or roles changed since the preview was made; make a new preview.");
    if (plan.rule) checkRights(await currentActor(trx, plan.actor), target, plan.rule);
    if (spec.guard) await spec.guard(trx, target);
    const now = Math.max(Date.now(), plan.madeAt);
    // Inside the transaction only the browser sessions are read (few; back-channel logout needs them).
    const creds = await userCredentials(trx, ctx.secrets, target.user.id, { grants: false });
    const patch = resolvePatch(plan.patch, now);
    const after = plan.deletesUser ? undefined : { ...target.user, ...patch };
    const { dying } = whatDies(target.user, after, creds);
    const more = spec.extra ? await spec.extra(trx, now) : undefined;
    if (plan.deletesUser) {
      await trx.deleteFrom('users').where('id', '=', target.user.id).execute();
    } else if (Object.keys(patch).length) {
      await trx.updateTable('users').set(patch).where('id', '=', target.user.id).execute();
    }
    await writeAudit(trx, ctx.tenantId, { ...spec.audit(now, target.user), actor: plan.actor, at: now, target: { id: target.user.id, name: target.user.upn } });
    const sessions = dying.map((f) => f.credential as SessionView);
    const ended = sessions.map((s) => ({ sessionUid: s.id, apps: s.apps.map((a) => ({ clientId: a.clientId, sid: a.sid })) }));
    await enqueue(trx, ctx.tenantId, spec.event, { ...more, userId: target.user.id, reason: plan.action, sessions: [...ended, ...(more?.sessions ?? [])] } satisfies SessionEndedPayload, now);
    return { now, before: target.user, after, dying };
  });
  const sessions = written.dying.map((f) => line(f.credential, f));
  if (ctx.lean) return { plan, appliedAt: written.now, ended: sessions, endedCount: sessions.length };
  // The refresh-token grants that ended: those the plan listed as ending (the change kills what its preview
  // said), and those made since the plan (listed after the commit, outside the write lock: the stamp is
  // already written, and a grant issued after it is rightly not among them). No read grows with what the
  // user held at the preview.
  // (only a patch kills grants by the validity rule; an action that ends one by its own writes lists it itself)
  const byPatch = plan.deletesUser === true || Object.keys(plan.patch).length > 0;
  const planned = byPatch ? plan.preview.ending.filter((l) => l.kind === 'grant') : [];
  const { grants } = await userCredentials(ctx.db, ctx.secrets, plan.targetId, { grants: { createdSince: plan.madeAt } });
  const known = new Set(planned.map((l) => l.id));
  const late = whatDies(written.before, written.after, { sessions: [], grants: grants.filter((g) => !known.has(g.grantId)) }).dying.map((f) => line(f.credential, f));
  const ended = [...sessions, ...planned, ...late];
  return { plan, appliedAt: written.now, ended, endedCount: sessions.length + (byPatch ? listedCounts(plan).endingGrants : 0) + late.length };
}

/** A result with more that ended (by an action's own writes beside the patch). */
export function withEnded(result: ApplyResult, more: CredentialLine[]): ApplyResult {
  return { ...result, ended: [...result.ended, ...more], endedCount: result.endedCount + more.length };
}

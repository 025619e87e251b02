// The admin actions by name, for the callers that reach them by name (/latchkey/v1, the command line):
// each entry is an action file (plan/apply/RULE) plus what a caller needs to drive it — the input it
// takes (one declaration gives the API's body parsing, the command line's options and the docs), its
// command-line name, and whether it is destructive (the command line asks before applying).
//
// Adding an action written in the same plan/apply shape is one entry in ACTIONS (and its name in
// ActionName in ./action.ts); one whose apply returns a value once (a Temporary Access Pass) names it
// with `secret`, e.g. { property: 'temporaryAccessPass', label: 'Temporary Access Pass' }.
import { type ActionContext, type ActionName, ActionError, type ApplyResult, type Plan, type RightsRule, type Target, checkRights, hasLoneSurrogate } from './action.js';
import { keepsGlobalAdmin } from './global-admins.js';
import type { Actor } from './actor.js';
import * as createTap from './actions/create-tap.js';
import * as deleteMethod from './actions/delete-method.js';
import * as deleteUser from './actions/delete-user.js';
import * as disableAccount from './actions/disable-account.js';
import * as enableAccount from './actions/enable-account.js';
import * as endGrant from './actions/end-grant.js';
import * as endSession from './actions/end-session.js';
import * as requireReregisterMfa from './actions/require-reregister-mfa.js';
import * as resetPassword from './actions/reset-password.js';
import * as revokeMfaSessions from './actions/revoke-mfa-sessions.js';
import * as revokeSessions from './actions/revoke-sessions.js';
import * as setPasswordProfile from './actions/set-password-profile.js';
import * as setPerUserMfa from './actions/set-per-user-mfa.js';
import * as viewMethodsPolicy from './actions/view-methods-policy.js';

/** One input property of an action. */
export interface InputField {
  type: 'string' | 'boolean' | 'integer';
  description: string;
  required?: boolean;
  /** allowed values of a string */
  values?: readonly string[];
  min?: number;
  max?: number;
  /** a secret (a password): never taken on a command line, where other users and the shell history see it */
  secret?: boolean;
}

export type InputSchema = Readonly<Record<string, InputField>>;

/** What a registered action's file exports (the shape every file in ./actions has). */
interface ActionModule<I, P> {
  RULE: RightsRule;
  plan(ctx: ActionContext, actor: Actor, targetId: string, input: I): Promise<Plan<P>>;
  apply(ctx: ActionContext, plan: Plan<P>): Promise<ApplyResult>;
}

interface Meta {
  /** the command-line name (verb-noun, kebab-case) */
  command: string;
  summary: string;
  /** the command line asks for confirmation before applying */
  destructive: boolean;
  /** a read (View authentication methods policy): its preview is the answer, there is nothing to apply */
  readOnly?: boolean;
  input?: InputSchema;
  /** what plan() refuses beyond the rights rule whatever the input is (a protected target) */
  guard?: (ctx: ActionContext, target: Target) => Promise<void>;
  /** the value an apply returns once (ApplyResult.secret): its property in API results and its label on the command line */
  secret?: { property: string; label: string };
}

export interface RegisteredAction extends Required<Omit<Meta, 'guard' | 'secret'>> {
  name: ActionName;
  rule: RightsRule;
  guard?: Meta['guard'];
  secret: NonNullable<Meta['secret']>;
  /** a request body (without `dryRun`) to the action's typed input; ActionError('invalid') names the field */
  parseInput(body: Readonly<Record<string, unknown>>): unknown;
  plan(ctx: ActionContext, actor: Actor, targetId: string, input: unknown): Promise<Plan>;
  apply(ctx: ActionContext, plan: Plan): Promise<ApplyResult>;
}

/** Checks a body against a schema: only known properties, each of its type and range. */
export function parseInput(schema: InputSchema, body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(body)) if (!Object.hasOwn(schema, key)) throw new ActionError('invalid', `Property '${key}' is not an input of this action${Object.keys(schema).length ? ` (known: ${Object.keys(schema).join(', ')})` : ' (it takes none)'}.`);
  for (const [key, f] of Object.entries(schema)) {
    const v = body[key];
    if (v === undefined || v === null) {
      if (f.required) throw new ActionError('invalid', `Property '${key}' is required.`);
      continue;
    }
    if (f.type === 'boolean' && typeof v !== 'boolean') throw new ActionError('invalid', `Property '${key}' must be a boolean.`);
    if (f.type === 'integer' && !(typeof v === 'number' && Number.isInteger(v))) throw new ActionError('invalid', `Property '${key}' must be a whole number.`);
    if (f.type === 'string') {
      if (typeof v !== 'string') throw new ActionError('invalid', `Property '${key}' must be a string.`);
      if (v.length > 256 || v.includes('\0') || hasLoneSurrogate(v)) throw new ActionError('invalid', `Property '${key}' is too long or contains a character that is not allowed.`);
      if (f.values && !f.values.includes(v)) throw new ActionError('invalid', `Property '${key}' must be one of ${f.values.join(', ')}.`);
    }
    if (typeof v === 'number' && ((f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max))) throw new ActionError('invalid', `Property '${key}' must be between ${f.min ?? '-∞'} and ${f.max ?? '∞'}.`);
    out[key] = v;
  }
  return out;
}

function entry<I, P>(name: ActionName, mod: ActionModule<I, P>, meta: Meta): RegisteredAction {
  const input = meta.input ?? {};
  return {
    ...meta,
    input,
    readOnly: meta.readOnly ?? false,
    secret: meta.secret ?? { property: 'secret', label: 'secret' },
    name,
    rule: mod.RULE,
    // the schema checked every property's type: the object is the action's input
    parseInput: (body) => parseInput(input, body) as I,
    plan: (ctx, actor, targetId, inp) => mod.plan(ctx, actor, targetId, inp as I) as Promise<Plan>,
    apply: (ctx, plan) => mod.apply(ctx, plan as Plan<P>),
  };
}

const lastGlobalAdmin = (what: string) => (ctx: ActionContext, target: Target) => keepsGlobalAdmin(ctx.db, ctx.tenantId, target.user.id, what);

const FORCE_CHANGE: InputField = { type: 'boolean', description: 'The user must change the password at next sign-in.' };

export const ACTIONS: Readonly<Record<string, RegisteredAction>> = {
  resetPassword: entry('resetPassword', resetPassword, {
    command: 'reset-password',
    summary: 'Reset password: a generated password shown once (forced change), or an admin-chosen one',
    destructive: true,
    secret: { property: 'newPassword', label: 'new password' },
    input: {
      newPassword: { type: 'string', secret: true, description: 'The new password; absent: one is generated at apply and returned once.' },
      forceChangePasswordNextSignIn: { ...FORCE_CHANGE, description: `${FORCE_CHANGE.description} Default: true for a generated password, false for a chosen one.` },
    },
  }),
  revokeSessions: entry('revokeSessions', revokeSessions, { command: 'revoke-sessions', summary: 'Revoke sessions: every browser session and refresh token dies', destructive: true }),
  disableAccount: entry('disableAccount', disableAccount, { command: 'disable-account', summary: 'Disable account: sign-in refused, everything issued dies', destructive: true, guard: lastGlobalAdmin('disable the account') }),
  enableAccount: entry('enableAccount', enableAccount, { command: 'enable-account', summary: 'Enable account: what died while disabled stays dead', destructive: false }),
  deleteUser: entry('deleteUser', deleteUser, { command: 'delete-user', summary: 'Delete user and everything it holds', destructive: true, guard: lastGlobalAdmin('delete the user') }),
  setPasswordProfile: entry('setPasswordProfile', setPasswordProfile, {
    command: 'set-password-profile',
    summary: 'Set the password profile: a new password and/or the forced-change flags',
    destructive: true,
    input: {
      password: { type: 'string', secret: true, description: 'A new password (an admin reset: password-based sessions and every refresh token die).' },
      forceChangePasswordNextSignIn: FORCE_CHANGE,
      forceChangePasswordNextSignInWithMfa: { type: 'boolean', description: 'The user must do MFA, then change the password, at next sign-in.' },
    },
  }),
  requireReregisterMfa: entry('requireReregisterMfa', requireReregisterMfa, { command: 'require-reregister-mfa', summary: 'Require re-register MFA: phone, Authenticator and software OATH methods deleted; passkeys and the password kept', destructive: true }),
  revokeMfaSessions: entry('revokeMfaSessions', revokeMfaSessions, { command: 'revoke-mfa-sessions', summary: 'Revoke MFA sessions: remembered MFA dies, sessions stay signed in', destructive: true }),
  createTap: entry('createTap', createTap, {
    command: 'create-tap',
    summary: 'Add a Temporary Access Pass (replacing any existing one), shown once',
    destructive: true,
    secret: { property: 'temporaryAccessPass', label: 'Temporary Access Pass' },
    input: {
      lifetimeInMinutes: { type: 'integer', min: 10, max: 43_200, description: "Minutes the pass is usable, within the authentication methods policy's TAP bounds (default: its defaultLifetimeInMinutes, 60 in a new tenant)." },
      isUsableOnce: { type: 'boolean', description: "One sign-in only (default: the policy's isUsableOnce, false in a new tenant)." },
    },
  }),
  deleteMethod: entry('deleteMethod', deleteMethod, { command: 'delete-method', summary: 'Delete one authentication method', destructive: true, input: { methodId: { type: 'string', required: true, description: 'The id of the method to delete.' } } }),
  endSession: entry('endSession', endSession, { command: 'end-session', summary: 'End one browser session (its codes die; back-channel logout to its apps); the rest lives on', destructive: true, input: { sessionId: { type: 'string', required: true, description: 'The id of the browser session to end (GET .../sessions).' } } }),
  endGrant: entry('endGrant', endGrant, { command: 'end-grant', summary: "End one refresh-token grant (its chain dies; its access tokens live until they expire, refused at once by Latchkey's own routes)", destructive: true, input: { grantId: { type: 'string', required: true, description: 'The id of the grant to end (GET .../grants).' } } }),
  viewMethodsPolicy: entry('viewMethodsPolicy', viewMethodsPolicy, { command: 'view-methods-policy', summary: 'View authentication methods policy: per method, enabled for this user or not, and why', destructive: false, readOnly: true }),
  setPerUserMfa: entry('setPerUserMfa', setPerUserMfa, { command: 'set-per-user-mfa', summary: 'Set per-user MFA state (enabling requires MFA for everything the user signs in to)', destructive: true, input: { state: { type: 'string', required: true, values: setPerUserMfa.PER_USER_MFA_STATES, description: 'disabled, enabled or enforced.' } } }),
};

export function findAction(name: string): RegisteredAction | undefined {
  return Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
}

/**
 * Why the actor may not do this action on this target whatever the input, or undefined when it may:
 * the same rights rule and guard that plan() checks (a missing right, acting on oneself, a protected target).
 */
export async function refusal(ctx: ActionContext, actor: Actor, target: Target, action: RegisteredAction): Promise<ActionError | undefined> {
  try {
    checkRights(actor, target, action.rule);
    await action.guard?.(ctx, target);
    return undefined;
  } catch (e) {
    if (e instanceof ActionError) return e;
    throw e;
  }
}

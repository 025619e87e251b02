// Graph's authentication methods API (entra-research §2) at /users/{id|upn}/authentication and
// /me/authentication: all methods (polymorphic, the password included), password, software OATH and
// Temporary Access Pass collections; beta per-user MFA `requirements` and `signInPreferences`; and the
// tenant's security defaults (/policies/identitySecurityDefaultsEnforcementPolicy, D18). Thin routes:
// parse, authorize, call the admin action, shape the reply as Graph does.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ActionContext, ActionError, type Target, checkRights, loadTarget } from '../admin/action.js';
import type { Actor } from '../admin/actor.js';
import * as createTap from '../admin/actions/create-tap.js';
import * as deleteMethod from '../admin/actions/delete-method.js';
import * as setPerUserMfa from '../admin/actions/set-per-user-mfa.js';
import { METHODS_WRITE_RULE } from '../admin/methods.js';
import { ROLES, mayActOn, rolesAllowedOn } from '../admin/roles.js';
import { rememberTenantSettings, tenantSettings, writeTenantSettings } from '../directory/settings.js';
import { writeAudit } from '../events/audit.js';
import { METHODS, strategy, systemPreferredFor } from '../methods/index.js';
import { type UserMethodsPolicy, methodsPolicyFor } from '../methods/policy.js';
import { findMethod, listMethods, listMethodsOfType } from '../methods/store.js';
import type { MethodRow, MethodStrategy, MethodType } from '../methods/types.js';
import { authenticate, requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { routeKit } from './kit.js';
import { parseDateTimeLiteral } from './odata-filter.js';

const READ_DELEGATED = ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All', 'Directory.AccessAsUser.All'];
const READ_APP = ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'];
/** per-method granular scopes (Entra, Oct 2025), accepted beside the classic ones for that method's collection */
const GRANULAR: Partial<Record<MethodType, { read: string[]; write: string[] }>> = {
  temporaryAccessPass: { read: ['UserAuthMethod-TAP.Read.All', 'UserAuthMethod-TAP.ReadWrite.All'], write: ['UserAuthMethod-TAP.ReadWrite.All'] },
  fido2: { read: ['UserAuthMethod-Passkey.Read.All', 'UserAuthMethod-Passkey.ReadWrite.All'], write: ['UserAuthMethod-Passkey.ReadWrite.All'] },
};
const POLICY_READ = ['Policy.Read.All', 'Policy.ReadWrite.SecurityDefaults', 'Directory.Read.All', 'Directory.AccessAsUser.All'];
const POLICY_WRITE_DELEGATED = ['Policy.ReadWrite.SecurityDefaults', 'Directory.AccessAsUser.All'];
const POLICY_WRITE_APP = ['Policy.ReadWrite.SecurityDefaults'];
/** Entra: Global, Security or Conditional Access Administrator may change security defaults */
const SECURITY_DEFAULTS_ROLES = [ROLES.globalAdmin, 'Security Administrator', 'Conditional Access Administrator'];
/** Graph's fixed id and texts of the security defaults policy */
const SECURITY_DEFAULTS = {
  id: '00000000-0000-0000-0000-000000000005',
  displayName: 'Security Defaults',
  description: 'Security defaults is a set of basic identity security mechanisms recommended by Microsoft. When enabled, these recommendations will be automatically enforced in your organization. Administrators and users will be better protected from common identity related attacks.',
};
/** signInPreferences.userPreferredMethodForSecondaryAuthentication ↔ the method it names */
const PREFERRED: Record<string, MethodType | undefined> = { oath: 'softwareOath', push: undefined, voiceMobile: undefined, voiceAlternateMobile: undefined, voiceOffice: undefined, sms: undefined };
/** the /authentication segments that exist on /beta only */
const BETA_ONLY = ['/requirements', '/signInPreferences'];
/** the security defaults policy's properties, all selectable */
const SECURITY_DEFAULTS_SELECT = ['id', 'displayName', 'description', 'isEnabled'];

/** JSON object bodies only, with only the properties this route knows; each error names the field. */
function objectBody(req: FastifyRequest, type: string, allowed: readonly string[]): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new GraphError(400, 'BadRequest', 'The request body must be a JSON object.');
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k) && !k.startsWith('@odata.')) throw new GraphError(400, 'Request_BadRequest', `Property '${k}' does not exist or cannot be set on type 'microsoft.graph.${type}'.`);
  }
  return b as Record<string, unknown>;
}

function optionalBody(req: FastifyRequest, type: string, allowed: readonly string[]): Record<string, unknown> {
  return req.body === undefined || req.body === '' ? {} : objectBody(req, type, allowed);
}

/** What the routes of this file share: the action context, URL shapes, the target loader, read rights. */
function methodKit(scope: FastifyInstance, deps: GraphDeps) {
  const { db, tenant } = deps;
  const ctx: ActionContext = { db, secrets: deps.secrets, tenantId: tenant.id, config: deps.config, lean: true };
  const version = (req: FastifyRequest) => (req.url.startsWith('/beta') ? 'beta' : 'v1.0');
  const base = (req: FastifyRequest) => `${deps.origin}/${version(req)}`;

  type Handler = (req: FastifyRequest, reply: FastifyReply, actor: Actor, target: Target) => Promise<unknown>;
  /** Both /users/{id|upn}/… and /me/…: authenticates, then loads the target user (404 if none). */
  const onUser = (handler: Handler) => async (req: FastifyRequest, reply: FastifyReply) => {
    const actor = await authenticate(req, db, deps.verify);
    const p = req.params as { id?: string };
    let id: string;
    if (p.id === undefined) {
      if (actor.kind !== 'user') throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
      id = actor.id;
    } else {
      if (!p.id || p.id.length > 256 || p.id.includes('\0')) throw new GraphError(400, 'BadRequest', 'Invalid object identifier.');
      id = p.id;
    }
    const target = await loadTarget(db, tenant.id, id).catch((e: unknown) => {
      throw e instanceof ActionError && e.code === 'not_found' ? new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`) : e;
    });
    return handler(req, reply, actor, target);
  };
  const betaOnly = (req: FastifyRequest) => {
    if (version(req) !== 'beta') throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${req.url.split('?')[0]!.split('/').pop() ?? ''}'.`);
  };
  // Graph's authentication methods API takes no query option (no $select, $filter, $top...): a read naming
  // one is refused, as every other Graph route refuses the options it does not support
  const { query } = routeKit(deps);
  const what = (path: string) => (path.includes('/:') ? 'an authentication method' : path.slice(1));
  const route = (path: string, verb: 'get' | 'post' | 'patch' | 'delete', handler: Handler) => {
    const checked: Handler = async (req, reply, actor, target) => {
      if (BETA_ONLY.includes(path)) betaOnly(req);
      if (verb === 'get') query(req, [], what(path));
      return handler(req, reply, actor, target);
    };
    scope[verb](`/users/:id/authentication${path}`, onUser(checked));
    scope[verb](`/me/authentication${path}`, onUser(checked));
  };

  /**
   * Reading a user's methods: one's own always; another's with a read permission and, for a delegated
   * caller, a directory role covering the target (entra-research §2, §10).
   */
  const checkRead = (actor: Actor, target: Target, type?: MethodType) => {
    if (actor.kind === 'user' && actor.id === target.user.id) return;
    const granular = type ? (GRANULAR[type]?.read ?? []) : [];
    requirePermission(actor, [...READ_DELEGATED, ...granular], [...READ_APP, ...granular]);
    if (actor.kind === 'user' && !mayActOn('methodsRead', actor.roles, target.roles)) {
      throw new GraphError(403, 'Authorization_RequestDenied', `Insufficient privileges to read this user's authentication methods: a directory role among ${rolesAllowedOn('methodsRead', target.roles).join(', ')} is required.`);
    }
  };

  // Authentication Administrators read phone numbers and email addresses masked (entra-research §10,
  // `restrictedRead`); Privileged Authentication and Global Administrators in full. No method holding
  // either exists yet: the phone and email strategies' toGraph() will take the reader's rights here.
  // A TAP's usability depends on the user's effective methods policy (spec §6, §7): read once per request.
  const shape = (s: MethodStrategy, row: MethodRow | undefined, target: Target, policy: UserMethodsPolicy) => s.toGraph(row, target.user, Date.now(), policy);
  const policyOf = (target: Target) => methodsPolicyFor(db, target.user);

  const allOf = async (target: Target) => {
    const [rows, policy] = await Promise.all([listMethods(db, target.user.id), policyOf(target)]);
    const out = target.user.password_hash ? [shape(METHODS.password, undefined, target, policy)] : [];
    for (const r of rows) {
      const s = strategy(r.type);
      if (s) out.push(shape(s, r, target, policy));
    }
    return out;
  };

  const context = (req: FastifyRequest, target: Target, collection: string, entity = false) => `${base(req)}/$metadata#users('${target.user.id}')/authentication/${collection}${entity ? '/$entity' : ''}`;
  const notFound = (id: string) => new GraphError(404, 'Request_ResourceNotFound', `Authentication method '${id}' does not exist for this user.`);
  return { db, tenant, ctx, base, route, checkRead, shape, policyOf, allOf, context, notFound };
}
type Kit = ReturnType<typeof methodKit>;

export function registerMethodRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const k = methodKit(scope, deps);
  registerReadsAndDeletes(k);
  registerTapCreate(k);
  registerRequirements(k);
  registerSignInPreferences(k);
  registerSecurityDefaults(scope, deps);
}

function registerReadsAndDeletes({ db, ctx, route, checkRead, shape, policyOf, allOf, context, notFound }: Kit): void {
  // --- all methods ---
  route('/methods', 'get', async (req, reply, actor, target) => {
    checkRead(actor, target);
    return reply.send({ '@odata.context': context(req, target, 'methods'), value: await allOf(target) });
  });
  route('/methods/:methodId', 'get', async (req, reply, actor, target) => {
    checkRead(actor, target);
    const { methodId } = req.params as { methodId: string };
    const found = (await allOf(target)).find((m) => m.id === methodId);
    if (!found) throw notFound(methodId);
    return reply.send({ '@odata.context': context(req, target, 'methods', true), ...found });
  });

  // --- one collection per method type ---
  for (const s of Object.values(METHODS) as MethodStrategy[]) {
    const list = async (target: Target) => {
      const policy = await policyOf(target);
      if (s.type === 'password') return target.user.password_hash ? [shape(s, undefined, target, policy)] : [];
      return (await listMethodsOfType(db, target.user.id, s.type)).map((r) => shape(s, r, target, policy));
    };
    route(`/${s.collection}`, 'get', async (req, reply, actor, target) => {
      checkRead(actor, target, s.type);
      return reply.send({ '@odata.context': context(req, target, s.collection), value: await list(target) });
    });
    route(`/${s.collection}/:methodId`, 'get', async (req, reply, actor, target) => {
      checkRead(actor, target, s.type);
      const { methodId } = req.params as { methodId: string };
      const found = (await list(target)).find((m) => m.id === methodId);
      if (!found) throw notFound(methodId);
      return reply.send({ '@odata.context': context(req, target, s.collection, true), ...found });
    });
    if (s.adminMayDelete) {
      route(`/${s.collection}/:methodId`, 'delete', async (req, reply, actor, target) => {
        const { methodId } = req.params as { methodId: string };
        const plan = await deleteMethod.plan(ctx, actor, target.user.id, { methodId, type: s.type });
        await deleteMethod.apply(ctx, plan);
        return reply.code(204).send();
      });
    }
  }

}

function registerTapCreate({ db, ctx, base, route, shape, policyOf, context }: Kit): void {
  // --- create a TAP (201; the value only in this response) ---
  route('/temporaryAccessPassMethods', 'post', async (req, reply, actor, target) => {
    const b = optionalBody(req, 'temporaryAccessPassAuthenticationMethod', ['startDateTime', 'lifetimeInMinutes', 'isUsableOnce']);
    const input: createTap.CreateTapInput = {};
    if (b.startDateTime !== undefined && b.startDateTime !== null) {
      // strict: a day that does not exist (2026-02-30) is refused, never rolled over into the next month
      const at = typeof b.startDateTime === 'string' ? parseDateTimeLiteral(b.startDateTime) : undefined;
      if (!at) throw new GraphError(400, 'Request_BadRequest', "Property 'startDateTime' must be a date and time in ISO 8601 form, such as 2027-01-31T09:00:00Z.");
      input.startDateTime = at.ms;
    }
    if (b.lifetimeInMinutes !== undefined && b.lifetimeInMinutes !== null) {
      if (typeof b.lifetimeInMinutes !== 'number' || !Number.isInteger(b.lifetimeInMinutes)) throw new GraphError(400, 'Request_BadRequest', "Property 'lifetimeInMinutes' must be a whole number.");
      input.lifetimeInMinutes = b.lifetimeInMinutes;
    }
    if (b.isUsableOnce !== undefined && b.isUsableOnce !== null) {
      if (typeof b.isUsableOnce !== 'boolean') throw new GraphError(400, 'Request_BadRequest', "Property 'isUsableOnce' must be a boolean.");
      input.isUsableOnce = b.isUsableOnce;
    }
    const plan = await createTap.plan(ctx, actor, target.user.id, input);
    const result = await createTap.apply(ctx, plan);
    const row = await findMethod(db, target.user.id, result.method.id);
    const shaped = { ...shape(METHODS.temporaryAccessPass, row, target, await policyOf(target)), temporaryAccessPass: result.secret };
    return reply
      .code(201)
      .header('location', `${base(req)}/users/${target.user.id}/authentication/temporaryAccessPassMethods/${result.method.id}`)
      .send({ '@odata.context': context(req, target, 'temporaryAccessPassMethods', true), ...shaped });
  });

}

function registerRequirements({ ctx, base, route }: Kit): void {
  // --- beta: per-user MFA state ---
  const requirementsRead = (actor: Actor, target: Target) => {
    if (actor.kind === 'user' && actor.id === target.user.id) return;
    requirePermission(actor, [...READ_DELEGATED, ...setPerUserMfa.RULE.delegatedScopes, 'Policy.Read.All'], [...READ_APP, ...setPerUserMfa.RULE.appPermissions, 'Policy.Read.All']);
    if (actor.kind === 'user' && !mayActOn('methodsRead', actor.roles, target.roles) && !mayActOn('mfaState', actor.roles, target.roles)) {
      throw new GraphError(403, 'Authorization_RequestDenied', `Insufficient privileges to read this user's MFA requirements: a directory role among ${[...new Set([...rolesAllowedOn('mfaState', target.roles), ...rolesAllowedOn('methodsRead', target.roles)])].join(', ')} is required.`);
    }
  };
  route('/requirements', 'get', async (req, reply, actor, target) => {
    requirementsRead(actor, target);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#users('${target.user.id}')/authentication/requirements`, perUserMfaState: target.user.per_user_mfa_state });
  });
  route('/requirements', 'patch', async (req, reply, actor, target) => {
    const b = objectBody(req, 'strongAuthenticationRequirements', ['perUserMfaState']);
    const state = b.perUserMfaState;
    if (typeof state !== 'string' || !(setPerUserMfa.PER_USER_MFA_STATES as readonly string[]).includes(state)) {
      throw new GraphError(400, 'Request_BadRequest', `Property 'perUserMfaState' must be one of ${setPerUserMfa.PER_USER_MFA_STATES.join(', ')}.`);
    }
    const plan = await setPerUserMfa.plan(ctx, actor, target.user.id, { state: state as setPerUserMfa.PerUserMfaState });
    await setPerUserMfa.apply(ctx, plan);
    return reply.code(204).send();
  });

}

function registerSignInPreferences({ db, tenant, base, route, checkRead, policyOf }: Kit): void {
  // --- beta: sign-in preferences. System-preferred MFA (spec §8's order) is on unless turned off for the
  // user; then the user's default method is offered first at the second factor. ---
  const preferenceOf = (target: Target) => Object.entries(PREFERRED).find(([, t]) => t !== undefined && t === target.user.preferred_mfa_method)?.[0] ?? null;
  route('/signInPreferences', 'get', async (req, reply, actor, target) => {
    checkRead(actor, target);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#users('${target.user.id}')/authentication/signInPreferences`, isSystemPreferredAuthenticationMethodEnabled: systemPreferredFor(target.user, (await policyOf(target)).systemPreferred), userPreferredMethodForSecondaryAuthentication: preferenceOf(target) });
  });
  route('/signInPreferences', 'patch', async (req, reply, actor, target) => {
    const b = objectBody(req, 'signInPreferences', ['userPreferredMethodForSecondaryAuthentication', 'isSystemPreferredAuthenticationMethodEnabled']);
    // one's own preference, or an admin who may manage the target's methods
    checkRights(actor, target, { ...METHODS_WRITE_RULE, delegatedScopes: [...METHODS_WRITE_RULE.delegatedScopes, 'UserAuthenticationMethod.ReadWrite'], selfAllowed: true, what: 'change sign-in preferences' });
    const system = b.isSystemPreferredAuthenticationMethodEnabled;
    if (system !== undefined && typeof system !== 'boolean') throw new GraphError(400, 'Request_BadRequest', "Property 'isSystemPreferredAuthenticationMethodEnabled' must be a boolean.");
    const wanted = b.userPreferredMethodForSecondaryAuthentication;
    let type: MethodType | undefined;
    if (wanted !== undefined) {
      if (typeof wanted !== 'string' || !Object.hasOwn(PREFERRED, wanted)) {
        throw new GraphError(400, 'Request_BadRequest', `Property 'userPreferredMethodForSecondaryAuthentication' must be one of ${Object.keys(PREFERRED).join(', ')}.`);
      }
      type = PREFERRED[wanted];
      if (!type || !(await listMethodsOfType(db, target.user.id, type)).length) {
        throw new GraphError(400, 'Request_BadRequest', `Property 'userPreferredMethodForSecondaryAuthentication': the user has no registered method for '${wanted}'.`);
      }
    }
    if (system === undefined && type === undefined) return reply.code(204).send();
    const modified: { displayName: string; oldValue: string | null; newValue: string | null }[] = [];
    if (type !== undefined) modified.push({ displayName: 'userPreferredMethodForSecondaryAuthentication', oldValue: preferenceOf(target), newValue: wanted as string });
    if (system !== undefined) modified.push({ displayName: 'isSystemPreferredAuthenticationMethodEnabled', oldValue: String(systemPreferredFor(target.user, (await policyOf(target)).systemPreferred)), newValue: String(system) });
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('users')
        .set({ ...(type !== undefined ? { preferred_mfa_method: type } : {}), ...(system !== undefined ? { system_preferred_mfa: system ? 1 : 0 } : {}) })
        .where('id', '=', target.user.id)
        .execute();
      await writeAudit(trx, tenant.id, { activity: 'PATCH UserAuthMethod.PatchSignInPreferencesAsync', service: 'Authentication Methods', category: 'ApplicationManagement', operationType: 'Update', actor, target: { id: target.user.id, name: target.user.upn }, modified });
    });
    return reply.code(204).send();
  });
}

/** Who may switch security defaults: the write permission and, for a user, one of Entra's roles for it. */
export function checkSecurityDefaultsWrite(actor: Actor): void {
  requirePermission(actor, POLICY_WRITE_DELEGATED, POLICY_WRITE_APP);
  if (actor.kind === 'user' && !actor.roles.some((r) => SECURITY_DEFAULTS_ROLES.includes(r))) {
    throw new GraphError(403, 'Authorization_RequestDenied', `Insufficient privileges to change security defaults: a directory role among ${SECURITY_DEFAULTS_ROLES.join(', ')} is required.`);
  }
}

function registerSecurityDefaults(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const kit = routeKit(deps);
  // --- security defaults (D18: the tenant-wide require-MFA switch; $select only, as Graph) ---
  scope.get('/policies/identitySecurityDefaultsEnforcementPolicy', async (req, reply) => {
    const actor = await authenticate(req, db, deps.verify);
    requirePermission(actor, POLICY_READ, POLICY_READ.filter((p) => p !== 'Directory.AccessAsUser.All'));
    const q = kit.query(req, ['$select'], 'identitySecurityDefaultsEnforcementPolicy');
    const select = kit.select(q, SECURITY_DEFAULTS_SELECT, SECURITY_DEFAULTS_SELECT);
    const s = await tenantSettings(db, tenant.id);
    const all: Record<string, unknown> = { ...SECURITY_DEFAULTS, isEnabled: s.security_defaults === 1 };
    const context = `${kit.base(req)}/$metadata#policies/identitySecurityDefaultsEnforcementPolicy${q.$select !== undefined ? `(${select.join(',')})` : ''}/$entity`;
    return reply.send({ '@odata.context': context, ...Object.fromEntries(select.map((k) => [k, all[k]])) });
  });
  scope.patch('/policies/identitySecurityDefaultsEnforcementPolicy', async (req, reply) => {
    const actor = await authenticate(req, db, deps.verify);
    checkSecurityDefaultsWrite(actor);
    const b = objectBody(req, 'identitySecurityDefaultsEnforcementPolicy', ['isEnabled']);
    if (typeof b.isEnabled !== 'boolean') throw new GraphError(400, 'Request_BadRequest', "Property 'isEnabled' is required and must be a boolean.");
    const isEnabled = b.isEnabled;
    const written = await db.transaction().execute(async (trx) => {
      const s = await tenantSettings(trx, tenant.id);
      const now = Date.now();
      const after = { ...s, security_defaults: isEnabled ? 1 : 0, updated_at: Math.max(now, s.updated_at + 1) };
      await writeTenantSettings(trx, after);
      await writeAudit(trx, tenant.id, { activity: 'Update policy', service: 'Core Directory', category: 'Policy', operationType: 'Update', actor, at: now, target: { id: SECURITY_DEFAULTS.id, name: SECURITY_DEFAULTS.displayName }, modified: [{ displayName: 'IsEnabled', oldValue: String(s.security_defaults === 1), newValue: String(isEnabled) }] });
      return after;
    });
    rememberTenantSettings(db, written);
    return reply.code(204).send();
  });
}

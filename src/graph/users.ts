// Graph /users and /me: list ($select, $filter, $top, paging), get by id or UPN, create, update, delete,
// revokeSignInSessions and resetPassword (the other authentication methods routes: methods.ts). Routes are thin:
// parse, authorize, call the admin action, shape the reply as Graph does.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type ActionContext, ActionError, type ApplyResult, type Plan, checkRights, loadTarget } from '../admin/action.js';
import type { Actor } from '../admin/actor.js';
import * as deleteUser from '../admin/actions/delete-user.js';
import * as disableAccount from '../admin/actions/disable-account.js';
import * as enableAccount from '../admin/actions/enable-account.js';
import * as resetPassword from '../admin/actions/reset-password.js';
import * as revokeSessions from '../admin/actions/revoke-sessions.js';
import * as setPasswordProfile from '../admin/actions/set-password-profile.js';
import { mayActOn, rolesAllowedOn } from '../admin/roles.js';
import { createUser, type User } from '../directory/users.js';
import { writeAudit } from '../events/audit.js';
import { checkNewPassword } from '../signin/password-policy.js';
import { authenticate, requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { type FieldMap, ODataError, applyFilter, decodeSkipToken, encodeSkipToken, parseFilter, parseSelect, parseTop } from './odata.js';

export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

const READ_DELEGATED = ['User.Read.All', 'User.ReadBasic.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const READ_APP = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const WRITE_DELEGATED = ['User.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const WRITE_APP = ['User.ReadWrite.All', 'Directory.ReadWrite.All'];

const DEFAULT_SELECT = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];
const SELECTABLE = [...DEFAULT_SELECT, 'accountEnabled', 'createdDateTime', 'lastPasswordChangeDateTime', 'signInSessionsValidFromDateTime', 'passwordProfile', 'mailNickname'];

export const USER_FILTER_FIELDS: FieldMap = {
  id: { column: 'id', type: 'guid', ops: ['eq', 'ne', 'in'] },
  userPrincipalName: { column: 'upn_lower', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  displayName: { column: 'display_name', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  mail: { column: 'mail', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  accountEnabled: { column: 'account_enabled', type: 'boolean', ops: ['eq', 'ne'], toDb: (v: unknown) => (v === null ? null : v ? 1 : 0) },
  createdDateTime: { column: 'created_at', type: 'datetime', ops: ['eq', 'ne', 'ge', 'le', 'gt', 'lt'] },
};

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

export function graphUser(u: User, select: string[] = DEFAULT_SELECT): Record<string, unknown> {
  const all: Record<string, unknown> = {
    businessPhones: [],
    displayName: u.display_name,
    givenName: null,
    jobTitle: null,
    mail: u.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: null,
    userPrincipalName: u.upn,
    id: u.id,
    accountEnabled: u.account_enabled === 1,
    createdDateTime: iso(u.created_at),
    lastPasswordChangeDateTime: iso(u.last_password_change_at),
    signInSessionsValidFromDateTime: iso(u.sign_in_sessions_valid_from),
    // the password is never returned (spec §1)
    passwordProfile: { password: null, forceChangePasswordNextSignIn: u.force_change_password === 1, forceChangePasswordNextSignInWithMfa: u.force_change_password_mfa === 1 },
    mailNickname: u.upn.split('@')[0],
  };
  return Object.fromEntries(select.map((k) => [k, all[k]]));
}

/** JSON object bodies only, with only the properties this route knows. */
function body(req: FastifyRequest, allowed: readonly string[]): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new GraphError(400, 'BadRequest', 'The request body must be a JSON object.');
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k) && !k.startsWith('@odata.')) throw new GraphError(400, 'Request_BadRequest', `Property '${k}' does not exist or cannot be set on type 'microsoft.graph.user'.`);
  }
  return b as Record<string, unknown>;
}

function str(v: unknown, name: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
  if (v === undefined || v === null) {
    if (opts.required) throw new GraphError(400, 'Request_BadRequest', `Property '${name}' is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw new GraphError(400, 'Request_BadRequest', `Property '${name}' must be a string.`);
  if (v.length > (opts.max ?? 256) || v.includes('\0')) throw new GraphError(400, 'Request_BadRequest', `Property '${name}' is too long or contains a character that is not allowed.`);
  return v;
}

function bool(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new GraphError(400, 'Request_BadRequest', `Property '${name}' must be a boolean.`);
  return v;
}

/** Reset-password operations (D17), shared by /v1.0 and /beta; in memory, bounded. */
const operationsByDb = new WeakMap<object, Map<string, { userId: string; at: number }>>();
function operationsOf(db: object): Map<string, { userId: string; at: number }> {
  let m = operationsByDb.get(db);
  if (!m) operationsByDb.set(db, (m = new Map()));
  return m;
}

export function registerUserRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  // Graph shows no preview: actions run lean (their cost does not grow with the user's refresh tokens)
  const ctx: ActionContext = { db, secrets: deps.secrets, tenantId: tenant.id, config: deps.config, lean: true };
  const version = (req: FastifyRequest) => (req.url.startsWith('/beta') ? 'beta' : 'v1.0');
  const base = (req: FastifyRequest) => `${deps.origin}/${version(req)}`;

  type Handler = (req: FastifyRequest, reply: FastifyReply, actor: Actor) => Promise<unknown>;
  const guarded = (handler: Handler) => async (req: FastifyRequest, reply: FastifyReply) => {
    const actor = await authenticate(req, db, deps.verify);
    return handler(req, reply, actor);
  };

  const userIdOf = (req: FastifyRequest, actor: Actor): string => {
    const p = req.params as { id?: string };
    if (p.id === undefined) {
      if (actor.kind !== 'user') throw new GraphError(400, 'BadRequest', '/me request is only valid with delegated authentication flow.');
      return actor.id;
    }
    if (!p.id || p.id.length > 256 || p.id.includes('\0')) throw new GraphError(400, 'BadRequest', 'Invalid object identifier.');
    return p.id;
  };

  const findTarget = async (id: string): Promise<User> => {
    const u = await db.selectFrom('users').selectAll().where('tenant_id', '=', tenant.id).where((eb) => eb.or([eb('id', '=', id), eb('upn_lower', '=', id.toLowerCase())])).executeTakeFirst();
    if (!u) throw new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
    return u;
  };

  // --- read ---
  scope.get('/users', guarded(async (req, reply, actor) => {
    requirePermission(actor, READ_DELEGATED, READ_APP);
    const q = req.query as Record<string, unknown>;
    for (const k of Object.keys(q)) if (k.startsWith('$') && !['$select', '$filter', '$top', '$skiptoken', '$count'].includes(k)) throw new GraphError(400, 'Request_UnsupportedQuery', `Query option '${k}' is not supported on users.`);
    const select = typeof q.$select === 'string' ? parseSelect(q.$select, SELECTABLE) : DEFAULT_SELECT;
    const top = typeof q.$top === 'string' ? parseTop(q.$top, 999) : 100;
    let qb = db.selectFrom('users').selectAll().where('tenant_id', '=', tenant.id);
    if (typeof q.$filter === 'string') qb = applyFilter(qb, parseFilter(q.$filter, USER_FILTER_FIELDS));
    if (typeof q.$skiptoken === 'string') {
      const token = decodeSkipToken(q.$skiptoken) as { after?: unknown };
      if (typeof token.after !== 'string') throw new GraphError(400, 'BadRequest', 'The $skiptoken is not valid.');
      qb = qb.where('id', '>', token.after);
    }
    const rows = await qb.orderBy('id').limit(top + 1).execute();
    const page = rows.slice(0, top);
    const out: Record<string, unknown> = { '@odata.context': `${base(req)}/$metadata#users${typeof q.$select === 'string' ? `(${select.join(',')})` : ''}`, value: page.map((u) => graphUser(u, select)) };
    if (rows.length > top) {
      const next = new URL(`${base(req)}/users`);
      for (const [k, v] of Object.entries(q)) if (k !== '$skiptoken' && typeof v === 'string') next.searchParams.set(k, v);
      next.searchParams.set('$skiptoken', encodeSkipToken({ after: page[page.length - 1]!.id }));
      out['@odata.nextLink'] = next.toString();
    }
    return reply.send(out);
  }));

  const getOne = guarded(async (req, reply, actor) => {
    const id = userIdOf(req, actor);
    const self = actor.kind === 'user' && (req.params as { id?: string }).id === undefined;
    if (!self) requirePermission(actor, READ_DELEGATED, READ_APP);
    const q = req.query as Record<string, unknown>;
    const select = typeof q.$select === 'string' ? parseSelect(q.$select, SELECTABLE) : DEFAULT_SELECT;
    const u = await findTarget(id);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#users/$entity`, ...graphUser(u, select) });
  });
  scope.get('/users/:id', getOne);
  scope.get('/me', getOne);

  // --- create ---
  scope.post('/users', guarded(async (req, reply, actor) => {
    requirePermission(actor, WRITE_DELEGATED, WRITE_APP);
    if (actor.kind === 'user' && !mayActOn('sensitive', actor.roles, [])) throw new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation: creating users needs the User Administrator role or higher.');
    const b = body(req, ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName', 'passwordProfile', 'mail']);
    const upn = str(b.userPrincipalName, 'userPrincipalName', { required: true })!;
    if (!/^[^@\s]+@[^@\s]+$/.test(upn)) throw new GraphError(400, 'Request_BadRequest', "Property 'userPrincipalName' must be name@domain.");
    const domain = upn.split('@')[1]!.toLowerCase();
    if (domain !== tenant.domain) throw new GraphError(400, 'Request_BadRequest', `The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization (${tenant.domain}).`);
    const displayName = str(b.displayName, 'displayName', { required: true })!;
    str(b.mailNickname, 'mailNickname');
    const mail = str(b.mail, 'mail');
    const accountEnabled = bool(b.accountEnabled, 'accountEnabled');
    if (accountEnabled === undefined) throw new GraphError(400, 'Request_BadRequest', "Property 'accountEnabled' is required.");
    const pp = b.passwordProfile;
    if (typeof pp !== 'object' || pp === null || Array.isArray(pp)) throw new GraphError(400, 'Request_BadRequest', "Property 'passwordProfile' is required and must be an object.");
    for (const k of Object.keys(pp)) if (!['password', 'forceChangePasswordNextSignIn', 'forceChangePasswordNextSignInWithMfa'].includes(k)) throw new GraphError(400, 'Request_BadRequest', `Property '${k}' does not exist on type 'microsoft.graph.passwordProfile'.`);
    const ppo = pp as Record<string, unknown>;
    const password = str(ppo.password, 'passwordProfile.password', { required: true })!;
    const problem = checkNewPassword(password, { minLength: deps.config.passwordMinLength, userName: upn });
    if (problem) throw new GraphError(400, 'Request_BadRequest', `The specified password does not comply with password complexity requirements: ${problem}`);
    const exists = await db.selectFrom('users').select('id').where('tenant_id', '=', tenant.id).where('upn_lower', '=', upn.toLowerCase()).executeTakeFirst();
    if (exists) throw new GraphError(400, 'Request_MultipleObjectsWithSameKeyValue', 'Another object with the same value for property userPrincipalName already exists.');
    const forceChange = bool(ppo.forceChangePasswordNextSignIn, 'forceChangePasswordNextSignIn') ?? false;
    const user = await db
      .transaction()
      .execute(async (trx) => {
        const created = await createUser(trx, { tenantId: tenant.id, upn, displayName, mail: mail ?? null, password, accountEnabled, forceChangePassword: forceChange });
        await writeAudit(trx, tenant.id, { activity: 'Add user', service: 'Core Directory', operationType: 'Add', actor, target: { id: created.id, name: created.upn }, modified: [{ displayName: 'AccountEnabled', oldValue: null, newValue: String(accountEnabled) }] });
        return created;
      })
      .catch(async (e: unknown) => {
        // a concurrent create of the same UPN lost the race on the unique index
        const now = await db.selectFrom('users').select('id').where('tenant_id', '=', tenant.id).where('upn_lower', '=', upn.toLowerCase()).executeTakeFirst();
        if (now) throw new GraphError(400, 'Request_MultipleObjectsWithSameKeyValue', 'Another object with the same value for property userPrincipalName already exists.');
        throw e;
      });
    return reply.code(201).header('location', `${base(req)}/users/${user.id}`).send({ '@odata.context': `${base(req)}/$metadata#users/$entity`, ...graphUser(user) });
  }));

  // --- update ---
  scope.patch('/users/:id', guarded(async (req, reply, actor) => {
    const id = userIdOf(req, actor);
    const b = body(req, ['accountEnabled', 'displayName', 'mail', 'passwordProfile']);
    const displayName = str(b.displayName, 'displayName');
    const mail = b.mail === null ? null : str(b.mail, 'mail');
    const accountEnabled = bool(b.accountEnabled, 'accountEnabled');
    let pp: setPasswordProfile.PasswordProfileInput | undefined;
    if (b.passwordProfile !== undefined) {
      if (typeof b.passwordProfile !== 'object' || b.passwordProfile === null || Array.isArray(b.passwordProfile)) throw new GraphError(400, 'Request_BadRequest', "Property 'passwordProfile' must be an object.");
      const o = b.passwordProfile as Record<string, unknown>;
      for (const k of Object.keys(o)) if (!['password', 'forceChangePasswordNextSignIn', 'forceChangePasswordNextSignInWithMfa'].includes(k)) throw new GraphError(400, 'Request_BadRequest', `Property '${k}' does not exist on type 'microsoft.graph.passwordProfile'.`);
      pp = { password: str(o.password, 'passwordProfile.password'), forceChangePasswordNextSignIn: bool(o.forceChangePasswordNextSignIn, 'forceChangePasswordNextSignIn'), forceChangePasswordNextSignInWithMfa: bool(o.forceChangePasswordNextSignInWithMfa, 'forceChangePasswordNextSignInWithMfa') };
      for (const k of Object.keys(pp) as (keyof typeof pp)[]) if (pp[k] === undefined) delete pp[k];
    }
    if (!Object.keys(b).length) throw new GraphError(400, 'BadRequest', 'The request body has no property to update.');
    const target = await findTarget(id);
    // every part is planned (rights and validation) before anything is written
    const plans: { mod: { plan: unknown; apply: unknown }; plan: Plan<unknown> }[] = [];
    if (pp) plans.push({ mod: setPasswordProfile, plan: await setPasswordProfile.plan(ctx, actor, target.id, pp) });
    const targetWithRoles = await loadTarget(db, tenant.id, target.id);
    if (accountEnabled === false && target.account_enabled === 1) plans.push({ mod: disableAccount, plan: await disableAccount.plan(ctx, actor, target.id) });
    else if (accountEnabled === true && target.account_enabled !== 1) plans.push({ mod: enableAccount, plan: await enableAccount.plan(ctx, actor, target.id) });
    // a value that is already so changes nothing, but is still authorized (no answer may reveal state)
    else if (accountEnabled !== undefined) checkRights(actor, targetWithRoles, disableAccount.RULE);
    const other = Object.keys(b).filter((k) => k !== 'passwordProfile' && k !== 'accountEnabled');
    if (other.length) {
      // displayName, mail (and bare @odata annotations): the "who may update users" rule on this target
      requirePermission(actor, WRITE_DELEGATED, WRITE_APP);
      const self = actor.kind === 'user' && actor.id === target.id;
      if (actor.kind === 'user' && !self && !mayActOn('sensitive', actor.roles, targetWithRoles.roles)) {
        throw new GraphError(403, 'Authorization_RequestDenied', `Insufficient privileges to update this user: a directory role among ${rolesAllowedOn('sensitive', targetWithRoles.roles).join(', ')} is required.`);
      }
    }
    // All parts in one transaction (spec §5: all or nothing). Each applied part changes the user's state,
    // so the later parts are planned again just before their apply (the first plans above checked rights
    // and input before anything was written).
    await db.transaction().execute(async (trx) => {
      const tctx: ActionContext = { ...ctx, db: trx };
      for (const [i, { mod, plan }] of plans.entries()) {
        const fresh = i === 0 ? plan : await (mod.plan as (c: ActionContext, a: Actor, id: string, input: unknown) => Promise<typeof plan>)(tctx, actor, target.id, plan.input);
        await (mod.apply as (c: ActionContext, p: typeof plan) => Promise<ApplyResult>)(tctx, fresh);
      }
      if (displayName !== undefined || mail !== undefined) {
        await trx.updateTable('users').set({ ...(displayName !== undefined ? { display_name: displayName } : {}), ...(mail !== undefined ? { mail } : {}) }).where('id', '=', target.id).execute();
        await writeAudit(trx, tenant.id, {
          activity: 'Update user',
          service: 'Core Directory',
          operationType: 'Update',
          actor,
          target: { id: target.id, name: target.upn },
          modified: [
            ...(displayName !== undefined ? [{ displayName: 'DisplayName', oldValue: target.display_name, newValue: displayName }] : []),
            ...(mail !== undefined ? [{ displayName: 'Mail', oldValue: target.mail, newValue: mail }] : []),
          ],
        });
      }
    });
    return reply.code(204).send();
  }));

  // --- delete ---
  scope.delete('/users/:id', guarded(async (req, reply, actor) => {
    const id = userIdOf(req, actor);
    const plan = await deleteUser.plan(ctx, actor, id);
    await deleteUser.apply(ctx, plan);
    return reply.code(204).send();
  }));

  // --- revokeSignInSessions (200 {"value": true}: Entra's documented known issue) ---
  const revoke = guarded(async (req, reply, actor) => {
    // Graph: "Don't supply a request body for this method" — an empty object is tolerated
    if (req.body !== undefined && req.body !== '' && !(typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body) && Object.keys(req.body).length === 0)) {
      throw new GraphError(400, 'BadRequest', 'revokeSignInSessions takes no request body.');
    }
    const id = userIdOf(req, actor);
    const plan = await revokeSessions.plan(ctx, actor, id);
    await revokeSessions.apply(ctx, plan);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#Edm.Boolean`, value: true });
  });
  scope.post('/users/:id/revokeSignInSessions', revoke);
  scope.post('/me/revokeSignInSessions', revoke);

  // --- authentication methods: src/graph/methods.ts (resetPassword stays here with the password) ---

  // resetPassword: delegated only (D7); 202 + Location, already committed when sent (D17)
  const operations = operationsOf(db);
  const reset = guarded(async (req, reply, actor) => {
    const { methodId } = req.params as { methodId: string };
    if (methodId !== PASSWORD_METHOD_ID) throw new GraphError(404, 'Request_ResourceNotFound', `Authentication method '${methodId}' is not a password method.`);
    if (actor.kind === 'app') throw new GraphError(403, 'Authorization_RequestDenied', 'resetPassword is not supported for application permissions; use PATCH /users/{id} passwordProfile with a directory role.');
    const id = userIdOf(req, actor);
    // no body, or a JSON object with at most newPassword (a JSON null is not "no body")
    const b = req.body === undefined || req.body === '' ? {} : body(req, ['newPassword']);
    const newPassword = str(b.newPassword, 'newPassword');
    const plan = await resetPassword.plan(ctx, actor, id, { newPassword, forceChangePasswordNextSignIn: true });
    const result = await resetPassword.apply(ctx, plan);
    const opId = crypto.randomUUID();
    if (operations.size > 1000) operations.clear();
    operations.set(opId, { userId: plan.targetId, at: result.appliedAt });
    return reply
      .code(202)
      .header('location', `${base(req)}/users/${plan.targetId}/authentication/operations/${opId}`)
      .header('retry-after', '0')
      .send({ '@odata.context': `${base(req)}/$metadata#microsoft.graph.passwordResetResponse`, newPassword: result.secret ?? null });
  });
  scope.post('/users/:id/authentication/methods/:methodId/resetPassword', reset);
  scope.post('/users/:id/authentication/passwordMethods/:methodId/resetPassword', reset);

  scope.get('/users/:id/authentication/operations/:opId', guarded(async (req, reply, actor) => {
    const { opId } = req.params as { opId: string };
    const id = userIdOf(req, actor);
    const u = await findTarget(id);
    if (!(actor.kind === 'user' && actor.id === u.id)) requirePermission(actor, ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All', 'Directory.AccessAsUser.All'], ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All']);
    const op = operations.get(opId);
    if (!op || op.userId !== u.id) throw new GraphError(404, 'Request_ResourceNotFound', `Operation '${opId}' does not exist.`);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#users('${u.id}')/authentication/operations/$entity`, id: opId, status: 'succeeded', createdDateTime: iso(op.at), lastActionDateTime: iso(op.at), resourceLocation: `${base(req)}/users/${u.id}/authentication/passwordMethods/${PASSWORD_METHOD_ID}`, statusDetail: null });
  }));
}

export function mapError(e: unknown): GraphError | undefined {
  if (e instanceof GraphError) return e;
  if (e instanceof ODataError) return new GraphError(400, e.code === 'Request_UnsupportedQuery' ? 'Request_UnsupportedQuery' : 'BadRequest', e.message);
  if (e instanceof ActionError) {
    switch (e.code) {
      case 'not_found':
        return new GraphError(404, 'Request_ResourceNotFound', e.message);
      case 'forbidden':
        return new GraphError(403, 'Authorization_RequestDenied', e.message);
      case 'stale':
        return new GraphError(412, 'PreconditionFailed', e.message);
      case 'invalid':
        return new GraphError(400, 'Request_BadRequest', e.message);
    }
  }
  return undefined;
}

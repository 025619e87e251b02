// Graph /users and /me: list ($select, $filter, $top, paging), get by id or UPN, create, update, delete,
// revokeSignInSessions (authentication methods and resetPassword: authentication-methods.ts). Routes are
// thin: parse, authorize, call the admin action, shape the reply as Graph does.
import type { FastifyInstance } from 'fastify';
import { type ActionContext, type ApplyResult, type Plan, checkRights, loadTarget } from '../admin/action.js';
import type { Actor } from '../admin/actor.js';
import * as createUser from '../admin/actions/create-user.js';
import * as deleteUser from '../admin/actions/delete-user.js';
import * as disableAccount from '../admin/actions/disable-account.js';
import * as enableAccount from '../admin/actions/enable-account.js';
import * as revokeSessions from '../admin/actions/revoke-sessions.js';
import * as setPasswordProfile from '../admin/actions/set-password-profile.js';
import * as updateUser from '../admin/actions/update-user.js';
import type { User } from '../directory/users.js';
import { requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { bool, invalidValue, iso, jsonBody, mailAddress, nestedObject, routeKit, skipAfter, str } from './kit.js';
import { type FieldMap, applyFilter, parseFilter } from './odata.js';

const READ_DELEGATED = ['User.Read.All', 'User.ReadBasic.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const READ_APP = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

const PASSWORD_PROFILE = ['password', 'forceChangePasswordNextSignIn', 'forceChangePasswordNextSignInWithMfa'];

/** The user properties Graph returns by default (what graphUser gives without $select). */
export const USER_DEFAULT_SELECT = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];
const DEFAULT_SELECT = USER_DEFAULT_SELECT;
const SELECTABLE = [...DEFAULT_SELECT, 'accountEnabled', 'createdDateTime', 'lastPasswordChangeDateTime', 'signInSessionsValidFromDateTime', 'passwordProfile', 'mailNickname'];

export const USER_FILTER_FIELDS: FieldMap = {
  id: { column: 'id', type: 'guid', ops: ['eq', 'ne', 'in'] },
  userPrincipalName: { column: 'upn_lower', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  displayName: { column: 'display_name', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  mail: { column: 'mail', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  accountEnabled: { column: 'account_enabled', type: 'boolean', ops: ['eq', 'ne'], toDb: (v: unknown) => (v === null ? null : v ? 1 : 0) },
  createdDateTime: { column: 'created_at', type: 'datetime', ops: ['eq', 'ne', 'ge', 'le', 'gt', 'lt'] },
};


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

/** A user as a directory object (in member lists). */
export function userObject(u: User, select: string[] = USER_DEFAULT_SELECT): Record<string, unknown> {
  return { '@odata.type': '#microsoft.graph.user', ...graphUser(u, select) };
}

export function registerUserRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const kit = routeKit(deps);
  const { guarded, base, ctx } = kit;
  const userIdOf = kit.userId;
  const findTarget = kit.user;

  // --- read ---
  scope.get('/users', guarded(async (req, reply, actor) => {
    requirePermission(actor, READ_DELEGATED, READ_APP);
    const q = kit.query(req, ['$select', '$filter', '$top', '$skiptoken', '$count'], 'users');
    const select = kit.select(q, SELECTABLE, DEFAULT_SELECT);
    const top = kit.top(q);
    let qb = db.selectFrom('users').selectAll().where('tenant_id', '=', tenant.id);
    if (q.$filter !== undefined) qb = applyFilter(qb, parseFilter(q.$filter, USER_FILTER_FIELDS));
    const after = skipAfter(q);
    if (after !== undefined) qb = qb.where('id', '>', after);
    const rows = await qb.orderBy('id').limit(top + 1).execute();
    const context = `users${q.$select !== undefined ? `(${select.join(',')})` : ''}`;
    return reply.send(await kit.page(req, q, rows, top, { context, shape: (page) => page.map((u) => graphUser(u, select)), position: (u) => ({ after: u.id }) }));
  }));

  const getOne = guarded(async (req, reply, actor) => {
    const id = userIdOf(req, actor);
    const self = actor.kind === 'user' && (req.params as { id?: string }).id === undefined;
    if (!self) requirePermission(actor, READ_DELEGATED, READ_APP);
    // a single user takes $select only: any other query option is refused, as on every other entity
    const select = kit.select(kit.query(req, ['$select'], 'a user'), SELECTABLE, DEFAULT_SELECT);
    const u = await findTarget(id);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#users/$entity`, ...graphUser(u, select) });
  });
  scope.get('/users/:id', getOne);
  scope.get('/me', getOne);

  // --- create ---
  scope.post('/users', guarded(async (req, reply, actor) => {
    const b = jsonBody(req, ['accountEnabled', 'displayName', 'mailNickname', 'userPrincipalName', 'passwordProfile', 'mail'], 'user');
    const userPrincipalName = str(b.userPrincipalName, 'userPrincipalName', { required: true })!;
    const displayName = str(b.displayName, 'displayName', { required: true, nonEmpty: true })!;
    // not stored (the UPN's local part is the user's mail nickname), but a given one must be a real nickname
    str(b.mailNickname, 'mailNickname', { nonEmpty: true, max: 64 });
    const mail = mailAddress(b.mail, 'mail');
    const accountEnabled = bool(b.accountEnabled, 'accountEnabled');
    if (accountEnabled === undefined) throw new GraphError(400, 'Request_BadRequest', "Property 'accountEnabled' is required.");
    const pp = b.passwordProfile;
    if (typeof pp !== 'object' || pp === null || Array.isArray(pp)) throw new GraphError(400, 'Request_BadRequest', "Property 'passwordProfile' is required and must be an object.");
    const ppo = nestedObject(pp, 'passwordProfile', PASSWORD_PROFILE, 'passwordProfile');
    const password = str(ppo.password, 'passwordProfile.password', { required: true })!;
    const forceChangePasswordNextSignIn = bool(ppo.forceChangePasswordNextSignIn, 'forceChangePasswordNextSignIn') ?? false;
    const plan = await createUser.plan(ctx, actor, { userPrincipalName, displayName, mail, accountEnabled, password, forceChangePasswordNextSignIn });
    const { value: user } = await createUser.apply(ctx, plan);
    return reply.code(201).header('location', `${base(req)}/users/${user.id}`).send({ '@odata.context': `${base(req)}/$metadata#users/$entity`, ...graphUser(user) });
  }));

  // --- update ---
  scope.patch('/users/:id', guarded(async (req, reply, actor) => {
    const id = userIdOf(req, actor);
    const b = jsonBody(req, ['accountEnabled', 'displayName', 'mail', 'userPrincipalName', 'passwordProfile', ...updateUser.UNSTORED], 'user');
    const accountEnabled = bool(b.accountEnabled, 'accountEnabled');
    let pp: setPasswordProfile.PasswordProfileInput | undefined;
    if (b.passwordProfile !== undefined) {
      const o = nestedObject(b.passwordProfile, 'passwordProfile', PASSWORD_PROFILE, 'passwordProfile');
      pp = { password: str(o.password, 'passwordProfile.password'), forceChangePasswordNextSignIn: bool(o.forceChangePasswordNextSignIn, 'forceChangePasswordNextSignIn'), forceChangePasswordNextSignInWithMfa: bool(o.forceChangePasswordNextSignInWithMfa, 'forceChangePasswordNextSignInWithMfa') };
      for (const k of Object.keys(pp) as (keyof typeof pp)[]) if (pp[k] === undefined) delete pp[k];
    }
    const other = Object.keys(b).filter((k) => k !== 'passwordProfile' && k !== 'accountEnabled');
    const props: updateUser.UpdateUserInput = {
      // a user always has a display name: null or blank is refused, as Graph refuses it
      displayName: b.displayName === null ? invalidValue('displayName') : str(b.displayName, 'displayName', { nonEmpty: true }),
      // null clears it; anything else must be an SMTP address
      mail: b.mail === null ? null : mailAddress(b.mail, 'mail'),
      userPrincipalName: b.userPrincipalName === null ? invalidValue('userPrincipalName') : str(b.userPrincipalName, 'userPrincipalName'),
      unstored: other.filter((k) => (updateUser.UNSTORED as readonly string[]).includes(k)),
    };
    if (!Object.keys(b).length) throw new GraphError(400, 'BadRequest', 'The request body has no property to update.');
    const target = await findTarget(id);
    // every part is planned (rights and validation) before anything is written
    type Part = { plan: (c: ActionContext, a: Actor, id: string, input: unknown) => Promise<Plan<unknown>>; apply: (c: ActionContext, p: Plan<unknown>) => Promise<ApplyResult> };
    const plans: { mod: Part; plan: Plan<unknown> }[] = [];
    const part = async (mod: unknown, input: unknown) => {
      const m = mod as Part;
      plans.push({ mod: m, plan: await m.plan(ctx, actor, target.id, input) });
    };
    if (pp) await part(setPasswordProfile, pp);
    if (accountEnabled === false && target.account_enabled === 1) await part(disableAccount, undefined);
    else if (accountEnabled === true && target.account_enabled !== 1) await part(enableAccount, undefined);
    // a value that is already so changes nothing, but is still authorized (no answer may reveal state)
    else if (accountEnabled !== undefined) checkRights(actor, await loadTarget(db, tenant.id, target.id), disableAccount.RULE);
    // displayName, mail, userPrincipalName (and bare @odata annotations): authorized even when nothing changes
    if (other.length) await part(updateUser, props);
    // All parts in one transaction (spec §5: all or nothing). Each applied part changes the user's state,
    // so the later parts are planned again just before their apply (the first plans above checked rights
    // and input before anything was written).
    await db.transaction().execute(async (trx) => {
      const tctx: ActionContext = { ...ctx, db: trx };
      for (const [i, { mod, plan }] of plans.entries()) {
        const fresh = i === 0 ? plan : await mod.plan(tctx, actor, target.id, plan.input);
        if (fresh.action === 'updateUser' && !fresh.preview.changes.length) continue;
        await mod.apply(tctx, fresh);
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
}

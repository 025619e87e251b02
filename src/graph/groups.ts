// Graph /groups: security groups with user members. List ($filter, $select, $top, paging), get, create,
// delete, members (list, add by $ref, remove by $ref). Each write and its audit record (Core Directory,
// GroupManagement) share one transaction. Also the small route kit the other directory routes use.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../admin/actor.js';
import { ROLES } from '../admin/roles.js';
import type { User } from '../directory/users.js';
import { writeAudit } from '../events/audit.js';
import type { Db } from '../storage/db.js';
import type { GroupTable } from '../storage/schema.js';
import { authenticate, requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { type FieldMap, applyFilter, decodeSkipToken, encodeSkipToken, parseFilter, parseSelect, parseTop } from './odata.js';
import { graphUser } from './users.js';

// ---------------------------------------------------------------------------------------------------
// Route kit

export type Handler = (req: FastifyRequest, reply: FastifyReply, actor: Actor) => Promise<unknown>;

export interface RouteKit {
  /** authenticates the caller, then runs the handler with the actor */
  guarded(handler: Handler): (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  /** `https://host/v1.0` or `.../beta`, as the request came in */
  base(req: FastifyRequest): string;
  /** the query options, all strings; an unknown `$` option or a repeated one is a Graph 400 */
  query(req: FastifyRequest, allowed: readonly string[], what: string): Record<string, string>;
  /** `@odata.nextLink`: this request's URL with `$skiptoken` replaced */
  nextLink(req: FastifyRequest, q: Record<string, string>, skipToken: string): string;
  /** a path segment id from the URL, bounded */
  id(raw: unknown): string;
}

export function routeKit(deps: GraphDeps): RouteKit {
  const version = (req: FastifyRequest) => (req.url.startsWith('/beta') ? 'beta' : 'v1.0');
  return {
    guarded: (handler) => async (req, reply) => handler(req, reply, await authenticate(req, deps.db, deps.verify)),
    base: (req) => `${deps.origin}/${version(req)}`,
    query(req, allowed, what) {
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries((req.query ?? {}) as Record<string, unknown>)) {
        if (k.startsWith('$') && !allowed.includes(k)) throw new GraphError(400, 'Request_UnsupportedQuery', `Query option '${k}' is not supported on ${what}.`);
        if (typeof v !== 'string') throw new GraphError(400, 'BadRequest', `Query option '${k}' was given more than once.`);
        out[k] = v;
      }
      return out;
    },
    nextLink(req, q, skipToken) {
      const next = new URL(`${deps.origin}${req.url.split('?')[0]!}`);
      for (const [k, v] of Object.entries(q)) if (k !== '$skiptoken') next.searchParams.set(k, v);
      next.searchParams.set('$skiptoken', skipToken);
      return next.toString();
    },
    id(raw) {
      if (typeof raw !== 'string' || !raw || raw.length > 256 || raw.includes('\0')) throw new GraphError(400, 'BadRequest', 'Invalid object identifier.');
      return raw;
    },
  };
}

/** A JSON object body with only the properties the route knows (`@odata.*` annotations always allowed). */
export function jsonBody(req: FastifyRequest, allowed: readonly string[], type: string): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new GraphError(400, 'BadRequest', 'The request body must be a JSON object.');
  for (const k of Object.keys(b)) {
    if (!allowed.includes(k) && !k.startsWith('@odata.')) throw new GraphError(400, 'Request_BadRequest', `Property '${k}' does not exist or cannot be set on type 'microsoft.graph.${type}'.`);
  }
  return b as Record<string, unknown>;
}

/** The object id an `@odata.id` reference names: any URL ending in /directoryObjects/{id} or /users/{id} (or the other kinds given). */
export function referencedId(body: Record<string, unknown>, kinds: readonly string[] = ['directoryObjects', 'users']): { kind: string; id: string } {
  const ref = body['@odata.id'];
  if (typeof ref !== 'string' || ref.length > 2048) throw new GraphError(400, 'Request_BadRequest', "The request body must contain '@odata.id' with the URL of a directory object.");
  let path: string;
  try {
    path = new URL(ref).pathname;
  } catch {
    path = ref.split(/[?#]/)[0]!;
  }
  const m = /\/([A-Za-z]+)\/([^/]+)\/?$/.exec(path);
  const kind = m && kinds.find((k) => k.toLowerCase() === m[1]!.toLowerCase());
  let id = '';
  try {
    id = m ? decodeURIComponent(m[2]!) : '';
  } catch {
    /* malformed percent-encoding: refused below */
  }
  if (!kind || !id || id.length > 256 || id.includes('\0')) throw new GraphError(400, 'Request_BadRequest', `Invalid '@odata.id' reference '${ref.slice(0, 200)}': expected a URL ending in ${kinds.map((k) => `/${k}/{id}`).join(' or ')}.`);
  return { kind, id };
}

/** Delegated callers also need one of these directory roles (apps are governed by their permissions). */
export function requireRole(actor: Actor, roles: readonly string[], what: string): void {
  if (actor.kind !== 'user') return;
  if (actor.roles.some((r) => roles.includes(r))) return;
  throw new GraphError(403, 'Authorization_RequestDenied', `Insufficient privileges to complete the operation: ${what} needs one of the directory roles ${roles.join(', ')}.`);
}

export const notFound = (id: string) => new GraphError(404, 'Request_ResourceNotFound', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);

export const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

export async function findUser(db: Db, tenantId: string, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where((eb) => eb.or([eb('id', '=', id), eb('upn_lower', '=', id.toLowerCase())])).executeTakeFirst();
}

/** The user properties Graph returns by default (what graphUser gives without $select). */
export const USER_DEFAULT_SELECT = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];

export function userObject(u: User, select: string[] = USER_DEFAULT_SELECT): Record<string, unknown> {
  return { '@odata.type': '#microsoft.graph.user', ...graphUser(u, select) };
}

// ---------------------------------------------------------------------------------------------------
// Groups

const READ_DELEGATED = ['Group.Read.All', 'Group.ReadWrite.All', 'GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const READ_APP = ['Group.Read.All', 'Group.ReadWrite.All', 'GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const WRITE_DELEGATED = ['Group.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const WRITE_APP = ['Group.Create', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const DELETE_APP = ['Group.ReadWrite.All', 'Directory.ReadWrite.All'];
const MEMBER_DELEGATED = ['GroupMember.ReadWrite.All', ...WRITE_DELEGATED];
const MEMBER_APP = ['GroupMember.ReadWrite.All', 'Group.ReadWrite.All', 'Directory.ReadWrite.All'];
/** Directory roles that may manage groups (delegated). */
export const GROUP_WRITE_ROLES = [ROLES.groupsAdmin, ROLES.userAdmin, ROLES.globalAdmin];
/** Role-assignable groups grant roles: creating them or changing their members is role management (Entra). */
const ROLE_ASSIGNABLE_ROLES = [ROLES.privilegedRoleAdmin, ROLES.globalAdmin];
const ROLE_ASSIGNABLE_APP = ['RoleManagement.ReadWrite.Directory'];

const DEFAULT_SELECT = [
  'id', 'deletedDateTime', 'classification', 'createdDateTime', 'creationOptions', 'description', 'displayName', 'expirationDateTime', 'groupTypes', 'isAssignableToRole', 'mail', 'mailEnabled', 'mailNickname',
  'membershipRule', 'membershipRuleProcessingState', 'onPremisesSyncEnabled', 'preferredDataLocation', 'preferredLanguage', 'proxyAddresses', 'renewedDateTime', 'resourceBehaviorOptions', 'resourceProvisioningOptions',
  'securityEnabled', 'securityIdentifier', 'theme', 'visibility',
];

export const GROUP_FILTER_FIELDS: FieldMap = {
  id: { column: 'id', type: 'guid', ops: ['eq', 'ne', 'in'] },
  displayName: { column: 'display_name', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  mailNickname: { column: 'mail_nickname', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  isAssignableToRole: { column: 'is_assignable_to_role', type: 'boolean', ops: ['eq', 'ne'] },
  createdDateTime: { column: 'created_at', type: 'datetime', ops: ['eq', 'ne', 'ge', 'le', 'gt', 'lt'] },
};

export function graphGroup(g: GroupTable, select: string[] = DEFAULT_SELECT): Record<string, unknown> {
  const all: Record<string, unknown> = {
    id: g.id,
    deletedDateTime: null,
    classification: null,
    createdDateTime: iso(g.created_at),
    creationOptions: [],
    description: g.description,
    displayName: g.display_name,
    expirationDateTime: null,
    groupTypes: [],
    isAssignableToRole: g.is_assignable_to_role === 1,
    mail: null,
    mailEnabled: false,
    mailNickname: g.mail_nickname,
    membershipRule: null,
    membershipRuleProcessingState: null,
    onPremisesSyncEnabled: null,
    preferredDataLocation: null,
    preferredLanguage: null,
    proxyAddresses: [],
    renewedDateTime: iso(g.created_at),
    resourceBehaviorOptions: [],
    resourceProvisioningOptions: [],
    securityEnabled: true,
    securityIdentifier: null,
    theme: null,
    visibility: null,
  };
  return Object.fromEntries(select.map((k) => [k, all[k]]));
}

function str(v: unknown, name: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
  if (v === undefined || v === null) {
    if (opts.required) throw new GraphError(400, 'Request_BadRequest', `Property '${name}' is required.`);
    return undefined;
  }
  if (typeof v !== 'string') throw new GraphError(400, 'Request_BadRequest', `Property '${name}' must be a string.`);
  if (opts.required && !v.trim()) throw new GraphError(400, 'Request_BadRequest', `Property '${name}' must not be empty.`);
  if (v.length > (opts.max ?? 256) || v.includes('\0')) throw new GraphError(400, 'Request_BadRequest', `Property '${name}' is too long or contains a character that is not allowed.`);
  return v;
}

export function registerGroupRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const kit = routeKit(deps);
  const { guarded, base } = kit;

  const findGroup = async (id: string, q: Db = db): Promise<GroupTable> => {
    const g = await q.selectFrom('groups').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst();
    if (!g) throw notFound(id);
    return g;
  };
  /** Members of a role-assignable group hold its roles: only role administrators may change them. */
  const checkRoleAssignable = (actor: Actor, g: Pick<GroupTable, 'is_assignable_to_role'>, what: string) => {
    if (g.is_assignable_to_role !== 1) return;
    if (actor.kind === 'app') requirePermission(actor, [], ROLE_ASSIGNABLE_APP);
    requireRole(actor, ROLE_ASSIGNABLE_ROLES, `${what} of a role-assignable group`);
  };

  // --- read ---
  scope.get('/groups', guarded(async (req, reply, actor) => {
    requirePermission(actor, READ_DELEGATED, READ_APP);
    const q = kit.query(req, ['$select', '$filter', '$top', '$skiptoken', '$count'], 'groups');
    const select = q.$select !== undefined ? parseSelect(q.$select, DEFAULT_SELECT) : DEFAULT_SELECT;
    const top = q.$top !== undefined ? parseTop(q.$top, 999) : 100;
    let qb = db.selectFrom('groups').selectAll().where('tenant_id', '=', tenant.id);
    if (q.$filter !== undefined) qb = applyFilter(qb, parseFilter(q.$filter, GROUP_FILTER_FIELDS));
    if (q.$skiptoken !== undefined) {
      const token = decodeSkipToken(q.$skiptoken) as { after?: unknown };
      if (typeof token.after !== 'string') throw new GraphError(400, 'BadRequest', 'The $skiptoken is not valid.');
      qb = qb.where('id', '>', token.after);
    }
    const rows = await qb.orderBy('id').limit(top + 1).execute();
    const page = rows.slice(0, top);
    const out: Record<string, unknown> = { '@odata.context': `${base(req)}/$metadata#groups${q.$select !== undefined ? `(${select.join(',')})` : ''}`, value: page.map((g) => graphGroup(g, select)) };
    if (rows.length > top) out['@odata.nextLink'] = kit.nextLink(req, q, encodeSkipToken({ after: page[page.length - 1]!.id }));
    return reply.send(out);
  }));

  scope.get('/groups/:id', guarded(async (req, reply, actor) => {
    requirePermission(actor, READ_DELEGATED, READ_APP);
    const q = kit.query(req, ['$select'], 'a group');
    const select = q.$select !== undefined ? parseSelect(q.$select, DEFAULT_SELECT) : DEFAULT_SELECT;
    const g = await findGroup(kit.id((req.params as { id: string }).id));
    return reply.send({ '@odata.context': `${base(req)}/$metadata#groups${q.$select !== undefined ? `(${select.join(',')})` : ''}/$entity`, ...graphGroup(g, select) });
  }));

  // --- create ---
  scope.post('/groups', guarded(async (req, reply, actor) => {
    requirePermission(actor, WRITE_DELEGATED, WRITE_APP);
    requireRole(actor, GROUP_WRITE_ROLES, 'creating groups');
    const b = jsonBody(req, ['displayName', 'description', 'mailEnabled', 'securityEnabled', 'mailNickname', 'isAssignableToRole', 'groupTypes', 'members@odata.bind'], 'group');
    const displayName = str(b.displayName, 'displayName', { required: true })!;
    const description = str(b.description, 'description', { max: 1024 });
    const mailNickname = str(b.mailNickname, 'mailNickname', { required: true, max: 64 })!;
    if (!/^[\x21-\x7e]+$/.test(mailNickname) || /[@()\\[\]";:<>,]/.test(mailNickname)) throw new GraphError(400, 'Request_BadRequest', "Property 'mailNickname' contains a character that is not allowed (spaces, non-ASCII and @()\\[]\";:<>, are not).");
    if (b.mailEnabled !== false) throw new GraphError(400, 'Request_BadRequest', "Property 'mailEnabled' is required and must be false: only security groups are supported.");
    if (b.securityEnabled !== true) throw new GraphError(400, 'Request_BadRequest', "Property 'securityEnabled' is required and must be true: only security groups are supported.");
    if (b.groupTypes !== undefined && !(Array.isArray(b.groupTypes) && b.groupTypes.length === 0)) throw new GraphError(400, 'Request_BadRequest', "Property 'groupTypes' must be empty: Microsoft 365 (Unified) and dynamic groups are not supported.");
    if (b.isAssignableToRole !== undefined && typeof b.isAssignableToRole !== 'boolean') throw new GraphError(400, 'Request_BadRequest', "Property 'isAssignableToRole' must be a boolean.");
    const assignable = b.isAssignableToRole === true;
    if (assignable) checkRoleAssignable(actor, { is_assignable_to_role: 1 }, 'creating');
    const bind = b['members@odata.bind'];
    if (bind !== undefined && (!Array.isArray(bind) || bind.length > 20)) throw new GraphError(400, 'Request_BadRequest', "Property 'members@odata.bind' must be an array of at most 20 directory object URLs.");
    const memberIds = [...new Set(((bind ?? []) as unknown[]).map((u) => referencedId({ '@odata.id': u }).id))];
    const members: User[] = [];
    for (const id of memberIds) {
      const u = await findUser(db, tenant.id, id);
      if (!u) throw notFound(id);
      if (!members.some((m) => m.id === u.id)) members.push(u);
    }
    const group: GroupTable = { id: crypto.randomUUID(), tenant_id: tenant.id, display_name: displayName, description: description ?? null, is_assignable_to_role: assignable ? 1 : 0, created_at: Date.now(), mail_nickname: mailNickname };
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('groups').values(group).execute();
      const correlationId = crypto.randomUUID();
      await writeAudit(trx, tenant.id, {
        activity: 'Add group',
        category: 'GroupManagement',
        service: 'Core Directory',
        operationType: 'Add',
        actor,
        target: { id: group.id, name: displayName },
        modified: [
          { displayName: 'DisplayName', oldValue: null, newValue: displayName },
          { displayName: 'MailNickname', oldValue: null, newValue: mailNickname },
          { displayName: 'IsAssignableToRole', oldValue: null, newValue: String(assignable) },
        ],
        correlationId,
        at: group.created_at,
      });
      for (const u of members) {
        await trx.insertInto('group_members').values({ group_id: group.id, user_id: u.id }).execute();
        await writeAudit(trx, tenant.id, memberAudit('Add member to group', actor, group, u, correlationId));
      }
    });
    return reply.code(201).header('location', `${base(req)}/groups/${group.id}`).send({ '@odata.context': `${base(req)}/$metadata#groups/$entity`, ...graphGroup(group) });
  }));

  // --- delete ---
  scope.delete('/groups/:id', guarded(async (req, reply, actor) => {
    requirePermission(actor, WRITE_DELEGATED, DELETE_APP);
    requireRole(actor, GROUP_WRITE_ROLES, 'deleting groups');
    const g = await findGroup(kit.id((req.params as { id: string }).id));
    checkRoleAssignable(actor, g, 'deleting');
    await db.transaction().execute(async (trx) => {
      await trx.deleteFrom('group_members').where('group_id', '=', g.id).execute();
      const gone = await trx.deleteFrom('groups').where('id', '=', g.id).executeTakeFirst();
      if (Number(gone.numDeletedRows) !== 1) throw notFound(g.id);
      await writeAudit(trx, tenant.id, { activity: 'Delete group', category: 'GroupManagement', service: 'Core Directory', operationType: 'Delete', actor, target: { id: g.id, name: g.display_name }, modified: [{ displayName: 'DisplayName', oldValue: g.display_name, newValue: null }] });
    });
    return reply.code(204).send();
  }));

  // --- members ---
  scope.get('/groups/:id/members', guarded(async (req, reply, actor) => {
    requirePermission(actor, READ_DELEGATED, READ_APP);
    const q = kit.query(req, ['$select', '$top', '$skiptoken', '$count'], 'group members');
    const select = q.$select !== undefined ? parseSelect(q.$select, USER_DEFAULT_SELECT) : USER_DEFAULT_SELECT;
    const top = q.$top !== undefined ? parseTop(q.$top, 999) : 100;
    const g = await findGroup(kit.id((req.params as { id: string }).id));
    let qb = db.selectFrom('group_members').innerJoin('users', 'users.id', 'group_members.user_id').selectAll('users').where('group_members.group_id', '=', g.id);
    if (q.$skiptoken !== undefined) {
      const token = decodeSkipToken(q.$skiptoken) as { after?: unknown };
      if (typeof token.after !== 'string') throw new GraphError(400, 'BadRequest', 'The $skiptoken is not valid.');
      qb = qb.where('users.id', '>', token.after);
    }
    const rows = await qb.orderBy('users.id').limit(top + 1).execute();
    const page = rows.slice(0, top);
    const out: Record<string, unknown> = { '@odata.context': `${base(req)}/$metadata#directoryObjects`, value: page.map((u) => userObject(u, select)) };
    if (rows.length > top) out['@odata.nextLink'] = kit.nextLink(req, q, encodeSkipToken({ after: page[page.length - 1]!.id }));
    return reply.send(out);
  }));

  scope.post('/groups/:id/members/$ref', guarded(async (req, reply, actor) => {
    requirePermission(actor, MEMBER_DELEGATED, MEMBER_APP);
    requireRole(actor, GROUP_WRITE_ROLES, 'changing group members');
    const { id: ref } = referencedId(jsonBody(req, [], 'directoryObject'));
    const g = await findGroup(kit.id((req.params as { id: string }).id));
    checkRoleAssignable(actor, g, 'changing the members');
    const u = await findUser(db, tenant.id, ref);
    if (!u) throw notFound(ref);
    await db.transaction().execute(async (trx) => {
      const exists = await trx.selectFrom('group_members').select('user_id').where('group_id', '=', g.id).where('user_id', '=', u.id).executeTakeFirst();
      if (exists) throw new GraphError(400, 'Request_BadRequest', "One or more added object references already exist for the following modified properties: 'members'.");
      await findGroup(g.id, trx); // deleted meanwhile: 404, not a foreign-key error
      await trx.insertInto('group_members').values({ group_id: g.id, user_id: u.id }).execute();
      await writeAudit(trx, tenant.id, memberAudit('Add member to group', actor, g, u));
    });
    return reply.code(204).send();
  }));

  scope.delete('/groups/:id/members/:memberId/$ref', guarded(async (req, reply, actor) => {
    requirePermission(actor, MEMBER_DELEGATED, MEMBER_APP);
    requireRole(actor, GROUP_WRITE_ROLES, 'changing group members');
    const p = req.params as { id: string; memberId: string };
    const g = await findGroup(kit.id(p.id));
    checkRoleAssignable(actor, g, 'changing the members');
    const memberId = kit.id(p.memberId);
    const u = await findUser(db, tenant.id, memberId);
    if (!u) throw notFound(memberId);
    await db.transaction().execute(async (trx) => {
      const gone = await trx.deleteFrom('group_members').where('group_id', '=', g.id).where('user_id', '=', u.id).executeTakeFirst();
      if (Number(gone.numDeletedRows) !== 1) throw notFound(memberId);
      await writeAudit(trx, tenant.id, memberAudit('Remove member from group', actor, g, u));
    });
    return reply.code(204).send();
  }));
}

function memberAudit(activity: 'Add member to group' | 'Remove member from group', actor: Actor, g: GroupTable, u: User, correlationId?: string) {
  const add = activity === 'Add member to group';
  return {
    activity,
    category: 'GroupManagement',
    service: 'Core Directory',
    operationType: add ? ('Assign' as const) : ('Unassign' as const),
    actor,
    target: { id: u.id, name: u.upn },
    modified: [
      { displayName: 'Group.ObjectID', oldValue: add ? null : g.id, newValue: add ? g.id : null },
      { displayName: 'Group.DisplayName', oldValue: add ? null : g.display_name, newValue: add ? g.display_name : null },
    ],
    ...(correlationId ? { correlationId } : {}),
  };
}

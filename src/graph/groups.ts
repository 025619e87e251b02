// Graph /groups: security groups with user members. List ($filter, $select, $top, paging), get, create,
// delete, members (list, add by $ref, remove by $ref). Each write and its audit record (Core Directory,
// GroupManagement) share one transaction.
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../admin/actor.js';
import { ROLES } from '../admin/roles.js';
import type { User } from '../directory/users.js';
import { writeAudit } from '../events/audit.js';
import type { Db } from '../storage/db.js';
import type { GroupTable } from '../storage/schema.js';
import { requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { type FieldMap, applyFilter, parseFilter } from './odata.js';
import { USER_DEFAULT_SELECT, userObject } from './users.js';
import { findUser, iso, jsonBody, notFound, referencedId, requireRole, routeKit, skipAfter, str } from './kit.js';

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
    const select = kit.select(q, DEFAULT_SELECT, DEFAULT_SELECT);
    const top = kit.top(q);
    let qb = db.selectFrom('groups').selectAll().where('tenant_id', '=', tenant.id);
    if (q.$filter !== undefined) qb = applyFilter(qb, parseFilter(q.$filter, GROUP_FILTER_FIELDS));
    const after = skipAfter(q);
    if (after !== undefined) qb = qb.where('id', '>', after);
    const rows = await qb.orderBy('id').limit(top + 1).execute();
    const context = `groups${q.$select !== undefined ? `(${select.join(',')})` : ''}`;
    return reply.send(await kit.page(req, q, rows, top, { context, shape: (page) => page.map((g) => graphGroup(g, select)), position: (g) => ({ after: g.id }) }));
  }));

  scope.get('/groups/:id', guarded(async (req, reply, actor) => {
    requirePermission(actor, READ_DELEGATED, READ_APP);
    const q = kit.query(req, ['$select'], 'a group');
    const select = kit.select(q, DEFAULT_SELECT, DEFAULT_SELECT);
    const g = await findGroup(kit.id((req.params as { id: string }).id));
    return reply.send({ '@odata.context': `${base(req)}/$metadata#groups${q.$select !== undefined ? `(${select.join(',')})` : ''}/$entity`, ...graphGroup(g, select) });
  }));

  // --- create ---
  scope.post('/groups', guarded(async (req, reply, actor) => {
    requirePermission(actor, WRITE_DELEGATED, WRITE_APP);
    requireRole(actor, GROUP_WRITE_ROLES, 'creating groups');
    const b = jsonBody(req, ['displayName', 'description', 'mailEnabled', 'securityEnabled', 'mailNickname', 'isAssignableToRole', 'groupTypes', 'members@odata.bind'], 'group');
    const displayName = str(b.displayName, 'displayName', { required: true, nonEmpty: true })!;
    const description = str(b.description, 'description', { max: 1024 });
    const mailNickname = str(b.mailNickname, 'mailNickname', { required: true, nonEmpty: true, max: 64 })!;
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
    const select = kit.select(q, USER_DEFAULT_SELECT, USER_DEFAULT_SELECT);
    const top = kit.top(q);
    const g = await findGroup(kit.id((req.params as { id: string }).id));
    let qb = db.selectFrom('group_members').innerJoin('users', 'users.id', 'group_members.user_id').selectAll('users').where('group_members.group_id', '=', g.id);
    const after = skipAfter(q);
    if (after !== undefined) qb = qb.where('users.id', '>', after);
    const rows = await qb.orderBy('users.id').limit(top + 1).execute();
    return reply.send(await kit.page(req, q, rows, top, { context: 'directoryObjects', shape: (page) => page.map((u) => userObject(u, select)), position: (u) => ({ after: u.id }) }));
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

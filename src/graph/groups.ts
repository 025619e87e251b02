// Graph /groups: security groups with user members. List ($filter, $select, $top, paging), get, create,
// update, delete, members (list, add by $ref, remove by $ref). Writes are admin actions (src/admin/actions:
// create-group, update-group, delete-group, add-group-member, remove-group-member).
import type { FastifyInstance } from 'fastify';
import * as addGroupMember from '../admin/actions/add-group-member.js';
import * as createGroup from '../admin/actions/create-group.js';
import * as deleteGroup from '../admin/actions/delete-group.js';
import * as removeGroupMember from '../admin/actions/remove-group-member.js';
import * as updateGroup from '../admin/actions/update-group.js';
import type { GroupTable } from '../storage/schema.js';
import { requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { type FieldMap, applyFilter, parseFilter } from './odata.js';
import { USER_DEFAULT_SELECT, userObject } from './users.js';
import { iso, jsonBody, notFound, referencedId, routeKit, skipAfter, str } from './kit.js';

const READ_DELEGATED = ['Group.Read.All', 'Group.ReadWrite.All', 'GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const READ_APP = ['Group.Read.All', 'Group.ReadWrite.All', 'GroupMember.Read.All', 'GroupMember.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

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
  const { guarded, base, ctx } = kit;

  const findGroup = async (id: string): Promise<GroupTable> => {
    const g = await db.selectFrom('groups').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', id).executeTakeFirst();
    if (!g) throw notFound(id);
    return g;
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

  // --- create, update, delete ---
  scope.post('/groups', guarded(async (req, reply, actor) => {
    const b = jsonBody(req, ['displayName', 'description', 'mailEnabled', 'securityEnabled', 'mailNickname', 'isAssignableToRole', 'groupTypes', 'members@odata.bind'], 'group');
    const displayName = str(b.displayName, 'displayName', { required: true, nonEmpty: true })!;
    const description = str(b.description, 'description', { max: 1024 });
    const mailNickname = str(b.mailNickname, 'mailNickname', { required: true, nonEmpty: true, max: 64 })!;
    if (!/^[\x21-\x7e]+$/.test(mailNickname) || /[@()\\[\]";:<>,]/.test(mailNickname)) throw new GraphError(400, 'Request_BadRequest', "Property 'mailNickname' contains a character that is not allowed (spaces, non-ASCII and @()\\[]\";:<>, are not).");
    if (b.mailEnabled !== false) throw new GraphError(400, 'Request_BadRequest', "Property 'mailEnabled' is required and must be false: only security groups are supported.");
    if (b.securityEnabled !== true) throw new GraphError(400, 'Request_BadRequest', "Property 'securityEnabled' is required and must be true: only security groups are supported.");
    if (b.groupTypes !== undefined && !(Array.isArray(b.groupTypes) && b.groupTypes.length === 0)) throw new GraphError(400, 'Request_BadRequest', "Property 'groupTypes' must be empty: Microsoft 365 (Unified) and dynamic groups are not supported.");
    if (b.isAssignableToRole !== undefined && typeof b.isAssignableToRole !== 'boolean') throw new GraphError(400, 'Request_BadRequest', "Property 'isAssignableToRole' must be a boolean.");
    const bind = b['members@odata.bind'];
    if (bind !== undefined && (!Array.isArray(bind) || bind.length > 20)) throw new GraphError(400, 'Request_BadRequest', "Property 'members@odata.bind' must be an array of at most 20 directory object URLs.");
    const memberIds = [...new Set(((bind ?? []) as unknown[]).map((u) => referencedId({ '@odata.id': u }).id))];
    const plan = await createGroup.plan(ctx, actor, { displayName, description, mailNickname, isAssignableToRole: b.isAssignableToRole === true, memberIds });
    const { value: group } = await createGroup.apply(ctx, plan);
    return reply.code(201).header('location', `${base(req)}/groups/${group.id}`).send({ '@odata.context': `${base(req)}/$metadata#groups/$entity`, ...graphGroup(group) });
  }));

  scope.patch('/groups/:id', guarded(async (req, reply, actor) => {
    const id = kit.id((req.params as { id: string }).id);
    const b = jsonBody(req, ['displayName', 'description'], 'group');
    const displayName = str(b.displayName, 'displayName', { nonEmpty: true });
    const description = b.description === null ? null : str(b.description, 'description', { max: 1024 });
    const plan = await updateGroup.plan(ctx, actor, id, { displayName, description });
    await updateGroup.apply(ctx, plan);
    return reply.code(204).send();
  }));

  scope.delete('/groups/:id', guarded(async (req, reply, actor) => {
    const plan = await deleteGroup.plan(ctx, actor, kit.id((req.params as { id: string }).id));
    await deleteGroup.apply(ctx, plan);
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
    const { id: userId } = referencedId(jsonBody(req, [], 'directoryObject'));
    const plan = await addGroupMember.plan(ctx, actor, { groupId: kit.id((req.params as { id: string }).id), userId });
    await addGroupMember.apply(ctx, plan);
    return reply.code(204).send();
  }));

  scope.delete('/groups/:id/members/:memberId/$ref', guarded(async (req, reply, actor) => {
    const p = req.params as { id: string; memberId: string };
    const plan = await removeGroupMember.plan(ctx, actor, { groupId: kit.id(p.id), userId: kit.id(p.memberId) });
    await removeGroupMember.apply(ctx, plan);
    return reply.code(204).send();
  }));
}

// Graph directory roles: /directoryRoles (the activated roles, their members, adding and removing user
// members by $ref) and the RBAC shape /roleManagement/directory (roleDefinitions, roleAssignments). A role
// is identified by its template id (a directoryRole's id here equals its roleTemplateId); holders are
// users (user_roles) and service principals (app_directory_roles; a service principal's id is its appId
// here). Changes are admin actions (src/admin/actions: add-role-member, remove-role-member).
import type { FastifyInstance } from 'fastify';
import type { Actor } from '../admin/actor.js';
import { ActionError } from '../admin/action.js';
import * as addRoleMember from '../admin/actions/add-role-member.js';
import type { Principal, RoleMemberInput } from '../admin/actions/add-role-member.js';
import * as removeRoleMember from '../admin/actions/remove-role-member.js';
import { ALL_ROLES, ROLES, ROLE_TEMPLATE_IDS } from '../admin/roles.js';
import type { Db } from '../storage/db.js';
import { requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import { jsonBody, notFound, referencedId, routeKit, skipAfter } from './kit.js';
import { userObject } from './users.js';
import type { GraphDeps } from './index.js';
import { type FieldMap, type FilterNode, parseFilter } from './odata.js';

const READ_DELEGATED = ['RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'RoleManagement.ReadWrite.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const READ_APP = ['RoleManagement.Read.Directory', 'RoleManagement.Read.All', 'RoleManagement.ReadWrite.Directory', 'Directory.Read.All', 'Directory.ReadWrite.All'];

/** Microsoft's descriptions of the built-in roles Latchkey knows. */
const DESCRIPTIONS: Record<string, string> = {
  [ROLES.globalAdmin]: 'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.',
  [ROLES.privilegedAuthAdmin]: 'Can access to view, set and reset authentication method information for any user (admin or non-admin).',
  [ROLES.authAdmin]: 'Can access to view, set and reset authentication method information for any non-admin user.',
  [ROLES.userAdmin]: 'Can manage all aspects of users and groups, including resetting passwords for limited admins.',
  [ROLES.helpdeskAdmin]: 'Can reset passwords for non-administrators and Helpdesk Administrators.',
  [ROLES.passwordAdmin]: 'Can reset passwords for non-administrators and Password Administrators.',
  [ROLES.authPolicyAdmin]: 'Can create and manage the authentication methods policy, tenant-wide MFA settings, password protection policy, and verifiable credentials.',
  [ROLES.globalReader]: 'Can read everything that a Global Administrator can, but not update anything.',
  [ROLES.directoryReaders]: 'Can read basic directory information. Commonly used to grant directory read access to applications and guests.',
  [ROLES.groupsAdmin]: 'Members of this role can create/manage groups, create/manage groups settings like naming and expiration policies, and view groups activity and audit reports.',
  [ROLES.guestInviter]: "Can invite guest users independent of the 'members can invite guests' setting.",
  [ROLES.messageCenterReader]: 'Can read messages and updates for their organization in Message Center only.',
  [ROLES.privilegedRoleAdmin]: 'Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.',
  [ROLES.reportsReader]: 'Can read sign-in and audit reports.',
  [ROLES.uxSuccessManager]: 'Can see only tenant level aggregates in Microsoft 365 Usage Analytics and Productivity Score.',
  [ROLES.usageSummaryReportsReader]: "Read Usage reports and Adoption Score, but can't access user details.",
  [ROLES.appAdmin]: 'Can create and manage all aspects of app registrations and enterprise apps.',
  [ROLES.cloudAppAdmin]: 'Can create and manage all aspects of app registrations and enterprise apps except App Proxy.',
};

const ROLE_BY_TEMPLATE = new Map(Object.entries(ROLE_TEMPLATE_IDS).map(([name, id]) => [id, name]));
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The role a template id (or `roleTemplateId=...` alternate key) names; 404 otherwise. */
function roleOf(id: string): { name: string; templateId: string } {
  const key = id.replace(/^roleTemplateId=/i, '').toLowerCase();
  const name = ROLE_BY_TEMPLATE.get(key);
  if (!name) throw notFound(id);
  return { name, templateId: key };
}

function directoryRole(name: string): Record<string, unknown> {
  const templateId = ROLE_TEMPLATE_IDS[name]!;
  return { id: templateId, deletedDateTime: null, description: DESCRIPTIONS[name] ?? null, displayName: name, roleTemplateId: templateId };
}

function roleDefinition(name: string): Record<string, unknown> {
  const templateId = ROLE_TEMPLATE_IDS[name]!;
  return { id: templateId, description: DESCRIPTIONS[name] ?? null, displayName: name, isBuiltIn: true, isEnabled: true, resourceScopes: ['/'], templateId, version: null, rolePermissions: [] };
}

interface Holder {
  kind: 'user' | 'app';
  principalId: string;
  role: string;
  templateId: string;
}

async function holders(db: Db, tenantId: string, role?: string): Promise<Holder[]> {
  let uq = db.selectFrom('user_roles').innerJoin('users', 'users.id', 'user_roles.user_id').select(['user_roles.user_id as id', 'user_roles.role as role']).where('users.tenant_id', '=', tenantId);
  let aq = db.selectFrom('app_directory_roles').innerJoin('apps', 'apps.id', 'app_directory_roles.app_id').select(['app_directory_roles.app_id as id', 'app_directory_roles.role as role']).where('apps.tenant_id', '=', tenantId);
  if (role) {
    uq = uq.where('user_roles.role', '=', role);
    aq = aq.where('app_directory_roles.role', '=', role);
  }
  const [users, apps] = await Promise.all([uq.execute(), aq.execute()]);
  const out: Holder[] = [];
  for (const [kind, rows] of [['user', users], ['app', apps]] as const) {
    for (const r of rows) {
      const templateId = ROLE_TEMPLATE_IDS[r.role];
      if (templateId) out.push({ kind, principalId: r.id, role: r.role, templateId });
    }
  }
  return out;
}

const assignmentId = (templateId: string, principalId: string) => `${templateId}_${principalId}`;

function roleAssignment(h: Pick<Holder, 'principalId' | 'templateId'>): Record<string, unknown> {
  return { id: assignmentId(h.templateId, h.principalId), principalId: h.principalId, roleDefinitionId: h.templateId, directoryScopeId: '/', appScopeId: null };
}

// $filter on roleAssignments (principalId, roleDefinitionId, id), evaluated in memory over the holders.
const ASSIGNMENT_FILTER_FIELDS: FieldMap = {
  id: { column: 'id', type: 'string', ops: ['eq', 'ne', 'in'] },
  principalId: { column: 'principalId', type: 'guid', ops: ['eq', 'ne', 'in'] },
  roleDefinitionId: { column: 'roleDefinitionId', type: 'guid', ops: ['eq', 'ne', 'in'] },
  directoryScopeId: { column: 'directoryScopeId', type: 'string', ops: ['eq'] },
};

function matches(node: FilterNode, row: Record<string, string>): boolean {
  switch (node.kind) {
    case 'and':
      return node.args.every((a) => matches(a, row));
    case 'or':
      return node.args.some((a) => matches(a, row));
    case 'not':
      return !matches(node.arg, row);
    case 'compare': {
      const v = row[node.column]!.toLowerCase();
      const want = node.value === null ? null : String(node.value).toLowerCase();
      return node.op === 'eq' ? v === want : node.op === 'ne' ? v !== want : false;
    }
    case 'in':
      return node.values.map((x) => String(x).toLowerCase()).includes(row[node.column]!.toLowerCase());
    case 'startsWith':
      return row[node.column]!.toLowerCase().startsWith(node.value.toLowerCase());
  }
}

export function registerRoleRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const kit = routeKit(deps);
  const { guarded, base, ctx } = kit;

  /** Reads: a read permission, or (app-only) any directory role held by the app's service principal. */
  const requireRead = (actor: Actor) => {
    if (actor.kind === 'app' && actor.roles.some((r) => ALL_ROLES.includes(r))) return;
    requirePermission(actor, READ_DELEGATED, READ_APP);
  };
  const roleMember = (add: boolean, actor: Actor, input: RoleMemberInput) =>
    add ? addRoleMember.plan(ctx, actor, input).then((plan) => addRoleMember.apply(ctx, plan)) : removeRoleMember.plan(ctx, actor, input).then((plan) => removeRoleMember.apply(ctx, plan));

  // --- /directoryRoles ---
  scope.get('/directoryRoles', guarded(async (req, reply, actor) => {
    requireRead(actor);
    kit.query(req, [], 'directoryRoles');
    const held = new Set((await holders(db, tenant.id)).map((h) => h.role));
    held.add(ROLES.globalAdmin); // always activated in a tenant
    const value = ALL_ROLES.filter((r) => held.has(r)).map(directoryRole);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#directoryRoles`, value });
  }));

  scope.get('/directoryRoles/:id', guarded(async (req, reply, actor) => {
    requireRead(actor);
    kit.query(req, [], 'directoryRoles');
    const role = roleOf(kit.id((req.params as { id: string }).id));
    if (role.name !== ROLES.globalAdmin && !(await holders(db, tenant.id, role.name)).length) throw notFound(role.templateId);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#directoryRoles/$entity`, ...directoryRole(role.name) });
  }));

  scope.get('/directoryRoles/:id/members', guarded(async (req, reply, actor) => {
    requireRead(actor);
    const q = kit.query(req, ['$top', '$skiptoken'], 'directoryRole members');
    const top = kit.top(q);
    const role = roleOf(kit.id((req.params as { id: string }).id));
    const after = skipAfter(q);
    const list = (await holders(db, tenant.id, role.name)).sort((a, b) => (a.principalId < b.principalId ? -1 : a.principalId > b.principalId ? 1 : 0)).filter((h) => after === undefined || h.principalId > after);
    return reply.send(await kit.page(req, q, list, top, { context: 'directoryObjects', shape: (page) => membersOf(page), position: (h) => ({ after: h.principalId }) }));
  }));

  /** The holders of a role as directory objects: users, and apps as service principals. */
  const membersOf = async (page: Holder[]): Promise<Record<string, unknown>[]> => {
    const userIds = page.filter((h) => h.kind === 'user').map((h) => h.principalId);
    const appIds = page.filter((h) => h.kind === 'app').map((h) => h.principalId);
    const users = new Map((userIds.length ? await db.selectFrom('users').selectAll().where('id', 'in', userIds).execute() : []).map((u) => [u.id, u]));
    const apps = new Map((appIds.length ? await db.selectFrom('apps').select(['id', 'display_name']).where('id', 'in', appIds).execute() : []).map((a) => [a.id, a]));
    return page.flatMap((h) => {
      if (h.kind === 'user') {
        const u = users.get(h.principalId);
        return u ? [userObject(u)] : [];
      }
      const a = apps.get(h.principalId);
      return a ? [{ '@odata.type': '#microsoft.graph.servicePrincipal', id: a.id, accountEnabled: true, appId: a.id, appDisplayName: a.display_name, displayName: a.display_name, servicePrincipalType: 'Application' }] : [];
    });
  };

  scope.post('/directoryRoles/:id/members/$ref', guarded(async (req, reply, actor) => {
    const ref = referencedId(jsonBody(req, [], 'directoryObject'), ['directoryObjects', 'users', 'servicePrincipals']);
    const role = roleOf(kit.id((req.params as { id: string }).id));
    await roleMember(true, actor, { role, principalId: ref.id, usersOnly: ref.kind === 'users' });
    return reply.code(204).send();
  }));

  scope.delete('/directoryRoles/:id/members/:memberId/$ref', guarded(async (req, reply, actor) => {
    const p = req.params as { id: string; memberId: string };
    const role = roleOf(kit.id(p.id));
    await roleMember(false, actor, { role, principalId: kit.id(p.memberId) });
    return reply.code(204).send();
  }));

  // --- /roleManagement/directory ---
  scope.get('/roleManagement/directory/roleDefinitions', guarded(async (req, reply, actor) => {
    requireRead(actor);
    kit.query(req, [], 'roleDefinitions');
    return reply.send({ '@odata.context': `${base(req)}/$metadata#roleManagement/directory/roleDefinitions`, value: ALL_ROLES.map(roleDefinition) });
  }));

  scope.get('/roleManagement/directory/roleDefinitions/:id', guarded(async (req, reply, actor) => {
    requireRead(actor);
    kit.query(req, [], 'roleDefinitions');
    const role = roleOf(kit.id((req.params as { id: string }).id));
    return reply.send({ '@odata.context': `${base(req)}/$metadata#roleManagement/directory/roleDefinitions/$entity`, ...roleDefinition(role.name) });
  }));

  scope.get('/roleManagement/directory/roleAssignments', guarded(async (req, reply, actor) => {
    requireRead(actor);
    const q = kit.query(req, ['$filter', '$top', '$skiptoken'], 'roleAssignments');
    const top = kit.top(q);
    const filter = q.$filter !== undefined ? parseFilter(q.$filter, ASSIGNMENT_FILTER_FIELDS) : undefined;
    const after = skipAfter(q);
    const list = (await holders(db, tenant.id))
      .map((h) => roleAssignment(h) as Record<string, string>)
      .filter((a) => (!filter || matches(filter, a)) && (after === undefined || a.id! > after))
      .sort((a, b) => (a.id! < b.id! ? -1 : a.id! > b.id! ? 1 : 0));
    return reply.send(await kit.page(req, q, list, top, { context: 'roleManagement/directory/roleAssignments', shape: (page) => page, position: (a) => ({ after: a.id }) }));
  }));

  const parseAssignmentId = (raw: string) => {
    const m = /^([0-9a-f-]{36})_(.+)$/i.exec(raw);
    if (!m) throw notFound(raw);
    return { role: roleOf(m[1]!), principalId: m[2]! };
  };

  scope.get('/roleManagement/directory/roleAssignments/:id', guarded(async (req, reply, actor) => {
    requireRead(actor);
    kit.query(req, [], 'roleAssignments');
    const raw = kit.id((req.params as { id: string }).id);
    const { role, principalId } = parseAssignmentId(raw);
    const h = (await holders(db, tenant.id, role.name)).find((x) => x.principalId === principalId);
    if (!h) throw notFound(raw);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#roleManagement/directory/roleAssignments/$entity`, ...roleAssignment(h) });
  }));

  scope.post('/roleManagement/directory/roleAssignments', guarded(async (req, reply, actor) => {
    const b = jsonBody(req, ['principalId', 'roleDefinitionId', 'directoryScopeId', 'appScopeId'], 'unifiedRoleAssignment');
    for (const k of ['principalId', 'roleDefinitionId'] as const) {
      if (typeof b[k] !== 'string' || !GUID.test(b[k])) throw new GraphError(400, 'Request_BadRequest', `Property '${k}' is required and must be an object id (GUID).`);
    }
    if ((b.directoryScopeId ?? '/') !== '/') throw new GraphError(400, 'Request_BadRequest', "Only the tenant-wide scope is supported: 'directoryScopeId' must be '/'.");
    if (b.appScopeId !== undefined && b.appScopeId !== null) throw new GraphError(400, 'Request_BadRequest', "Property 'appScopeId' is not supported: leave it out.");
    const role = roleOf(b.roleDefinitionId as string);
    const { value: principal } = await roleMember(true, actor, { role, principalId: b.principalId as string }).catch((e: unknown) => {
      throw e instanceof ActionError && e.code === 'invalid' ? new GraphError(400, 'Request_BadRequest', 'A conflicting object with one or more of the specified property values is present in the directory.') : e;
    });
    const principalId = (principal as Principal).id;
    return reply
      .code(201)
      .header('location', `${base(req)}/roleManagement/directory/roleAssignments/${assignmentId(role.templateId, principalId)}`)
      .send({ '@odata.context': `${base(req)}/$metadata#roleManagement/directory/roleAssignments/$entity`, ...roleAssignment({ principalId, templateId: role.templateId }) });
  }));

  scope.delete('/roleManagement/directory/roleAssignments/:id', guarded(async (req, reply, actor) => {
    const raw = kit.id((req.params as { id: string }).id);
    const { role, principalId } = parseAssignmentId(raw);
    await roleMember(false, actor, { role, principalId }).catch((e: unknown) => {
      throw e instanceof ActionError && e.code === 'not_found' ? notFound(raw) : e;
    });
    return reply.code(204).send();
  }));
}

// /latchkey/v1/directory/actions: which directory writes the caller may make (groups and their members,
// directory roles, applications, service principals and admin consent), each judged by the very check the
// write's admin action makes first, so `reason` is the 403 message the write would answer with. Rights that
// depend on the target are given per kind of target: a role-assignable group, Microsoft Graph's
// application permissions. What depends on one target's state (the last Global Administrator) is left to
// the write itself.
import type { FastifyInstance } from 'fastify';
import { checkRoleWrite } from '../admin/actions/add-role-member.js';
import type { Actor } from '../admin/actor.js';
import { checkApplicationWrite } from '../admin/applications.js';
import { type GroupKind, type GroupWrite, PLAIN_GROUP, ROLE_ASSIGNABLE_GROUP, checkGroupWrite } from '../admin/groups.js';
import { checkSpWrite } from '../admin/service-principals.js';
import { GRAPH_APP_ID } from '../directory/apps.js';
import { authenticate } from '../graph/auth.js';
import type { GraphDeps } from '../graph/index.js';
import { checkQuery, judged } from './routes.js';

/** A group write on a group of this kind, as the group actions check it once they have read the group. */
const onGroup = (write: GroupWrite, kind: GroupKind) => (actor: Actor) => checkGroupWrite(actor, write, kind);

/** As add-app-role-assignment checks it: the right to assign app roles at all, then Microsoft Graph's. */
function graphAppRoles(actor: Actor): void {
  checkSpWrite(actor, 'appRoleAssignment');
  checkSpWrite(actor, 'appRoleAssignment', GRAPH_APP_ID);
}

export const DIRECTORY_ACTIONS = [
  { name: 'createGroup', summary: 'Create a security group (POST /v1.0/groups).', check: onGroup('create', PLAIN_GROUP) },
  { name: 'createRoleAssignableGroup', summary: 'Create a group to which Microsoft Entra roles can be assigned (isAssignableToRole).', check: onGroup('create', ROLE_ASSIGNABLE_GROUP) },
  { name: 'updateGroup', summary: 'Update a group (PATCH /v1.0/groups/{id}).', check: onGroup('update', PLAIN_GROUP) },
  { name: 'updateRoleAssignableGroup', summary: 'Update a role-assignable group.', check: onGroup('update', ROLE_ASSIGNABLE_GROUP) },
  { name: 'deleteGroup', summary: 'Delete a group (DELETE /v1.0/groups/{id}).', check: onGroup('delete', PLAIN_GROUP) },
  { name: 'deleteRoleAssignableGroup', summary: 'Delete a role-assignable group.', check: onGroup('delete', ROLE_ASSIGNABLE_GROUP) },
  { name: 'changeGroupMembers', summary: "Add and remove a group's members (/v1.0/groups/{id}/members/$ref).", check: onGroup('members', PLAIN_GROUP) },
  { name: 'changeRoleAssignableGroupMembers', summary: "Add and remove a role-assignable group's members.", check: onGroup('members', ROLE_ASSIGNABLE_GROUP) },
  { name: 'assignDirectoryRoles', summary: 'Assign and remove directory roles (/v1.0/directoryRoles/{id}/members, roleManagement/directory/roleAssignments).', check: checkRoleWrite },
  { name: 'createApplication', summary: 'Register an application (POST /v1.0/applications).', check: (a: Actor) => checkApplicationWrite(a, 'creating applications') },
  { name: 'updateApplication', summary: 'Update an application (PATCH /v1.0/applications/{id}).', check: (a: Actor) => checkApplicationWrite(a, 'updating applications') },
  { name: 'deleteApplication', summary: 'Delete an application (DELETE /v1.0/applications/{id}).', check: (a: Actor) => checkApplicationWrite(a, 'deleting applications') },
  { name: 'manageApplicationSecrets', summary: "Add and remove an application's secrets (addPassword, removePassword).", check: (a: Actor) => checkApplicationWrite(a, 'managing application secrets') },
  { name: 'createServicePrincipal', summary: 'Create and delete service principals (/v1.0/servicePrincipals).', check: (a: Actor) => checkSpWrite(a, 'servicePrincipal') },
  { name: 'grantDelegatedPermissions', summary: 'Grant tenant-wide consent to delegated permissions of any API (/v1.0/oauth2PermissionGrants).', check: (a: Actor) => checkSpWrite(a, 'delegatedGrant') },
  { name: 'grantApplicationPermissions', summary: "Grant an API's application permissions, Microsoft Graph's excepted (appRoleAssignments).", check: (a: Actor) => checkSpWrite(a, 'appRoleAssignment') },
  { name: 'grantGraphApplicationPermissions', summary: "Grant Microsoft Graph's application permissions (appRoleAssignments on Microsoft Graph).", check: graphAppRoles },
] as const;

export type DirectoryActionName = (typeof DIRECTORY_ACTIONS)[number]['name'];

/** Each directory write with whether the actor may make it and, if not, the refusal it would get. */
export function directoryActions(actor: Actor) {
  return judged(DIRECTORY_ACTIONS, actor);
}

export function registerDirectoryRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  scope.get('/directory/actions', async (req, reply) => {
    const actor = await authenticate(req, deps.db, deps.verify);
    checkQuery(req, []);
    return reply.send({ value: directoryActions(actor) });
  });
}

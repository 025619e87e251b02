// Graph /servicePrincipals (v1.0 and beta): list ($filter on appId, displayName, id; $select; paging), get by
// id or `(appId='…')`, create for an appId, delete; the application permissions between them as
// appRoleAssignments (on the client: /appRoleAssignments; on the resource: /appRoleAssignedTo): list, grant,
// remove. Writes are admin actions (create-service-principal, delete-service-principal,
// add-app-role-assignment, remove-app-role-assignment).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as addAppRoleAssignment from '../admin/actions/add-app-role-assignment.js';
import * as createServicePrincipal from '../admin/actions/create-service-principal.js';
import * as deleteServicePrincipal from '../admin/actions/delete-service-principal.js';
import * as removeAppRoleAssignment from '../admin/actions/remove-app-role-assignment.js';
import { GRAPH_APP_ID } from '../directory/apps.js';
import { appPermissions } from '../directory/permission-ids.js';
import { type AppRoleAssignment, GUID, type ServicePrincipal, appRoleAssignments, findServicePrincipal, servicePrincipalFromRow, servicePrincipalRows } from '../directory/service-principals.js';
import { requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { type FieldMap, applyFilter, parseFilter } from './odata.js';
import { alternateKey, iso, jsonBody, notFound, routeKit, skipAfter, str } from './kit.js';

export const SP_READ_DELEGATED = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
export const SP_READ_APP = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];
const ASSIGNMENT_READ_DELEGATED = [...SP_READ_DELEGATED, 'AppRoleAssignment.ReadWrite.All'];
const ASSIGNMENT_READ_APP = [...SP_READ_APP, 'AppRoleAssignment.ReadWrite.All'];
/** The tenant that publishes Microsoft's own apps (Graph's appOwnerOrganizationId in every tenant). */
const MICROSOFT_SERVICES_TENANT = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';

const SP_SELECT = [
  'id', 'deletedDateTime', 'accountEnabled', 'addIns', 'alternativeNames', 'appDescription', 'appDisplayName', 'appId', 'applicationTemplateId', 'appOwnerOrganizationId', 'appRoleAssignmentRequired', 'appRoles',
  'description', 'disabledByMicrosoftStatus', 'displayName', 'homepage', 'info', 'keyCredentials', 'loginUrl', 'logoutUrl', 'notes', 'notificationEmailAddresses', 'oauth2PermissionScopes', 'passwordCredentials',
  'preferredSingleSignOnMode', 'preferredTokenSigningKeyThumbprint', 'replyUrls', 'resourceSpecificApplicationPermissions', 'samlSingleSignOnSettings', 'servicePrincipalNames', 'servicePrincipalType', 'signInAudience', 'tags',
  'tokenEncryptionKeyId', 'verifiedPublisher',
];

const SP_FILTER_FIELDS: FieldMap = {
  id: { column: 'service_principals.id', type: 'guid', ops: ['eq', 'ne', 'in'] },
  appId: { column: 'service_principals.app_id', type: 'string', ops: ['eq', 'ne', 'in', 'startsWith'] },
  displayName: { column: 'apps.display_name', type: 'string', ops: ['eq', 'ne', 'in', 'startsWith'], caseInsensitive: true },
};

/** A servicePrincipal in Graph's shape: name, scopes and app roles from its app. */
export function graphServicePrincipal(sp: ServicePrincipal, tenantId: string, select: readonly string[] = SP_SELECT): Record<string, unknown> {
  const { scopes, roles } = appPermissions(sp.app);
  const isGraph = sp.appId === GRAPH_APP_ID;
  const all: Record<string, unknown> = {
    id: sp.id,
    deletedDateTime: null,
    accountEnabled: sp.accountEnabled,
    addIns: [],
    alternativeNames: [],
    appDescription: null,
    appDisplayName: sp.app.displayName,
    appId: sp.appId,
    applicationTemplateId: null,
    appOwnerOrganizationId: isGraph ? MICROSOFT_SERVICES_TENANT : tenantId,
    appRoleAssignmentRequired: false,
    appRoles: roles.map((r) => ({ allowedMemberTypes: ['Application'], description: r.value, displayName: r.value, id: r.id, isEnabled: true, origin: 'Application', value: r.value })),
    description: null,
    disabledByMicrosoftStatus: null,
    displayName: sp.app.displayName,
    homepage: null,
    info: { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
    keyCredentials: [],
    loginUrl: null,
    logoutUrl: null,
    notes: null,
    notificationEmailAddresses: [],
    oauth2PermissionScopes: scopes.map((s) => ({ adminConsentDescription: s.value, adminConsentDisplayName: s.value, id: s.id, isEnabled: true, type: 'Admin', userConsentDescription: null, userConsentDisplayName: null, value: s.value })),
    passwordCredentials: [],
    preferredSingleSignOnMode: null,
    preferredTokenSigningKeyThumbprint: null,
    replyUrls: [...sp.app.webRedirectUris, ...sp.app.spaRedirectUris, ...sp.app.publicClientRedirectUris],
    resourceSpecificApplicationPermissions: [],
    samlSingleSignOnSettings: null,
    servicePrincipalNames: [sp.appId, ...sp.app.identifierUris.filter((u) => u !== sp.appId)],
    servicePrincipalType: 'Application',
    signInAudience: 'AzureADMyOrg',
    tags: [],
    tokenEncryptionKeyId: null,
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
  };
  return Object.fromEntries(select.map((k) => [k, all[k]]));
}

export function graphAppRoleAssignment(a: AppRoleAssignment): Record<string, unknown> {
  return {
    id: a.id,
    deletedDateTime: null,
    appRoleId: a.appRoleId,
    createdDateTime: iso(a.createdAt),
    principalDisplayName: a.principal.app.displayName,
    principalId: a.principal.id,
    principalType: 'ServicePrincipal',
    resourceDisplayName: a.resource.app.displayName,
    resourceId: a.resource.id,
  };
}

export function registerServicePrincipalRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const kit = routeKit(deps);
  const { guarded, base, ctx } = kit;

  /** The service principal of a path (`{id}` or `(appId='…')`); Graph's 400 for a malformed id, 404 when none. */
  const pathSp = async (req: FastifyRequest): Promise<ServicePrincipal> => {
    const key = alternateKey(kit.id((req.params as { id: string }).id));
    if ('id' in key && !GUID.test(key.id)) throw new GraphError(400, 'Request_BadRequest', `Invalid object identifier '${key.id.slice(0, 64)}'.`);
    const sp = await findServicePrincipal(db, tenant.id, key);
    if (!sp) throw notFound('id' in key ? key.id : `appId=${key.appId}`);
    return sp;
  };
  const selectContext = (q: Record<string, string>, select: string[]) => (q.$select !== undefined ? `(${select.join(',')})` : '');

  // --- service principals ---
  scope.get('/servicePrincipals', guarded(async (req, reply, actor) => {
    requirePermission(actor, SP_READ_DELEGATED, SP_READ_APP);
    const q = kit.query(req, ['$select', '$filter', '$top', '$skiptoken', '$count'], 'servicePrincipals');
    const select = kit.select(q, SP_SELECT, SP_SELECT);
    const top = kit.top(q);
    // one statement a page: the service principals with their apps (no read per row)
    let qb = servicePrincipalRows(db, tenant.id);
    if (q.$filter !== undefined) qb = applyFilter(qb, parseFilter(q.$filter, SP_FILTER_FIELDS));
    const after = skipAfter(q);
    if (after !== undefined) qb = qb.where('service_principals.id', '>', after);
    const rows = await qb.orderBy('service_principals.id').limit(top + 1).execute();
    const shape = (page: typeof rows) => page.map((r) => graphServicePrincipal(servicePrincipalFromRow(r), tenant.id, select));
    return reply.send(await kit.page(req, q, rows, top, { context: `servicePrincipals${selectContext(q, select)}`, shape, position: (r) => ({ after: r.sp_id }) }));
  }));

  scope.get('/servicePrincipals/:id', guarded(async (req, reply, actor) => {
    requirePermission(actor, SP_READ_DELEGATED, SP_READ_APP);
    const q = kit.query(req, ['$select'], 'a servicePrincipal');
    const select = kit.select(q, SP_SELECT, SP_SELECT);
    const sp = await pathSp(req);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#servicePrincipals${selectContext(q, select)}/$entity`, ...graphServicePrincipal(sp, tenant.id, select) });
  }));

  scope.post('/servicePrincipals', guarded(async (req, reply, actor) => {
    const b = jsonBody(req, ['appId', 'accountEnabled'], 'servicePrincipal');
    const appId = str(b.appId, 'appId', { required: true, nonEmpty: true, max: 128 })!;
    if (b.accountEnabled !== undefined && b.accountEnabled !== true) throw new GraphError(400, 'Request_BadRequest', "Property 'accountEnabled' can only be true: disabled service principals are not supported.");
    const plan = await createServicePrincipal.plan(ctx, actor, { appId });
    const { value: sp } = await createServicePrincipal.apply(ctx, plan);
    return reply.code(201).header('location', `${base(req)}/servicePrincipals/${sp.id}`).send({ '@odata.context': `${base(req)}/$metadata#servicePrincipals/$entity`, ...graphServicePrincipal(sp, tenant.id) });
  }));

  scope.delete('/servicePrincipals/:id', guarded(async (req, reply, actor) => {
    const sp = await pathSp(req);
    const plan = await deleteServicePrincipal.plan(ctx, actor, sp.id);
    await deleteServicePrincipal.apply(ctx, plan);
    return reply.code(204).send();
  }));

  // --- app role assignments: /appRoleAssignments on the client, /appRoleAssignedTo on the resource ---
  for (const [segment, side] of [['appRoleAssignments', 'principal'], ['appRoleAssignedTo', 'resource']] as const) {
    scope.get(`/servicePrincipals/:id/${segment}`, guarded(async (req, reply, actor) => {
      requirePermission(actor, ASSIGNMENT_READ_DELEGATED, ASSIGNMENT_READ_APP);
      const q = kit.query(req, ['$top', '$skiptoken', '$count'], segment);
      const top = kit.top(q);
      const sp = await pathSp(req);
      const after = skipAfter(q);
      const all = (await appRoleAssignments(db, tenant.id, side === 'principal' ? { clientAppId: sp.appId } : { resourceAppId: sp.appId })).sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
      const rows = all.filter((a) => after === undefined || a.id > after).slice(0, top + 1);
      return reply.send(await kit.page(req, q, rows, top, { context: `servicePrincipals('${sp.id}')/${segment}`, shape: (page) => page.map(graphAppRoleAssignment), position: (a) => ({ after: a.id }) }));
    }));

    scope.post(`/servicePrincipals/:id/${segment}`, guarded(async (req, reply, actor) => {
      const b = jsonBody(req, ['principalId', 'resourceId', 'appRoleId', 'principalType'], 'appRoleAssignment');
      const principalId = str(b.principalId, 'principalId', { required: true, nonEmpty: true })!;
      const resourceId = str(b.resourceId, 'resourceId', { required: true, nonEmpty: true })!;
      const appRoleId = str(b.appRoleId, 'appRoleId', { required: true, nonEmpty: true })!;
      if (b.principalType !== undefined && b.principalType !== 'ServicePrincipal') throw new GraphError(400, 'Request_BadRequest', "Property 'principalType': only service principals are assigned app roles here (users and groups are not supported).");
      if (!GUID.test(appRoleId)) throw new GraphError(400, 'Request_BadRequest', `Property 'appRoleId' must be a GUID; '${appRoleId.slice(0, 64)}' is not.`);
      const sp = await pathSp(req);
      const bodyId = side === 'principal' ? principalId : resourceId;
      if (bodyId.toLowerCase() !== sp.id) throw new GraphError(400, 'Request_BadRequest', `Property '${side === 'principal' ? 'principalId' : 'resourceId'}' ('${bodyId.slice(0, 64)}') must be the id of the service principal in the URL ('${sp.id}').`);
      const plan = await addAppRoleAssignment.plan(ctx, actor, { principalId: principalId.toLowerCase(), resourceId: resourceId.toLowerCase(), appRoleId });
      const { value } = await addAppRoleAssignment.apply(ctx, plan);
      return reply.code(201).header('location', `${base(req)}/servicePrincipals/${sp.id}/${segment}/${value.id}`).send({ '@odata.context': `${base(req)}/$metadata#servicePrincipals('${sp.id}')/${segment}/$entity`, ...graphAppRoleAssignment(value) });
    }));

    scope.delete(`/servicePrincipals/:id/${segment}/:assignmentId`, guarded(async (req, reply, actor) => {
      const sp = await pathSp(req);
      const assignmentId = kit.id((req.params as { assignmentId: string }).assignmentId);
      const plan = await removeAppRoleAssignment.plan(ctx, actor, { servicePrincipalId: sp.id, side, assignmentId });
      await removeAppRoleAssignment.apply(ctx, plan);
      return reply.code(204).send();
    }));
  }
}

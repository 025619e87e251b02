// Graph /oauth2PermissionGrants (v1.0 and beta): tenant-wide delegated permission grants (consentType
// AllPrincipals): list ($filter on clientId, resourceId, consentType; paging), get, create, PATCH scope,
// delete; and a service principal's own at /servicePrincipals/{id}/oauth2PermissionGrants. Writes are admin
// actions (create-delegated-grant, update-delegated-grant, delete-delegated-grant).
import type { FastifyInstance } from 'fastify';
import * as createDelegatedGrant from '../admin/actions/create-delegated-grant.js';
import * as deleteDelegatedGrant from '../admin/actions/delete-delegated-grant.js';
import * as updateDelegatedGrant from '../admin/actions/update-delegated-grant.js';
import { type DelegatedGrant, GUID, delegatedGrants, findServicePrincipal } from '../directory/service-principals.js';
import { requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { type FieldMap, type FilterNode, parseFilter } from './odata.js';
import { alternateKey, jsonBody, notFound, routeKit, skipAfter, str } from './kit.js';

const READ_DELEGATED = ['Directory.Read.All', 'DelegatedPermissionGrant.ReadWrite.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const READ_APP = ['Directory.Read.All', 'DelegatedPermissionGrant.ReadWrite.All', 'Directory.ReadWrite.All'];

// Graph: clientId, resourceId and consentType support eq only; the grants are filtered here, not in SQL
const FILTER_FIELDS: FieldMap = {
  clientId: { column: 'clientId', type: 'guid', ops: ['eq'] },
  resourceId: { column: 'resourceId', type: 'guid', ops: ['eq'] },
  consentType: { column: 'consentType', type: 'string', ops: ['eq'] },
};

export function graphGrant(g: DelegatedGrant): Record<string, unknown> {
  return { id: g.id, clientId: g.client.id, consentType: 'AllPrincipals', principalId: null, resourceId: g.resource.id, scope: g.scopes.join(' ') };
}

function matches(node: FilterNode, row: Record<string, unknown>): boolean {
  switch (node.kind) {
    case 'and':
      return node.args.every((a) => matches(a, row));
    case 'compare':
      return typeof node.value === 'string' && String(row[node.property]).toLowerCase() === node.value.toLowerCase();
    default:
      throw new GraphError(400, 'Request_UnsupportedQuery', 'Only eq comparisons joined by and are supported on oauth2PermissionGrants.');
  }
}

/** The space-separated `scope` of a body: its values (empty when blank). */
function scopeValues(v: unknown): string[] {
  const s = str(v, 'scope', { required: true, max: 4000 })!;
  return s.split(' ').filter(Boolean);
}

export function registerPermissionGrantRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const kit = routeKit(deps);
  const { guarded, base, ctx } = kit;

  const list = async (req: Parameters<typeof kit.query>[0], grants: DelegatedGrant[], context: string) => {
    const q = kit.query(req, ['$filter', '$top', '$skiptoken', '$count'], 'oauth2PermissionGrants');
    const top = kit.top(q);
    const filter = q.$filter !== undefined ? parseFilter(q.$filter, FILTER_FIELDS) : undefined;
    const after = skipAfter(q);
    const rows = grants
      .map((g) => ({ g, shaped: graphGrant(g) }))
      .filter(({ shaped }) => !filter || matches(filter, shaped))
      .sort((x, y) => (x.g.id < y.g.id ? -1 : x.g.id > y.g.id ? 1 : 0))
      .filter(({ g }) => after === undefined || g.id > after)
      .slice(0, top + 1);
    return kit.page(req, q, rows, top, { context, shape: (page) => page.map((r) => r.shaped), position: (r) => ({ after: r.g.id }) });
  };

  scope.get('/oauth2PermissionGrants', guarded(async (req, reply, actor) => {
    requirePermission(actor, READ_DELEGATED, READ_APP);
    return reply.send(await list(req, await delegatedGrants(db, tenant.id, {}), 'oauth2PermissionGrants'));
  }));

  scope.get('/servicePrincipals/:id/oauth2PermissionGrants', guarded(async (req, reply, actor) => {
    requirePermission(actor, READ_DELEGATED, READ_APP);
    const key = alternateKey(kit.id((req.params as { id: string }).id));
    if ('id' in key && !GUID.test(key.id)) throw new GraphError(400, 'Request_BadRequest', `Invalid object identifier '${key.id.slice(0, 64)}'.`);
    const sp = await findServicePrincipal(db, tenant.id, key);
    if (!sp) throw notFound('id' in key ? key.id : `appId=${key.appId}`);
    return reply.send(await list(req, await delegatedGrants(db, tenant.id, { clientAppId: sp.appId }), 'oauth2PermissionGrants'));
  }));

  scope.get('/oauth2PermissionGrants/:id', guarded(async (req, reply, actor) => {
    requirePermission(actor, READ_DELEGATED, READ_APP);
    kit.query(req, [], 'an oAuth2PermissionGrant');
    const g = await updateDelegatedGrant.findGrant(db, tenant.id, kit.id((req.params as { id: string }).id));
    return reply.send({ '@odata.context': `${base(req)}/$metadata#oauth2PermissionGrants/$entity`, ...graphGrant(g) });
  }));

  scope.post('/oauth2PermissionGrants', guarded(async (req, reply, actor) => {
    const b = jsonBody(req, ['clientId', 'consentType', 'principalId', 'resourceId', 'scope'], 'oAuth2PermissionGrant');
    const clientId = str(b.clientId, 'clientId', { required: true, nonEmpty: true })!;
    const resourceId = str(b.resourceId, 'resourceId', { required: true, nonEmpty: true })!;
    const consentType = str(b.consentType, 'consentType', { required: true });
    if (consentType === 'Principal') throw new GraphError(400, 'Request_BadRequest', "Property 'consentType': 'Principal' (consent for one user) is not supported; users consent for themselves at sign-in. Use 'AllPrincipals'.");
    if (consentType !== 'AllPrincipals') throw new GraphError(400, 'Request_BadRequest', "Property 'consentType' must be 'AllPrincipals'.");
    if (b.principalId !== undefined && b.principalId !== null) throw new GraphError(400, 'Request_BadRequest', "Property 'principalId' must be null when consentType is 'AllPrincipals'.");
    const plan = await createDelegatedGrant.plan(ctx, actor, { clientId: clientId.toLowerCase(), resourceId: resourceId.toLowerCase(), scopes: scopeValues(b.scope) });
    const { value } = await createDelegatedGrant.apply(ctx, plan);
    return reply.code(201).header('location', `${base(req)}/oauth2PermissionGrants/${value.id}`).send({ '@odata.context': `${base(req)}/$metadata#oauth2PermissionGrants/$entity`, ...graphGrant(value) });
  }));

  scope.patch('/oauth2PermissionGrants/:id', guarded(async (req, reply, actor) => {
    const id = kit.id((req.params as { id: string }).id);
    const b = jsonBody(req, ['scope'], 'oAuth2PermissionGrant');
    const plan = await updateDelegatedGrant.plan(ctx, actor, { id, scopes: scopeValues(b.scope) });
    await updateDelegatedGrant.apply(ctx, plan);
    return reply.code(204).send();
  }));

  scope.delete('/oauth2PermissionGrants/:id', guarded(async (req, reply, actor) => {
    const plan = await deleteDelegatedGrant.plan(ctx, actor, kit.id((req.params as { id: string }).id));
    await deleteDelegatedGrant.apply(ctx, plan);
    return reply.code(204).send();
  }));
}

// Graph /applications: app registrations. List ($filter on appId, displayName, id, createdDateTime;
// $select; paging), get by object id or `(appId='…')`, create, update (PATCH), delete, addPassword and
// removePassword. Writes are admin actions (src/admin/actions: create-application, update-application,
// delete-application, add-application-password, remove-application-password).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as addPassword from '../admin/actions/add-application-password.js';
import * as createApplication from '../admin/actions/create-application.js';
import * as deleteApplication from '../admin/actions/delete-application.js';
import * as removePassword from '../admin/actions/remove-application-password.js';
import * as updateApplication from '../admin/actions/update-application.js';
import { loadApplication } from '../admin/applications.js';
import { appFromRow } from '../directory/apps.js';
import { FIRST_PARTY_APP_IDS } from '../directory/first-party.js';
import type { Db } from '../storage/db.js';
import { requirePermission } from './auth.js';
import { APPLICATION_DEFAULT_SELECT, type StoredSecret, applicationInput, graphApplication, passwordCredential } from './application-body.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { type FieldMap, applyFilter, parseDateTimeLiteral, parseFilter } from './odata.js';
import { jsonBody, nestedObject, routeKit, skipAfter, str } from './kit.js';

// Graph: reading applications needs Application.Read.All or more (delegated: any member of the tenant
// with one of these scopes, as Entra's default user permissions let members read app registrations)
const READ_DELEGATED = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All', 'Directory.AccessAsUser.All'];
const READ_APP = ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'];

const FILTER_FIELDS: FieldMap = {
  id: { column: 'object_id', type: 'guid', ops: ['eq', 'ne', 'in'] },
  appId: { column: 'id', type: 'guid', ops: ['eq', 'ne', 'in'] },
  displayName: { column: 'display_name', type: 'string', ops: ['eq', 'ne', 'startsWith', 'in'], caseInsensitive: true },
  createdDateTime: { column: 'created_at', type: 'datetime', ops: ['eq', 'ne', 'ge', 'le', 'gt', 'lt'] },
};

/** The path marker `(appId='…')` is rewritten to (src/http/app.ts), so the routes can take it as a parameter. */
export const BY_APP_ID = '__appId';

/**
 * `/v1.0/applications(appId='{appId}')...` as a routable path: `/v1.0/applications/__appId/{appId}...`
 * (the quotes may come percent-encoded). Other URLs come back unchanged.
 */
export function rewriteAppIdKey(url: string): string {
  return url.replace(/^\/(v1\.0|beta)\/applications\(appId=(?:'|%27)([^'/?#()]*?)(?:'|%27)\)/i, (_m, version: string, appId: string) => `/${version}/applications/${BY_APP_ID}/${appId}`);
}

async function secretsOf(db: Db, appIds: string[]): Promise<Map<string, StoredSecret[]>> {
  const rows = appIds.length ? await db.selectFrom('app_secrets').select(['id', 'app_id', 'hint', 'display_name', 'start_at', 'created_at', 'expires_at']).where('app_id', 'in', appIds).orderBy('created_at').execute() : [];
  const out = new Map<string, StoredSecret[]>();
  for (const r of rows) out.set(r.app_id, [...(out.get(r.app_id) ?? []), r]);
  return out;
}

export function registerApplicationRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const kit = routeKit(deps);
  const { guarded, base, ctx } = kit;
  /** The `:id` of the route (an object id), or the appId of an `(appId='…')` route. */
  const target = (req: FastifyRequest) => {
    const p = req.params as { id?: string; appId?: string };
    return p.appId !== undefined ? { id: kit.id(p.appId), byAppId: true } : { id: kit.id(p.id), byAppId: false };
  };
  const shaped = async (req: FastifyRequest, select: string[], appKey: { id: string; byAppId: boolean }) => {
    const app = await loadApplication(db, tenant.id, appKey.id, appKey.byAppId);
    const secrets = await secretsOf(db, [app.id]);
    return graphApplication(app, secrets.get(app.id) ?? [], tenant.domain, select);
  };

  scope.get('/applications', guarded(async (req, reply, actor) => {
    requirePermission(actor, READ_DELEGATED, READ_APP);
    const q = kit.query(req, ['$select', '$filter', '$top', '$skiptoken', '$count'], 'applications');
    const select = kit.select(q, APPLICATION_DEFAULT_SELECT, APPLICATION_DEFAULT_SELECT);
    const top = kit.top(q);
    let qb = db.selectFrom('apps').selectAll().where('tenant_id', '=', tenant.id).where('kind', '=', 'application').where('id', 'not in', FIRST_PARTY_APP_IDS);
    if (q.$filter !== undefined) qb = applyFilter(qb, parseFilter(q.$filter, FILTER_FIELDS));
    const after = skipAfter(q);
    if (after !== undefined) qb = qb.where('object_id', '>', after);
    const rows = await qb.orderBy('object_id').limit(top + 1).execute();
    const context = `applications${q.$select !== undefined ? `(${select.join(',')})` : ''}`;
    return reply.send(
      await kit.page(req, q, rows, top, {
        context,
        shape: async (page) => {
          const secrets = await secretsOf(db, page.map((r) => r.id));
          return page.map((r) => graphApplication(appFromRow(r), secrets.get(r.id) ?? [], tenant.domain, select));
        },
        position: (r) => ({ after: r.object_id }),
      }),
    );
  }));

  for (const path of ['/applications/:id', `/applications/${BY_APP_ID}/:appId`]) {
    scope.get(path, guarded(async (req, reply, actor) => {
      requirePermission(actor, READ_DELEGATED, READ_APP);
      const q = kit.query(req, ['$select'], 'an application');
      const select = kit.select(q, APPLICATION_DEFAULT_SELECT, APPLICATION_DEFAULT_SELECT);
      const body = await shaped(req, select, target(req));
      return reply.send({ '@odata.context': `${base(req)}/$metadata#applications${q.$select !== undefined ? `(${select.join(',')})` : ''}/$entity`, ...body });
    }));

    scope.patch(path, guarded(async (req, reply, actor) => {
      const t = target(req);
      const plan = await updateApplication.plan(ctx, actor, t.id, applicationInput(req.body, false), t.byAppId);
      await updateApplication.apply(ctx, plan);
      return reply.code(204).send();
    }));

    scope.delete(path, guarded(async (req, reply, actor) => {
      const t = target(req);
      const plan = await deleteApplication.plan(ctx, actor, t.id, t.byAppId);
      await deleteApplication.apply(ctx, plan);
      return reply.code(204).send();
    }));

    scope.post(`${path}/addPassword`, guarded(async (req, reply, actor) => {
      const t = target(req);
      const b = jsonBody(req, ['passwordCredential'], 'application');
      const pc = b.passwordCredential === undefined || b.passwordCredential === null ? {} : nestedObject(b.passwordCredential, 'passwordCredential', ['displayName', 'endDateTime', 'startDateTime', 'customKeyIdentifier'], 'passwordCredential');
      if (pc.customKeyIdentifier !== undefined && pc.customKeyIdentifier !== null) throw new GraphError(400, 'Request_BadRequest', "Property 'passwordCredential.customKeyIdentifier' is not supported.");
      const when = (v: unknown, name: string) => {
        if (v === undefined || v === null) return undefined;
        const at = parseDateTimeLiteral(str(v, `passwordCredential.${name}`, { max: 40 })!);
        if (!at) throw new GraphError(400, 'Request_BadRequest', `Property 'passwordCredential.${name}' must be a date and time such as 2027-01-31T00:00:00Z.`);
        return at.ms;
      };
      const plan = await addPassword.plan(ctx, actor, t.id, { displayName: str(pc.displayName, 'passwordCredential.displayName', { max: 1024 }) ?? null, startDateTime: when(pc.startDateTime, 'startDateTime'), endDateTime: when(pc.endDateTime, 'endDateTime') }, t.byAppId);
      const { value: c } = await addPassword.apply(ctx, plan);
      const stored = { id: c.keyId, hint: c.hint, display_name: c.displayName, start_at: c.startDateTime, created_at: c.startDateTime, expires_at: c.endDateTime };
      return reply.send({ '@odata.context': `${base(req)}/$metadata#microsoft.graph.passwordCredential`, ...passwordCredential(stored, c.secretText) });
    }));

    scope.post(`${path}/removePassword`, guarded(async (req, reply, actor) => {
      const t = target(req);
      const b = jsonBody(req, ['keyId'], 'application');
      const plan = await removePassword.plan(ctx, actor, t.id, str(b.keyId, 'keyId', { required: true, max: 64 })!, t.byAppId);
      await removePassword.apply(ctx, plan);
      return reply.code(204).send();
    }));
  }

  scope.post('/applications', guarded(async (req, reply, actor) => {
    const input = applicationInput(req.body, true);
    const plan = await createApplication.plan(ctx, actor, { ...input, displayName: input.displayName! });
    const { value: app } = await createApplication.apply(ctx, plan);
    return reply.code(201).header('location', `${base(req)}/applications/${app.objectId}`).send({ '@odata.context': `${base(req)}/$metadata#applications/$entity`, ...graphApplication(app, [], tenant.domain) });
  }));
}

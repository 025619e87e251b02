// Graph's authentication methods policy (spec §7, entra-research §3): GET/PATCH
// /policies/authenticationMethodsPolicy (its configurations expanded on GET, as Graph does) and GET/PATCH
// /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{id} for the eight method
// configurations (ids case-insensitive). Thin routes: authorize, call the update action, shape the reply.
// A bad body is 400 invalidRequest naming the field, an unknown configuration 404; nothing is written.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ActionError } from '../admin/action.js';
import * as updateMethodsPolicy from '../admin/actions/update-methods-policy.js';
import { CONFIG_IDS, CONFIG_TYPES, type ConfigId, type MethodConfig, type StoredPolicy, readMethodsPolicy, systemCredentialPreferencesOf } from '../methods/policy.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { iso, jsonBody, routeKit } from './kit.js';

const POLICY = {
  id: 'authenticationMethodsPolicy',
  displayName: 'Authentication Methods Policy',
  description: 'The tenant-wide policy that controls which authentication methods are allowed in the tenant, authentication method registration requirements, and self-service password reset settings',
  policyVersion: '1.5',
};
const PATH = '/policies/authenticationMethodsPolicy';

/** One configuration in Graph's shape. */
export function configToGraph(id: ConfigId, c: MethodConfig): Record<string, unknown> {
  const { state, includeTargets, excludeTargets, ...settings } = c;
  return { '@odata.type': `#microsoft.graph.${CONFIG_TYPES[id]}`, id, state, ...settings, includeTargets, excludeTargets };
}

function policyToGraph(p: StoredPolicy): Record<string, unknown> {
  return {
    ...POLICY,
    lastModifiedDateTime: p.updatedAt ? iso(p.updatedAt) : null,
    reconfirmationInDays: null,
    policyMigrationState: p.doc.policyMigrationState,
    // system-preferred MFA (beta's shape; `default` is Microsoft managed, taken as enabled)
    systemCredentialPreferences: systemCredentialPreferencesOf(p.doc),
    authenticationMethodConfigurations: CONFIG_IDS.map((id) => configToGraph(id, p.doc.configurations[id])),
  };
}

function configIdOf(req: FastifyRequest): ConfigId {
  const raw = (req.params as { configId?: string }).configId ?? '';
  const id = CONFIG_IDS.find((c) => c.toLowerCase() === raw.toLowerCase());
  if (!id) throw new GraphError(404, 'Request_ResourceNotFound', `Authentication method configuration '${raw.slice(0, 64)}' does not exist (known: ${CONFIG_IDS.join(', ')}).`);
  return id;
}

/** A refused body is Graph's 400 invalidRequest naming the field; other refusals map as everywhere. */
async function refusingBadBodies<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (e) {
    if (e instanceof ActionError && e.code === 'invalid') throw new GraphError(400, 'invalidRequest', e.message);
    throw e;
  }
}

export function registerMethodsPolicyRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const k = routeKit(deps);
  const { db, tenant } = deps;

  scope.get(PATH, k.guarded(async (req, reply, actor) => {
    k.query(req, [], 'authenticationMethodsPolicy');
    updateMethodsPolicy.checkPolicyRead(actor);
    const p = await readMethodsPolicy(db, tenant.id);
    return reply.send({ '@odata.context': `${k.base(req)}/$metadata#policies/authenticationMethodsPolicy/$entity`, ...policyToGraph(p) });
  }));

  scope.patch(PATH, k.guarded(async (req, reply, actor) => {
    const body = jsonBody(req, ['policyMigrationState', 'id', 'displayName', 'description', 'lastModifiedDateTime', 'policyVersion', 'authenticationMethodConfigurations', 'reconfirmationInDays', 'registrationEnforcement', 'systemCredentialPreferences', 'reportSuspiciousActivitySettings'], 'authenticationMethodsPolicy');
    await refusingBadBodies(async () => updateMethodsPolicy.apply(k.ctx, await updateMethodsPolicy.plan(k.ctx, actor, { body })));
    const p = await readMethodsPolicy(db, tenant.id);
    return reply.send({ '@odata.context': `${k.base(req)}/$metadata#policies/authenticationMethodsPolicy/$entity`, ...policyToGraph(p) });
  }));

  scope.get(`${PATH}/authenticationMethodConfigurations`, k.guarded(async (req, reply, actor) => {
    k.query(req, [], 'authenticationMethodConfigurations');
    updateMethodsPolicy.checkPolicyRead(actor);
    const p = await readMethodsPolicy(db, tenant.id);
    return reply.send({ '@odata.context': `${k.base(req)}/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations`, value: CONFIG_IDS.map((id) => configToGraph(id, p.doc.configurations[id])) });
  }));

  scope.get(`${PATH}/authenticationMethodConfigurations/:configId`, k.guarded(async (req, reply, actor) => {
    k.query(req, [], 'authenticationMethodConfiguration');
    updateMethodsPolicy.checkPolicyRead(actor);
    const id = configIdOf(req);
    const p = await readMethodsPolicy(db, tenant.id);
    return reply.send({ '@odata.context': `${k.base(req)}/$metadata#policies/authenticationMethodsPolicy/authenticationMethodConfigurations/$entity`, ...configToGraph(id, p.doc.configurations[id]) });
  }));

  scope.patch(`${PATH}/authenticationMethodConfigurations/:configId`, k.guarded(async (req, reply, actor) => {
    const id = configIdOf(req);
    const b = req.body;
    if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new GraphError(400, 'invalidRequest', 'The request body must be a JSON object.');
    await refusingBadBodies(async () => updateMethodsPolicy.apply(k.ctx, await updateMethodsPolicy.plan(k.ctx, actor, { configId: id, body: b as Record<string, unknown> })));
    return reply.code(204).send();
  }));
}

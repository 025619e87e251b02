// Graph resetPassword on the password method (delegated only, D7) and its operation (D17), kept in
// graph_operations. The methods themselves are listed and managed in methods.ts.
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as resetPassword from '../admin/actions/reset-password.js';
import { requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { iso, jsonBody, routeKit, str } from './kit.js';

export { PASSWORD_METHOD_ID } from '../methods/password/index.js';
import { PASSWORD_METHOD_ID } from '../methods/password/index.js';

export function registerAuthenticationMethodRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const kit = routeKit(deps);
  const { guarded, base, ctx } = kit;
  const userIdOf = kit.userId;
  const findTarget = kit.user;

  // resetPassword: delegated only (D7); 202 + Location, already committed when sent (D17)
  const reset = guarded(async (req, reply, actor) => {
    const { methodId } = req.params as { methodId: string };
    if (methodId !== PASSWORD_METHOD_ID) throw new GraphError(404, 'Request_ResourceNotFound', `Authentication method '${methodId}' is not a password method.`);
    if (actor.kind === 'app') throw new GraphError(403, 'Authorization_RequestDenied', 'resetPassword is not supported for application permissions; use PATCH /users/{id} passwordProfile with a directory role.');
    const id = userIdOf(req, actor);
    // no body, or a JSON object with at most newPassword (a JSON null is not "no body")
    const b = req.body === undefined || req.body === '' ? {} : jsonBody(req, ['newPassword'], 'user');
    const newPassword = str(b.newPassword, 'newPassword');
    const plan = await resetPassword.plan(ctx, actor, id, { newPassword, forceChangePasswordNextSignIn: true });
    // D17: the reset and its operation, recorded as succeeded, are committed together before the 202 is sent
    const opId = crypto.randomUUID();
    const result = await db.transaction().execute(async (trx) => {
      const applied = await resetPassword.apply({ ...ctx, db: trx }, plan);
      await trx.insertInto('graph_operations').values({ id: opId, tenant_id: tenant.id, user_id: plan.targetId, kind: 'passwordReset', status: 'succeeded', created_at: applied.appliedAt, updated_at: applied.appliedAt }).execute();
      return applied;
    });
    return reply
      .code(202)
      .header('location', `${base(req)}/users/${plan.targetId}/authentication/operations/${opId}`)
      .header('retry-after', '0')
      .send({ '@odata.context': `${base(req)}/$metadata#microsoft.graph.passwordResetResponse`, newPassword: result.secret ?? null });
  });
  scope.post('/users/:id/authentication/methods/:methodId/resetPassword', reset);
  scope.post('/users/:id/authentication/passwordMethods/:methodId/resetPassword', reset);

  scope.get('/users/:id/authentication/operations/:opId', guarded(async (req, reply, actor) => {
    const { opId } = req.params as { opId: string };
    const id = userIdOf(req, actor);
    const u = await findTarget(id);
    if (!(actor.kind === 'user' && actor.id === u.id)) requirePermission(actor, ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All', 'Directory.AccessAsUser.All'], ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All']);
    kit.query(req, [], 'a longRunningOperation');
    const op = await db.selectFrom('graph_operations').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', kit.id(opId)).where('user_id', '=', u.id).executeTakeFirst();
    if (!op) throw new GraphError(404, 'Request_ResourceNotFound', `Operation '${opId}' does not exist.`);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#users('${u.id}')/authentication/operations/$entity`, id: op.id, status: op.status, createdDateTime: iso(op.created_at), lastActionDateTime: iso(op.updated_at), resourceLocation: `${base(req)}/users/${u.id}/authentication/passwordMethods/${PASSWORD_METHOD_ID}`, statusDetail: null });
  }));
}

// Graph /users/{id}/authentication and /me/authentication: the authentication methods (the password
// method for now), resetPassword (delegated only, D7) and its operation (D17), kept in graph_operations.
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as resetPassword from '../admin/actions/reset-password.js';
import type { User } from '../directory/users.js';
import { requirePermission } from './auth.js';
import { GraphError } from './errors.js';
import type { GraphDeps } from './index.js';
import { iso, jsonBody, routeKit, str } from './kit.js';

export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';

export function registerAuthenticationMethodRoutes(scope: FastifyInstance, deps: GraphDeps): void {
  const { db, tenant } = deps;
  const kit = routeKit(deps);
  const { guarded, base, ctx } = kit;
  const userIdOf = kit.userId;
  const findTarget = kit.user;

  const passwordMethod = (u: User) => ({ '@odata.type': '#microsoft.graph.passwordAuthenticationMethod', id: PASSWORD_METHOD_ID, password: null, createdDateTime: iso(u.last_password_change_at) });
  const methodsRead = (all: boolean) =>
    guarded(async (req, reply, actor) => {
      const id = userIdOf(req, actor);
      const self = actor.kind === 'user' && actor.id === (await findTarget(id)).id;
      if (!self) requirePermission(actor, ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'], ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All']);
      const u = await findTarget(id);
      const value = u.password_hash ? [passwordMethod(u)] : [];
      return reply.send({ '@odata.context': `${base(req)}/$metadata#users('${u.id}')/authentication/${all ? 'methods' : 'passwordMethods'}`, value });
    });
  scope.get('/users/:id/authentication/methods', methodsRead(true));
  scope.get('/me/authentication/methods', methodsRead(true));
  scope.get('/users/:id/authentication/passwordMethods', methodsRead(false));
  scope.get('/me/authentication/passwordMethods', methodsRead(false));

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
    const op = await db.selectFrom('graph_operations').selectAll().where('tenant_id', '=', tenant.id).where('id', '=', kit.id(opId)).where('user_id', '=', u.id).executeTakeFirst();
    if (!op) throw new GraphError(404, 'Request_ResourceNotFound', `Operation '${opId}' does not exist.`);
    return reply.send({ '@odata.context': `${base(req)}/$metadata#users('${u.id}')/authentication/operations/$entity`, id: op.id, status: op.status, createdDateTime: iso(op.created_at), lastActionDateTime: iso(op.updated_at), resourceLocation: `${base(req)}/users/${u.id}/authentication/passwordMethods/${PASSWORD_METHOD_ID}`, statusDetail: null });
  }));
}

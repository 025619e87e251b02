// The Graph-compatible API at /v1.0, with /beta beside it: one encapsulated Fastify scope per version with
// Graph's error shape for every refusal (bad JSON, wrong content type, unknown route, missing rights).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import type { Secrets } from '../crypto/secrets.js';
import type { Tenant } from '../directory/tenant.js';
import type { AccessTokenVerifier } from '../protocol/access-tokens.js';
import type { Db } from '../storage/db.js';
import { sendGraphError } from './errors.js';
import { registerApplicationRoutes } from './applications.js';
import { registerGroupRoutes } from './groups.js';
import { registerLogRoutes } from './logs.js';
import { registerMethodRoutes } from './methods.js';
import { registerMethodsPolicyRoutes } from './methods-policy.js';
import { registerRoleRoutes } from './roles.js';
import { registerPermissionGrantRoutes } from './permission-grants.js';
import { registerServicePrincipalRoutes } from './service-principals.js';
import { registerAuthenticationMethodRoutes } from './authentication-methods.js';
import { answerCors } from './cors.js';
import { mapError } from './kit.js';
import { notFoundMessage } from './not-found.js';
import { registerUserRoutes } from './users.js';

export interface GraphDeps {
  db: Db;
  secrets: Secrets;
  tenant: Tenant;
  config: Config;
  origin: string;
  verify: AccessTokenVerifier;
}

export function registerGraph(app: FastifyInstance, deps: GraphDeps): void {
  for (const prefix of ['/v1.0', '/beta']) {
    void app.register(
      async (scope) => {
        // the scope's route paths, for naming the segment of a URL none of them serves
        const routes: string[] = [];
        scope.addHook('onRoute', (r) => void routes.push(r.url));
        scope.addHook('onRequest', async (req, reply) => {
          if (answerCors(req, reply)) return reply;
          if (['POST', 'PATCH', 'PUT'].includes(req.method) && req.headers['content-length'] !== '0' && req.headers['content-type'] !== undefined && !/^application\/json\b/i.test(req.headers['content-type'])) {
            return sendGraphError(req, reply, 415, 'UnsupportedMediaType', 'The request body must be application/json.');
          }
        });
        registerUserRoutes(scope, deps);
        registerAuthenticationMethodRoutes(scope, deps);
        registerMethodRoutes(scope, deps);
        registerMethodsPolicyRoutes(scope, deps);
        registerGroupRoutes(scope, deps);
        registerApplicationRoutes(scope, deps);
        registerRoleRoutes(scope, deps);
        registerLogRoutes(scope, deps);
        registerServicePrincipalRoutes(scope, deps);
        registerPermissionGrantRoutes(scope, deps);
        scope.setNotFoundHandler((req, reply) =>
          req.url.includes('/__malformed')
            ? sendGraphError(req, reply, 400, 'BadRequest', 'The URL is not valid percent-encoded UTF-8.')
            : sendGraphError(req, reply, 400, 'BadRequest', notFoundMessage(req, routes)),
        );
        scope.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req: FastifyRequest, reply: FastifyReply) => {
          const mapped = mapError(err);
          if (mapped) return sendGraphError(req, reply, mapped.status, mapped.code, mapped.message);
          if (err.statusCode === 413) return sendGraphError(req, reply, 413, 'RequestEntityTooLarge', 'The request body is too large.');
          if (err.statusCode === 415) return sendGraphError(req, reply, 415, 'UnsupportedMediaType', 'The request body must be application/json.');
          if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return sendGraphError(req, reply, 400, 'BadRequest', `The request is malformed: ${err.message}`);
          req.log.error({ err }, 'graph request failed');
          return sendGraphError(req, reply, 500, 'generalException', 'An internal error occurred.');
        });
      },
      { prefix },
    );
  }
}

// Latchkey's own admin API at /latchkey/v1 (spec D21), beside Graph: the same Graph-audience access tokens
// and the same who-may-act-on-whom checks, and Graph's error shape for every refusal (bad JSON, wrong
// content type, body too large, unknown route, missing rights). The contract: docs/latchkey-api.md.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendGraphError } from '../graph/errors.js';
import type { GraphDeps } from '../graph/index.js';
import { apiError } from './errors.js';
import { registerDirectoryRoutes } from './directory.js';
import { API_PREFIX, registerApiRoutes } from './routes.js';
import { registerPlaybookRoutes } from './playbook.js';
import { registerSessionRoutes } from './sessions.js';
import { registerSettingsRoutes } from './settings.js';

/** Bodies here are small JSON objects (an action's input, a few settings). */
const BODY_LIMIT = 16 * 1024;

export function registerLatchkeyApi(app: FastifyInstance, deps: GraphDeps): void {
  void app.register(
    async (scope) => {
      scope.addHook('onRoute', (route) => {
        route.bodyLimit = BODY_LIMIT;
      });
      scope.addHook('onRequest', async (req, reply) => {
        if (['POST', 'PATCH', 'PUT'].includes(req.method) && req.headers['content-length'] !== '0' && req.headers['content-type'] !== undefined && !/^application\/json\b/i.test(req.headers['content-type'])) {
          return sendGraphError(req, reply, 415, 'UnsupportedMediaType', 'The request body must be application/json.');
        }
      });
      registerApiRoutes(scope, deps);
      registerSettingsRoutes(scope, deps);
      registerDirectoryRoutes(scope, deps);
      registerSessionRoutes(scope, deps);
      registerPlaybookRoutes(scope, deps);
      scope.setNotFoundHandler((req, reply) => sendGraphError(req, reply, 404, 'ResourceNotFound', `No route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}; see docs/latchkey-api.md.`));
      scope.setErrorHandler((err: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply) => {
        const mapped = apiError(err);
        if (mapped) return sendGraphError(req, reply, mapped.status, mapped.code, mapped.message);
        if (err.statusCode === 413) return sendGraphError(req, reply, 413, 'RequestEntityTooLarge', `The request body is too large (at most ${BODY_LIMIT} bytes).`);
        if (err.statusCode === 415) return sendGraphError(req, reply, 415, 'UnsupportedMediaType', 'The request body must be application/json.');
        if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return sendGraphError(req, reply, 400, 'BadRequest', `The request is malformed: ${err.message}`);
        req.log.error({ err }, 'latchkey api request failed');
        return sendGraphError(req, reply, 500, 'generalException', 'An internal error occurred.');
      });
    },
    { prefix: API_PREFIX },
  );
}

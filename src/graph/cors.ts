// Cross-origin calls to Graph, as Microsoft Graph answers them: a single-page app calls it from the browser
// with a bearer token (MSAL.js's own samples call /me this way). Graph carries no cookie and no ambient
// credential, so any origin may call it; what a caller may do is its token's business.
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The response headers a page's script may read (paging and operations name them: Location, Retry-After). */
const EXPOSED = 'Location, Retry-After, ETag, request-id, client-request-id, WWW-Authenticate, Content-Range, Preference-Applied';
const METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * Gives a cross-origin request the CORS headers, and answers its preflight (204); true when it answered.
 * A request without an Origin header (a server, a script) is left as it is.
 */
export function answerCors(req: FastifyRequest, reply: FastifyReply): boolean {
  if (req.headers.origin === undefined) return false;
  reply.header('access-control-allow-origin', '*');
  const preflight = req.method === 'OPTIONS' && typeof req.headers['access-control-request-method'] === 'string';
  if (!preflight) {
    reply.header('access-control-expose-headers', EXPOSED);
    return false;
  }
  const asked = req.headers['access-control-request-headers'];
  reply.header('access-control-allow-methods', METHODS);
  if (typeof asked === 'string' && asked) reply.header('access-control-allow-headers', asked.slice(0, 2000));
  reply.header('access-control-max-age', '3600');
  reply.header('vary', 'Access-Control-Request-Headers');
  void reply.code(204).send();
  return true;
}

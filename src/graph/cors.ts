// Cross-origin calls to Graph, as Microsoft Graph answers them: a single-page app calls it from the browser
// with a bearer token (MSAL.js's own samples call /me this way). Graph carries no cookie and no ambient
// credential, so any origin may call it; what a caller may do is its token's business. Latchkey's userinfo
// (Entra's is Graph's /oidc/userinfo) answers the same way (src/http/token-routes.ts).
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface CorsRule {
  /** the methods a preflight is told of */
  methods: string;
  /** the response headers a page's script may read */
  exposed: string;
}

/** Graph's: paging and operations name Location and Retry-After; a refusal's request id and WWW-Authenticate. */
export const GRAPH_CORS: CorsRule = {
  methods: 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
  exposed: 'Location, Retry-After, ETag, request-id, client-request-id, WWW-Authenticate, Content-Range, Preference-Applied',
};

/**
 * Gives a cross-origin request the CORS headers, and answers its preflight (204); true when it answered.
 * A request without an Origin header (a server, a script) is left as it is. Refusals carry the headers too,
 * so the page reads the error.
 */
export function answerCors(req: FastifyRequest, reply: FastifyReply, rule: CorsRule = GRAPH_CORS): boolean {
  if (req.headers.origin === undefined) return false;
  reply.header('access-control-allow-origin', '*');
  const preflight = req.method === 'OPTIONS' && typeof req.headers['access-control-request-method'] === 'string';
  if (!preflight) {
    reply.header('access-control-expose-headers', rule.exposed);
    return false;
  }
  const asked = req.headers['access-control-request-headers'];
  reply.header('access-control-allow-methods', rule.methods);
  if (typeof asked === 'string' && asked) reply.header('access-control-allow-headers', asked.slice(0, 2000));
  reply.header('access-control-max-age', '3600');
  reply.header('vary', 'Access-Control-Request-Headers');
  void reply.code(204).send();
  return true;
}

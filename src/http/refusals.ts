// Requests refused before any route sees them (a URL that is not valid percent-encoding, a path segment
// longer than the router takes) are answered in the wire format of the endpoint they were sent to:
// Graph's error shape for Graph and /latchkey/v1, an HTML page for the pages a browser opens, an OAuth
// error body for the rest. And a request line in absolute form (`GET https://host/path`, which HTTP/1.1
// servers must accept) is read as its path, as every route and page reads `req.url`.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendGraphError } from '../graph/errors.js';
import { API_PREFIX } from '../api/routes.js';
import { ROUTES } from '../protocol/routes.js';
import { escapeHtml, page } from '../signin/html.js';

export type WireFormat = 'graph' | 'page' | 'oauth';

/** Set on the raw request by the URL rewriter: its target in origin form, before any rewriting. */
const SENT_AS = Symbol('latchkey.sentAs');

/** Keeps the request's target (origin form) as it was sent, for a refusal after the rewriter changed it. */
export function keepSentUrl(req: object, url: string): void {
  (req as { [SENT_AS]?: string })[SENT_AS] = url;
}

/** The request's target as it was sent (origin form); middie rewrites `originalUrl`, so it is kept apart. */
export function sentUrl(req: FastifyRequest): string {
  return (req.raw as { [SENT_AS]?: string })[SENT_AS] ?? req.url;
}

/** The pages a browser opens under a tenant segment (`/{tenant}/…`): refused with a page too. */
const TENANT_PAGES = [ROUTES.authorization, ROUTES.end_session, ROUTES.code_verification, '/oauth2/authorize'];
/** Latchkey's own pages, outside any tenant segment. */
const PAGES = /^\/(?:signin|mysecurityinfo|demo|admin)(?:[/?#]|$)|^\/(?:[?#]|$)/;
/** The demo's endpoints that answer JSON (a back-channel logout receiver, a protected API), not pages. */
const DEMO_JSON = /^\/demo\/(?:backchannel-logout|api)(?:[/?#]|$)/;

/** The wire format of the endpoint an origin-form URL names, decided on the raw text (it may be malformed). */
export function wireFormatOf(url: string): WireFormat {
  if (/^\/(?:v1\.0|beta)(?:[/?#]|$)/.test(url) || url === API_PREFIX || url.startsWith(`${API_PREFIX}/`) || url.startsWith(`${API_PREFIX}?`)) return 'graph';
  if (PAGES.test(url) && !DEMO_JSON.test(url)) return 'page';
  const path = url.split(/[?#]/, 1)[0]!;
  const afterTenant = path.slice(path.indexOf('/', 1));
  if (path.indexOf('/', 1) > 0 && TENANT_PAGES.some((p) => afterTenant === p || afterTenant.startsWith(`${p}/`))) return 'page';
  return 'oauth';
}

/** Answers `status` with `message` in the wire format of the endpoint the request was sent to. */
export function refuseRequest(req: FastifyRequest, reply: FastifyReply, status: number, message: string): FastifyReply {
  switch (wireFormatOf(sentUrl(req))) {
    case 'graph':
      return sendGraphError(req, reply, status, 'BadRequest', message);
    case 'page':
      return reply
        .code(status)
        .type('text/html; charset=utf-8')
        .send(page('Bad request', `<div class="card"><h1>Bad request</h1><p id="errorMessage">${escapeHtml(message)}</p></div>`));
    case 'oauth':
      return reply.code(status).send({ error: 'invalid_request', error_description: message });
  }
}

/**
 * The origin form of a request target: `https://host/path?q` → `/path?q` (RFC 9112 §3.2.2: servers accept
 * the absolute form; the configured origin stays the only one Latchkey names); anything else unchanged.
 */
export function originForm(target: string): string {
  if (target.startsWith('/')) return target;
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (!m) return target;
  const rest = target.slice(m[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

// Requests refused before any route sees them (a URL that is not valid percent-encoding, a path segment
// longer than the router takes) are answered in the wire format of the endpoint they were sent to:
// Graph's error shape for Graph and /latchkey/v1, an HTML page for the pages a browser opens, an OAuth
// error body for the rest. And a request line in absolute form (`GET https://host/path`, which HTTP/1.1
// servers must accept) is read as its path, as every route and page reads `req.url`.
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendGraphError } from '../graph/errors.js';
import { API_PREFIX } from '../api/routes.js';
import { ROUTES } from '../protocol/routes.js';
import { htmlSecurityHeaders } from '../protocol/pages.js';
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

/** A 415's message outside Graph and /latchkey/v1 (they name JSON themselves): the type sent, and the form expected. */
export function unsupportedMediaType(req: FastifyRequest): string {
  const sent = String(req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().replace(/[^\x20-\x7e]/g, '?').slice(0, 100);
  return `The request body's content type ${sent ? `'${sent}'` : '(none)'} is not accepted here: send application/x-www-form-urlencoded.`;
}

/** A refusal's headers and body in a wire format, for an answer written outside Fastify's reply. */
function rawAnswer(format: WireFormat, message: string, https: boolean): { headers: Record<string, string>; body: string } {
  let type = 'application/json';
  let body: string;
  let extra: Record<string, string> = {};
  if (format === 'graph') {
    const date = new Date().toISOString().replace(/\.\d+Z$/, '');
    body = JSON.stringify({ error: { code: 'BadRequest', message, innerError: { date, 'request-id': crypto.randomUUID(), 'client-request-id': crypto.randomUUID() } } });
  } else if (format === 'page') {
    type = 'text/html; charset=utf-8';
    body = page('Bad request', `<div class="card"><h1>Bad request</h1><p id="errorMessage">${escapeHtml(message)}</p></div>`);
    extra = htmlSecurityHeaders(https);
  } else {
    body = JSON.stringify({ error: 'invalid_request', error_description: message });
  }
  return { headers: { 'content-type': type, 'content-length': String(Buffer.byteLength(body)), 'cache-control': 'no-store', connection: 'close', ...extra }, body };
}

/**
 * A request Node's HTTP parser refused before any route (headers over its limit, broken framing, a request
 * not received in time): answered in the wire format of the endpoint its request line names, when the
 * line can be read, instead of Fastify's generic JSON. Fastify's `clientErrorHandler`.
 */
export function answerClientError(err: Error & { code?: string; reason?: string; rawPacket?: unknown }, socket: Duplex, https: boolean): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (!socket.writable) return void socket.destroy();
  const [status, message]: [number, string] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request line and headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request was not received in time.']
        : [400, `The request is not valid HTTP/1.1${err.reason ? ` (${err.reason.replace(/[^\x20-\x7e]/g, '?').slice(0, 100)})` : ''}.`];
  const line = /^[A-Z]+ (\S+) HTTP\/1\.[01]\r?\n/.exec(Buffer.isBuffer(err.rawPacket) ? err.rawPacket.toString('latin1', 0, 16 * 1024) : '');
  const { headers, body } = rawAnswer(line ? wireFormatOf(originForm(line[1]!)) : 'oauth', message, https);
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n${body}`);
}

/** What the request line and headers may weigh (Node's default); the parser itself takes up to PARSER_HEADER_LIMIT. */
export const HEADER_LIMIT = 16 * 1024;
/**
 * Node's own limit, set above HEADER_LIMIT so that a request between the two is refused by a route-level
 * hook that knows its URL: over TLS the parser sees the headers a record (16 KiB) at a time, and the record
 * that overflows no longer holds the request line, so answerClientError could not name the endpoint.
 */
export const PARSER_HEADER_LIMIT = 64 * 1024;

/**
 * What Node answers itself, answered in the endpoint's wire format instead: the request line and headers
 * over HEADER_LIMIT (a 431; beyond PARSER_HEADER_LIMIT answerClientError answers), and an Expect header
 * other than 100-continue (a 417).
 */
export function lowLevelRefusals(app: FastifyInstance, https: boolean): void {
  app.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => answerExpectation(req, res, https));
  app.addHook('onRequest', async (req, reply) => {
    const raw = req.raw.rawHeaders;
    let size = (req.raw.url ?? '').length + 16;
    for (let i = 0; i < raw.length; i++) size += raw[i]!.length + 2;
    if (size > HEADER_LIMIT) return refuseRequest(req, reply, 431, 'The request line and headers are too large.');
  });
}

/** Node's answer to an `Expect` header other than 100-continue (417), in the endpoint's wire format. */
function answerExpectation(req: IncomingMessage, res: ServerResponse, https: boolean): void {
  const { headers, body } = rawAnswer(wireFormatOf(originForm(req.url ?? '/')), "The request's Expect header is not supported: only '100-continue' is.", https);
  res.writeHead(417, headers).end(body);
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

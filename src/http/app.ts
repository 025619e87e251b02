// The Fastify application: Entra's URL shapes (tenant aliases, v2.0 discovery), the engine mounted at
// /{tenantId}, Latchkey's own routes (sign-in pages, userinfo, introspection, demo), and one error mapping
// so that no request, however malformed, gets a 500.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import middie from '@fastify/middie';
import formbody from '@fastify/formbody';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { Secrets } from '../crypto/secrets.js';
import { SecretVerifier } from '../directory/apps.js';
import { rewriteAppIdKey } from '../graph/applications.js';
import type { Tenant } from '../directory/tenant.js';
import { createProvider } from '../protocol/provider.js';
import { explainAadsts } from '../protocol/errors.js';
import { firstSigninPage } from '../signin/first-page.js';
import { ROUTES, MULTI_TENANT_ALIASES, TENANT_ALIAS } from '../protocol/routes.js';
import { applyPageHeaders } from '../protocol/pages.js';
import type { KeySet } from '../protocol/keys.js';
import { registerSignin } from '../signin/flow.js';
import { registerSecurityInfo } from '../signin/security-info.js';
import { escapeHtml, page } from '../signin/html.js';
import { logSignin, refreshSigninAggregator } from '../signin/signin-log.js';
import type { Db } from '../storage/db.js';
import type { TlsMaterial } from '../tls/local-ca.js';
import { registerTokenRoutes } from './token-routes.js';
import { PARSER_HEADER_LIMIT, answerClientError, keepSentUrl, lowLevelRefusals, originForm, refuseRequest, unsupportedMediaType } from './refusals.js';
import { refuseDuplicateMembers } from './json-body.js';
import { registerDemo } from '../demo/portal.js';
import { registerGraph } from '../graph/index.js';
import { rewriteAlternateKeys } from '../graph/kit.js';
import { registerLatchkeyApi } from '../api/index.js';
import { createAccessTokenVerifier } from '../protocol/access-tokens.js';
import { registerAdminPortal } from '../admin-portal/routes.js';

export interface AppDeps {
  config: Config;
  db: Db;
  secrets: Secrets;
  tenant: Tenant;
  keys: KeySet;
  tls: TlsMaterial | undefined;
  /** the origin clients use; computed from the port when not configured */
  origin: string;
}

export interface LatchkeyApp {
  app: FastifyInstance;
  provider: Provider;
  origin: string;
}

type AliasedRequest = IncomingMessage & { [TENANT_ALIAS]?: string };

/** Whether every path segment and query component is valid percent-encoded UTF-8. */
function wellEncoded(url: string): boolean {
  if (!url.includes('%')) return true;
  try {
    for (const part of url.split(/[/?&=]/)) decodeURIComponent(part.replace(/\+/g, ' '));
    return true;
  } catch {
    return false;
  }
}

export function buildApp(deps: AppDeps): LatchkeyApp {
  const { tenant, origin } = deps;
  const tid = tenant.id;
  const aliases = new Set([tid.toLowerCase(), tenant.domain.toLowerCase(), ...MULTI_TENANT_ALIASES]);
  const ownRoutes = new Set([ROUTES.userinfo, ROUTES.introspection]);

  const app = Fastify({
    ...(deps.tls ? { https: { key: deps.tls.key, cert: deps.tls.cert, maxHeaderSize: PARSER_HEADER_LIMIT } } : { http: { maxHeaderSize: PARSER_HEADER_LIMIT } }),
    trustProxy: deps.config.trustProxy,
    // Request logs carry no query string: codes, id_token_hint, user codes and login hints travel there.
    logger: deps.config.logLevel === 'silent' ? false : { level: deps.config.logLevel, serializers: { req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, url: (req.url ?? '').split('?')[0], remoteAddress: req.ip }) } },
    bodyLimit: 256 * 1024,
    // ids longer than this are refused by the routes themselves, in their own wire format; longer
    // segments by frameworkErrors below, in the same formats
    routerOptions: { maxParamLength: 1000 },
    clientErrorHandler: (err, socket) => answerClientError(err, socket, origin.startsWith('https:')),
    frameworkErrors(err, req, reply) {
      if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') void refuseRequest(req, reply, 414, 'A path segment of the URL is too long.');
      else void refuseRequest(req, reply, 400, 'The URL is not valid.');
    },
    rewriteUrl(req) {
      // a request line in absolute form is read as its path, here and by every route after
      req.url = originForm(req.url ?? '/');
      keepSentUrl(req, req.url);
      // Graph's key syntax /applications(appId='…') as a routable path (src/graph/applications.ts)
      const url = rewriteAppIdKey(req.url);
      // a malformed Graph URL is refused in Graph's shape by the Graph scope's not-found handler
      if (!wellEncoded(url)) return /^\/(v1\.0|beta)\//.test(url) ? `${url.slice(0, url.indexOf('/', 1))}/__malformed` : '/__malformed';
      if (/^\/(v1\.0|beta)\//.test(url)) return rewriteAlternateKeys(url);
      const m = /^\/([^/?#]+)(.*)$/.exec(url);
      if (!m) return url;
      const first = decodeURIComponent(m[1]!).toLowerCase();
      if (!aliases.has(first)) return url;
      if (first !== tid) (req as AliasedRequest)[TENANT_ALIAS] = first;
      const rest = m[2] ?? '';
      // Entra's discovery lives at /{tenant}/v2.0/.well-known/...; the engine serves it at its mount.
      return `/${tid}${rest.replace(/^\/v2\.0\/\.well-known\//, '/.well-known/')}`;
    },
  }) as unknown as FastifyInstance;
  // a JSON body with a member name given twice in one object is refused before any handler (src/http/json-body.ts)
  refuseDuplicateMembers(app);
  lowLevelRefusals(app, origin.startsWith('https:'));

  const provider = createProvider({
    config: deps.config,
    db: deps.db,
    secrets: deps.secrets,
    tenant,
    origin,
    keys: deps.keys,
    secretVerifier: new SecretVerifier(deps.db),
    interactionUrl: (uid) => `/signin/${uid}`,
    firstSigninPage: firstSigninPage({ db: deps.db, secrets: deps.secrets, tenant, config: deps.config, origin }),
    html: { page, escapeHtml },
    signinLog: { write: (e) => logSignin(deps.db, tid, e), refresh: refreshSigninAggregator(deps.db, tid) },
  });

  logEngineErrors(provider, app.log);
  const engine = provider.callback();
  const publicHost = new URL(origin).host;
  const publicProto = new URL(origin).protocol.replace(':', '');
  void app.register(middie).after(() => {
    app.use(`/${tid}`, (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      if ((ownRoutes as Set<string>).has(path)) return next();
      // The engine builds every URL it advertises from the request; make them the configured origin's,
      // whichever address or proxy the request came through (the issuer never varies).
      req.headers['x-forwarded-host'] = publicHost;
      req.headers['x-forwarded-proto'] = publicProto;
      if (!deps.config.trustProxy) delete req.headers['x-forwarded-for'];
      engine(req, res).catch((err: unknown) => {
        app.log.error({ err }, 'engine failed to answer');
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      });
    });
  });
  void app.register(formbody);

  app.all('/__malformed', (req, reply) => refuseRequest(req, reply, 400, 'The URL is not valid percent-encoding.'));
  app.get('/', (_req, reply) =>
    reply
      .type('text/html')
      .send(
        page(
          'Latchkey',
          `<div class="card"><h1>Latchkey</h1><p>Identity provider for <b>${tenant.display_name}</b> (${tenant.domain}).</p><p class="small">Issuer: <code>${origin}/${tid}/v2.0</code></p><p><a href="/demo/">Demo portal</a></p></div>`,
        ),
      ),
  );
  app.get('/healthz', (_req, reply) => reply.send({ status: 'ok' }));
  // the page every OAuth error's error_uri names (`/error?code=50126`), as Entra's login.microsoftonline.com/error
  app.get('/error', (req, reply) => {
    const raw = (req.query as Record<string, unknown>).code;
    const code = typeof raw === 'string' && /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
    const known = code === undefined ? [] : explainAadsts(code);
    const heading = code === undefined ? 'Error code lookup' : `AADSTS${code}`;
    const body = known.length
      ? `<ul>${known.map((k) => `<li>${k.error ? `<code>${escapeHtml(k.error)}</code>: ` : ''}${escapeHtml(k.message)}</li>`).join('')}</ul>`
      : `<p id="errorMessage">${code === undefined ? 'Give an error code as <code>?code=</code> followed by its number, for example <code>/error?code=50126</code>.' : 'Latchkey does not answer with this code.'}</p>`;
    return reply
      .code(code === undefined && raw !== undefined ? 400 : 200)
      .type('text/html; charset=utf-8')
      .send(page(heading, `<div class="card"><h1>${escapeHtml(heading)}</h1>${body}<p class="small">Issuer: <code>${escapeHtml(origin)}/${tid}/v2.0</code></p></div>`));
  });

  registerSignin(app, { provider, db: deps.db, secrets: deps.secrets, tenant, config: deps.config, origin });
  registerSecurityInfo(app, { provider, db: deps.db, secrets: deps.secrets, tenant, origin, config: deps.config });
  registerTokenRoutes(app, { provider, keys: deps.keys, db: deps.db, tenant, origin });
  registerGraph(app, { db: deps.db, secrets: deps.secrets, tenant, config: deps.config, origin, verify: createAccessTokenVerifier(deps.keys, `${origin}/${tid}/v2.0`) });
  registerLatchkeyApi(app, { db: deps.db, secrets: deps.secrets, tenant, config: deps.config, origin, verify: createAccessTokenVerifier(deps.keys, `${origin}/${tid}/v2.0`) });
  registerAdminPortal(app, { origin, tenantId: tid });
  if (deps.config.demo) registerDemo(app, { origin, tenant, caFile: deps.tls?.caFile });

  // Sign-in page posts: a NUL in any value is refused with a page before a handler sees it (PostgreSQL
  // text refuses NUL; the OAuth routes refuse it in their own wire format).
  app.addHook('preHandler', async (req, reply) => {
    if (!req.url.startsWith('/signin/')) return;
    const body = req.body;
    if (body && typeof body === 'object' && Object.values(body as Record<string, unknown>).some((v) => typeof v === 'string' && v.includes('\u0000'))) {
      return refuseRequest(req, reply, 400, 'A field of the form contains a character that is not allowed.');
    }
  });

  // Every HTML page Fastify sends (sign-in, demo portal, error pages) gets the same headers as the engine's.
  const https = new URL(origin).protocol === 'https:';
  app.addHook('onSend', async (_req, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) applyPageHeaders({ get: (n) => reply.getHeader(n), set: (n, v) => void reply.header(n, v) }, https);
    return payload;
  });

  app.setNotFoundHandler((req, reply) => {
    const wantsJson = !String(req.headers.accept ?? '').includes('text/html');
    if (wantsJson) return reply.code(404).send({ error: 'not_found', error_description: `No route for ${req.method} ${req.url.split('?')[0]}` });
    return reply.code(404).type('text/html').send(page('Not found', '<div class="card"><h1>Not found</h1></div>'));
  });
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'unhandled error');
    // a request refused before its handler (content type, body size) gets its endpoint's wire format: a page's is a page
    if (status !== 500) return refuseRequest(req, reply, status, (err as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' ? unsupportedMediaType(req) : err.message);
    return reply.code(status).send({ error: 'server_error', error_description: 'An internal error occurred.' });
  });

  return { app, provider, origin };
}

/**
 * Koa reports on its `error` event what no answer could carry (a client gone mid-body: `aborted`,
 * ECONNRESET, a broken chunked body) and, with no listener, prints its stack to stderr, outside the
 * logger. A client going away is not the server's failure: logged at info; anything else at error.
 * Registered before the engine's callback is made (Koa adds its printer then, if nothing listens).
 */
function logEngineErrors(provider: unknown, log: FastifyBaseLogger): void {
  (provider as { on(event: 'error', listener: (err: Error & { code?: string }) => void): void }).on('error', (err) => {
    const gone = err.message === 'aborted' || err.code === 'ECONNRESET' || err.code === 'ECONNABORTED' || err.code === 'EPIPE' || /^HPE_/.test(err.code ?? '');
    if (gone) log.info({ err: { message: err.message, code: err.code } }, 'client went away during an engine request');
    else log.error({ err }, 'engine request failed after its answer');
  });
}

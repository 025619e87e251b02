// Serves the admin portal's build at /admin: the page (with a fresh CSP nonce for Fluent UI's style
// elements), its hashed assets, and the few settings the portal needs to sign in (config.json). The page's
// Content Security Policy allows no inline script and no connection but to this origin.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { GRAPH_RESOURCE } from '../directory/apps.js';
import { ADMIN_PORTAL_APP_ID } from './app-registration.js';
import { PORTAL_DIST } from './build.js';

export interface AdminPortalDeps {
  origin: string;
  tenantId: string;
  /** the build folder (tests may point elsewhere) */
  dist?: string;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.json': 'application/json' };

/** The policy of the portal's page; `nonce` is the one its style elements carry. */
export function adminPortalCsp(nonce: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function registerAdminPortal(app: FastifyInstance, deps: AdminPortalDeps): void {
  const dist = deps.dist ?? PORTAL_DIST;
  const indexFile = path.join(dist, 'index.html');
  // the build is read once; a missing build is said plainly rather than served as a blank page
  const index = fs.existsSync(indexFile) ? fs.readFileSync(indexFile, 'utf8') : undefined;
  const assetsDir = path.join(dist, 'assets');
  // each asset with its gzip form (compressed once here; sent to clients that accept it)
  const assets = new Map<string, { body: Buffer; gzip: Buffer | undefined }>();
  if (fs.existsSync(assetsDir)) {
    for (const f of fs.readdirSync(assetsDir)) {
      const body = fs.readFileSync(path.join(assetsDir, f));
      assets.set(f, { body, gzip: /\.(js|css|svg|json)$/.test(f) ? zlib.gzipSync(body, { level: 9 }) : undefined });
    }
  }

  const sendPage = (reply: FastifyReply) => {
    if (!index) return reply.code(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('The admin portal is not built: `npm start` builds it (or run `npm run build:portal`), then restart.');
    const nonce = crypto.randomBytes(16).toString('base64');
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', adminPortalCsp(nonce))
      .header('cross-origin-opener-policy', 'same-origin')
      .send(index.replace('__CSP_NONCE__', nonce));
  };

  app.get('/admin', (req, reply) => reply.redirect(`/admin/${req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''}`));
  app.get('/admin/', (_req, reply) => sendPage(reply));
  // the portal's routes (portal/src/router.ts): each serves the page, which shows the route, so that a
  // reload or a link opened anew lands on it (tests/admin-portal-restart.test.ts reloads each)
  for (const route of ['/admin/users/*', '/admin/playbook/runs/*', '/admin/sign-ins', '/admin/audit', '/admin/groups', '/admin/groups/*', '/admin/roles', '/admin/roles/*', '/admin/apps', '/admin/apps/*', '/admin/authentication-methods', '/admin/security-defaults', '/admin/settings']) app.get(route, (_req, reply) => sendPage(reply));
  app.get('/admin/config.json', (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ clientId: ADMIN_PORTAL_APP_ID, authority: `${deps.origin}/${deps.tenantId}`, graphScope: `${GRAPH_RESOURCE}/.default` }),
  );
  app.get('/admin/assets/:file', (req, reply) => {
    const file = (req.params as { file: string }).file;
    const asset = assets.get(file);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    const gzip = asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply
      .type(TYPES[path.extname(file)] ?? 'application/octet-stream')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('vary', 'accept-encoding')
      .header('x-content-type-options', 'nosniff')
      .send(gzip ? asset.gzip : asset.body);
  });
}

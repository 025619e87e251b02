// The demo relying party, served beside the IdP under /demo: a "portal" that signs in with Latchkey as any
// confidential web app would (code + PKCE + nonce over HTTPS), shows the user and the token claims, and
// calls the protected demo API, which checks each call by introspection (spec D8) so that a revocation
// shows at once, and ends its own sessions when the IdP sends a back-channel logout token. It talks to the
// IdP only over HTTP(S), like an outside app.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type JSONWebKeySet, type JWTVerifyGetKey, createLocalJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import type { Tenant } from '../directory/tenant.js';
import { DEMO } from '../directory/seed.js';
import { escapeHtml, page } from '../signin/html.js';
import { cookieValue } from '../signin/flow.js';

export interface DemoDeps {
  origin: string;
  tenant: Tenant;
  /** CA certificate file to trust when calling the IdP (the local CA, when Latchkey made one) */
  caFile?: string;
}

interface PortalSession {
  idToken: string;
  idClaims: Record<string, unknown>;
  accessToken: string;
  expiresAt: number;
}

interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  expiresAt: number;
}

const COOKIE = '__Host-lk_demo';
const PENDING_COOKIE = '__Host-lk_demo_login';
const SESSION_TTL_MS = 8 * 3600 * 1000;

function setCookie(reply: FastifyReply, name: string, value: string, maxAgeS?: number) {
  const attrs = [`${name}=${value}`, 'Path=/', 'Secure', 'HttpOnly', 'SameSite=Lax'];
  if (maxAgeS !== undefined) attrs.push(`Max-Age=${maxAgeS}`);
  reply.header('set-cookie', [...((reply.getHeader('set-cookie') as string[] | undefined) ?? []), attrs.join('; ')]);
}

/** A small HTTPS client that trusts the IdP's CA (an outside app would configure the same). */
function request(url: string, opts: { method: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; ca?: Buffer }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = https.request(
      u,
      { method: opts.method, headers: { ...opts.headers, ...(opts.body ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}) }, ...(opts.ca ? { ca: opts.ca } : {}), timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`request to ${u.host} timed out`)));
    req.on('error', reject);
    if (opts.body) req.write(opts.body);
    req.end();
  });
}

export function registerDemo(app: FastifyInstance, deps: DemoDeps): void {
  const { origin, tenant } = deps;
  const base = `${origin}/${tenant.id}`;
  const redirectUri = `${origin}/demo/callback`;
  const ca = deps.caFile && fs.existsSync(deps.caFile) ? fs.readFileSync(deps.caFile) : undefined;
  const sessions = new Map<string, PortalSession>();
  const pending = new Map<string, PendingLogin>();
  const form = (o: Record<string, string>) => new URLSearchParams(o).toString();

  // The IdP's published keys, fetched through the CA-trusting client and fetched again for an unknown kid
  // (a key rotation), at most every 30 s.
  let jwks: { get: JWTVerifyGetKey; fetchedAt: number } | undefined;
  class KeysUnavailable extends Error {}
  const loadJwks = async () => {
    const res = await request(`${base}/discovery/v2.0/keys`, { method: 'GET', ca }).catch((e: unknown) => {
      throw new KeysUnavailable(`the IdP's keys could not be fetched: ${e instanceof Error ? e.message : String(e)}`);
    });
    if (res.status !== 200) throw new KeysUnavailable(`the IdP's keys answered ${res.status}`);
    jwks = { get: createLocalJWKSet(JSON.parse(res.body) as JSONWebKeySet), fetchedAt: Date.now() };
    return jwks.get;
  };
  const verifyLogoutToken = async (token: string) => {
    // OIDC Back-Channel Logout 1.0 §2.6: signature, iss, aud, iat/exp, typ (ASVS 10.5.5), events, sid/sub, no nonce
    const options = { issuer: `${base}/v2.0`, audience: DEMO.webAppId, algorithms: ['RS256'], typ: 'logout+jwt', requiredClaims: ['iat', 'exp', 'jti', 'events'], maxTokenAge: '5m' };
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(token, jwks?.get ?? (await loadJwks()), options));
    } catch (e) {
      if (!(e instanceof joseErrors.JWKSNoMatchingKey) || (jwks && Date.now() - jwks.fetchedAt < 30_000)) throw e;
      ({ payload: claims } = await jwtVerify(token, await loadJwks(), options));
    }
    const events = claims.events as Record<string, unknown> | undefined;
    const event = events?.['http://schemas.openid.net/event/backchannel-logout'];
    if (!event || typeof event !== 'object' || Array.isArray(event)) throw new Error('the events claim has no back-channel logout event');
    if ('nonce' in claims) throw new Error('a logout token must not carry a nonce');
    // registered with backchannel_logout_session_required: the sid names the session to end
    if (typeof claims.sid !== 'string' || !claims.sid) throw new Error('the logout token has no sid');
    return { sid: claims.sid, sub: typeof claims.sub === 'string' ? claims.sub : undefined };
  };

  const prune = () => {
    const now = Date.now();
    for (const [k, v] of sessions) if (v.expiresAt <= now) sessions.delete(k);
    for (const [k, v] of pending) if (v.expiresAt <= now) pending.delete(k);
  };

  const html = (reply: FastifyReply, title: string, body: string, status = 200) =>
    reply.code(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(page(title, `<div class="card" style="max-width:760px"><div class="brand">Demo portal · ${escapeHtml(tenant.domain)}</div>${body}</div>`));

  const current = (req: FastifyRequest) => {
    const id = cookieValue(req, COOKIE);
    const s = id ? sessions.get(id) : undefined;
    return s && s.expiresAt > Date.now() ? s : undefined;
  };

  app.get('/demo/', (req, reply) => {
    const s = current(req);
    if (!s) return html(reply, 'Demo portal', '<h1>Demo portal</h1><p>You are not signed in.</p><p><a id="signin" href="/demo/login">Sign in with Latchkey</a></p>');
    const rows = (claims: Record<string, unknown>) =>
      Object.entries(claims)
        .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v))}</td></tr>`)
        .join('');
    return html(
      reply,
      'Demo portal',
      `<h1>Hello, <span id="userName">${escapeHtml(String(s.idClaims.name ?? ''))}</span></h1>
<p id="upn">${escapeHtml(String(s.idClaims.preferred_username ?? ''))}</p>
<p><a id="callApi" href="/demo/call-api">Call the demo API</a> · <a id="signout" href="/demo/logout">Sign out</a></p>
<h2>ID token claims</h2><table id="idClaims">${rows(s.idClaims)}</table>
<h2>Access token claims (demo API)</h2><table id="atClaims">${rows(decodeJwt(s.accessToken) as Record<string, unknown>)}</table>`,
    );
  });

  app.get('/demo/login', (_req, reply) => {
    prune();
    const p: PendingLogin = { state: crypto.randomBytes(16).toString('base64url'), nonce: crypto.randomBytes(16).toString('base64url'), verifier: crypto.randomBytes(32).toString('base64url'), expiresAt: Date.now() + 10 * 60_000 };
    const key = crypto.randomBytes(16).toString('base64url');
    pending.set(key, p);
    setCookie(reply, PENDING_COOKIE, key, 600);
    const url = new URL(`${base}/oauth2/v2.0/authorize`);
    url.search = form({
      client_id: DEMO.webAppId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: `openid profile offline_access ${DEMO.apiIdentifier}/read`,
      state: p.state,
      nonce: p.nonce,
      code_challenge: crypto.createHash('sha256').update(p.verifier).digest('base64url'),
      code_challenge_method: 'S256',
    });
    return reply.code(303).header('location', url.toString()).send();
  });

  app.get('/demo/callback', async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const key = cookieValue(req, PENDING_COOKIE);
    const p = key ? pending.get(key) : undefined;
    if (key) pending.delete(key);
    if (typeof q.error === 'string') return html(reply, 'Sign-in failed', `<h1>Sign-in failed</h1><p id="error">${escapeHtml(q.error)}: ${escapeHtml(String(q.error_description ?? ''))}</p><p><a href="/demo/">Back</a></p>`, 400);
    if (!p || p.expiresAt <= Date.now() || typeof q.state !== 'string' || q.state !== p.state || typeof q.code !== 'string') {
      return html(reply, 'Sign-in failed', '<h1>Sign-in failed</h1><p id="error">The sign-in response does not match a sign-in started here (state mismatch or expired).</p><p><a href="/demo/">Back</a></p>', 400);
    }
    const res = await request(`${base}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'authorization_code', code: q.code, redirect_uri: redirectUri, code_verifier: p.verifier, client_id: DEMO.webAppId, client_secret: 'demo-portal-secret' }),
      ca,
    });
    const tokens = JSON.parse(res.body) as { id_token?: string; access_token?: string; error?: string; error_description?: string };
    if (res.status !== 200 || !tokens.id_token || !tokens.access_token) {
      return html(reply, 'Sign-in failed', `<h1>Sign-in failed</h1><p id="error">${escapeHtml(tokens.error ?? String(res.status))}: ${escapeHtml(tokens.error_description ?? '')}</p>`, 502);
    }
    // The ID token came straight from the token endpoint over TLS (OIDC Core §3.1.3.7): check iss, aud, nonce.
    const idClaims = decodeJwt(tokens.id_token) as Record<string, unknown>;
    if (idClaims.iss !== `${base}/v2.0` || idClaims.aud !== DEMO.webAppId || idClaims.nonce !== p.nonce) {
      return html(reply, 'Sign-in failed', '<h1>Sign-in failed</h1><p id="error">The ID token failed validation.</p>', 502);
    }
    const id = crypto.randomBytes(24).toString('base64url');
    sessions.set(id, { idToken: tokens.id_token, idClaims, accessToken: tokens.access_token, expiresAt: Date.now() + SESSION_TTL_MS });
    setCookie(reply, PENDING_COOKIE, '', 0);
    setCookie(reply, COOKIE, id);
    return reply.code(303).header('location', '/demo/').send();
  });

  app.get('/demo/call-api', async (req, reply) => {
    const s = current(req);
    if (!s) return reply.code(303).header('location', '/demo/').send();
    const res = await request(`${origin}/demo/api/hello`, { method: 'GET', headers: { authorization: `Bearer ${s.accessToken}` }, ca });
    return html(reply, 'Demo API', `<h1>Demo API answered ${res.status}</h1><pre id="apiResult">${escapeHtml(res.body)}</pre><p><a href="/demo/">Back</a></p>`, res.status === 200 ? 200 : 502);
  });

  app.get('/demo/logout', (req, reply) => {
    const id = cookieValue(req, COOKIE);
    const s = id ? sessions.get(id) : undefined;
    if (id) sessions.delete(id);
    setCookie(reply, COOKIE, '', 0);
    const url = new URL(`${base}/oauth2/v2.0/logout`);
    url.search = form({ post_logout_redirect_uri: `${origin}/demo/`, client_id: DEMO.webAppId, ...(s ? { id_token_hint: s.idToken } : {}) });
    return reply.code(303).header('location', url.toString()).send();
  });

  // OIDC Back-Channel Logout 1.0 §2.8: the IdP ends the user's session here, server to server.
  app.post('/demo/backchannel-logout', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const token = (req.body as Record<string, unknown> | undefined)?.logout_token;
    let who;
    try {
      if (typeof token !== 'string') throw new Error('logout_token is required');
      who = await verifyLogoutToken(token);
    } catch (e) {
      const why = e instanceof Error ? e.message : 'invalid logout token';
      req.log.warn({ reason: why }, 'demo portal: logout token refused');
      // not the token's fault: a 5xx makes the IdP retry later
      if (e instanceof KeysUnavailable) return reply.code(503).send({ error: 'temporarily_unavailable', error_description: why });
      return reply.code(400).send({ error: 'invalid_request', error_description: why });
    }
    for (const [id, s] of sessions) {
      if (s.idClaims.sid === who.sid && (who.sub === undefined || s.idClaims.sub === who.sub)) sessions.delete(id);
    }
    return reply.code(200).send();
  });

  // The protected demo API: every call is checked by introspection, so revocation is seen at once (D8).
  app.get('/demo/api/hello', async (req, reply) => {
    const m = /^Bearer\s+(\S+)$/i.exec(String(req.headers.authorization ?? ''));
    if (!m) return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ error: 'invalid_token', error_description: 'A bearer token is required.' });
    const res = await request(`${base}/oauth2/v2.0/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${DEMO.apiAppId}:demo-api-secret`).toString('base64')}` },
      body: form({ token: m[1]! }),
      ca,
    });
    const info = JSON.parse(res.body) as { active?: boolean; scp?: string; preferred_username?: string; name?: string; oid?: string };
    if (res.status !== 200 || !info.active) return reply.code(401).header('www-authenticate', 'Bearer error="invalid_token"').send({ error: 'invalid_token', error_description: 'The token is not active.' });
    if (!String(info.scp ?? '').split(' ').includes('read')) return reply.code(403).send({ error: 'insufficient_scope', error_description: "The 'read' scope is required." });
    return reply.send({ message: `Hello from the demo API, ${info.name ?? ''}`, user: info.preferred_username, oid: info.oid, scp: info.scp });
  });
}

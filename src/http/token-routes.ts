// Latchkey's own userinfo and introspection routes (spec D8). Both apply the one validity rule; the
// engine's versions are off because they refuse JWT access tokens and Graph-audience tokens.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { KeySet } from '../protocol/keys.js';
import { type AccessTokenClaims, createAccessTokenVerifier, whyAccessTokenInvalid } from '../protocol/access-tokens.js';
import { GRAPH_RESOURCE, SecretVerifier, defaultKind } from '../directory/apps.js';
import { findClientApp } from '../directory/service-principals.js';
import type { Tenant } from '../directory/tenant.js';
import { findUserById } from '../directory/users.js';
import { entraErrorBody } from '../protocol/errors.js';
import { ROUTES } from '../protocol/routes.js';
import { refreshTokenFacts } from '../protocol/credential-facts.js';
import { storedClientKind } from '../protocol/grants.js';
import { whyInvalid } from '../protocol/validity.js';
import type { Db } from '../storage/db.js';
import { type CorsRule, answerCors } from '../graph/cors.js';

export interface TokenRouteDeps {
  provider: Provider;
  keys: KeySet;
  db: Db;
  tenant: Tenant;
  origin: string;
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)$/i.exec(h.trim());
  return m?.[1];
}

/**
 * Userinfo from a page's script, as Entra's (Microsoft Graph's `/oidc/userinfo`) answers it: any origin, a
 * preflight first (oidc-client-ts's `loadUserInfo` sends an Authorization header).
 */
const USERINFO_CORS: CorsRule = { methods: 'GET, POST, OPTIONS', exposed: 'WWW-Authenticate' };

export function registerTokenRoutes(app: FastifyInstance, deps: TokenRouteDeps): void {
  const { provider, db, tenant, origin } = deps;
  const issuer = `${origin}/${tenant.id}/v2.0`;
  const secretVerifier = new SecretVerifier(db);
  const verifyJwt = createAccessTokenVerifier(deps.keys, issuer);

  function userinfoError(reply: FastifyReply, status: number, error: string, description: string) {
    return reply
      .code(status)
      .header('www-authenticate', `Bearer realm="", error="${error}", error_description="${description}"`)
      .send({ error: { code: status === 401 ? 'InvalidAuthenticationToken' : 'Authorization_RequestDenied', message: description } });
  }

  const userinfo = async (req: FastifyRequest, reply: FastifyReply) => {
    const token = bearer(req);
    if (!token) return userinfoError(reply, 401, 'invalid_token', 'Access token is empty.');
    let sub: string | undefined;
    let claims: AccessTokenClaims;
    if (token.split('.').length === 3) {
      const p = await verifyJwt(token);
      if (!p || (p.aud !== GRAPH_RESOURCE && !(Array.isArray(p.aud) && p.aud.includes(GRAPH_RESOURCE)))) {
        return userinfoError(reply, 401, 'invalid_token', 'Access token validation failure. Invalid audience or signature.');
      }
      if ((p as { idtyp?: string }).idtyp === 'app') return userinfoError(reply, 401, 'invalid_token', 'App-only tokens have no user.');
      sub = p.sub;
      claims = p;
    } else {
      const at = await provider.AccessToken.find(token).catch(() => undefined);
      if (!at || at.isExpired) return userinfoError(reply, 401, 'invalid_token', 'Access token is invalid or expired.');
      sub = at.accountId;
      claims = { ...((at as unknown as { extra?: Record<string, unknown> }).extra ?? {}), iat: at.iat };
    }
    const user = sub ? await findUserById(db, sub) : undefined;
    const why = await whyAccessTokenInvalid(db, user, claims);
    if (!user || why) return userinfoError(reply, 401, 'invalid_token', 'The user or the token is no longer valid.');
    return reply.send({
      sub: user.id,
      oid: user.id,
      tid: tenant.id,
      name: user.display_name,
      preferred_username: user.upn,
      ...(user.mail ? { email: user.mail } : {}),
    });
  };
  // A body Fastify cannot read (malformed JSON, too large, an unsupported content type) fails before the
  // handler; without these the answer was Fastify's own `{error, message}` (413 for a large body), not the
  // endpoint's error shape.
  const bodyErrorStatus = (err: { statusCode?: number }) => (err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500);
  const userinfoErrorHandler = (err: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply): void => {
    if (bodyErrorStatus(err) === 500) {
      req.log.error({ err }, 'userinfo failed');
      void reply.code(500).send({ error: { code: 'generalException', message: 'An internal error occurred.' } });
      return;
    }
    void reply.code(400).send({ error: { code: 'BadRequest', message: 'The request body could not be read.' } });
  };
  const introspectionErrorHandler = (err: Error & { statusCode?: number }, req: FastifyRequest, reply: FastifyReply): void => {
    if (bodyErrorStatus(err) === 500) {
      req.log.error({ err }, 'introspection failed');
      void reply.code(500).send(entraErrorBody('server_error', origin));
      return;
    }
    void reply.code(400).send(entraErrorBody('request_invalid', origin, { detail: err.statusCode === 413 ? 'The request body is too large.' : 'The request body could not be read.' }));
  };

  const userinfoCorsHook = async (req: FastifyRequest, reply: FastifyReply) => void answerCors(req, reply, USERINFO_CORS);
  app.get(`/${tenant.id}${ROUTES.userinfo}`, { errorHandler: userinfoErrorHandler, onRequest: userinfoCorsHook }, userinfo);
  app.post(`/${tenant.id}${ROUTES.userinfo}`, { errorHandler: userinfoErrorHandler, onRequest: userinfoCorsHook }, userinfo);
  app.options(`/${tenant.id}${ROUTES.userinfo}`, (req, reply) => (answerCors(req, reply, USERINFO_CORS) ? reply : reply.code(204).header('allow', USERINFO_CORS.methods).send()));

  app.post(`/${tenant.id}${ROUTES.introspection}`, { errorHandler: introspectionErrorHandler }, async (req, reply) => {
    const form = (req.body ?? {}) as Record<string, unknown>;
    if (typeof form !== 'object' || Array.isArray(form)) return reply.code(400).send(entraErrorBody('request_invalid', origin));
    // client authentication: client_secret_basic or client_secret_post
    let clientId: string | undefined;
    let secret: string | undefined;
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && /^basic /i.test(auth)) {
      const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) {
        try {
          clientId = decodeURIComponent(decoded.slice(0, i).replace(/\+/g, ' '));
          secret = decodeURIComponent(decoded.slice(i + 1).replace(/\+/g, ' '));
        } catch {
          return reply.code(400).send(entraErrorBody('request_invalid', origin, { detail: 'Malformed Authorization header.' }));
        }
      }
    } else if (typeof form.client_id === 'string' && typeof form.client_secret === 'string') {
      clientId = form.client_id;
      secret = form.client_secret;
    }
    if (!clientId || !secret) return reply.code(401).send(entraErrorBody('client_auth_missing', origin));
    // NUL is no app id, and PostgreSQL refuses it in text (the lookup threw: a 500)
    const found = clientId.includes('\0') ? undefined : await findClientApp(db, tenant.id, clientId);
    const caller = found?.app;
    // D8: resource servers are confidential (web) apps; a public client is no caller here
    if (!caller || caller.resourceOnly || defaultKind(caller) !== 'web') return reply.code(401).send(entraErrorBody('client_unknown', origin));
    // as at the token endpoint: an app without a service principal in the tenant gets nothing (AADSTS7000229)
    if (!found.servicePrincipal) return reply.code(401).send(entraErrorBody('client_without_sp', origin, { detail: `Client application '${caller.id}', tenant '${tenant.id}'.` }));
    if (!(await secretVerifier.verify(caller.id, secret))) return reply.code(401).send(entraErrorBody('client_secret_invalid', origin));
    const token = form.token;
    if (typeof token !== 'string' || !token) return reply.code(400).send(entraErrorBody('request_invalid', origin, { detail: "The request body must contain the parameter 'token'." }));
    const inactive = { active: false };

    // D8: only apps registered as resource servers introspect, and only tokens meant for them
    if (!caller.introspectionAllowed) return reply.code(403).send(entraErrorBody('access_denied', origin, { detail: 'The app is not registered as a resource server that may introspect tokens.' }));
    if (token.split('.').length === 3) {
      const p = await verifyJwt(token);
      // an access token, not an ID token with the same audience: ours all carry uti and typ JWT
      if (p && (typeof p.uti !== 'string' || !p.ver)) return reply.send(inactive);
      const audiences = Array.isArray(p?.aud) ? p.aud : [p?.aud];
      if (!p || !(audiences.includes(caller.id) || (caller.identifierUri && audiences.includes(caller.identifierUri)))) return reply.send(inactive);
      if ((p as { idtyp?: string }).idtyp !== 'app') {
        const user = p.sub ? await findUserById(db, p.sub) : undefined;
        if (await whyAccessTokenInvalid(db, user, p)) return reply.send(inactive);
      }
      return reply.send({ active: true, token_type: 'Bearer', ...p, client_id: (p as { azp?: string }).azp });
    }
    const rt = await provider.RefreshToken.find(token).catch(() => undefined);
    if (!rt || !rt.isValid || rt.clientId !== caller.id) return reply.send(inactive);
    const user = rt.accountId ? await findUserById(db, rt.accountId) : undefined;
    // the refresh token was issued to the caller (checked above)
    const grant = rt.grantId ? await provider.Grant.find(rt.grantId).catch(() => undefined) : undefined;
    if (!grant || whyInvalid(user, refreshTokenFacts(rt, grant, { kind: storedClientKind(rt) ?? 'web' }))) return reply.send(inactive);
    return reply.send({ active: true, token_type: 'refresh_token', client_id: rt.clientId, sub: rt.accountId, oid: rt.accountId, tid: tenant.id, scope: rt.scope, iat: rt.iat, exp: rt.exp, iss: issuer });
  });
}

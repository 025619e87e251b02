// Who calls the Graph API: a Latchkey-issued access token for Microsoft Graph's resource. App-only tokens
// act with their granted application permissions (and their service principal's directory roles);
// delegated tokens with their scopes, limited by the signed-in user's directory roles. User tokens pass
// the one validity rule (a revoked user's token is refused here at once).
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../admin/actor.js';
import { ADMIN_PORTAL_APP_ID } from '../admin-portal/app-registration.js';
import { checkPermission } from '../admin/change.js';
import { GRAPH_APP_ID, GRAPH_RESOURCE, findApp } from '../directory/apps.js';
import { findUserById, userRoles } from '../directory/users.js';
import type { AccessTokenVerifier } from '../protocol/access-tokens.js';
import { whyAccessTokenInvalid } from '../protocol/access-tokens.js';
import type { Db } from '../storage/db.js';
import { GraphError } from './errors.js';

export async function authenticate(req: FastifyRequest, db: Db, verify: AccessTokenVerifier): Promise<Actor> {
  const h = req.headers.authorization;
  const m = typeof h === 'string' ? /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)$/i.exec(h.trim()) : null;
  if (!m?.[1]) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token is empty.');
  const claims = await verify(m[1]);
  if (!claims) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid signature, issuer or expiry.');
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(GRAPH_RESOURCE) && !audiences.includes(GRAPH_APP_ID)) throw new GraphError(401, 'InvalidAuthenticationToken', 'Access token validation failure. Invalid audience.');
  const clientId = claims.azp;
  if (claims.idtyp === 'app') {
    const app = clientId ? await findApp(db, clientId) : undefined;
    if (!app) throw new GraphError(401, 'InvalidAuthenticationToken', 'The application of this token no longer exists.');
    const roles = (await db.selectFrom('app_directory_roles').select('role').where('app_id', '=', app.id).execute()).map((r) => r.role);
    return { kind: 'app', id: app.id, displayName: app.displayName, roles, permissions: Array.isArray(claims.roles) ? claims.roles : [] };
  }
  const user = claims.sub ? await findUserById(db, claims.sub) : undefined;
  if (!user || (await whyAccessTokenInvalid(db, user, claims))) throw new GraphError(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired or was revoked.');
  const roles = await userRoles(db, user.id);
  // Entra's "Restrict access to the admin center": the admin portal's tokens act only for users who hold a
  // directory role; anyone else is refused whatever the portal asks.
  if (clientId === ADMIN_PORTAL_APP_ID && roles.length === 0) throw new GraphError(403, 'Authorization_RequestDenied', 'Access to the admin portal is restricted to users with an administrator role: you hold no directory role.');
  return { kind: 'user', id: user.id, displayName: user.display_name, upn: user.upn, roles, scopes: String(claims.scp ?? '').split(' ').filter(Boolean) };
}

/** The actor holds one of these permissions (application permission or delegated scope); a Graph 403 otherwise. */
export const requirePermission = checkPermission;

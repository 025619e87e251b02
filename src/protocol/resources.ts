// Entra's scope-based resources: a scope string names its resource (`https://graph.microsoft.com/User.Read`,
// `api://demo-api/read`, `{appId}/.default`); a bare name (`User.Read`) means Graph, as in Entra.
import type { Db } from '../storage/db.js';
import { type App, GRAPH_APP_ID, GRAPH_RESOURCE, findAppByIdentifier, grantedPermissions } from '../directory/apps.js';
import { findResourceApp } from '../directory/service-principals.js';

export const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Normalises a space-separated scope string to full Entra scope strings (bare names go to Graph). */
export function normalizeScope(scope: string): string {
  return scope
    .split(' ')
    .filter(Boolean)
    .map((s) => (OIDC_SCOPES.has(s) || s.includes('/') || s.includes(':') ? s : `${GRAPH_RESOURCE}/${s}`))
    .join(' ');
}

/** What a delegated request for `{resource}/.default` stands for: every delegated scope consented on the resource. */
export interface DefaultScopeExpansion {
  resource: string;
  delegated: string[];
}

/**
 * The token response's `scope` in Entra's form: Graph's scopes by their short names (`User.Read`), other
 * resources' with their prefix (`api://demo-api/read`), no `.default` (Entra lists the scopes it stands
 * for, unless it is all there is), then the OpenID scopes of the grant except offline_access
 * (`User.Read profile openid email`).
 * A delegated request for `{resource}/.default` is answered as Entra answers it: every consented scope of
 * the resource by its full name, Graph's too, and `{resource}/.default` itself
 * (`https://graph.microsoft.com/User.Read https://graph.microsoft.com/.default openid profile`).
 * MSAL caches an access token under the response's scopes and looks it up by the ones it asks for, so a
 * full Graph name answered to `User.Read` sent every acquireTokenSilent to the token endpoint, and so
 * would an answer to `.default` that left `.default` out.
 */
export function entraResponseScope(scope: string, grantScope: string | undefined, expansion?: DefaultScopeExpansion): string {
  const graph = `${GRAPH_RESOURCE}/`;
  const resourceScopes = expansion
    ? [...expansion.delegated.map((s) => `${expansion.resource}/${s}`), `${expansion.resource}/.default`]
    : scope
        .split(' ')
        .filter((s) => s && !OIDC_SCOPES.has(s) && !s.endsWith('/.default'))
        .map((s) => (s.startsWith(graph) ? s.slice(graph.length) : s));
  // only `.default` (client credentials): as the engine wrote it, never empty
  if (resourceScopes.length === 0 && scope.split(' ').some((s) => s.endsWith('/.default'))) return scope;
  const granted = new Set(`${scope} ${grantScope ?? ''}`.split(' '));
  const oidc = ['profile', 'openid', 'email'].filter((s) => granted.has(s));
  return [...new Set(resourceScopes), ...oidc].join(' ');
}

/** The resource identifier a scope string names, or undefined for OIDC scopes. */
export function resourceOfScope(scope: string): string | undefined {
  if (OIDC_SCOPES.has(scope)) return undefined;
  const i = scope.lastIndexOf('/');
  if (i <= 0) return GRAPH_RESOURCE;
  return scope.slice(0, i);
}

export function resourcesFromScope(scope: string | undefined): string[] {
  const out: string[] = [];
  for (const s of normalizeScope(scope ?? '').split(' ')) {
    const r = s && resourceOfScope(s);
    if (r && !out.includes(r)) out.push(r);
  }
  return out;
}

export interface ResourceServerView {
  /** the identifier the engine knows this resource by (as requested) */
  indicator: string;
  app: App;
  /** `aud` of its access tokens: Graph's URL, or a registered API's appId (Entra v2) */
  audience: string;
  /** delegated scopes consented for the client */
  delegated: string[];
  /** application permissions (app roles) granted to the client */
  roles: string[];
}

/** Resolves a resource indicator for a client; undefined when no such resource is registered. */
export async function resolveResource(db: Db, tenantId: string, indicator: string, clientId: string): Promise<ResourceServerView | undefined> {
  // an API without a service principal in the tenant is not a resource there (Entra: AADSTS500011)
  const found = await findResourceApp(db, tenantId, indicator);
  if (!found?.servicePrincipal) return undefined;
  const { app } = found;
  const perms = (await grantedPermissions(db, clientId)).filter((p) => p.resourceAppId === app.id);
  return {
    indicator,
    app,
    audience: app.id === GRAPH_APP_ID ? GRAPH_RESOURCE : app.id,
    delegated: perms.filter((p) => p.kind === 'delegated').map((p) => p.value),
    roles: perms.filter((p) => p.kind === 'application').map((p) => p.value),
  };
}

/** Every resource identifier the client holds a delegated consent for. */
export async function consentedResources(db: Db, clientId: string): Promise<string[]> {
  const perms = await grantedPermissions(db, clientId);
  const ids = [...new Set(perms.filter((p) => p.kind === 'delegated').map((p) => p.resourceAppId))];
  const out: string[] = [];
  for (const id of ids) {
    const app = await findAppByIdentifier(db, id);
    if (app?.identifierUri) out.push(app.identifierUri);
  }
  return out;
}

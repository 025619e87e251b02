// Entra's scope-based resources on the engine's resource indicators: which resource a request is for
// (defaultResource), what the resource server issues (getResourceServerInfo), and Entra's consent checks.
// Two engine workarounds live here, pinned by tests/engine-workarounds.test.ts.
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/index.js';
import { DirectoryCache } from '../directory/version.js';
import { pageRequestState } from '../directory/cache.js';
import { findAppByIdentifier } from '../directory/apps.js';
import { appsRequireMfa } from '../methods/requirement.js';
import type { Db } from '../storage/db.js';
import { Refusal } from './errors.js';
import { consentedResources, normalizeScope, OIDC_SCOPES, resolveResource, resourceOfScope, resourcesFromScope, type DefaultScopeExpansion, type ResourceServerView } from './resources.js';

/** An access token's lifetime: random between the configured bounds (D1), so tokens do not expire in step. */
export function accessTokenTtl(config: Pick<Config, 'accessTokenMinTtl' | 'accessTokenMaxTtl'>): number {
  return config.accessTokenMinTtl + Math.floor(Math.random() * (config.accessTokenMaxTtl - config.accessTokenMinTtl + 1));
}

/** App registrations and consents, read on every token request, through the version-stamped cache. */
export interface ResourceDirectory {
  cache: DirectoryCache;
  view(indicator: string, clientId: string): Promise<ResourceServerView | undefined>;
  /** whether the app or an API among the resources requires MFA (an app's `requireMfa`, spec §8) */
  requireMfa(clientId: string | undefined, resources: readonly string[]): Promise<boolean>;
}

export function resourceDirectory(db: Db, tenantId: string, cacheMs: number): ResourceDirectory {
  // the stamp is read at most once per engine request (its state, through the engine's async context) and
  // per sign-in page request (asOneRequest)
  const cache = new DirectoryCache(db, tenantId, () => Provider.ctx?.state ?? pageRequestState(), cacheMs);
  return {
    cache,
    view: (indicator, clientId) => cache.get(`rs:${indicator}\0${clientId}`, () => resolveResource(db, tenantId, indicator, clientId)),
    requireMfa: (clientId, resources) => cache.get(`mfa:${clientId ?? ''}\0${resources.join(' ')}`, () => appsRequireMfa(db, clientId, resources)),
  };
}

interface ResourceDeps {
  db: Db;
  config: Config;
  resources: ResourceDirectory;
}

/**
 * The first delegated scope of `scope` that names an unregistered resource (`unknown`) or that the app has
 * no consent for now (`unconsented`: a named scope not consented, or `.default` of a resource with no
 * delegated consent at all); undefined when every one is consented.
 */
export async function firstUnconsented(resources: ResourceDirectory, clientId: string, scope: string): Promise<{ kind: 'unknown' | 'unconsented'; resource: string; scope: string } | undefined> {
  for (const s of normalizeScope(scope).split(' ')) {
    const r = s && resourceOfScope(s);
    if (!r) continue;
    const view = await resources.view(r, clientId);
    if (!view) return { kind: 'unknown', resource: r, scope: s };
    const name = s.slice(r.length + 1);
    if (name === '.default' ? view.delegated.length === 0 : !view.delegated.includes(name)) return { kind: 'unconsented', resource: r, scope: s };
  }
  return undefined;
}

/**
 * Entra refuses a delegated scope nobody consented to (AADSTS65001); the engine would silently drop it
 * and still issue a token for the resource. Read from the request as sent: the engine's own scope check
 * has already removed what it did not recognise.
 */
async function assertConsented(resources: ResourceDirectory, ctx: KoaContextWithOIDC): Promise<void> {
  const raw = ctx.query?.scope ?? (ctx.oidc.body as Record<string, unknown> | undefined)?.scope ?? ctx.oidc.params?.scope;
  const found = await firstUnconsented(resources, ctx.oidc.client!.clientId, typeof raw === 'string' ? raw : '');
  if (found?.kind === 'unknown') throw new Refusal('resource_unknown', `Resource '${found.resource}' is not registered.`);
  if (found) throw new Refusal('consent_required', `The app has no consent for '${found.scope}'.`);
}

/**
 * A refresh asks for what the app is still consented to (Entra: AADSTS65001 once an admin took the
 * consent back): each delegated scope the request names; when it names none, the refresh token's
 * resources must not all have lost their delegated consent. Called before the engine rotates the
 * token, so a refused refresh leaves it alive: a new consent makes it work again.
 */
export async function assertRefreshConsented(resources: ResourceDirectory, clientId: string, requestScope: string | undefined, tokenScope: string | undefined): Promise<void> {
  const named = requestScope ? resourcesFromScope(normalizeScope(requestScope)) : [];
  const found = named.length ? await firstUnconsented(resources, clientId, requestScope!) : undefined;
  if (found?.kind === 'unconsented') throw new Refusal('consent_required_grant', `The app has no consent for '${found.scope}'.`);
  if (named.length) return;
  const held = resourcesFromScope(tokenScope);
  for (const r of held) {
    const view = await resources.view(r, clientId);
    if (!view || view.delegated.length > 0) return;
  }
  if (held.length) throw new Refusal('consent_required_grant', 'The app has no delegated consent left for the resources of this refresh token.');
}

/**
 * A delegated token request for `{resource}/.default` (authorization code, refresh, device code): what it
 * stands for on the resource the access token is for, as consented now, so a consent given since the
 * sign-in shows on the next token (Entra: "The .default scope"). `requestScope` is the token request's
 * own scope, already normalised; without `.default` there, nothing is expanded.
 */
export async function defaultScopeExpansion(resources: ResourceDirectory, clientId: string, tokenScope: string, requestScope: string | undefined): Promise<DefaultScopeExpansion | undefined> {
  const resource = resourcesFromScope(tokenScope)[0];
  if (!resource || !(requestScope ?? '').split(' ').includes(`${resource}/.default`)) return undefined;
  const view = await resources.view(resource, clientId);
  return view ? { resource, delegated: view.delegated } : undefined;
}

/** Whether a scope string names a resource that is not registered (only well-formed scope tokens are looked up). */
export async function namesUnknownResource(db: Db, scope: string | undefined): Promise<boolean> {
  for (const r of resourcesFromScope(scope)) {
    if (/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(r) && !(await findAppByIdentifier(db, r))) return true;
  }
  return false;
}

/** The authorize parameter where the resources a request named are kept (set by Latchkey only). */
export const REQUESTED_RESOURCES_PARAM = 'latchkey_resources';

function rawScopeHasOfflineAccess(ctx: KoaContextWithOIDC): boolean {
  const raw = ctx.query?.scope ?? (ctx.oidc.body as Record<string, unknown> | undefined)?.scope;
  return typeof raw === 'string' && raw.split(' ').includes('offline_access');
}

/** At authorize (and device authorization): the consent check and the two scope workarounds. */
async function authorizeResources(deps: ResourceDeps, ctx: KoaContextWithOIDC, requested: string[]): Promise<string> {
  const params = ctx.oidc.params as Record<string, unknown>;
  await assertConsented(deps.resources, ctx);
  const scopes = new Set(String(params.scope ?? '').split(' ').filter(Boolean));
  // WORKAROUND (engine ~9.13): checkScope drops offline_access unless prompt=consent; MSAL never
  // sends it, so re-add it here (this hook runs after checkScope).
  if (String(ctx.oidc.params?.scope ?? '').length && rawScopeHasOfflineAccess(ctx)) scopes.add('offline_access');
  // WORKAROUND: a refresh token can only be used for scopes it carries, but Entra's refresh tokens
  // serve every consented resource: widen the request to all consented scopes.
  const resources = [...requested];
  const clientId = ctx.oidc.client!.clientId;
  const consented = (await deps.resources.cache.get(`consented:${clientId}`, () => consentedResources(deps.db, clientId))) as string[];
  for (const r of consented) if (!resources.includes(r)) resources.push(r);
  for (const r of resources) {
    const view = await deps.resources.view(r, ctx.oidc.client!.clientId);
    if (!view) continue;
    for (const s of view.delegated) scopes.add(`${r}/${s}`);
    scopes.add(`${r}/.default`);
  }
  params.scope = [...scopes].join(' ');
  // The resources this request really named, before the widening: MFA is required per named API (spec
  // §8). Always set here, so a value sent by the client is never believed.
  params[REQUESTED_RESOURCES_PARAM] = requested.join(' ');
  return resources.length === 1 ? resources[0]! : (resources as unknown as string);
}

/** What the resource server of `indicator` issues: its consented delegated scopes (or `.default` alone, app-only), as JWTs for its audience. */
export function resourceServerInfo(config: Pick<Config, 'accessTokenMinTtl' | 'accessTokenMaxTtl'>, indicator: string, view: ResourceServerView, appOnly: boolean) {
  const scopes = appOnly ? ['.default'] : [...view.delegated, '.default'];
  return {
    scope: scopes.map((s) => `${indicator}/${s}`).join(' '),
    audience: view.audience,
    accessTokenFormat: 'jwt' as const,
    accessTokenTTL: accessTokenTtl(config),
    jwt: { sign: { alg: 'RS256' as const } },
  };
}

type ResourceIndicatorsFeature = NonNullable<NonNullable<Configuration['features']>['resourceIndicators']>;

export function resourceIndicators(deps: ResourceDeps): ResourceIndicatorsFeature {
  const { config, resources } = deps;
  return {
    enabled: true,
    useGrantedResource: async () => true,
    async defaultResource(ctx, _client, oneOf) {
      const body = ctx.oidc.body as Record<string, string | undefined> | undefined;
      if (oneOf) {
        // token endpoint: several resources granted; pick by the scope the client sent now
        const want = resourcesFromScope((ctx.oidc.params?.scope as string | undefined) ?? body?.scope)[0];
        return want && oneOf.includes(want) ? want : (oneOf[0] ?? oneOf);
      }
      const requested = resourcesFromScope((ctx.oidc.params?.scope as string | undefined) ?? body?.scope);
      if (ctx.oidc.route === 'authorization' || ctx.oidc.route === 'device_authorization') return authorizeResources(deps, ctx, requested);
      if (ctx.oidc.route === 'token' && body?.grant_type === 'client_credentials') {
        // App-only tokens are for exactly one resource (`{resource}/.default`, as Entra requires).
        // Without one the engine issued an opaque token with no audience, for nothing.
        if (!body.scope?.trim()) throw new Refusal('request_invalid', "The request body must contain the following parameter: 'scope'.");
        // every scope is a resource's `.default` (a named permission, or junk, once got a token with no roles)
        const notDefault = normalizeScope(body.scope).split(' ').find((s) => !OIDC_SCOPES.has(s) && !/^[^/].*\/\.default$/.test(s));
        if (notDefault !== undefined) {
          const named = notDefault.length > 200 ? `${notDefault.slice(0, 200)}…` : notDefault;
          throw new Refusal('scope_invalid', `The provided value for scope ${named} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`);
        }
        if (requested.length !== 1) throw new Refusal('scope_invalid', 'Client credential flows must have a scope value with /.default suffixed to exactly one resource identifier.');
        return requested[0]!;
      }
      return requested.length === 1 ? requested[0]! : (requested as unknown as string);
    },
    async getResourceServerInfo(ctx, indicator, client) {
      const view = await resources.view(indicator, client.clientId);
      if (!view) throw new Refusal('resource_unknown', `Resource '${indicator}' is not registered.`);
      const isCc = ctx.oidc.route === 'token' && (ctx.oidc.body as Record<string, unknown> | undefined)?.grant_type === 'client_credentials';
      return resourceServerInfo(config, indicator, view, isCc);
    },
  };
}

// The engine's view of an app registration, per request, as Entra decides it (issue 8): one application may
// have web, SPA and public-client redirect URIs at once, so the kind of client a request is follows from
// how it authenticates and which redirect URI it uses:
// - a request that presents a client secret is a web (confidential) client;
// - at authorize, the redirect_uri's platform decides (web, spa, publicClient); a code is redeemed as the
//   kind of the redirect URI it was issued to: a web one needs the secret (AADSTS7000218);
// - a refresh without a secret is public; the refresh token records the kind it was issued to, and a
//   token of a confidential client is refused without its secret (src/protocol/account.ts);
// - the device-code flow without a secret needs `isFallbackPublicClient` (Entra's "allow public client flows").
// Each kind is its own engine client metadata (the engine caches clients by their metadata's hash).
import type { ClientMetadata, KoaContextWithOIDC } from 'oidc-provider';
import { type App, type ClientKind, defaultKind, isConfidential } from '../directory/apps.js';
import { Refusal } from './errors.js';

const LOOPBACKS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A redirect URI without its port when it is a loopback one (RFC 8252 §7.3: native clients may use any port). */
function withoutLoopbackPort(uri: string): string {
  const u = URL.parse(uri);
  if (!u || u.protocol !== 'http:' || !LOOPBACKS.has(u.hostname)) return uri;
  u.port = '';
  return u.href;
}

/** The platform a redirect URI is registered on; undefined when it is not registered. */
export function kindOfRedirect(app: App, uri: string): ClientKind | undefined {
  if (app.webRedirectUris.includes(uri)) return 'web';
  if (app.spaRedirectUris.includes(uri)) return 'spa';
  const bare = withoutLoopbackPort(uri);
  if (app.publicClientRedirectUris.some((u) => u === uri || withoutLoopbackPort(u) === bare)) return 'native';
  return undefined;
}

function hasSecret(ctx: KoaContextWithOIDC): boolean {
  const params = (ctx.oidc?.params ?? {}) as Record<string, unknown>;
  const body = (ctx.oidc?.body ?? {}) as Record<string, unknown>;
  return !!(params.client_secret || body.client_secret || /^basic\s/i.test(ctx.headers?.authorization ?? ''));
}

function param(ctx: KoaContextWithOIDC, name: string): string | undefined {
  const v = (ctx.oidc?.params as Record<string, unknown> | undefined)?.[name] ?? (ctx.oidc?.body as Record<string, unknown> | undefined)?.[name] ?? (ctx.query as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : undefined;
}

const CLIENT_AUTH_ROUTES = new Set(['token', 'revocation', 'device_authorization', 'introspection', 'backchannel_authentication', 'pushed_authorization_request']);

/** The public kind a request without a secret and without a registered redirect URI is taken for, if the app has one. */
function publicKind(app: App): ClientKind | undefined {
  if (app.publicClientRedirectUris.length || app.isFallbackPublicClient) return 'native';
  return app.spaRedirectUris.length ? 'spa' : undefined;
}

/** The kind of client this request makes of the app (see the module comment). */
export function requestKind(app: App, ctx: KoaContextWithOIDC | undefined): ClientKind {
  if (!ctx?.oidc) return defaultKind(app);
  const redirect = param(ctx, 'redirect_uri');
  if (CLIENT_AUTH_ROUTES.has(ctx.oidc.route)) {
    if (hasSecret(ctx)) return 'web';
    const grantType = param(ctx, 'grant_type');
    // a code is redeemed as the kind of its redirect URI (the engine checks it is the code's); without a
    // registered one the engine refuses the request itself, as a public client when the app has one
    if (grantType === 'authorization_code') return (redirect && kindOfRedirect(app, redirect)) || publicKind(app) || 'web';
    if (grantType === 'refresh_token' || ctx.oidc.route === 'revocation') return publicKind(app) ?? 'web';
    // device code, password and other flows without a redirect URI: public only when the app allows it
    return app.isFallbackPublicClient ? 'native' : 'web';
  }
  return (redirect && kindOfRedirect(app, redirect)) || defaultKind(app);
}

/** Whether a URI may stand in a client of this kind's metadata (the engine refuses the whole client otherwise). */
function fitsKind(kind: ClientKind, uri: string): boolean {
  const u = URL.parse(uri);
  if (!u || u.href.includes('#')) return false;
  if (kind !== 'native') return u.protocol === 'https:' || u.protocol === 'http:';
  if (u.protocol === 'http:') return LOOPBACKS.has(u.hostname);
  if (u.protocol === 'https:') return !LOOPBACKS.has(u.hostname);
  return !['javascript:', 'data:', 'vbscript:', 'file:'].includes(u.protocol);
}

/** The origins of an app's SPA redirect URIs: where a browser may call the token endpoint from. */
function spaOrigins(app: App): string[] {
  return [...new Set(app.spaRedirectUris.map((u) => URL.parse(u)?.origin).filter((o): o is string => !!o && o !== 'null'))];
}

/**
 * Who may call the token endpoint cross-origin (the engine's clientBasedCORS, for a request with an Origin
 * header), as Entra: a single-page app, from the origin of one of its SPA redirect URIs. An app with no SPA
 * redirect URI is refused with Entra's AADSTS9002326; an SPA called from another origin gets the engine's
 * refusal naming the origin. Whether this redemption is the SPA's (and not the same app's native or web
 * chain) is decided with the code or token (account.ts).
 */
export function crossOriginAllowed(origin: string, client: { latchkey_spa_origins?: unknown }): boolean {
  const origins = Array.isArray(client.latchkey_spa_origins) ? (client.latchkey_spa_origins as unknown[]) : [];
  if (!origins.length) throw new Refusal('cross_origin_not_spa', requestOrigin(origin));
  return origins.includes(origin);
}

/**
 * Entra's cross-origin rule at the token endpoint: a single-page app's code or refresh token is redeemed
 * by the browser, so with an Origin header (AADSTS9002327 without one); any other client's is redeemed
 * without one (AADSTS9002326: a native app in a web view, a web app's back end relaying a browser's call).
 * A refresh token's kind is the one it was issued to (account.ts); a code's is its redirect URI's, known
 * when the engine loads the client, so the code is refused before the engine consumes it.
 */
export function assertRedeemedFromItsOrigin(ctx: KoaContextWithOIDC, kind: ClientKind | undefined): void {
  if (!kind) return;
  const origin = ctx.get('origin');
  if (kind === 'spa' && !origin) throw new Refusal('spa_origin_required');
  if (kind !== 'spa' && origin) throw new Refusal('cross_origin_not_spa', requestOrigin(origin));
}

/** The client of a token request redeeming a code, loaded as `kind`: refused here when sent from the wrong place. */
export function assertCodeFromItsOrigin(ctx: KoaContextWithOIDC | undefined, kind: ClientKind): void {
  if (ctx?.oidc?.route === 'token' && param(ctx, 'grant_type') === 'authorization_code') assertRedeemedFromItsOrigin(ctx, kind);
}

/** The sentence naming a request's origin in a cross-origin refusal, printable and bounded. */
export function requestOrigin(origin: string): string {
  return `Request origin: '${origin.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)}'.`;
}

/** Engine client metadata for an app registration as a client of one kind. */
export function clientMetadata(app: App, kind: ClientKind = defaultKind(app)): ClientMetadata {
  const confidential = isConfidential({ kind });
  const redirectUris = kind === 'web' ? app.webRedirectUris : kind === 'spa' ? app.spaRedirectUris : app.publicClientRedirectUris;
  // a sign-out may return to any redirect URI of the app, whatever its platform (logout.ts)
  const postLogout = [...new Set([...app.postLogoutRedirectUris, ...app.webRedirectUris, ...app.spaRedirectUris, ...app.publicClientRedirectUris])].filter((u) => fitsKind(kind, u));
  const deviceCode = 'urn:ietf:params:oauth:grant-type:device_code';
  const grantTypes = redirectUris.length ? ['authorization_code', 'refresh_token'] : confidential ? [] : ['refresh_token'];
  if (confidential) grantTypes.push('client_credentials');
  if (!confidential || redirectUris.length) grantTypes.push(deviceCode);
  const md: ClientMetadata = {
    client_id: app.id,
    client_name: app.displayName,
    application_type: kind === 'native' ? 'native' : 'web',
    redirect_uris: redirectUris,
    post_logout_redirect_uris: postLogout,
    response_types: redirectUris.length ? ['code'] : [],
    grant_types: grantTypes,
    token_endpoint_auth_method: confidential ? 'client_secret_post' : 'none',
    latchkey_kind: kind,
    latchkey_pkce_optional: !app.requirePkce,
    latchkey_spa_origins: spaOrigins(app),
  };
  // The engine's own comparison is replaced (D14): the real secrets are argon2id hashes in app_secrets.
  if (confidential) md.client_secret = 'hashed-at-rest';
  if (app.backchannelLogoutUri) {
    // OIDC Back-Channel Logout 1.0; the logout token always carries the sid the app holds (D16)
    md.backchannel_logout_uri = app.backchannelLogoutUri;
    md.backchannel_logout_session_required = true;
  }
  return md;
}

// The engine's configuration in Entra's shape: routes, cookies, features, lifetimes, PKCE, client metadata.
// The hooks themselves live in their own modules (account, claims, resource indicators, grants, pages,
// browser sessions); this module assembles them.
import crypto from 'node:crypto';
import Provider, { interactionPolicy, type AdapterPayload, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { Secrets } from '../crypto/secrets.js';
import type { SecretVerifier } from '../directory/apps.js';
import { findClientApp } from '../directory/service-principals.js';
import type { Tenant } from '../directory/tenant.js';
import type { Db } from '../storage/db.js';
import { adapterFactory, GRANT_SLACK_MS } from '../storage/oidc-adapter.js';
import type { KeySet } from './keys.js';
import { CookieSigner } from './cookie-signer.js';
import { ROUTES } from './routes.js';
import { findAccount } from './account.js';
import { extraTokenClaims, customizeJwt } from './claims.js';
import { type ResourceDirectory, accessTokenTtl, resourceIndicators } from './resource-indicators.js';
import { grantTap, loadExistingGrant } from './grants.js';
import { engineErrorPage, logoutPages, deviceFlowPages } from './pages.js';
import { mfaRequiredCheck, sessionInvalidCheck } from './browser-sessions.js';
import { REQUESTED_RESOURCES_PARAM } from './resource-indicators.js';
import { isConfidentialClient, type EngineClientLike } from './credential-facts.js';
import { assertCodeFromItsOrigin, clientMetadata, crossOriginAllowed, requestKind } from './client-view.js';
import { refreshTokenKind } from './grants.js';

/** The engine's browser-session cookie (D15: `__Host-`, Path=/). */
export const SESSION_COOKIE = '__Host-lk_session';

/** The claims of each OIDC scope. */
const SCOPE_CLAIMS = {
  openid: ['sub', 'oid', 'tid', 'ver', 'amr', 'login_hint'],
  profile: ['name', 'preferred_username'],
  email: ['email'],
};

/** The prompts of a browser without a session asked to sign in: its first page comes from authorize, its code from the last post. */
export const NEW_SIGNIN_PROMPTS: ReadonlySet<string> = new Set(['login', 'select_account']);

/** The claims the engine supports: its scopes' and the claims it always knows (its defaults: acr, sid, auth_time, iss). */
export const CLAIMS_SUPPORTED: ReadonlySet<string> = new Set([...Object.values(SCOPE_CLAIMS).flat(), 'acr', 'sid', 'auth_time', 'iss']);

/** Request state: the client_id of an app the engine was told is no client because it has no service principal. */
export const CLIENT_WITHOUT_SP = 'latchkey:clientWithoutServicePrincipal';

/** How the engine's pages look: the sign-in pages' shell, passed in by the app. */
export interface HtmlShell {
  page(title: string, body: string): string;
  escapeHtml(s: string): string;
}

/** A sign-in log row as the protocol layer writes it (D11). */
export interface ProtocolLogEntry {
  status: 'success' | 'failure';
  errorCode?: number;
  reason?: string;
  userId?: string | undefined;
  userName?: string | undefined;
  appId?: string | undefined;
  interactive: boolean;
  ip?: string;
  userAgent?: string;
  amr?: readonly string[] | undefined;
}

/** Where the protocol layer writes the sign-in log (src/signin/signin-log.ts, passed in by the app). */
export interface SigninLogPort {
  /** one row per refusal */
  write(e: ProtocolLogEntry): Promise<void>;
  /** successful refreshes, one row per grant per hour */
  refresh(grantId: string, entry: () => Promise<ProtocolLogEntry>): Promise<void>;
}

/** The first sign-in page of interaction `uid` (expiring at `expiresAt`, ms) for the authorize parameters: its HTML, headers and the flow's cookie. */
export type FirstSigninPage = (interaction: { uid: string; expiresAt: number; params: Record<string, unknown> }) => { html: string; headers: Readonly<Record<string, string>>; cookie: string };

export interface ProviderDeps {
  config: Config;
  db: Db;
  secrets: Secrets;
  tenant: Tenant;
  origin: string;
  keys: KeySet;
  secretVerifier: SecretVerifier;
  /** how long app registrations and consents are cached (ms); several instances agree within it */
  directoryCacheMs?: number;
  /** where the sign-in flow pages live (outside the engine's mount) */
  interactionUrl: (uid: string) => string;
  /** a new sign-in's first page, answered by authorize itself (src/signin/first-page.ts); without it, authorize redirects to interactionUrl */
  firstSigninPage?: FirstSigninPage;
  html: HtmlShell;
  signinLog: SigninLogPort;
}

/** What the hooks share: the deps and the cached view of resources and consents. */
export interface EngineDeps extends ProviderDeps {
  resources: ResourceDirectory;
}

function interactionPolicyFor(deps: EngineDeps) {
  const policy = interactionPolicy.base();
  // Microsoft clients send prompt=select_account; accept it (it behaves like no prompt here).
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);
  // The base policy forces a consent interaction on every authorize by a native client, which loops
  // MSAL's interactive flow; consent here is admin consent recorded on the app.
  policy.get('consent')?.checks.remove('native_client_prompt');
  // One validity rule (spec §2) for an existing browser session at authorize.
  policy.get('login')?.checks.add(sessionInvalidCheck(deps.db), 0);
  // Step-up (spec §8): a valid session without MFA reaching an app or API that requires it
  policy.get('login')?.checks.add(mfaRequiredCheck(deps.db, deps.resources), 1);
  return policy;
}

/** A lifetime in seconds, cut so that it ends no later than the TAP of the request's grant (spec §6). */
function capAtTap(ctx: KoaContextWithOIDC | undefined, ttl: number): number {
  const tap = grantTap(ctx?.oidc?.entities?.Grant);
  if (!tap) return ttl;
  return Math.max(1, Math.min(ttl, Math.floor((tap.expiresAt - Date.now()) / 1000)));
}

function lifetimes(config: Config): Configuration['ttl'] {
  return {
    // rule 5: tokens of a TAP-born grant never outlive the TAP
    AccessToken: (ctx) => capAtTap(ctx, accessTokenTtl(config)),
    ClientCredentials: () => accessTokenTtl(config),
    AuthorizationCode: config.authorizationCodeTtl,
    DeviceCode: config.deviceCodeTtl,
    IdToken: config.idTokenTtl,
    Interaction: config.signInFlowTtl,
    // a chain's rotations slide past its first refresh token: the Grant starts with the adapter's slack,
    // so a chain's first week of rotations writes nothing to it
    Grant: config.refreshTokenTtl + GRANT_SLACK_MS / 1000,
    Session: (_ctx, session) => ((session as unknown as { transient?: boolean }).transient ? config.sessionTtl : config.persistentSessionTtl),
    RefreshToken: (_ctx, token, client) => {
      // the kind of client the chain was issued to, recorded on each of its tokens (client-view.ts)
      if (refreshTokenKind(_ctx, token, client as EngineClientLike) === 'spa') {
        // fixed 24 h from the chain's first issue
        const t = token as unknown as { iiat?: number };
        const left = Math.ceil((t.iiat ?? Date.now() / 1000) + config.spaRefreshTokenTtl - Date.now() / 1000);
        return capAtTap(_ctx, Math.max(left, 1));
      }
      return capAtTap(_ctx, config.refreshTokenTtl);
    },
  };
}

function features(deps: EngineDeps): Configuration['features'] {
  return {
    devInteractions: { enabled: false },
    userinfo: { enabled: false },
    introspection: { enabled: false },
    revocation: { enabled: true },
    // Logout tokens for admin actions leave through the outbox (src/events/backchannel-logout.ts); the
    // engine itself sends them when a user signs out at the logout endpoint.
    backchannelLogout: { enabled: true },
    // PAR is not part of Entra's surface, and the scope workarounds read the authorize request itself
    pushedAuthorizationRequests: { enabled: false },
    clientCredentials: { enabled: true },
    rpInitiatedLogout: { enabled: true, ...logoutPages(deps.html, async (clientId) => (await deps.resources.cache.get(`app:${clientId}`, () => findClientApp(deps.db, deps.tenant.id, clientId)))?.app) },
    deviceFlow: { enabled: true, charset: 'base-20', mask: '*********', ...deviceFlowPages(deps.html) },
    claimsParameter: {
      enabled: true,
      // MSAL sends claims it does not expect us to understand (signin_state, xms_cc, ...): accept all.
      assertClaimsParameter: async () => {},
    },
    resourceIndicators: resourceIndicators(deps),
  };
}

export function engineConfiguration(deps: EngineDeps): Configuration {
  const { config, db, tenant, origin } = deps;
  // signed as Keygrip signs, checked with one HMAC per read (./cookie-signer.ts)
  const cookieKeys = new CookieSigner([crypto.createHmac('sha256', deps.secrets.lookupHash('cookie-keys', 'cookies')).update('v1').digest('base64url')]);
  return {
    adapter: adapterFactory(db, deps.secrets, {
      async clientMetadata(clientId: string): Promise<AdapterPayload | undefined> {
        // A client_id with a NUL byte is no app, and PostgreSQL refuses NUL in text (the lookup threw:
        // a 500 at authorize, token, devicecode and revoke).
        if (clientId.includes('\0')) return undefined;
        // the app through the stamped cache (src/directory/version.ts), then the kind this request makes of it
        const ctx = Provider.ctx;
        const found = await deps.resources.cache.get(`app:${clientId}`, () => findClientApp(db, tenant.id, clientId));
        if (!found || found.app.resourceOnly) return undefined;
        // Entra issues nothing to an app without a service principal in the tenant (deleted, or never made
        // for an app Graph created): the engine sees no client, the refusal says why (entra-middleware.ts)
        if (!found.servicePrincipal) {
          if (ctx) ctx.state[CLIENT_WITHOUT_SP] = clientId;
          return undefined;
        }
        const app = found.app;
        const kind = requestKind(app, ctx);
        assertCodeFromItsOrigin(ctx, kind);
        return deps.resources.cache.get(`client:${clientId}:${kind}`, () => Promise.resolve(clientMetadata(app, kind) as AdapterPayload));
      },
    }),
    jwks: { keys: deps.keys.privateJwks as never },
    routes: { ...ROUTES },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: SCOPE_CLAIMS,
    conformIdTokenClaims: false,
    acrValues: ['1'],
    cookies: {
      keys: cookieKeys as unknown as string[],
      names: { session: SESSION_COOKIE, interaction: '__Secure-lk_interaction', resume: '__Secure-lk_resume' }, // D15: the session cookie has Path=/
      long: { httpOnly: true, sameSite: 'lax', secure: true },
      short: { httpOnly: true, sameSite: 'lax', secure: true },
    },
    discovery: {
      userinfo_endpoint: `${origin}/${tenant.id}${ROUTES.userinfo}`,
      introspection_endpoint: `${origin}/${tenant.id}${ROUTES.introspection}`,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      tenant_region_scope: 'EU',
      cloud_instance_name: new URL(origin).host,
      msgraph_host: 'graph.microsoft.com',
      rbac_url: origin,
    },
    features: features(deps),
    ttl: lifetimes(config),
    // D2: public clients rotate on every use (reuse kills the grant); confidential clients never rotate.
    rotateRefreshToken: (ctx) => !!ctx.oidc.client && !isConfidentialClient(ctx.oidc.client),
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    expiresWithSession: async () => false,
    renderError: engineErrorPage(deps.html, origin),
    extraClientMetadata: { properties: ['latchkey_kind', 'latchkey_pkce_optional', 'latchkey_spa_origins'] },
    clientBasedCORS: (_ctx, origin, client) => crossOriginAllowed(origin, client as { latchkey_spa_origins?: unknown }),
    extraParams: [REQUESTED_RESOURCES_PARAM, 'client_info', 'clidata', 'client-request-id', 'x-client-SKU', 'x-client-VER', 'x-client-OS', 'x-client-CPU', 'X-AnchorMailbox', 'domain_hint', 'sso_reload', 'instance_aware'],
    pkce: {
      // D3: always for public clients; for confidential clients unless the app switched it off
      required: (_ctx, client) => !isConfidentialClient(client) || !(client as EngineClientLike).latchkey_pkce_optional,
    },
    allowOmittingSingleRegisteredRedirectUri: false,
    responseTypes: ['code', 'none'],
    clientDefaults: { grant_types: ['authorization_code'], id_token_signed_response_alg: 'RS256', response_types: ['code'], token_endpoint_auth_method: 'client_secret_post' },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    interactions: { url: (_ctx, interaction) => deps.interactionUrl(interaction.uid), policy: interactionPolicyFor(deps) },
    findAccount: (ctx, sub, token) => findAccount(deps, ctx, sub, token),
    loadExistingGrant: (ctx) => loadExistingGrant(db, ctx),
    extraTokenClaims: (ctx, token) => extraTokenClaims(deps, ctx, token),
    formats: { customizers: { jwt: customizeJwt } },
  };
}

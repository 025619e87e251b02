// The OAuth/OIDC engine (oidc-provider) configured to wear Entra ID v2's shape: URLs, scope-based
// resources, claims, client_info, AADSTS errors. Every departure from the engine's defaults that relies
// on undocumented behaviour is pinned by tests/engine-workarounds.test.ts.
import crypto from 'node:crypto';
import Provider, { errors, interactionPolicy, type Configuration, type KoaContextWithOIDC, type AdapterPayload, type ClientMetadata } from 'oidc-provider';
import type { Config } from '../config/index.js';
import type { Secrets } from '../crypto/secrets.js';
import { type App, type SecretVerifier, GRAPH_APP_ID, findApp, findAppByIdentifier, isConfidential } from '../directory/apps.js';
import { findUserById } from '../directory/users.js';
import { TtlCache, memo } from '../directory/cache.js';
import type { Tenant } from '../directory/tenant.js';
import type { Db } from '../storage/db.js';
import { adapterFactory } from '../storage/oidc-adapter.js';
import { type RefusalCode, Refusal, entraErrorBody, refusalFromEngine, refusals } from './errors.js';
import type { KeySet } from './keys.js';
import { OIDC_SCOPES, consentedResources, normalizeScope, resolveResource, resourceOfScope, resourcesFromScope } from './resources.js';
import { whyInvalid } from './validity.js';
import { escapeHtml, page } from '../signin/html.js';
import type { LatchkeyLoginResult } from '../signin/flow.js';
import { logSignin, refreshSigninAggregator } from '../signin/signin-log.js';

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
}

export const ROUTES = {
  authorization: '/oauth2/v2.0/authorize',
  token: '/oauth2/v2.0/token',
  end_session: '/oauth2/v2.0/logout',
  device_authorization: '/oauth2/v2.0/devicecode',
  code_verification: '/oauth2/deviceauth',
  revocation: '/oauth2/v2.0/revoke',
  jwks: '/discovery/v2.0/keys',
  // the engine's userinfo and introspection are off (D8); these are Latchkey's own routes
  userinfo: '/openid/userinfo',
  introspection: '/oauth2/v2.0/introspect',
} as const;

/** Private access-token claim: the token's issue time in ms (D5); `iat` has only whole seconds. */
export const ACCESS_TOKEN_ISSUED_MS_CLAIM = 'latchkey_iat_ms';

/** A user access token's issue time in ms: our claim when present (signature already checked), else `iat`. */
export function accessTokenIssuedAtMs(claims: { iat?: number; [k: string]: unknown }): number {
  const ms = claims[ACCESS_TOKEN_ISSUED_MS_CLAIM];
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : (claims.iat ?? 0) * 1000;
}

/** Tenant aliases that may not be used for app-only tokens (D10). */
export const MULTI_TENANT_ALIASES = new Set(['organizations', 'common']);

/** Set on the raw request by the URL rewriter: the alias (domain, organizations, common) it came in by. */
export const TENANT_ALIAS = Symbol('latchkey.tenantAlias');

function randomBetween(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** Engine client metadata for an app registration. */
export function clientMetadata(app: App): ClientMetadata {
  const confidential = isConfidential(app);
  const md: ClientMetadata = {
    client_id: app.id,
    client_name: app.displayName,
    application_type: app.kind === 'native' ? 'native' : 'web',
    redirect_uris: app.redirectUris,
    post_logout_redirect_uris: app.postLogoutRedirectUris,
    response_types: app.redirectUris.length ? ['code'] : [],
    grant_types: app.redirectUris.length
      ? ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code', ...(confidential ? ['client_credentials'] : [])]
      : confidential
        ? ['client_credentials']
        : ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
    token_endpoint_auth_method: confidential ? 'client_secret_post' : 'none',
    latchkey_kind: app.kind,
    latchkey_pkce_optional: !app.requirePkce,
  };
  if (confidential) {
    // The engine's own comparison is replaced (D14): the real secrets are argon2id hashes in app_secrets.
    md.client_secret = 'hashed-at-rest';
  }
  if (app.backchannelLogoutUri) {
    // OIDC Back-Channel Logout 1.0; the logout token always carries the sid the app holds (D16)
    md.backchannel_logout_uri = app.backchannelLogoutUri;
    md.backchannel_logout_session_required = true;
  }
  if (app.kind === 'native' || app.kind === 'spa' || app.redirectUris.length === 0) {
    // devicecode for public clients
    md.grant_types = [...new Set([...(md.grant_types ?? []), 'urn:ietf:params:oauth:grant-type:device_code'])];
  }
  return md;
}

interface TokenLike {
  kind: string;
  accountId?: string;
  clientId?: string;
  iiat?: number;
  iat?: number;
  amr?: string[];
  sid?: string;
  scope?: string;
  claims?: unknown;
  sessionUid?: string;
}

function requestedClaims(ctx: KoaContextWithOIDC, token: TokenLike): unknown {
  const raw = (ctx.oidc.body as Record<string, unknown> | undefined)?.claims ?? ctx.oidc.params?.claims;
  if (typeof raw === 'string') {
    try {
      return JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  return token.claims;
}

const KNOWN_CLIENT_CAPABILITIES = new Set(['cp1']);

function clientCapabilities(ctx: KoaContextWithOIDC, token: TokenLike): string[] {
  const claims = requestedClaims(ctx, token) as { access_token?: { xms_cc?: { values?: unknown } } } | undefined;
  const values = claims?.access_token?.xms_cc?.values;
  // Only capabilities Latchkey knows (cp1: CAE-capable, spec §1) go into xms_cc: a client asking for
  // anything else got it echoed into its access tokens.
  return Array.isArray(values) ? values.filter((v): v is string => typeof v === 'string' && KNOWN_CLIENT_CAPABILITIES.has(v)) : [];
}

/**
 * A refresh token's chain issue time in ms (D5). The storage adapter records a new chain's `iiat` as
 * fractional seconds (the engine's own is whole seconds, which made a sign-in in the same second as a
 * user change look issued before it); rounding undoes the float error.
 */
export function chainIssuedAtMs(t: { iiat?: number; iat?: number }): number {
  return Math.round((t.iiat ?? t.iat ?? 0) * 1000);
}

export function isPasswordBased(amr: readonly string[] | undefined): boolean {
  return !!amr?.includes('pwd');
}

export function createProvider(deps: ProviderDeps): Provider {
  const { config, db, tenant, origin } = deps;
  const issuer = `${origin}/${tenant.id}/v2.0`;
  // App registrations and consents change rarely and are read on every token request.
  const directoryCache = new TtlCache<unknown>(deps.directoryCacheMs ?? 5000);
  const resourceView = (indicator: string, clientId: string) =>
    directoryCache.get(`rs:${indicator}\0${clientId}`, () => resolveResource(db, indicator, clientId)) as ReturnType<typeof resolveResource>;

  const policy = interactionPolicy.base();
  // Microsoft clients send prompt=select_account; accept it (it behaves like no prompt here).
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);
  // The base policy forces a consent interaction on every authorize by a native client, which loops
  // MSAL's interactive flow; consent here is admin consent recorded on the app.
  policy.get('consent')?.checks.remove('native_client_prompt');
  // One validity rule (spec §2) for an existing browser session at authorize.
  policy.get('login')?.checks.add(
    new interactionPolicy.Check('session_invalid', 'the browser session is no longer valid', 'login_required', async (ctx) => {
      const session = ctx.oidc.session;
      if (!session?.accountId || !session.uid || ctx.oidc.result?.login) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const row = await db.selectFrom('signin_sessions').selectAll().where('id', '=', session.uid).executeTakeFirst();
      if (!row) return interactionPolicy.Check.REQUEST_PROMPT;
      const user = await findUserById(db, session.accountId);
      const why = whyInvalid(user, { kind: 'session', issuedAt: row.created_at, passwordBased: row.password_based === 1 });
      if (why) return interactionPolicy.Check.REQUEST_PROMPT;
      await db.updateTable('signin_sessions').set({ last_used_at: Date.now() }).where('id', '=', row.id).execute();
      return interactionPolicy.Check.NO_NEED_TO_PROMPT;
    }),
    0,
  );

  const cookieKeys = [crypto.createHmac('sha256', deps.secrets.lookupHash('cookie-keys', 'cookies')).update('v1').digest('base64url')];

  const configuration: Configuration = {
    adapter: adapterFactory(db, deps.secrets, {
      async clientMetadata(clientId: string): Promise<AdapterPayload | undefined> {
        // A client_id with a NUL byte is no app, and PostgreSQL refuses NUL in text (the lookup threw:
        // a 500 at authorize, token, devicecode and revoke).
        if (clientId.includes('\0')) return undefined;
        return (await directoryCache.get(`client:${clientId}`, async () => {
          const app = await findApp(db, clientId);
          if (!app || app.kind === 'resource') return undefined;
          return clientMetadata(app) as AdapterPayload;
        })) as AdapterPayload | undefined;
      },
    }),
    jwks: { keys: deps.keys.privateJwks as never },
    routes: { ...ROUTES },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: {
      openid: ['sub', 'oid', 'tid', 'ver', 'amr', 'login_hint'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
    },
    conformIdTokenClaims: false,
    acrValues: ['1'],
    cookies: {
      keys: cookieKeys,
      names: { session: '__Host-lk_session', interaction: '__Secure-lk_interaction', resume: '__Secure-lk_resume' }, // D15: the session cookie has Path=/
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
    features: {
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
      rpInitiatedLogout: {
        enabled: true,
        logoutSource(ctx, form) {
          ctx.body = page('Sign out', `<div class="card"><h1>Pick an account to sign out</h1><p>Do you want to sign out of your account?</p>${form}<button id="idSIButton9" type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button><button id="idBtn_Back" type="submit" form="op.logoutForm">Cancel</button></div>`);
        },
        postLogoutSuccessSource(ctx) {
          ctx.body = page('Signed out', '<div class="card"><h1>You signed out of your account</h1><p>It\'s a good idea to close all browser windows.</p></div>');
        },
      },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '*********',
        userCodeInputSource(ctx, form, _out, err) {
          const msg = err ? '<p class="error" id="usernameError">That code didn\'t work. Check the code and try again.</p>' : '';
          ctx.body = page('Enter code', `<div class="card"><h1>Enter code</h1><p>Enter the code displayed on your app or device.</p>${msg}${form.replace(/<input([^>]*name="user_code")/, '<input id="otc" placeholder="Code" autocomplete="off"$1')}<button id="idSIButton9" type="submit" form="op.deviceInputForm">Next</button></div>`);
        },
        userCodeConfirmSource(ctx, form, client, _deviceInfo, userCode) {
          ctx.body = page('Are you trying to sign in?', `<div class="card"><h1>Are you trying to sign in to ${escapeHtml(client.clientName ?? client.clientId)}?</h1><p>Code: <code>${escapeHtml(userCode)}</code></p><p>Only continue if you downloaded or started the app yourself.</p>${form}<button id="idSIButton9" type="submit" form="op.deviceConfirmForm">Continue</button><button id="idBtn_Back" type="submit" form="op.deviceConfirmForm" value="yes" name="abort">Cancel</button></div>`);
        },
        successSource(ctx) {
          ctx.body = page('Signed in', '<div class="card"><h1 id="deviceSignedIn">You have signed in</h1><p>You can close this window and return to your app or device.</p></div>');
        },
      },
      claimsParameter: {
        enabled: true,
        // MSAL sends claims it does not expect us to understand (signin_state, xms_cc, ...): accept all.
        assertClaimsParameter: async () => {},
      },
      resourceIndicators: {
        enabled: true,
        useGrantedResource: async () => true,
        async defaultResource(ctx, _client, oneOf) {
          const body = ctx.oidc.body as Record<string, string | undefined> | undefined;
          if (oneOf) {
            // token endpoint: several resources granted; pick by the scope the client sent now
            const want = resourcesFromScope(ctx.oidc.params?.scope as string | undefined ?? body?.scope)[0];
            return want && oneOf.includes(want) ? want : (oneOf[0] ?? oneOf);
          }
          const requested = resourcesFromScope((ctx.oidc.params?.scope as string | undefined) ?? body?.scope);
          if (ctx.oidc.route === 'authorization' || ctx.oidc.route === 'device_authorization') {
            const params = ctx.oidc.params as Record<string, unknown>;
            await assertConsented(ctx);
            const scopes = new Set(String(params.scope ?? '').split(' ').filter(Boolean));
            // WORKAROUND (engine ~9.13): checkScope drops offline_access unless prompt=consent; MSAL never
            // sends it, so re-add it here (this hook runs after checkScope).
            if (String(ctx.oidc.params?.scope ?? '').length && rawScopeHasOfflineAccess(ctx)) scopes.add('offline_access');
            // WORKAROUND: a refresh token can only be used for scopes it carries, but Entra's refresh tokens
            // serve every consented resource: widen the request to all consented scopes.
            const resources = [...requested];
            for (const r of await consentedResources(db, ctx.oidc.client!.clientId)) if (!resources.includes(r)) resources.push(r);
            for (const r of resources) {
              const view = await resourceView(r, ctx.oidc.client!.clientId);
              if (!view) continue;
              for (const s of view.delegated) scopes.add(`${r}/${s}`);
              scopes.add(`${r}/.default`);
            }
            params.scope = [...scopes].join(' ');
            return resources.length === 1 ? resources[0]! : (resources as unknown as string);
          }
          if (ctx.oidc.route === 'token' && body?.grant_type === 'client_credentials') {
            // App-only tokens are for exactly one resource (`{resource}/.default`, as Entra requires).
            // Without one the engine issued an opaque token with no audience, for nothing.
            if (!body.scope?.trim()) throw new Refusal('request_invalid', "The request body must contain the following parameter: 'scope'.");
            if (requested.length !== 1) throw new Refusal('scope_invalid', 'Client credential flows must have a scope value with /.default suffixed to exactly one resource identifier.');
            return requested[0]!;
          }
          return requested.length === 1 ? requested[0]! : (requested as unknown as string);
        },
        async getResourceServerInfo(ctx, indicator, client) {
          const view = await resourceView(indicator, client.clientId);
          if (!view) throw new Refusal('resource_unknown', `Resource '${indicator}' is not registered.`);
          const isCc = ctx.oidc.route === 'token' && (ctx.oidc.body as Record<string, unknown> | undefined)?.grant_type === 'client_credentials';
          const scopes = isCc ? ['.default'] : [...view.delegated, '.default'];
          return {
            scope: scopes.map((s) => `${indicator}/${s}`).join(' '),
            audience: view.audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: randomBetween(config.accessTokenMinTtl, config.accessTokenMaxTtl),
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    extraClientMetadata: { properties: ['latchkey_kind', 'latchkey_pkce_optional'] },
    extraParams: ['client_info', 'clidata', 'client-request-id', 'x-client-SKU', 'x-client-VER', 'x-client-OS', 'x-client-CPU', 'X-AnchorMailbox', 'domain_hint', 'sso_reload', 'instance_aware'],
    pkce: {
      // D3: always for public clients; for confidential clients unless the app switched it off
      required: (_ctx, client) => {
        const md = client.metadata() as ClientMetadata & { latchkey_pkce_optional?: boolean };
        return md.token_endpoint_auth_method === 'none' || !md.latchkey_pkce_optional;
      },
    },
    allowOmittingSingleRegisteredRedirectUri: false,
    responseTypes: ['code', 'none'],
    clientDefaults: { grant_types: ['authorization_code'], id_token_signed_response_alg: 'RS256', response_types: ['code'], token_endpoint_auth_method: 'client_secret_post' },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    interactions: { url: (_ctx, interaction) => deps.interactionUrl(interaction.uid), policy },
    async findAccount(ctx, sub, token) {
      const user = await memo(ctx.state, `user:${sub}`, () => findUserById(db, sub));
      ctx.state.userId = sub; // for the sign-in log of a refusal
      const t = token as TokenLike | undefined;
      if (t && t.kind === 'RefreshToken') {
        const client = ctx.oidc.client;
        const confidential = client ? client.tokenEndpointAuthMethod !== 'none' : false;
        const why = whyInvalid(user, { kind: 'refresh_token', issuedAt: chainIssuedAtMs(t), passwordBased: isPasswordBased(t.amr), confidentialClient: confidential });
        if (why) throw new Refusal(why);
      } else if (t && (t.kind === 'AuthorizationCode' || t.kind === 'DeviceCode')) {
        // A code is only as alive as the browser session it came from: a stamp set between sign-in and
        // redemption (revoke, password change, disable) kills it, as it kills the session (spec §2).
        const row = t.sessionUid ? await db.selectFrom('signin_sessions').select(['created_at', 'password_based']).where('id', '=', t.sessionUid).executeTakeFirst() : undefined;
        if (!row) throw new Refusal(user ? 'sessions_revoked' : 'user_disabled');
        const why = whyInvalid(user, { kind: 'session', issuedAt: row.created_at, passwordBased: row.password_based === 1 });
        if (why) throw new Refusal(why);
      } else if (!user || user.account_enabled !== 1) {
        if (t) throw new Refusal('user_disabled');
        return undefined;
      }
      if (!user) return undefined;
      return {
        accountId: user.id,
        async claims() {
          return {
            sub: user.id, // D4: sub equals oid
            oid: user.id,
            tid: tenant.id,
            ver: '2.0',
            name: user.display_name,
            preferred_username: user.upn,
            login_hint: Buffer.from(JSON.stringify({ uid: user.id, utid: tenant.id, upn: user.upn })).toString('base64url'),
            ...(user.mail ? { email: user.mail } : {}),
          };
        },
      };
    },
    async loadExistingGrant(ctx) {
      // Consent is admin consent recorded on the app (no consent screen): build the grant from it.
      const client = ctx.oidc.client!;
      const session = ctx.oidc.session!;
      const grantId = (ctx.oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? session.grantIdFor(client.clientId);
      let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
      if (!grant) grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId! });
      grant.addOIDCScope('openid profile email offline_access');
      grant.addOIDCClaims([...ctx.oidc.requestParamClaims ?? []]);
      for (const [indicator, rs] of Object.entries(ctx.oidc.resourceServers ?? {})) {
        if (rs.scope) grant.addResourceScope(indicator, rs.scope);
      }
      await grant.save();
      return grant;
    },
    async extraTokenClaims(ctx, token) {
      const t = token as unknown as TokenLike;
      const client = ctx.oidc.client;
      const extra: Record<string, unknown> = { tid: tenant.id, ver: '2.0', uti: crypto.randomBytes(16).toString('base64url') };
      if (client) {
        extra.azp = client.clientId;
        extra.azpacr = client.tokenEndpointAuthMethod === 'none' ? '0' : '1';
      }
      const caps = clientCapabilities(ctx, t);
      if (caps.length) extra.xms_cc = caps;
      if (t.kind === 'ClientCredentials') {
        const indicator = resourcesFromScope(t.scope)[0];
        const view = indicator && client ? await resourceView(indicator, client.clientId) : undefined;
        extra.oid = client?.clientId;
        extra.sub = client?.clientId;
        extra.idtyp = 'app';
        if (view?.roles.length) extra.roles = view.roles;
        return extra;
      }
      if (t.accountId) {
        // D5: the token's issue time in milliseconds, for the validity rule at userinfo and introspection
        // (src/http/token-routes.ts). `iat` is whole seconds: a token issued just after a password change
        // in the same second (every forced change at sign-in) looked older than the change and was refused.
        extra[ACCESS_TOKEN_ISSUED_MS_CLAIM] = Date.now();
        const user = await memo(ctx.state, `user:${t.accountId}`, () => findUserById(db, t.accountId!));
        if (user) {
          extra.oid = user.id;
          extra.name = user.display_name;
          extra.preferred_username = user.upn;
        }
      }
      if (t.kind === 'AccessToken' && client) {
        // Entra puts every consented delegated scope of the resource in scp, whatever was requested
        const indicator = resourcesFromScope(t.scope)[0];
        const view = indicator ? await resourceView(indicator, client.clientId) : undefined;
        if (view?.delegated.length) extra.scp = view.delegated.join(' ');
      }
      if (t.sid) extra.sid = t.sid;
      // the access token carries the sign-in's methods, from the code or refresh token it came from
      const e = ctx.oidc.entities as Record<string, { amr?: string[] } | undefined>;
      const amr = t.amr ?? e.AuthorizationCode?.amr ?? e.RefreshToken?.amr ?? e.DeviceCode?.amr;
      if (amr) extra.amr = amr;
      return extra;
    },
    formats: {
      customizers: {
        jwt(_ctx, _token, jwt) {
          jwt.header = { typ: 'JWT' };
          const p = jwt.payload as Record<string, unknown>;
          if (typeof p.scope === 'string') {
            const scp = p.scope
              .split(' ')
              .filter((s) => s && !OIDC_SCOPES.has(s) && !s.endsWith('/.default'))
              .map((s) => s.slice((resourceOfScope(s)?.length ?? -1) + 1));
            if (p.idtyp !== 'app' && scp.length && typeof p.scp !== 'string') p.scp = scp.join(' ');
          }
          delete p.scope;
          delete p.client_id;
          if (p.idtyp === 'app') delete p.sid;
        },
      },
    },
    ttl: {
      AccessToken: () => randomBetween(config.accessTokenMinTtl, config.accessTokenMaxTtl),
      ClientCredentials: () => randomBetween(config.accessTokenMinTtl, config.accessTokenMaxTtl),
      AuthorizationCode: config.authorizationCodeTtl,
      DeviceCode: config.deviceCodeTtl,
      IdToken: config.idTokenTtl,
      Interaction: config.signInFlowTtl,
      Grant: config.refreshTokenTtl,
      Session: (_ctx, session) => ((session as unknown as { transient?: boolean }).transient ? config.sessionTtl : config.persistentSessionTtl),
      RefreshToken: (ctx, token, client) => {
        const md = client.metadata() as ClientMetadata & { latchkey_kind?: string };
        if (md.latchkey_kind === 'spa') {
          // fixed 24 h from the chain's first issue
          const t = token as unknown as { iiat?: number };
          const left = Math.ceil((t.iiat ?? Date.now() / 1000) + config.spaRefreshTokenTtl - Date.now() / 1000);
          return Math.max(left, 1);
        }
        void ctx;
        return config.refreshTokenTtl;
      },
    },
    // D2: public clients rotate on every use (reuse kills the grant); confidential clients never rotate.
    rotateRefreshToken: (ctx) => ctx.oidc.client?.tokenEndpointAuthMethod === 'none',
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    expiresWithSession: async () => false,
    async renderError(ctx, out, error) {
      const code = error instanceof Refusal ? error.code : refusalFromEngine(out.error, (error as { error_detail?: string }).error_detail, out.error_description, undefined);
      const body = entraErrorBody(code, origin);
      ctx.type = 'html';
      ctx.body = page('Sign in', `<div class="card"><h1>Sorry, but we're having trouble signing you in.</h1><p id="errorCode">${escapeHtml(body.error_description.split(' Trace ID')[0] ?? '')}</p><p class="small">Error: ${escapeHtml(out.error)}</p></div>`);
    },
  };

  const provider = new Provider(issuer, configuration);
  provider.proxy = true;

  // D14: client secrets are hashed at rest; compare against the stored hashes.
  const Client = provider.Client as unknown as { prototype: Record<string, unknown> };
  Client.prototype.compareClientSecret = async function (this: { clientId: string }, actual: string) {
    return deps.secretVerifier.verify(this.clientId, actual);
  };
  // D16: sid as the engine issues it (one per app per browser session) in every ID token, not only for
  // back-channel-logout clients.
  Client.prototype.includeSid = () => true;

  // The engine's detail (and our own refusal) behind an error, for the AADSTS mapping below. Not only
  // grant.error: the devicecode and revocation routes emit their own events, and an error the engine
  // does not expose emits server_error.
  const rememberError = (ctx: KoaContextWithOIDC, err: Error & { error_detail?: string }) => {
    ctx.state.errorDetail = err.error_detail;
    ctx.state.refusal = err instanceof Refusal ? err.code : undefined;
  };
  provider.on('grant.error', rememberError);
  provider.on('device_authorization.error', rememberError);
  provider.on('revocation.error', rememberError);
  provider.on('server_error', rememberError);

  // Entra's token-endpoint shape: AADSTS errors with suberror, client_info, ext_expires_in.
  provider.use(async (ctx, next) => {
    const oidcPath = ctx.path;
    try {
      // Inside the try: a Refusal from the pre-parse (body too large, repeated parameter) must become a
      // 400 like any other, not escape to Koa's default handler as a 500.
      if (ctx.method === 'POST' && (oidcPath === ROUTES.token || oidcPath === ROUTES.device_authorization)) {
        await preparseForm(ctx as KoaContextWithOIDC);
        const alias = (ctx.req as unknown as Record<symbol, string | undefined>)[TENANT_ALIAS];
        const grantType = (ctx.req as unknown as { body?: Record<string, string> }).body?.grant_type;
        if (alias && MULTI_TENANT_ALIASES.has(alias) && grantType === 'client_credentials') {
          ctx.status = 400;
          ctx.body = entraErrorBody('tenant_alias_for_app_token', origin);
          return;
        }
      }
      await next();
    } catch (e) {
      if (!(e instanceof Refusal)) throw e;
      ctx.status = e.statusCode;
      ctx.body = entraErrorBody(e.code, origin);
      return;
    }
    // the engine's own pages (logout, device code) are never framed
    if (ctx.response.is('html')) {
      ctx.set('x-frame-options', 'DENY');
      ctx.set('content-security-policy', "frame-ancestors 'none'");
    }
    await recordSignin(ctx as KoaContextWithOIDC);
    const authorizeRefusal = entraShapeAuthorizationError(ctx as KoaContextWithOIDC, origin);
    if (authorizeRefusal) await logRefusal(ctx as KoaContextWithOIDC, authorizeRefusal, undefined);
    if ((oidcPath !== ROUTES.token && oidcPath !== ROUTES.device_authorization && oidcPath !== ROUTES.revocation) || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as Record<string, unknown>;
    const form = (ctx.req as unknown as { body?: Record<string, string> }).body ?? {};
    if (typeof body.error === 'string') {
      let code: RefusalCode = (ctx.state.refusal as RefusalCode | undefined) ?? refusalFromEngine(body.error, ctx.state.errorDetail as string | undefined, body.error_description as string | undefined, form.grant_type);
      // A refresh for a resource that does not exist: the engine only sees a scope the refresh token
      // lacks (70011); Entra names the unknown resource (AADSTS500011).
      if (code === 'scope_invalid' && form.grant_type === 'refresh_token' && (await namesUnknownResource(db, form.scope))) code = 'resource_unknown';
      ctx.body = entraErrorBody(code, origin, { correlationId: form['client-request-id'] });
      if (code !== 'authorization_pending') await logRefusal(ctx as KoaContextWithOIDC, code, form.client_id);
      return;
    }
    if (oidcPath === ROUTES.token) {
      const accountId = (ctx as KoaContextWithOIDC).oidc?.entities?.Account?.accountId;
      if (accountId && form.client_info === '1') {
        body.client_info = Buffer.from(JSON.stringify({ uid: accountId, utid: tenant.id })).toString('base64url');
      }
      if (typeof body.expires_in === 'number') body.ext_expires_in = body.expires_in;
      if (form.grant_type === 'refresh_token') await logRefresh(ctx as KoaContextWithOIDC);
    }
    if (oidcPath === ROUTES.device_authorization && body.device_code) {
      // The engine's response has no interval, and MSAL then polls in a tight loop.
      body.interval ??= 5;
      body.message ??= `To sign in, use a web browser to open the page ${body.verification_uri as string} and enter the code ${body.user_code as string} to authenticate.`;
    }
  });

  /**
   * Entra refuses a delegated scope nobody consented to (AADSTS65001); the engine would silently drop it
   * and still issue a token for the resource. Read from the request as sent: the engine's own scope check
   * has already removed what it did not recognise.
   */
  async function assertConsented(ctx: KoaContextWithOIDC): Promise<void> {
    const raw = ctx.query?.scope ?? (ctx.oidc.body as Record<string, unknown> | undefined)?.scope ?? ctx.oidc.params?.scope;
    const clientId = ctx.oidc.client!.clientId;
    for (const s of normalizeScope(typeof raw === 'string' ? raw : '').split(' ')) {
      const r = s && resourceOfScope(s);
      if (!r) continue;
      const view = await resourceView(r, clientId);
      if (!view) throw new Refusal('resource_unknown', `Resource '${r}' is not registered.`);
      const name = s.slice(r.length + 1);
      if (name === '.default' ? view.delegated.length === 0 : !view.delegated.includes(name)) {
        throw new Refusal('consent_required', `The app has no consent for '${s}'.`);
      }
    }
  }

  /** Every refusal is logged one by one (D11), as a non-interactive sign-in failure with its AADSTS code. */
  async function logRefusal(ctx: KoaContextWithOIDC, code: RefusalCode, clientId: string | undefined): Promise<void> {
    // a failing log write must not turn the refusal into a 500
    await logSignin(db, tenant.id, {
      status: 'failure',
      errorCode: refusals[code].aadsts,
      reason: code,
      userId: typeof ctx.state.userId === 'string' ? ctx.state.userId : ctx.oidc?.session?.accountId,
      appId: (ctx.oidc?.client?.clientId ?? clientId)?.slice(0, 64),
      interactive: false,
      ip: ctx.ip,
      userAgent: String(ctx.get('user-agent') ?? ''),
    }).catch((err: unknown) => console.warn(`latchkey: sign-in log write failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** D11: a successful refresh is a non-interactive sign-in, logged once per grant per hour. */
  const aggregateRefresh = refreshSigninAggregator(db, tenant.id);
  async function logRefresh(ctx: KoaContextWithOIDC): Promise<void> {
    const rt = ctx.oidc?.entities?.RefreshToken as { grantId?: string; accountId?: string; amr?: string[] } | undefined;
    const userId = rt?.accountId;
    if (!rt?.grantId || !userId) return;
    await aggregateRefresh(rt.grantId, async () => ({
      status: 'success',
      userId,
      userName: (await memo(ctx.state, `user:${userId}`, () => findUserById(db, userId)))?.upn,
      appId: ctx.oidc.client?.clientId,
      interactive: false,
      amr: rt.amr,
      ip: ctx.ip,
      userAgent: String(ctx.get('user-agent') ?? ''),
    })).catch((err: unknown) => console.warn(`latchkey: sign-in log write failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  /** After a sign-in flow finished, the browser session gets Latchkey's own record (ms times, D5). */
  async function recordSignin(ctx: KoaContextWithOIDC): Promise<void> {
    const result = (ctx.oidc?.result as { login?: { accountId: string; amr?: string[] }; latchkey?: LatchkeyLoginResult } | undefined);
    const uid = ctx.oidc?.session?.uid;
    if (!result?.login || !result.latchkey || !uid) return;
    const l = result.latchkey;
    const row = { tenant_id: tenant.id, user_id: result.login.accountId, auth_time: l.authTimeMs, amr: JSON.stringify(result.login.amr ?? []), password_based: l.passwordBased ? 1 : 0, persistent: l.persistent ? 1 : 0, ip: l.ip, user_agent: l.userAgent, created_at: l.authTimeMs, last_used_at: Date.now() };
    await db.insertInto('signin_sessions').values({ id: uid, ...row }).onConflict((oc) => oc.column('id').doUpdateSet(row)).execute();
  }

  return provider;
}

/**
 * Errors the engine sends back to the app from authorize (query, fragment or form_post) get Entra's
 * `AADSTSnnnnn:` description (D9), e.g. login_required for prompt=none without a session is AADSTS50058.
 */
function entraShapeAuthorizationError(ctx: KoaContextWithOIDC, origin: string): RefusalCode | undefined {
  const route = ctx.oidc?.route;
  if (route !== 'authorization' && route !== 'resume') return undefined;
  let refused: RefusalCode | undefined;
  const describe = (error: string, description: string | null): string | undefined => {
    if (!error) return undefined;
    const code = refusalFromEngine(error, undefined, description ?? undefined, undefined);
    refused = code;
    if (description?.startsWith('AADSTS')) return undefined;
    if (refusals[code].error !== error) return undefined; // no Entra code for this one: left as the engine said it
    return entraErrorBody(code, origin).error_description;
  };
  const location = ctx.response.get('location');
  if (location && /[?#&]error=/.test(location)) {
    const url = new URL(location);
    for (const params of [url.searchParams, new URLSearchParams(url.hash.slice(1))]) {
      const error = params.get('error');
      const d = error && describe(error, params.get('error_description'));
      if (!d) continue;
      params.set('error_description', d);
      if (params !== url.searchParams) url.hash = params.toString();
    }
    ctx.set('location', url.toString());
    return refused;
  }
  if (typeof ctx.body === 'string' && ctx.body.includes('name="error"')) {
    const error = /name="error" value="([^"]*)"/.exec(ctx.body)?.[1];
    const current = /name="error_description" value="([^"]*)"/.exec(ctx.body)?.[1] ?? null;
    const d = error && describe(error, current);
    if (!d) return refused;
    const html = escapeHtml(d);
    ctx.body = current !== null ? ctx.body.replace(/(name="error_description" value=")[^"]*"/, `$1${html}"`) : ctx.body.replace(/(<input type="hidden" name="error" value="[^"]*"\s*\/?>)/, `$1<input type="hidden" name="error_description" value="${html}"/>`);
  }
  return refused;
}

/** Whether a scope string names a resource that is not registered (only well-formed scope tokens are looked up). */
async function namesUnknownResource(db: Db, scope: string | undefined): Promise<boolean> {
  for (const r of resourcesFromScope(scope)) {
    if (/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(r) && !(await findAppByIdentifier(db, r))) return true;
  }
  return false;
}

function rawScopeHasOfflineAccess(ctx: KoaContextWithOIDC): boolean {
  const raw = ctx.query?.scope ?? (ctx.oidc.body as Record<string, unknown> | undefined)?.scope;
  return typeof raw === 'string' && raw.split(' ').includes('offline_access');
}

/**
 * Reads the form body before the engine does, to normalise Entra-only forms: bare scope names mean Graph,
 * `grant_type=device_code` (MSAL's short form) is the RFC 8628 grant. The engine then uses `req.body`.
 */
async function preparseForm(ctx: KoaContextWithOIDC): Promise<void> {
  const req = ctx.req as typeof ctx.req & { body?: Record<string, string> };
  if (!ctx.is('application/x-www-form-urlencoded') || !req.readable) return;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 256 * 1024) throw new Refusal('request_invalid', 'The request body is too large.');
    chunks.push(chunk as Buffer);
  }
  const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const form: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k in form) throw new Refusal('request_invalid', `The parameter '${k}' is repeated.`);
    form[k] = v;
  }
  if (form.grant_type === 'device_code') form.grant_type = 'urn:ietf:params:oauth:grant-type:device_code';
  if (typeof form.scope === 'string') form.scope = normalizeScope(form.scope);
  req.body = form;
}

export { GRAPH_APP_ID, errors };

// Entra v2's URL shapes for the engine's endpoints, and the tenant aliases the URL rewriter accepts.

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

/** Tenant aliases that may not be used for app-only tokens (D10). */
export const MULTI_TENANT_ALIASES = new Set(['organizations', 'common']);

/** Set on the raw request by the URL rewriter: the alias (domain, organizations, common) it came in by. */
export const TENANT_ALIAS = Symbol('latchkey.tenantAlias');

// The app registrations pages' view of Graph: the application, service principal, delegated grant and app
// role assignment shapes they read, the calls they make, and the checks a form makes before it sends
// anything (the same rules the server applies, so bad input is named at its field and nothing is sent).
import { call } from '../api';

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export interface PermissionScope {
  id: string;
  value: string;
  type: 'User' | 'Admin';
  isEnabled: boolean;
  adminConsentDisplayName: string | null;
  adminConsentDescription: string | null;
  userConsentDisplayName: string | null;
  userConsentDescription: string | null;
}

export interface AppRole {
  id: string;
  value: string | null;
  displayName: string | null;
  description: string | null;
  isEnabled: boolean;
  allowedMemberTypes: string[];
}

export interface ResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: 'Scope' | 'Role' }[];
}

export interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  hint: string;
  endDateTime: string | null;
  startDateTime: string | null;
  secretText: string | null;
}

export interface Application {
  id: string;
  appId: string;
  displayName: string;
  createdDateTime: string | null;
  signInAudience: string;
  identifierUris: string[];
  isFallbackPublicClient: boolean;
  web: { redirectUris: string[]; logoutUrl: string | null };
  spa: { redirectUris: string[] };
  publicClient: { redirectUris: string[] };
  api: { oauth2PermissionScopes: PermissionScope[] };
  appRoles: AppRole[];
  requiredResourceAccess: ResourceAccess[];
  passwordCredentials: PasswordCredential[];
  extension_latchkey_requireMfa: boolean;
  extension_latchkey_requirePkce: boolean;
  extension_latchkey_backchannelLogoutUri: string | null;
}

export interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  oauth2PermissionScopes: { id: string; value: string; adminConsentDisplayName: string | null }[];
  appRoles: { id: string; value: string; displayName: string | null }[];
}

export interface DelegatedGrant {
  id: string;
  clientId: string;
  resourceId: string;
  scope: string;
}

export interface AppRoleAssignment {
  id: string;
  appRoleId: string;
  principalId: string;
  resourceId: string;
}

export interface Paged<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

export const LIST_SELECT = 'id,appId,displayName,createdDateTime,passwordCredentials';

/** The first page of applications, optionally those whose display name starts with `search`. */
export function appsUrl(search: string, top: number): string {
  const q = new URLSearchParams({ $select: LIST_SELECT, $top: String(top) });
  const s = search.trim();
  if (s) q.set('$filter', `startsWith(displayName,'${s.replace(/'/g, "''")}')`);
  return `/v1.0/applications?${q.toString()}`;
}

export const appPath = (id: string) => `/v1.0/applications/${encodeURIComponent(id)}`;
export const getApp = (id: string) => call<Application>(appPath(id));
export const patchApp = (id: string, body: Record<string, unknown>) => call<void>(appPath(id), { method: 'PATCH', body });

/** A service principal by its app's appId; undefined when the app has none (Graph's 404). */
export async function spByAppId(appId: string): Promise<ServicePrincipal | undefined> {
  try {
    return await call<ServicePrincipal>(`/v1.0/servicePrincipals(appId='${encodeURIComponent(appId)}')?$select=id,appId,displayName,oauth2PermissionScopes,appRoles`);
  } catch (e) {
    if ((e as { status?: number }).status === 404) return undefined;
    throw e;
  }
}

/** Every page of a Graph list. */
export async function all<T>(first: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = first;
  for (let i = 0; next && i < 50; i++) {
    const page: Paged<T> = await call<Paged<T>>(next);
    out.push(...page.value);
    const link = page['@odata.nextLink'];
    next = link ? `${new URL(link).pathname}${new URL(link).search}` : undefined;
  }
  return out;
}

/** A scope or app role as Graph's PATCH body takes it (only the properties it knows). */
export function scopeBody(s: PermissionScope): PermissionScope {
  const { id, value, type, isEnabled, adminConsentDisplayName, adminConsentDescription, userConsentDisplayName, userConsentDescription } = s;
  return { id, value, type, isEnabled, adminConsentDisplayName, adminConsentDescription, userConsentDisplayName, userConsentDescription };
}

export function roleBody(r: AppRole): AppRole {
  const { id, value, displayName, description, isEnabled, allowedMemberTypes } = r;
  return { id, value, displayName, description, isEnabled, allowedMemberTypes };
}

// --- the checks forms make before sending (Entra's rules, as the server applies them) ---

export type Platform = 'web' | 'spa' | 'publicClient';

export const PLATFORM_LABEL: Record<Platform, string> = { web: 'Web', spa: 'Single-page application', publicClient: 'Mobile and desktop applications' };

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Why a redirect URI is refused on `platform`, or undefined when it is acceptable. */
export function redirectUriProblem(uri: string, platform: Platform, existing: readonly string[] = []): string | undefined {
  const v = uri.trim();
  if (!v) return 'Enter a redirect URI.';
  if (v.length > 256) return 'A redirect URI is at most 256 characters.';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'This is not an absolute URI (such as https://app.example/signin-oidc).';
  }
  if (v.includes('#')) return 'A redirect URI must not have a fragment (#).';
  if (v.includes('*')) return 'A redirect URI must not have a wildcard (*).';
  if (existing.includes(v)) return 'This redirect URI is already registered for this platform.';
  const web = u.protocol === 'http:' || u.protocol === 'https:';
  if (platform !== 'publicClient' || web) {
    if (u.protocol === 'http:' && !LOOPBACK.has(u.hostname)) return 'The URI must use HTTPS (plain http only for http://localhost or http://127.0.0.1).';
    if (!web) return 'The URI must use HTTPS.';
    if (platform === 'publicClient' && u.protocol === 'https:' && LOOPBACK.has(u.hostname)) return 'A public client uses http://localhost, not HTTPS, on a loopback host.';
  } else if (['javascript:', 'data:', 'vbscript:', 'file:', 'about:', 'blob:'].includes(u.protocol)) return `The ${u.protocol.slice(0, -1)} scheme is not allowed.`;
  return undefined;
}

/** Why a logout URL is refused (empty is fine: no URL). */
export function urlProblem(url: string): string | undefined {
  return url.trim() ? redirectUriProblem(url, 'web') : undefined;
}

/** Why an Application ID URI is refused. */
export function identifierUriProblem(uri: string): string | undefined {
  const v = uri.trim();
  if (!v) return 'Enter an Application ID URI, such as api://{client id}.';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'This is not a URI: use api://…, https://… or urn:….';
  }
  if (!['api:', 'https:', 'urn:'].includes(u.protocol) || v.length > 255) return 'The Application ID URI must be an api://, https:// or urn: URI of at most 255 characters.';
  if (/[#*?]/.test(v)) return 'The Application ID URI must not have a fragment, a query or a wildcard.';
  return undefined;
}

/** Why a scope or app role value is refused. */
export function permissionValueProblem(value: string, taken: readonly string[], what: string): string | undefined {
  if (!value) return `Enter the ${what}.`;
  if (/\s/.test(value)) return `The ${what} must not contain spaces.`;
  if (value.startsWith('.')) return `The ${what} must not start with a dot.`;
  if (value.length > 120) return `The ${what} is at most 120 characters.`;
  if (taken.includes(value)) return `Another one already has the ${what} '${value}'.`;
  return undefined;
}

export function when(v: string | null | undefined): string {
  return v ? new Date(v).toLocaleString() : '—';
}

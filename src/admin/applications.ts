// What the application actions share (create, update, delete, add and remove a password): who may write
// applications, the checks of an application's properties as Entra makes them (redirect URIs per
// platform, identifier URIs unique across apps, scopes and app roles), and the audit record's shape.
import crypto from 'node:crypto';
import { type App, type AppRole, type PermissionScope, type RequiredResourceAccess, appFromRow, findApp } from '../directory/apps.js';
import { appPermissions } from '../directory/permission-ids.js';
import { FIRST_PARTY_APP_IDS } from '../directory/first-party.js';
import type { Db } from '../storage/db.js';
import { ActionError } from './action.js';
import type { Actor } from './actor.js';
import { type Change, checkAnyRole, checkPermission } from './change.js';
import { APP_WRITE_ROLES } from './roles.js';

/** The properties of an application an admin action writes, in Graph's names (Latchkey's own as extension properties). */
export interface ApplicationInput {
  displayName?: string;
  webRedirectUris?: string[];
  logoutUrl?: string | null;
  spaRedirectUris?: string[];
  publicClientRedirectUris?: string[];
  isFallbackPublicClient?: boolean;
  identifierUris?: string[];
  scopes?: PermissionScope[];
  roles?: AppRole[];
  requiredResourceAccess?: RequiredResourceAccess[];
  /** Graph properties kept as given (description, notes, tags, web.homePageUrl, ...), merged */
  properties?: Record<string, unknown>;
  requireMfa?: boolean;
  requirePkce?: boolean;
  introspectionAllowed?: boolean;
  backchannelLogoutUri?: string | null;
}

const WRITE_DELEGATED = ['Application.ReadWrite.All', 'Directory.AccessAsUser.All'];
const WRITE_APP = ['Application.ReadWrite.All'];

/** Graph's rule for application writes: the permission, and for a signed-in admin one of the application roles. */
export function checkApplicationWrite(actor: Actor, what: string): void {
  checkPermission(actor, WRITE_DELEGATED, WRITE_APP);
  checkAnyRole(actor, APP_WRITE_ROLES, what);
}

/** An application of the tenant by object id (Graph `id`) or, with `byAppId`, by appId; a 404 otherwise. */
export async function loadApplication(db: Db, tenantId: string, id: string, byAppId = false): Promise<App> {
  const row = await db.selectFrom('apps').selectAll().where('tenant_id', '=', tenantId).where('kind', '=', 'application').where(byAppId ? 'id' : 'object_id', '=', id).executeTakeFirst();
  if (!row || FIRST_PARTY_APP_IDS.includes(row.id)) throw new ActionError('not_found', `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
  return appFromRow(row);
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'about:', 'blob:']);
const MAX_URIS = 256;

function badUri(property: string, uri: string, why: string): never {
  throw new ActionError('invalid', `Invalid value specified for property '${property}' of resource 'Application': '${uri.slice(0, 300)}' ${why}.`);
}

/** Entra's redirect URI rules per platform (web, spa: HTTPS or a loopback http URI; publicClient: also custom schemes). */
export function checkRedirectUris(property: string, uris: readonly string[], platform: 'web' | 'spa' | 'publicClient'): void {
  if (uris.length > MAX_URIS) throw new ActionError('invalid', `Property '${property}' has more than ${MAX_URIS} values.`);
  if (new Set(uris).size !== uris.length) throw new ActionError('invalid', `Property '${property}' has a repeated value.`);
  for (const uri of uris) {
    if (uri.length > 256) badUri(property, uri, 'is longer than 256 characters');
    const u = URL.parse(uri);
    if (!u || !/^[a-z][a-z0-9+.-]*:/i.test(uri)) badUri(property, uri, 'is not an absolute URI');
    if (uri.includes('#')) badUri(property, uri, 'has a fragment, which a redirect URI must not have');
    if (uri.includes('*')) badUri(property, uri, 'has a wildcard, which is not allowed');
    if (platform !== 'publicClient' || u.protocol === 'http:' || u.protocol === 'https:') {
      if (u.protocol === 'http:' && !LOOPBACK_HOSTS.has(u.hostname)) badUri(property, uri, 'must use HTTPS (plain http only for http://localhost or http://127.0.0.1)');
      if (u.protocol !== 'http:' && u.protocol !== 'https:') badUri(property, uri, 'must use HTTPS');
      if (platform === 'publicClient' && u.protocol === 'https:' && LOOPBACK_HOSTS.has(u.hostname)) badUri(property, uri, 'uses HTTPS on a loopback host (a public client uses http://localhost)');
    } else if (FORBIDDEN_SCHEMES.has(u.protocol)) badUri(property, uri, `uses the ${u.protocol.slice(0, -1)} scheme, which is not allowed`);
  }
}

/** An optional single URL (web.logoutUrl, the back-channel logout URI): HTTPS or loopback http, no fragment. */
export function checkUrl(property: string, url: string | null | undefined): void {
  if (url === null || url === undefined) return;
  checkRedirectUris(property, [url], 'web');
}

function checkIdentifierUris(uris: readonly string[]): void {
  if (uris.length > 50) throw new ActionError('invalid', "Property 'identifierUris' has more than 50 values.");
  if (new Set(uris.map((u) => u.toLowerCase())).size !== uris.length) throw new ActionError('invalid', "Property 'identifierUris' has a repeated value.");
  for (const uri of uris) {
    const u = URL.parse(uri);
    if (!u || uri.length > 255 || !['api:', 'https:', 'urn:'].includes(u.protocol)) badUri('identifierUris', uri, 'is not an api://, https:// or urn: URI of at most 255 characters');
    if (uri.includes('#') || uri.includes('*') || uri.includes('?')) badUri('identifierUris', uri, 'must not have a fragment, a query or a wildcard');
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PERMISSION_VALUE = /^[^\s.][^\s]{0,119}$/;

function checkPermissions(kind: 'oauth2PermissionScopes' | 'appRoles', items: readonly { id: string; value: string | null; isEnabled: boolean }[], before: readonly { id: string; value: string | null; isEnabled: boolean }[]): void {
  const ids = new Set<string>();
  const values = new Set<string>();
  for (const p of items) {
    if (!GUID.test(p.id)) throw new ActionError('invalid', `Property '${kind}' has an item whose id '${p.id}' is not a GUID.`);
    if (ids.has(p.id.toLowerCase())) throw new ActionError('invalid', `Property '${kind}' has two items with the id '${p.id}'.`);
    ids.add(p.id.toLowerCase());
    if (p.value !== null) {
      if (!PERMISSION_VALUE.test(p.value)) throw new ActionError('invalid', `Property '${kind}' has an item whose value '${p.value.slice(0, 130)}' has a space, starts with a dot or is longer than 120 characters.`);
      if (values.has(p.value)) throw new ActionError('invalid', `Property '${kind}' has two items with the value '${p.value}'.`);
      values.add(p.value);
    } else if (kind === 'oauth2PermissionScopes') throw new ActionError('invalid', "Property 'oauth2PermissionScopes' has an item without a value.");
  }
  // Entra: an enabled permission is disabled (isEnabled false) before it is removed or its value changed
  for (const old of before) {
    if (!old.isEnabled) continue;
    const now = items.find((p) => p.id.toLowerCase() === old.id.toLowerCase());
    if (!now || now.value !== old.value) throw new ActionError('invalid', `CannotDeleteOrUpdateEnabledEntitlement: the ${kind === 'appRoles' ? 'app role' : 'permission scope'} '${old.value ?? old.id}' must be disabled (isEnabled false) before it is removed or its value changed.`);
  }
}

/** Every check of an application's properties that needs no other object; `before` is the app being updated. */
export function checkApplicationInput(input: ApplicationInput, before?: App): void {
  if (input.displayName !== undefined && (!input.displayName.trim() || input.displayName.length > 256)) throw new ActionError('invalid', "Property 'displayName' must be 1 to 256 characters.");
  if (input.webRedirectUris) checkRedirectUris('web.redirectUris', input.webRedirectUris, 'web');
  if (input.spaRedirectUris) checkRedirectUris('spa.redirectUris', input.spaRedirectUris, 'spa');
  if (input.publicClientRedirectUris) checkRedirectUris('publicClient.redirectUris', input.publicClientRedirectUris, 'publicClient');
  checkUrl('web.logoutUrl', input.logoutUrl);
  checkUrl('extension_latchkey_backchannelLogoutUri', input.backchannelLogoutUri);
  if (input.identifierUris) checkIdentifierUris(input.identifierUris);
  if (input.scopes) checkPermissions('oauth2PermissionScopes', input.scopes, before?.scopes ?? []);
  if (input.roles) checkPermissions('appRoles', input.roles, before?.roles ?? []);
  for (const r of input.requiredResourceAccess ?? []) {
    if (!GUID.test(r.resourceAppId) && !r.resourceAppId.startsWith('00000003-')) throw new ActionError('invalid', `Property 'requiredResourceAccess' names resourceAppId '${r.resourceAppId.slice(0, 100)}', which is not a GUID.`);
    for (const a of r.resourceAccess) if (!GUID.test(a.id)) throw new ActionError('invalid', `Property 'requiredResourceAccess' has a resourceAccess id '${a.id.slice(0, 100)}' that is not a GUID.`);
  }
}

/**
 * The APIs and permissions `requiredResourceAccess` names exist: each resourceAppId is an application of this
 * tenant (Microsoft Graph included) and each id one of its delegated scopes (`Scope`) or app roles (`Role`).
 * An application may name its own scopes and roles (those of `self`, as the request leaves them).
 */
export async function checkResourceAccessKnown(db: Db, tenantId: string, list: readonly RequiredResourceAccess[] | undefined, self?: { appId: string; scopes: { id: string }[]; roles: { id: string }[] }): Promise<void> {
  for (const r of list ?? []) {
    const own = self && r.resourceAppId === self.appId;
    const resource = own ? undefined : await findApp(db, r.resourceAppId);
    if (!own && (!resource || resource.tenantId !== tenantId)) throw new ActionError('invalid', `Property 'requiredResourceAccess' names resourceAppId '${r.resourceAppId.slice(0, 100)}', which is no application or API of this tenant.`);
    const known = own ? { scopes: self.scopes, roles: self.roles } : appPermissions(resource!);
    for (const a of r.resourceAccess) {
      const ids = a.type === 'Scope' ? known.scopes : known.roles;
      if (!ids.some((p) => p.id === a.id)) throw new ActionError('invalid', `Property 'requiredResourceAccess' names ${a.type === 'Scope' ? 'delegated permission' : 'app role'} id '${a.id.slice(0, 100)}', which resourceAppId '${r.resourceAppId.slice(0, 100)}' does not expose.`);
    }
  }
}

/** Identifier URIs another application of the database holds already (Graph: another object with the same value). */
export async function checkIdentifierUrisFree(db: Db, uris: readonly string[], appId?: string): Promise<void> {
  if (!uris.length) return;
  const taken = await db.selectFrom('app_identifier_uris').select(['uri', 'app_id']).where('uri', 'in', [...uris]).execute();
  const other = taken.find((t) => t.app_id !== appId);
  if (other) throw new ActionError('duplicate', `Another object with the same value for property identifierUris already exists: '${other.uri}'.`);
}

/** The changes an input makes to an application, for the preview and the audit record (Entra's property names). */
export function applicationChanges(before: App | undefined, input: ApplicationInput): Change[] {
  const show = (v: unknown) => (v === undefined || v === null ? null : typeof v === 'string' ? v : JSON.stringify(v));
  const pairs: [string, unknown, unknown][] = [
    ['DisplayName', before?.displayName, input.displayName],
    ['AppAddress (web)', before?.webRedirectUris, input.webRedirectUris],
    ['AppAddress (spa)', before?.spaRedirectUris, input.spaRedirectUris],
    ['AppAddress (publicClient)', before?.publicClientRedirectUris, input.publicClientRedirectUris],
    ['LogoutUrl', before?.logoutUrl, input.logoutUrl],
    ['IsFallbackPublicClient', before?.isFallbackPublicClient, input.isFallbackPublicClient],
    ['AppIdentifierUri', before?.identifierUris, input.identifierUris],
    ['Oauth2PermissionScopes', before?.scopes.map((s) => s.value), input.scopes?.map((s) => s.value)],
    ['AppRoles', before?.roles.map((r) => r.value), input.roles?.map((r) => r.value)],
    ['RequiredResourceAccess', before?.requiredResourceAccess, input.requiredResourceAccess],
    ['extension_latchkey_requireMfa', before?.requireMfa, input.requireMfa],
    ['extension_latchkey_requirePkce', before?.requirePkce, input.requirePkce],
    ['extension_latchkey_introspectionAllowed', before?.introspectionAllowed, input.introspectionAllowed],
    ['extension_latchkey_backchannelLogoutUri', before?.backchannelLogoutUri, input.backchannelLogoutUri],
  ];
  const out: Change[] = [];
  for (const [property, old, now] of pairs) if (now !== undefined && show(old) !== show(now)) out.push({ property, oldValue: show(old), newValue: show(now) });
  for (const [k, v] of Object.entries(input.properties ?? {})) if (show(before?.properties[k]) !== show(v)) out.push({ property: k, oldValue: show(before?.properties[k]), newValue: show(v) });
  return out;
}

/** The audit record of an application action (Entra's activity names, category ApplicationManagement). */
export function applicationAudit(activity: string, operationType: 'Add' | 'Update' | 'Delete', app: { id: string; displayName: string }, changes: Change[]) {
  return { activity, category: 'ApplicationManagement', service: 'Core Directory', operationType, target: { id: app.id, name: app.displayName }, modified: changes.map((c) => ({ displayName: c.property, oldValue: c.oldValue, newValue: c.newValue })) };
}

/** A fresh GUID for ids the caller left out (Graph requires them; the command line does not). */
export const newId = () => crypto.randomUUID();

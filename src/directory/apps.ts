// App registrations as Entra's application objects: web, SPA and public-client redirect URIs side by side
// (the kind of client a request is decided per request, src/protocol/client-view.ts), identifier URIs,
// exposed scopes and app roles; resource-only registrations such as Microsoft Graph's; their secrets
// (argon2id) and the permissions granted to them with admin consent.
import crypto from 'node:crypto';
import type { Db } from '../storage/db.js';
import type { AppTable, ServicePrincipalTable } from '../storage/schema.js';
import { derivedPermissionId, roleObject, scopeObject } from '../storage/migration-0013.js';
import { hashPassword, randomToken, verifyPassword } from '../crypto/secrets.js';
import { bumpDirectoryVersion } from './version.js';

/** How a client authenticates and where it is redirected, as Entra decides it per request (issue 8). */
export type ClientKind = 'web' | 'spa' | 'native';

/** Graph's permissionScope (api.oauth2PermissionScopes). */
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

/** Graph's appRole. */
export interface AppRole {
  id: string;
  value: string | null;
  displayName: string | null;
  description: string | null;
  isEnabled: boolean;
  allowedMemberTypes: string[];
}

/** Graph's requiredResourceAccess. */
export interface RequiredResourceAccess {
  resourceAppId: string;
  resourceAccess: { id: string; type: 'Scope' | 'Role' }[];
}

export interface App {
  /** the appId (client_id) */
  id: string;
  /** the application object's id (Graph `id`) */
  objectId: string;
  tenantId: string;
  displayName: string;
  /** a Microsoft-owned resource (Graph), not one of the tenant's applications */
  resourceOnly: boolean;
  webRedirectUris: string[];
  spaRedirectUris: string[];
  publicClientRedirectUris: string[];
  /** Entra's "allow public client flows": a request without a secret that no redirect URI places is public */
  isFallbackPublicClient: boolean;
  postLogoutRedirectUris: string[];
  identifierUris: string[];
  /** the first identifier URI: what consents and token audiences name */
  identifierUri: string | null;
  scopes: PermissionScope[];
  roles: AppRole[];
  /** the values of the enabled scopes, as the engine reads them */
  exposedScopes: string[];
  /** the values of the enabled app roles */
  appRoles: string[];
  requiredResourceAccess: RequiredResourceAccess[];
  logoutUrl: string | null;
  /** Graph properties kept as given */
  properties: Record<string, unknown>;
  requirePkce: boolean;
  /** spec §8: this app (or API) requires MFA */
  requireMfa: boolean;
  introspectionAllowed: boolean;
  /** where the app receives back-channel logout tokens (OIDC Back-Channel Logout 1.0), if anywhere */
  backchannelLogoutUri: string | null;
  createdAt: number;
}

/** Microsoft Graph's well-known appId, as in Entra. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';

/** Whether a client of this kind authenticates with a secret (rule 4, D2, D3). */
export function isConfidential(app: { kind: ClientKind }): boolean {
  return app.kind === 'web';
}

/**
 * The kind an app is taken for when nothing in a request says (an engine row written before the kind was
 * recorded on it, a listing): web when it has web redirect URIs or none at all and no public flows.
 */
export function defaultKind(app: Pick<App, 'webRedirectUris' | 'spaRedirectUris' | 'publicClientRedirectUris' | 'isFallbackPublicClient'>): ClientKind {
  if (app.webRedirectUris.length) return 'web';
  if (app.spaRedirectUris.length) return 'spa';
  if (app.publicClientRedirectUris.length || app.isFallbackPublicClient) return 'native';
  return 'web';
}

const list = <T>(json: string) => JSON.parse(json) as T[];

export function appFromRow(r: AppTable): App {
  const scopes = list<PermissionScope>(r.exposed_scopes);
  const roles = list<AppRole>(r.app_roles);
  const identifierUris = list<string>(r.identifier_uris);
  return {
    id: r.id,
    objectId: r.object_id,
    tenantId: r.tenant_id,
    displayName: r.display_name,
    resourceOnly: r.kind === 'resource',
    webRedirectUris: list<string>(r.web_redirect_uris),
    spaRedirectUris: list<string>(r.spa_redirect_uris),
    publicClientRedirectUris: list<string>(r.public_client_redirect_uris),
    isFallbackPublicClient: r.is_fallback_public_client === 1,
    postLogoutRedirectUris: list<string>(r.post_logout_redirect_uris),
    identifierUris,
    identifierUri: identifierUris[0] ?? null,
    scopes,
    roles,
    exposedScopes: scopes.filter((s) => s.isEnabled).map((s) => s.value),
    appRoles: roles.filter((x) => x.isEnabled && x.value).map((x) => x.value!),
    requiredResourceAccess: list<RequiredResourceAccess>(r.required_resource_access),
    logoutUrl: r.logout_url,
    properties: JSON.parse(r.properties) as Record<string, unknown>,
    requirePkce: r.require_pkce === 1,
    requireMfa: r.require_mfa === 1,
    introspectionAllowed: r.introspection_allowed === 1,
    backchannelLogoutUri: r.backchannel_logout_uri,
    createdAt: r.created_at,
  };
}

export interface NewApp {
  tenantId: string;
  displayName: string;
  /** the appId; generated when absent */
  id?: string;
  /** the object id; generated when absent */
  objectId?: string;
  resourceOnly?: boolean;
  webRedirectUris?: string[];
  spaRedirectUris?: string[];
  publicClientRedirectUris?: string[];
  isFallbackPublicClient?: boolean;
  postLogoutRedirectUris?: string[];
  identifierUris?: string[];
  /** scope values (ids derived) or Graph's objects */
  exposedScopes?: (string | PermissionScope)[];
  appRoles?: (string | AppRole)[];
  requiredResourceAccess?: RequiredResourceAccess[];
  logoutUrl?: string | null;
  properties?: Record<string, unknown>;
  requirePkce?: boolean;
  introspectionAllowed?: boolean;
  backchannelLogoutUri?: string | null;
  /** spec §8: signing in to this app, or getting a token for this API, needs MFA */
  requireMfa?: boolean;
  /** the seed file's shorthand: `redirectUris` of one kind (a native app may also use the device-code flow) */
  kind?: ClientKind;
  redirectUris?: string[];
  /** createApp: whether the app is registered with its service principal (default true, as Entra's portal does) */
  servicePrincipal?: boolean;
}

/** The seed file's shorthand (`kind` and `redirectUris`) in Graph's terms. */
function byKind(a: NewApp): NewApp {
  if (!a.kind) return a;
  const uris = a.redirectUris ?? [];
  if (a.kind === 'web') return { ...a, webRedirectUris: [...(a.webRedirectUris ?? []), ...uris] };
  if (a.kind === 'spa') return { ...a, spaRedirectUris: [...(a.spaRedirectUris ?? []), ...uris] };
  return { ...a, publicClientRedirectUris: [...(a.publicClientRedirectUris ?? []), ...uris], isFallbackPublicClient: a.isFallbackPublicClient ?? true };
}

/** The row of a new app registration (its identifier URIs go to app_identifier_uris beside it). */
export function newAppRow(given: NewApp, now = Date.now()): AppTable {
  const a = byKind(given);
  const id = a.id ?? crypto.randomUUID();
  const scopes = (a.exposedScopes ?? []).map((s) => (typeof s === 'string' ? scopeObject(s, derivedPermissionId(id, 'scope', s)) : s));
  const roles = (a.appRoles ?? []).map((v) => (typeof v === 'string' ? roleObject(v, derivedPermissionId(id, 'role', v)) : v));
  return {
    id,
    object_id: a.objectId ?? crypto.randomUUID(),
    tenant_id: a.tenantId,
    display_name: a.displayName,
    kind: a.resourceOnly ? 'resource' : 'application',
    web_redirect_uris: JSON.stringify(a.webRedirectUris ?? []),
    spa_redirect_uris: JSON.stringify(a.spaRedirectUris ?? []),
    public_client_redirect_uris: JSON.stringify(a.publicClientRedirectUris ?? []),
    is_fallback_public_client: a.isFallbackPublicClient ? 1 : 0,
    post_logout_redirect_uris: JSON.stringify(a.postLogoutRedirectUris ?? []),
    identifier_uri: null,
    identifier_uris: JSON.stringify(a.identifierUris ?? []),
    exposed_scopes: JSON.stringify(scopes),
    app_roles: JSON.stringify(roles),
    required_resource_access: JSON.stringify(a.requiredResourceAccess ?? []),
    logout_url: a.logoutUrl ?? null,
    properties: JSON.stringify(a.properties ?? {}),
    // D3: the switch is read for confidential (web) requests only: public clients always use PKCE
    require_pkce: a.requirePkce === false ? 0 : 1,
    introspection_allowed: a.introspectionAllowed ? 1 : 0,
    created_at: now,
    backchannel_logout_uri: a.backchannelLogoutUri || null,
    require_mfa: a.requireMfa ? 1 : 0,
  };
}

/** Inserts an app registration with its identifier URIs (call inside a transaction when the caller writes more). */
export async function insertApp(db: Db, row: AppTable): Promise<App> {
  await db.insertInto('apps').values(row).execute();
  for (const uri of list<string>(row.identifier_uris)) await db.insertInto('app_identifier_uris').values({ uri, app_id: row.id }).execute();
  return appFromRow(row);
}

/** A new service principal row: the app's instance in the tenant (Graph `servicePrincipal`). */
export function newServicePrincipalRow(tenantId: string, appId: string, now: number): ServicePrincipalTable {
  return { id: crypto.randomUUID(), tenant_id: tenantId, app_id: appId, account_enabled: 1, created_at: now };
}

/**
 * Creates an app registration with its service principal (unless told not to), as Entra's portal registers an
 * app (the seed, the seed file, Latchkey's own apps). Graph's creation is the create-application action, which makes no service
 * principal (Graph's `POST /applications` does not either).
 */
export async function createApp(db: Db, a: NewApp): Promise<App> {
  const row = newAppRow(a);
  const make = async (trx: Db) => {
    const app = await insertApp(trx, row);
    if (a.servicePrincipal !== false) await trx.insertInto('service_principals').values(newServicePrincipalRow(row.tenant_id, row.id, row.created_at)).execute();
    return app;
  };
  const app = await (db.isTransaction ? make(db) : db.transaction().execute(make));
  await bumpDirectoryVersion(db, a.tenantId);
  return app;
}

export async function findApp(db: Db, id: string): Promise<App | undefined> {
  const r = await db.selectFrom('apps').selectAll().where('id', '=', id).executeTakeFirst();
  return r && appFromRow(r);
}

/** An app by its appId or any of its identifier URIs (one statement). */
export async function findAppByIdentifier(db: Db, identifier: string): Promise<App | undefined> {
  const r = await db
    .selectFrom('apps')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', identifier), eb('id', 'in', eb.selectFrom('app_identifier_uris').select('app_id').where('uri', '=', identifier))]))
    .executeTakeFirst();
  return r && appFromRow(r);
}

/** Adds a client secret; the value is returned once and stored as an argon2id hash (D14). */
export async function addAppSecret(db: Db, appId: string, value = randomToken(30)): Promise<string> {
  await db
    .insertInto('app_secrets')
    .values({ id: crypto.randomUUID(), app_id: appId, secret_hash: await hashPassword(value), hint: value.slice(0, 3), created_at: Date.now(), expires_at: null, display_name: null, start_at: null })
    .execute();
  return value;
}

/**
 * Checks a presented client secret. argon2id is slow on purpose, so a successful check is remembered
 * in memory under a SHA-256 of (client, secret, hash) for a short while; nothing of it is persisted. The
 * secret rows are read on every check, so a removed secret is refused at once (AADSTS7000215): its
 * memo is keyed by a hash no row holds any more.
 */
export class SecretVerifier {
  private readonly ok = new Map<string, number>();
  constructor(private readonly db: Db, private readonly ttlMs = 60_000) {}

  async verify(appId: string, presented: string): Promise<boolean> {
    const now = Date.now();
    const rows = await this.db.selectFrom('app_secrets').select(['secret_hash', 'expires_at', 'start_at']).where('app_id', '=', appId).execute();
    for (const r of rows) {
      if ((r.expires_at !== null && r.expires_at <= now) || (r.start_at !== null && r.start_at > now)) continue;
      const memo = crypto.createHash('sha256').update(appId).update('\0').update(presented).update('\0').update(r.secret_hash).digest('base64url');
      const until = this.ok.get(memo);
      if (until !== undefined && until > now) return true;
      if (await verifyPassword(r.secret_hash, presented)) {
        if (this.ok.size > 10_000) this.ok.clear();
        this.ok.set(memo, now + this.ttlMs);
        return true;
      }
    }
    return false;
  }
}

export async function grantPermission(db: Db, clientAppId: string, resourceAppId: string, kind: 'delegated' | 'application', values: string[]): Promise<void> {
  const app = await db.selectFrom('apps').select('tenant_id').where('id', '=', clientAppId).executeTakeFirst();
  if (app) await bumpDirectoryVersion(db, app.tenant_id);
  for (const value of values) {
    await db
      .insertInto('permission_grants')
      .values({ client_app_id: clientAppId, resource_app_id: resourceAppId, kind, value, created_at: Date.now() })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

export interface GrantedPermission {
  resourceAppId: string;
  kind: 'delegated' | 'application';
  value: string;
}

export async function grantedPermissions(db: Db, clientAppId: string): Promise<GrantedPermission[]> {
  const rows = await db.selectFrom('permission_grants').select(['resource_app_id', 'kind', 'value']).where('client_app_id', '=', clientAppId).execute();
  return rows.map((r) => ({ resourceAppId: r.resource_app_id, kind: r.kind, value: r.value }));
}

export async function listResourceApps(db: Db, tenantId: string): Promise<App[]> {
  const rows = await db.selectFrom('apps').selectAll().where('tenant_id', '=', tenantId).where('identifier_uris', '!=', '[]').execute();
  return rows.map(appFromRow);
}

// App registrations: web (confidential), native (public), SPA, and resource-only registrations such as
// Microsoft Graph's service principal; their secrets (argon2id), exposed scopes, app roles and the
// permissions granted to them with admin consent.
import crypto from 'node:crypto';
import type { Db } from '../storage/db.js';
import type { AppTable } from '../storage/schema.js';
import { hashPassword, randomToken, verifyPassword } from '../crypto/secrets.js';

export type AppKind = AppTable['kind'];

export interface App {
  id: string;
  tenantId: string;
  displayName: string;
  kind: AppKind;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  identifierUri: string | null;
  exposedScopes: string[];
  appRoles: string[];
  requirePkce: boolean;
  /** spec §8: this app (or API) requires MFA */
  requireMfa: boolean;
  introspectionAllowed: boolean;
  /** where the app receives back-channel logout tokens (OIDC Back-Channel Logout 1.0), if anywhere */
  backchannelLogoutUri: string | null;
}

/** Microsoft Graph's well-known appId, as in Entra. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const GRAPH_RESOURCE = 'https://graph.microsoft.com';

export function isConfidential(app: Pick<App, 'kind'>): boolean {
  return app.kind === 'web';
}

function fromRow(r: AppTable): App {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    displayName: r.display_name,
    kind: r.kind,
    redirectUris: JSON.parse(r.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(r.post_logout_redirect_uris) as string[],
    identifierUri: r.identifier_uri,
    exposedScopes: JSON.parse(r.exposed_scopes) as string[],
    appRoles: JSON.parse(r.app_roles) as string[],
    requirePkce: r.require_pkce === 1,
    requireMfa: r.require_mfa === 1,
    introspectionAllowed: r.introspection_allowed === 1,
    backchannelLogoutUri: r.backchannel_logout_uri,
  };
}

export interface NewApp {
  tenantId: string;
  displayName: string;
  kind: AppKind;
  id?: string;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  identifierUri?: string | null;
  exposedScopes?: string[];
  appRoles?: string[];
  requirePkce?: boolean;
  introspectionAllowed?: boolean;
  backchannelLogoutUri?: string | null;
  /** spec §8: signing in to this app, or getting a token for this API, needs MFA */
  requireMfa?: boolean;
}

export async function createApp(db: Db, a: NewApp): Promise<App> {
  const row: AppTable = {
    id: a.id ?? crypto.randomUUID(),
    tenant_id: a.tenantId,
    display_name: a.displayName,
    kind: a.kind,
    redirect_uris: JSON.stringify(a.redirectUris ?? []),
    post_logout_redirect_uris: JSON.stringify(a.postLogoutRedirectUris ?? []),
    identifier_uri: a.identifierUri ?? null,
    exposed_scopes: JSON.stringify(a.exposedScopes ?? []),
    app_roles: JSON.stringify(a.appRoles ?? []),
    require_pkce: a.requirePkce === false && a.kind === 'web' ? 0 : 1, // D3: only confidential apps may switch it off
    introspection_allowed: a.introspectionAllowed ? 1 : 0,
    created_at: Date.now(),
    backchannel_logout_uri: a.backchannelLogoutUri || null,
    require_mfa: a.requireMfa ? 1 : 0,
  };
  await db.insertInto('apps').values(row).execute();
  return fromRow(row);
}

export async function findApp(db: Db, id: string): Promise<App | undefined> {
  const r = await db.selectFrom('apps').selectAll().where('id', '=', id).executeTakeFirst();
  return r && fromRow(r);
}

export async function findAppByIdentifier(db: Db, identifier: string): Promise<App | undefined> {
  const r = await db
    .selectFrom('apps')
    .selectAll()
    .where((eb) => eb.or([eb('identifier_uri', '=', identifier), eb('id', '=', identifier)]))
    .executeTakeFirst();
  return r && fromRow(r);
}

/** Adds a client secret; the value is returned once and stored as an argon2id hash (D14). */
export async function addAppSecret(db: Db, appId: string, value = randomToken(30)): Promise<string> {
  await db
    .insertInto('app_secrets')
    .values({ id: crypto.randomUUID(), app_id: appId, secret_hash: await hashPassword(value), hint: value.slice(0, 3), created_at: Date.now(), expires_at: null })
    .execute();
  return value;
}

/**
 * Checks a presented client secret. argon2id is slow on purpose, so a successful check is remembered
 * in memory under a SHA-256 of (client, secret, hash) for a short while; nothing of it is persisted.
 */
export class SecretVerifier {
  private readonly ok = new Map<string, number>();
  constructor(private readonly db: Db, private readonly ttlMs = 60_000) {}

  async verify(appId: string, presented: string): Promise<boolean> {
    const now = Date.now();
    const rows = await this.db.selectFrom('app_secrets').select(['secret_hash', 'expires_at']).where('app_id', '=', appId).execute();
    for (const r of rows) {
      if (r.expires_at !== null && r.expires_at <= now) continue;
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
  const rows = await db.selectFrom('apps').selectAll().where('tenant_id', '=', tenantId).where('identifier_uri', 'is not', null).execute();
  return rows.map(fromRow);
}

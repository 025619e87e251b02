// Service principals (Graph `servicePrincipal`): an app's instance in the tenant, one per app. The
// permissions between two of them are the permission_grants rows the engine reads: an application row is
// an appRoleAssignment (client service principal → resource's app role), the delegated rows of one client
// and resource are one tenant-wide oAuth2PermissionGrant (consentType AllPrincipals). Their Graph ids are
// derived from the service principals' ids, as Entra's are: a grant is the client's and the resource's
// object ids (32 bytes, base64url); an assignment is the principal's object id and 16 bytes of a hash of
// the resource and the app role.
import crypto from 'node:crypto';
import type { Db } from '../storage/db.js';
import type { AppTable } from '../storage/schema.js';
import { type App, appFromRow } from './apps.js';
import { type PermissionKind, appPermissions, uuidV5 } from './permission-ids.js';

export interface ServicePrincipal {
  id: string;
  appId: string;
  accountEnabled: boolean;
  createdAt: number;
  app: App;
}

export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Service principals of the tenant with their apps, one statement (`sp_*` are the service principal's columns). */
export function servicePrincipalRows(db: Db, tenantId: string) {
  return db
    .selectFrom('service_principals')
    .innerJoin('apps', 'apps.id', 'service_principals.app_id')
    .selectAll('apps')
    .select(['service_principals.id as sp_id', 'service_principals.account_enabled as sp_account_enabled', 'service_principals.created_at as sp_created_at'])
    .where('service_principals.tenant_id', '=', tenantId);
}

export type ServicePrincipalRow = AppTable & { sp_id: string; sp_account_enabled: number; sp_created_at: number };

export function servicePrincipalFromRow(r: ServicePrincipalRow): ServicePrincipal {
  return { id: r.sp_id, appId: r.id, accountEnabled: r.sp_account_enabled === 1, createdAt: r.sp_created_at, app: appFromRow(r) };
}

/** A service principal of the tenant by its object id or by its app's id. */
export async function findServicePrincipal(db: Db, tenantId: string, by: { id: string } | { appId: string }): Promise<ServicePrincipal | undefined> {
  const q = servicePrincipalRows(db, tenantId);
  const r = await ('id' in by ? q.where('service_principals.id', '=', by.id) : q.where('service_principals.app_id', '=', by.appId)).executeTakeFirst();
  return r && servicePrincipalFromRow(r);
}

/** The service principals of these apps (those that have one), by app id: one statement. */
export async function servicePrincipalsOfApps(db: Db, tenantId: string, appIds: readonly string[]): Promise<Map<string, ServicePrincipal>> {
  const out = new Map<string, ServicePrincipal>();
  if (appIds.length === 0) return out;
  for (const r of await servicePrincipalRows(db, tenantId).where('service_principals.app_id', 'in', [...new Set(appIds)]).execute()) out.set(r.id, servicePrincipalFromRow(r));
  return out;
}

/** An app with whether it has a service principal in the tenant. */
export interface AppInTenant {
  app: App;
  servicePrincipal: boolean;
}

/**
 * An app as a client of the tenant: the app, and whether it has a service principal in the tenant (one
 * statement). Entra issues no token to an app without one (AADSTS7000229; the engine's client view,
 * src/protocol/engine-config.ts).
 */
export function findClientApp(db: Db, tenantId: string, appId: string): Promise<AppInTenant | undefined> {
  return appInTenant(db, tenantId, appId, false);
}

/**
 * The app a resource identifier (its appId or one of its identifier URIs) names, with whether it has a
 * service principal in the tenant (an API without one issues no token there: AADSTS500011), in one statement.
 */
export function findResourceApp(db: Db, tenantId: string, identifier: string): Promise<AppInTenant | undefined> {
  return appInTenant(db, tenantId, identifier, true);
}

async function appInTenant(db: Db, tenantId: string, identifier: string, byUri: boolean): Promise<AppInTenant | undefined> {
  const r = await db
    .selectFrom('apps')
    .leftJoin('service_principals', (j) => j.onRef('service_principals.app_id', '=', 'apps.id').on('service_principals.tenant_id', '=', tenantId))
    .selectAll('apps')
    .select('service_principals.id as sp_id')
    .where((eb) => (byUri ? eb.or([eb('apps.id', '=', identifier), eb('apps.id', 'in', eb.selectFrom('app_identifier_uris').select('app_id').where('uri', '=', identifier))]) : eb('apps.id', '=', identifier)))
    .executeTakeFirst();
  return r && { app: appFromRow(r), servicePrincipal: r.sp_id !== null };
}

export { newServicePrincipalRow } from './apps.js';

// --- Graph ids -----------------------------------------------------------------------------------------

/** A GUID's bytes in Microsoft's order (the first three groups little-endian), as Entra encodes object ids in ids. */
function guidBytes(id: string): Buffer {
  const b = Buffer.from(id.replace(/-/g, ''), 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

export function grantId(clientSpId: string, resourceSpId: string): string {
  return Buffer.concat([guidBytes(clientSpId), guidBytes(resourceSpId)]).toString('base64url');
}

export function assignmentId(principalSpId: string, resourceSpId: string, appRoleId: string): string {
  const tail = crypto.createHash('sha256').update(`${resourceSpId}\0${appRoleId}`).digest().subarray(0, 16);
  return Buffer.concat([guidBytes(principalSpId), tail]).toString('base64url');
}

/** Whether a string has the shape of these ids (43 base64url characters: 32 bytes). */
export function isPairId(id: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(id);
}

/** The id of a permission of a resource app (Graph's well-known ids, else derived); always defined. */
export function permissionId(resource: App, kind: PermissionKind, value: string): string {
  const p = appPermissions(resource);
  const found = (kind === 'delegated' ? p.scopes : p.roles).find((x) => x.value === value);
  return found?.id ?? uuidV5(`${resource.id}\0${kind}\0${value}`);
}

// --- the permissions between service principals, as Graph shows them -----------------------------------

export interface AppRoleAssignment {
  id: string;
  principal: ServicePrincipal;
  resource: ServicePrincipal;
  appRoleId: string;
  value: string;
  createdAt: number;
}

export interface DelegatedGrant {
  id: string;
  client: ServicePrincipal;
  resource: ServicePrincipal;
  /** the scope values, in the order they were granted */
  scopes: string[];
  createdAt: number;
}

type Side = { clientAppId?: string; resourceAppId?: string };

async function rowsBetween(db: Db, tenantId: string, kind: PermissionKind, side: Side) {
  let q = db.selectFrom('permission_grants').innerJoin('apps', 'apps.id', 'permission_grants.client_app_id').select(['permission_grants.client_app_id', 'permission_grants.resource_app_id', 'permission_grants.value', 'permission_grants.created_at']).where('apps.tenant_id', '=', tenantId).where('permission_grants.kind', '=', kind);
  if (side.clientAppId !== undefined) q = q.where('permission_grants.client_app_id', '=', side.clientAppId);
  if (side.resourceAppId !== undefined) q = q.where('permission_grants.resource_app_id', '=', side.resourceAppId);
  const rows = await q.orderBy('permission_grants.id').execute();
  const sps = await servicePrincipalsOfApps(db, tenantId, rows.flatMap((r) => [r.client_app_id, r.resource_app_id]));
  // a row between apps of which one has no service principal is not visible to Graph (it cannot be named)
  return rows.flatMap((r) => {
    const client = sps.get(r.client_app_id);
    const resource = sps.get(r.resource_app_id);
    return client && resource ? [{ client, resource, value: r.value, createdAt: r.created_at }] : [];
  });
}

/** The app role assignments whose principal and/or resource is the given app. */
export async function appRoleAssignments(db: Db, tenantId: string, side: Side): Promise<AppRoleAssignment[]> {
  return (await rowsBetween(db, tenantId, 'application', side)).map((r) => {
    const appRoleId = permissionId(r.resource.app, 'application', r.value);
    return { id: assignmentId(r.client.id, r.resource.id, appRoleId), principal: r.client, resource: r.resource, appRoleId, value: r.value, createdAt: r.createdAt };
  });
}

/** The tenant-wide delegated grants whose client and/or resource is the given app. */
export async function delegatedGrants(db: Db, tenantId: string, side: Side): Promise<DelegatedGrant[]> {
  const byPair = new Map<string, DelegatedGrant>();
  for (const r of await rowsBetween(db, tenantId, 'delegated', side)) {
    const id = grantId(r.client.id, r.resource.id);
    const g = byPair.get(id);
    if (g) {
      g.scopes.push(r.value);
      g.createdAt = Math.min(g.createdAt, r.createdAt);
    } else byPair.set(id, { id, client: r.client, resource: r.resource, scopes: [r.value], createdAt: r.createdAt });
  }
  return [...byPair.values()];
}

/** The service principal ids a pair id names (the first 16 bytes and, for a grant, the last 16). */
export function idsInPairId(id: string): { first: string; second: string } | undefined {
  if (!isPairId(id)) return undefined;
  const b = Buffer.from(id, 'base64url');
  const guid = (x: Buffer) => {
    const h = Buffer.concat([Buffer.from(x.subarray(0, 4)).reverse(), Buffer.from(x.subarray(4, 6)).reverse(), Buffer.from(x.subarray(6, 8)).reverse(), x.subarray(8, 16)]).toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
  return { first: guid(b.subarray(0, 16)), second: guid(b.subarray(16, 32)) };
}

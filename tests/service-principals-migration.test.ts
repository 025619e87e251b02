// Migration 0014 on a database that already holds apps and grants (made before service principals existed):
// every app gets a service principal, and the grants the engine reads become Graph objects with ids
// (appRoleAssignments and a tenant-wide oAuth2PermissionGrant), on SQLite and PostgreSQL.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { insertApp, newAppRow } from '../src/directory/apps.js';
import { appRoleAssignments, delegatedGrants, newServicePrincipalRow } from '../src/directory/service-principals.js';
import { Migrations } from '../src/storage/migrations.js';
import type { Database } from '../src/storage/schema.js';
import { databases, freshPostgres } from './helpers/server.js';

const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

for (const dbKind of await databases()) {
  describe(`migration 0014 on existing apps (${dbKind})`, () => {
    test('apps made before 0014 get service principals; their grants are appRoleAssignments and one delegated grant', async () => {
      const pgDb = dbKind === 'postgres' ? await freshPostgres() : undefined;
      const k = new Kysely<Database>({ dialect: pgDb ? new PostgresDialect({ pool: new pg.Pool({ connectionString: pgDb.url, max: 1 }) }) : new SqliteDialect({ database: new SqliteDatabase(':memory:') }) });
      try {
        const migrator = new Migrator({ db: k, provider: new Migrations(dbKind) });
        assert.equal((await migrator.migrateTo('0012_drop_oidc_models_session_index')).error, undefined);
        await k.insertInto('tenants').values({ id: 'old-tenant', domain: 'old.test', display_name: 'Old', created_at: 1 }).execute();
        const app = (id: string, name: string, extra: Record<string, unknown> = {}) => ({ id, tenant_id: 'old-tenant', display_name: name, kind: 'web' as const, redirect_uris: '[]', post_logout_redirect_uris: '[]', identifier_uri: null, exposed_scopes: '[]', app_roles: '[]', require_pkce: 1, introspection_allowed: 0, created_at: 1, backchannel_logout_uri: null, require_mfa: 0, ...extra });
        await k.insertInto('apps').values([app(GRAPH_APP_ID, 'Microsoft Graph', { kind: 'resource', identifier_uri: 'https://graph.microsoft.com', exposed_scopes: '["User.Read"]', app_roles: '["User.Read.All"]' }), app('old-app', 'Old app')] as never).execute(); // the apps table as it was before 0013
        await k.insertInto('permission_grants').values([
          { client_app_id: 'old-app', resource_app_id: GRAPH_APP_ID, kind: 'application', value: 'User.Read.All', created_at: 2 },
          { client_app_id: 'old-app', resource_app_id: GRAPH_APP_ID, kind: 'delegated', value: 'User.Read', created_at: 3 },
          { client_app_id: 'old-app', resource_app_id: GRAPH_APP_ID, kind: 'delegated', value: 'openid', created_at: 4 },
        ]).execute();
        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const sps = await k.selectFrom('service_principals').select(['app_id', 'tenant_id', 'account_enabled']).orderBy('app_id').execute();
        assert.deepEqual(sps, [{ app_id: GRAPH_APP_ID, tenant_id: 'old-tenant', account_enabled: 1 }, { app_id: 'old-app', tenant_id: 'old-tenant', account_enabled: 1 }]);
        const db = k as unknown as Parameters<typeof appRoleAssignments>[0];
        const assignments = await appRoleAssignments(db, 'old-tenant', { clientAppId: 'old-app' });
        assert.deepEqual(assignments.map((a) => [a.appRoleId, a.value, a.resource.appId]), [['df021288-bdef-4463-88db-98f22de89214', 'User.Read.All', GRAPH_APP_ID]]);
        assert.match(assignments[0]!.id, /^[A-Za-z0-9_-]{43}$/);
        const grants = await delegatedGrants(db, 'old-tenant', { clientAppId: 'old-app' });
        assert.deepEqual(grants.map((g) => g.scopes), [['User.Read', 'openid']]);
      } finally {
        await k.destroy();
        await pgDb?.drop();
      }
    });

    test('migration 0017: an app made without a service principal before it gets one, once', async () => {
      const pgDb = dbKind === 'postgres' ? await freshPostgres() : undefined;
      const k = new Kysely<Database>({ dialect: pgDb ? new PostgresDialect({ pool: new pg.Pool({ connectionString: pgDb.url, max: 1 }) }) : new SqliteDialect({ database: new SqliteDatabase(':memory:') }) });
      try {
        const migrator = new Migrator({ db: k, provider: new Migrations(dbKind) });
        assert.equal((await migrator.migrateTo('0016_plan_lines_and_creation_times')).error, undefined);
        await k.insertInto('tenants').values({ id: 't1', domain: 't1.test', display_name: 'T1', created_at: 1 }).execute();
        const db = k as unknown as Parameters<typeof insertApp>[0];
        await insertApp(db, newAppRow({ id: 'made-by-graph', tenantId: 't1', displayName: 'Made by Graph' }));
        await insertApp(db, newAppRow({ id: 'has-one', tenantId: 't1', displayName: 'Has one' }));
        const existing = newServicePrincipalRow('t1', 'has-one', 5);
        await k.insertInto('service_principals').values(existing).execute();
        assert.equal((await migrator.migrateToLatest()).error, undefined);
        const sps = await k.selectFrom('service_principals').select(['id', 'app_id', 'tenant_id']).orderBy('app_id').execute();
        assert.equal(sps.length, 2, JSON.stringify(sps));
        assert.deepEqual(sps[0], { id: existing.id, app_id: 'has-one', tenant_id: 't1' });
        assert.equal(sps[1]!.app_id, 'made-by-graph');
        assert.equal(sps[1]!.tenant_id, 't1');
      } finally {
        await k.destroy();
        await pgDb?.drop();
      }
    });
  });
}

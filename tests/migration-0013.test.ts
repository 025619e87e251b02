// Migration 0013 converts the app registrations a database holds (issue 8): a web, a native and an SPA app
// and Microsoft Graph's registration, as 0012 left them, become Entra's application objects: an object id
// beside the appId, redirect URIs on the platform of the app's old kind (a native app may use the
// device-code flow), identifier URIs in their own unique table, scopes and app roles as objects with stable
// ids, Graph's Application.* permissions, and the tenant's directory version.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { appFromRow } from '../src/directory/apps.js';
import { Migrations } from '../src/storage/migrations.js';
import { derivedPermissionId } from '../src/storage/migration-0013.js';
import type { Database } from '../src/storage/schema.js';
import { databases, freshPostgres } from './helpers/server.js';

const GRAPH = '00000003-0000-0000-c000-000000000000';

for (const dbKind of await databases()) {
  describe(`migration 0013 converts existing app registrations (${dbKind})`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    test('web, native and SPA apps and Graph become application objects', async () => {
      let db: Kysely<Database>;
      if (dbKind === 'postgres') {
        const fresh = await freshPostgres();
        db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: fresh.url, max: 2 }) }) });
        cleanups.push(fresh.drop);
      } else {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-migration-'));
        db = new Kysely<Database>({ dialect: new SqliteDialect({ database: new SqliteDatabase(path.join(dir, 'db.sqlite')) }) });
        cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
      }
      cleanups.push(() => db.destroy());
      const migrator = new Migrator({ db, provider: new Migrations(dbKind) });
      const to12 = await migrator.migrateTo('0012_drop_oidc_models_session_index');
      assert.equal(to12.error, undefined);
      await sql`insert into tenants (id, domain, display_name, created_at) values ('t1', 'contoso.test', 'Contoso', 1)`.execute(db);
      const old = (id: string, kind: string, uris: string[], identifier: string | null, scopes: string[], roles: string[]) =>
        sql`insert into apps (id, tenant_id, display_name, kind, redirect_uris, post_logout_redirect_uris, identifier_uri, exposed_scopes, app_roles, require_pkce, introspection_allowed, created_at, require_mfa)
            values (${id}, 't1', ${`app ${kind}`}, ${kind}, ${JSON.stringify(uris)}, '[]', ${identifier}, ${JSON.stringify(scopes)}, ${JSON.stringify(roles)}, 1, 0, 1, 0)`.execute(db);
      await old('web-app', 'web', ['https://web.example/cb'], 'api://web', ['read', 'write'], ['Data.Read.All']);
      await old('native-app', 'native', ['http://localhost'], null, [], []);
      await old('spa-app', 'spa', ['https://spa.example/'], null, [], []);
      await old(GRAPH, 'resource', [], 'https://graph.microsoft.com', ['User.Read'], ['User.Read.All']);

      const latest = await migrator.migrateToLatest();
      assert.equal(latest.error, undefined, String(latest.error));
      const apps = new Map((await db.selectFrom('apps').selectAll().execute()).map((r) => [r.id, appFromRow(r)]));
      const web = apps.get('web-app')!;
      assert.match(web.objectId, /^[0-9a-f-]{36}$/);
      assert.notEqual(web.objectId, web.id);
      assert.deepEqual([web.resourceOnly, web.webRedirectUris, web.spaRedirectUris, web.publicClientRedirectUris, web.isFallbackPublicClient, web.identifierUris], [false, ['https://web.example/cb'], [], [], false, ['api://web']]);
      assert.deepEqual(web.scopes.map((s) => [s.id, s.value, s.isEnabled]), [[derivedPermissionId('web-app', 'scope', 'read'), 'read', true], [derivedPermissionId('web-app', 'scope', 'write'), 'write', true]]);
      assert.deepEqual([web.exposedScopes, web.appRoles, web.roles[0]!.allowedMemberTypes], [['read', 'write'], ['Data.Read.All'], ['Application']]);
      const native = apps.get('native-app')!;
      assert.deepEqual([native.webRedirectUris, native.publicClientRedirectUris, native.isFallbackPublicClient], [[], ['http://localhost'], true]);
      const spa = apps.get('spa-app')!;
      assert.deepEqual([spa.webRedirectUris, spa.spaRedirectUris, spa.isFallbackPublicClient], [[], ['https://spa.example/'], false]);
      const graph = apps.get(GRAPH)!;
      assert.equal(graph.resourceOnly, true);
      assert.deepEqual(graph.identifierUris, ['https://graph.microsoft.com']);
      assert.deepEqual(graph.exposedScopes, ['User.Read', 'Application.Read.All', 'Application.ReadWrite.All']);
      assert.deepEqual(graph.appRoles, ['User.Read.All', 'Application.Read.All', 'Application.ReadWrite.All']);
      assert.equal(graph.roles.find((r) => r.value === 'Application.ReadWrite.All')!.id, '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9', "Entra's id");
      const uris = await db.selectFrom('app_identifier_uris').selectAll().orderBy('uri').execute();
      assert.deepEqual(uris, [{ uri: 'api://web', app_id: 'web-app' }, { uri: 'https://graph.microsoft.com', app_id: GRAPH }]);
      assert.deepEqual((await db.selectFrom('directory_versions').select(['tenant_id', 'version']).execute()).map((r) => [r.tenant_id, Number(r.version)]), [['t1', 1]]);
    });
  });
}

// Migration 0013: app registrations as Entra's application objects (issue 8). An object id beside the
// appId; web, SPA and public-client redirect URIs side by side; every identifier URI (unique across apps);
// exposed scopes and app roles as Graph's objects with ids; required resource access; secrets with a
// display name; and the per-tenant directory version the engine's client view is stamped with.
import crypto from 'node:crypto';
import { type Kysely, type Migration, sql } from 'kysely';

/** A stable id for a permission that existed before ids did: the same on every database. */
export function derivedPermissionId(appId: string, kind: 'scope' | 'role', value: string): string {
  const h = crypto.createHash('sha256').update(`${appId}\0${kind}\0${value}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface OldApp {
  id: string;
  kind: string;
  redirect_uris: string;
  identifier_uri: string | null;
  exposed_scopes: string;
  app_roles: string;
}

/** Graph's permissions to read and write applications (their Entra ids), added to Microsoft Graph's registration. */
const GRAPH_APPLICATION_SCOPES = [
  { value: 'Application.Read.All', id: 'c79f8feb-a9db-4090-85f9-90d820caa0eb' },
  { value: 'Application.ReadWrite.All', id: 'bdfbf15f-ee85-4955-8675-146e8e5296b5' },
];
const GRAPH_APPLICATION_ROLES = [
  { value: 'Application.Read.All', id: '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30' },
  { value: 'Application.ReadWrite.All', id: '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9' },
];
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export function scopeObject(value: string, id: string) {
  return { id, value, type: 'User', isEnabled: true, adminConsentDisplayName: value, adminConsentDescription: value, userConsentDisplayName: value, userConsentDescription: value };
}
export function roleObject(value: string, id: string) {
  return { id, value, displayName: value, description: value, isEnabled: true, allowedMemberTypes: ['Application'] };
}

export function appRegistrations(ms: 'bigint' | 'integer'): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('apps').addColumn('object_id', 'text').execute();
      await db.schema.alterTable('apps').renameColumn('redirect_uris', 'web_redirect_uris').execute();
      await db.schema.alterTable('apps').addColumn('spa_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('apps').addColumn('public_client_redirect_uris', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('apps').addColumn('is_fallback_public_client', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('apps').addColumn('identifier_uris', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('apps').addColumn('required_resource_access', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('apps').addColumn('logout_url', 'text').execute();
      // Graph properties kept as given and not read by the engine (description, notes, tags, homePageUrl, ...)
      await db.schema.alterTable('apps').addColumn('properties', 'text', (c) => c.notNull().defaultTo('{}')).execute();
      // every identifier URI of every app, unique: the lookup of a resource by its URI, and Graph's 409
      await db.schema.createTable('app_identifier_uris')
        .addColumn('uri', 'text', (c) => c.primaryKey())
        .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id').onDelete('cascade'))
        .execute();
      await db.schema.createIndex('app_identifier_uris_app').on('app_identifier_uris').column('app_id').execute();
      const rows = (await sql<OldApp>`select id, kind, web_redirect_uris as redirect_uris, identifier_uri, exposed_scopes, app_roles from apps`.execute(db)).rows;
      for (const a of rows) {
        const uris = a.redirect_uris;
        // the kind an app had becomes where its redirect URIs are; a native app may use the device-code flow
        const web = a.kind === 'web' ? uris : '[]';
        const spa = a.kind === 'spa' ? uris : '[]';
        const pub = a.kind === 'native' ? uris : '[]';
        const scopes = (JSON.parse(a.exposed_scopes) as string[]).map((v) => scopeObject(v, derivedPermissionId(a.id, 'scope', v)));
        const roles = (JSON.parse(a.app_roles) as string[]).map((v) => roleObject(v, derivedPermissionId(a.id, 'role', v)));
        if (a.id === GRAPH_APP_ID) {
          for (const s of GRAPH_APPLICATION_SCOPES) if (!scopes.some((x) => x.value === s.value)) scopes.push(scopeObject(s.value, s.id));
          for (const r of GRAPH_APPLICATION_ROLES) if (!roles.some((x) => x.value === r.value)) roles.push(roleObject(r.value, r.id));
        }
        await sql`update apps set object_id = ${crypto.randomUUID()}, kind = ${a.kind === 'resource' ? 'resource' : 'application'}, web_redirect_uris = ${web}, spa_redirect_uris = ${spa},
          public_client_redirect_uris = ${pub}, is_fallback_public_client = ${a.kind === 'native' ? 1 : 0}, identifier_uris = ${JSON.stringify(a.identifier_uri ? [a.identifier_uri] : [])},
          exposed_scopes = ${JSON.stringify(scopes)}, app_roles = ${JSON.stringify(roles)}, identifier_uri = null where id = ${a.id}`.execute(db);
        if (a.identifier_uri) await sql`insert into app_identifier_uris (uri, app_id) values (${a.identifier_uri}, ${a.id})`.execute(db);
      }
      await db.schema.createIndex('apps_object_id').unique().on('apps').column('object_id').execute();
      // passwordCredential: displayName and startDateTime
      await db.schema.alterTable('app_secrets').addColumn('display_name', 'text').execute();
      await db.schema.alterTable('app_secrets').addColumn('start_at', ms).execute();
      // One row per tenant, bumped in the transaction of every write the engine's client view depends on
      // (apps, secrets, consents, assignments): instances compare it to drop their cached views.
      await db.schema.createTable('directory_versions')
        .addColumn('tenant_id', 'text', (c) => c.primaryKey())
        .addColumn('version', ms, (c) => c.notNull())
        .addColumn('updated_at', ms, (c) => c.notNull())
        .execute();
      await sql`insert into directory_versions (tenant_id, version, updated_at) select id, 1, ${Date.now()} from tenants`.execute(db);
    },
  };
}

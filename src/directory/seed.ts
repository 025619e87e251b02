// First start: the tenant, Microsoft Graph's service principal, the bootstrap Global Administrator, the
// automation app, the demo users and apps (LATCHKEY_DEMO), and an optional JSON seed file (docs/seed.md).
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Config } from '../config/index.js';
import type { Db } from '../storage/db.js';
import { GRAPH_APP_ID, GRAPH_RESOURCE, type PermissionScope, addAppSecret, createApp, grantPermission } from './apps.js';
import { roleObject, scopeObject } from '../storage/migration-0013.js';
import { SETTINGS_DEFAULTS, writeTenantSettings } from './settings.js';
import { loadTenant, type Tenant } from './tenant.js';
import { createUser } from './users.js';
import { randomToken } from '../crypto/secrets.js';

export const GRAPH_DELEGATED_SCOPES = ['User.Read', 'User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.AccessAsUser.All', 'UserAuthenticationMethod.ReadWrite.All', 'Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod', 'AuditLog.Read.All', 'Mail.Read', 'openid', 'profile', 'email', 'offline_access'];
/** Graph's permissions to read and write applications, with their Entra ids (migration 0013 adds them to existing tenants). */
const GRAPH_APPLICATION_PERMISSIONS = { scopes: { 'Application.Read.All': 'c79f8feb-a9db-4090-85f9-90d820caa0eb', 'Application.ReadWrite.All': 'bdfbf15f-ee85-4955-8675-146e8e5296b5' }, roles: { 'Application.Read.All': '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30', 'Application.ReadWrite.All': '1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9' } } as const;
const graphScopes = () => [...GRAPH_DELEGATED_SCOPES, ...Object.entries(GRAPH_APPLICATION_PERMISSIONS.scopes).map(([v, id]) => scopeObject(v, id) as PermissionScope)];
const graphRoles = () => [...GRAPH_APP_ROLES, ...Object.entries(GRAPH_APPLICATION_PERMISSIONS.roles).map(([v, id]) => roleObject(v, id))];
export const GRAPH_APP_ROLES = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'UserAuthenticationMethod.ReadWrite.All', 'Policy.Read.All', 'Policy.ReadWrite.AuthenticationMethod', 'AuditLog.Read.All', 'User.RevokeSessions.All'];

/** Fixed ids of the demo apps, so that docs and tests can name them. */
export const DEMO = {
  webAppId: '11111111-1111-4111-8111-111111111111', // "Demo portal" (confidential web app)
  nativeAppId: '22222222-2222-4222-8222-222222222222', // "Demo native app" (public client)
  apiAppId: '33333333-3333-4333-8333-333333333333', // "Demo API" (api://demo-api)
  automationAppId: '44444444-4444-4444-8444-444444444444', // "Automation" (client credentials)
  apiIdentifier: 'api://demo-api',
  demoPassword: 'Latchkey-Demo-2026!',
} as const;

/** How a person signs in as a demo user while security defaults are on (printed at first start; the README says the same). */
export const DEMO_SIGNIN_HINT = 'at "More information required" type the code that `npm run cli -- demo totp alice` prints (or scan the QR code with an authenticator app); at later sign-ins, run it again for the code asked for.';

export interface SeedReport {
  tenant: Tenant;
  created: boolean;
  /** secrets shown once at first start */
  printed: string[];
}

interface SeedFile {
  users?: { userPrincipalName: string; displayName: string; password?: string; accountEnabled?: boolean; forceChangePasswordNextSignIn?: boolean; roles?: string[]; mail?: string }[];
  apps?: {
    displayName: string;
    appId?: string;
    kind: 'web' | 'native' | 'spa';
    redirectUris?: string[];
    postLogoutRedirectUris?: string[];
    identifierUri?: string;
    scopes?: string[];
    appRoles?: string[];
    secret?: string;
    requirePkce?: boolean;
    graphDelegated?: string[];
    graphApplication?: string[];
  }[];
}

/** Reads and checks a seed file before anything is created, so a bad file leaves no half-made tenant. */
export function readSeedFile(file: string): SeedFile {
  let seed: SeedFile;
  try {
    seed = JSON.parse(fs.readFileSync(file, 'utf8')) as SeedFile;
  } catch (e) {
    throw new Error(`seed file ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const problems: string[] = [];
  if (typeof seed !== 'object' || seed === null || Array.isArray(seed)) problems.push('must be a JSON object with "users" and/or "apps"');
  const upns = new Set<string>();
  for (const [i, u] of (Array.isArray(seed.users) ? seed.users : []).entries()) {
    if (typeof u?.userPrincipalName !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(u.userPrincipalName)) problems.push(`users[${i}].userPrincipalName must be name@domain`);
    else if (upns.has(u.userPrincipalName.toLowerCase())) problems.push(`users[${i}].userPrincipalName ${u.userPrincipalName} is repeated`);
    else upns.add(u.userPrincipalName.toLowerCase());
    if (typeof u?.displayName !== 'string' || !u.displayName) problems.push(`users[${i}].displayName is required`);
  }
  const ids = new Set<string>();
  for (const [i, a] of (Array.isArray(seed.apps) ? seed.apps : []).entries()) {
    if (typeof a?.displayName !== 'string' || !a.displayName) problems.push(`apps[${i}].displayName is required`);
    if (!['web', 'native', 'spa'].includes(a?.kind)) problems.push(`apps[${i}].kind must be web, native or spa`);
    if (a?.appId !== undefined && (typeof a.appId !== 'string' || ids.has(a.appId))) problems.push(`apps[${i}].appId is invalid or repeated`);
    if (typeof a?.appId === 'string') ids.add(a.appId);
  }
  if (seed.users !== undefined && !Array.isArray(seed.users)) problems.push('"users" must be an array');
  if (seed.apps !== undefined && !Array.isArray(seed.apps)) problems.push('"apps" must be an array');
  if (problems.length) throw new Error(`seed file ${file}: ${problems.join('; ')}`);
  return seed;
}

export async function ensureTenant(db: Db, config: Config, origin: string): Promise<SeedReport> {
  const existing = await loadTenant(db);
  if (existing) return { tenant: existing, created: false, printed: [] };
  const seed = config.seedFile ? readSeedFile(config.seedFile) : undefined;
  const printed: string[] = [];
  const tenant: Tenant = { id: config.tenantId || crypto.randomUUID(), domain: config.tenantDomain.toLowerCase(), display_name: config.tenantDomain.split('.')[0]!.replace(/^./, (c) => c.toUpperCase()), created_at: Date.now() };
  await db.insertInto('tenants').values(tenant).execute();
  // D18: a new tenant starts with security defaults as configured (on unless LATCHKEY_SECURITY_DEFAULTS=false);
  // a tenant that exists keeps its own value (one without a settings row reads SETTINGS_DEFAULTS: off)
  await writeTenantSettings(db, { tenant_id: tenant.id, ...SETTINGS_DEFAULTS, security_defaults: config.securityDefaults ? 1 : 0, updated_at: tenant.created_at });
  await createApp(db, { id: GRAPH_APP_ID, tenantId: tenant.id, displayName: 'Microsoft Graph', resourceOnly: true, identifierUris: [GRAPH_RESOURCE], exposedScopes: graphScopes(), appRoles: graphRoles() });

  // bootstrap Global Administrator (D13: a printed one-time password must be changed at first sign-in)
  const adminUpn = `${config.bootstrapAdminUsername}@${tenant.domain}`;
  const adminPassword = config.bootstrapAdminPassword || `${randomToken(12)}!a1`;
  await createUser(db, { tenantId: tenant.id, upn: adminUpn, displayName: 'Global Administrator', password: adminPassword, forceChangePassword: !config.bootstrapAdminPassword, roles: ['Global Administrator'] });
  if (!config.bootstrapAdminPassword) printed.push(`Global Administrator ${adminUpn}, one-time password (shown once, must be changed at first sign-in): ${adminPassword}`);
  if (config.securityDefaults) printed.push('Security defaults are on: every sign-in asks for a second factor, and a user without one registers an authenticator app at first sign-in ("More information required"; scan the QR code, or type the code of `npm run cli -- demo totp <user>` while the demo is on).');

  // automation app (client credentials to Graph)
  await createApp(db, { id: DEMO.automationAppId, tenantId: tenant.id, displayName: 'Automation' });
  const autoSecret = await addAppSecret(db, DEMO.automationAppId, config.automationClientSecret || undefined);
  await grantPermission(db, DEMO.automationAppId, GRAPH_APP_ID, 'application', ['User.Read.All', 'User.ReadWrite.All', 'UserAuthenticationMethod.ReadWrite.All', 'AuditLog.Read.All']);
  if (!config.automationClientSecret) printed.push(`Automation app ${DEMO.automationAppId}, client secret (shown once): ${autoSecret}`);

  if (config.demo) {
    for (const [name, display] of [['alice', 'Alice Example'], ['bob', 'Bob Example'], ['carol', 'Carol Example']] as const) {
      await createUser(db, { tenantId: tenant.id, upn: `${name}@${tenant.domain}`, displayName: display, mail: `${name}@${tenant.domain}`, password: DEMO.demoPassword });
    }
    await createApp(db, { id: DEMO.apiAppId, tenantId: tenant.id, displayName: 'Demo API', identifierUris: [DEMO.apiIdentifier], exposedScopes: ['read', 'write'], appRoles: ['Data.Read.All'], introspectionAllowed: true });
    await addAppSecret(db, DEMO.apiAppId, 'demo-api-secret');
    await createApp(db, { id: DEMO.webAppId, tenantId: tenant.id, displayName: 'Demo portal', webRedirectUris: [`${origin}/demo/callback`], postLogoutRedirectUris: [`${origin}/demo/`], introspectionAllowed: true, backchannelLogoutUri: `${origin}/demo/backchannel-logout` });
    await addAppSecret(db, DEMO.webAppId, 'demo-portal-secret');
    await grantPermission(db, DEMO.webAppId, GRAPH_APP_ID, 'delegated', ['User.Read']);
    await grantPermission(db, DEMO.webAppId, DEMO.apiAppId, 'delegated', ['read']);
    await grantPermission(db, DEMO.webAppId, DEMO.apiAppId, 'application', ['Data.Read.All']);
    await grantPermission(db, DEMO.webAppId, GRAPH_APP_ID, 'application', ['User.Read.All']);
    await createApp(db, { id: DEMO.nativeAppId, tenantId: tenant.id, displayName: 'Demo native app', publicClientRedirectUris: ['http://localhost', 'http://127.0.0.1'], isFallbackPublicClient: true });
    await grantPermission(db, DEMO.nativeAppId, GRAPH_APP_ID, 'delegated', ['User.Read', 'Mail.Read']);
    await grantPermission(db, DEMO.nativeAppId, DEMO.apiAppId, 'delegated', ['read', 'write']);
    printed.push(`Demo users alice@, bob@, carol@${tenant.domain} with password ${DEMO.demoPassword}`);
    if (config.securityDefaults) printed.push(`Demo sign-in: ${DEMO_SIGNIN_HINT}`);
  }

  if (seed) await applySeedFile(db, tenant, seed, printed);
  return { tenant, created: true, printed };
}

async function applySeedFile(db: Db, tenant: Tenant, seed: SeedFile, printed: string[]): Promise<void> {
  for (const u of seed.users ?? []) {
    await createUser(db, { tenantId: tenant.id, upn: u.userPrincipalName, displayName: u.displayName, mail: u.mail ?? null, password: u.password ?? null, accountEnabled: u.accountEnabled, forceChangePassword: u.forceChangePasswordNextSignIn, roles: u.roles });
  }
  for (const a of seed.apps ?? []) {
    // the seed file's kind says where its redirect URIs go (apps.ts byKind)
    const app = await createApp(db, { id: a.appId, tenantId: tenant.id, displayName: a.displayName, kind: a.kind, redirectUris: a.redirectUris, postLogoutRedirectUris: a.postLogoutRedirectUris, identifierUris: a.identifierUri ? [a.identifierUri] : [], exposedScopes: a.scopes, appRoles: a.appRoles, requirePkce: a.requirePkce });
    if (a.kind === 'web') {
      const secret = await addAppSecret(db, app.id, a.secret);
      if (!a.secret) printed.push(`App ${a.displayName} ${app.id}, client secret (shown once): ${secret}`);
    }
    if (a.graphDelegated?.length) await grantPermission(db, app.id, GRAPH_APP_ID, 'delegated', a.graphDelegated);
    if (a.graphApplication?.length) await grantPermission(db, app.id, GRAPH_APP_ID, 'application', a.graphApplication);
  }
}

/**
 * The demo apps' URIs follow the configured origin at every start (a tenant made under another origin, a
 * port or host changed since), as the first-party apps' do.
 */
export async function ensureDemoAppUris(db: Db, origin: string): Promise<void> {
  await db
    .updateTable('apps')
    .set({ web_redirect_uris: JSON.stringify([`${origin}/demo/callback`]), post_logout_redirect_uris: JSON.stringify([`${origin}/demo/`]), backchannel_logout_uri: `${origin}/demo/backchannel-logout` })
    .where('id', '=', DEMO.webAppId)
    .execute();
}

// The admin portal's own app registration: a public SPA client (authorization code with PKCE), made at
// the first start of any tenant, new or existing, and brought up to date at every start so that its
// redirect URI follows the configured origin. Its delegated permissions to Graph are admin-consented,
// like Entra's first-party admin portals; what the admin may do is still decided by the admin's roles.
import { GRAPH_APP_ID, createApp, findApp, grantPermission } from '../directory/apps.js';
import type { Db } from '../storage/db.js';

/** Entra's "Azure Portal" first-party app id: the portal that Entra admins sign in to. */
export const ADMIN_PORTAL_APP_ID = 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c';
export const ADMIN_PORTAL_PATH = '/admin/';
export const ADMIN_PORTAL_NAME = 'Latchkey admin portal';
/**
 * The delegated Graph permissions the portal holds (Directory.AccessAsUser.All: it acts as the admin; the
 * log and app registrations pages' own permissions named as Entra's portal holds them).
 */
export const ADMIN_PORTAL_GRAPH_SCOPES = ['User.Read', 'User.ReadWrite.All', 'Directory.AccessAsUser.All', 'UserAuthenticationMethod.ReadWrite.All', 'AuditLog.Read.All', 'Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All'];

export async function ensureAdminPortalApp(db: Db, tenantId: string, origin: string): Promise<void> {
  const uris = [`${origin}${ADMIN_PORTAL_PATH}`];
  const existing = await findApp(db, ADMIN_PORTAL_APP_ID);
  if (!existing) {
    await createApp(db, { id: ADMIN_PORTAL_APP_ID, tenantId, displayName: ADMIN_PORTAL_NAME, kind: 'spa', redirectUris: uris, postLogoutRedirectUris: uris, requirePkce: true });
  } else {
    await db.updateTable('apps').set({ spa_redirect_uris: JSON.stringify(uris), post_logout_redirect_uris: JSON.stringify(uris) }).where('id', '=', ADMIN_PORTAL_APP_ID).execute();
  }
  await grantPermission(db, ADMIN_PORTAL_APP_ID, GRAPH_APP_ID, 'delegated', ADMIN_PORTAL_GRAPH_SCOPES);
}

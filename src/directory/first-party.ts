// Latchkey's own first-party app registrations, made or updated at every start so that their redirect
// URIs follow the configured origin: My Security Info (Entra's "My Signins" app id), a browser app that
// requires MFA, so reaching it is the registration gate of spec §8.
import type { Db } from '../storage/db.js';
import { createApp, findApp } from './apps.js';
import { bumpDirectoryVersion } from './version.js';

export const SECURITY_INFO_APP_ID = '19db86c3-b2b9-44cc-b339-36da233a3be2';
export const SECURITY_INFO_PATH = '/mysecurityinfo';
/** Latchkey's own apps: clients of the engine, but not among the tenant's applications in Graph (Microsoft's, in Entra). */
export const FIRST_PARTY_APP_IDS: readonly string[] = [SECURITY_INFO_APP_ID];

export async function ensureFirstPartyApps(db: Db, tenantId: string, origin: string): Promise<void> {
  const redirectUris = [`${origin}${SECURITY_INFO_PATH}`];
  const existing = await findApp(db, SECURITY_INFO_APP_ID);
  if (!existing) {
    await createApp(db, { id: SECURITY_INFO_APP_ID, tenantId, displayName: 'My Security Info', spaRedirectUris: redirectUris, requireMfa: true });
    return;
  }
  await db.updateTable('apps').set({ spa_redirect_uris: JSON.stringify(redirectUris), web_redirect_uris: '[]', public_client_redirect_uris: '[]', require_mfa: 1 }).where('id', '=', SECURITY_INFO_APP_ID).execute();
  await bumpDirectoryVersion(db, tenantId);
}

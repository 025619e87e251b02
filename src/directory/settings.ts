// Tenant settings kept in the database (changed through /latchkey/v1, audited): remember-MFA days
// (1–365, default 14), who may register security info without MFA (spec §8), the wrong-code limit,
// and security defaults (D18: off for tenants that existed before MFA; tests pin it off).
import type { Db } from '../storage/db.js';
import type { TenantSettingsTable } from '../storage/schema.js';
import { statement } from '../storage/statements.js';
import { StampedCache } from './cache.js';

export type TenantSettings = TenantSettingsTable;

export const SETTINGS_DEFAULTS = { remember_mfa_days: 14, registration_policy: 'anywhere', wrong_code_limit: 5, security_defaults: 0 } as const;

const settingsRow = statement((db, tenantId: string) => db.selectFrom('tenant_settings').selectAll().where('tenant_id', '=', tenantId));

async function readTenantSettings(db: Db, tenantId: string): Promise<TenantSettings> {
  const row = (await settingsRow(db, tenantId)).rows[0];
  return row ?? { tenant_id: tenantId, ...SETTINGS_DEFAULTS, updated_at: 0 };
}

/** Stamped by `updated_at` (every write sets it later than the value it replaces). */
const cache = new StampedCache<TenantSettings>(readTenantSettings, (s) => s.updated_at);

/**
 * The tenant's settings: read by every sign-in step that decides on MFA, so through a cache (a write of
 * this process is seen at once, another instance's within 5 s); inside a transaction, the row itself.
 */
export function tenantSettings(db: Db, tenantId: string): Promise<TenantSettings> {
  return cache.get(db, tenantId);
}

/** Writes the settings; `updated_at` must be later than the stored one's. Call `rememberTenantSettings` after the commit. */
export async function writeTenantSettings(db: Db, s: TenantSettings): Promise<void> {
  const rest = { remember_mfa_days: s.remember_mfa_days, registration_policy: s.registration_policy, wrong_code_limit: s.wrong_code_limit, security_defaults: s.security_defaults, updated_at: s.updated_at };
  await db.insertInto('tenant_settings').values(s).onConflict((oc) => oc.column('tenant_id').doUpdateSet(rest)).execute();
}

/** After a committed write: this process uses the new settings from now on. */
export function rememberTenantSettings(db: Db, s: TenantSettings): void {
  cache.remember(db, s.tenant_id, s);
}

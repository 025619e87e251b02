// The tenant this instance serves (spec D10: one tenant per instance, tenant id on every table).
import type { Db } from '../storage/db.js';
import type { TenantTable } from '../storage/schema.js';

export type Tenant = TenantTable;

export function loadTenant(db: Db): Promise<Tenant | undefined> {
  return db.selectFrom('tenants').selectAll().orderBy('created_at').executeTakeFirst();
}

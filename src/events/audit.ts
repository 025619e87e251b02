// Audit records with Entra's activity names (spec §5), written inside the transaction of the change.
import crypto from 'node:crypto';
import type { Db } from '../storage/db.js';
import type { Actor } from '../admin/actor.js';

export interface ModifiedProperty {
  displayName: string;
  oldValue: string | null;
  newValue: string | null;
}

export interface AuditEntry {
  activity: string;
  category?: string;
  service: string;
  operationType: 'Add' | 'Update' | 'Delete' | 'Assign' | 'Unassign' | 'Other';
  actor: Actor;
  target?: { id: string; name: string };
  modified?: ModifiedProperty[];
  result?: 'success' | 'failure';
  reason?: string;
  correlationId?: string;
  at?: number;
}

export async function writeAudit(db: Db, tenantId: string, e: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      tenant_id: tenantId,
      at: e.at ?? Date.now(),
      activity: e.activity,
      category: e.category ?? 'UserManagement',
      service: e.service,
      operation_type: e.operationType,
      actor_type: e.actor.kind === 'app' ? 'app' : 'user',
      actor_id: e.actor.id,
      actor_name: e.actor.displayName,
      target_id: e.target?.id ?? null,
      target_name: e.target?.name ?? null,
      modified: JSON.stringify(e.modified ?? []),
      result: e.result ?? 'success',
      result_reason: e.reason ?? null,
      correlation_id: e.correlationId ?? crypto.randomUUID(),
    })
    .execute();
}

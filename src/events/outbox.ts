// The outbox: events for relying parties (back-channel logout now; shared signals later) written in the
// same transaction as the state change, delivered afterwards by a subscriber with retries.
import type { Db } from '../storage/db.js';

export type EventType =
  | 'user.sessions.revoked'
  | 'user.session.ended'
  | 'user.grant.ended'
  | 'user.password.reset'
  | 'user.disabled'
  | 'user.enabled'
  | 'user.deleted'
  | 'user.password_profile.updated'
  | 'user.method.added'
  | 'user.method.deleted'
  | 'user.mfa_sessions.revoked'
  | 'user.mfa_state.updated'
  | 'user.created'
  | 'user.updated'
  | 'group.created'
  | 'group.updated'
  | 'group.deleted'
  | 'group.member.added'
  | 'group.member.removed'
  | 'role.member.added'
  | 'role.member.removed'
  | 'app.require_mfa.updated'
  | 'application.created'
  | 'application.updated'
  | 'application.deleted'
  | 'application.password.added'
  | 'application.password.removed'
  | 'tenant.settings.updated'
  | 'tenant.methods_policy.updated'
  | 'service_principal.created'
  | 'service_principal.deleted'
  | 'service_principal.app_role_assignment.added'
  | 'service_principal.app_role_assignment.removed'
  | 'service_principal.delegated_grant.added'
  | 'service_principal.delegated_grant.updated'
  | 'service_principal.delegated_grant.removed';

export interface SessionEndedPayload {
  userId: string;
  /** the browser sessions that died, with the sid each app holds (for back-channel logout) */
  sessions: { sessionUid: string; apps: { clientId: string; sid: string }[] }[];
  reason: string;
}

export async function enqueue(db: Db, tenantId: string, type: EventType, payload: unknown, at = Date.now()): Promise<void> {
  await db.insertInto('outbox').values({ tenant_id: tenantId, at, type, payload: JSON.stringify(payload), attempts: 0, next_attempt_at: at, delivered_at: null, failed_at: null, last_error: null }).execute();
}

// Sign-in log (spec D11): interactive sign-ins and every refusal, one row each.
import type { FastifyRequest } from 'fastify';
import type { Db } from '../storage/db.js';

export interface SigninLogEntry {
  status: 'success' | 'failure';
  errorCode?: number;
  reason?: string;
  userId?: string;
  userName?: string;
  appId?: string | undefined;
  interactive: boolean;
  req?: FastifyRequest;
  ip?: string;
  userAgent?: string;
}

/** Log fields come from requests: bounded, and without NUL (PostgreSQL text refuses it). */
function clean(v: string | undefined | null, max: number): string | null {
  if (v === undefined || v === null || v === '') return null;
  return v.replace(/\0/g, '\uFFFD').slice(0, max);
}

export async function logSignin(db: Db, tenantId: string, e: SigninLogEntry): Promise<void> {
  await db
    .insertInto('signin_log')
    .values({
      tenant_id: tenantId,
      at: Date.now(),
      user_id: e.userId ?? null,
      user_name: clean(e.userName, 256),
      app_id: clean(e.appId, 64),
      interactive: e.interactive ? 1 : 0,
      status: e.status,
      error_code: e.errorCode ?? null,
      reason: clean(e.reason, 512),
      ip: clean(e.ip ?? e.req?.ip, 64),
      user_agent: clean(e.userAgent ?? String(e.req?.headers['user-agent'] ?? ''), 512),
    })
    .execute();
}

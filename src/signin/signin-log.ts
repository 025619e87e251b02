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

export async function logSignin(db: Db, tenantId: string, e: SigninLogEntry): Promise<void> {
  await db
    .insertInto('signin_log')
    .values({
      tenant_id: tenantId,
      at: Date.now(),
      user_id: e.userId ?? null,
      user_name: e.userName?.slice(0, 256) ?? null,
      app_id: e.appId ?? null,
      interactive: e.interactive ? 1 : 0,
      status: e.status,
      error_code: e.errorCode ?? null,
      reason: e.reason ?? null,
      ip: e.ip ?? e.req?.ip ?? null,
      user_agent: (e.userAgent ?? String(e.req?.headers['user-agent'] ?? '')).slice(0, 512) || null,
    })
    .execute();
}

// Sign-in log (spec D11): interactive sign-ins and every refusal, one row each; successful refreshes
// aggregated per grant per hour.
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
  /** the sign-in's methods (amr), when known */
  amr?: readonly string[];
  /** each step's method, in order (D22) */
  methods?: readonly string[];
}

/** Log fields come from requests: bounded, and without NUL (PostgreSQL text refuses it). */
function clean(v: string | undefined | null, max: number): string | null {
  if (v === undefined || v === null || v === '') return null;
  return v.replace(/\0/g, '\uFFFD').slice(0, max);
}

export async function logSignin(db: Db, tenantId: string, e: SigninLogEntry, aggregateKey?: string): Promise<void> {
  const q = db
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
      amr: e.amr ? JSON.stringify(e.amr.slice(0, 16)) : null,
      methods: e.methods ? JSON.stringify(e.methods.slice(0, 16)) : null,
      aggregate_key: aggregateKey ?? null,
    });
  await (aggregateKey === undefined ? q : q.onConflict((oc) => oc.column('aggregate_key').doNothing())).execute();
}

const HOUR_MS = 3_600_000;

/**
 * D11: successful refreshes as non-interactive sign-ins, at most one row per grant per hour. The hot path
 * is a set lookup; the first refresh of a (grant, hour) in this process writes with an idempotent insert,
 * so several processes still write one row.
 */
export function refreshSigninAggregator(db: Db, tenantId: string, maxKeys = 50_000) {
  const written = new Set<string>();
  let hour = 0;
  return async (grantId: string, entry: () => Promise<SigninLogEntry>): Promise<void> => {
    const now = Math.floor(Date.now() / HOUR_MS);
    if (now !== hour || written.size >= maxKeys) {
      written.clear(); // keys of past hours are never asked for again
      hour = now;
    }
    const key = `${grantId}:${now}`;
    if (written.has(key)) return;
    await logSignin(db, tenantId, await entry(), key);
    written.add(key);
  };
}

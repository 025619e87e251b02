// Sign-in log (spec D11): interactive sign-ins and every refusal, one row each; successful refreshes
// aggregated per grant per hour.
import type { FastifyRequest } from 'fastify';
import type { Insertable } from 'kysely';
import type { Db } from '../storage/db.js';
import type { SigninLogTable } from '../storage/schema.js';
import { statement } from '../storage/statements.js';

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

type LogRow = Insertable<SigninLogTable>;

function logInsert(aggregated: boolean) {
  return statement(
    (
      db,
      tenantId: string,
      at: number,
      userId: string | null,
      userName: string | null,
      appId: string | null,
      interactive: number,
      status: string,
      errorCode: number | null,
      reason: string | null,
      ip: string | null,
      userAgent: string | null,
      amr: string | null,
      methods: string | null,
      aggregateKey: string | null,
    ) => {
      const q = db.insertInto('signin_log').values({
        tenant_id: tenantId,
        at,
        user_id: userId,
        user_name: userName,
        app_id: appId,
        interactive,
        status: status as LogRow['status'],
        error_code: errorCode,
        reason,
        ip,
        user_agent: userAgent,
        amr,
        methods,
        aggregate_key: aggregateKey,
      });
      // one row per aggregate key, whichever process writes it first
      return aggregated ? q.onConflict((oc) => oc.column('aggregate_key').doNothing()) : q;
    },
    { batchable: true },
  );
}
const insertOne = logInsert(false);
const insertAggregated = logInsert(true);

export async function logSignin(db: Db, tenantId: string, e: SigninLogEntry, aggregateKey?: string): Promise<void> {
  await (aggregateKey === undefined ? insertOne : insertAggregated)(
    db,
    tenantId,
    Date.now(),
    e.userId ?? null,
    clean(e.userName, 256),
    clean(e.appId, 64),
    e.interactive ? 1 : 0,
    e.status,
    e.errorCode ?? null,
    clean(e.reason, 512),
    clean(e.ip ?? e.req?.ip, 64),
    clean(e.userAgent ?? String(e.req?.headers['user-agent'] ?? ''), 512),
    e.amr ? JSON.stringify(e.amr.slice(0, 16)) : null,
    e.methods ? JSON.stringify(e.methods.slice(0, 16)) : null,
    aggregateKey ?? null,
  );
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

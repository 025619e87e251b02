// The outbox deliverer: polls for due events, claims each one so that several instances can run side by
// side, hands it to its subscriber, and marks it delivered, or retries it with exponential backoff until
// it is marked failed. A subscriber may derive new events (one per relying party, say), written in the
// same transaction that marks the source delivered. Nothing escapes the loop; stop() waits for the
// deliveries in flight.
import type { Db } from '../storage/db.js';
import { inBackground } from '../storage/scope.js';

export interface OutboxEvent {
  id: number;
  tenantId: string;
  type: string;
  payload: unknown;
  at: number;
  /** this attempt's number, from 1 */
  attempt: number;
}

export interface SubscriberOutcome {
  /** events derived from this one, enqueued atomically with marking it delivered */
  followUps?: { type: string; payload: unknown }[];
}

/** Handles one event: resolves when it is delivered; throws to retry, or PermanentFailure to give up. */
export type Subscriber = (event: OutboxEvent) => Promise<SubscriberOutcome | void>;

/** A failure that no retry can fix (e.g. a target the outbound client refuses): failed at once. */
export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

export interface DelivererOptions {
  db: Db;
  /** by event type; an event nobody subscribes to is marked delivered */
  subscribers: Record<string, Subscriber>;
  log?: { warn(obj: object, msg: string): void };
  /** ms between polls when idle (default 200) */
  pollMs?: number;
  /** events claimed per poll (default 20) */
  batch?: number;
  /** attempts before an event is marked failed (default 10) */
  maxAttempts?: number;
  /** the first retry's delay, doubled for each further one (default 1000 ms: 1 s, 2 s, 4 s ...) */
  backoffBaseMs?: number;
  /** the longest retry delay (default 5 min) */
  backoffMaxMs?: number;
  /** how long a claim holds before another instance may take the event over (default 60 s) */
  leaseMs?: number;
}

export interface Deliverer {
  /** polls now instead of at the next interval (e.g. right after a commit) */
  kick(): void;
  /** one poll: claims and handles the due events; returns how many were due */
  runOnce(): Promise<number>;
  /** stops polling and waits for the deliveries in flight */
  stop(): Promise<void>;
}

const MAX_ERROR_LENGTH = 1000;

function describe(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, MAX_ERROR_LENGTH);
}

export function startDeliverer(opts: DelivererOptions): Deliverer {
  const { db, subscribers, log } = opts;
  const pollMs = opts.pollMs ?? 200;
  const batch = opts.batch ?? 20;
  const maxAttempts = opts.maxAttempts ?? 10;
  const backoffBaseMs = opts.backoffBaseMs ?? 1000;
  const backoffMaxMs = opts.backoffMaxMs ?? 5 * 60_000;
  const leaseMs = opts.leaseMs ?? 60_000;

  const backoff = (attempt: number) => Math.min(backoffBaseMs * 2 ** (attempt - 1), backoffMaxMs);

  async function deliverOne(row: { id: number; tenant_id: string; type: string; payload: string; at: number; attempts: number }): Promise<void> {
    // The claim: only the instance whose UPDATE sees the attempts count it read gets the event; pushing
    // next_attempt_at out by the lease hides it from the others' polls, and makes it due again if this
    // instance dies mid-delivery.
    const claimed = await db
      .updateTable('outbox')
      .set({ attempts: row.attempts + 1, next_attempt_at: Date.now() + leaseMs })
      .where('id', '=', row.id)
      .where('attempts', '=', row.attempts)
      .where('delivered_at', 'is', null)
      .where('failed_at', 'is', null)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return;
    const attempt = row.attempts + 1;
    const mine = (d: Db) => d.updateTable('outbox').where('id', '=', row.id).where('attempts', '=', attempt).where('delivered_at', 'is', null).where('failed_at', 'is', null);
    try {
      const subscriber = subscribers[row.type];
      const outcome = subscriber ? await subscriber({ id: row.id, tenantId: row.tenant_id, type: row.type, payload: JSON.parse(row.payload) as unknown, at: row.at, attempt }) : undefined;
      await db.transaction().execute(async (trx) => {
        const now = Date.now();
        const done = await mine(trx).set({ delivered_at: now }).executeTakeFirst();
        if (Number(done.numUpdatedRows) !== 1) return; // the lease ran out and another instance took it over
        for (const f of outcome?.followUps ?? []) {
          await trx.insertInto('outbox').values({ tenant_id: row.tenant_id, at: now, type: f.type, payload: JSON.stringify(f.payload), attempts: 0, next_attempt_at: now, delivered_at: null, failed_at: null, last_error: null }).execute();
        }
      });
    } catch (err) {
      const now = Date.now();
      const giveUp = err instanceof PermanentFailure || attempt >= maxAttempts;
      const lastError = describe(err);
      await mine(db)
        .set(giveUp ? { failed_at: now, last_error: lastError } : { next_attempt_at: now + backoff(attempt), last_error: lastError })
        .execute();
      log?.warn({ outboxId: row.id, type: row.type, attempt, error: lastError }, giveUp ? 'outbox event failed for good' : 'outbox event delivery failed; will retry');
    }
  }

  async function runOnce(): Promise<number> {
    const rows = await db
      .selectFrom('outbox')
      .select(['id', 'tenant_id', 'type', 'payload', 'at', 'attempts'])
      .where('delivered_at', 'is', null)
      .where('failed_at', 'is', null)
      .where('next_attempt_at', '<=', Date.now())
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(batch)
      .execute();
    await Promise.all(
      rows.map((r) =>
        deliverOne(r).catch((err: unknown) => {
          // a database error while claiming or marking: the event stays due and is tried again
          log?.warn({ outboxId: r.id, error: describe(err) }, 'outbox bookkeeping failed');
        }),
      ),
    );
    return rows.length;
  }

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let kicked = false;

  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, ms);
    timer.unref();
  };

  function tick(): void {
    if (running || stopped) return;
    kicked = false;
    // marked as background work: a kick from a request would otherwise run the poll in its scope
    running = inBackground(async () => {
      let due = 0;
      try {
        due = await runOnce();
      } catch (err) {
        log?.warn({ error: describe(err) }, 'outbox poll failed');
      } finally {
        running = undefined;
      }
      schedule(due >= batch || kicked ? 0 : pollMs);
    });
  }

  schedule(0);
  return {
    kick() {
      if (running) kicked = true;
      else schedule(0);
    },
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

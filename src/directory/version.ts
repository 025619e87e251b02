// The directory's version stamp (issue 8): every write that the engine's view of clients and resources
// reads (app registrations, their secrets and identifier URIs, consents, app role assignments) calls
// bumpDirectoryVersion() in its own transaction. The view is cached per instance and stamped:
// - SQLite (one instance per database file): the bump drops this process's cached views at once, with no
//   statement on the read path; the store's single connection makes every later read wait for the
//   write's commit. Another process writing the same file (the command line) is seen within `ttlMs`.
// - PostgreSQL (several instances): a request reads the stamp once (one indexed single-row statement,
//   memoized on the request) and drops cached views older than it, so a write on any instance is seen by
//   the next request on every instance.
import { SqliteAdapter, sql } from 'kysely';
import type { Db } from '../storage/db.js';
import { cacheLoad, memo } from './cache.js';

/**
 * Bumps made through each store of this process, per tenant: what a SQLite instance's cached views are
 * stamped with. Keyed by the store's adapter, which a transaction shares with the store it runs on, so
 * two servers in one process (tests) see only their own writes this way.
 */
const localBumps = new WeakMap<object, Map<string, number>>();
function bumpsOf(db: Db): Map<string, number> {
  const key = db.getExecutor().adapter;
  let m = localBumps.get(key);
  if (!m) localBumps.set(key, (m = new Map()));
  return m;
}

/** Call inside the transaction of a directory write the engine's client view reads. */
export async function bumpDirectoryVersion(trx: Db, tenantId: string, now = Date.now()): Promise<void> {
  await trx
    .insertInto('directory_versions')
    .values({ tenant_id: tenantId, version: 2, updated_at: now })
    .onConflict((oc) => oc.column('tenant_id').doUpdateSet({ version: sql<number>`directory_versions.version + 1`, updated_at: now }))
    .execute();
  const bumps = bumpsOf(trx);
  bumps.set(tenantId, (bumps.get(tenantId) ?? 0) + 1);
}

/** The stored version (0 when the tenant has no row yet). */
export async function readDirectoryVersion(db: Db, tenantId: string): Promise<number> {
  const row = await db.selectFrom('directory_versions').select('version').where('tenant_id', '=', tenantId).executeTakeFirst();
  return row ? Number(row.version) : 0;
}

export function isSqlite(db: Db): boolean {
  return db.getExecutor().adapter instanceof SqliteAdapter;
}

interface Entry {
  value: Promise<unknown>;
  stamp: number;
  until: number;
}

/**
 * App registrations and consents as the engine reads them on every request, cached per instance and
 * stamped with the directory version (see above). `requestState` gives the current request's own state,
 * where the stamp read on PostgreSQL is memoized; outside a request the stamp is read on each call.
 */
export class DirectoryCache {
  private readonly entries = new Map<string, Entry>();
  private readonly sqlite: boolean;
  constructor(
    private readonly db: Db,
    private readonly tenantId: string,
    private readonly requestState: () => Record<string, unknown> | undefined = () => undefined,
    private readonly ttlMs = 5000,
    private readonly max = 1000,
  ) {
    this.sqlite = isSqlite(db);
  }

  private stamp(): number | Promise<number> {
    if (this.sqlite) return bumpsOf(this.db).get(this.tenantId) ?? 0;
    const read = () => readDirectoryVersion(this.db, this.tenantId);
    const state = this.requestState();
    return state ? memo(state, 'latchkey:directoryVersion', read) : read();
  }

  get<V>(key: string, load: () => Promise<V>): Promise<V> {
    const stamp = this.stamp();
    // SQLite's stamp is at hand: no await on the hot path
    return typeof stamp === 'number' ? this.lookup(key, stamp, load) : stamp.then((s) => this.lookup(key, s, load));
  }

  private lookup<V>(key: string, stamp: number, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.stamp === stamp && hit.until > now) return hit.value as Promise<V>;
    if (this.entries.size >= this.max) this.entries.clear();
    let value: Promise<V>;
    try {
      value = cacheLoad(load);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    // stamped with the version read before the load: a write committed meanwhile is seen next time
    this.entries.set(key, { value, stamp, until: now + this.ttlMs });
    value.catch(() => this.entries.delete(key));
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}

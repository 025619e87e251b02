// The request memo and a cache of stamped rows (a tenant's methods policy, its settings) read on every
// request; the engine's view of apps and consents is cached in ./version.ts. Never used for users: the
// validity rule must see a user's current stamps. With several instances, a change is seen everywhere
// within `ttlMs`.
import type { Db } from '../storage/db.js';
import { currentScope, withinScope } from '../storage/scope.js';

/**
 * A cache's load: its statements are the cache's (one per entry and `ttlMs`, whatever the request rate),
 * which statement counts tell apart from the request's own.
 */
export function cacheLoad<T>(load: () => T): T {
  return withinScope({ aside: 'cache load' }, load);
}
/** Runs `fn` as one request of Latchkey's own pages: what is memoized per request (the directory version) is read once in it, as in an engine request. */
export function asOneRequest<T>(fn: () => T): T {
  return withinScope({ page: {} }, fn);
}

/** The state of the page request under way (asOneRequest), if any. */
export function pageRequestState(): Record<string, unknown> | undefined {
  return currentScope()?.page;
}

/** Per-request memo: the same row read by several engine hooks in one request is read once. */
export function memo<V>(state: Record<string, unknown>, key: string, load: () => Promise<V>): Promise<V> {
  const m = (state.latchkeyMemo ??= new Map<string, Promise<V>>()) as Map<string, Promise<V>>;
  let v = m.get(key);
  if (!v) {
    v = load();
    m.set(key, v);
  }
  return v;
}

/**
 * A process-wide cache of one stamped row per key (a tenant's methods policy, its settings), for the hot
 * paths that read it on every request. Each value carries a version that grows with every write; a write
 * of this process installs its committed value at once (`remember`), and another instance's write is seen
 * within `ttlMs`. A read under way never replaces a newer value remembered meanwhile. Reads inside a
 * transaction go to the database.
 */
export class StampedCache<V> {
  private readonly caches = new WeakMap<Db, Map<string, StampedEntry<V>>>();
  constructor(
    private readonly read: (db: Db, key: string) => Promise<V>,
    private readonly versionOf: (value: V) => number,
    private readonly ttlMs = 5000,
  ) {}

  private cacheOf(db: Db): Map<string, StampedEntry<V>> {
    let cache = this.caches.get(db);
    if (!cache) this.caches.set(db, (cache = new Map()));
    return cache;
  }

  get(db: Db, key: string): Promise<V> {
    if (db.isTransaction) return this.read(db, key);
    const cache = this.cacheOf(db);
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = cacheLoad(() => this.read(db, key)).then((read) => {
      // a write of this process that committed while this read was under way is newer: keep it
      const held = cache.get(key);
      if (held && held.version > this.versionOf(read)) return held.value;
      cache.set(key, { value: Promise.resolve(read), until: now + this.ttlMs, version: this.versionOf(read) });
      return read;
    });
    const entry: StampedEntry<V> = { value, until: now + this.ttlMs, version: hit?.version ?? -1 };
    cache.set(key, entry);
    value.catch(() => {
      if (cache.get(key) === entry) cache.delete(key);
    });
    return value;
  }

  /** After a committed write: this process uses the new value from now on. */
  remember(db: Db, key: string, value: V): void {
    const cache = this.cacheOf(db);
    const held = cache.get(key);
    if (held && held.version > this.versionOf(value)) return;
    cache.set(key, { value: Promise.resolve(value), until: Date.now() + this.ttlMs, version: this.versionOf(value) });
  }
}

interface StampedEntry<V> {
  value: Promise<V>;
  until: number;
  /** the version the entry holds (while a read is under way: the one before it, -1 for none) */
  version: number;
}

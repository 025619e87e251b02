// A small time-bounded cache for directory configuration read on every token request (app registrations,
// consented permissions). Never used for users: the validity rule must see a user's current stamps.
// Entries live `ttlMs`; with several instances, a change is seen everywhere within that time.
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; until: number }>();
  constructor(private readonly ttlMs: number, private readonly max = 1000) {}

  get(key: string, load: () => Promise<V>): Promise<V> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) return hit.value;
    if (this.entries.size >= this.max) this.entries.clear();
    const value = load();
    this.entries.set(key, { value, until: now + this.ttlMs });
    value.catch(() => this.entries.delete(key));
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
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

// The caches that hold what apps may do (resolved resources, consents): every write to service principals,
// app role assignments or delegated grants clears them in this process at once; another instance sees the
// change when its entries expire (the cache's TTL).
const appPermissionCaches = new Set<WeakRef<TtlCache<unknown>>>();

/** Registers a cache of app permissions, cleared by invalidateAppPermissions(). */
export function watchAppPermissions(cache: TtlCache<unknown>): void {
  appPermissionCaches.add(new WeakRef(cache));
}

/** Clears every cache of app permissions of this process (after a committed change to them). */
export function invalidateAppPermissions(): void {
  for (const ref of appPermissionCaches) {
    const cache = ref.deref();
    if (cache) cache.clear();
    else appPermissionCaches.delete(ref);
  }
}

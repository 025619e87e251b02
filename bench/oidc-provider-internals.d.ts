// Types for the two oidc-provider internals the bare baseline uses (the package has no "exports" map, so
// they resolve; @types/oidc-provider does not describe them).
declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  import type { Adapter } from 'oidc-provider';
  /** the engine's default in-memory adapter; `store` is its LRU */
  const MemoryAdapter: new (model: string, store?: unknown, clockTolerance?: number) => Adapter;
  export default MemoryAdapter;
}

declare module 'oidc-provider/lib/helpers/lru.js' {
  export default class LRU {
    constructor(options: { maxSize: number });
  }
}

// What a piece of work carries down its async calls: a sign-in page request's memo (src/directory/cache.ts),
// a `writeTogether` batch (./statements.ts) and whether a cache is loading. One AsyncLocalStorage for all:
// on Node 20 every enabled instance is paid for on every promise the process makes, whether the work in
// hand uses it or not.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CompiledQuery } from 'kysely';

export interface Scope {
  /** the state of the page request under way (asOneRequest) */
  page?: Record<string, unknown>;
  /** the writes `writeTogether` queues for this store; closed once they are written */
  batch?: { db: object; writes: CompiledQuery[]; open: boolean };
  /** a cache's load is under way (src/directory/cache.ts): what it reads is the cache's, not the request's */
  cacheLoad?: true;
}

const scope = new AsyncLocalStorage<Scope>();

/** Runs `fn` with the current scope and `add` on top of it. */
export function withinScope<T>(add: Scope, fn: () => T): T {
  return scope.run({ ...scope.getStore(), ...add }, fn);
}

export function currentScope(): Scope | undefined {
  return scope.getStore();
}

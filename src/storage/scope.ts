// What a piece of work carries down its async calls: a sign-in page request's memo (src/directory/cache.ts),
// a `writeTogether` batch (./statements.ts) and whether it is work aside from any request's own (`aside`).
// One AsyncLocalStorage for all: on Node 20 every enabled instance is paid for on every promise the process
// makes, whether the work in hand uses it or not.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { CompiledQuery } from 'kysely';

export interface Scope {
  /** the state of the page request under way (asOneRequest) */
  page?: Record<string, unknown>;
  /** the writes `writeTogether` queues for this store; closed once they are written */
  batch?: { db: object; writes: CompiledQuery[]; open: boolean };
  /**
   * Work aside from the request it may have started in: a cache's load (src/directory/cache.ts `cacheLoad`,
   * once per entry and 5 s whatever the request rate), or a background loop's turn (`inBackground`: the
   * outbox deliverer, the sweeper). Counts of a request's statements tell its statements apart.
   */
  aside?: 'cache load' | 'background';
}

const scope = new AsyncLocalStorage<Scope>();

/** Runs `fn` with the current scope and `add` on top of it. */
export function withinScope<T>(add: Scope, fn: () => T): T {
  return scope.run({ ...scope.getStore(), ...add }, fn);
}

/**
 * Runs one turn of a background loop in a scope of its own, marked as such (`aside`): nothing of the request
 * that may have scheduled it (its page memo, its `writeTogether` batch) carries over.
 */
export function inBackground<T>(fn: () => T): T {
  return scope.run({ aside: 'background' }, fn);
}

export function currentScope(): Scope | undefined {
  return scope.getStore();
}

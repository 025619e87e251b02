// Statements of the hot paths (token endpoint, sign-in steps), compiled once per store. Building a Kysely
// query and compiling it costs more than SQLite's execution of it (immutable builders, a visitor over the
// tree): a statement written here is built once, with markers for its arguments, and each call only swaps
// the arguments into the compiled parameters. The SQL text is the dialect's own, so both stores work.
import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Db } from './db.js';
import { currentScope, withinScope } from './scope.js';

const MARK = '\u0000latchkey-arg:';

type Build<A extends unknown[], O> = (db: Db, ...args: A) => Compilable<O>;

interface Template<O> {
  compiled: CompiledQuery<O>;
  /** per compiled parameter: the argument index it takes, or -1 for a constant of the statement */
  slots: number[];
}

const templates = new WeakMap<Db, Map<Build<never, unknown>, Template<unknown>>>();

/** Runs statements on the store's one SQLite connection at once, or says it cannot (undefined). */
export interface DirectRunner {
  one(sql: string, parameters: readonly unknown[]): QueryResult<unknown> | undefined;
  /** the guard, then the writes when it changed one row, in one transaction: whether they were written */
  together(guard: CompiledQuery, writes: readonly CompiledQuery[]): boolean | undefined;
}
const direct = new WeakMap<Db, DirectRunner>();

/**
 * For a SQLite store: its hot statements run on the connection directly, without Kysely's connection queue
 * and result plumbing, whenever no transaction is open on it (the runner answers undefined then, and the
 * statement waits its turn through Kysely, so it never joins another caller's transaction).
 */
export function runDirectly(db: Db, runner: DirectRunner): void {
  direct.set(db, runner);
}

const QUEUED: QueryResult<never> = Object.freeze({ rows: [] });

/**
 * Runs `work` with the store's batchable writes (statements made with `{ batchable: true }`) queued
 * instead of run, then runs `guard` and, when it changed one row, the queue; undefined (nothing written)
 * when it did not. On SQLite the guard and the queue are one transaction, all or nothing, one commit
 * instead of one per write; on PostgreSQL, where BEGIN and COMMIT would be two more round trips, each runs
 * on its own, as they would have without the batch. Work must not read what it queued; a batchable write
 * inside it answers no row count.
 */
export async function writeTogether<T>(db: Db, guard: CompiledQuery, work: () => Promise<T>): Promise<{ value: T } | undefined> {
  if (currentScope()?.batch) throw new Error('writeTogether does not nest');
  const batch = { db, writes: [] as CompiledQuery[], open: true };
  const value = await withinScope({ batch }, work);
  // a write of something work started but did not wait for runs on its own when it comes
  batch.open = false;
  const runner = direct.get(db);
  const written = runner ? (runner.together(guard, batch.writes) ?? (await inKyselyTransaction(db, guard, batch.writes))) : await oneByOne(db, guard, batch.writes);
  return written ? { value } : undefined;
}

/** SQLite with a transaction of another caller open on its connection: the batch waits its turn. */
function inKyselyTransaction(db: Db, guard: CompiledQuery, writes: readonly CompiledQuery[]): Promise<boolean> {
  return db.transaction().execute((trx) => oneByOne(trx, guard, writes));
}

async function oneByOne(db: Db, guard: CompiledQuery, writes: readonly CompiledQuery[]): Promise<boolean> {
  if (changed(await db.executeQuery(guard)) !== 1) return false;
  for (const w of writes) await db.executeQuery(w);
  return true;
}

function compile<A extends unknown[], O>(db: Db, build: Build<A, O>): Template<O> {
  const arity = build.length - 1;
  const marks = Array.from({ length: arity }, (_, i) => `${MARK}${i}`);
  const compiled = build(db, ...(marks as A)).compile();
  const slots = compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(MARK) ? Number(p.slice(MARK.length)) : -1));
  for (let i = 0; i < arity; i++) {
    // an argument the statement does not bind (used in JavaScript, or inlined) would be silently fixed
    if (!slots.includes(i)) throw new Error(`statement argument ${i} is not a bound parameter of: ${compiled.sql}`);
  }
  return { compiled, slots };
}

export interface Statement<A extends unknown[], O> {
  (db: Db, ...args: A): Promise<QueryResult<O>>;
  /** the statement with these arguments, not run (a `writeTogether` guard) */
  bind(db: Db, ...args: A): CompiledQuery<O>;
}

/**
 * A statement compiled on first use per store. `build` must pass each argument, unchanged, as a value of
 * the query (not inside JavaScript logic): the arguments become the statement's bound parameters.
 * `batchable`: a write whose result no caller reads, queued inside `writeTogether`.
 */
export function statement<A extends unknown[], O>(build: Build<A, O>, opts: { batchable?: boolean } = {}): Statement<A, O> {
  const bind = (db: Db, ...args: A): CompiledQuery<O> => {
    let byBuild = templates.get(db);
    if (!byBuild) templates.set(db, (byBuild = new Map()));
    let t = byBuild.get(build as Build<never, unknown>) as Template<O> | undefined;
    if (!t) byBuild.set(build as Build<never, unknown>, (t = compile(db, build)));
    const { compiled, slots } = t;
    return { ...compiled, parameters: slots.map((s, i) => (s < 0 ? compiled.parameters[i] : args[s])) };
  };
  const run = (db: Db, ...args: A): Promise<QueryResult<O>> => {
    const query = bind(db, ...args);
    if (opts.batchable) {
      const batch = currentScope()?.batch;
      if (batch?.open && batch.db === db) {
        batch.writes.push(query);
        return Promise.resolve(QUEUED);
      }
    }
    const runner = direct.get(db);
    if (runner) {
      try {
        const r = runner.one(query.sql, query.parameters);
        if (r) return Promise.resolve(r as QueryResult<O>);
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    return db.executeQuery<O>(query);
  };
  return Object.assign(run, { bind });
}

/** Rows changed by an insert, update or delete. */
export function changed(r: QueryResult<unknown>): number {
  return Number(r.numAffectedRows ?? 0n);
}

// Statements of the hot paths (token endpoint, sign-in steps), compiled once per store. Building a Kysely
// query and compiling it costs more than SQLite's execution of it (immutable builders, a visitor over the
// tree): a statement written here is built once, with markers for its arguments, and each call only swaps
// the arguments into the compiled parameters. The SQL text is the dialect's own, so both stores work.
import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Db } from './db.js';

const MARK = '\u0000latchkey-arg:';

type Build<A extends unknown[], O> = (db: Db, ...args: A) => Compilable<O>;

interface Template<O> {
  compiled: CompiledQuery<O>;
  /** per compiled parameter: the argument index it takes, or -1 for a constant of the statement */
  slots: number[];
}

const templates = new WeakMap<Db, Map<Build<never, unknown>, Template<unknown>>>();

/** Runs a compiled statement on the store's one SQLite connection at once, or says it cannot (undefined). */
export type DirectRunner = (sql: string, parameters: readonly unknown[]) => QueryResult<unknown> | undefined;
const direct = new WeakMap<Db, DirectRunner>();

/**
 * For a SQLite store: its hot statements run on the connection directly, without Kysely's connection queue
 * and result plumbing, whenever no transaction is open on it (the runner answers undefined then, and the
 * statement waits its turn through Kysely, so it never joins another caller's transaction).
 */
export function runDirectly(db: Db, runner: DirectRunner): void {
  direct.set(db, runner);
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

/**
 * A statement compiled on first use per store. `build` must pass each argument, unchanged, as a value of
 * the query (not inside JavaScript logic): the arguments become the statement's bound parameters.
 */
export function statement<A extends unknown[], O>(build: Build<A, O>): (db: Db, ...args: A) => Promise<QueryResult<O>> {
  return (db, ...args) => {
    let byBuild = templates.get(db);
    if (!byBuild) templates.set(db, (byBuild = new Map()));
    let t = byBuild.get(build as Build<never, unknown>) as Template<O> | undefined;
    if (!t) byBuild.set(build as Build<never, unknown>, (t = compile(db, build)));
    const { compiled, slots } = t;
    const parameters = slots.map((s, i) => (s < 0 ? compiled.parameters[i] : args[s]));
    const run = direct.get(db);
    if (run) {
      try {
        const r = run(compiled.sql, parameters);
        if (r) return Promise.resolve(r as QueryResult<O>);
      } catch (e) {
        return Promise.reject(e as Error);
      }
    }
    return db.executeQuery<O>({ ...compiled, parameters });
  };
}

/** Rows changed by an insert, update or delete. */
export function changed(r: QueryResult<unknown>): number {
  return Number(r.numAffectedRows ?? 0n);
}

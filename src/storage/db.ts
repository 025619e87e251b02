// Opens the store: SQLite (default, WAL, a file in the data folder) or PostgreSQL (by connection URL),
// and runs the migrations.
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { type CompiledQuery, Kysely, type LogEvent, Migrator, PostgresDialect, SqliteDialect, type SqliteDatabase as SqliteDialectDatabase } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { startCheckpointer } from './checkpointer.js';
import { Migrations } from './migrations.js';
import { runDirectly } from './statements.js';

export type Db = Kysely<Database>;

export interface Store {
  db: Db;
  dialect: 'sqlite' | 'postgres';
  /** file path of the SQLite database, if any */
  file?: string;
  close(): Promise<void>;
}

let statementObserver: ((sql: string) => void) | undefined;

/**
 * Sees the text of every statement the stores run from now on (undefined stops), so that tests can hold
 * the hot paths to their statement counts; a transaction's BEGIN and COMMIT (or ROLLBACK) included.
 */
export function observeStatements(observer: ((sql: string) => void) | undefined): void {
  statementObserver = observer;
}

const log = (e: LogEvent) => statementObserver?.(e.query.sql);

// BIGINT (int8) columns hold millisecond times, well inside Number's exact range.
pg.types.setTypeParser(20, (v: string) => Number(v));

/**
 * Kysely's SQLite driver prepares every statement anew; the token endpoint runs the same few statements
 * all day, so prepared statements are kept by their SQL text (bounded; better-sqlite3 statements are
 * reusable and bound per call).
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDialectDatabase & { prepare(text: string): SqliteDatabase.Statement } {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = sqlite.prepare(text);
        if (cache.size >= 500) cache.delete(cache.keys().next().value!);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}

export async function openStore(opts: { databaseUrl: string; dataDir: string }): Promise<Store> {
  let store: Store;
  if (opts.databaseUrl) {
    const pool = new pg.Pool({ connectionString: opts.databaseUrl, max: 10 });
    // An idle connection that the server drops (restart, failover) must not crash the process; the pool
    // replaces it on the next checkout.
    pool.on('error', (err) => console.warn(`latchkey: idle PostgreSQL connection lost: ${err.message}`));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log });
    store = { db, dialect: 'postgres', close: () => db.destroy() };
  } else {
    fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    const file = path.join(opts.dataDir, 'latchkey.sqlite');
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const checkpointer = startCheckpointer(sqlite, file);
    const cached = withStatementCache(sqlite);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cached }), log });
    // the hot paths' statements (src/storage/statements.ts) skip Kysely's queue when no transaction is open
    const runOne = (text: string, parameters: readonly unknown[]) => {
      try {
        const stmt = cached.prepare(text);
        if (stmt.reader) return { rows: stmt.all(parameters) };
        const { changes, lastInsertRowid } = stmt.run(parameters);
        return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
      } finally {
        statementObserver?.(text);
      }
    };
    // the guard, then the writes when it changed one row, in one transaction
    const together = sqlite.transaction((guard: CompiledQuery, writes: readonly CompiledQuery[]) => {
      if (runOne(guard.sql, guard.parameters).numAffectedRows !== 1n) return false;
      for (const w of writes) runOne(w.sql, w.parameters);
      return true;
    });
    runDirectly(db, {
      one: (text, parameters) => (sqlite.inTransaction ? undefined : runOne(text, parameters)),
      together: (guard, writes) => {
        if (sqlite.inTransaction) return undefined;
        // the transaction's own statements are seen as Kysely's transactions show theirs
        statementObserver?.('begin');
        try {
          const written = together.immediate(guard, writes);
          statementObserver?.('commit');
          return written;
        } catch (e) {
          statementObserver?.('rollback');
          throw e;
        }
      },
    });
    store = {
      db,
      dialect: 'sqlite',
      file,
      close: async () => {
        await checkpointer.close();
        await db.destroy();
      },
    };
  }
  const migrator = new Migrator({ db: store.db, provider: new Migrations(store.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await store.close();
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    // no migration ran when the database could not be reached at all (a refused connection, a wrong password)
    throw new Error(failed ? `database migration ${failed} failed: ${String(error)}` : `the database could not be opened: ${String(error)}`);
  }
  return store;
}

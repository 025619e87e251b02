// Starts a real Latchkey server for a test: HTTPS with the test CA (created by scripts/test.mjs), a fresh
// data folder, and either SQLite or a fresh PostgreSQL database.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { openStore, type Store } from '../../src/storage/db.js';

export type DbKind = 'sqlite' | 'postgres';

const PG_ADMIN_URL = process.env.LATCHKEY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

let pgAvailable: Promise<boolean> | undefined;
export function postgresAvailable(): Promise<boolean> {
  pgAvailable ??= (async () => {
    const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
    try {
      await c.connect();
      await c.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => {});
    }
  })();
  return pgAvailable;
}

/** Databases to run a suite on: SQLite always; PostgreSQL when reachable (required when LATCHKEY_REQUIRE_PG=1). */
export async function databases(): Promise<DbKind[]> {
  if (await postgresAvailable()) return ['sqlite', 'postgres'];
  if (process.env.LATCHKEY_REQUIRE_PG === '1') throw new Error(`PostgreSQL is required (LATCHKEY_REQUIRE_PG=1) but ${PG_ADMIN_URL} is not reachable`);
  console.warn(`# PostgreSQL at ${PG_ADMIN_URL} is not reachable: PostgreSQL variants skipped`);
  return ['sqlite'];
}

/** A fresh PostgreSQL database; returns its URL and a drop function. */
export async function freshPostgres(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `lk_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A store of its own, opened on a fresh data folder or a fresh PostgreSQL database; `close` removes it. */
export async function freshStore(dbKind: DbKind): Promise<{ store: Store; close: () => Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-store-'));
  const pgDb = dbKind === 'postgres' ? await freshPostgres() : undefined;
  const store = await openStore({ databaseUrl: pgDb?.url ?? '', dataDir });
  return {
    store,
    async close() {
      await store.close();
      await pgDb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestServer extends RunningServer {
  dataDir: string;
  dbKind: DbKind;
  /** base URL of the tenant's endpoints */
  tenantUrl: string;
}

export function testCa(): string {
  const ca = process.env.LATCHKEY_TEST_CA;
  if (!ca) throw new Error('LATCHKEY_TEST_CA is not set: run the tests with `npm test` (scripts/test.mjs creates the CA)');
  return ca;
}

export async function startTestServer(dbKind: DbKind = 'sqlite', overrides: Partial<Config> = {}, env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-test-'));
  const pgDb = dbKind === 'postgres' ? await freshPostgres() : undefined;
  const config = loadConfig(
    // Security defaults off unless a test asks (D18: most tests sign in without MFA); `env` may turn them on.
    { LATCHKEY_LOG_LEVEL: 'warn', LATCHKEY_SECURITY_DEFAULTS: 'false', ...env },
    { dataDir, port: 0, host: '127.0.0.1', tlsCaCert: testCa(), databaseUrl: pgDb?.url ?? '', bootstrapAdminPassword: 'Bootstrap-Admin-Pw-1', automationClientSecret: 'automation-secret-value', ...overrides },
  );
  const server = await startServer(config);
  return {
    ...server,
    dataDir,
    dbKind,
    tenantUrl: `${server.origin}/${server.tenantId}`,
    async close() {
      await server.close();
      await pgDb?.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

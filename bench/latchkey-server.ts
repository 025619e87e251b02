// Latchkey as it starts for real (startServer: SQLite store, migrations, seed with the demo tenant,
// encrypted signing key), over plain HTTP on loopback (tls=off; publicUrl names an https origin only
// because configuration requires it; the bench hits http://127.0.0.1:<port>), logs at warn.
// Refresh tokens are minted with the running engine's models for alice and the demo native app.
// Run by bench/run.ts (BENCH_DATA_DIR: a fresh folder it removes afterwards); prints one JSON line
// ({benchReady, port, pid, ...}) on stdout when it listens.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { loadConfig } from '../src/config/index.js';
import { DEMO } from '../src/directory/seed.js';
import { findUserByUpn } from '../src/directory/users.js';
import { startServer } from '../src/server.js';
import { mintRefreshTokens, serveParent } from './child.js';
import { CLIENT_SECRET } from './protocol.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

// On the parent's request (npm run bench -- --profile), count the SQL statements prepared (Kysely's SQLite
// driver prepares each query it runs) to show how many a grant costs. The counting wrapper is in place
// only while counting: measured and profiled runs run better-sqlite3 untouched.
const sqlCounts = new Map<string, number>();
const sqliteProto = SqliteDatabase.prototype as unknown as { prepare(this: unknown, sql: string): unknown };
const originalPrepare = sqliteProto.prepare;
function countSql(on: boolean) {
  sqliteProto.prepare = on
    ? function (sql: string) {
        sqlCounts.set(sql, (sqlCounts.get(sql) ?? 0) + 1);
        return originalPrepare.call(this, sql);
      }
    : originalPrepare;
}

/** `select users where id`, `insert oidc_models`: a statement's verb, table and compared columns. */
function sqlShape(sql: string): string {
  const verb = /^\s*(\w+)/.exec(sql)?.[1]?.toLowerCase() ?? '?';
  const table = /\b(?:from|into|update)\s+"(\w+)"/i.exec(sql)?.[1] ?? '?';
  const where = /\bwhere\b(.*)$/is.exec(sql)?.[1] ?? '';
  const cols = [...where.matchAll(/"(\w+)"\s*(?:=|<=|>=|<|>|is|in)/gi)].map((m) => m[1]);
  return `${verb} ${table}${cols.length ? ` where ${cols.join(', ')}` : ''}`;
}

const ownDir = !process.env.BENCH_DATA_DIR;
const dataDir = process.env.BENCH_DATA_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-bench-'));
const port = await freePort();
const config = loadConfig(
  {},
  {
    dataDir,
    port,
    host: '127.0.0.1',
    tls: 'off',
    publicUrl: `https://localhost:${port}`,
    logLevel: 'warn',
    bootstrapAdminPassword: 'Bench-Admin-Password-1',
    automationClientSecret: CLIENT_SECRET,
  },
);
const server = await startServer(config);

const alice = await findUserByUpn(server.store.db, server.tenantId, `alice@${server.tenantDomain}`);
if (!alice) throw new Error('the demo user alice is missing (LATCHKEY_DEMO off?)');
// A refresh token's original issue time is whole seconds, the user's stamps are milliseconds: mint
// only once a whole second after the seed has begun, or the validity rule would call every token stale.
const stamp = Math.max(alice.last_password_change_at, alice.sign_in_sessions_valid_from);
while (Math.floor(Date.now() / 1000) * 1000 < stamp) await new Promise((r) => setTimeout(r, 50));

serveParent({
  info: {
    name: 'latchkey',
    port,
    tokenUrl: `http://127.0.0.1:${port}/${server.tenantId}/oauth2/v2.0/token`,
    issuer: server.issuer,
    refreshClientId: DEMO.nativeAppId,
    ccClientId: DEMO.automationAppId,
    ccClientSecret: CLIENT_SECRET,
  },
  mint: (n) => mintRefreshTokens(server.provider, DEMO.nativeAppId, alice.id, n),
  counters(on) {
    const out: Record<string, number> = {};
    for (const [sql, n] of sqlCounts) out[sqlShape(sql)] = (out[sqlShape(sql)] ?? 0) + n;
    sqlCounts.clear();
    countSql(on);
    return out;
  },
  async close() {
    await server.close();
    if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
  },
});

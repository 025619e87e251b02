// SQLite's write-ahead log under writes that never pause. The checkpointer (src/storage/checkpointer.ts)
// copies the log back into the database from a worker thread; SQLite starts the log over only when a write
// begins on a log found fully copied, which writes that never pause never give it. Without a bound, the log
// file grows for as long as the load lasts (the token bench left 280 MB after a minute). These tests write
// without pause, far past the bound, and hold the log file to it; and check that every row written is there.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { startCheckpointer } from '../src/storage/checkpointer.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function openDb() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'latchkey-wal-'));
  dirs.push(dir);
  const file = path.join(dir, 'test.sqlite');
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.exec('create table t (id integer primary key, k text not null, v text not null); create index t_k on t (k)');
  return { sqlite, file };
}

const PAGE = 4096;
const FRAME = PAGE + 24;
/** the bound the first test sets, frames */
const RESTART_FRAMES = 400;
/** the log file's largest size allowed with that bound, in frames (about 35 MB) */
const LIMIT_FRAMES = RESTART_FRAMES + 8000;

/**
 * Writes rows for `ms` (one row per statement, its own commit, as the token endpoint writes them): a few
 * every millisecond, about 5 000 commits a second, never pausing as long as a checkpoint takes; the largest
 * size the log file reached. With `stopAbove`, it stops as soon as the log file is larger than that.
 */
async function writeWithoutPause(sqlite: SqliteDatabase.Database, file: string, ms: number, stopAbove = Infinity): Promise<{ rows: number; largestWal: number }> {
  const insert = sqlite.prepare('insert into t (k, v) values (?, ?)');
  const payload = 'x'.repeat(1500);
  let rows = 0;
  let largestWal = 0;
  const end = Date.now() + ms;
  while (Date.now() < end && largestWal <= stopAbove) {
    for (let i = 0; i < 5; i++, rows++) insert.run(`${rows}:${Math.random()}`, payload);
    largestWal = Math.max(largestWal, fs.statSync(`${file}-wal`).size);
    await new Promise((r) => setTimeout(r, 1));
  }
  return { rows, largestWal };
}

test('the log stays within its bound under writes that never pause, and no row is lost', async () => {
  const { sqlite, file } = openDb();
  const restartFrames = RESTART_FRAMES;
  const checkpointer = startCheckpointer(sqlite, file, { intervalMs: 20, restartFrames });
  try {
    const { rows, largestWal } = await writeWithoutPause(sqlite, file, 3000);
    // each row's commit writes two pages or more (the table's, the index's): thousands of rows are many
    // times the bound
    assert.ok(rows * 2 > restartFrames * 10, `wrote ${rows} rows, too few to test the bound`);
    // the bound, plus what is written while a restart waits its turn (up to a few hundred ms on a busy
    // machine); without the bound the same writes leave over 100 MB (the next test)
    const limit = LIMIT_FRAMES * FRAME;
    assert.ok(largestWal <= limit, `the log file reached ${(largestWal / 1e6).toFixed(1)} MB, more than ${(limit / 1e6).toFixed(1)} MB`);
    assert.equal((sqlite.prepare('select count(*) as n from t').get() as { n: number }).n, rows);
  } finally {
    await checkpointer.close();
    sqlite.close();
  }
});

test('without a bound the same writes grow the log file past it (what the bound is for)', async () => {
  const { sqlite, file } = openDb();
  const checkpointer = startCheckpointer(sqlite, file, { intervalMs: 20, restartFrames: Infinity });
  try {
    // The same writes, until the log file passes the first test's limit: on an idle machine within a second,
    // on a machine busy with other tests a few seconds (a writer slowed down writes less in the first test's
    // 3 s, so it stays the stricter of the two). 20 s and the log still within the limit: no bound is needed.
    const limit = LIMIT_FRAMES * FRAME;
    const { largestWal } = await writeWithoutPause(sqlite, file, 20_000, limit);
    assert.ok(largestWal > limit, `the log file stayed at ${(largestWal / 1e6).toFixed(1)} MB for 20 s without a bound: the test above would not fail without one`);
  } finally {
    await checkpointer.close();
    sqlite.close();
  }
});

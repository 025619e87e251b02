// SQLite's WAL is copied back into the database file by checkpoints. Left to SQLite, a checkpoint runs
// inside whichever commit crosses the threshold, on the event loop, and with synchronous=NORMAL it waits
// for two fsyncs: every few hundred commits one request stalls for milliseconds, and on a write-heavy path
// (a refresh writes three rows) it is half the time SQLite takes. Here the main connection never
// checkpoints; a worker thread with its own connection runs passive checkpoints (they never block the
// writer, nor wait for readers) a few times a second, so the fsyncs happen off the event loop.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch (e) { parentPort.postMessage({ error: String(e && e.message || e) }); }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'close') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage({ closed: true });
});
`;

export interface Checkpointer {
  close(): Promise<void>;
}

/** Moves the WAL checkpoints of `sqlite` (a file database in WAL mode) to a worker thread. */
export function startCheckpointer(sqlite: SqliteDatabase.Database, file: string, intervalMs = 200): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { driver, file, intervalMs } });
  worker.unref();
  sqlite.pragma('wal_autocheckpoint = 0');
  let alive = true;
  const fallBack = (why: string) => {
    if (!alive) return;
    alive = false;
    // checkpoints go back to the main connection: slower commits, but the WAL never grows without bound
    if (sqlite.open) sqlite.pragma('wal_autocheckpoint = 1000');
    console.warn(`latchkey: SQLite checkpoints are back on the main thread: ${why}`);
  };
  worker.on('message', (m: { error?: string }) => {
    if (m.error) fallBack(m.error);
  });
  worker.on('error', (e) => fallBack(e.message));
  worker.on('exit', (code) => {
    if (code !== 0) fallBack(`checkpoint worker exited with code ${code}`);
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        if (!alive) {
          void worker.terminate().then(() => resolve());
          return;
        }
        alive = false;
        const done = () => void worker.terminate().then(() => resolve());
        worker.once('message', done);
        worker.once('error', done);
        setTimeout(done, 5000).unref();
        worker.postMessage('close');
      }),
  };
}

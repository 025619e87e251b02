// SQLite's WAL is copied back into the database file by checkpoints. Left to SQLite, a checkpoint runs
// inside whichever commit crosses the threshold, on the event loop, and with synchronous=NORMAL it waits
// for two fsyncs: every few hundred commits one request stalls for milliseconds, and on a write-heavy path
// (a refresh writes three rows) it is half the time SQLite takes. Here the main connection never
// checkpoints; a worker thread with its own connection runs passive checkpoints (they never block the
// writer, nor wait for readers) a few times a second, so the fsyncs happen off the event loop.
//
// SQLite starts the log over only when a write begins on a log found fully copied. Under writes that never
// pause for a checkpoint's length, none does (each passive checkpoint ends with newer frames behind it), and
// the log file grows for as long as the load lasts: 280 MB after a minute of the token bench. So once the
// log holds `restartFrames` frames, the worker runs a RESTART checkpoint: writers wait for it (it copies only
// what the passive one left, a few milliseconds), and the next write starts the log over. It waits at most
// RESTART_WAIT_MS for readers (a transaction the event loop holds open across awaits): it never stalls the
// event loop longer than that, and a restart that could not finish is tried again at the next turn. The main
// connection's journal_size_limit then cuts the file back to the bound after a burst.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const checkpoint = () => {
  try {
    const [passive] = db.pragma('wal_checkpoint(PASSIVE)');
    if (passive && passive.log >= workerData.restartFrames) {
      db.pragma('busy_timeout = ' + workerData.restartWaitMs);
      try { db.pragma('wal_checkpoint(RESTART)'); } finally { db.pragma('busy_timeout = 5000'); }
    }
  } catch (e) { parentPort.postMessage({ error: String(e && e.message || e) }); }
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

/** How long a RESTART checkpoint waits for readers, ms: the longest it may hold writers back. */
const RESTART_WAIT_MS = 50;

export interface CheckpointerOptions {
  /** ms between passive checkpoints (200) */
  intervalMs?: number;
  /** frames in the log past which it is started over (16 384: 64 MiB of 4 KiB pages); Infinity: never */
  restartFrames?: number;
}

/** Moves the WAL checkpoints of `sqlite` (a file database in WAL mode) to a worker thread, and bounds the log. */
export function startCheckpointer(sqlite: SqliteDatabase.Database, file: string, opts: CheckpointerOptions = {}): Checkpointer {
  const { intervalMs = 200, restartFrames = 16_384 } = opts;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { driver, file, intervalMs, restartFrames, restartWaitMs: RESTART_WAIT_MS } });
  worker.unref();
  sqlite.pragma('wal_autocheckpoint = 0');
  if (Number.isFinite(restartFrames)) sqlite.pragma(`journal_size_limit = ${Math.ceil(restartFrames * ((sqlite.pragma('page_size', { simple: true }) as number) + 24))}`);
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

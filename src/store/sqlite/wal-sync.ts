/**
 * The fsync that makes a commit durable, taken out of the COMMIT. In WAL mode, SQLite's
 * `synchronous=FULL` differs from `NORMAL` by one thing only: an fsync of the WAL file at the
 * end of each COMMIT (NORMAL still syncs the WAL before each checkpoint, the database file
 * after it, and the WAL header when the file is reused). The store runs with NORMAL and makes
 * that one fsync itself, here, on a thread of its own: the writing thread goes on to the next
 * transaction while the disk flushes the last one, and group-commit.ts releases a result only
 * after a sync that started once its COMMIT had returned. An fsync covers the whole file,
 * whatever descriptor it is made through, so it covers every frame SQLite wrote before it.
 *
 * Not libuv's thread pool: the daemon fsyncs each run's log there when the run ends, and a WAL
 * sync queued behind those would hold up every write (measured: a third fewer runs a second).
 *
 * The WAL file is opened once, after the first commit (SQLite creates it), and kept for the
 * store's life: SQLite reuses and truncates it in place, and deletes it only when the last
 * connection closes, which this one is.
 */
import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Syncs the WAL of the database at `path`. */
export interface WalSync {
  /** Resolves once everything written to the WAL before the call is on disk. */
  sync(): Promise<void>;
  /** Closes the file and ends the thread (after the last sync; with checkpoints, after its connection closed). */
  close(): Promise<void>;
}

export interface WalSyncOptions {
  /**
   * Also checkpoint the WAL on this thread, after a sync, at most this often (ms), through a
   * connection of the thread's own: for a database written on the event loop with SQLite's
   * automatic checkpoints turned off (the intake spool), whose checkpoint (copying pages back
   * and an fsync of the database file) would otherwise stall the loop inside a COMMIT. PASSIVE:
   * it never waits for the writer. One that fails is tried again at the next; the WAL only
   * grows meanwhile, and SQLite checkpoints it when the last connection closes.
   */
  readonly checkpointEveryMs?: number;
}

// fdatasync, as SQLite uses on Linux: the data and what is needed to read it back (the size).
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { fdatasyncSync } = require('node:fs');
const checkpoint = workerData && workerData.checkpoint;
let db;
let last = Date.now();
parentPort.on('message', (fd) => {
  if (fd === 'close') {
    try { if (db) db.close(); } catch {}
    parentPort.close();
    return;
  }
  try {
    fdatasyncSync(fd);
    parentPort.postMessage(null);
  } catch (error) {
    parentPort.postMessage({ message: String(error && error.message), code: error && error.code });
    return;
  }
  if (checkpoint && Date.now() - last >= checkpoint.everyMs) {
    last = Date.now();
    try {
      if (!db) db = new (require(checkpoint.driver))(checkpoint.path);
      db.prepare('PRAGMA wal_checkpoint(PASSIVE)').all();
    } catch {}
  }
});`;

/** The WAL syncer of the database file at `path` (the WAL is `<path>-wal`). */
export function walSync(path: string, options: WalSyncOptions = {}): WalSync {
  let fd: number | undefined;
  let thread: Worker | undefined;
  // One sync at a time (group-commit.ts never asks for a second before the first returned).
  let waiting: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const workerData = options.checkpointEveryMs === undefined
    ? undefined
    : { checkpoint: { path, everyMs: options.checkpointEveryMs, driver: createRequire(import.meta.url).resolve('libsql') } };
  const start = (): Worker => {
    const w = new Worker(THREAD, { eval: true, workerData });
    w.on('message', (failure: { message: string; code?: string } | null) => {
      const pending = waiting;
      waiting = undefined;
      w.unref();
      if (failure === null) pending?.resolve();
      else pending?.reject(Object.assign(new Error(failure.message), failure.code !== undefined ? { code: failure.code } : {}));
    });
    w.on('error', (error: Error) => {
      const pending = waiting;
      waiting = undefined;
      thread = undefined;
      pending?.reject(error);
    });
    w.unref();
    return w;
  };
  return {
    sync: () => new Promise<void>((resolve, reject) => {
      try {
        // Read-write though nothing is written through it: Windows flushes only a file opened for writing.
        fd ??= openSync(`${path}-wal`, 'r+');
        thread ??= start();
      } catch (error) {
        reject(error);
        return;
      }
      waiting = { resolve, reject };
      // Held open while a sync is in flight: a caller awaiting a write must not see the process end.
      thread.ref();
      thread.postMessage(fd);
    }),
    close: async () => {
      const ending = thread;
      thread = undefined;
      if (ending !== undefined) {
        if (workerData === undefined) {
          void ending.terminate();
        } else {
          // Its connection closes first, so the writer's own close is the last and cleans up the WAL.
          const exited = new Promise((resolve) => ending.once('exit', resolve));
          // Held open until it has ended: the caller awaits it, and nothing else may keep the process up.
          ending.ref();
          ending.postMessage('close');
          await exited;
        }
      }
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

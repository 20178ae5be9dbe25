/**
 * The fsync that makes a commit durable, taken out of the COMMIT. In WAL mode, SQLite's
 * `synchronous=FULL` differs from `NORMAL` by one thing only: an fsync of the WAL file at the
 * end of each COMMIT (NORMAL still syncs the WAL before each checkpoint, the database file
 * after it, and the WAL header when the file is reused). The store runs with NORMAL and makes
 * that one fsync itself, here, on libuv's thread pool: the writing thread goes on to the next
 * transaction while the disk flushes the last one, and group-commit.ts releases a result only
 * after a sync that started once its COMMIT had returned. An fsync covers the whole file,
 * whatever descriptor it is made through, so it covers every frame SQLite wrote before it.
 *
 * The WAL file is opened once, after the first commit (SQLite creates it), and kept for the
 * store's life: SQLite reuses and truncates it in place, and deletes it only when the last
 * connection closes, which this one is.
 */
import { fdatasync, openSync, closeSync } from 'node:fs';

/** Syncs the WAL of the database at `path`. */
export interface WalSync {
  /** Resolves once everything written to the WAL before the call is on disk. */
  sync(): Promise<void>;
  /** Closes the file (after the last sync). */
  close(): void;
}

/** The WAL syncer of the database file at `path` (the WAL is `<path>-wal`). */
export function walSync(path: string): WalSync {
  let fd: number | undefined;
  return {
    sync: () => new Promise<void>((resolve, reject) => {
      try {
        // Read-write though nothing is written through it: Windows flushes only a file opened for writing.
        fd ??= openSync(`${path}-wal`, 'r+');
      } catch (error) {
        reject(error);
        return;
      }
      // fdatasync, as SQLite uses on Linux: the data and what is needed to read it back (the size).
      fdatasync(fd, (error) => (error ? reject(error) : resolve()));
    }),
    close: () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

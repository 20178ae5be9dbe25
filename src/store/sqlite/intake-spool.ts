/**
 * The intake spool: where the SQLite daemon puts a webhook delivery the moment it accepts it,
 * and where the store adopts it from as a queued run when a runner is ready for it.
 *
 * Why a second file: a run row in `flux.db` is a write to seven B-trees (the table, its key and
 * the claim, listing and per-workflow indexes) on the store's worker thread, reached by a
 * message each way. A spool row is one append to one B-tree, written on the HTTP thread itself
 * with a group commit (group-commit.ts) and its own WAL fsync off the thread (wal-sync.ts),
 * exactly as durable as the store: a 202 is sent only after the fsync that covers its row.
 * Adopting rows into the store later, hundreds per transaction, touches each index page once
 * per batch instead of once per delivery. Measured on a 2-core machine: 6.8 µs to spool a
 * delivery and 5.4 µs to adopt it, against 19.6 µs to insert the run row directly (batches of
 * 15); the HTTP thread no longer waits on the worker at all.
 *
 * Who writes: only the daemon's HTTP thread appends and deletes (one writer, so never a lock
 * wait on the event loop). `flux runs cancel` of a delivery still spooled adopts it into the
 * store itself (then cancels it there); the daemon's adoption of it later does nothing.
 *
 * Exactly once: a row keeps its run id from the moment it is spooled. Adoption inserts the run
 * unless a run with that id exists, and rows are deleted from the spool only once the store has
 * committed and synced them. A crash in between adopts them again, for nothing.
 *
 * What readers see: SqliteStore's getRun, listRuns and countRuns show spooled deliveries as
 * queued runs (SPOOLED_RUNS below), so a run id answered with 202 can be looked up at once.
 */
import { existsSync } from 'node:fs';
import Database from 'libsql';
import type { Enqueued, NewRun, SpooledRun } from '../store.js';
import { GroupCommit } from './group-commit.js';
import { StoreOpenError } from './open-error.js';
import { spooledColumns } from './queries.js';
import { openReadOnlyFile } from './read-only.js';
import { walSync, type WalSync } from './wal-sync.js';

/** The spool beside a store file: `flux.db` spools to `flux.db-intake`. */
export function spoolPathOf(storePath: string): string {
  return `${storePath}-intake`;
}

type Statement = ReturnType<Database.Database['prepare']>;

/** Rows in one INSERT statement (two parameters each). */
const ROWS_PER_INSERT = 64;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS intake (
  -- AUTOINCREMENT: a seq is never used twice, even once the spool was emptied; adoption
  -- remembers how far it took by seq.
  seq  INTEGER PRIMARY KEY AUTOINCREMENT,
  id   TEXT NOT NULL,         -- the run id answered with the 202
  run  TEXT NOT NULL          -- JSON {workflow, version, trigger, received_at, created_at, event}; times in ms
)`;

const c = spooledColumns('run');

/**
 * The columns of `runs` (as rows.ts reads them) for every spooled delivery: a queued run that
 * no runner has seen. Readers filter and order it as they do `runs`.
 */
export const SPOOLED_RUNS = `
  SELECT seq, id, ${c.workflow} AS workflow, ${c.workflow_version} AS workflow_version, 'queued' AS status,
         ${c.trigger} AS trigger, ${c.event} AS event, ${c.received_at} AS received_at,
         NULL AS scheduled_for, NULL AS started_at, 0 AS attempt, NULL AS lease_owner, NULL AS lease_until,
         NULL AS wake_at, NULL AS waiting_for, 0 AS cancel_requested, NULL AS parent_run_id, NULL AS retry_of,
         0 AS chain_depth, NULL AS error, ${c.created_at} AS created_at, ${c.created_at} AS updated_at,
         NULL AS finished_at
  FROM intake`;

/** The spool's writer: the daemon's HTTP thread. Open it with `IntakeSpool.open`. */
export class IntakeSpool {
  private readonly writes: GroupCommit;
  private readonly inserts: Statement[] = [];
  /** Appended, not yet written: id, run, id, run, … */
  private rows: string[] = [];
  /** The write that will take `rows`, once submitted. */
  private batch: Promise<number> | undefined;
  private readonly remove;
  private readonly oldest;
  /**
   * Rows up to this seq are on disk: only those are handed to the store. A row committed but
   * not yet synced stays here: the store's own sync does not cover this file, and a crash could
   * leave a run in the store for a delivery that was never answered 202.
   */
  private durable: number;
  /** Rows up to this seq are handed to the store (or being handed). */
  private taken: number;
  /** Rows up to this seq are in the store, committed and synced, and deleted here. */
  private released: number;
  private spooled: number;
  private closed = false;

  private constructor(private readonly db: Database.Database, readonly path: string, private readonly wal: WalSync, onBroken?: (error: Error) => void) {
    this.writes = new GroupCommit(db, 1000, wal.sync, onBroken, true);
    this.remove = db.prepare('DELETE FROM intake WHERE seq <= ?');
    this.oldest = db.prepare('SELECT seq, id, run FROM intake WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?');
    const stats = db.prepare('SELECT count(*) AS n, coalesce(max(seq), 0) AS last FROM intake').all()[0] as { n: number; last: number };
    this.spooled = Number(stats.n);
    // Whatever a restart finds in the file was committed before the crash: it may be adopted.
    this.durable = Number(stats.last);
    this.taken = 0;
    this.released = 0;
  }

  /** Opens (creating as needed) the spool at `path`. Throws with a message naming the file. */
  static open(path: string, onBroken?: (error: Error) => void): IntakeSpool {
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      db.pragma('busy_timeout = 5000');
      const mode = db.prepare('PRAGMA journal_mode = WAL').all()[0] as { journal_mode?: string } | undefined;
      if (mode?.journal_mode !== 'wal') throw new Error(`the file system does not support WAL mode (journal_mode is ${String(mode?.journal_mode)})`);
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
      // As the store: NORMAL plus an fsync of the WAL after each commit, made off this thread.
      db.pragma('synchronous = NORMAL');
      // Checkpoints too are made off this thread, by the syncing one (measured on a burst of
      // appends: loop delay p99 7.7 ms and max 44 ms with SQLite's own, in COMMIT; 1.9 and 8
      // without). The WAL file is cut back to 16 MiB when it is reused.
      db.pragma('wal_autocheckpoint = 0');
      db.pragma(`journal_size_limit = ${16 * 1024 * 1024}`);
      return new IntakeSpool(db, path, walSync(path, { checkpointEveryMs: 500 }), onBroken);
    } catch (error) {
      db?.close();
      throw new StoreOpenError(path, error instanceof Error ? error.message : String(error));
    }
  }

  /** Deliveries spooled and not yet in the store. */
  get depth(): number {
    return this.spooled;
  }

  /** Spools a run (never keyed: a dedupe key is checked by the store). Resolves once on disk. */
  append(run: NewRun, now: number): Promise<Enqueued> {
    if (this.closed) return Promise.reject(new Error(`the intake spool ${this.path} is closed`));
    const row = JSON.stringify({ workflow: run.workflow, version: run.workflowVersion, trigger: run.trigger, received_at: run.receivedAt, created_at: now, event: run.event });
    this.spooled += 1;
    this.rows.push(run.id, row);
    // Every delivery of a batch goes in one write of multi-row INSERTs: a statement per 64 rows
    // instead of one per row (the driver's per-call cost is most of a small insert).
    this.batch ??= this.writes.submit(this.insertBatch());
    return this.batch.then(
      (last) => {
        // On disk now: from here on, the store may adopt it.
        if (last > this.durable) this.durable = last;
        return { id: run.id, created: true };
      },
      (error: unknown) => {
        this.spooled -= 1;
        throw error;
      },
    );
  }

  /** The write of the batch being gathered: the rows appended until it runs. */
  private insertBatch(): () => number {
    let rows: string[] | undefined;
    return () => {
      // Taken once: the group commit may run a write twice (group-commit.ts).
      if (rows === undefined) {
        rows = this.rows;
        this.rows = [];
        this.batch = undefined;
      }
      let last = 0;
      for (let at = 0; at < rows.length; at += 2 * ROWS_PER_INSERT) {
        const chunk = rows.slice(at, at + 2 * ROWS_PER_INSERT);
        last = Number(this.insertRows(chunk.length / 2).run(chunk).lastInsertRowid);
      }
      return last;
    };
  }

  /** INSERT of `n` rows, prepared once per n. */
  private insertRows(n: number): Statement {
    let statement = this.inserts[n];
    if (statement === undefined) {
      statement = this.db.prepare(`INSERT INTO intake (id, run) VALUES ${Array.from({ length: n }, () => '(?, ?)').join(', ')}`);
      this.inserts[n] = statement;
    }
    return statement;
  }

  /**
   * The oldest durable rows not handed over yet, at most `limit`, and the seq to release once
   * the store has them. One hand-over at a time: `release` or `giveBack` before the next.
   */
  take(limit: number): { rows: SpooledRun[]; upTo: number } {
    const rows = this.oldest.all(this.taken, this.durable, limit) as { seq: number; id: string; run: string }[];
    if (rows.length === 0) return { rows: [], upTo: this.taken };
    const upTo = Number(rows[rows.length - 1]!.seq);
    this.taken = upTo;
    return { rows: rows.map((r) => ({ id: String(r.id), run: String(r.run) })), upTo };
  }

  /** The store has committed and synced every row up to `upTo`: they leave the spool. */
  release(upTo: number, count: number): Promise<void> {
    this.released = upTo;
    this.spooled = Math.max(0, this.spooled - count);
    // Not awaited by anyone: a delete lost to a crash only makes the next start adopt those
    // rows again, which adds nothing.
    return this.writes.submit(() => void this.remove.run(upTo)).catch(() => undefined);
  }

  /** The hand-over failed: the rows taken since the last release are taken again next time. */
  giveBack(): void {
    this.taken = this.released;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.drained();
    await this.wal.close();
    this.db.close();
  }
}

/**
 * A reader's view of the spool beside the store at `storePath`, with the store attached as
 * `store` so that a query can leave out the deliveries already adopted (the moment between the
 * store's commit and the spool's delete). Both are opened read-only. Undefined when there is no
 * spool file (no daemon has spooled there, or a PostgreSQL store).
 */
export function openSpoolView(storePath: string): Database.Database | undefined {
  const path = spoolPathOf(storePath);
  if (!existsSync(path)) return undefined;
  const db = openReadOnlyFile(path, (uri) => new Database(uri));
  try {
    openReadOnlyFile(storePath, (uri) => db.prepare('ATTACH ? AS store').run(uri));
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

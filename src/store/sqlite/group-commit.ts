/**
 * Group commit: writes that arrive in the same turn of the event loop (many webhook intakes,
 * the journal entries of concurrent runs) share one transaction and so one fsync. Each write
 * is a synchronous function run inside that transaction; its promise settles only once the
 * transaction is committed and on disk, so a caller that awaits it may acknowledge durability.
 *
 * On disk: with a `sync` function (the store's fsync of its WAL file, see wal-sync.ts), a
 * transaction's results are held after its COMMIT until a sync that started after that COMMIT
 * has returned. The sync runs off this thread, and the next transaction is written while it is
 * in flight: the writer never waits for the disk, and one sync covers every transaction written
 * before it started (pipelining, as the benchmark's floor does with its appends). Without
 * `sync` (a connection with synchronous=FULL, or in memory), results settle after COMMIT.
 * A failed sync rejects what it was to cover and every write after it: after an fsync error
 * the kernel may have dropped the pages, and a later fsync that succeeds proves nothing.
 *
 * Each write that throws (a lost lease, a bug) is rolled back alone and only its caller is
 * rejected, while the rest of the batch commits. A batch first runs without savepoints (two
 * statements per write saved); if one of its writes throws, the transaction is rolled back and
 * the batch runs again with a SAVEPOINT around each write, so a write must depend on nothing
 * but the database (it may run twice; only the second run's effects and result count).
 * Expected conflicts (a dedupe key seen before) never throw: the SQL handles them with ON
 * CONFLICT. If BEGIN or COMMIT fails (the disk is full, another process holds the lock past
 * busy_timeout), the whole transaction is rolled back and every write in it is rejected.
 */
import type { Database } from 'libsql';

interface Pending<T> {
  readonly write: () => T;
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

/** A committed batch waiting for a sync. */
interface Waiter {
  readonly done: () => void;
  readonly fail: (error: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Batches synchronous writes on one connection into shared transactions. */
export class GroupCommit {
  private queue: Pending<unknown>[] = [];
  private scheduled = false;
  /** Committed, waiting for a sync that has not started yet. */
  private unsynced: Waiter[] = [];
  /** Covered by the sync in flight. */
  private syncing: Waiter[] | undefined;
  /** Set by a failed sync: nothing written since can be shown to be on disk. */
  private broken: Error | undefined;
  private idle: (() => void)[] = [];
  /** Counts since open, for tests and metrics: transactions committed, writes in them, and syncs that covered them. */
  readonly stats = { transactions: 0, writes: 0, syncs: 0 };

  /**
   * `maxBatch` caps how many writes share one transaction (1 gives one transaction per write,
   * for the benchmark's baseline); a larger backlog is committed in several transactions.
   * `sync`, when given, makes everything committed before it was called durable; `onBroken`
   * is told, once, when a sync fails and the store can take no more writes.
   */
  constructor(
    private readonly db: Database,
    private readonly maxBatch = 1000,
    private readonly sync?: () => Promise<void>,
    private readonly onBroken?: (error: Error) => void,
    /**
     * With `sync`: writes that arrive while a sync is in flight wait for it to return, then
     * commit together and go to disk with the next sync (as the benchmark's floor batches its
     * appends). Their results come no later: they could not be released before that next sync
     * anyway. Fewer, larger transactions cost less per write (a COMMIT writes whole pages); the
     * price is that a read sees them a sync later, so it suits a store nobody reads meanwhile
     * (the intake spool), not the run store.
     */
    private readonly holdWhileSyncing = false,
  ) {}

  /** Runs `write` in the next batch; resolves with its result once the batch is committed and on disk. */
  submit<T>(write: () => T): Promise<T> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve, reject } as Pending<unknown>);
      if (!this.scheduled && !(this.holdWhileSyncing && this.syncing !== undefined)) {
        this.scheduled = true;
        // setImmediate, not a microtask: it lets every caller of this turn (and the I/O
        // callbacks that are ready) queue its write before the transaction starts.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves once every write submitted so far has been committed and synced, or rejected. */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private isIdle(): boolean {
    return !this.scheduled && this.queue.length === 0 && this.unsynced.length === 0 && this.syncing === undefined;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }

  private flush(): void {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      const outcomes = this.commit(batch);
      if (outcomes === undefined) continue;
      const settle: Waiter = {
        done: () => batch.forEach((p, i) => {
          const o = outcomes[i]!;
          if (o.ok) p.resolve(o.value);
          else p.reject(o.error);
        }),
        fail: (error) => batch.forEach((p) => p.reject(error)),
      };
      if (this.sync && this.broken) settle.fail(this.broken);
      else if (this.sync) this.unsynced.push(settle);
      else settle.done();
    }
    this.scheduled = false;
    this.startSync();
    this.checkIdle();
  }

  private startSync(): void {
    if (!this.sync || this.syncing !== undefined || this.unsynced.length === 0) return;
    const group = this.unsynced;
    this.unsynced = [];
    this.syncing = group;
    this.sync().then(
      () => {
        this.syncing = undefined;
        this.stats.syncs += 1;
        for (const w of group) w.done();
      },
      (error: unknown) => {
        this.syncing = undefined;
        this.broken = new Error(
          `the state database could not be flushed to disk (${error instanceof Error ? error.message : String(error)}): ` +
          'what was written since the last flush may be lost, and nothing more is stored until flux is restarted',
        );
        const stranded = [...group, ...this.unsynced];
        this.unsynced = [];
        for (const w of stranded) w.fail(this.broken);
        for (const p of this.queue.splice(0)) p.reject(this.broken);
        this.onBroken?.(this.broken);
      },
    ).finally(() => {
      if (this.holdWhileSyncing && this.queue.length > 0) {
        if (!this.scheduled) this.flush();
        return;
      }
      this.startSync();
      this.checkIdle();
    });
  }

  /** Runs one batch in one transaction; the outcome of each write, or undefined if all were rejected. */
  private commit(batch: Pending<unknown>[]): Outcome[] | undefined {
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const p of batch) p.reject(error);
      return undefined;
    }
    try {
      let outcomes = this.runAll(batch);
      if (outcomes === undefined) {
        // A write threw after others had written: start again, each write in its own savepoint.
        this.db.exec('ROLLBACK');
        this.db.exec('BEGIN IMMEDIATE');
        outcomes = this.runEachAlone(batch);
      }
      this.db.exec('COMMIT');
      this.stats.transactions += 1;
      this.stats.writes += batch.length;
      return outcomes;
    } catch (error) {
      // The transaction as a whole failed: nothing in it is durable, so nobody is told it is.
      if (this.db.inTransaction) {
        try {
          this.db.exec('ROLLBACK');
        } catch {
          // SQLite already rolled back (it does on some I/O errors); nothing is left to undo.
        }
      }
      for (const p of batch) p.reject(error);
      return undefined;
    }
  }

  /** Every write, no savepoints: their outcomes, or undefined as soon as one throws. */
  private runAll(batch: Pending<unknown>[]): Outcome[] | undefined {
    const outcomes: Outcome[] = [];
    for (const p of batch) {
      try {
        outcomes.push({ ok: true, value: p.write() });
      } catch {
        return undefined;
      }
    }
    return outcomes;
  }

  private runEachAlone(batch: Pending<unknown>[]): Outcome[] {
    const outcomes: Outcome[] = [];
    for (const p of batch) {
      this.db.exec('SAVEPOINT write');
      try {
        outcomes.push({ ok: true, value: p.write() });
        this.db.exec('RELEASE write');
      } catch (error) {
        this.db.exec('ROLLBACK TO write');
        this.db.exec('RELEASE write');
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }
}

/**
 * Group commit: writes that arrive in the same turn of the event loop (many webhook intakes,
 * the journal entries of concurrent runs) share one transaction and so one fsync. Each write
 * is a synchronous function run inside that transaction; its promise settles only after the
 * COMMIT returned, so a caller that awaits it may acknowledge durability.
 *
 * Each write runs inside its own SAVEPOINT: one that throws (a lost lease, a bug) is rolled
 * back alone and only its caller is rejected, while the rest of the batch commits. Expected
 * conflicts (a dedupe key seen before) never throw: the SQL handles them with ON CONFLICT. If
 * BEGIN or COMMIT fails (the disk is full, another process holds the lock past busy_timeout),
 * the whole transaction is rolled back and every write in it is rejected with that error.
 */
import type { Database } from 'libsql';

interface Pending<T> {
  readonly write: () => T;
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

/** Batches synchronous writes on one connection into shared transactions. */
export class GroupCommit {
  private queue: Pending<unknown>[] = [];
  private scheduled = false;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: () => void = () => {};
  /** Counts since open, for tests and metrics: transactions committed and writes in them. */
  readonly stats = { transactions: 0, writes: 0 };

  /**
   * `maxBatch` caps how many writes share one transaction (1 gives one transaction per write,
   * for the benchmark's baseline); a larger backlog is committed in several transactions.
   */
  constructor(private readonly db: Database, private readonly maxBatch = 1000) {}

  /** Runs `write` in the next batch; resolves with its result once the batch is committed. */
  submit<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve, reject } as Pending<unknown>);
      if (!this.scheduled) {
        this.scheduled = true;
        this.idle = new Promise<void>((done) => (this.markIdle = done));
        // setImmediate, not a microtask: it lets every caller of this turn (and the I/O
        // callbacks that are ready) queue its write before the transaction starts.
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves once every write submitted so far has been committed or rejected. */
  drained(): Promise<void> {
    return this.idle;
  }

  private flush(): void {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.commit(batch);
    }
    this.scheduled = false;
    this.markIdle();
  }

  private commit(batch: Pending<unknown>[]): void {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
    try {
      this.db.exec('BEGIN IMMEDIATE');
    } catch (error) {
      for (const p of batch) p.reject(error);
      return;
    }
    try {
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
      this.db.exec('COMMIT');
      this.stats.transactions += 1;
      this.stats.writes += batch.length;
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
      return;
    }
    batch.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.error);
    });
  }
}

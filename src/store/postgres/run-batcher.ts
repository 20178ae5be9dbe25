/**
 * Group commit for PostgreSQL intake: the unkeyed runs enqueued while a batch is on its way to
 * the server go together in the next one, a single INSERT of many rows, so one commit (one WAL
 * flush) covers them all, as the SQLite store's group commit does. Each caller's promise settles
 * once its row is committed: a webhook is still acknowledged only when its run is durable.
 *
 * At most `maxInFlight` batches are on their way at once (the pool serves other work too), and
 * a batch holds at most `maxBatch` rows. A batch that fails is tried again row by row, so one
 * bad row (its workflow version unknown, say) fails its own caller and no other.
 */
/** A statement's named parameters. */
type Params = Readonly<Record<string, unknown>>;

interface Pending {
  readonly row: Params;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class RunBatcher {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];

  constructor(
    private readonly insertMany: (rows: readonly Params[]) => Promise<void>,
    private readonly insertOne: (row: Params) => Promise<void>,
    private readonly maxBatch = 500,
    private readonly maxInFlight = 2,
  ) {}

  /** Resolves once `row` is committed. */
  submit(row: Params): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every row submitted so far is committed or rejected. */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // Next turn of the loop: every intake of this turn joins the batch.
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        if (this.queue.length > 0) this.schedule();
        else if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    if (batch.length === 1) {
      const [only] = batch;
      await this.insertOne(only!.row).then(only!.resolve, only!.reject);
      return;
    }
    try {
      await this.insertMany(batch.map((p) => p.row));
      for (const p of batch) p.resolve();
    } catch {
      // Nothing of the batch was written (one statement); each row alone says whose it was.
      await Promise.all(batch.map((p) => this.insertOne(p.row).then(p.resolve, p.reject)));
    }
  }
}

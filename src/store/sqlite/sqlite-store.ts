/**
 * The embedded store: one SQLite file in the state directory (`.flux/flux.db`), in WAL mode
 * and a busy timeout (another process holding the write lock is waited for, not failed on).
 * Every commit is fsynced before anyone is told of it: SQLite runs with `synchronous=NORMAL`
 * and the store makes the fsync that `FULL` would make inside each COMMIT itself, off the
 * writing thread, before it releases the results (wal-sync.ts). Writes go through a group
 * commit (group-commit.ts); reads run directly on the connection, between transactions, and
 * so see exactly what was committed.
 *
 * The driver is libsql (better-sqlite3's synchronous API, prebuilt for Node 20 to 24). Rows
 * are always read with `.all()`: in libsql 0.5, `.get()` adds a `_metadata` field, and a
 * RETURNING statement run with `.run()` or `.get()` stays open and blocks the next COMMIT.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import type { ErrorInfo } from '../run-log.js';
import {
  LeaseLostError, type AnswerOutcome, type ApprovalAnswer, type CancelOutcome, type ClaimedRun, type ClaimReason, type Delivered, type Delivery, type Enqueued, type EventRow, type FinalState,
  type FireOutcome, type JournalEntry, type LeaseState, type NewEvent, type NewRun, type Overlap, type SpooledRun, type Recorded, type RunCount, type RunFilter, type RunRow, type RunState,
  type Store, type WaitingFor, type WorkflowLimit, type WorkflowVersion,
} from '../store.js';
import { DEFAULT_MAX_SEEN_KEYS, PollLeaseLostError, type AckOutcome, type EscalationCount, type EscalationRow, type NewEscalation, type PollClaim, type PolledKey, type PollState, type RetryOutcome } from '../store.js';
import { LimitSlots } from '../limit-slots.js';
import { GroupCommit } from './group-commit.js';
import { walSync, type WalSync } from './wal-sync.js';
import { checkSchema, migrate } from './migrate.js';
import { openSpoolView, SPOOLED_RUNS, spoolPathOf } from './intake-spool.js';
import { StoreOpenError } from './open-error.js';
import { openReadOnlyFile } from './read-only.js';
import { SQL } from './queries.js';
import { isoOrNull, isoTime, toApprovalAnswer, toEscalation, toEvent, toJournalEntry, toJson, toPollState, toRun, toWorkflowVersion, type SqlRow } from './rows.js';

/** How to open the store. */
export interface SqliteStoreOptions {
  /** The database file, e.g. `.flux/flux.db`; its directory is created. */
  readonly path: string;
  /** The clock, read only to stamp applied migrations. */
  readonly now: () => number;
  /** How long to wait for another process's write lock before a write fails (default 5 s). */
  readonly busyTimeoutMs?: number;
  /** At most this many writes per transaction (default 1000; 1 turns group commit off). */
  readonly maxBatch?: number;
  /**
   * Told once if an fsync of the WAL fails: from then on every write and read is refused (the
   * kernel may have dropped what it could not write), until the process opens the store again.
   */
  readonly onBroken?: (error: Error) => void;
  /**
   * Open for reading only (`flux runs`): the file must exist with the current schema; nothing
   * is created, migrated or written, so it needs no write access and never takes the write
   * lock (in WAL mode a reader does not hold up the daemon's writes).
   */
  readonly readOnly?: boolean;
}

export { StoreOpenError };

type Statement = ReturnType<Database.Database['prepare']>;
type Params = Record<string, unknown>;

/** Opens (creating and migrating as needed) the SQLite store at `options.path`. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  if (options.readOnly) return withSpool(openReadOnly(options));
  let db: Database.Database;
  try {
    mkdirSync(dirname(options.path), { recursive: true });
    db = new Database(options.path);
  } catch (error) {
    throw new StoreOpenError(options.path, error instanceof Error ? error.message : String(error));
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    const mode = db.prepare('PRAGMA journal_mode = WAL').all()[0] as SqlRow | undefined;
    // WAL is what lets readers run beside the writer and makes a commit one append + fsync;
    // SQLite falls back silently where it cannot have it (some network file systems).
    if (mode?.journal_mode !== 'wal') throw new Error(`the file system does not support WAL mode (journal_mode is ${String(mode?.journal_mode)}); put the state directory on a local disk`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, options.now());
    // From here, NORMAL plus the store's own fsync of the WAL after each commit (wal-sync.ts):
    // the same syncs as FULL, with the commit's fsync moved off the writing thread. (The
    // migrations above were committed with FULL: open returns only once they are on disk.)
    db.pragma('synchronous = NORMAL');
  } catch (error) {
    db.close();
    throw new StoreOpenError(options.path, error instanceof Error ? error.message : String(error));
  }
  return withSpool(new SqliteStore(db, options.path, options.maxBatch, false, options.onBroken));
}

/** The store, once the intake spool beside it (if there is one) opened for reading. */
async function withSpool(store: SqliteStore): Promise<SqliteStore> {
  try {
    store.readSpool();
    return store;
  } catch (error) {
    await store.close();
    throw new StoreOpenError(spoolPathOf(store.path), error instanceof Error ? error.message : String(error));
  }
}

/** Opens an existing store for reading: a `mode=ro` connection, checked but never migrated. */
function openReadOnly(options: SqliteStoreOptions): SqliteStore {
  if (!existsSync(options.path)) throw new StoreOpenError(options.path, 'no such file');
  return openReadOnlyFile(options.path, (uri) => connectReadOnly(options, uri));
}

function connectReadOnly(options: SqliteStoreOptions, uri: string): SqliteStore {
  let db: Database.Database;
  try {
    db = new Database(uri);
  } catch (error) {
    throw new StoreOpenError(options.path, error instanceof Error ? error.message : String(error));
  }
  try {
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
    checkSchema(db);
    return new SqliteStore(db, options.path, options.maxBatch, true);
  } catch (error) {
    db.close();
    throw new StoreOpenError(options.path, error instanceof Error ? error.message : String(error));
  }
}

/** The SQLite implementation of Store. Create it with `openSqliteStore`. */
export class SqliteStore implements Store {
  private readonly writes: GroupCommit;
  private readonly wal: WalSync | undefined;
  private readonly statements = new Map<keyof typeof SQL, Statement>();
  private closed = false;
  /** The intake spool beside this file, read-only, once it exists (intake-spool.ts). */
  private spool: Database.Database | undefined;
  /** Its statements, prepared on first use. */
  private readonly spoolStatements = new Map<string, Statement>();

  /** Use `openSqliteStore`, which configures and migrates the connection first. */
  constructor(private readonly db: Database.Database, readonly path: string, maxBatch?: number, readonly readOnly = false, onBroken?: (error: Error) => void) {
    this.wal = readOnly ? undefined : walSync(path);
    this.writes = new GroupCommit(db, maxBatch, this.wal?.sync, onBroken);
    for (const name of Object.keys(SQL) as (keyof typeof SQL)[]) this.statements.set(name, db.prepare(SQL[name]));
  }

  /**
   * Transactions committed, writes in them and WAL syncs that covered them, since open: writes
   * / transactions is the batching; a sync covers every transaction committed while the one
   * before it was in flight.
   */
  get writeStats(): { readonly transactions: number; readonly writes: number; readonly syncs: number } {
    return { ...this.writes.stats };
  }

  private all(name: keyof typeof SQL, params: Params): SqlRow[] {
    return this.statement(name).all(params) as SqlRow[];
  }

  private run(name: keyof typeof SQL, params: Params): number {
    return this.statement(name).run(params).changes;
  }

  private statement(name: keyof typeof SQL): Statement {
    return this.statements.get(name)!;
  }

  /** Queues a write for the next group commit. */
  private write<T>(work: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`the state database ${this.path} is closed`));
    if (this.readOnly) return Promise.reject(new Error(`the state database ${this.path} is open for reading only`));
    return this.writes.submit(work);
  }

  /**
   * Runs a read now (reads see every committed write). It may see a commit whose sync is still
   * in flight, and need not wait for it: nothing is acknowledged on a read alone. Every
   * acknowledgment (a 202, a claim before a step runs, a journal entry) is a write's, released
   * only after a sync that covers it and every commit before it.
   */
  private async read<T>(work: () => T): Promise<T> {
    if (this.closed) throw new Error(`the state database ${this.path} is closed`);
    return work();
  }

  enqueueRun(run: NewRun, now: number): Promise<Enqueued> {
    if (run.key?.kind === 'fire' && run.scheduledFor === undefined) {
      return Promise.reject(new TypeError(`a schedule fire of ${run.workflow} needs scheduledFor`));
    }
    return this.write(() => this.insertRun(run, now));
  }

  async adoptRuns(runs: readonly SpooledRun[]): Promise<{ unreadable: { id: string; reason: string }[] }> {
    // A write each, committed together: a damaged row fails alone (group-commit.ts).
    const outcomes = await Promise.allSettled(runs.map((r) => this.write(() => this.statement('adoptRun').run([r.id, r.run]))));
    const unreadable: { id: string; reason: string }[] = [];
    outcomes.forEach((o, i) => {
      if (o.status === 'rejected') unreadable.push({ id: runs[i]!.id, reason: o.reason instanceof Error ? o.reason.message : String(o.reason) });
    });
    // Every write failing the same way is the store's failure (closed, disk full), not the rows'.
    if (unreadable.length === runs.length && runs.length > 0 && outcomes.every((o) => o.status === 'rejected' && !isRowProblem(o.reason))) {
      throw (outcomes[0] as PromiseRejectedResult).reason;
    }
    return { unreadable };
  }

  /** Inside a write: takes the run's key (if any) and inserts the run, or names the key's holder. */
  private insertRun(run: NewRun, now: number): Enqueued {
    if (run.key) {
      const keyParams = { kind: run.key.kind, workflow: run.workflow, key: run.key.key };
      const taken = this.all('takeRunKey', { ...keyParams, id: run.id, now: isoTime(now) });
      if (taken.length === 0) {
        // The key is held, so its run exists: the row is read in the same transaction as the
        // failed insert, under the write lock, so it cannot have changed in between.
        const holder = this.all('runKeyHolder', keyParams)[0];
        return { id: String(holder?.run_id), created: false };
      }
    }
    this.statement('insertRun').run([
      run.id, run.workflow, run.workflowVersion, run.trigger, toJson(run.event), isoTime(run.receivedAt), isoOrNull(run.scheduledFor),
      run.parentRunId ?? null, run.chainDepth ?? 0, isoTime(now),
    ]);
    return { id: run.id, created: true };
  }

  claimRuns(owner: string, limit: number, leaseMs: number, now: number, limits?: ReadonlyMap<string, WorkflowLimit>): Promise<ClaimedRun[]> {
    for (const [workflow, l] of limits ?? []) {
      if (!Number.isInteger(l.max) || l.max < 1) return Promise.reject(new RangeError(`the limit of ${workflow} must be a whole number of at least 1, not ${l.max}`));
    }
    return this.write(() => {
      const params = { owner, now: isoTime(now), until: isoTime(now + leaseMs) };
      this.run('cancelAbandoned', { now: params.now });
      const claimed: ClaimedRun[] = [];
      const push = (rows: SqlRow[], reason: ClaimReason) => {
        // RETURNING gives rows in no set order; run ids (ULIDs) sort by creation.
        const runs = rows.map(toRun).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        for (const run of runs) claimed.push({ run, reason });
      };
      const take = (name: 'claimRescue' | 'claimWake' | 'claimStart', reason: ClaimReason) => {
        if (claimed.length < limit) push(this.all(name, { ...params, limit: limit - claimed.length }), reason);
      };
      take('claimRescue', 'rescue');
      if (!limits || limits.size === 0) {
        take('claimWake', 'wake');
        take('claimStart', 'start');
      } else {
        this.claimLimited(limits, limit, params, claimed, push);
      }
      return claimed;
    });
  }

  /**
   * Inside claimRuns' write: wakes and starts under per-workflow limits. The limited workflows'
   * runs in progress are counted under the write lock, each gets at most its free slots, the
   * other workflows' due runs are picked as usual, and the picks are claimed in order.
   */
  private claimLimited(
    limits: ReadonlyMap<string, WorkflowLimit>, limit: number, params: { owner: string; now: string; until: string }, claimed: ClaimedRun[],
    push: (rows: SqlRow[], reason: ClaimReason) => void,
  ): void {
    const slots = new LimitSlots(limits, this.all('limitedActive', { names: toJson([...limits.keys()]) }));
    // Only limited workflows with runs to wake or start need picking one by one; the others
    // have nothing the usual queries could take.
    const free = (workflow: string): number => slots.free(workflow);
    const gatedWake = slots.gatedWake();
    const wakes: { id: string; at: string }[] = [];
    let room = limit - claimed.length;
    if (room > 0) {
      for (const r of this.all('dueWaitingExcept', { now: params.now, except: toJson(gatedWake), limit: room })) wakes.push({ id: String(r.id), at: String(r.wake_at) });
      for (const w of gatedWake) {
        const n = Math.min(free(w), room);
        if (n > 0) for (const r of this.all('dueWaitingOf', { workflow: w, now: params.now, limit: n })) wakes.push({ id: String(r.id), at: String(r.wake_at) });
      }
      wakes.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : 1));
      const woken = this.all('claimWakeIds', { ...params, ids: toJson(wakes.slice(0, room).map((x) => x.id)) });
      slots.woke(woken);
      push(woken, 'wake');
    }
    room = limit - claimed.length;
    if (room <= 0) return;
    const gatedStart = slots.gatedStart();
    const starts = this.all('dueQueuedExcept', { now: params.now, except: toJson(gatedStart), limit: room }).map((r) => String(r.id));
    for (const w of gatedStart) {
      const n = Math.min(free(w), room);
      if (n > 0) for (const r of this.all('dueQueuedOf', { workflow: w, now: params.now, limit: n })) starts.push(String(r.id));
    }
    starts.sort();
    push(this.all('claimStartIds', { ...params, ids: toJson(starts.slice(0, room)) }), 'start');
  }

  enqueueFires(fires: readonly NewRun[], overlap: Overlap, now: number): Promise<FireOutcome[]> {
    const workflow = fires[0]?.workflow;
    for (const fire of fires) {
      if (fire.key?.kind !== 'fire' || fire.scheduledFor === undefined) return Promise.reject(new TypeError(`a schedule fire of ${fire.workflow} needs a fire key and scheduledFor`));
      if (fire.workflow !== workflow) return Promise.reject(new TypeError(`one batch of fires is of one workflow, not ${workflow} and ${fire.workflow}`));
    }
    return this.write(() => {
      const blocker = overlap === 'skip' && workflow !== undefined ? this.all('activeRunOf', { workflow })[0] : undefined;
      if (blocker) {
        const blockedBy = String(blocker.id);
        return fires.map((fire): FireOutcome => {
          const keyParams = { kind: 'fire', workflow: fire.workflow, key: fire.key!.key };
          // The key is taken for the run in the way: the fire is decided, once.
          if (this.all('takeRunKey', { ...keyParams, id: blockedBy, now: isoTime(now) }).length > 0) return { kind: 'skipped', blockedBy };
          return { kind: 'duplicate', id: String(this.all('runKeyHolder', keyParams)[0]?.run_id) };
        });
      }
      return fires.map((fire): FireOutcome => {
        const enqueued = this.insertRun(fire, now);
        return enqueued.created ? { kind: 'created', id: enqueued.id } : { kind: 'duplicate', id: enqueued.id };
      });
    });
  }

  renewLease(runId: string, owner: string, leaseMs: number, now: number): Promise<LeaseState> {
    return this.write(() => {
      const row = this.all('renewLease', { id: runId, owner, now: isoTime(now), until: isoTime(now + leaseMs) })[0];
      return { held: row !== undefined, cancelRequested: Number(row?.cancel_requested) === 1 };
    });
  }

  recordStep(owner: string, entry: JournalEntry, emits: readonly NewEvent[] = []): Promise<Recorded> {
    return this.write(() => {
      const inserted = this.all('recordStep', {
        run_id: entry.runId, key: entry.key, kind: entry.kind, status: entry.status, output: toJson(entry.output),
        error: entry.error === null ? null : toJson(entry.error), attempt: entry.attempt, started_at: isoTime(entry.startedAt),
        finished_at: isoTime(entry.finishedAt), owner,
      })[0];
      if (inserted) {
        for (const event of emits) this.insertEvent(event);
        return { entry: toJournalEntry(inserted), created: true };
      }
      // Nothing was written: either the key is already recorded, or `owner` lost the run.
      if (this.all('holdsLease', { id: entry.runId, owner }).length === 0) throw new LeaseLostError(entry.runId, owner);
      const existing = this.all('journalEntry', { run_id: entry.runId, key: entry.key })[0]!;
      return { entry: toJournalEntry(existing), created: false };
    });
  }

  journalFor(runId: string): Promise<JournalEntry[]> {
    return this.read(() => this.all('journalFor', { run_id: runId }).map(toJournalEntry));
  }

  setWaiting(runId: string, owner: string, wakeAt: number | null, waitingFor: WaitingFor | null, now: number): Promise<RunState> {
    // A run parked with neither would never be resumed, and nothing would say so.
    if (wakeAt === null && waitingFor === null) return Promise.reject(new TypeError(`run ${runId} cannot wait for nothing: give a wake time, an event or both`));
    return this.write(() => {
      const row = this.all('setWaiting', {
        id: runId, owner, now: isoTime(now), wake_at: isoOrNull(wakeAt), waiting_event: waitingFor?.event ?? null,
        waiting_for: waitingFor ? toJson(waitingFor) : null,
      })[0];
      if (!row) throw new LeaseLostError(runId, owner);
      return String(row.status) as RunState;
    });
  }

  finishRun(runId: string, owner: string, status: FinalState, error: ErrorInfo | null, now: number): Promise<void> {
    return this.write(() => {
      const changed = this.run('finishRun', { id: runId, owner, status, error: error === null ? null : toJson(error), now: isoTime(now) });
      if (changed === 0) throw new LeaseLostError(runId, owner);
    });
  }

  cancelRun(runId: string, now: number): Promise<CancelOutcome> {
    return this.write(() => {
      // A delivery still spooled becomes the run it will be, and is cancelled as a queued run;
      // the daemon's adoption of it later finds the id taken and adds nothing.
      const spooled = this.spooledRun(runId);
      if (spooled) this.statement('adoptRun').run([runId, spooled]);
      const row = this.all('cancelRun', { id: runId, now: isoTime(now) })[0];
      if (row) return row.status === 'running' ? 'requested' : 'cancelled';
      return this.all('getRun', { id: runId }).length > 0 ? 'finished' : 'not-found';
    });
  }

  retryRun(runId: string, newId: string, now: number): Promise<RetryOutcome> {
    return this.write((): RetryOutcome => {
      const params = { id: runId, new_id: newId, now: isoTime(now) };
      if (this.all('insertRetry', params).length > 0) {
        this.run('copyJournal', params);
        return { outcome: 'created', id: newId };
      }
      // Nothing inserted: the run is retried already, is not failed or escalated, or does not exist.
      const holder = this.all('retryHolder', params)[0];
      if (holder) return { outcome: 'exists', id: String(holder.id) };
      const run = this.all('getRun', params)[0];
      return run ? { outcome: 'not-retryable', status: String(run.status) as RunState } : { outcome: 'not-found' };
    });
  }

  getRun(runId: string): Promise<RunRow | undefined> {
    return this.read(() => {
      const row = this.all('getRun', { id: runId })[0] ?? this.spoolStatement(`SELECT * FROM (${SPOOLED_RUNS}) WHERE id = ?`)?.all(runId)[0] as SqlRow | undefined;
      return row ? toRun(row) : undefined;
    });
  }

  listRuns(filter: RunFilter): Promise<RunRow[]> {
    const statuses = filter.status === undefined ? null : typeof filter.status === 'string' ? [filter.status] : filter.status;
    const limit = Math.max(0, Math.floor(filter.limit ?? 100));
    return this.read(() => {
      const stored = this.all('listRuns', {
        workflow: filter.workflow ?? null, statuses: statuses === null ? null : toJson(statuses), since: isoOrNull(filter.since), retry_of: filter.retryOf ?? null, limit,
      }).map(toRun);
      if (filter.retryOf !== undefined || (statuses !== null && !statuses.includes('queued'))) return stored;
      // Spooled deliveries are queued runs too, newer than most: the newest of both, in one order.
      const spooled = this.spoolStatement(`
        SELECT * FROM (${SPOOLED_RUNS}) s
        WHERE (:workflow IS NULL OR workflow = :workflow) AND (:since IS NULL OR created_at >= :since)
          AND NOT EXISTS (SELECT 1 FROM store.runs r WHERE r.id = s.id)
        ORDER BY seq DESC LIMIT :limit`)?.all({ workflow: filter.workflow ?? null, since: isoOrNull(filter.since), limit }) as SqlRow[] | undefined;
      if (spooled === undefined || spooled.length === 0) return stored;
      return [...stored, ...spooled.map(toRun)]
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .slice(0, limit);
    });
  }

  countRuns(): Promise<RunCount[]> {
    return this.read(() => {
      const counts = this.all('countRuns', {}).map((r) => ({ workflow: String(r.workflow), status: String(r.status) as RunCount['status'], count: Number(r.n) }));
      const spooled = this.spoolStatement(`
        SELECT workflow, count(*) AS n FROM (${SPOOLED_RUNS}) s
        WHERE NOT EXISTS (SELECT 1 FROM store.runs r WHERE r.id = s.id) GROUP BY workflow`)?.all({}) as SqlRow[] | undefined;
      if (spooled === undefined || spooled.length === 0) return counts;
      for (const r of spooled) {
        const queued = counts.find((c) => c.workflow === String(r.workflow) && c.status === 'queued');
        if (queued) counts.splice(counts.indexOf(queued), 1, { ...queued, count: queued.count + Number(r.n) });
        else counts.push({ workflow: String(r.workflow), status: 'queued', count: Number(r.n) });
      }
      return counts.sort((a, b) => (a.workflow < b.workflow ? -1 : a.workflow > b.workflow ? 1 : a.status < b.status ? -1 : a.status > b.status ? 1 : 0));
    });
  }

  /** Opens the spool beside this store for reading, if there is one; throws if it cannot. */
  readSpool(): void {
    this.spoolView();
  }

  /** The spool beside this store, opened on first use once it exists. */
  private spoolView(): Database.Database | undefined {
    this.spool ??= openSpoolView(this.path);
    return this.spool;
  }

  /** `sql` on the spool, prepared once; undefined while there is no spool. */
  private spoolStatement(sql: string): Statement | undefined {
    const spool = this.spoolView();
    if (spool === undefined) return undefined;
    let statement = this.spoolStatements.get(sql);
    if (statement === undefined) {
      statement = spool.prepare(sql);
      this.spoolStatements.set(sql, statement);
    }
    return statement;
  }

  /** A spooled delivery not yet adopted, as adoptRun takes it. */
  private spooledRun(runId: string): string | undefined {
    const row = this.spoolStatement('SELECT run FROM intake s WHERE id = ? AND NOT EXISTS (SELECT 1 FROM store.runs r WHERE r.id = s.id)')?.all(runId)[0] as SqlRow | undefined;
    return row === undefined ? undefined : String(row.run);
  }

  waitingOn(eventName: string): Promise<RunRow[]> {
    return this.read(() => this.all('waitingOn', { name: eventName }).map(toRun));
  }

  lastFire(workflow: string): Promise<number | undefined> {
    return this.read(() => {
      const fired = this.all('lastFire', { workflow })[0]?.fired;
      return fired === null || fired === undefined ? undefined : Date.parse(String(fired));
    });
  }

  appendEvent(event: NewEvent): Promise<void> {
    return this.write(() => this.insertEvent(event));
  }

  /** Inside a write: adds an event (once per id). */
  private insertEvent(event: NewEvent): void {
    this.run('appendEvent', {
      id: event.id, name: event.name, data: toJson(event.data), source_run_id: event.sourceRunId ?? null, chain_depth: event.chainDepth ?? 0,
      created_at: isoTime(event.createdAt),
    });
  }

  claimEvents(owner: string, limit: number, leaseMs: number, now: number): Promise<EventRow[]> {
    return this.write(() =>
      this.all('claimEvents', { owner, limit, now: isoTime(now), until: isoTime(now + leaseMs) })
        .map(toEvent)
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)),
    );
  }

  deliverEvent(eventId: string, delivery: Delivery, now: number): Promise<Delivered> {
    return this.write(() => {
      const at = isoTime(now);
      const marked = this.all('markDelivered', { id: eventId, now: at })[0];
      if (!marked) return { delivered: false, woken: [], started: [] };
      const name = String(marked.name);
      const woken: string[] = [];
      for (const w of delivery.wake) {
        const run = this.all('wakeForEvent', { id: w.runId, name, step: w.step, now: at })[0];
        if (!run) continue; // it timed out, was cancelled or was woken by another event first
        this.run('recordDelivery', { run_id: w.runId, key: w.step, output: toJson(w.output), attempt: Number(run.attempt), now: at });
        woken.push(w.runId);
      }
      const started: string[] = [];
      for (const run of delivery.start) {
        const enqueued = this.insertRun(run, now);
        if (enqueued.created) started.push(enqueued.id);
      }
      return { delivered: true, woken, started };
    });
  }

  getEvent(eventId: string): Promise<EventRow | undefined> {
    return this.read(() => {
      const row = this.all('getEvent', { id: eventId })[0];
      return row ? toEvent(row) : undefined;
    });
  }

  putWorkflowVersion(version: WorkflowVersion): Promise<void> {
    return this.write(() => {
      this.run('putWorkflowVersion', { hash: version.hash, name: version.name, text: version.text, created_at: isoTime(version.createdAt) });
    });
  }

  getWorkflowVersion(hash: string): Promise<WorkflowVersion | undefined> {
    return this.read(() => {
      const row = this.all('getWorkflowVersion', { hash })[0];
      return row ? toWorkflowVersion(row) : undefined;
    });
  }

  sharedKey(name: string, offer: string, now: number): Promise<string> {
    return this.write(() => {
      this.run('offerSharedKey', { name, value: offer, now: isoTime(now) });
      return String(this.all('sharedKey', { name })[0]?.value);
    });
  }

  recordAnswer(answer: ApprovalAnswer, requestKey: string, now: number): Promise<AnswerOutcome> {
    return this.write((): AnswerOutcome => {
      const keys = { run_id: answer.runId, step: answer.step, approver: answer.approver };
      const inserted = this.all('recordAnswer', {
        ...keys, choice: answer.choice, inputs: toJson(answer.inputs), answered_at: isoTime(answer.answeredAt), via: answer.via, from_address: answer.from,
        request_key: requestKey, now_ms: now,
      });
      if (inserted.length > 0) {
        this.run('wakeForAnswer', { run_id: answer.runId, now: isoTime(now) });
        return 'recorded';
      }
      if (this.all('answerOf', keys).length > 0) return 'duplicate';
      return this.all('getRun', { id: answer.runId }).length > 0 ? 'closed' : 'not-found';
    });
  }

  approvalAnswers(runId: string): Promise<ApprovalAnswer[]> {
    return this.read(() => this.all('approvalAnswers', { run_id: runId }).map(toApprovalAnswer));
  }

  claimPoll(workflow: string, owner: string, leaseMs: number, now: number): Promise<PollClaim> {
    return this.write((): PollClaim => {
      const row = this.all('claimPoll', { workflow, owner, now: isoTime(now), until: isoTime(now + leaseMs) })[0];
      if (row) return { claimed: true, state: toPollState({ ...row, seen: this.all('pollState', { workflow })[0]?.seen ?? 0 }) };
      // Not due, or leased: ask again when the later of the two comes.
      const held = this.all('pollState', { workflow })[0]!;
      const lease = held.lease_until === null ? 0 : Date.parse(String(held.lease_until));
      return { claimed: false, retryAt: Math.max(Date.parse(String(held.next_poll_at)), lease) };
    });
  }

  completePoll(workflow: string, owner: string, keys: readonly PolledKey[], cursor: unknown, nextPollAt: number, now: number, maxSeen = DEFAULT_MAX_SEEN_KEYS): Promise<string[]> {
    if (!Number.isInteger(maxSeen) || maxSeen < 1) return Promise.reject(new RangeError(`maxSeen must be a whole number of at least 1, not ${maxSeen}`));
    return this.write(() => {
      const at = isoTime(now);
      // The lease first: a daemon that lost it writes nothing.
      if (this.all('pollSucceeded', { workflow, owner, cursor: toJson(cursor), next: isoTime(nextPollAt), now: at }).length === 0) throw new PollLeaseLostError(workflow, owner);
      const started: string[] = [];
      for (const { key, run } of keys) {
        if (this.all('markSeen', { workflow, key, run_id: run?.id ?? null, now: at }).length === 0) {
          this.run('touchSeen', { workflow, key, now: at });
          continue;
        }
        if (run && this.insertRun(run, now).created) started.push(run.id);
      }
      this.run('trimSeen', { workflow, keep: maxSeen });
      return started;
    });
  }

  failPoll(workflow: string, owner: string, error: string, nextPollAt: number, escalateAfter: number, now: number): Promise<{ failures: number; escalate: boolean }> {
    return this.write(() => {
      const at = isoTime(now);
      const row = this.all('pollFailed', { workflow, owner, error, next: isoTime(nextPollAt), now: at })[0];
      if (!row) throw new PollLeaseLostError(workflow, owner);
      const escalate = this.all('pollEscalate', { workflow, after: escalateAfter, now: at }).length > 0;
      return { failures: Number(row.failures), escalate };
    });
  }

  failingPolls(): Promise<PollState[]> {
    return this.read(() => this.all('failingPolls', {}).map(toPollState));
  }

  pollState(workflow: string): Promise<PollState | undefined> {
    return this.read(() => {
      const row = this.all('pollState', { workflow })[0];
      return row ? toPollState(row) : undefined;
    });
  }

  openEscalation(e: NewEscalation): Promise<EscalationRow> {
    return this.write(() => {
      this.run('openEscalation', {
        run_id: e.runId, workflow: e.workflow, workflow_version: e.workflowVersion, owner: e.owner, members: toJson(e.members), error: toJson(e.error),
        escalated_at: isoTime(e.escalatedAt), ack_due_at: isoTime(e.ackDueAt), has_then: e.hasThen ? 1 : 0,
      });
      return toEscalation(this.all('getEscalation', { run_id: e.runId })[0]!);
    });
  }

  getEscalation(runId: string): Promise<EscalationRow | undefined> {
    return this.read(() => {
      const row = this.all('getEscalation', { run_id: runId })[0];
      return row ? toEscalation(row) : undefined;
    });
  }

  escalationsFor(runIds: readonly string[]): Promise<EscalationRow[]> {
    return this.read(() => this.all('escalationsFor', { run_ids: toJson(runIds) }).map(toEscalation));
  }

  ackEscalation(runId: string, by: string, via: string, now: number): Promise<AckOutcome> {
    return this.write((): AckOutcome => {
      const row = this.all('ackEscalation', { run_id: runId, by, via, now: isoTime(now) })[0];
      if (row) return { outcome: 'acked', escalation: toEscalation(row) };
      const existing = this.all('getEscalation', { run_id: runId })[0];
      return existing ? { outcome: 'already', escalation: toEscalation(existing) } : { outcome: 'not-found' };
    });
  }

  claimDueThen(owner: string, limit: number, leaseMs: number, now: number): Promise<EscalationRow[]> {
    return this.write(() =>
      this.all('claimDueThen', { owner, limit, now: isoTime(now), until: isoTime(now + leaseMs) })
        .map(toEscalation)
        .sort((a, b) => (a.thenNextAt ?? 0) - (b.thenNextAt ?? 0) || (a.runId < b.runId ? -1 : 1)),
    );
  }

  finishThen(runId: string, owner: string, outcome: { readonly sent: true } | { readonly sent: false; readonly error: string; readonly retryAt: number }, now: number): Promise<boolean> {
    return this.write(() =>
      outcome.sent
        ? this.run('thenSent', { run_id: runId, owner, now: isoTime(now) }) > 0
        : this.run('thenFailed', { run_id: runId, owner, error: outcome.error, retry_at: isoTime(outcome.retryAt) }) > 0,
    );
  }

  countEscalations(now: number): Promise<EscalationCount[]> {
    return this.read(() =>
      this.all('countEscalations', { now: isoTime(now) }).map((r) => ({ workflow: String(r.workflow), unacknowledged: Number(r.n), overdue: Number(r.overdue) })),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writes.drained();
    await this.wal?.close();
    this.spool?.close();
    this.db.close();
  }
}

/** A write refused for its row (a constraint, unreadable JSON), not for the store. */
function isRowProblem(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_ERROR');
}

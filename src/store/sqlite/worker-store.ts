/**
 * The SQLite store run in a worker thread, for the daemon. The libsql driver is synchronous:
 * on the main thread every statement, and every COMMIT's fsync (the largest share of a busy
 * daemon's time), stops the event loop, and with it HTTP intake and cron timers. Here the main
 * thread only forwards each call (method name and structured-clonable arguments) to a worker
 * (store-worker.ts) that owns an unchanged SqliteStore, and resolves with its answer.
 *
 * What stays as it was: the Store interface and every rule of store.ts (a write resolves once
 * committed and fsynced); calls reach the store in the order they were made; calls made
 * together still share one group commit (they are sent once per turn of the loop, and the
 * worker starts each without awaiting the one before); errors keep their class
 * (store-messages.ts). What is new: if the worker dies, every call in flight and every later
 * call rejects with an error that says so (the claim loop's failure then turns /healthz red).
 */
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type {
  AnswerOutcome, ApprovalAnswer, CancelOutcome, ClaimedRun, Delivered, Delivery, Enqueued, EventRow, FinalState, FireOutcome, JournalEntry, LeaseState,
  NewEvent, NewRun, Overlap, SpooledRun, PollClaim, PolledKey, PollState, Recorded, RetryOutcome, RunCount, RunFilter, RunRow, RunState, Store, WaitingFor,
  WorkflowLimit, WorkflowVersion,
} from '../store.js';
import type { AckOutcome, EscalationCount, EscalationRow, NewEscalation } from '../store.js';
import type { ErrorInfo } from '../run-log.js';
import type { SqliteStoreOptions } from './sqlite-store.js';
import { fromWire, type Call, type Reply, type StoreMethod, type WorkerMessage, type WorkerOpen } from './store-messages.js';

/** How to open the store: as SqliteStoreOptions, and where the worker's entry file is. */
export interface WorkerStoreOptions extends SqliteStoreOptions {
  /** The built store-worker.js (default: beside this file; from source, the one in dist/). */
  readonly workerUrl?: URL;
}

/** The worker's entry file. */
export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  // Built, store-worker.js is beside this file. Run from source (vitest imports src/*.ts), the
  // built one is used: a worker thread is not transformed, and Node 20 cannot run TypeScript.
  return here.endsWith('.ts') ? new URL('../../../dist/store/sqlite/store-worker.js', here) : new URL('./store-worker.js', here);
}

/**
 * Starts the worker and opens (creating and migrating as needed) the store at `options.path`.
 * Rejects as openSqliteStore does: a StoreOpenError with the same message.
 */
export function openWorkerStore(options: WorkerStoreOptions): Promise<WorkerStore> {
  const url = options.workerUrl ?? defaultWorkerUrl();
  const data: WorkerOpen = {
    path: options.path, migratedAt: options.now(),
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
    ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
    ...(options.readOnly !== undefined ? { readOnly: options.readOnly } : {}),
  };
  return new Promise<WorkerStore>((resolve, reject) => {
    let worker: Worker;
    try {
      worker = new Worker(url, { workerData: data });
    } catch (error) {
      reject(new Error(`cannot start the state database worker ${fileURLToPath(url)}: ${error instanceof Error ? error.message : String(error)}`));
      return;
    }
    let failure: Error | undefined;
    const onMessage = (message: WorkerMessage) => {
      if (message.kind === 'ready') {
        stopListening();
        resolve(new WorkerStore(worker, options.path));
      } else if (message.kind === 'open-failed') {
        // Rejected once the thread has ended, so it holds no file open when the caller goes on.
        failure = fromWire(message.error);
      }
    };
    const onError = (error: Error) => {
      failure ??= new Error(`cannot start the state database worker ${fileURLToPath(url)}: ${error.message}`);
    };
    const onExit = (code: number) => {
      stopListening();
      reject(failure ?? new Error(`the state database worker ${fileURLToPath(url)} exited (code ${code}) before it opened ${options.path}`));
    };
    const stopListening = () => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

interface Waiting {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** A Store whose SQLite connection lives in a worker thread. Create it with `openWorkerStore`. */
export class WorkerStore implements Store {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();
  private outbox: Call[] = [];
  private scheduled = false;
  /** Set once the store cannot take calls: closed, or its worker died. */
  private unusable: Error | undefined;
  private closing: Promise<void> | undefined;
  private crash: Error | undefined;
  private readonly exited: Promise<number>;
  private died!: (error: Error) => void;
  /**
   * Resolves with the reason if the worker stops without being closed: nothing can be stored
   * any more, and the daemon exits so that its service manager restarts it.
   */
  readonly dead: Promise<Error> = new Promise((resolve) => (this.died = resolve));

  /** Use `openWorkerStore`, which starts the worker and waits until the store is open. */
  constructor(private readonly worker: Worker, readonly path: string) {
    worker.on('message', (message: WorkerMessage) => {
      if (message.kind === 'replies') for (const r of message.replies) this.settle(r);
    });
    worker.on('error', (error: Error) => (this.crash = error));
    this.exited = new Promise((resolve) => worker.on('exit', (code: number) => {
      this.stopped(code);
      resolve(code);
    }));
    // Only calls in flight keep the process alive, as a synchronous connection would not at all.
    worker.unref();
  }

  /** Transactions committed, writes in them and syncs since open (as SqliteStore.writeStats). */
  writeStats(): Promise<{ readonly transactions: number; readonly writes: number; readonly syncs: number }> {
    return this.send('stats', []) as Promise<{ transactions: number; writes: number; syncs: number }>;
  }

  private call<K extends StoreMethod>(method: K, args: Parameters<NonNullable<Store[K]>>): ReturnType<NonNullable<Store[K]>> {
    return this.send(method, args) as ReturnType<NonNullable<Store[K]>>;
  }

  private send(method: Call['method'], args: readonly unknown[]): Promise<unknown> {
    if (this.unusable) return Promise.reject(this.unusable);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.worker.ref();
      this.outbox.push({ id, method, args } as Call);
      if (!this.scheduled) {
        this.scheduled = true;
        // Once per turn, like the group commit: every call of this turn travels in one message.
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const calls = this.outbox;
    this.outbox = [];
    if (calls.length === 0) return;
    try {
      this.worker.postMessage(calls);
    } catch {
      // Some call's arguments cannot be cloned (a function, a symbol): send them one by one,
      // in order, so that only that call fails.
      for (const call of calls) {
        try {
          this.worker.postMessage([call]);
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          this.fail(call.id, new TypeError(`${call.method}: its arguments cannot be sent to the state database worker: ${reason}`));
        }
      }
    }
  }

  private settle(reply: Reply): void {
    if (reply.ok) this.take(reply.id)?.resolve(reply.value);
    else this.fail(reply.id, fromWire(reply.error));
  }

  private fail(id: number, error: Error): void {
    this.take(id)?.reject(error);
  }

  private take(id: number): Waiting | undefined {
    const w = this.waiting.get(id);
    if (w === undefined) return undefined;
    this.waiting.delete(id);
    if (this.waiting.size === 0 && this.closing === undefined) this.worker.unref();
    return w;
  }

  /** The worker ended: after close, as asked; otherwise it died, and nothing can be stored any more. */
  private stopped(code: number): void {
    const error = this.closing !== undefined
      ? new Error(`the state database ${this.path} is closed`)
      : new Error(
        `the state database worker for ${this.path} stopped (${this.crash ? this.crash.message : `exit code ${code}`}): ` +
        'writes in flight may or may not be stored, and nothing more can be until flux is restarted',
      );
    this.unusable ??= error;
    if (this.closing === undefined) this.died(error);
    this.outbox = [];
    for (const id of [...this.waiting.keys()]) this.fail(id, this.unusable);
  }

  enqueueRun(run: NewRun, now: number): Promise<Enqueued> {
    return this.call('enqueueRun', [run, now]);
  }

  adoptRuns(runs: readonly SpooledRun[]): Promise<{ readonly unreadable: readonly { readonly id: string; readonly reason: string }[] }> {
    return this.call('adoptRuns', [runs]);
  }

  claimRuns(owner: string, limit: number, leaseMs: number, now: number, limits?: ReadonlyMap<string, WorkflowLimit>): Promise<ClaimedRun[]> {
    return this.call('claimRuns', limits === undefined ? [owner, limit, leaseMs, now] : [owner, limit, leaseMs, now, limits]);
  }

  renewLease(runId: string, owner: string, leaseMs: number, now: number): Promise<LeaseState> {
    return this.call('renewLease', [runId, owner, leaseMs, now]);
  }

  recordStep(owner: string, entry: JournalEntry, emits?: readonly NewEvent[]): Promise<Recorded> {
    return this.call('recordStep', emits === undefined ? [owner, entry] : [owner, entry, emits]);
  }

  journalFor(runId: string): Promise<JournalEntry[]> {
    return this.call('journalFor', [runId]);
  }

  setWaiting(runId: string, owner: string, wakeAt: number | null, waitingFor: WaitingFor | null, now: number): Promise<RunState> {
    return this.call('setWaiting', [runId, owner, wakeAt, waitingFor, now]);
  }

  finishRun(runId: string, owner: string, status: FinalState, error: ErrorInfo | null, now: number): Promise<void> {
    return this.call('finishRun', [runId, owner, status, error, now]);
  }

  cancelRun(runId: string, now: number): Promise<CancelOutcome> {
    return this.call('cancelRun', [runId, now]);
  }

  retryRun(runId: string, newId: string, now: number): Promise<RetryOutcome> {
    return this.call('retryRun', [runId, newId, now]);
  }

  getRun(runId: string): Promise<RunRow | undefined> {
    return this.call('getRun', [runId]);
  }

  listRuns(filter: RunFilter): Promise<RunRow[]> {
    return this.call('listRuns', [filter]);
  }

  countRuns(): Promise<RunCount[]> {
    return this.call('countRuns', []);
  }

  waitingOn(eventName: string): Promise<RunRow[]> {
    return this.call('waitingOn', [eventName]);
  }

  enqueueFires(fires: readonly NewRun[], overlap: Overlap, now: number): Promise<FireOutcome[]> {
    return this.call('enqueueFires', [fires, overlap, now]);
  }

  lastFire(workflow: string): Promise<number | undefined> {
    return this.call('lastFire', [workflow]);
  }

  appendEvent(event: NewEvent): Promise<void> {
    return this.call('appendEvent', [event]);
  }

  claimEvents(owner: string, limit: number, leaseMs: number, now: number): Promise<EventRow[]> {
    return this.call('claimEvents', [owner, limit, leaseMs, now]);
  }

  deliverEvent(eventId: string, delivery: Delivery, now: number): Promise<Delivered> {
    return this.call('deliverEvent', [eventId, delivery, now]);
  }

  getEvent(eventId: string): Promise<EventRow | undefined> {
    return this.call('getEvent', [eventId]);
  }

  putWorkflowVersion(version: WorkflowVersion): Promise<void> {
    return this.call('putWorkflowVersion', [version]);
  }

  getWorkflowVersion(hash: string): Promise<WorkflowVersion | undefined> {
    return this.call('getWorkflowVersion', [hash]);
  }

  sharedKey(name: string, offer: string, now: number): Promise<string> {
    return this.call('sharedKey', [name, offer, now]);
  }

  recordAnswer(answer: ApprovalAnswer, requestKey: string, now: number): Promise<AnswerOutcome> {
    return this.call('recordAnswer', [answer, requestKey, now]);
  }

  approvalAnswers(runId: string): Promise<ApprovalAnswer[]> {
    return this.call('approvalAnswers', [runId]);
  }

  claimPoll(workflow: string, owner: string, leaseMs: number, now: number): Promise<PollClaim> {
    return this.call('claimPoll', [workflow, owner, leaseMs, now]);
  }

  completePoll(workflow: string, owner: string, keys: readonly PolledKey[], cursor: unknown, nextPollAt: number, now: number, maxSeen?: number): Promise<string[]> {
    return this.call('completePoll', maxSeen === undefined ? [workflow, owner, keys, cursor, nextPollAt, now] : [workflow, owner, keys, cursor, nextPollAt, now, maxSeen]);
  }

  failPoll(workflow: string, owner: string, error: string, nextPollAt: number, escalateAfter: number, now: number): Promise<{ failures: number; escalate: boolean }> {
    return this.call('failPoll', [workflow, owner, error, nextPollAt, escalateAfter, now]);
  }

  failingPolls(): Promise<PollState[]> {
    return this.call('failingPolls', []);
  }

  pollState(workflow: string): Promise<PollState | undefined> {
    return this.call('pollState', [workflow]);
  }

  openEscalation(escalation: NewEscalation): Promise<EscalationRow> {
    return this.call('openEscalation', [escalation]);
  }

  getEscalation(runId: string): Promise<EscalationRow | undefined> {
    return this.call('getEscalation', [runId]);
  }

  escalationsFor(runIds: readonly string[]): Promise<EscalationRow[]> {
    return this.call('escalationsFor', [runIds]);
  }

  ackEscalation(runId: string, by: string, via: string, now: number): Promise<AckOutcome> {
    return this.call('ackEscalation', [runId, by, via, now]);
  }

  claimDueThen(owner: string, limit: number, leaseMs: number, now: number): Promise<EscalationRow[]> {
    return this.call('claimDueThen', [owner, limit, leaseMs, now]);
  }

  finishThen(runId: string, owner: string, outcome: { readonly sent: true } | { readonly sent: false; readonly error: string; readonly retryAt: number }, now: number): Promise<boolean> {
    return this.call('finishThen', [runId, owner, outcome, now]);
  }

  countEscalations(now: number): Promise<EscalationCount[]> {
    return this.call('countEscalations', [now]);
  }

  /** Commits what is pending (every call made before it), closes the database and ends the worker. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    // A worker that died has nothing left to commit: its calls were rejected when it did.
    if (this.unusable) return Promise.resolve();
    const closed = this.send('close', []);
    this.closing = closed.then(async () => {
      await this.exited;
    });
    this.worker.ref();
    this.unusable = new Error(`the state database ${this.path} is closed`);
    return this.closing;
  }
}

/**
 * The shared store: PostgreSQL, for several daemons on one database (issue 11). Each store is
 * a bounded `pg.Pool` in its own schema. Every write is one transaction, committed (and so
 * durable, with PostgreSQL's default synchronous_commit) before its promise resolves; reads run
 * on any pooled connection and see what was committed. Claims pick rows with FOR UPDATE SKIP
 * LOCKED, and every other race is a conditional UPDATE or a UNIQUE row (queries.ts), so any
 * number of daemons hand out each run, fire, event, answer and acknowledgement once.
 */
import type pg from 'pg';
import { LimitSlots } from '../limit-slots.js';
import type { ErrorInfo } from '../run-log.js';
import {
  DEFAULT_MAX_SEEN_KEYS, LeaseLostError, PollLeaseLostError, type AckOutcome, type AnswerOutcome, type ApprovalAnswer, type CancelOutcome, type ClaimedRun,
  type ClaimReason, type Delivered, type Delivery, type Enqueued, type EscalationCount, type EscalationRow, type EventRow, type FinalState, type FireOutcome,
  type JournalEntry, type LeaseState, type NewEscalation, type NewEvent, type NewRun, type Overlap, type PollClaim, type PolledKey, type PollState,
  type Recorded, type RetryOutcome, type RunCount, type RunFilter, type RunRow, type RunState, type Store, type StoreTopic, type WaitingFor, type WorkflowLimit,
  type WorkflowVersion,
} from '../store.js';
import { createPool, describePgError, type PostgresConnectOptions } from './connection.js';
import { channelOf, NotifyListener, NotifySender } from './notifier.js';
import { RunBatcher } from './run-batcher.js';
import { parseStoreUrl, PostgresOpenError, type StoreUrl } from './url.js';
import { checkStatus, migrate, readStatus, type SchemaStatus } from './migrate.js';
import type { Migration } from './migrations.js';
import { CANCELLED_ERROR, STATEMENTS, type QueryName } from './queries.js';
import { int, intOrNull, toApprovalAnswer, toEscalation, toEvent, toJournalEntry, toJson, toPollState, toRun, toWorkflowVersion, type PgRow } from './rows.js';

/** How to open the store. */
export interface PostgresStoreOptions extends PostgresConnectOptions {
  /** The clock, read only to stamp applied migrations. */
  readonly now: () => number;
}

type Params = Record<string, unknown>;
/** Runs a named statement on one connection (a transaction's) or the pool. */
type Run = (name: QueryName, params: Params) => Promise<PgRow[]>;

const CANCELLED = toJson(CANCELLED_ERROR);
/** Deadlock and serialization failures: the transaction did nothing and may simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Opens the store at `options.url`: connects, migrates the schema (creating it) unless
 * read-only, and checks it. Rejects with PostgresOpenError, whose message has no password.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const url = parseStoreUrl(options.url, options.schema);
  const pool = createPool(url, options);
  try {
    await withClient(pool, async (client) => {
      if (options.readOnly) checkStatus(await readStatus(client));
      else await migrate(client, url.schema, options.now());
    });
  } catch (error) {
    await pool.end().catch(() => {});
    throw new PostgresOpenError(url.shown, describePgError(error, url));
  }
  return new PostgresStore(pool, url);
}

/**
 * `flux store migrate`: applies what the schema lacks (creating it) and says what was applied.
 * `flux store status`: where the schema stands, changing nothing.
 */
export async function migratePostgres(options: PostgresStoreOptions): Promise<{ readonly url: string; readonly applied: readonly Migration[] }> {
  return withPool(options, async (pool, url) => ({ url: url.shown, applied: await withClient(pool, (c) => migrate(c, url.schema, options.now())) }));
}

/** Where a store's schema stands, and how many runs it holds in each state (none before it is migrated). */
export async function postgresStatus(options: PostgresConnectOptions): Promise<{ readonly url: string; readonly schema: SchemaStatus; readonly runs: readonly { readonly status: string; readonly count: number }[] }> {
  return withPool(options, async (pool, url) =>
    withClient(pool, async (client) => {
      const schema = await readStatus(client);
      const runs = schema.applied.length === 0 ? [] : (await query(client, 'countAllRuns', {})).map((r) => ({ status: String(r.status), count: Number(r.n) }));
      return { url: url.shown, schema, runs };
    }),
  );
}

async function withPool<T>(options: PostgresConnectOptions, work: (pool: pg.Pool, url: StoreUrl) => Promise<T>): Promise<T> {
  const url = parseStoreUrl(options.url, options.schema);
  const pool = createPool(url, { ...options, poolSize: 1 });
  try {
    return await work(pool, url);
  } catch (error) {
    throw new PostgresOpenError(url.shown, describePgError(error, url));
  } finally {
    await pool.end().catch(() => {});
  }
}

/**
 * Runs `work` on one pooled connection. A checked-out connection has no error listener of the
 * pool's: one that the server ends meanwhile would otherwise crash the process. A connection
 * that failed (the server ended it, or `work` says it is unusable) is dropped, not handed to the
 * next call; one whose statement merely failed (a constraint, a lost lease) is kept.
 */
async function withClient<T>(pool: pg.Pool, work: (client: pg.PoolClient, unusable: (error: Error) => void) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const unusable = (error: Error) => {
    broken ??= error;
  };
  client.on('error', unusable);
  try {
    return await work(client, unusable);
  } catch (error) {
    if (isConnectionError(error)) unusable(error as Error);
    throw error;
  } finally {
    client.removeListener('error', unusable);
    client.release(broken ?? false);
  }
}

/** A server or network error that leaves the connection unusable (57P: the server ended it; 08: connection exceptions). */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('57P') || code.startsWith('08') || /^E[A-Z]+$/.test(code));
}

async function query(client: pg.ClientBase | pg.Pool, name: QueryName, params: Params): Promise<PgRow[]> {
  return (await execute(client, name, params)).rows as PgRow[];
}

/** Runs a named statement as a prepared statement (parsed once per connection). */
function execute(client: pg.ClientBase | pg.Pool, name: QueryName, params: Params): Promise<pg.QueryResult> {
  const s = STATEMENTS[name];
  const values = s.params.map((p) => {
    if (!(p in params)) throw new Error(`statement ${name} needs :${p}`);
    return params[p];
  });
  return client.query({ name: s.name, text: s.text, values });
}

/** The PostgreSQL implementation of Store. Create it with `openPostgresStore`. */
export class PostgresStore implements Store {
  private closed = false;
  /** Each run's journal writes from this store, in call order: a run's journal keeps the order its runner wrote it. */
  private readonly journalChains = new Map<string, Promise<unknown>>();

  private readonly sender: NotifySender;
  /** Unkeyed runs (webhook intake) inserted many to a statement: see RunBatcher. */
  private readonly intake: RunBatcher;
  private readonly listeners = new Set<NotifyListener>();

  /** Use `openPostgresStore`, which migrates the schema first. */
  constructor(private readonly pool: pg.Pool, private readonly url: StoreUrl) {
    this.sender = new NotifySender(pool, channelOf(url.schema));
    this.intake = new RunBatcher(
      (rows) => execute(this.pool, 'insertRuns', batchParams(rows)).then(() => undefined),
      (row) => execute(this.pool, 'insertRun', row).then(() => undefined),
    );
  }

  /** Other daemons on this schema are told (LISTEN/NOTIFY) when this store makes work due. */
  subscribe(listener: (topic: StoreTopic) => void): () => void {
    this.open();
    const l = new NotifyListener(this.url, channelOf(this.url.schema), listener);
    this.listeners.add(l);
    return () => {
      this.listeners.delete(l);
      void l.stop();
    };
  }

  /** Passes `value` on once it is committed, telling the listeners of `topic` when `due` says it made work due. */
  private told<T>(topic: StoreTopic, due: (value: T) => boolean): (value: T) => T {
    return (value) => {
      if (due(value)) this.sender.notify(topic);
      return value;
    };
  }

  /** The store's URL as it may be shown (no password). */
  get shownUrl(): string {
    return this.url.shown;
  }

  /** The schema the store works in. */
  get schema(): string {
    return this.url.schema;
  }

  /** A read (or a single conditional write): one statement on any pooled connection. */
  private async one(name: QueryName, params: Params): Promise<PgRow[]> {
    this.open();
    return query(this.pool, name, params);
  }

  /** A single conditional write: how many rows it changed. */
  private async changes(name: QueryName, params: Params): Promise<number> {
    this.open();
    return (await execute(this.pool, name, params)).rowCount ?? 0;
  }

  /** A write of several statements: one transaction, run again on a deadlock. */
  private async tx<T>(work: (run: Run) => Promise<T>): Promise<T> {
    this.open();
    for (let attempt = 1; ; attempt++) {
      try {
        return await withClient(this.pool, async (client, unusable) => {
          await client.query('BEGIN');
          try {
            const result = await work((name, params) => query(client, name, params));
            await client.query('COMMIT');
            return result;
          } catch (error) {
            // A connection that cannot even roll back is gone (a COMMIT that failed midway too).
            await client.query('ROLLBACK').catch(unusable);
            throw error;
          }
        });
      } catch (error) {
        if (attempt >= 5 || !RETRYABLE.has(String((error as { code?: string }).code))) throw error;
      }
    }
  }

  private open(): void {
    if (this.closed) throw new Error(`the PostgreSQL store ${this.url.shown} is closed`);
  }

  async enqueueRun(run: NewRun, now: number): Promise<Enqueued> {
    if (run.key?.kind === 'fire' && run.scheduledFor === undefined) throw new TypeError(`a schedule fire of ${run.workflow} needs scheduledFor`);
    if (!run.key) {
      this.open();
      await this.intake.submit(runParams(run, now));
      this.sender.notify('runs');
      return { id: run.id, created: true };
    }
    return this.tx((q) => insertRun(q, run, now)).then(this.told('runs', (e) => e.created));
  }

  claimRuns(owner: string, limit: number, leaseMs: number, now: number, limits?: ReadonlyMap<string, WorkflowLimit>): Promise<ClaimedRun[]> {
    for (const [workflow, l] of limits ?? []) {
      if (!Number.isInteger(l.max) || l.max < 1) return Promise.reject(new RangeError(`the limit of ${workflow} must be a whole number of at least 1, not ${l.max}`));
    }
    return this.tx(async (q) => {
      const params = { owner, now: int(now), until: int(now + leaseMs) };
      await q('cancelAbandoned', { now: params.now, cancelled: CANCELLED });
      const claimed: ClaimedRun[] = [];
      const push = (rows: PgRow[], reason: ClaimReason) => {
        for (const run of rows.map(toRun).sort(byId)) claimed.push({ run, reason });
      };
      const take = async (name: 'claimRescue' | 'claimWake' | 'claimStart', reason: ClaimReason) => {
        if (claimed.length < limit) push(await q(name, { ...params, limit: limit - claimed.length }), reason);
      };
      await take('claimRescue', 'rescue');
      if (!limits || limits.size === 0) {
        await take('claimWake', 'wake');
        await take('claimStart', 'start');
      } else {
        await claimLimited(q, limits, limit, params, claimed, push);
      }
      return claimed;
    });
  }

  async enqueueFires(fires: readonly NewRun[], overlap: Overlap, now: number): Promise<FireOutcome[]> {
    const workflow = fires[0]?.workflow;
    for (const fire of fires) {
      if (fire.key?.kind !== 'fire' || fire.scheduledFor === undefined) throw new TypeError(`a schedule fire of ${fire.workflow} needs a fire key and scheduledFor`);
      if (fire.workflow !== workflow) throw new TypeError(`one batch of fires is of one workflow, not ${workflow} and ${fire.workflow}`);
    }
    return this.tx(async (q) => {
      let blocker: PgRow | undefined;
      if (overlap === 'skip' && workflow !== undefined) {
        // Schedulers of one workflow decide one after another: the second sees the first's run.
        await q('lockWorkflow', { purpose: 'flux.fires', workflow });
        blocker = (await q('activeRunOf', { workflow }))[0];
      }
      const outcomes: FireOutcome[] = [];
      for (const fire of fires) {
        if (blocker) {
          const blockedBy = String(blocker.id);
          const keyParams = { kind: 'fire', workflow: fire.workflow, key: fire.key!.key };
          if ((await q('takeRunKey', { ...keyParams, id: blockedBy, now: int(now) })).length > 0) outcomes.push({ kind: 'skipped', blockedBy });
          else outcomes.push({ kind: 'duplicate', id: String((await q('runKeyHolder', keyParams))[0]?.run_id) });
        } else {
          const enqueued = await insertRun(q, fire, now);
          outcomes.push(enqueued.created ? { kind: 'created', id: enqueued.id } : { kind: 'duplicate', id: enqueued.id });
        }
      }
      return outcomes;
    }).then(this.told('runs', (outcomes) => outcomes.some((o) => o.kind === 'created')));
  }

  async renewLease(runId: string, owner: string, leaseMs: number, now: number): Promise<LeaseState> {
    const row = (await this.one('renewLease', { id: runId, owner, now: int(now), until: int(now + leaseMs) }))[0];
    return { held: row !== undefined, cancelRequested: row?.cancel_requested === true };
  }

  recordStep(owner: string, entry: JournalEntry, emits: readonly NewEvent[] = []): Promise<Recorded> {
    const previous = this.journalChains.get(entry.runId) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => this.writeStep(owner, entry, emits));
    this.journalChains.set(entry.runId, next);
    const forget = () => {
      if (this.journalChains.get(entry.runId) === next) this.journalChains.delete(entry.runId);
    };
    next.then(forget, forget);
    return next;
  }

  private writeStep(owner: string, entry: JournalEntry, emits: readonly NewEvent[]): Promise<Recorded> {
    const announce = this.told<Recorded>('events', (r) => r.created && emits.length > 0);
    return this.tx(async (q): Promise<Recorded> => {
      if ((await q('holdsLease', { id: entry.runId, owner })).length === 0) throw new LeaseLostError(entry.runId, owner);
      const inserted = (await q('recordStep', {
        run_id: entry.runId, key: entry.key, kind: entry.kind, status: entry.status, output: toJson(entry.output),
        error: entry.error === null ? null : toJson(entry.error), attempt: entry.attempt, started_at: int(entry.startedAt), finished_at: int(entry.finishedAt),
      }))[0];
      if (inserted) {
        for (const event of emits) await q('appendEvent', eventParams(event));
        return { entry: toJournalEntry(inserted), created: true };
      }
      return { entry: toJournalEntry((await q('journalEntry', { run_id: entry.runId, key: entry.key }))[0]!), created: false };
    }).then(announce);
  }

  async journalFor(runId: string): Promise<JournalEntry[]> {
    return (await this.one('journalFor', { run_id: runId })).map(toJournalEntry);
  }

  async setWaiting(runId: string, owner: string, wakeAt: number | null, waitingFor: WaitingFor | null, now: number): Promise<RunState> {
    if (wakeAt === null && waitingFor === null) throw new TypeError(`run ${runId} cannot wait for nothing: give a wake time, an event or both`);
    const row = (await this.one('setWaiting', {
      id: runId, owner, now: int(now), wake_at: intOrNull(wakeAt), waiting_event: waitingFor?.event ?? null, waiting_for: waitingFor ? toJson(waitingFor) : null,
      cancelled: CANCELLED,
    }))[0];
    if (!row) throw new LeaseLostError(runId, owner);
    return String(row.status) as RunState;
  }

  async finishRun(runId: string, owner: string, status: FinalState, error: ErrorInfo | null, now: number): Promise<void> {
    const changed = await this.changes('finishRun', { id: runId, owner, status, error: error === null ? null : toJson(error), now: int(now) });
    if (changed === 0) throw new LeaseLostError(runId, owner);
  }

  async cancelRun(runId: string, now: number): Promise<CancelOutcome> {
    const row = (await this.one('cancelRun', { id: runId, now: int(now), cancelled: CANCELLED }))[0];
    if (row) return row.status === 'running' ? 'requested' : 'cancelled';
    return (await this.one('getRun', { id: runId })).length > 0 ? 'finished' : 'not-found';
  }

  retryRun(runId: string, newId: string, now: number): Promise<RetryOutcome> {
    return this.tx(async (q): Promise<RetryOutcome> => {
      const params = { id: runId, new_id: newId, now: int(now) };
      if ((await q('insertRetry', params)).length > 0) {
        await q('copyJournal', params);
        return { outcome: 'created', id: newId };
      }
      const holder = (await q('retryHolder', params))[0];
      if (holder) return { outcome: 'exists', id: String(holder.id) };
      const run = (await q('getRun', params))[0];
      return run ? { outcome: 'not-retryable', status: String(run.status) as RunState } : { outcome: 'not-found' };
    }).then(this.told('runs', (r) => r.outcome === 'created'));
  }

  async getRun(runId: string): Promise<RunRow | undefined> {
    const row = (await this.one('getRun', { id: runId }))[0];
    return row ? toRun(row) : undefined;
  }

  async listRuns(filter: RunFilter): Promise<RunRow[]> {
    const statuses = filter.status === undefined ? null : typeof filter.status === 'string' ? [filter.status] : [...filter.status];
    const rows = await this.one('listRuns', {
      workflow: filter.workflow ?? null, statuses, since: intOrNull(filter.since), retry_of: filter.retryOf ?? null, limit: Math.max(0, Math.floor(filter.limit ?? 100)),
    });
    return rows.map(toRun);
  }

  async countRuns(): Promise<RunCount[]> {
    return (await this.one('countRuns', {})).map((r) => ({ workflow: String(r.workflow), status: String(r.status) as RunCount['status'], count: Number(r.n) }));
  }

  async waitingOn(eventName: string): Promise<RunRow[]> {
    return (await this.one('waitingOn', { name: eventName })).map(toRun);
  }

  async lastFire(workflow: string): Promise<number | undefined> {
    const fired = (await this.one('lastFire', { workflow }))[0]?.fired;
    return fired === null || fired === undefined ? undefined : Number(fired);
  }

  async appendEvent(event: NewEvent): Promise<void> {
    await this.one('appendEvent', eventParams(event));
    this.sender.notify('events');
  }

  async claimEvents(owner: string, limit: number, leaseMs: number, now: number): Promise<EventRow[]> {
    const rows = await this.one('claimEvents', { owner, limit, now: int(now), until: int(now + leaseMs) });
    return rows.map(toEvent).sort((a, b) => a.createdAt - b.createdAt || byId(a, b));
  }

  deliverEvent(eventId: string, delivery: Delivery, now: number): Promise<Delivered> {
    return this.tx(async (q): Promise<Delivered> => {
      const at = int(now);
      const marked = (await q('markDelivered', { id: eventId, now: at }))[0];
      if (!marked) return { delivered: false, woken: [], started: [] };
      const name = String(marked.name);
      const woken: string[] = [];
      for (const w of delivery.wake) {
        const run = (await q('wakeForEvent', { id: w.runId, name, step: w.step, now: at }))[0];
        if (!run) continue; // it timed out, was cancelled or was woken by another event first
        await q('recordDelivery', { run_id: w.runId, key: w.step, output: toJson(w.output), attempt: Number(run.attempt), now: at });
        woken.push(w.runId);
      }
      const started: string[] = [];
      for (const run of delivery.start) {
        const enqueued = await insertRun(q, run, now);
        if (enqueued.created) started.push(enqueued.id);
      }
      return { delivered: true, woken, started };
    }).then(this.told('runs', (d) => d.woken.length + d.started.length > 0));
  }

  async getEvent(eventId: string): Promise<EventRow | undefined> {
    const row = (await this.one('getEvent', { id: eventId }))[0];
    return row ? toEvent(row) : undefined;
  }

  async putWorkflowVersion(version: WorkflowVersion): Promise<void> {
    await this.one('putWorkflowVersion', { hash: version.hash, name: version.name, text: version.text, created_at: int(version.createdAt) });
  }

  async getWorkflowVersion(hash: string): Promise<WorkflowVersion | undefined> {
    const row = (await this.one('getWorkflowVersion', { hash }))[0];
    return row ? toWorkflowVersion(row) : undefined;
  }

  async sharedKey(name: string, offer: string, now: number): Promise<string> {
    // Two statements, not one: the read must see a value another daemon committed while this
    // insert waited on it, which a second statement's snapshot does.
    await this.one('offerSharedKey', { name, value: offer, now: int(now) });
    return String((await this.one('sharedKey', { name }))[0]?.value);
  }

  recordAnswer(answer: ApprovalAnswer, requestKey: string, now: number): Promise<AnswerOutcome> {
    return this.tx(async (q): Promise<AnswerOutcome> => {
      // Answers to one run are decided one at a time, so two people answering at once cannot
      // both pass the quorum check.
      if ((await q('lockRun', { run_id: answer.runId })).length === 0) return 'not-found';
      const keys = { run_id: answer.runId, step: answer.step, approver: answer.approver };
      const inserted = await q('recordAnswer', {
        ...keys, choice: answer.choice, inputs: toJson(answer.inputs), answered_at: int(answer.answeredAt), via: answer.via, from_address: answer.from,
        request_key: requestKey, now: int(now),
      });
      if (inserted.length > 0) {
        await q('wakeForAnswer', { run_id: answer.runId, now: int(now) });
        return 'recorded';
      }
      return (await q('answerOf', keys)).length > 0 ? 'duplicate' : 'closed';
    }).then(this.told('runs', (outcome) => outcome === 'recorded'));
  }

  async approvalAnswers(runId: string): Promise<ApprovalAnswer[]> {
    return (await this.one('approvalAnswers', { run_id: runId })).map(toApprovalAnswer);
  }

  claimPoll(workflow: string, owner: string, leaseMs: number, now: number): Promise<PollClaim> {
    return this.tx(async (q): Promise<PollClaim> => {
      const row = (await q('claimPoll', { workflow, owner, now: int(now), until: int(now + leaseMs) }))[0];
      const state = (await q('pollState', { workflow }))[0]!;
      if (row) return { claimed: true, state: toPollState(state) };
      const lease = state.lease_until === null ? 0 : Number(state.lease_until);
      return { claimed: false, retryAt: Math.max(Number(state.next_poll_at), lease) };
    });
  }

  completePoll(workflow: string, owner: string, keys: readonly PolledKey[], cursor: unknown, nextPollAt: number, now: number, maxSeen = DEFAULT_MAX_SEEN_KEYS): Promise<string[]> {
    if (!Number.isInteger(maxSeen) || maxSeen < 1) return Promise.reject(new RangeError(`maxSeen must be a whole number of at least 1, not ${maxSeen}`));
    return this.tx(async (q) => {
      const at = int(now);
      // The lease first: a daemon that lost it writes nothing.
      if ((await q('pollSucceeded', { workflow, owner, cursor: toJson(cursor), next: int(nextPollAt), now: at })).length === 0) throw new PollLeaseLostError(workflow, owner);
      const started: string[] = [];
      for (const { key, run } of keys) {
        if ((await q('markSeen', { workflow, key, run_id: run?.id ?? null, now: at })).length === 0) {
          await q('touchSeen', { workflow, key, now: at });
          continue;
        }
        if (run && (await insertRun(q, run, now)).created) started.push(run.id);
      }
      await q('trimSeen', { workflow, keep: maxSeen });
      return started;
    }).then(this.told('runs', (started) => started.length > 0));
  }

  failPoll(workflow: string, owner: string, error: string, nextPollAt: number, escalateAfter: number, now: number): Promise<{ failures: number; escalate: boolean }> {
    return this.tx(async (q) => {
      const at = int(now);
      const row = (await q('pollFailed', { workflow, owner, error, next: int(nextPollAt), now: at }))[0];
      if (!row) throw new PollLeaseLostError(workflow, owner);
      const escalate = (await q('pollEscalate', { workflow, after: escalateAfter, now: at })).length > 0;
      return { failures: Number(row.failures), escalate };
    });
  }

  async failingPolls(): Promise<PollState[]> {
    return (await this.one('failingPolls', {})).map(toPollState);
  }

  async pollState(workflow: string): Promise<PollState | undefined> {
    const row = (await this.one('pollState', { workflow }))[0];
    return row ? toPollState(row) : undefined;
  }

  async openEscalation(e: NewEscalation): Promise<EscalationRow> {
    await this.one('openEscalation', {
      run_id: e.runId, workflow: e.workflow, workflow_version: e.workflowVersion, owner: e.owner, members: toJson(e.members), error: toJson(e.error),
      escalated_at: int(e.escalatedAt), ack_due_at: int(e.ackDueAt), has_then: e.hasThen,
    });
    return toEscalation((await this.one('getEscalation', { run_id: e.runId }))[0]!);
  }

  async getEscalation(runId: string): Promise<EscalationRow | undefined> {
    const row = (await this.one('getEscalation', { run_id: runId }))[0];
    return row ? toEscalation(row) : undefined;
  }

  async escalationsFor(runIds: readonly string[]): Promise<EscalationRow[]> {
    return (await this.one('escalationsFor', { run_ids: [...runIds] })).map(toEscalation);
  }

  async ackEscalation(runId: string, by: string, via: string, now: number): Promise<AckOutcome> {
    const row = (await this.one('ackEscalation', { run_id: runId, by, via, now: int(now) }))[0];
    if (row) return { outcome: 'acked', escalation: toEscalation(row) };
    const existing = (await this.one('getEscalation', { run_id: runId }))[0];
    return existing ? { outcome: 'already', escalation: toEscalation(existing) } : { outcome: 'not-found' };
  }

  async claimDueThen(owner: string, limit: number, leaseMs: number, now: number): Promise<EscalationRow[]> {
    const rows = await this.one('claimDueThen', { owner, limit, now: int(now), until: int(now + leaseMs) });
    return rows.map(toEscalation).sort((a, b) => (a.thenNextAt ?? 0) - (b.thenNextAt ?? 0) || (a.runId < b.runId ? -1 : 1));
  }

  async finishThen(runId: string, owner: string, outcome: { readonly sent: true } | { readonly sent: false; readonly error: string; readonly retryAt: number }, now: number): Promise<boolean> {
    const changed = outcome.sent
      ? await this.changes('thenSent', { run_id: runId, owner, now: int(now) })
      : await this.changes('thenFailed', { run_id: runId, owner, error: outcome.error, retry_at: int(outcome.retryAt) });
    return changed > 0;
  }

  async countEscalations(now: number): Promise<EscalationCount[]> {
    return (await this.one('countEscalations', { now: int(now) })).map((r) => ({ workflow: String(r.workflow), unacknowledged: Number(r.n), overdue: Number(r.overdue) }));
  }

  /** Waits for the calls under way, then closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.journalChains.values()]);
    await this.intake.drained();
    await Promise.allSettled([...this.listeners].map((l) => l.stop()));
    this.listeners.clear();
    await this.pool.end();
  }
}

function runParams(run: NewRun, now: number): Params {
  return {
    id: run.id, workflow: run.workflow, workflow_version: run.workflowVersion, trigger: run.trigger, event: toJson(run.event), received_at: int(run.receivedAt),
    scheduled_for: intOrNull(run.scheduledFor), parent_run_id: run.parentRunId ?? null, chain_depth: run.chainDepth ?? 0, now: int(now),
  };
}

/** The columns of many runs' rows, for `insertRuns`. */
function batchParams(rows: readonly Params[]): Params {
  const column = (name: string) => rows.map((r) => r[name]);
  return {
    ids: column('id'), workflows: column('workflow'), versions: column('workflow_version'), triggers: column('trigger'), events: column('event'),
    received: column('received_at'), scheduled: column('scheduled_for'), parents: column('parent_run_id'), depths: column('chain_depth'), nows: column('now'),
  };
}

function eventParams(event: NewEvent): Params {
  return {
    id: event.id, name: event.name, data: toJson(event.data), source_run_id: event.sourceRunId ?? null, chain_depth: event.chainDepth ?? 0, created_at: int(event.createdAt),
  };
}

/** Inside a transaction: takes the run's key (if any) and inserts the run, or names the key's holder. */
async function insertRun(q: Run, run: NewRun, now: number): Promise<Enqueued> {
  if (run.key) {
    const keyParams = { kind: run.key.kind, workflow: run.workflow, key: run.key.key };
    if ((await q('takeRunKey', { ...keyParams, id: run.id, now: int(now) })).length === 0) {
      // The key is held, its run committed with it: the insert above waited for that commit,
      // and this statement's snapshot, taken after it, sees both.
      return { id: String((await q('runKeyHolder', keyParams))[0]?.run_id), created: false };
    }
  }
  await q('insertRun', runParams(run, now));
  return { id: run.id, created: true };
}

/**
 * Inside claimRuns' transaction: wakes and starts under per-workflow limits. Each limited
 * workflow's advisory lock is taken first (in name order, so claimers never deadlock), then its
 * runs in progress are counted, each gets at most its free slots, the other workflows' due runs
 * are picked as usual (SKIP LOCKED), and the picks are claimed in order.
 */
async function claimLimited(
  q: Run, limits: ReadonlyMap<string, WorkflowLimit>, limit: number, params: { owner: string; now: number; until: number }, claimed: ClaimedRun[],
  push: (rows: PgRow[], reason: ClaimReason) => void,
): Promise<void> {
  const names = [...limits.keys()].sort();
  for (const workflow of names) await q('lockWorkflow', { purpose: 'flux.limit', workflow });
  const slots = new LimitSlots(limits, (await q('limitedActive', { names })));
  const gatedWake = slots.gatedWake();
  let room = limit - claimed.length;
  if (room > 0) {
    const wakes: { id: string; at: number }[] = [];
    const pick = (rows: PgRow[]) => {
      for (const r of rows) wakes.push({ id: String(r.id), at: Number(r.wake_at) });
    };
    pick(await q('dueWaitingExcept', { now: params.now, except: gatedWake, limit: room }));
    for (const w of gatedWake) {
      const n = Math.min(slots.free(w), room);
      if (n > 0) pick(await q('dueWaitingOf', { workflow: w, now: params.now, limit: n }));
    }
    wakes.sort((a, b) => a.at - b.at || byId(a, b));
    const woken = await q('claimWakeIds', { ...params, ids: wakes.slice(0, room).map((x) => x.id) });
    slots.woke(woken);
    push(woken, 'wake');
  }
  room = limit - claimed.length;
  if (room <= 0) return;
  const gatedStart = slots.gatedStart();
  const starts = (await q('dueQueuedExcept', { now: params.now, except: gatedStart, limit: room })).map((r) => String(r.id));
  for (const w of gatedStart) {
    const n = Math.min(slots.free(w), room);
    if (n > 0) for (const r of await q('dueQueuedOf', { workflow: w, now: params.now, limit: n })) starts.push(String(r.id));
  }
  starts.sort();
  push(await q('claimStartIds', { ...params, ids: starts.slice(0, room) }), 'start');
}

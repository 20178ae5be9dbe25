/**
 * The daemon's durable state, behind one interface: runs and their leases, the keys that make
 * webhook deliveries and schedule fires happen once, each run's journal (what replay returns
 * instead of re-running a step), events and workflow versions. SQLite (`sqlite/`) is the
 * embedded backend; a PostgreSQL backend shared by several daemons will implement the same
 * interface and pass the same suite (test/store/store-suite.ts).
 *
 * Rules every backend keeps:
 * - Every method is async, and a write resolves only once it is durable (committed and
 *   fsynced): a caller may acknowledge a webhook as soon as `enqueueRun` resolves.
 * - Anything two daemons could race for is a conditional write or a UNIQUE row, never a read
 *   followed by a write, so a run is claimed, woken, finished or cancelled once.
 * - Time comes from the caller (`now`, milliseconds since the epoch); a store never reads the
 *   clock, so tests drive leases and waits without sleeping.
 */
import type { ErrorInfo } from './run-log.js';

/** Where a run is in its life. The last five are terminal. */
export type RunState = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'escalated' | 'cancelled' | 'rejected';

/** States a run never leaves. */
export const TERMINAL_STATES: readonly RunState[] = ['succeeded', 'failed', 'escalated', 'cancelled', 'rejected'];

/** The terminal states `finishRun` may record. */
export type FinalState = 'succeeded' | 'failed' | 'escalated' | 'cancelled' | 'rejected';

/** What a waiting run waits for besides its wake time: an event, matched by the daemon. */
export interface WaitingFor {
  /** The event name. */
  readonly event: string;
  /** The journal key of the `wait_for` step, where the delivered event is recorded. */
  readonly step: string;
  /** The step's `match` condition, as the daemon evaluates it (the store only keeps it). */
  readonly match?: string;
}

/** A run as the store keeps it. Times are milliseconds since the epoch. */
export interface RunRow {
  readonly id: string;
  readonly workflow: string;
  /** The content hash of the workflow version the run started with (`workflow_versions`). */
  readonly workflowVersion: string;
  readonly status: RunState;
  /** How it was started: `manual`, `schedule`, `webhook`, `poll`, `event`. */
  readonly trigger: string;
  readonly event: unknown;
  /** When the trigger happened (the webhook arrived, the event was emitted). */
  readonly receivedAt: number;
  /** The schedule time a fire is for; the run is not claimed before it. */
  readonly scheduledFor: number | null;
  /** When a runner first took the run (its actual start; lateness is this minus `scheduledFor`). */
  readonly startedAt: number | null;
  /** How many times the run was started: 1 on the first claim, +1 each time a crashed run is rescued. */
  readonly attempt: number;
  readonly leaseOwner: string | null;
  readonly leaseUntil: number | null;
  /** A waiting run is claimed again at this time (a `wait`, or a `wait_for` timeout). */
  readonly wakeAt: number | null;
  readonly waitingFor: WaitingFor | null;
  /** Cancel was asked while the run was running; the runner stops at its next step. */
  readonly cancelRequested: boolean;
  readonly parentRunId: string | null;
  /** The failed or escalated run this one retries (`retryRun`), or null. */
  readonly retryOf: string | null;
  /** How many event hops separate this run from one started by an outside trigger. */
  readonly chainDepth: number;
  readonly error: ErrorInfo | null;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly finishedAt: number | null;
}

/**
 * A key that makes an enqueue happen once per (kind, workflow, key): `dedupe` for a webhook's
 * dedupe key, `fire` for a schedule fire (the key is the fire time).
 */
export interface RunKey {
  readonly kind: 'dedupe' | 'fire';
  readonly key: string;
}

/** A webhook delivery in a local intake spool (sqlite/intake-spool.ts), as `adoptRuns` takes it. */
export interface SpooledRun {
  readonly id: string;
  /** JSON {workflow, version, trigger, received_at, created_at, event}; times are ISO-8601. */
  readonly run: string;
}

/** A run to enqueue. `id` is used only when the run is created (no earlier run holds its key). */
export interface NewRun {
  readonly id: string;
  readonly workflow: string;
  readonly workflowVersion: string;
  readonly trigger: string;
  readonly event: unknown;
  readonly receivedAt: number;
  readonly scheduledFor?: number;
  readonly parentRunId?: string;
  readonly chainDepth?: number;
  readonly key?: RunKey;
}

/**
 * What a schedule fire does when its workflow already has a run queued, running or waiting
 * (the schedule trigger's `overlap`): `skip` it, `queue` it behind that run, or `allow` both.
 */
export type Overlap = 'skip' | 'queue' | 'allow';

/**
 * What became of one fire given to `enqueueFires`: a new run; the run that already held its
 * key (the fire was enqueued before: a restart, a reload, another scheduler); or skipped
 * because `blockedBy` was in progress. A skipped fire's key is taken too, held by `blockedBy`,
 * so a catch-up after a restart does not run it either.
 */
export type FireOutcome =
  | { readonly kind: 'created'; readonly id: string }
  | { readonly kind: 'duplicate'; readonly id: string }
  | { readonly kind: 'skipped'; readonly blockedBy: string };

/**
 * A cap on one workflow's runs at once, across every daemon on the store (the workflow's
 * `concurrency`, or 1 for a schedule that must not overlap). Runs beyond it stay queued.
 */
export interface WorkflowLimit {
  /** At most this many runs of the workflow running at once (1 or more). */
  readonly max: number;
  /**
   * Waiting runs hold their slot too, so the next run starts only once the previous one
   * finished (a schedule's `overlap: queue`). Without it, a run parked in a durable wait frees
   * its slot, and waking it again needs a free one.
   */
  readonly countWaiting?: boolean;
}

/** The result of an enqueue: the run holding the key, and whether this call created it. */
export interface Enqueued {
  readonly id: string;
  readonly created: boolean;
}

/**
 * Why a run was handed to a runner: `start` (it was queued), `wake` (its wait is over, or an
 * event was delivered to it), `rescue` (its runner's lease ran out: that runner died).
 */
export type ClaimReason = 'start' | 'wake' | 'rescue';

/** A claimed run: the runner holds its lease until `run.leaseUntil` unless it renews it. */
export interface ClaimedRun {
  readonly run: RunRow;
  readonly reason: ClaimReason;
}

/** What a journal entry records: a step's outcome, or a value the engine must replay the same. */
export type JournalKind = 'step' | 'random' | 'time';

/** One entry of a run's journal. `output` is kept whole (the run log's 16 KiB cap does not apply). */
export interface JournalEntry {
  readonly runId: string;
  /**
   * Unique within the run: the engine's step key (`stepKey` in engine/types.ts: the step id,
   * then its `foreach` item indexes, `email:3`), or a draw's name.
   */
  readonly key: string;
  readonly kind: JournalKind;
  /** `succeeded`, `failed` or `skipped` for steps; `recorded` for draws. */
  readonly status: string;
  readonly output: unknown;
  readonly error: ErrorInfo | null;
  readonly attempt: number;
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** The result of `recordStep`: the entry as stored, and whether this call wrote it. */
export interface Recorded {
  readonly entry: JournalEntry;
  readonly created: boolean;
}

/** An event emitted by a run or injected from outside, until it is delivered. */
export interface EventRow {
  readonly id: string;
  readonly name: string;
  readonly data: unknown;
  readonly sourceRunId: string | null;
  /** How many event hops led to it (the source run's chain depth). */
  readonly chainDepth: number;
  readonly createdAt: number;
  readonly deliveredAt: number | null;
}

/** A new event. */
export interface NewEvent {
  readonly id: string;
  readonly name: string;
  readonly data: unknown;
  readonly sourceRunId?: string;
  readonly chainDepth?: number;
  readonly createdAt: number;
}

/** Where the daemon decided an event goes: runs it wakes and runs it starts. */
export interface Delivery {
  /**
   * Waiting runs whose `wait_for` matched: each is woken with `output` recorded as its
   * `wait_for` step's journal entry (`step` is that entry's key, from its WaitingFor).
   */
  readonly wake: readonly { readonly runId: string; readonly step: string; readonly output: unknown }[];
  /** Runs of workflows triggered by the event. */
  readonly start: readonly NewRun[];
}

/** The outcome of `deliverEvent`: whether this call delivered it, and which runs it woke and started. */
export interface Delivered {
  readonly delivered: boolean;
  readonly woken: readonly string[];
  readonly started: readonly string[];
}

/** The outcome of `cancelRun`. */
export type CancelOutcome = 'cancelled' | 'requested' | 'finished' | 'not-found';

/**
 * The outcome of `retryRun`: the retry (`created` by this call, or one that `exists` already:
 * a run is retried once, however many operators ask at once), or why there is none.
 */
export type RetryOutcome =
  | { readonly outcome: 'created' | 'exists'; readonly id: string }
  | { readonly outcome: 'not-retryable'; readonly status: RunState }
  | { readonly outcome: 'not-found' };

/** The states a run can be retried from. */
export const RETRYABLE_STATES: readonly RunState[] = ['failed', 'escalated'];

/** The outcome of `renewLease`: whether the caller still holds the run, and whether cancel was asked. */
export interface LeaseState {
  readonly held: boolean;
  readonly cancelRequested: boolean;
}

/** A filter for `listRuns`; newest runs first. */
export interface RunFilter {
  readonly workflow?: string;
  readonly status?: RunState | readonly RunState[];
  /** The retry of this run (at most one run has it). */
  readonly retryOf?: string;
  /** Runs created at or after this time. */
  readonly since?: number;
  /** At most this many (default 100). */
  readonly limit?: number;
}

/** How many runs of one workflow are in one live state, for gauges an operator scrapes. */
export interface RunCount {
  readonly workflow: string;
  readonly status: 'queued' | 'running' | 'waiting';
  readonly count: number;
}

/** A workflow file as a run started it. */
export interface WorkflowVersion {
  readonly hash: string;
  readonly name: string;
  readonly text: string;
  readonly createdAt: number;
}

/**
 * One person's answer to an approval step (see src/approvals/): who, what, with which form
 * values, when, and through what (`page`, `api`: POST /approvals/<token> with JSON, `cli`:
 * flux approve), from which address.
 */
export interface ApprovalAnswer {
  readonly runId: string;
  /** The approval step's key (`approve`, `approve:2` inside foreach). */
  readonly step: string;
  /** Who answered, as listed in the step's approvers (lowercased), or as given when none are listed. */
  readonly approver: string;
  readonly choice: string;
  readonly inputs: Readonly<Record<string, unknown>>;
  readonly answeredAt: number;
  /** `run` is `flux run --answer`, which no store holds. */
  readonly via: 'page' | 'api' | 'cli' | 'run';
  readonly from: string | null;
}

/**
 * The outcome of `recordAnswer`: `recorded`; `duplicate` (this approver answered that step
 * already); `closed` (the step is no longer waiting: decided, timed out, the run ended, or its
 * link expired); `not-found` (no such run).
 */
export type AnswerOutcome = 'recorded' | 'duplicate' | 'closed' | 'not-found';

/** An escalation to open (see `Store.openEscalation`): one per escalated run. */
export interface NewEscalation {
  readonly runId: string;
  readonly workflow: string;
  readonly workflowVersion: string;
  /** The owner, or the owner team's name. */
  readonly owner: string;
  /** Who may acknowledge it: the owner, or the team's members and backup. */
  readonly members: readonly string[];
  /** What the escalation is about (masked as the run log masks it). */
  readonly error: ErrorInfo;
  readonly escalatedAt: number;
  /** By when it must be acknowledged (`ack_within` after it was escalated). */
  readonly ackDueAt: number;
  /** Whether a `then` call is made once the deadline passes unacknowledged. */
  readonly hasThen: boolean;
}

/** An escalation as the store keeps it; times in milliseconds since the epoch. */
export interface EscalationRow extends NewEscalation {
  readonly ackedBy: string | null;
  readonly ackedAt: number | null;
  /** How it was acknowledged: `link` (the page) or `cli` (`flux runs ack`). */
  readonly ackedVia: string | null;
  /** When the `then` call is due next: the deadline, then each retry; null once made or when there is none. */
  readonly thenNextAt: number | null;
  readonly thenAttempts: number;
  readonly thenSentAt: number | null;
  /** Why the last `then` attempt failed, while it is retried. */
  readonly thenError: string | null;
}

/** The outcome of `ackEscalation`: this call acknowledged it, someone had already, or there is none. */
export type AckOutcome =
  | { readonly outcome: 'acked'; readonly escalation: EscalationRow }
  | { readonly outcome: 'already'; readonly escalation: EscalationRow }
  | { readonly outcome: 'not-found' };

/** Unacknowledged escalations of one workflow, and how many of them are past their deadline. */
export interface EscalationCount {
  readonly workflow: string;
  readonly unacknowledged: number;
  readonly overdue: number;
}

/** The runner no longer holds the run's lease (it expired and another runner took the run). */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(readonly runId: string, readonly owner: string) {
    super(`run ${runId} is no longer held by ${owner}: its lease ran out and it was taken over`);
  }
}

/** Where a workflow's poll trigger stands (`claimPoll`, `pollState`). Times in ms. */
export interface PollState {
  readonly workflow: string;
  /** The cursor the last successful poll left; null before one set it. */
  readonly cursor: unknown;
  /** A poll has succeeded before: the next items are new ones, not the baseline. */
  readonly polled: boolean;
  /** Failed polls in a row. */
  readonly failures: number;
  readonly lastError: string | null;
  /** When the owner was told of the failures in a row (once, until a success). */
  readonly escalatedAt: number | null;
  readonly nextPollAt: number;
  /** Keys of items seen, kept for dedupe. */
  readonly seen: number;
}

/** The outcome of `claimPoll`: the lease and the state, or when to ask again. */
export type PollClaim =
  | { readonly claimed: true; readonly state: PollState }
  | { readonly claimed: false; readonly retryAt: number };

/** One item a poll found: its dedupe key and, unless it is only recorded as seen (the baseline), the run it starts. */
export interface PolledKey {
  readonly key: string;
  readonly run: NewRun | null;
}

/** How many seen keys a poll workflow keeps at most, by default: the least recently seen go first. */
export const DEFAULT_MAX_SEEN_KEYS = 10_000;

/** The daemon no longer holds the poll lease of a workflow (another daemon took it over). */
export class PollLeaseLostError extends Error {
  override readonly name = 'PollLeaseLostError';
  constructor(readonly workflow: string, readonly owner: string) {
    super(`the poll of ${workflow} is no longer held by ${owner}: its lease ran out and it was taken over`);
  }
}

/** What a store's notifications are about: runs that may be due (enqueued, woken, answered), or events to deliver. */
export type StoreTopic = 'runs' | 'events';

/** The daemon's durable state. See the file header for the rules every backend keeps. */
export interface Store {
  /**
   * Calls `listener` when another daemon on this store (or this one) made work due, so an idle
   * daemon claims at once instead of at its next poll. Optional: a backend one daemon owns
   * (SQLite) has no one to hear from. A hint only: notifications may be lost or repeated, and
   * daemons keep polling. Returns a function that stops listening.
   */
  subscribe?(listener: (topic: StoreTopic) => void): () => void;
  /** Adds a queued run, or returns the run already holding `run.key`. */
  enqueueRun(run: NewRun, now: number): Promise<Enqueued>;
  /**
   * Takes spooled webhook deliveries (sqlite/intake-spool.ts) in as queued runs under their own
   * ids; one whose id is a run already is left as it is. Resolves once committed and synced,
   * with the deliveries that could not be read (a damaged row), which are not retried. Only a
   * store with a local spool has it: SQLite, which one daemon owns.
   */
  adoptRuns?(runs: readonly SpooledRun[]): Promise<{ readonly unreadable: readonly { readonly id: string; readonly reason: string }[] }>;
  /**
   * Hands up to `limit` runs to `owner` for `leaseMs`: crash victims (running, lease expired)
   * first, then waiting runs due to wake, then queued runs due to start (a schedule fire not
   * before its `scheduledFor`), each in creation order.
   * A crash victim whose cancel was asked is cancelled instead of handed out.
   * `limits` caps the runs of some workflows at once (see WorkflowLimit), checked in the same
   * transaction as the claim: a queued or due run of a workflow at its cap is left for later.
   */
  claimRuns(owner: string, limit: number, leaseMs: number, now: number, limits?: ReadonlyMap<string, WorkflowLimit>): Promise<ClaimedRun[]>;
  /** Extends the lease of a run `owner` holds. */
  renewLease(runId: string, owner: string, leaseMs: number, now: number): Promise<LeaseState>;
  /**
   * Records a journal entry once per (run, key): a second record of the key keeps the first and
   * returns it. Only the lease holder may write; otherwise rejects with LeaseLostError.
   * `emits` (an `emit` step's events) are appended in the same transaction, and only when this
   * call created the entry: a replayed emit step never emits twice, and a recorded one always has.
   */
  recordStep(owner: string, entry: JournalEntry, emits?: readonly NewEvent[]): Promise<Recorded>;
  /** The run's journal, in the order it was written. */
  journalFor(runId: string): Promise<JournalEntry[]>;
  /**
   * Parks a running run `owner` holds until `wakeAt` (null: no time limit), an event, or
   * whichever comes first (at least one is required); the lease is released. Resolves to the
   * run's new state: `waiting`, or `cancelled` when a cancel was asked meanwhile. Rejects with
   * LeaseLostError when `owner` no longer holds it.
   */
  setWaiting(runId: string, owner: string, wakeAt: number | null, waitingFor: WaitingFor | null, now: number): Promise<RunState>;
  /** Ends a run `owner` holds; rejects with LeaseLostError when it no longer holds it. */
  finishRun(runId: string, owner: string, status: FinalState, error: ErrorInfo | null, now: number): Promise<void>;
  /** Cancels a queued or waiting run at once; a running run is flagged and stops at its next step. */
  cancelRun(runId: string, now: number): Promise<CancelOutcome>;
  /**
   * Retries a failed or escalated run, atomically: a new queued run `newId` of the same
   * workflow version, event and trigger, linked by `retryOf`, whose journal starts as a copy of
   * the original's. Its runner replays those entries, so the steps that completed are not
   * called again and work restarts at the step that failed; the original keeps its history
   * and its end. A run has at most one retry (a UNIQUE key): asking again returns it.
   */
  retryRun(runId: string, newId: string, now: number): Promise<RetryOutcome>;
  /** One run, or undefined when there is none by that id. */
  getRun(runId: string): Promise<RunRow | undefined>;
  /** Runs matching the filter, newest first. */
  listRuns(filter: RunFilter): Promise<RunRow[]>;
  /**
   * How many runs are queued, running and waiting, by workflow and state (pairs with no run
   * are left out). Only the live states are counted: finished runs pile up without bound, and
   * this is read on every metrics scrape.
   */
  countRuns(): Promise<RunCount[]>;
  /** Runs waiting for an event of this name, oldest first, for the daemon to match. */
  waitingOn(eventName: string): Promise<RunRow[]>;
  /**
   * Enqueues one schedule decision of a workflow, atomically: its fires (each with a `fire` key
   * and `scheduledFor`), oldest first. With `overlap: 'skip'`, when a run of the workflow is
   * already queued, running or waiting, no fire of the batch runs: each is `skipped` (its key
   * taken, held by that run). Otherwise each fire is created, or is a `duplicate` of the run
   * already holding its key. The batch is one decision, so fires of one catch-up never skip
   * each other; a limit of 1 on the workflow (`claimRuns`) runs them one after another.
   */
  enqueueFires(fires: readonly NewRun[], overlap: Overlap, now: number): Promise<FireOutcome[]>;
  /** The time of the last schedule fire enqueued for a workflow. */
  lastFire(workflow: string): Promise<number | undefined>;
  /** Records an event for delivery. */
  appendEvent(event: NewEvent): Promise<void>;
  /** Events not yet delivered, oldest first; each is leased to `owner` so one daemon handles it. */
  claimEvents(owner: string, limit: number, leaseMs: number, now: number): Promise<EventRow[]>;
  /**
   * Delivers an event once, atomically: marks it delivered, records it as the output of each
   * woken run's `wait_for` step (only runs still waiting for it are woken) and enqueues the
   * started runs. A second delivery of the same event does nothing and says so.
   */
  deliverEvent(eventId: string, delivery: Delivery, now: number): Promise<Delivered>;
  /** One event (a woken run's daemon reads it; so does an operator). */
  getEvent(eventId: string): Promise<EventRow | undefined>;
  /** Keeps a workflow's text under its content hash (once; the first text stays). */
  putWorkflowVersion(version: WorkflowVersion): Promise<void>;
  /** The workflow text a run started with, by its `workflowVersion`. */
  getWorkflowVersion(hash: string): Promise<WorkflowVersion | undefined>;
  /**
   * Takes the poll lease of a workflow for `leaseMs` when its poll is due (at `nextPollAt`) and
   * no live lease holds it, creating its state on first sight (due at once). A conditional
   * write: of several daemons asking at once, one polls.
   */
  claimPoll(workflow: string, owner: string, leaseMs: number, now: number): Promise<PollClaim>;
  /**
   * Records a successful poll, atomically, by the lease holder (else PollLeaseLostError and
   * nothing is written): each key not seen before is marked seen and its run enqueued in the
   * same transaction (so a crash neither loses an item nor runs it twice); keys seen before are
   * marked seen again (now) and start nothing. The cursor is kept, the failures reset, the
   * lease released and the next poll set. Then only the `maxSeen` most recently seen keys of
   * the workflow are kept (default DEFAULT_MAX_SEEN_KEYS). Resolves to the ids of the runs started.
   */
  completePoll(workflow: string, owner: string, keys: readonly PolledKey[], cursor: unknown, nextPollAt: number, now: number, maxSeen?: number): Promise<string[]>;
  /**
   * Records a failed poll by the lease holder (else PollLeaseLostError): one more failure in a
   * row, the lease released, the next poll set. `escalate` is true for exactly one call once
   * `escalateAfter` failures in a row are reached (until a success starts the count again).
   */
  failPoll(workflow: string, owner: string, error: string, nextPollAt: number, escalateAfter: number, now: number): Promise<{ readonly failures: number; readonly escalate: boolean }>;
  /** A workflow's poll state, or undefined before its first poll. */
  pollState(workflow: string): Promise<PollState | undefined>;
  /** The poll workflows whose last poll failed (failures in a row above 0), by name: for `flux runs`. */
  failingPolls(): Promise<PollState[]>;
  /** Commits what is pending, then closes; later calls reject. */
  /**
   * A value every daemon on this store shares, made once: the first caller's `offer` is kept and
   * every caller, from any daemon, gets that same value back (e.g. the key that signs approval
   * links, so a link one daemon sent is honoured by another, after restarts too).
   */
  sharedKey(name: string, offer: string, now: number): Promise<string>;
  /**
   * Records an answer to an approval step, once per (run, step, approver), and only while the
   * step is open: the run is not finished, its journal holds the step's request entry
   * (`requestKey`) whose `expires_at` is after `now`, and not the step's completion (`answer.step`),
   * and the answers recorded so far have not decided it (a choice with the request's `quorum`).
   * One conditional write, so two daemons (or a daemon and `flux approve`) recording at once
   * record one answer per person. A recorded answer makes a waiting run due at once; a running
   * one, due as soon as it parks (setWaiting keeps the earlier wake time).
   */
  recordAnswer(answer: ApprovalAnswer, requestKey: string, now: number): Promise<AnswerOutcome>;
  /** The answers recorded for a run's approval steps, oldest first. */
  approvalAnswers(runId: string): Promise<ApprovalAnswer[]>;
  /** Opens the escalation of a run, once: a second call (a replayed attempt) returns the first row. */
  openEscalation(escalation: NewEscalation): Promise<EscalationRow>;
  /** One run's escalation, or undefined when it has none. */
  getEscalation(runId: string): Promise<EscalationRow | undefined>;
  /** The escalations of these runs (e.g. a page of `flux runs`), in no particular order. */
  escalationsFor(runIds: readonly string[]): Promise<EscalationRow[]>;
  /**
   * Records who acknowledged an escalation: a conditional write, so of two answers racing (two
   * daemons, a page and the CLI) one wins and the other learns who and when. Whether `by` may
   * acknowledge is the caller's check (`members` never changes).
   */
  ackEscalation(runId: string, by: string, via: string, now: number): Promise<AckOutcome>;
  /**
   * Takes up to `limit` escalations whose `then` call is due (deadline passed, not acknowledged,
   * not yet sent) for `owner` for `leaseMs`: one daemon makes each call; a daemon that dies
   * mid-call leaves it to be taken again when its lease lapses.
   */
  claimDueThen(owner: string, limit: number, leaseMs: number, now: number): Promise<EscalationRow[]>;
  /**
   * Ends a `then` attempt `owner` holds: sent (made once and for all), or failed and due again
   * at `retryAt`. Resolves false when `owner` no longer holds it.
   */
  finishThen(runId: string, owner: string, outcome: { readonly sent: true } | { readonly sent: false; readonly error: string; readonly retryAt: number }, now: number): Promise<boolean>;
  /** Unacknowledged escalations by workflow (with those past due at `now`), for gauges. */
  countEscalations(now: number): Promise<EscalationCount[]>;
  close(): Promise<void>;
}

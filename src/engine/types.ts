/**
 * What the engine takes and returns. The engine is driven through `runWorkflow`: the CLI today,
 * the daemon later. It prints nothing; everything it does is journaled and returned.
 */
import type { ConnectorRuntime } from '../connectors/runtime.js';
import type { Masker } from '../secrets/masker.js';
import type { ErrorInfo, Journal, RunRecord, RunStatus, StepStatus } from '../store/run-log.js';
import type { ApprovalAnswer } from '../store/store.js';
import type { Clock } from './clock.js';

/** A workflow ready to run: its parsed value and the facts every record carries. */
export interface LoadedWorkflow {
  readonly file: string;
  readonly value: Readonly<Record<string, unknown>>;
  readonly name: string;
  readonly owner: string;
  /** Content hash of the file: `sha256:<hex>`. */
  readonly version: string;
  readonly baseline: Readonly<Record<string, unknown>> | null;
}

/** Delivers events to `wait_for` steps. Without one, a wait_for waits out its timeout. */
export interface EventSource {
  waitFor(name: string, match: (payload: unknown) => boolean, timeoutMs: number, signal: AbortSignal): Promise<{ readonly payload: unknown } | { readonly timedOut: true }>;
}

export interface RunRequest {
  readonly workflow: LoadedWorkflow;
  readonly event: unknown;
  /** How the run was started, e.g. `manual`, `schedule`, `webhook`. */
  readonly trigger: string;
  /** A schedule fire's time (ms): recorded in `run.started`, whose `ts` is the actual start. */
  readonly scheduledFor?: number;
  /**
   * When the triggering event was received (ms): the webhook's intake, the schedule's fire time,
   * the emitted event's creation. Recorded as `run.started`'s `received_at`, which time-to-response
   * in `flux metrics` counts from; a run queued behind others started later than this. Without
   * it (`flux run`), the event was received when the run started.
   */
  readonly receivedAt?: number;
  /** Secret values by name; missing declared secrets reject the run before any step. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Environment overrides for the workflow's declared `env` names. */
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly connectors: Readonly<Record<string, ConnectorRuntime>>;
  readonly clock: Clock;
  readonly journal: Journal;
  readonly masker: Masker;
  readonly runId: string;
  /** Which attempt of the run this is (default 1): a run rescued from a daemon that died is attempt 2. */
  readonly attempt?: number;
  /**
   * This turn goes on with a run already started (woken from a wait, or rescued): it is
   * recorded as `run.resumed`, not `run.started`, and replays `history`.
   */
  readonly resume?: boolean;
  /**
   * Steps an earlier attempt completed, by step key (see `stepKey`). Each is replayed: its
   * journaled outcome becomes `steps.<id>` again without running it or recording it twice, so
   * the first step not completed is where work restarts, with the same idempotency key.
   */
  readonly history?: ReadonlyMap<string, JournaledStep>;
  /**
   * Called as each step (nested ones included) completes, with its full output, for a durable
   * journal. The engine waits for it before the next step starts; if it fails, the run stops
   * and fails as when the run log cannot be written.
   */
  readonly onStepCompleted?: (step: JournaledStep, emits: readonly EmittedEvent[]) => Promise<void> | void;
  /**
   * Values an earlier attempt took from the clock (or from randomness) and journaled, by key
   * (see `JournaledDraw`): this attempt reads them instead of taking new ones, so expressions
   * see the same `run.started_at` on every attempt of a run.
   */
  readonly draws?: ReadonlyMap<string, number>;
  /**
   * Called when the engine takes a value a later attempt must see the same, for the durable
   * journal; written before the first step runs, and a failed write fails the run as a step's does.
   */
  readonly onDraw?: (draw: JournaledDraw) => Promise<void> | void;
  /**
   * The caller gives up on the run: it will not be run again (a daemon rescued it from crashed
   * daemons more often than its resume budget allows). The attempt records `run.resumed` and
   * fails the run with this reason as any failure is handled: no workflow step runs, the owner
   * is told through `on_error.escalate` (the run ends `escalated` when that was delivered,
   * `failed` otherwise) and the `on_error` steps run.
   */
  readonly abandon?: Abandon;
  /**
   * Durable waits (the daemon): a `wait` or `wait_for` whose time has not come journals a
   * `waiting` entry and ends this attempt with status `waiting`, holding no memory; a later
   * attempt replays up to it and finishes it once its time has come or its event arrived.
   * Without this (`flux run`), waits wait in the process.
   */
  readonly durableWaits?: boolean;
  /**
   * Events delivered to this attempt, in the order they arrived, for `wait_for` steps that wait
   * for them. Each is a candidate: the first one whose `match` holds (against the run's own
   * context, which only the engine has) completes the wait; the others are passed over, and a
   * wait none of them completes suspends again. A candidate with `step` is only for the
   * `wait_for` with that step key.
   */
  readonly deliver?: DeliveredEvent | readonly DeliveredEvent[];
  /**
   * A reason the caller already refuses the event for (e.g. its text was too large to read):
   * the run is recorded `rejected` with it and no step runs.
   */
  readonly refuse?: string;
  /**
   * For `approval` steps: the answers recorded for this run (the daemon reads them from the
   * store; `flux run --answer` gives them), and how to make the link a person answers through
   * (the daemon's signed `/approvals/<token>` URL for a step key, expiring with the step; with
   * `approver`, a link only that person answers through).
   */
  readonly approvals?: {
    readonly answers: readonly ApprovalAnswer[];
    link?(stepKey: string, expiresAt: number, approver?: string): string;
  };
  /**
   * Opens an escalation's acknowledgement (the daemon supplies it): called before the owner is
   * told of a failure through an `on_error.escalate` with `ack_within`, it stores what is to be
   * acknowledged (once per run, whatever replays) and returns the link the message carries.
   * Without it (`flux run`), nobody could take the acknowledgement: the run log says so.
   */
  readonly openAck?: (ack: AckRequest) => Promise<{ readonly url: string; readonly ackDueAt: number }>;
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly random?: () => number;
  readonly events?: EventSource;
  /** Called with every journaled record (already masked), for live progress. */
  readonly onRecord?: (record: RunRecord) => void;
  /** Called as `foreach` items complete. */
  readonly onProgress?: (progress: { readonly step: string; readonly path: string; readonly done: number; readonly total: number }) => void;
}

/** What `RunRequest.openAck` is given: the escalation whose acknowledgement is opened. */
export interface AckRequest {
  readonly runId: string;
  readonly error: ErrorInfo;
  readonly escalatedAt: number;
  /** The deadline: `ack_within` after `escalatedAt`. */
  readonly ackDueAt: number;
  /** Whether `on_error.escalate.then` is to be called past the deadline. */
  readonly hasThen: boolean;
}

/** An event delivered to a run for a `wait_for` (see RunRequest.deliver). */
export interface DeliveredEvent {
  readonly event: string;
  readonly payload: unknown;
  /** The step key of the `wait_for` it was delivered to; without it, any wait_for for the event. */
  readonly step?: string;
}

/**
 * An event an `emit` step emitted, handed to `onStepCompleted` with the step's entry so a
 * durable journal stores both at once: exactly once, however often the run is replayed.
 */
export interface EmittedEvent {
  readonly event: string;
  /** The payload, masked as the run log masks it: a secret does not travel to another workflow. */
  readonly data: unknown;
}

/** A completed step as the durable journal keeps it: enough to replay it on a later attempt. */
export interface JournaledStep {
  /** `<step id>` or `<step id>:<item index>…` inside foreach: unique within a run. */
  readonly key: string;
  readonly step: string;
  readonly path: string;
  readonly index?: readonly number[];
  /** `waiting`: a durable wait began and has not ended; `wake_at` says until when. */
  readonly status: StepStatus | 'waiting';
  /** For a waiting entry: when the wait ends (ms since the epoch), and when it began. */
  readonly wake_at?: number;
  readonly started_at?: number;
  /** For a waiting `wait_for`: the event it waits for. */
  readonly event?: string;
  /** The full output (the run log caps outputs; the journal does not). */
  readonly output: unknown;
  readonly error?: string;
  readonly attempts: number;
  readonly http_status?: number;
  readonly continued?: boolean;
  readonly duration_ms: number;
}

/** Why a run is given up on, and whether its owner may still be called (see `RunRequest.abandon`). */
export interface Abandon {
  readonly reason: string;
  /**
   * False when an earlier attempt to give the run up was itself cut short by a crash: the
   * escalation (or an on_error step) may be what kills the daemon, so nothing is called again;
   * the run log says the owner was not reached, and the run ends `failed`.
   */
  readonly escalate: boolean;
}

/** A value taken from the clock or from randomness, journaled so a later attempt reads it back. */
export interface JournaledDraw {
  /** What it is, unique within the run: e.g. `run.started_at`. */
  readonly key: string;
  readonly kind: 'time' | 'random';
  readonly value: number;
}

/** The key of a step within a run: its id, and its item indexes inside foreach. */
export function stepKey(step: string, index: readonly number[]): string {
  return index.length === 0 ? step : `${step}:${index.join(':')}`;
}

export interface StepSummary {
  readonly step: string;
  readonly path: string;
  readonly status: StepStatus;
  readonly duration_ms: number;
  readonly attempts: number;
  readonly http_status?: number;
  readonly error?: string;
  readonly continued?: boolean;
  /** Completed by an earlier attempt and replayed from the journal, not run again. */
  readonly replayed?: boolean;
}

export interface RunResult {
  readonly run_id: string;
  readonly workflow: string;
  readonly workflow_version: string;
  /** `waiting`: the attempt ended at a durable wait (see `waiting`); the run goes on later. */
  readonly status: RunStatus | 'waiting';
  readonly duration_ms: number;
  readonly dry_run: boolean;
  /** What a waiting run waits for: the earliest wake time, and the event when it is a wait_for. */
  readonly waiting?: { readonly step: string; readonly key: string; readonly path: string; readonly wake_at: string; readonly event?: string };
  /** Top-level steps in order (nested steps are in the run log). */
  readonly steps: readonly StepSummary[];
  readonly error?: ErrorInfo;
  readonly escalation?: { readonly via: string; readonly delivered: boolean; readonly delivery_error?: string };
  readonly emitted: readonly { readonly event: string; readonly data: unknown }[];
}

/**
 * The acknowledgement watcher: makes an escalation's `then` call (on_error.escalate.then) once
 * its `ack_within` deadline has passed unacknowledged. Each tick (the daemon's poll, on the
 * injected clock) claims the due escalations from the store (`claimDueThen`: a lease, so one
 * daemon makes each call), makes each call through the workflow version's connections and
 * secrets (engine/escalation-then.ts), appends `escalation.then` to the run's log, and records
 * the outcome: sent, once and for all, or failed and due again after a back-off.
 *
 * Restarts: the claim is journaled before the call and the outcome after it, as the engine
 * does for steps. A daemon killed before the deadline finds the row due after it restarts; one
 * killed after recording the call never makes it again; one killed between the call and its
 * record makes it again once the lease lapses, with the same idempotency key.
 */
import type { ConnectorRuntime } from '../connectors/runtime.js';
import type { Clock } from '../engine/clock.js';
import { sendThen } from '../engine/escalation-then.js';
import { Masker } from '../secrets/masker.js';
import { FileJournal, runLogPath } from '../store/run-log.js';
import type { EscalationRow, Store } from '../store/store.js';
import type { DaemonLog } from './log.js';
import type { DaemonMetrics } from './metrics.js';
import { workflowOf } from './runner.js';

/** The first retry of a failed `then` call waits this long; each next one twice as long, up to THEN_MAX_BACKOFF_MS. */
export const THEN_FIRST_BACKOFF_MS = 30_000;
export const THEN_MAX_BACKOFF_MS = 3_600_000;
/** At most this many calls per tick; each is claimed just before it is made. */
const BATCH = 10;
/**
 * The least a claim on a `then` call is held: longer than the call may take (its 30 s
 * timeout), so that no other daemon takes it over while it is being made.
 */
const THEN_LEASE_MIN_MS = 60_000;

export interface AckWatchDeps {
  readonly store: Store;
  /** This daemon's name in leases. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly clock: Clock;
  readonly connectors: Readonly<Record<string, ConnectorRuntime>>;
  readonly secrets: Readonly<Record<string, string>>;
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly logDir: string;
  /** The acknowledgement link the `then` message carries (ack-links.ts). */
  readonly ackLink: (runId: string, ackDueAt: number) => string;
  readonly log: DaemonLog;
  readonly metrics: DaemonMetrics;
}

export interface AckWatch {
  /** Makes the `then` calls due now; a tick already under way is not doubled. */
  tick(): Promise<void>;
  /** Waits for calls in flight. */
  stop(): Promise<void>;
}

/** When a `then` call that failed on attempt `attempt` is tried again. */
export function thenRetryAt(attempt: number, now: number): number {
  return now + Math.min(THEN_MAX_BACKOFF_MS, THEN_FIRST_BACKOFF_MS * 2 ** Math.min(20, Math.max(0, attempt - 1)));
}

/** Starts the watcher; the daemon calls `tick` on every poll. */
export function ackWatch(d: AckWatchDeps): AckWatch {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    running ??= (async () => {
      try {
        for (let n = 0; n < BATCH && !stopped; n++) {
          const [due] = await d.store.claimDueThen(d.owner, 1, Math.max(d.leaseMs, THEN_LEASE_MIN_MS), d.clock.now());
          if (due === undefined) break;
          await callThen(d, due);
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        d.log.error(`escalation then calls: ${message}`, { kind: 'escalation.then_failed', error: message });
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
  return {
    tick,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

async function callThen(d: AckWatchDeps, e: EscalationRow): Promise<void> {
  const now = d.clock.now();
  const retryAt = thenRetryAt(e.thenAttempts, now);
  const fields = { run_id: e.runId, workflow: e.workflow, attempt: e.thenAttempts };
  const loaded = await workflowOf(e.workflowVersion, d.store);
  let outcome: { ok: true } | { ok: false; error: string };
  if (!loaded.ok) {
    outcome = { ok: false, error: loaded.reason };
  } else {
    const workflow = loaded.value;
    const run = await d.store.getRun(e.runId);
    const path = runLogPath(d.logDir, e.workflow, e.runId);
    let journal: FileJournal | undefined;
    try {
      journal = new FileJournal(path);
    } catch {
      journal = undefined; // the call is still made; the daemon log says it happened
    }
    const masker = new Masker();
    try {
      outcome = await sendThen({
        workflow, event: run?.event ?? {}, trigger: run?.trigger ?? 'manual', secrets: d.secrets, environment: d.environment, connectors: d.connectors,
        clock: d.clock, journal: journal ?? { append: () => {}, close: async () => {} }, masker, runId: e.runId, error: e.error, escalatedAt: e.escalatedAt,
        ackDueAt: e.ackDueAt, ackUrl: d.ackLink(e.runId, e.ackDueAt), attempt: e.thenAttempts, retryAt,
      });
    } finally {
      await journal?.close().catch(() => undefined);
    }
  }
  const held = await d.store.finishThen(e.runId, d.owner, outcome.ok ? { sent: true } : { sent: false, error: outcome.error, retryAt }, d.clock.now());
  d.metrics.escalationThen(e.workflow, outcome.ok);
  if (!held) d.log.warn(`run ${e.runId} ${e.workflow}: the then call's lease lapsed before it was recorded; another daemon may call again`, { kind: 'escalation.then_lost', ...fields });
  if (outcome.ok) d.log.info(`run ${e.runId} ${e.workflow}: not acknowledged by ${e.owner} in time; then call made`, { kind: 'escalation.then', ...fields, delivered: true });
  else d.log.error(`run ${e.runId} ${e.workflow}: the then call failed (attempt ${e.thenAttempts}), trying again at ${new Date(retryAt).toISOString()}: ${outcome.error}`, { kind: 'escalation.then', ...fields, delivered: false, error: outcome.error });
}

/**
 * The poll trigger in the daemon: every `trigger.poll` workflow is polled every `every`, and
 * each item not seen before starts one run, with the item as its event.
 *
 * - One timer for all polls, like the scheduler: it sleeps until the soonest poll is due, never
 *   longer than `maxSleepMs` (1 s), so a clock moved from outside is noticed within that bound.
 * - A poll is taken by a lease in the store (`claimPoll`: due, and no live lease), so with
 *   several daemons on one store each poll is made by one of them. The lease (`leaseMs`,
 *   default 5 min) bounds the poll: it is aborted before its lease runs out. A daemon that dies
 *   mid-poll holds the poll until its lease lapses; then any daemon polls again.
 * - The first successful poll of a workflow is its baseline (`initial: baseline`, the default):
 *   its items are recorded as seen and start nothing. With `initial: all` they run.
 * - New items are decided by the store in one transaction with their runs (`completePoll`):
 *   marking a key seen and enqueuing its run happen together or not at all.
 * - A failed poll is tried again after every × 2^(n−1) for the n-th failure in a row, at most
 *   MAX_BACKOFF_MS (1 hour; or `every`, when that is longer). After `escalate_after` failures
 *   in a row (default 3) the owner is told once, through `on_error.escalate`; a success starts
 *   the count again. Each failure is logged, counted on /metrics (`flux_poll_failures`).
 *
 * The poller prints nothing itself: it reports through `log` and `metrics`.
 */
import type { Clock } from '../engine/clock.js';
import { newRunId } from '../engine/run-id.js';
import type { LoadedWorkflow } from '../engine/types.js';
import { Masker } from '../secrets/masker.js';
import { DEFAULT_MAX_SEEN_KEYS, type PolledKey, type Store } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import { pollOnce, pollSpec, type PollDeps, type PollSpec } from '../triggers/poll.js';
import { escalatePollFailures } from '../triggers/poll-escalation.js';
import type { DaemonLog } from './log.js';
import type { DaemonMetrics } from './metrics.js';

/** The longest a failing poll waits before it is tried again (unless `every` is longer). */
export const MAX_BACKOFF_MS = 3_600_000;
/** How long a daemon holds a poll by default; the poll is aborted before it runs out. */
export const DEFAULT_POLL_LEASE_MS = 5 * 60_000;
/** How long before a store error is tried again. */
const RETRY_MS = 1000;

/** When the n-th failed poll in a row is tried again: every × 2^(n−1), at most an hour (or every). */
export function pollBackoffMs(everyMs: number, failures: number): number {
  const cap = Math.max(everyMs, MAX_BACKOFF_MS);
  return Math.min(cap, everyMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
}

/** The poller's parts; `connectors`, `secrets` (the daemon's environment) and `environment` as a poll takes them. */
export interface PollerOptions extends Pick<PollDeps, 'connectors' | 'secrets' | 'environment'> {
  readonly store: Store;
  readonly clock: Clock;
  /** This daemon's lease owner id. */
  readonly owner: string;
  readonly log: DaemonLog;
  readonly metrics: DaemonMetrics;
  /** Called once runs were enqueued, so the daemon claims them. */
  readonly onEnqueued?: () => void;
  readonly maxSleepMs?: number;
  readonly leaseMs?: number;
  /** Seen keys kept per workflow (default DEFAULT_MAX_SEEN_KEYS). */
  readonly maxSeen?: number;
}

/** The daemon's poll service. */
export interface Poller {
  /** Sets the polled workflows (at start, and on reload); a new or changed one is due at once. */
  setWorkflows(workflows: readonly LoadedWorkflow[]): Promise<void>;
  /** Polls what is due now; resolves once those polls are recorded. */
  tick(): Promise<void>;
  readonly size: number;
  /** Stops the timer and waits for polls in progress. */
  stop(): Promise<void>;
}

interface Entry {
  readonly workflow: LoadedWorkflow;
  readonly spec: PollSpec;
  next: number;
  polling: boolean;
}

/** Creates the poller; it does nothing until `setWorkflows`. */
export function createPoller(o: PollerOptions): Poller {
  const maxSleep = o.maxSleepMs ?? 1000;
  const leaseMs = o.leaseMs ?? DEFAULT_POLL_LEASE_MS;
  let entries = new Map<string, Entry>();
  const inFlight = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stopping = new AbortController();

  const arm = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped) return;
    let soonest = Number.POSITIVE_INFINITY;
    for (const e of entries.values()) if (!e.polling) soonest = Math.min(soonest, e.next);
    timer = setTimeout(() => void tick(), Math.min(maxSleep, Math.max(0, soonest - o.clock.now())));
    timer.unref();
  };

  const pollEntry = async (e: Entry): Promise<void> => {
    const name = e.workflow.name;
    const now = o.clock.now();
    const claim = await o.store.claimPoll(name, o.owner, leaseMs, now);
    if (!claim.claimed) {
      e.next = claim.retryAt;
      return;
    }
    const state = claim.state;
    const masker = new Masker();
    const deps = { workflow: e.workflow, connectors: o.connectors, secrets: o.secrets, environment: o.environment, masker };
    // The poll must end before its lease does, or another daemon could poll beside it.
    const abort = new AbortController();
    const deadline = setTimeout(() => abort.abort(new Error('the poll took longer than its lease')), Math.max(1000, leaseMs - 10_000));
    deadline.unref();
    const onStop = () => abort.abort(new Error('the daemon is stopping'));
    stopping.signal.addEventListener('abort', onStop, { once: true });
    let result;
    try {
      result = await pollOnce({ ...deps, spec: e.spec, cursor: state.cursor, signal: abort.signal });
    } finally {
      clearTimeout(deadline);
      stopping.signal.removeEventListener('abort', onStop);
    }
    // Cut short by a stop: not the system's failure. Nothing is recorded; the lease lapses.
    if (stopping.signal.aborted) return;
    const done = o.clock.now();
    if (result.ok) {
      const baseline = !state.polled && e.spec.initial === 'baseline';
      // Ids sort by creation and the claim starts queued runs in id order: the pages' order.
      const ids = result.items.map(() => newRunId(done)).sort();
      const keys: PolledKey[] = result.items.map((it, i) => ({
        key: it.key,
        run: baseline ? null : { id: ids[i]!, workflow: name, workflowVersion: e.workflow.version, trigger: 'poll', event: it.item, receivedAt: done },
      }));
      e.next = done + e.spec.everyMs;
      const started = await o.store.completePoll(name, o.owner, keys, result.cursor, e.next, done, o.maxSeen ?? DEFAULT_MAX_SEEN_KEYS);
      o.metrics.polled(name, 'ok', 0, started.length);
      const fields = { kind: 'poll', workflow: name, items: result.items.length, started: started.length, pages: result.pages };
      if (baseline) o.log.info(`poll ${name}: baseline of ${result.items.length} item${result.items.length === 1 ? '' : 's'} recorded; only items after it start runs`, { ...fields, kind: 'poll.baseline' });
      else if (started.length > 0 || state.failures > 0) {
        o.log.info(`poll ${name}: ${result.items.length} item${result.items.length === 1 ? '' : 's'}, ${started.length} new: ${started.length} run${started.length === 1 ? '' : 's'} started${state.failures > 0 ? ` (polling works again after ${state.failures} failure${state.failures === 1 ? '' : 's'})` : ''}`, fields);
      }
      if (result.morePages) o.log.warn(`poll ${name}: more pages than paginate.max_pages (${e.spec.paginate?.maxPages ?? 0}); the rest waits for the next poll`, { ...fields, kind: 'poll.truncated' });
      if (result.dropped > 0) o.log.warn(`poll ${name}: ${result.dropped} items beyond the ${result.items.length} a poll takes were left for the next poll`, { ...fields, kind: 'poll.truncated' });
      if (started.length > 0) o.onEnqueued?.();
      return;
    }
    const failures = state.failures + 1;
    const delay = pollBackoffMs(e.spec.everyMs, failures);
    e.next = done + delay;
    const message = escapeControl(result.message);
    const outcome = await o.store.failPoll(name, o.owner, message, e.next, e.spec.escalateAfter, done);
    o.metrics.polled(name, 'failed', outcome.failures, 0);
    o.log.warn(`poll ${name} failed (${outcome.failures} in a row; next try in ${Math.round(delay / 1000)} s): ${message}`, { kind: 'poll.failed', workflow: name, failures: outcome.failures, error: message });
    if (outcome.escalate) {
      const told = await escalatePollFailures(deps, outcome.failures, message);
      o.metrics.escalation(name, told.delivered);
      const via = told.via;
      if (told.delivered) o.log.warn(`poll ${name}: ${outcome.failures} polls in a row failed; the owner was told through ${via}`, { kind: 'poll.escalated', workflow: name, via, delivered: true });
      else o.log.error(`poll ${name}: ${outcome.failures} polls in a row failed and the owner could not be told (${via}): ${escapeControl(told.error ?? '')}`, { kind: 'poll.escalated', workflow: name, via, delivered: false });
    }
  };

  const tick = async (): Promise<void> => {
    if (stopped) return;
    const now = o.clock.now();
    const due = [...entries.values()].filter((e) => !e.polling && e.next <= now);
    const polls = due.map(async (e) => {
      e.polling = true;
      try {
        await pollEntry(e);
      } catch (error) {
        e.next = o.clock.now() + RETRY_MS;
        const message = error instanceof Error ? error.message : String(error);
        o.log.error(`poll ${e.workflow.name}: could not record the poll: ${message}; trying again in ${RETRY_MS / 1000} s`, { kind: 'poll.store_failed', workflow: e.workflow.name, error: message });
      } finally {
        e.polling = false;
      }
    });
    const all = Promise.all(polls).then(() => undefined);
    inFlight.add(all);
    try {
      await all;
    } finally {
      inFlight.delete(all);
      arm();
    }
  };

  return {
    async setWorkflows(workflows) {
      const next = new Map<string, Entry>();
      for (const workflow of workflows) {
        const spec = pollSpec(workflow);
        if (!spec) continue;
        const old = entries.get(workflow.name);
        // A kept version keeps its timing; a new or changed one asks the store (which knows when it is due).
        next.set(workflow.name, old && old.workflow.version === workflow.version ? old : { workflow, spec, next: Number.NEGATIVE_INFINITY, polling: false });
      }
      entries = next;
      await tick();
    },
    tick,
    get size() {
      return entries.size;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      stopping.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}

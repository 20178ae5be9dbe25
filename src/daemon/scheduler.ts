/**
 * The schedule trigger in the daemon: it turns every `trigger.schedule` into runs, on time, and
 * each fire into exactly one run, however often the daemon restarts, reloads or catches up.
 *
 * - One timer for all schedules: a min-heap holds each schedule's next fire, and the timer is
 *   armed for the soonest one, so 1,000 schedules cost one timer and a heap, not 1,000 timers.
 *   The timer never sleeps longer than `maxSleepMs` (1 s), so a clock that jumps (a suspended
 *   machine, a test clock moved from outside) is noticed within that bound.
 * - A tick asks the planner (`dueFires` in triggers/schedule.ts) which fires are due between
 *   the schedule's cursor and now, with `catch_up` deciding what becomes of fires older than
 *   its grace (missed while the daemon was down or stalled), and enqueues them in one store
 *   write, each under its fire key (`workflow@scheduled-time`, a UNIQUE row) and with its
 *   `scheduledFor`, before any run starts. A fire enqueued before (by this daemon before a
 *   restart, or by another daemon on the same store) comes back as a duplicate and runs once.
 * - Fires are enqueued a little ahead of their time (`leadMs`, 250 ms): the store does not hand
 *   out a queued run before its `scheduledFor`, and the timer wakes again at that instant to
 *   claim it, so the durable enqueue (a commit and an fsync) is off the path from the
 *   scheduled instant to the run's start. The price: an `overlap: skip` fire is decided up to
 *   `leadMs` before its time.
 * - The cursor starts at the store's `lastFire` (the newest fire enqueued), so fires missed
 *   while the daemon was down are found at start; afterwards it is the time of the last tick.
 *   A schedule that never fired starts when its workflow version was first stored: nothing
 *   from before it runs, and what it missed while the daemon was down goes by `catch_up`.
 * - `overlap: skip` is decided by the store in the same write (a fire while a run of the
 *   workflow is queued, running or waiting is skipped, and logged and counted here); `queue`
 *   and `skip` workflows are limited to one run at a time in the claim (see limits.ts), so a
 *   queued fire, and each fire of a catch-up, starts once the previous run finished.
 *
 * The scheduler prints nothing itself: it reports through `log` and an optional observer,
 * which /metrics uses to count skipped and missed fires and how late fires started.
 */
import type { Clock } from '../engine/clock.js';
import { newRunId } from '../engine/run-id.js';
import type { LoadedWorkflow } from '../engine/types.js';
import type { NewRun, Overlap, Store } from '../store/store.js';
import { scheduleFor } from '../triggers/cron-next.js';
import { DEFAULT_CAP, DEFAULT_GRACE_MS, dueFires, fireKey, scheduledForKey, type CatchUp, type Schedule } from '../triggers/schedule.js';
import { asRecord } from '../workflow/model.js';
import { MinHeap } from './min-heap.js';

/** What the scheduler reports for metrics; every method is optional. */
export interface ScheduleObserver {
  /** A fire was not run because a run of the workflow was in progress (`overlap: skip`). */
  fireSkipped?(workflow: string, scheduledFor: number): void;
  /** `count` fires were missed (late beyond the grace) and not caught up (`catch_up`, or its cap). */
  firesMissed?(workflow: string, count: number): void;
}

export interface SchedulerOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** One line per thing that happened (fires skipped, missed, caught up; store errors). */
  readonly log: (line: string) => void;
  readonly observer?: ScheduleObserver;
  /** Called after every completed tick: the daemon's /healthz hears the scheduler is alive. */
  readonly onTick?: () => void;
  /** Called when enqueued fires are due to start (at once, or at their time), so the daemon claims them. */
  readonly onEnqueued?: () => void;
  /** How long before its time a fire is enqueued (default 250 ms). */
  readonly leadMs?: number;
  /** The longest the timer sleeps before looking at the clock again (default 1000 ms). */
  readonly maxSleepMs?: number;
  /** `catch_up: all` runs at most this many missed fires of a schedule at once (default 100). */
  readonly catchUpCap?: number;
  /** A fire at most this late is on time; older ones are missed and go by `catch_up` (default 60 s). */
  readonly graceMs?: number;
}

/** The daemon's schedule service. */
export interface Scheduler {
  /**
   * Sets the scheduled workflows (at start, and on reload). A schedule kept across a reload
   * keeps its cursor; a new one starts from the store's last fire. Resolves once due fires
   * (catch-up included) are enqueued.
   */
  setWorkflows(workflows: readonly LoadedWorkflow[]): Promise<void>;
  /** Looks for due fires now (the timer does this on its own); resolves once they are enqueued. */
  tick(): Promise<void>;
  /** The time of the last completed tick (for health checks), or undefined before the first. */
  readonly lastTickAt: number | undefined;
  /** How many schedules it drives. */
  readonly size: number;
  /** Stops the timer and waits for a tick in progress. */
  stop(): Promise<void>;
}

/** A workflow's schedule settings, with the defaults filled in; undefined when it has no schedule. */
export interface ScheduleSpec {
  readonly cron: string;
  readonly timezone: string | undefined;
  readonly overlap: Overlap;
  readonly catchUp: CatchUp;
}

/** The `trigger.schedule` of a workflow, or undefined. */
export function scheduleSpec(workflow: LoadedWorkflow): ScheduleSpec | undefined {
  const s = asRecord(asRecord(workflow.value.trigger)?.schedule);
  if (!s || typeof s.cron !== 'string') return undefined;
  const overlap = s.overlap === 'queue' || s.overlap === 'allow' ? s.overlap : 'skip';
  const catchUp = s.catch_up === 'latest' || s.catch_up === 'all' ? s.catch_up : 'none';
  return { cron: s.cron, timezone: typeof s.timezone === 'string' ? s.timezone : undefined, overlap, catchUp };
}

/** One schedule: where it stands and when it next fires. */
interface Entry {
  readonly workflow: LoadedWorkflow;
  readonly spec: ScheduleSpec;
  readonly schedule: Schedule;
  /** Every fire scheduled at or before this instant is decided. */
  cursor: number;
  /** When the timer should next plan it (`leadMs` before its next fire, or a retry after a store error). */
  next: number;
}

const RETRY_MS = 1000;

/** Creates the scheduler; it does nothing until `setWorkflows`. */
export function createScheduler(o: SchedulerOptions): Scheduler {
  const maxSleep = o.maxSleepMs ?? 1000;
  const cap = o.catchUpCap ?? DEFAULT_CAP;
  const grace = o.graceMs ?? DEFAULT_GRACE_MS;
  let entries = new Map<string, Entry>();
  const lead = Math.max(0, o.leadMs ?? 250);
  let heap = new MinHeap<Entry>((e) => e.next);
  // Times at which fires enqueued ahead come due: the daemon is told to claim them then.
  const starts = new MinHeap<number>((t) => t);
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let lastTickAt: number | undefined;

  const arm = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (stopped) return;
    const soonest = Math.min(heap.peek()?.next ?? Number.POSITIVE_INFINITY, starts.peek() ?? Number.POSITIVE_INFINITY);
    const wait = Math.min(maxSleep, Math.max(0, soonest - o.clock.now()));
    timer = setTimeout(() => void tick(), wait);
    timer.unref();
  };

  /** Plans and enqueues the due fires of one schedule; moves its cursor only once they are stored. */
  const plan = async (e: Entry, now: number, horizon: number): Promise<void> => {
    const name = e.workflow.name;
    const due = dueFires({ cron: e.spec.cron, timezone: e.spec.timezone, catchUp: e.spec.catchUp, lastFire: e.cursor, now: horizon, cap, graceMs: grace });
    if (due.missed > 0) {
      const count = `${due.missed}${due.missedExact ? '' : ' or more'} missed fire${due.missed === 1 ? '' : 's'}`;
      const why = e.spec.catchUp === 'all' ? `beyond the catch-up cap of ${cap} (the newest ${cap} run)` : `not run (catch_up: ${e.spec.catchUp})`;
      o.log(`schedule ${name}: ${count} ${why}`);
      o.observer?.firesMissed?.(name, due.missed);
    }
    if (due.fires.length > 0) {
      // Ids sort by creation, and the claim starts queued runs in id order: oldest fire first.
      const ids = due.fires.map(() => newRunId(now)).sort();
      const runs: NewRun[] = due.fires.map((t, i) => ({
        id: ids[i]!, workflow: name, workflowVersion: e.workflow.version, trigger: 'schedule', event: { scheduled_for: scheduledForKey(t) },
        receivedAt: now, scheduledFor: t, key: { kind: 'fire', key: fireKey(name, t) },
      }));
      const outcomes = await o.store.enqueueFires(runs, e.spec.overlap, now);
      const late = due.fires.filter((t, i) => t < now - grace && outcomes[i]?.kind === 'created');
      if (late.length > 0) o.log(`schedule ${name}: catching up ${late.length} missed fire${late.length === 1 ? '' : 's'} (catch_up: ${e.spec.catchUp}), from ${scheduledForKey(late[0]!)}`);
      const skipped = due.fires.filter((_, i) => outcomes[i]?.kind === 'skipped');
      const blocker = outcomes.find((out) => out.kind === 'skipped');
      if (blocker?.kind === 'skipped') {
        // One line for a skipped catch-up, not one per fire.
        const what = skipped.length === 1 ? `scheduled for ${scheduledForKey(skipped[0]!)}` : `${skipped.length} fires scheduled from ${scheduledForKey(skipped[0]!)} to ${scheduledForKey(skipped.at(-1)!)}`;
        o.log(`fire skipped: ${name} ${what}: run ${blocker.blockedBy} is still in progress (overlap: skip)`);
        for (const t of skipped) o.observer?.fireSkipped?.(name, t);
      }
      let startNow = false;
      outcomes.forEach((out, i) => {
        if (out.kind !== 'created') return;
        const t = due.fires[i]!;
        if (t <= now) startNow = true;
        else starts.push(t);
      });
      if (startNow) o.onEnqueued?.();
    }
    e.cursor = horizon;
  };

  const runTick = async (): Promise<void> => {
    const now = o.clock.now();
    const horizon = now + lead;
    let startsDue = false;
    while ((starts.peek() ?? Number.POSITIVE_INFINITY) <= now) {
      starts.pop();
      startsDue = true;
    }
    if (startsDue) o.onEnqueued?.();
    const due: Entry[] = [];
    for (let top = heap.peek(); top !== undefined && top.next <= now; top = heap.peek()) due.push(heap.pop()!);
    // Concurrent plans share the store's group commit: one transaction for all that are due.
    await Promise.all(due.map(async (e) => {
      try {
        await plan(e, now, horizon);
        e.next = (e.schedule.next(horizon) ?? Number.POSITIVE_INFINITY) - lead;
      } catch (error) {
        // Nothing was stored: the cursor stays, so the same fires are planned again.
        o.log(`schedule ${e.workflow.name}: could not enqueue its fires: ${error instanceof Error ? error.message : String(error)}; trying again in ${RETRY_MS / 1000} s`);
        e.next = now + RETRY_MS;
      }
    }));
    for (const e of due) if (entries.get(e.workflow.name) === e) heap.push(e);
    lastTickAt = now;
    o.onTick?.();
  };

  const tick = async (): Promise<void> => {
    if (ticking) {
      again = true;
      return ticking;
    }
    ticking = (async () => {
      do {
        again = false;
        await runTick();
      } while (again && !stopped);
    })().finally(() => {
      ticking = undefined;
      arm();
    });
    return ticking;
  };

  /**
   * Where a schedule not yet planned by this scheduler starts: after its last fire; for one
   * that never fired, when its workflow version was first stored (by this daemon at start, or
   * by an earlier one), so fires missed while the daemon was down still count even before the
   * first fire; and now when neither is known. A fire due at that very instant is included.
   */
  const startCursor = async (workflow: LoadedWorkflow): Promise<number> => {
    const last = await o.store.lastFire(workflow.name);
    if (last !== undefined) return last;
    const version = await o.store.getWorkflowVersion(workflow.version);
    return Math.min(version?.createdAt ?? Number.POSITIVE_INFINITY, o.clock.now()) - 1;
  };

  return {
    async setWorkflows(workflows) {
      const next = new Map<string, Entry>();
      for (const workflow of workflows) {
        const spec = scheduleSpec(workflow);
        if (!spec) continue;
        const old = entries.get(workflow.name);
        const cursor = old ? old.cursor : await startCursor(workflow);
        // Due at once: the first tick plans from the cursor, catch-up included.
        next.set(workflow.name, { workflow, spec, schedule: scheduleFor(spec.cron, spec.timezone), cursor, next: Number.NEGATIVE_INFINITY });
      }
      await ticking;
      entries = next;
      heap = new MinHeap<Entry>((e) => e.next);
      for (const e of next.values()) heap.push(e);
      await tick();
    },
    tick,
    get lastTickAt() {
      return lastTickAt;
    },
    get size() {
      return entries.size;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await ticking;
    },
  };
}

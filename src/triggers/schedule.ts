/**
 * The schedule trigger's planner: which scheduled instants of a cron are due at `now`, given where
 * the previous tick stopped, and what a missed fire becomes under `catch_up`. Pure: time comes in
 * as numbers, nothing sleeps or reads the clock. A fire is identified by its scheduled instant,
 * which the daemon stores as a UNIQUE (workflow, scheduled_for) row before running it (Solid
 * Queue's recurring tasks), so every planner and every restart computes the same instants.
 */
import { compileSchedule, nextFire, scheduleFor, type Schedule } from './cron-next.js';

export { compileSchedule, nextFire, type Schedule };

export type CatchUp = 'none' | 'latest' | 'all';

/** A fire at most this late (ms) is on time and runs whatever `catch_up` says; an older one was missed. */
export const DEFAULT_GRACE_MS = 60_000;
/** The most fires `catch_up: all` runs at once; older ones are counted as missed. */
export const DEFAULT_CAP = 100;
/** Due fires enumerated before counting stops (a schedule every second, down for 11 days). */
export const DEFAULT_SCAN_LIMIT = 1_000_000;

export interface DueFiresInput {
  readonly cron: string;
  /** IANA zone; default UTC. */
  readonly timezone?: string;
  readonly catchUp: CatchUp;
  /**
   * Everything scheduled at or before this instant is already accounted for: the `now` of the
   * previous tick whose fires were stored (store it with them, in the same transaction). For a
   * schedule never planned, undefined: only on-time fires count, nothing from before.
   */
  readonly lastFire: number | undefined;
  readonly now: number;
  /** `catch_up: all` runs at most this many fires (the newest ones); default 100. */
  readonly cap?: number;
  /** Default 60 s. */
  readonly graceMs?: number;
  /** Default 1,000,000. */
  readonly scanLimit?: number;
}

export interface DueFires {
  /** Scheduled instants (ms) to run now, oldest first. */
  readonly fires: readonly number[];
  /** Due instants that will not run: late beyond the grace and not caught up, or beyond the cap. */
  readonly missed: number;
  /** False when counting stopped at the scan limit: `missed` is then a lower bound. */
  readonly missedExact: boolean;
}

/**
 * The scheduled instants in (lastFire, now] to run now. A fire at most `graceMs` late is on time
 * and always runs. Older ones were missed (the daemon was down or stalled):
 * - `none`: dropped, counted in `missed`;
 * - `latest`: the most recent one runs, unless an on-time fire already does;
 * - `all`: all run, oldest first, up to `cap` in all (the newest `cap`; older ones are counted).
 * The next call should pass this call's `now` as `lastFire`.
 */
export function dueFires(input: DueFiresInput): DueFires {
  const { catchUp, lastFire, now } = input;
  const cap = input.cap ?? DEFAULT_CAP;
  const grace = input.graceMs ?? DEFAULT_GRACE_MS;
  const scanLimit = input.scanLimit ?? DEFAULT_SCAN_LIMIT;
  if (!Number.isFinite(now)) throw new RangeError(`now must be a finite instant in ms, not ${now}`);
  if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`cap must be a whole number of at least 1, not ${cap}`);
  if (!(grace >= 0)) throw new RangeError(`graceMs must be at least 0, not ${grace}`);
  const schedule = scheduleFor(input.cron, input.timezone);
  const onTimeFrom = now - grace;

  // On time: at most `grace` late.
  const onTime = between(schedule, Math.max(lastFire ?? Number.NEGATIVE_INFINITY, onTimeFrom - 1), now, Number.POSITIVE_INFINITY);
  if (lastFire === undefined || lastFire >= onTimeFrom - 1) return { fires: onTime, missed: 0, missedExact: true };

  // Missed: due before the grace. Keep only the newest ones that can still run.
  const keep = catchUp === 'all' ? Math.max(0, cap - onTime.length) : catchUp === 'latest' && onTime.length === 0 ? 1 : 0;
  const older = newest(schedule, lastFire, onTimeFrom - 1, keep, scanLimit);
  return { fires: [...older.kept, ...onTime.slice(-cap)], missed: older.count - older.kept.length + Math.max(0, onTime.length - cap), missedExact: older.exact };
}

/** Fires in (from, to], oldest first, at most `limit`. */
function between(schedule: Schedule, from: number, to: number, limit: number): number[] {
  const out: number[] = [];
  let at = schedule.next(from);
  while (at !== undefined && at <= to && out.length < limit) {
    out.push(at);
    at = schedule.next(at);
  }
  return out;
}

/** Counts the fires in (from, to] and keeps the newest `keep`, enumerating at most `scanLimit`. */
function newest(schedule: Schedule, from: number, to: number, keep: number, scanLimit: number): { kept: number[]; count: number; exact: boolean } {
  const ring: number[] = [];
  let count = 0;
  let counted = from;
  let at = schedule.next(from);
  while (at !== undefined && at <= to && count < scanLimit) {
    count++;
    counted = at;
    if (keep > 0) {
      ring.push(at);
      if (ring.length >= 2 * keep + 16) ring.splice(0, ring.length - keep);
    }
    at = schedule.next(at);
  }
  if (at === undefined || at > to) return { kept: keep > 0 ? ring.slice(-keep) : [], count, exact: true };
  // Counting stopped early: find the newest `keep` by looking back from `to` in widening windows.
  let kept: number[] = [];
  let tail = 0;
  for (let span = 60_000; keep > 0; span *= 4) {
    const windowFrom = Math.max(counted, to - span);
    const found = between(schedule, windowFrom, to, Number.POSITIVE_INFINITY);
    kept = [...(windowFrom === counted ? ring : []), ...found].slice(-keep);
    tail = found.length;
    if (found.length >= keep || windowFrom === counted) break;
  }
  return { kept, count: count + tail, exact: false };
}

/** The key of a fire: the scheduled instant as an ISO 8601 string in UTC, with milliseconds. */
export function scheduledForKey(scheduledFor: number): string {
  return new Date(scheduledFor).toISOString();
}

/** `workflow@scheduled-for`, unique per fire (workflow names are slugs: no `@`). */
export function fireKey(workflow: string, scheduledFor: number): string {
  return `${workflow}@${scheduledForKey(scheduledFor)}`;
}

/** How late (ms) a fire started; negative when it started before its time (clock skew). */
export function lateness(scheduledFor: number, startedAt: number): number {
  return startedAt - scheduledFor;
}

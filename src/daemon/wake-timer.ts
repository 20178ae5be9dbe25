/**
 * Wake timers: a run parked in a durable wait is due at a time known when it parks, so the
 * daemon asks the store for due runs at that time instead of at its next poll. Without it a
 * run whose wait ends between two polls (every 250 ms) waits for the second, and resumes up
 * to a poll late; with it, it resumes at its time (benchmark: test/bench/waiting-runs-spread.mjs).
 *
 * It holds only times, not runs: when the earliest has come it calls `onDue` once for all the
 * times passed, and the claim loop takes whatever the store says is due (the store stays the
 * one truth: a run woken early by an event, or taken by another daemon, costs one empty claim).
 * It knows only the waits this process parked; runs parked before a restart, or by another
 * daemon on a shared store, are found by the poll, as before. Past `maxPending` times, new ones
 * are left to the poll too, so memory stays bounded however many runs wait.
 *
 * The timer never sleeps longer than `maxSleepMs` before it reads the clock again: a test clock
 * (FLUX_TEST_CLOCK) jumps from outside the process, and setTimeout cannot sleep past ~24.8 days.
 */
import type { Clock } from '../engine/clock.js';
import { MinHeap } from './min-heap.js';

export interface WakeTimerOptions {
  readonly clock: Pick<Clock, 'now'>;
  /** Called when at least one wake time has come: claim what is due. */
  readonly onDue: () => void;
  /** The longest sleep before the clock is read again (default 1 s). */
  readonly maxSleepMs?: number;
  /** At most this many times are kept (default 100,000); the poll finds the runs beyond. */
  readonly maxPending?: number;
}

export interface WakeTimer {
  /** A run parked until `at` (ms since the epoch, on the daemon's clock). */
  add(at: number): void;
  /** How many wake times are kept. */
  readonly pending: number;
  /** Clears the timer; later `add`s are ignored. */
  stop(): void;
}

/** Starts a wake timer; it arms itself when a time is added. */
export function wakeTimer(o: WakeTimerOptions): WakeTimer {
  const maxSleep = o.maxSleepMs ?? 1000;
  const maxPending = o.maxPending ?? 100_000;
  const times = new MinHeap<number>((t) => t);
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let armedFor = Infinity;
  let stopped = false;

  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    armedFor = Infinity;
    const next = times.peek();
    if (next === undefined || stopped) return;
    // At least 1 ms: a timer that fires a moment before the clock reaches `next` tries again
    // at once rather than a poll later.
    const sleep = Math.min(maxSleep, Math.max(1, next - o.clock.now()));
    armedFor = next;
    timer = setTimeout(fire, sleep);
    timer.unref();
  };

  const fire = (): void => {
    timer = undefined;
    const now = o.clock.now();
    let due = false;
    for (let next = times.peek(); next !== undefined && next <= now; next = times.peek()) {
      times.pop();
      size -= 1;
      due = true;
    }
    arm();
    if (due) o.onDue();
  };

  return {
    add(at) {
      if (stopped || size >= maxPending || !Number.isFinite(at)) return;
      times.push(at);
      size += 1;
      if (at < armedFor) arm();
    },
    get pending() {
      return size;
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

// The wake timer (src/daemon/wake-timer.ts): the daemon is told to claim at a parked run's wake
// time, not before and not a poll later. Time is vitest's fake timers (setTimeout and the clock
// move together), or a clock the test sets, as a FLUX_TEST_CLOCK file jumps.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { wakeTimer, type WakeTimer } from '../../src/daemon/wake-timer.js';

let timer: WakeTimer | undefined;
beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2026-11-24T09:00:00Z') });
});
afterEach(() => {
  timer?.stop();
  vi.useRealTimers();
});

function start(now: () => number = () => Date.now(), options: { maxPending?: number } = {}): { due: number[] } {
  const due: number[] = [];
  timer = wakeTimer({ clock: { now }, onDue: () => void due.push(now()), ...options });
  return { due };
}

it('calls for a claim at the wake time, not a moment before', () => {
  const { due } = start();
  const t = Date.now();
  timer!.add(t + 300);
  vi.advanceTimersByTime(299);
  expect(due).toEqual([]);
  vi.advanceTimersByTime(1);
  expect(due).toEqual([t + 300]);
  expect(timer!.pending).toBe(0);
});

it('a wake earlier than the one armed re-arms the timer for it', () => {
  const { due } = start();
  const t = Date.now();
  timer!.add(t + 5_000);
  timer!.add(t + 40);
  vi.advanceTimersByTime(40);
  expect(due).toEqual([t + 40]);
  vi.advanceTimersByTime(4_960);
  expect(due).toEqual([t + 40, t + 5_000]);
});

it('runs due at the same time make one call: the claim loop takes them all', () => {
  const { due } = start();
  const t = Date.now();
  for (let i = 0; i < 1000; i++) timer!.add(t + 100);
  vi.advanceTimersByTime(100);
  expect(due).toEqual([t + 100]);
  expect(timer!.pending).toBe(0);
});

it('a wake already past when it is added calls at once', () => {
  const { due } = start();
  timer!.add(Date.now() - 10_000);
  vi.advanceTimersByTime(1);
  expect(due).toHaveLength(1);
});

it('follows a clock that jumps (a test clock file): the wake is seen within the longest sleep', () => {
  let now = Date.parse('2026-03-02T09:00:00Z');
  const { due } = start(() => now);
  timer!.add(now + 48 * 3_600_000);
  vi.advanceTimersByTime(5_000);
  expect(due).toEqual([]);
  now += 48 * 3_600_000;
  vi.advanceTimersByTime(1_000);
  expect(due).toEqual([now]);
});

it('a wait of months is watched in sleeps of a second, not a spin (setTimeout cannot sleep past ~24.8 days)', () => {
  let reads = 0;
  const { due } = start(() => (reads++, Date.now()));
  timer!.add(Date.now() + 90 * 86_400_000);
  for (let second = 0; second < 3; second++) {
    const before = reads;
    vi.advanceTimersByTime(1_000);
    // It woke once and read the clock (to wake, and to sleep again): neither slept through, nor spun.
    expect(reads - before).toBeGreaterThan(0);
    expect(reads - before).toBeLessThanOrEqual(2);
  }
  expect(due).toEqual([]);
  expect(vi.getTimerCount()).toBe(1);
});

it('keeps at most maxPending times; the poll finds the rest', () => {
  const { due } = start(undefined, { maxPending: 2 });
  const t = Date.now();
  timer!.add(t + 10);
  timer!.add(t + 20);
  timer!.add(t + 5);
  expect(timer!.pending).toBe(2);
  vi.advanceTimersByTime(5);
  expect(due).toEqual([]);
  vi.advanceTimersByTime(15);
  expect(due).toEqual([t + 10, t + 20]);
});

it('stopped, it calls no more and takes no new times', () => {
  const { due } = start();
  timer!.add(Date.now() + 10);
  timer!.stop();
  timer!.add(Date.now() + 20);
  vi.advanceTimersByTime(1_000);
  expect(due).toEqual([]);
  expect(vi.getTimerCount()).toBe(0);
});

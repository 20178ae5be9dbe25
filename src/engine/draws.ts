/**
 * Values a run takes from the clock or from randomness, kept the same across attempts (the
 * determinism rule of replay). A value that something durable may depend on is journaled as a
 * draw when first taken, and a later attempt reads it back instead of taking a new one.
 *
 * What is drawn this way, and what deliberately is not:
 * - `run.started_at` (expressions read it): drawn once, journaled before the first step runs, so
 *   a step re-run after a crash sends what it sent the first time, and a step after a two-day
 *   wait sees when the run started, not when it woke.
 * - A durable wait's start and end: journaled with its `waiting` entry (waits.ts), for the same
 *   reason: a 48-hour wait resumed early does not start over.
 * - Retry back-off jitter (calls.ts) is not journaled, on purpose. A completed step is replayed,
 *   never re-run, so its draws are never needed again. The step a crash interrupted had decided
 *   nothing durable with its draws: they only chose how long that attempt slept before calling
 *   again, and its calls carry the step's idempotency key, which does not depend on them. The
 *   re-run step starts its attempts over, and the new sleeps are new facts, logged as such
 *   (`step.retry` records of the later attempt). Journaling each delay would cost a durable write
 *   per retry and change nothing a downstream service or an expression can see.
 * - Step durations and record timestamps describe the attempt that wrote them; they are not
 *   inputs to anything, so each attempt measures its own.
 */
import type { RunState } from './run-state.js';
import type { JournaledDraw } from './types.js';

/**
 * The value of `key`: the one an earlier attempt journaled, or `take()` now, handed to the
 * journal (the write is awaited with the next settleJournal, before the next step starts).
 */
export function draw(run: RunState, key: string, kind: JournaledDraw['kind'], take: () => number): number {
  const earlier = run.req.draws?.get(key);
  if (earlier !== undefined) return earlier;
  const value = take();
  const write = run.req.onDraw;
  if (write) run.pendingJournal.push(Promise.resolve().then(() => write({ key, kind, value })));
  return value;
}

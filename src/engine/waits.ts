/**
 * Waiting steps: `wait` for a duration or until a time, and `wait_for` an event with a timeout.
 * In a one-off run both wait in the process on the injected clock, so tests and the demo skip
 * time instead of sleeping. Durable waits (the daemon) hold nothing in memory: a wait whose
 * time has not come is journaled and unwinds the attempt (Suspended), and a later attempt ends
 * it at the time the first one set, or with the event that arrived.
 */
import type { Clock } from './clock.js';
import { Cancelled, durationMs, StepFailure, Suspended } from './step-state.js';
import type { EventSource, JournaledStep } from './types.js';

interface WaitDeps {
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly dryRun: boolean;
}

/** When a `wait` that begins at `start` ends: after its duration, or at its `until` time. */
export function waitEnd(wait: unknown, start: number, render: (text: string) => unknown): number {
  const spec = wait !== null && typeof wait === 'object' ? (wait as Record<string, unknown>) : undefined;
  if (spec && spec.until !== undefined) {
    const until = render(String(spec.until));
    const at = Date.parse(String(until));
    if (Number.isNaN(at)) throw new StepFailure(`wait until \`${String(until)}\` is not a time`, undefined);
    return Math.max(start, at);
  }
  return start + durationMs(String(wait));
}

/** Runs a `wait` step in the process; `render` evaluates an `until` template. */
export async function waitStep(wait: unknown, deps: WaitDeps & { render: (text: string) => unknown }): Promise<unknown> {
  const ms = waitEnd(wait, deps.clock.now(), deps.render) - deps.clock.now();
  if (!deps.dryRun) await sleep(deps, ms);
  return { waited_ms: ms, until: new Date(deps.clock.now()).toISOString() };
}

/** Runs a `wait_for` step: the first matching event, or what `on_timeout` says. */
export async function waitForStep(wf: Readonly<Record<string, unknown>>, id: string, match: (payload: unknown) => boolean, deps: WaitDeps & { events?: EventSource }): Promise<unknown> {
  const timeoutMs = durationMs(String(wf.timeout ?? '0s'));
  const name = String(wf.event);
  let result: { payload: unknown } | { timedOut: true };
  if (deps.dryRun) result = { timedOut: true };
  else if (deps.events) result = await deps.events.waitFor(name, match, timeoutMs, deps.signal);
  else {
    // No event source (a one-off `flux run`): nothing can arrive, so wait out the timeout.
    await sleep(deps, timeoutMs);
    result = { timedOut: true };
  }
  if ('timedOut' in result) return waitForTimedOut(wf, id);
  return { timed_out: false, event: result.payload };
}

/** A `wait_for` whose timeout passed: its output, or the failure `on_timeout` asks for. */
export function waitForTimedOut(wf: Readonly<Record<string, unknown>>, id: string): unknown {
  const message = `no \`${String(wf.event)}\` event arrived within ${String(wf.timeout)}`;
  if (wf.on_timeout === 'fail') throw new StepFailure(message, id);
  if (wf.on_timeout === 'escalate') throw new StepFailure(message, id, 'escalate');
  return { timed_out: true, event: null };
}

async function sleep(deps: WaitDeps, ms: number): Promise<void> {
  try {
    await deps.clock.sleep(ms, deps.signal);
  } catch {
    throw new Cancelled();
  }
}

/** Where a durable wait stands: the step, when it started, the clock now, and its journal. */
export interface DurableWaitAt {
  readonly step: string;
  readonly key: string;
  readonly path: string;
  readonly index: readonly number[];
  /** When the wait began: in the attempt that first reached it. */
  readonly started: number;
  readonly now: number;
  /** The step's waiting entry from an earlier attempt, if there was one. */
  readonly journaled: JournaledStep | undefined;
  journal(entry: JournaledStep): void;
}

/**
 * A durable `wait`: done once the clock has passed its end, kept from the attempt that began
 * it (a 48-hour wait resumed early does not start over); otherwise the attempt ends waiting.
 */
export function durableWait(at: DurableWaitAt, end: (start: number) => number): unknown {
  const wakeAt = at.journaled?.wake_at ?? end(at.started);
  if (at.now >= wakeAt) return { waited_ms: Math.max(0, wakeAt - at.started), until: new Date(wakeAt).toISOString() };
  return suspend(at, wakeAt);
}

/**
 * A durable `wait_for`: done with the event delivered to this attempt (already matched), or,
 * once its timeout has passed, as on_timeout says; otherwise the attempt ends waiting for it.
 */
export function durableWaitFor(at: DurableWaitAt, wf: Readonly<Record<string, unknown>>, delivered: { payload: unknown } | undefined): unknown {
  if (delivered) return { timed_out: false, event: delivered.payload };
  const wakeAt = at.journaled?.wake_at ?? at.started + durationMs(String(wf.timeout ?? '0s'));
  if (at.now >= wakeAt) return waitForTimedOut(wf, at.step);
  return suspend(at, wakeAt, String(wf.event));
}

/** Journals a wait that has not ended (once: its end never moves) and unwinds the attempt. */
function suspend(at: DurableWaitAt, wakeAt: number, event?: string): never {
  if (at.journaled?.wake_at !== wakeAt) {
    at.journal({
      key: at.key, step: at.step, path: at.path, ...(at.index.length > 0 ? { index: at.index } : {}), status: 'waiting', output: null, attempts: 1,
      duration_ms: 0, wake_at: wakeAt, started_at: at.started, ...(event !== undefined ? { event } : {}),
    });
  }
  throw new Suspended(at.step, at.key, at.path, wakeAt, event);
}

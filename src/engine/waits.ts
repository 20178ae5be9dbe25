/**
 * Waiting steps: `wait` for a duration or until a time, and `wait_for` an event with a timeout.
 * Both wait on the injected clock, so tests and the demo skip time instead of sleeping.
 */
import type { Clock } from './clock.js';
import { Cancelled, durationMs, StepFailure } from './step-state.js';
import type { EventSource } from './types.js';

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

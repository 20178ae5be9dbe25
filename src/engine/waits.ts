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

/** Runs a `wait` step; `render` evaluates an `until` template. */
export async function waitStep(wait: unknown, deps: WaitDeps & { render: (text: string) => unknown }): Promise<unknown> {
  let ms: number;
  const spec = wait !== null && typeof wait === 'object' ? (wait as Record<string, unknown>) : undefined;
  if (spec && spec.until !== undefined) {
    const until = deps.render(String(spec.until));
    const at = Date.parse(String(until));
    if (Number.isNaN(at)) throw new StepFailure(`wait until \`${String(until)}\` is not a time`, undefined);
    ms = Math.max(0, at - deps.clock.now());
  } else {
    ms = durationMs(String(wait));
  }
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
  if ('timedOut' in result) {
    const message = `no \`${name}\` event arrived within ${String(wf.timeout)}`;
    if (wf.on_timeout === 'fail') throw new StepFailure(message, id);
    if (wf.on_timeout === 'escalate') throw new StepFailure(message, id, 'escalate');
    return { timed_out: true, event: null };
  }
  return { timed_out: false, event: result.payload };
}

async function sleep(deps: WaitDeps, ms: number): Promise<void> {
  try {
    await deps.clock.sleep(ms, deps.signal);
  } catch {
    throw new Cancelled();
  }
}

/**
 * The state of steps as the engine tracks it: the failure that stops a run, cancellation, and
 * what `steps.<id>` shows expressions.
 */
import { ExpressionError, toCel } from '../expr/evaluate.js';
import type { StepStatus } from '../store/run-log.js';
import { parseDuration } from '../workflow/duration.js';

/** A failure that stops the run: where, why, and what the step asked for. */
export class StepFailure extends Error {
  constructor(message: string, readonly step: string | undefined, readonly mode: 'fail' | 'escalate' = 'fail', readonly httpStatus?: number) {
    super(message);
  }
}

/** The run was cancelled (a signal, Ctrl-C): unwinds every step without recording a failure. */
export class Cancelled extends Error {}

/** A durable wait whose time has not come: unwinds the attempt, which ends `waiting`. */
export class Suspended extends Error {
  constructor(readonly step: string, readonly key: string, readonly path: string, readonly wakeAt: number, readonly event?: string) {
    super(`waiting at step ${step}`);
  }
}

/** The plain JSON output of a step, beside the CEL view (symbols are invisible to expressions). */
export const RAW = Symbol('raw output');

/**
 * What `steps.<id>` shows expressions. The output is converted to CEL's view only when an
 * expression first reads it: most outputs (a large foreach's, a big response body) never are.
 */
export function stepView(output: unknown, status: StepStatus, error?: string): Record<string | symbol, unknown> {
  let converted: unknown;
  let done = false;
  return {
    [RAW]: output,
    status,
    ...(error !== undefined ? { error } : {}),
    get output() {
      if (!done) {
        converted = toCel(output);
        done = true;
      }
      return converted;
    },
  };
}

export function toFailure(e: unknown, id: string): StepFailure {
  if (e instanceof StepFailure) return e.step === undefined ? new StepFailure(e.message, id, e.mode, e.httpStatus) : e;
  if (e instanceof ExpressionError) return new StepFailure(e.message, id);
  return new StepFailure(e instanceof Error ? e.message : String(e), id);
}

export function durationMs(text: string): number {
  const d = parseDuration(text);
  if (!d.ok) throw new StepFailure(d.message, undefined);
  return d.ms;
}

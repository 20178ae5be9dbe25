/**
 * The `wait` and `wait_for` steps as a run dispatches them: durable when the caller asks for
 * durable waits (the daemon: the attempt ends waiting, see waits.ts), in the process otherwise
 * (`flux run`). This file connects a run's state (its journal history, the event delivered to
 * the attempt, its clock and signal) to the wait logic in waits.ts, which knows nothing of runs.
 */
import type { Scope } from '../expr/cel.js';
import { evaluateCondition, renderString, toCel, type CelContext } from '../expr/evaluate.js';
import { asRecord } from '../workflow/model.js';
import type { Frame, RunState } from './run-state.js';
import { journal } from './step-records.js';
import { stepKey, type DeliveredEvent } from './types.js';
import { durableWait, durableWaitFor, waitEnd, waitForStep, waitStep, type DurableWaitAt } from './waits.js';

/** Runs a `wait` step; `started` is when this step began (from the journal when an earlier attempt began it). */
export async function runWait(run: RunState, wait: unknown, id: string, path: string, frame: Frame, started: number, scope: Scope, ctx: CelContext): Promise<unknown> {
  const render = (text: string) => renderString(text, scope, ctx);
  if (run.req.durableWaits) return durableWait(waitAt(run, id, path, frame, started), (start) => waitEnd(wait, start, render));
  return waitStep(wait, { clock: run.req.clock, signal: run.signal, dryRun: run.req.dryRun === true, render });
}

/** Runs a `wait_for` step: the matching event, or what its timeout says. */
export async function runWaitFor(run: RunState, spec: unknown, id: string, path: string, frame: Frame, started: number, scope: Scope, ctx: CelContext): Promise<unknown> {
  const wf = asRecord(spec) ?? {};
  if (run.req.durableWaits) return durableWaitFor(waitAt(run, id, path, frame, started), wf, deliveredTo(run, wf, stepKey(id, frame.index), scope, ctx));
  const matchScope = run.scope([...scope.loopVars, 'item']);
  const match = (payload: unknown) => wf.match === undefined || evaluateCondition(wf.match, matchScope, { ...ctx, item: toCel(payload) });
  return waitForStep(wf, id, match, { clock: run.req.clock, signal: run.signal, dryRun: run.req.dryRun === true, ...(run.req.events ? { events: run.req.events } : {}) });
}

/** Where a durable wait stands: this step, its journal entry from earlier attempts, and how to journal its own. */
function waitAt(run: RunState, id: string, path: string, frame: Frame, started: number): DurableWaitAt {
  const key = stepKey(id, frame.index);
  return {
    step: id, key, path, index: frame.index, started, now: run.req.clock.now(), journaled: run.req.history?.get(key),
    journal: (entry) => journal(run, entry),
  };
}

/**
 * A durable wait_for takes the first event delivered to this attempt that is for it and
 * matches; each is taken once. A match that cannot be evaluated against an event (a field
 * the event lacks) is no match: an outside event must not fail the run that waits.
 */
function deliveredTo(run: RunState, wf: Readonly<Record<string, unknown>>, key: string, scope: Scope, ctx: CelContext): { payload: unknown } | undefined {
  const given = run.req.deliver;
  const candidates: readonly DeliveredEvent[] = given === undefined ? [] : Array.isArray(given) ? given : [given as DeliveredEvent];
  const matchScope = run.scope([...scope.loopVars, 'item']);
  for (const [i, c] of candidates.entries()) {
    if (run.taken.has(i) || c.event !== String(wf.event) || (c.step !== undefined && c.step !== key)) continue;
    let matches = true;
    try {
      if (wf.match !== undefined) matches = evaluateCondition(wf.match, matchScope, { ...ctx, item: toCel(c.payload) });
    } catch {
      matches = false;
    }
    if (!matches) continue;
    run.taken.add(i);
    return { payload: c.payload };
  }
  return undefined;
}

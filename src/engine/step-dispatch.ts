/**
 * The interpreter loop: runs a list of steps in order, and each step by its kind (a connector
 * call, set, switch, foreach, parallel, wait, wait_for, approval, emit, fail), replaying the ones an
 * earlier attempt completed. A step's failure is recorded here and either continues the run
 * (`on_error: continue`) or unwinds it as a StepFailure for the run's failure handling.
 */
import { evaluateCondition, ExpressionError, renderString, renderValue } from '../expr/evaluate.js';
import { asRecord, type RawStep } from '../workflow/model.js';
import { runUses } from './calls.js';
import { runForeach, runParallel, runSwitch } from './control-flow.js';
import type { Frame, RunState } from './run-state.js';
import { finishStep, replayStep, settleJournal, skipStep, type StepEnd } from './step-records.js';
import { Cancelled, StepFailure, stepView, Suspended, toFailure } from './step-state.js';
import { stepKey } from './types.js';
import { runWait, runWaitFor } from './wait-steps.js';
import { runApproval } from './approval-steps.js';

/**
 * How long the step loop may run without giving the event loop a turn. Steps such as `set` and
 * `if` are synchronous, and a run of them chains only microtasks: without a yield, a signal
 * handler (Ctrl-C) would not run until the whole run had finished.
 */
const YIELD_AFTER_MS = 15;

/** Runs a list of steps in a frame, in order, until one stops the run. */
export async function runList(run: RunState, list: unknown, frame: Frame): Promise<void> {
  if (!Array.isArray(list)) return;
  for (const raw of list) {
    if (run.signal.aborted) throw new Cancelled();
    if (run.stopped) return;
    const step = asRecord(raw);
    if (step) await runStep(run, step, frame);
    if (run.pendingJournal.length > 0) await settleJournal(run);
    if (performance.now() - run.lastYield >= YIELD_AFTER_MS) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      run.lastYield = performance.now();
    }
    // Checked after every step too, so a cancel that arrives during the last step is not lost.
    if (run.signal.aborted) throw new Cancelled();
  }
}

async function runStep(run: RunState, step: RawStep, frame: Frame): Promise<void> {
  const id = String(step.id);
  const path = frame.path ? `${frame.path}/${id}` : id;
  const journaled = run.req.history?.get(stepKey(id, frame.index));
  if (journaled && journaled.status !== 'waiting') return replayStep(run, { ...journaled, status: journaled.status }, frame);
  const scope = run.scope(Object.keys(frame.loopVars));
  const ctx = run.contextFor(frame);
  const startedNow = run.req.clock.now();
  const indexField = frame.index.length > 0 ? { index: frame.index } : {};
  const key = [run.req.runId, id, ...frame.index].join(':');
  const loop = (list: unknown, inner: Frame) => runList(run, list, inner);

  let runIt = true;
  if (step.if !== undefined) {
    try {
      runIt = evaluateCondition(step.if, scope, ctx);
    } catch (e) {
      if (run.req.dryRun) runIt = true; // depends on a response that a dry run does not have
      else return fail(run, step, frame, path, startedNow, 1, toFailure(e, id), {});
    }
  }
  if (!runIt) return skipStep(run, id, path, frame);

  // A durable wait resumed by a later attempt was recorded as started by the attempt that began it.
  if (journaled === undefined) run.record({ type: 'step.started', step: id, path, ...indexField, attempt: 1, idempotency_key: key });
  const started = journaled?.started_at ?? startedNow;
  let output: unknown = null;
  let attempts = 1;
  // What the call of a `uses` step leaves for the record: its last HTTP status and its method.
  let call: CallFacts = {};
  let callFailure: StepFailure | undefined;
  try {
    if (typeof step.uses === 'string') {
      const r = await runUses(run, step, id, path, frame, scope, ctx, key);
      callFailure = r.failure;
      output = r.output;
      attempts = r.attempts;
      call = { ...(r.status !== undefined ? { httpStatus: r.status } : {}), ...(r.method !== undefined ? { method: r.method } : {}) };
    } else if (step.set !== undefined) {
      output = renderValue(step.set, scope, ctx);
    } else if (step.switch !== undefined) {
      output = await runSwitch(loop, asRecord(step.switch) ?? {}, frame, path, scope, ctx);
    } else if (step.foreach !== undefined) {
      output = await runForeach(run, loop, asRecord(step.foreach) ?? {}, id, frame, path, scope, ctx);
    } else if (step.parallel !== undefined) {
      output = await runParallel(loop, asRecord(step.parallel) ?? {}, frame, path);
    } else if (step.wait !== undefined) {
      output = await runWait(run, step.wait, id, path, frame, started, scope, ctx);
    } else if (step.wait_for !== undefined) {
      output = await runWaitFor(run, step.wait_for, id, path, frame, started, scope, ctx);
    } else if (step.approval !== undefined) {
      output = await runApproval(run, step.approval, id, path, frame, started, scope, ctx);
    } else if (step.emit !== undefined) {
      const emit = asRecord(step.emit) ?? {};
      const data = renderValue(emit.data ?? null, scope, ctx);
      const event = String(emit.event);
      run.emitted.push({ event, data });
      run.emitsFor.set(stepKey(id, frame.index), [{ event, data: run.req.masker.maskValue(data, { keys: true }) }]);
      run.record({ type: 'event.emitted', step: id, path, event, data });
      output = { event, data };
    } else if (step.fail !== undefined) {
      throw new StepFailure(String(renderString(String(step.fail), scope, ctx)), id);
    }
  } catch (e) {
    if (e instanceof Suspended) throw e;
    if (e instanceof Cancelled || run.signal.aborted) throw new Cancelled();
    if (run.req.dryRun && e instanceof ExpressionError) {
      // A dry run has no responses, so expressions that read them cannot be evaluated: the
      // step would run, with a value that is only known for real.
      const unresolved = { dry_run: true, unresolved: e.message };
      frame.steps.set(id, stepView(unresolved, 'succeeded'));
      finishStep(run, step, frame, path, started, { status: 'succeeded', attempts, output: unresolved });
      return;
    }
    const failure = toFailure(e, id);
    if (failure.step !== id) {
      // A nested step failed and stopped its container: record the container, then pass the
      // failure on (naming the nested step) unless the container itself says continue.
      const continued = step.on_error === 'continue';
      frame.steps.set(id, stepView(null, 'failed', failure.message));
      finishStep(run, step, frame, path, started, { status: 'failed', attempts, output: null, error: failure.message, continued });
      if (continued) {
        run.stopped = false;
        return;
      }
      throw failure;
    }
    return fail(run, step, frame, path, started, attempts, failure, call);
  }
  // A failed call is handled here, outside the try: fail() throws to stop the run, and that
  // must not be caught above and recorded a second time.
  if (callFailure) return fail(run, step, frame, path, started, attempts, callFailure, call, output);
  frame.steps.set(id, stepView(output, 'succeeded'));
  finishStep(run, step, frame, path, started, { status: 'succeeded', attempts, output, ...call });
}

/** What a step's connector call tells its record: the last HTTP status, and the method. */
type CallFacts = Pick<StepEnd, 'httpStatus' | 'method'>;

/** Records a failed step; unless it says `on_error: continue`, stops the run with its failure. */
function fail(run: RunState, step: RawStep, frame: Frame, path: string, started: number, attempts: number, failure: StepFailure, call: CallFacts, output: unknown = null): void {
  const id = String(step.id);
  const httpStatus = call.httpStatus ?? failure.httpStatus;
  const mode = step.on_error === 'continue' ? 'continue' : step.on_error === 'escalate' ? 'escalate' : failure.mode;
  frame.steps.set(id, stepView(output, 'failed', failure.message));
  finishStep(run, step, frame, path, started, {
    status: 'failed', attempts, output, error: failure.message, ...(httpStatus !== undefined ? { httpStatus } : {}), ...(call.method !== undefined ? { method: call.method } : {}), continued: mode === 'continue',
  });
  if (mode === 'continue') return;
  run.stopped = true;
  throw new StepFailure(failure.message, failure.step ?? id, mode === 'escalate' ? 'escalate' : 'fail', httpStatus);
}

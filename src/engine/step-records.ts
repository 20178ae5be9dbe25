/**
 * What a finished step leaves behind: its `step.finished` record, its summary, and its durable
 * journal entry, and, on a later attempt, its replay from that entry. Recording and replaying
 * live together because a replayed step must look to expressions and summaries exactly as the
 * step looked when it finished.
 */
import { capOutput, type StepStatus } from '../store/run-log.js';
import type { RawStep } from '../workflow/model.js';
import type { Frame, RunState } from './run-state.js';
import { Cancelled, stepView } from './step-state.js';
import { stepKey, type JournaledStep } from './types.js';

/**
 * Hands a completed step to the durable journal, when there is one; see settleJournal. An
 * emit step's events go with its entry, so the journal stores both or neither.
 */
export function journal(run: RunState, entry: JournaledStep): void {
  const write = run.req.onStepCompleted;
  const emits = run.emitsFor.get(entry.key) ?? [];
  run.emitsFor.delete(entry.key);
  if (write) run.pendingJournal.push(Promise.resolve().then(() => write(entry, emits)));
}

/** Waits for the journal writes of completed steps; a failed write stops the run. */
export async function settleJournal(run: RunState): Promise<void> {
  if (run.pendingJournal.length === 0) return;
  const writes = run.pendingJournal;
  run.pendingJournal = [];
  try {
    await Promise.all(writes);
  } catch (error) {
    if (!run.journalFailure) {
      run.journalFailure = new Error(`cannot journal the run's progress: ${error instanceof Error ? error.message : String(error)}`);
      run.controller.abort(run.journalFailure);
    }
    throw new Cancelled();
  }
}

/** How a step ended, as finishStep records it. */
export interface StepEnd {
  readonly status: StepStatus;
  readonly attempts: number;
  readonly output: unknown;
  readonly error?: string;
  readonly httpStatus?: number;
  /** The HTTP method of a `uses` step's call: on the record, so metrics can tell writes from reads. */
  readonly method?: string;
  /** It failed and `on_error: continue` let the run go on. */
  readonly continued?: boolean;
}

/**
 * Records a finished step: its journal entry (a failure only when the run goes on past it),
 * its `step.finished` record with a capped output, and its summary when it is a top-level step.
 */
export function finishStep(run: RunState, step: RawStep, frame: Frame, path: string, started: number, end: StepEnd): void {
  const { status, attempts, output, error, httpStatus, method, continued } = end;
  const id = String(step.id);
  const duration = run.req.clock.now() - started;
  const masker = run.req.masker;
  if (status !== 'failed' || continued) {
    journal(run, {
      key: stepKey(id, frame.index), step: id, path, ...(frame.index.length > 0 ? { index: frame.index } : {}), status, output, attempts, duration_ms: duration,
      ...(error !== undefined ? { error } : {}), ...(httpStatus !== undefined ? { http_status: httpStatus } : {}), ...(continued ? { continued: true } : {}),
    });
  }
  // The preview of a capped output is masked before it is cut (record() masks it again).
  const capped = capOutput(output, undefined, (text) => masker.mask(text));
  run.record({
    type: 'step.finished', step: id, path, ...(frame.index.length > 0 ? { index: frame.index } : {}), status, duration_ms: duration, attempt: attempts,
    ...(httpStatus !== undefined ? { http_status: httpStatus } : {}), ...(method !== undefined ? { method } : {}),
    ...(status === 'succeeded' || output !== null ? { output: capped.output } : {}), ...(capped.truncated ? { output_truncated: true } : {}),
    ...(error ? { error: { message: masker.mask(error), step: id, ...(httpStatus !== undefined ? { http_status: httpStatus } : {}) } } : {}),
    ...(continued ? { continued: true } : {}),
  });
  if (frame.top) {
    run.summaries.push({
      step: id, path, status, duration_ms: duration, attempts, ...(httpStatus !== undefined ? { http_status: httpStatus } : {}),
      ...(error ? { error: masker.mask(error) } : {}), ...(continued ? { continued: true } : {}),
    });
  }
}

/** Records a step whose `if` was false: skipped, journaled, nothing run. */
export function skipStep(run: RunState, id: string, path: string, frame: Frame): void {
  const indexField = frame.index.length > 0 ? { index: frame.index } : {};
  frame.steps.set(id, stepView(null, 'skipped'));
  run.record({ type: 'step.finished', step: id, path, ...indexField, status: 'skipped', duration_ms: 0, attempt: 0 });
  journal(run, { key: stepKey(id, frame.index), step: id, path, ...indexField, status: 'skipped', output: null, attempts: 0, duration_ms: 0 });
  if (frame.top) run.summaries.push({ step: id, path, status: 'skipped', duration_ms: 0, attempts: 0 });
}

/**
 * A step an earlier attempt completed: its outcome is what expressions see, and nothing runs
 * or is recorded again (its records are in the run log already). A journaled failure is one
 * the run went on past (`on_error: continue`): a failure that stopped the run is not replayed,
 * so a retried run starts again at that step.
 */
export function replayStep(run: RunState, j: JournaledStep & { status: StepStatus }, frame: Frame): void {
  frame.steps.set(j.step, stepView(j.output, j.status, j.error));
  if (frame.top) {
    run.summaries.push({
      step: j.step, path: j.path, status: j.status, duration_ms: j.duration_ms, attempts: j.attempts, replayed: true,
      ...(j.http_status !== undefined ? { http_status: j.http_status } : {}), ...(j.error ? { error: run.req.masker.mask(j.error) } : {}), ...(j.continued ? { continued: true } : {}),
    });
  }
}

/**
 * Running a workflow once: check the event and secrets, run the steps (step-dispatch.ts), and
 * on failure escalate to the owner and run the recovery steps (failure.ts). Every step's
 * outcome is journaled as it happens (step-records.ts), and every attempt ends with a recorded
 * state: finished (`run.finished`) or waiting (`run.waiting`, durable waits only).
 */
import { createHash } from 'node:crypto';
import { ValueTooDeep } from '../expr/evaluate.js';
import { exceedsBounds, MAX_EVENT_BYTES, MAX_JSON_DEPTH } from '../limits/json.js';
import type { ErrorInfo, RunStatus } from '../store/run-log.js';
import { responseSteps, walkSteps } from '../workflow/model.js';
import { draw } from './draws.js';
import { abandonRun, handleFailure } from './failure.js';
import { prepareRun } from './prepare.js';
import { RunState } from './run-state.js';
import { runList } from './step-dispatch.js';
import { settleJournal } from './step-records.js';
import { Cancelled, StepFailure, Suspended } from './step-state.js';
import type { LoadedWorkflow, RunRequest, RunResult } from './types.js';

/** Runs a workflow once and returns its result; the run log holds every detail. */
export async function runWorkflow(req: RunRequest): Promise<RunResult> {
  return execute(new RunState(req));
}

async function execute(run: RunState): Promise<RunResult> {
  const req = run.req;
  const wf = req.workflow;
  // Outside data is bounded before anything reads it: a deep or huge event is refused whole.
  const refusal = req.refuse ?? exceedsBounds(req.event, { maxDepth: MAX_JSON_DEPTH, maxBytes: MAX_EVENT_BYTES }, 'the event');
  const attempt = req.attempt ?? 1;
  if (req.resume) run.record({ type: 'run.resumed', attempt, replayable: req.history?.size ?? 0 });
  else {
    const response = responseStepOf(wf);
    run.record({
      type: 'run.started', trigger: req.trigger, event_sha256: eventSha256(req.event), file: wf.file, dry_run: req.dryRun === true,
      ...(req.scheduledFor !== undefined ? { scheduled_for: new Date(req.scheduledFor).toISOString() } : {}),
      received_at: new Date(req.receivedAt ?? run.started).toISOString(),
      ...(response !== undefined ? { response_step: response } : {}),
    });
  }
  if (refusal !== undefined) return finish(run, 'rejected', { message: refusal });
  const rejection = prepare(run);
  // No workflow step will run, so nothing depends on what prepare drew; its write is still
  // awaited, so that a failed one is not left as an unhandled rejection.
  if (rejection !== undefined || req.abandon) await settleJournal(run).catch(() => undefined);
  if (rejection) return finish(run, req.abandon ? 'failed' : 'rejected', { message: req.abandon ? `${req.abandon.reason}; and ${rejection}` : rejection });
  if (req.abandon) {
    const given = await abandonRun(run, req.abandon);
    return finish(run, given.status, given.error, given.escalation);
  }
  let status: RunStatus = 'succeeded';
  let error: ErrorInfo | undefined;
  let escalation: RunResult['escalation'];
  try {
    // What was drawn for replay (run.started_at) is durable before any step can depend on it.
    await settleJournal(run);
    await runList(run, wf.value.steps, run.topFrame());
    await settleJournal(run);
  } catch (e) {
    if (e instanceof Suspended && !run.journalFailure) return wait(run, e);
    if (run.journalFailure) {
      const failure = new StepFailure(run.journalFailure.message, undefined);
      error = { message: req.masker.mask(failure.message) };
      ({ status, escalation } = await handleFailure(run, failure, error));
    } else if (e instanceof Cancelled || run.signal.aborted) {
      status = 'cancelled';
      error = { message: 'the run was cancelled' };
    } else {
      const failure = e instanceof StepFailure ? e : new StepFailure(e instanceof Error ? e.message : String(e), undefined);
      error = { message: req.masker.mask(failure.message), ...(failure.step ? { step: failure.step } : {}), ...(failure.httpStatus ? { http_status: failure.httpStatus } : {}) };
      ({ status, escalation } = await handleFailure(run, failure, error));
    }
  }
  return finish(run, status, error, escalation);
}

/** Checks the event and secrets and builds the expression context; returns why the run is refused. */
function prepare(run: RunState): string | undefined {
  let prepared: ReturnType<typeof prepareRun>;
  try {
    prepared = prepareRun(run.req, draw(run, 'run.started_at', 'time', () => run.started));
  } catch (e) {
    // The event (or env) cannot cross into expressions; the CLI refuses such events earlier,
    // but other callers may not.
    if (e instanceof ValueTooDeep) return `the event cannot be read by expressions: ${e.message}`;
    throw e;
  }
  if (!prepared.ok) return prepared.rejection;
  run.context = prepared.context;
  return undefined;
}

/**
 * The attempt ends at a durable wait: once the journal holds the waiting entry, the run is
 * recorded as waiting (no run.finished: the run has not ended) and the caller is told until
 * when, and for what.
 */
async function wait(run: RunState, s: Suspended): Promise<RunResult> {
  try {
    await settleJournal(run);
  } catch {
    return finish(run, 'failed', { message: run.journalFailure?.message ?? 'the run could not be journaled' });
  }
  const wakeAt = new Date(s.wakeAt).toISOString();
  run.record({ type: 'run.waiting', step: s.step, path: s.path, wake_at: wakeAt, ...(s.event !== undefined ? { event: s.event } : {}) });
  return { ...result(run, 'waiting', run.req.clock.now() - run.started), waiting: { step: s.step, key: s.key, path: s.path, wake_at: wakeAt, ...(s.event !== undefined ? { event: s.event } : {}) } };
}

function finish(run: RunState, status: RunStatus, error?: ErrorInfo, escalation?: RunResult['escalation']): RunResult {
  const duration = run.req.clock.now() - run.started;
  run.record({ type: 'run.finished', status, duration_ms: duration, ...(error ? { error } : {}) });
  // As in the records, only texts that can carry outside data are masked (step summaries'
  // errors were masked when they were recorded).
  const m = run.req.masker;
  return {
    ...result(run, status, duration),
    ...(error ? { error: { ...error, message: m.mask(error.message) } } : {}),
    ...(escalation ? { escalation: escalation.delivery_error !== undefined ? { ...escalation, delivery_error: m.mask(escalation.delivery_error) } : escalation } : {}),
  };
}

/** What every result of an attempt carries, finished or waiting; emitted data is outside data, masked. */
function result(run: RunState, status: RunResult['status'], duration: number): RunResult {
  const req = run.req;
  return {
    run_id: req.runId, workflow: req.workflow.name, workflow_version: req.workflow.version, status, duration_ms: duration,
    dry_run: req.dryRun === true, steps: run.summaries,
    emitted: run.emitted.map((e) => ({ event: e.event, data: req.masker.maskValue(e.data, { keys: true }) })),
  };
}

/**
 * The response step's id by workflow: a daemon starts many runs of one parsed version, and the
 * walk over its steps need not be repeated for each.
 */
const responseIds = new WeakMap<object, string | null>();

/** The id of the step the workflow marks `response: true` (the first, should lint have been skipped). */
function responseStepOf(wf: LoadedWorkflow): string | undefined {
  let id = responseIds.get(wf.value);
  if (id === undefined) {
    id = responseSteps(walkSteps(wf.value)).find((s) => s.id !== undefined)?.id ?? null;
    responseIds.set(wf.value, id);
  }
  return id ?? undefined;
}

/**
 * SHA-256 of the event's JSON. An event nested too deeply for JSON.stringify (a RangeError) is
 * refused before any step runs; it gets the digest of the empty string, which no JSON text
 * has, so the run still starts and ends on record instead of crashing.
 */
function eventSha256(event: unknown): string {
  let text = '';
  try {
    text = JSON.stringify(event ?? null);
  } catch {
    // too deep to serialise: the empty text's digest marks it
  }
  return createHash('sha256').update(text).digest('hex');
}

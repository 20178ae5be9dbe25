/**
 * A run's steps as `flux runs show` lists them, put together from what the daemon kept: the
 * store's journal (every completed step, in the order it completed, and each durable wait
 * that began) and the run log (the step that failed and stopped the run, which the journal
 * does not keep because a retry runs it again; a step still running; outputs as masked when
 * they were written). A retry's journal starts as a copy of the run it retries: those entries
 * are marked `replayed`, and their log records are read from that run's log.
 */
import { approvalStepKey } from '../approvals/request.js';
import { existsSync } from 'node:fs';
import { stepKey, type JournaledStep } from '../engine/types.js';
import { readRunLog, runLogPath, type RunRecord } from '../store/run-log.js';
import type { JournalEntry, RunRow, Store } from '../store/store.js';
import { deliveryStepKey, isCompletionKey, waitingStepKey } from '../daemon/journal-keys.js';
import type { Reveal } from './runs-secrets.js';

/** One step of a run, as shown. Outputs and errors are masked; they are not yet escaped. */
export interface StepView {
  /** The journal key: the step id, then its `foreach` item indexes (`email:3`). */
  readonly key: string;
  readonly step: string;
  readonly path: string;
  readonly index?: readonly number[];
  /**
   * `succeeded`, `failed`, `skipped`, `waiting` (a durable wait not over), `running`, or
   * `stopped` (a wait that never ended: the run ended first, e.g. cancelled).
   */
  readonly status: string;
  readonly attempts: number | null;
  readonly durationMs: number | null;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly httpStatus?: number;
  /** Failed, and the run went on (`on_error: continue`). */
  readonly continued?: boolean;
  /** For a waiting step: until when, and the event it waits for. */
  readonly wakeAt?: number;
  readonly event?: string;
  readonly output: unknown;
  /** The output was cut (the run log keeps at most 16 KiB of it). */
  readonly outputTruncated: boolean;
  /** Not shown: its only copy is the journal's, unmasked, and a secret it may hold is unknown here. */
  readonly outputWithheld: boolean;
  /** Where the output shown comes from (see runs-secrets.ts). */
  readonly outputFrom: 'run-log' | 'journal' | null;
  readonly error: string | null;
  /** Completed by the run this one retries, and replayed from its journal, not run again. */
  readonly replayed: boolean;
}

/** The run's steps, and the facts of its run log. */
export interface StepsOfRun {
  readonly steps: StepView[];
  /** When the run started (its log's run.started), if its log has it. */
  readonly startedAt: number | null;
  /** Lines of the run's log that could not be read, if any (counted, not skipped quietly). */
  readonly logProblems: number;
  /** The run log's path, when it exists. */
  readonly logPath: string | null;
}

type Finished = Extract<RunRecord, { type: 'step.finished' }>;
type Started = Extract<RunRecord, { type: 'step.started' }>;

/** How far up a chain of retries run logs are read for replayed steps. */
const MAX_RETRY_CHAIN = 20;


/** Puts together the steps of `run` from its journal and its run log (and those of the runs it retries). */
export async function stepsOf(run: RunRow, store: Store, logDir: string, reveal: Reveal): Promise<StepsOfRun> {
  // Events delivered to a waiting wait_for are journaled beside the steps (`reply#event:0`, see
  // daemon/runner.ts); they are not steps: the wait_for's own entry shows what it took.
  // An approval step's bookkeeping (its request, reminders, answers logged; see approvals/request.ts) is not a step either.
  const journal = (await store.journalFor(run.id)).filter((e) => e.kind === 'step' && deliveryStepKey(e.key) === undefined && approvalStepKey(e.key) === undefined);
  const own = readLog(logDir, run);
  const finished = new Map(own.finished);
  // A retry's copied entries were logged by the run it retries (and so on up the chain).
  let ancestor = run.retryOf;
  for (let i = 0; ancestor !== null && i < MAX_RETRY_CHAIN; i++) {
    const earlier = await store.getRun(ancestor);
    if (!earlier) break;
    for (const [key, record] of readLog(logDir, earlier).finished) if (!finished.has(key)) finished.set(key, record);
    ancestor = earlier.retryOf;
  }

  // A retry's journal starts as a copy of the run it retries: those keys were replayed, not run.
  const copied = new Set(run.retryOf === null ? [] : (await store.journalFor(run.retryOf)).map((e) => e.key));
  const completed = new Set(journal.filter((e) => isCompletionKey(e.key)).map((e) => e.key));
  const steps: StepView[] = [];
  for (const entry of journal) {
    const waiting = waitingStepKey(entry.key);
    if (waiting !== undefined && completed.has(waiting)) continue;
    steps.push(fromJournal(entry, run, copied.has(entry.key), finished.get(baseKey(entry.key)), reveal));
  }
  // Steps the journal does not hold: the one whose failure stopped the run, and one running now.
  const shown = new Set(steps.map((s) => s.key));
  for (const [key, record] of own.finished) {
    if (shown.has(key) || record.status !== 'failed') continue;
    steps.push(fromLog(key, record, reveal));
    shown.add(key);
  }
  if (run.status === 'running') {
    for (const [key, record] of own.started) if (!shown.has(key) && !own.finished.has(key)) steps.push(runningStep(key, record));
  }
  const failedStep = run.error?.step;
  if (failedStep !== undefined && (run.status === 'failed' || run.status === 'escalated') && !steps.some((s) => s.step === failedStep && s.status === 'failed')) {
    // No log to tell more (it was removed, or could not be written): the run's own error names the step.
    steps.push({
      key: failedStep, step: failedStep, path: failedStep, status: 'failed', attempts: null, durationMs: null, startedAt: null, finishedAt: run.finishedAt,
      ...(run.error?.http_status !== undefined ? { httpStatus: run.error.http_status } : {}), output: null, outputTruncated: false, outputWithheld: false,
      outputFrom: null, error: reveal.masker.mask(run.error?.message ?? ''), replayed: false,
    });
  }
  return { steps, startedAt: own.startedAt, logProblems: own.problems, logPath: own.path };
}

function baseKey(key: string): string {
  return waitingStepKey(key) ?? key;
}

interface LogFacts {
  readonly finished: Map<string, Finished>;
  readonly started: Map<string, Started>;
  readonly startedAt: number | null;
  readonly problems: number;
  readonly path: string | null;
}

function readLog(logDir: string, run: RunRow): LogFacts {
  const path = runLogPath(logDir, run.workflow, run.id);
  const facts: LogFacts = { finished: new Map(), started: new Map(), startedAt: null, problems: 0, path: null };
  if (!existsSync(path)) return facts;
  let read;
  try {
    read = readRunLog(path);
  } catch {
    return { ...facts, problems: 1 };
  }
  let startedAt: number | null = null;
  for (const r of read.records) {
    if (r.type === 'run.started' && startedAt === null) startedAt = Date.parse(r.ts);
    else if (r.type === 'step.finished') facts.finished.set(stepKey(r.step, r.index ?? []), r);
    else if (r.type === 'step.started') facts.started.set(stepKey(r.step, r.index ?? []), r);
  }
  return { ...facts, startedAt, problems: read.problems.length, path };
}

/** A journaled step; its output from the journal when every secret is known here, else from the log. */
function fromJournal(entry: JournalEntry, run: RunRow, replayed: boolean, logged: Finished | undefined, reveal: Reveal): StepView {
  const j = entry.output as JournaledStep;
  const waiting = j.status === 'waiting';
  const m = reveal.masker;
  // The run log's copy first: it was masked with everything the daemon knew (derived
  // credentials too), and it is whole unless the log cut it. The journal's whole copy only
  // where the log's was cut or is missing, and only when every declared secret is known here.
  const whole = logged !== undefined && logged.output_truncated !== true;
  const output = waiting
    ? { output: null, outputTruncated: false, outputWithheld: false, outputFrom: null }
    : whole
      ? { output: m.maskValue(logged.output ?? null, { keys: true }), outputTruncated: false, outputWithheld: false, outputFrom: 'run-log' as const }
      : reveal.journalOutputs
        ? { output: m.maskValue(j.output, { keys: true }), outputTruncated: false, outputWithheld: false, outputFrom: 'journal' as const }
        : logged
          ? { output: m.maskValue(logged.output ?? null, { keys: true }), outputTruncated: true, outputWithheld: false, outputFrom: 'run-log' as const }
          : { output: null, outputTruncated: false, outputWithheld: j.output !== null && j.output !== undefined, outputFrom: null };
  const error = j.error === undefined ? null : logged?.error ? m.mask(logged.error.message) : reveal.journalOutputs ? m.mask(j.error) : '(not shown: see the run log)';
  return {
    // A wait that never ended because the run did (cancelled while it waited): `stopped`, not waiting.
    key: j.key, step: j.step, path: j.path, ...(j.index !== undefined ? { index: j.index } : {}),
    status: waiting && run.status !== 'waiting' && run.status !== 'running' ? 'stopped' : j.status, attempts: waiting ? null : j.attempts,
    durationMs: waiting ? null : j.duration_ms, startedAt: entry.startedAt, finishedAt: waiting ? null : entry.finishedAt,
    ...(j.http_status !== undefined ? { httpStatus: j.http_status } : {}), ...(j.continued ? { continued: true } : {}),
    ...(waiting && j.wake_at !== undefined ? { wakeAt: j.wake_at } : {}), ...(waiting && j.event !== undefined ? { event: j.event } : {}),
    ...output, error, replayed,
  };
}

/** A step only the run log knows: the failure that stopped the run. */
function fromLog(key: string, r: Finished, reveal: Reveal): StepView {
  const m = reveal.masker;
  const finishedAt = Date.parse(r.ts);
  return {
    key, step: r.step, path: r.path, ...(r.index !== undefined ? { index: r.index } : {}), status: r.status, attempts: r.attempt, durationMs: r.duration_ms,
    startedAt: finishedAt - r.duration_ms, finishedAt, ...(r.http_status !== undefined ? { httpStatus: r.http_status } : {}), ...(r.continued ? { continued: true } : {}),
    output: m.maskValue(r.output ?? null, { keys: true }), outputTruncated: r.output_truncated === true, outputWithheld: false, outputFrom: 'run-log',
    error: r.error ? m.mask(r.error.message) : null, replayed: false,
  };
}

function runningStep(key: string, r: Started): StepView {
  return {
    key, step: r.step, path: r.path, ...(r.index !== undefined ? { index: r.index } : {}), status: 'running', attempts: null, durationMs: null,
    startedAt: Date.parse(r.ts), finishedAt: null, output: null, outputTruncated: false, outputWithheld: false, outputFrom: null, error: null,
    replayed: false,
  };
}

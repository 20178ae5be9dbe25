/**
 * The runner: takes one run the store handed this daemon (to start, to wake, or to rescue from
 * a daemon that died) and drives the engine to its next stop, finished or waiting, keeping the
 * store in step: the run's lease is renewed while it runs, each completed step is journaled
 * before the next one starts, and the outcome is recorded. A rescued or woken run resumes by
 * replay: its journal comes back as the engine's history, and its run log goes on in the same
 * file, so the log of a run holds each step.finished and its run.finished exactly once.
 */
import type { ConnectorRuntime } from '../connectors/runtime.js';
import type { Clock } from '../engine/clock.js';
import { runWorkflow } from '../engine/run.js';
import type { JournaledStep, LoadedWorkflow, RunResult } from '../engine/types.js';
import { Masker } from '../secrets/masker.js';
import { FileJournal, runLogPath, type RunRecord } from '../store/run-log.js';
import type { ClaimedRun, FinalState, JournalEntry, RunRow, Store } from '../store/store.js';
import { asRecord } from '../workflow/model.js';
import { parseSource } from '../workflow/source.js';

export interface RunnerDeps {
  readonly store: Store;
  /** This daemon's name in leases. */
  readonly owner: string;
  readonly leaseMs: number;
  readonly clock: Clock;
  readonly connectors: Readonly<Record<string, ConnectorRuntime>>;
  readonly logDir: string;
  readonly secrets: Readonly<Record<string, string>>;
  readonly environment: Readonly<Record<string, string | undefined>>;
}

/** How a claimed run's turn ended: the engine's result, or `lost` when another daemon took the run over. */
export type RunnerOutcome = { readonly kind: 'ran'; readonly result: RunResult } | { readonly kind: 'lost' } | { readonly kind: 'unrunnable'; readonly reason: string };

/** A durable wait's journal entry has its own key: the step's completion, written later, must not collide with it. */
const WAITING_SUFFIX = '#waiting';

/** Runs one claimed run until it finishes or waits. */
export async function runClaimed(claim: ClaimedRun, deps: RunnerDeps): Promise<RunnerOutcome> {
  const run = claim.run;
  const workflow = await workflowOf(run, deps.store);
  if (!workflow.ok) {
    await deps.store.finishRun(run.id, deps.owner, 'failed', { message: workflow.reason }, deps.clock.now());
    return { kind: 'unrunnable', reason: workflow.reason };
  }
  const history = historyOf(await deps.store.journalFor(run.id));
  const controller = new AbortController();
  let lost = false;
  // Renewed well before it lapses; a lease that cannot be renewed means another daemon has the run.
  const renew = setInterval(() => {
    deps.store.renewLease(run.id, deps.owner, deps.leaseMs, deps.clock.now()).then((state) => {
      if (!state.held) lost = true;
      if (!state.held || state.cancelRequested) controller.abort();
    }, () => {});
  }, Math.max(50, Math.floor(deps.leaseMs / 3)));
  const file = new FileJournal(runLogPath(deps.logDir, workflow.value.name, run.id));
  // Once another daemon holds the run, it writes the run's log: this one must not add an end to it.
  const journal = { append: (record: RunRecord) => (lost ? undefined : file.append(record)), close: () => file.close() };
  let result: RunResult;
  try {
    result = await runWorkflow({
      workflow: workflow.value, event: run.event, trigger: run.trigger, secrets: deps.secrets, environment: deps.environment,
      connectors: deps.connectors, clock: deps.clock, journal, masker: new Masker(), runId: run.id, attempt: run.attempt,
      resume: claim.reason !== 'start', history, durableWaits: true, signal: controller.signal,
      onStepCompleted: (step) => deps.store.recordStep(deps.owner, toEntry(run, step, deps.clock.now())).then(() => undefined),
    });
  } finally {
    clearInterval(renew);
    await journal.close();
  }
  if (lost) return { kind: 'lost' };
  const now = deps.clock.now();
  if (result.status === 'waiting' && result.waiting) {
    const w = result.waiting;
    await deps.store.setWaiting(run.id, deps.owner, Date.parse(w.wake_at), w.event !== undefined ? { event: w.event, step: w.key } : null, now);
  } else {
    await deps.store.finishRun(run.id, deps.owner, result.status as FinalState, result.error ?? null, now);
  }
  return { kind: 'ran', result };
}

/** The workflow version the run started with, from the store: a run never changes version mid-way. */
async function workflowOf(run: RunRow, store: Store): Promise<{ ok: true; value: LoadedWorkflow } | { ok: false; reason: string }> {
  const version = await store.getWorkflowVersion(run.workflowVersion);
  if (!version) return { ok: false, reason: `workflow version ${run.workflowVersion} is not in the store` };
  const parsed = parseSource(`${version.name}.yaml`, version.text);
  if (!parsed.ok) return { ok: false, reason: `workflow version ${run.workflowVersion} no longer parses` };
  const value = parsed.source.value;
  return {
    ok: true,
    value: { file: `${version.name}.yaml`, value, name: String(value.name), owner: String(value.owner), version: version.hash, baseline: asRecord(value.baseline) ?? null },
  };
}

/** A completed (or waiting) step as the store journals it; the engine's entry travels whole as the output. */
export function toEntry(run: RunRow, step: JournaledStep, now: number): JournalEntry {
  return {
    runId: run.id, key: step.status === 'waiting' ? `${step.key}${WAITING_SUFFIX}` : step.key, kind: 'step', status: step.status, output: step,
    error: step.error !== undefined ? { message: step.error } : null, attempt: run.attempt, startedAt: step.started_at ?? now - step.duration_ms, finishedAt: now,
  };
}

/** The engine's history from the store's journal: a step's completion outweighs its waiting entry. */
export function historyOf(entries: readonly JournalEntry[]): Map<string, JournaledStep> {
  const history = new Map<string, JournaledStep>();
  const steps = entries.filter((e) => e.kind === 'step');
  for (const e of steps) if (e.key.endsWith(WAITING_SUFFIX)) history.set(e.key.slice(0, -WAITING_SUFFIX.length), e.output as JournaledStep);
  for (const e of steps) if (!e.key.endsWith(WAITING_SUFFIX)) history.set(e.key, e.output as JournaledStep);
  return history;
}

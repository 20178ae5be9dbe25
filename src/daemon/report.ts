/**
 * What the daemon tells about what happens: the log line and the counters together, for a
 * run's claim (started, woken, rescued after a crash), how its turn ended (finished, waiting,
 * taken over, unrunnable), a schedule fire skipped, an event delivered. One place, so the log
 * and /metrics never disagree; the scheduler and event delivery call it too.
 */
import type { ClaimedRun } from '../store/store.js';
import { lateness } from '../triggers/schedule.js';
import type { DaemonLog } from './log.js';
import type { DaemonMetrics } from './metrics.js';
import type { RunnerOutcome } from './runner.js';

/** Where a report goes. */
export interface Reporting {
  readonly log: DaemonLog;
  readonly metrics: DaemonMetrics;
}

/** A run was handed to this daemon at `now` (the daemon's clock). */
export function reportClaim(c: ClaimedRun, now: number, r: Reporting): void {
  const { id, workflow, trigger, attempt, scheduledFor } = c.run;
  const fields = { run: id, workflow, trigger, attempt };
  if (c.reason === 'start') {
    r.metrics.runStarted(workflow, trigger);
    if (scheduledFor === null) {
      r.log.info(`run ${id} ${workflow} started (${trigger})`, { kind: 'run.started', ...fields });
      return;
    }
    // From the store's first-claim time; never negative in a histogram (a clock stepped back).
    const late = Math.max(0, lateness(scheduledFor, c.run.startedAt ?? now));
    r.metrics.fireLateness(workflow, late);
    r.log.info(`run ${id} ${workflow} started (${trigger} for ${new Date(scheduledFor).toISOString()}, ${formatMs(late)} late)`, {
      kind: 'run.started', ...fields, scheduled_for: new Date(scheduledFor).toISOString(), lateness_ms: late,
    });
  } else if (c.reason === 'wake') {
    r.metrics.runResumed(workflow, 'wake');
    r.log.info(`run ${id} ${workflow} resumed after its wait`, { kind: 'run.resumed', reason: 'wake', ...fields });
  } else {
    r.metrics.runResumed(workflow, 'rescue');
    r.log.warn(`run ${id} ${workflow} resumed after its daemon stopped (attempt ${attempt})`, { kind: 'run.resumed', reason: 'rescue', ...fields });
  }
}

/** A turn ended. */
export function reportTurn(c: ClaimedRun, outcome: RunnerOutcome, r: Reporting): void {
  const { id, workflow } = c.run;
  const fields = { run: id, workflow, attempt: c.run.attempt };
  if (outcome.kind === 'lost') {
    r.log.warn(`run ${id} ${workflow}: taken over by another daemon`, { kind: 'run.lost', ...fields });
    return;
  }
  if (outcome.kind === 'released') {
    if (outcome.cancelled) r.log.info(`run ${id} ${workflow} cancelled as the daemon stopped`, { kind: 'run.finished', status: 'cancelled', ...fields });
    else r.log.warn(`run ${id} ${workflow}: still running when the grace period ended; stopped, and handed to the next daemon start`, { kind: 'run.released', ...fields });
    return;
  }
  if (outcome.kind === 'unrunnable') {
    r.metrics.runFinished(workflow, 'failed', 0);
    r.log.error(`run ${id} ${workflow} failed: ${outcome.reason}`, { kind: 'run.finished', status: 'failed', ...fields, error: outcome.reason });
    return;
  }
  const result = outcome.result;
  for (const step of result.steps) if (!step.replayed && step.status !== 'skipped') r.metrics.stepFinished(workflow, step.status, step.duration_ms);
  if (result.status === 'waiting') {
    const w = result.waiting;
    r.log.info(`run ${id} ${workflow} waiting${w ? ` at ${w.step} until ${w.wake_at}${w.event !== undefined ? ` or event ${w.event}` : ''}` : ''}`, {
      kind: 'run.waiting', ...fields, step: w?.step, wake_at: w?.wake_at, waiting_for: w?.event,
    });
    return;
  }
  r.metrics.runFinished(workflow, result.status, result.duration_ms);
  const error = result.error?.message;
  const line = `run ${id} ${workflow} ${result.status} in ${formatMs(result.duration_ms)}${error !== undefined ? `: ${error}` : ''}`;
  const finished = { kind: 'run.finished', ...fields, status: result.status, duration_ms: result.duration_ms, error, step: result.error?.step };
  if (result.status === 'succeeded' || result.status === 'cancelled') r.log.info(line, finished);
  else r.log.warn(line, finished);
  const e = result.escalation;
  if (e) {
    r.metrics.escalation(workflow, e.delivered);
    if (e.delivered) r.log.info(`run ${id} ${workflow}: owner told via ${e.via}`, { kind: 'escalation', ...fields, via: e.via, delivered: true });
    else r.log.error(`run ${id} ${workflow}: the owner could not be told: ${e.delivery_error ?? 'no escalation delivered'}`, { kind: 'escalation', ...fields, via: e.via, delivered: false, error: e.delivery_error });
  }
}

/** A turn threw (the store failed under it): the run keeps its lease until it lapses, then is rescued. */
export function reportTurnError(c: ClaimedRun, error: unknown, r: Reporting): void {
  const message = error instanceof Error ? error.message : String(error);
  r.log.error(`run ${c.run.id} ${c.run.workflow}: ${message}; it will be resumed`, { kind: 'run.interrupted', run: c.run.id, workflow: c.run.workflow, error: message });
}

/**
 * A schedule fire that will not run (`overlap: skip` while the last run goes on, a catch-up
 * past its cap). Its lateness is not reported here: a fire that runs is measured when its run
 * is claimed (reportClaim), from the time it was scheduled for.
 */
export function reportFireSkipped(workflow: string, scheduledFor: number, reason: string, r: Reporting): void {
  r.metrics.fireSkipped(workflow, reason);
  const at = new Date(scheduledFor).toISOString();
  r.log.warn(`schedule ${workflow}: fire for ${at} skipped (${reason})`, { kind: 'fire.skipped', workflow, scheduled_for: at, reason });
}

/** An event was delivered once: the runs it woke and started. */
export function reportEventDelivered(event: { readonly id: string; readonly name: string }, woken: readonly string[], started: readonly string[], r: Reporting): void {
  r.metrics.eventDelivered(event.name, woken.length, started.length);
  r.log.info(`event ${event.name} ${event.id} delivered: ${woken.length} woken, ${started.length} started`, {
    kind: 'event.delivered', event: event.name, event_id: event.id, woken: woken.length, started: started.length,
  });
}

/** A duration for a person: `840 ms`, `3.2 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

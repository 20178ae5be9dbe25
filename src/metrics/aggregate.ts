/**
 * The aggregator: records in, figures out. It holds per-run state only for runs it cannot
 * count yet (not finished, or whose run.started it has not read, or whose log is in parts,
 * one per daemon, joined by run id), and counts a run once, in the window its
 * run.started falls in. One aggregator reads all files in-process; in the
 * worker pool each worker has one, and the main thread merges their partials (`toPartial`,
 * `mergePartial`) before `finish` judges the runs still open against the stale threshold.
 */
import type { LeakedRun, MetricsWarning, Period } from './report.js';
import type { Rec } from './parse.js';
import { BoundedList, compareText } from './bounded.js';
import {
  countError, fromWire, MAX_STEPS, mergeWorkflow, newPeriod, newStep, newWorkflowAgg, reclaim, toWire,
  type Counts, type WorkflowAgg, type WorkflowWire,
} from './figures.js';
import { humanDuration, periodStart } from './period.js';
import { applyRecord, compactHeld, cycleSeconds, holdStep, mergeRunStates, newRunState, responseSeconds, type RunState, type StepEvent } from './run-state.js';

/** Warnings listed in the report; more are counted. */
export const MAX_WARNINGS = 100;
/** Leaked runs listed in the report; more are counted. */
export const MAX_LEAKED = 1000;
/** Distinct baselines counted per workflow. */
const MAX_BASELINES = 100;

/** What decides which runs count and how open runs are judged. */
export interface AggregateOptions {
  /** Runs whose run.started is earlier are not counted (epoch ms), null for all. */
  readonly since: number | null;
  /** The time open runs are judged at (epoch ms): --until, or now. */
  readonly until: number;
  /** True for an explicit --until: records after it are ignored, as if not yet written. */
  readonly cutAtUntil: boolean;
  readonly staleMs: number;
  readonly by: Period;
  /** Only these workflows, or null for all. */
  readonly workflows: readonly string[] | null;
}

/**
 * What the store says of a run whose logs have no end: its state, and when it finished (null
 * while it is queued, running or waiting).
 */
export interface StoreVerdict {
  readonly status: string;
  readonly finishedAt: number | null;
}

/** Whether the store's verdict says the run had ended by `until`. */
function finishedBy(verdict: StoreVerdict | undefined, until: number): boolean {
  return verdict !== undefined && verdict.finishedAt !== null && verdict.finishedAt <= until;
}

/** How much was read. */
export interface InputCounts {
  files: number;
  lines: number;
  records: number;
  bytes: number;
}

/**
 * An escalation counted with its run that asked for acknowledgement (`ack_within`) and whose
 * `escalation.acked` has not been read: leaked if none comes by its deadline.
 */
export interface AckDue {
  readonly run: string;
  readonly workflow: string;
  readonly owner: string | null;
  /** The run's trend period, whose leaked count it adds to. */
  readonly period: string;
  readonly dueAt: number;
  readonly lastStep: string | null;
  readonly lastTs: number;
}

/** An aggregator's state as plain data, for a worker's reply. */
export interface AggregatePartial {
  readonly workflows: WorkflowWire[];
  readonly open: RunState[];
  readonly ackDue: AckDue[];
  /** Runs whose escalation.acked was read. */
  readonly acked: string[];
  readonly warnings: MetricsWarning[];
  readonly warningsOmitted: number;
  readonly leaked: LeakedRun[];
  readonly leakedOmitted: number;
  readonly input: InputCounts;
}

const byFileLine = (a: MetricsWarning, b: MetricsWarning): number =>
  compareText(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0) || compareText(a.message, b.message);
const byLastRecord = (a: LeakedRun, b: LeakedRun): number => compareText(a.last_record_at, b.last_record_at) || compareText(a.run_id, b.run_id);

/** Streaming aggregation of run records. */
export class Aggregator {
  readonly workflows = new Map<string, WorkflowAgg>();
  readonly open = new Map<string, RunState>();
  readonly warnings = new BoundedList<MetricsWarning>(MAX_WARNINGS, byFileLine);
  readonly leaked = new BoundedList<LeakedRun>(MAX_LEAKED, byLastRecord);
  readonly input: InputCounts = { files: 0, lines: 0, records: 0, bytes: 0 };
  /** Acknowledgements awaited, by run; and the runs whose acknowledgement was read (see AckDue). */
  readonly ackDue = new Map<string, AckDue>();
  readonly acked = new Set<string>();
  /** Runs whose run.started came after their run.finished: counted when their file ends. */
  private touched: RunState[] = [];
  private readonly only: ReadonlySet<string> | null;

  constructor(readonly options: AggregateOptions) {
    this.only = options.workflows === null ? null : new Set(options.workflows);
  }

  /** A warning about a file (line null) or one of its lines. */
  warn(file: string, line: number | null, message: string): void {
    this.warnings.push({ file, line, message });
  }

  /** Folds one record, read from `file`, into the figures. */
  record(rec: Rec, file: string): void {
    if (this.options.cutAtUntil && rec.ts > this.options.until) return;
    if (this.only !== null && !this.only.has(rec.workflow)) return;
    this.input.records++;
    // Written to a run's log after its end: they concern its escalation, not the run.
    if (rec.type === 'escalation.acked') return this.acknowledged(rec, file);
    if (rec.type === 'escalation.then') return;
    let s = this.open.get(rec.run);
    if (s === undefined) {
      s = newRunState(rec, file);
      this.open.set(rec.run, s);
    }
    applyRecord(s, rec);
    if (rec.type === 'step.finished' || rec.type === 'step.retry') {
      if (rec.step !== null) {
        const e: StepEvent = { step: rec.step, ts: rec.ts, kind: rec.type === 'step.retry' ? 'retry' : rec.status ?? '', durationMs: rec.durationMs, error: rec.error };
        if (s.pending !== null) holdStep(s, e);
        else if (this.inWindow(s)) this.countStep(s.workflow, e, file);
      }
    } else if (rec.type === 'run.started' && s.pending !== null) {
      this.release(s, s.pending);
      s.pending = null;
      if (s.finishedAt !== null) this.touched.push(s);
    } else if (rec.type === 'run.finished' && s.pending === null) {
      if (s.inParts) compactHeld(s);
      else this.settle(s);
    }
  }

  /**
   * Ends a file: runs completed by it (their start read after their end) are counted. A run
   * in parts is not: other daemons' parts of its log may be still unread (run-state.ts);
   * `finish` counts it.
   */
  endFile(): void {
    for (const s of this.touched) {
      if (this.open.get(s.run) !== s) continue;
      if (s.inParts) compactHeld(s);
      else this.settle(s);
    }
    this.touched = [];
  }


  /** This aggregator's state as plain data, for a worker's reply. */
  toPartial(): AggregatePartial {
    return {
      workflows: [...this.workflows.values()].map(toWire),
      open: [...this.open.values()],
      ackDue: [...this.ackDue.values()],
      acked: [...this.acked],
      warnings: this.warnings.list(), warningsOmitted: this.warnings.omitted,
      leaked: this.leaked.list(), leakedOmitted: this.leaked.omitted,
      input: this.input,
    };
  }

  /** Adds a worker's partial; runs open in both are merged by run id. */
  mergePartial(p: AggregatePartial): void {
    for (const wire of p.workflows) {
      const theirs = fromWire(wire);
      const mine = this.workflows.get(theirs.name);
      if (mine) mergeWorkflow(mine, theirs);
      else this.workflows.set(theirs.name, theirs);
    }
    for (const s of p.open) {
      const mine = this.open.get(s.run);
      if (mine === undefined) {
        this.open.set(s.run, s);
        continue;
      }
      const held = mergeRunStates(mine, s);
      if (held.length > 0) this.release(mine, held);
    }
    for (const run of p.acked) {
      this.acked.add(run);
      this.ackDue.delete(run);
    }
    for (const due of p.ackDue) if (!this.acked.has(due.run)) this.ackDue.set(due.run, due);
    this.warnings.merge(p.warnings, p.warningsOmitted);
    this.leaked.merge(p.leaked, p.leakedOmitted);
    for (const k of Object.keys(this.input) as (keyof InputCounts)[]) this.input[k] += p.input[k];
  }

  /**
   * The runs in the window whose logs have no end (read so far): those `finish` judges by the
   * stale threshold unless the store knows them.
   */
  unfinishedRuns(): string[] {
    const ids: string[] = [];
    for (const s of this.open.values()) if (s.startedAt !== null && s.finishedAt === null && this.inWindow(s)) ids.push(s.run);
    return ids.sort(compareText);
  }

  /**
   * Counts every run still open: finished ones, then the others judged at `until`, or by what
   * the store says of them (`known`, from `--store`): a run the store still holds is running or
   * waiting whatever its last record's age; one the store finished is counted with the store's
   * outcome, its end being in a log not read.
   */
  finish(known?: ReadonlyMap<string, StoreVerdict>): void {
    const { until, staleMs } = this.options;
    for (const s of [...this.open.values()]) {
      if (s.startedAt === null) {
        this.open.delete(s.run);
        this.warn(s.file, null, s.inParts
          ? `run ${s.run} of workflow "${s.workflow}": a part of its log that resumes it, without the part that holds its run.started (written by the daemon that started it: give that daemon's log directory too): not counted`
          : `run ${s.run} of workflow "${s.workflow}": records without its run.started (its first log file is missing?): not counted`);
      } else if (s.finishedAt !== null) {
        this.settle(s);
      } else if (known !== undefined && finishedBy(known.get(s.run), until)) {
        // Finished in the store by `until` (a run that ended after --until was in flight then).
        const verdict = known.get(s.run)!;
        s.finishedAt = Math.max(verdict.finishedAt!, s.startedAt);
        s.status = verdict.status;
        this.settle(s);
      } else {
        this.open.delete(s.run);
        if (!this.inWindow(s)) continue;
        const verdict = known?.get(s.run);
        if (verdict !== undefined) this.count(s, verdict.status === 'waiting' ? 'waiting' : 'running', null);
        else if (s.lastType === 'run.waiting' && s.wakeAt !== null) {
          if (until <= s.wakeAt + staleMs) this.count(s, 'waiting', null);
          else this.count(s, 'stalled', `waiting until ${new Date(s.wakeAt).toISOString()} and not resumed ${humanDuration(until - s.wakeAt)} after it`);
        } else if (until - s.lastTs <= staleMs) {
          this.count(s, 'running', null);
        } else {
          this.count(s, 'stalled', `no record for ${humanDuration(until - s.lastTs)} and no run.finished: the run stopped without an end`);
        }
      }
    }
    // Escalations nobody acknowledged by their deadline: the owner was told, but nobody took it on.
    for (const due of [...this.ackDue.values()].sort((a, b) => a.dueAt - b.dueAt || compareText(a.run, b.run))) {
      this.ackDue.delete(due.run);
      if (due.dueAt > until) continue;
      const w = this.agg(due.workflow, '');
      w.leaked++;
      const p = w.periods.get(due.period);
      if (p !== undefined) p.leaked++;
      this.leaked.push({
        run_id: due.run, workflow: due.workflow, owner: due.owner, last_step: due.lastStep, last_record_at: new Date(due.lastTs).toISOString(),
        reason: `escalated, and not acknowledged by its deadline (${new Date(due.dueAt).toISOString()})`,
      });
    }
  }

  /** An `escalation.acked`: its time to acknowledgement, counted when the escalation is in the window. */
  private acknowledged(rec: Rec, file: string): void {
    this.acked.add(rec.run);
    this.ackDue.delete(rec.run);
    const { since, until, cutAtUntil } = this.options;
    const at = rec.escalatedAt;
    if (at === null || (since !== null && at < since) || (cutAtUntil && at > until)) return;
    const seconds = Math.max(0, rec.ts - at) / 1000;
    const w = this.agg(rec.workflow, file);
    w.ack.add(seconds);
    const key = periodStart(at, this.options.by);
    let p = w.periods.get(key);
    if (p === undefined) {
      p = newPeriod();
      w.periods.set(key, p);
    }
    p.ack.add(seconds);
  }

  private inWindow(s: RunState): boolean {
    const { since, until, cutAtUntil } = this.options;
    return s.startedAt !== null && (since === null || s.startedAt >= since) && (!cutAtUntil || s.startedAt <= until);
  }

  private release(s: RunState, held: readonly StepEvent[]): void {
    if (!this.inWindow(s)) return;
    for (const e of held) this.countStep(s.workflow, e, s.file);
  }

  /** Counts a finished run (its start and end both read) and forgets it. */
  private settle(s: RunState): void {
    this.open.delete(s.run);
    if (!this.inWindow(s)) return;
    switch (s.status) {
      case 'succeeded':
      case 'cancelled':
      case 'rejected':
      case 'escalated':
        this.count(s, s.status, null);
        break;
      default:
        if (s.escalated) this.count(s, 'escalated', null);
        else if (s.escalationFailed) this.count(s, 'failed', 'failed, and its escalation could not be delivered');
        else this.count(s, 'failed', `${s.status === 'failed' ? 'failed' : `ended "${s.status ?? ''}"`}, and no escalation was delivered`);
    }
  }

  private agg(name: string, file: string): WorkflowAgg {
    let w = this.workflows.get(name);
    if (w === undefined) {
      w = newWorkflowAgg(name, file);
      this.workflows.set(name, w);
    }
    return w;
  }

  private count(s: RunState, kind: Exclude<keyof Counts, 'started'>, leak: string | null): void {
    const started = s.startedAt ?? s.lastTs;
    const w = this.agg(s.workflow, s.file);
    if (s.file < w.firstFile) w.firstFile = s.file;
    if (s.owner !== null && (s.ownerTs > w.ownerTs || (s.ownerTs === w.ownerTs && (w.owner === null || s.owner > w.owner)))) {
      w.owner = s.owner;
      w.ownerTs = s.ownerTs;
    }
    if (s.baseline !== null) {
      if (started > w.baselineTs || (started === w.baselineTs && (w.baseline === null || s.baseline.key > w.baseline.key))) {
        w.baseline = s.baseline;
        w.baselineTs = started;
      }
      if (w.baselines.size < MAX_BASELINES) w.baselines.add(s.baseline.key);
    }
    const key = periodStart(started, this.options.by);
    let p = w.periods.get(key);
    if (p === undefined) {
      p = newPeriod();
      w.periods.set(key, p);
    }
    for (const c of [w.counts, p.counts]) {
      c.started++;
      c[kind]++;
    }
    if (leak !== null) {
      w.leaked++;
      p.leaked++;
      this.leaked.push({ run_id: s.run, workflow: s.workflow, owner: s.owner || null, last_step: s.lastStep, last_record_at: new Date(s.lastTs).toISOString(), reason: leak });
    } else if (s.ackDueAt !== null && !this.acked.has(s.run)) {
      this.ackDue.set(s.run, { run: s.run, workflow: s.workflow, owner: s.owner || null, period: key, dueAt: s.ackDueAt, lastStep: s.lastStep, lastTs: s.lastTs });
    }
    const response = responseSeconds(s);
    if (response !== null) {
      w.response.add(response);
      p.response.add(response);
    }
    if (kind === 'succeeded') {
      const cycle = cycleSeconds(s);
      if (cycle !== null) {
        w.cycle.add(cycle);
        p.cycle.add(cycle);
      }
      reclaim(w.reclaimed, s.baseline);
      reclaim(p.reclaimed, s.baseline);
    }
    if (s.pendingDropped > 0) this.warn(s.file, null, `run ${s.run}: ${s.pendingDropped} step records read before its run.started were not counted (more than the bound)`);
  }

  private countStep(workflow: string, e: StepEvent, file: string): void {
    const w = this.agg(workflow, file);
    let st = w.steps.get(e.step);
    if (st === undefined) {
      if (w.steps.size >= MAX_STEPS) {
        w.stepsDropped++;
        return;
      }
      st = newStep(e.ts);
      w.steps.set(e.step, st);
    }
    if (e.ts < st.firstTs) st.firstTs = e.ts;
    if (e.kind === 'retry') {
      st.retries++;
      return;
    }
    st.finished++;
    if (e.kind === 'succeeded') st.succeeded++;
    else if (e.kind === 'failed') st.failed++;
    else if (e.kind === 'skipped') st.skipped++;
    if ((e.kind === 'succeeded' || e.kind === 'failed') && e.durationMs !== null) st.duration.add(e.durationMs);
    if (e.kind === 'failed') countError(st, e.error ?? '(no error message)');
  }
}

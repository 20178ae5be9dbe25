/**
 * From the aggregator's sums to the report every format renders: rates, quantiles, the
 * newest baseline, owners, the top failing steps, and the findings that are warnings (a
 * workflow without an owner, bounds that were reached). Figures are rounded to 6 decimals so
 * the pool and one reader, adding the same numbers in another order, print the same report.
 */
import type { Aggregator } from './aggregate.js';
import { compareText } from './bounded.js';
import { mergeWorkflow, newWorkflowAgg, type Reclaimed, type WorkflowAgg } from './figures.js';
import { periodRange } from './period.js';
import {
  METRICS_VERSION, type Baseline, type LiveFigures, type MetricsReport, type OwnerFigures, type PeriodFigures, type Quantiles, type StepFigures, type WorkflowFigures,
} from './report.js';
import type { Sketch } from './sketch.js';

/** What the report says about how it was made. */
export interface ReportMeta {
  readonly generatedAt: number;
  readonly since: number | null;
  readonly until: number;
  /** The store's live state (`--store`), appended as `live`. */
  readonly live?: LiveFigures | undefined;
}

/** The owner a workflow without one is listed under. */
export const NO_OWNER = '(no owner)';
const TOP_FAILING = 10;

/** Builds the report from a finished aggregator. */
export function buildReport(agg: Aggregator, meta: ReportMeta): MetricsReport {
  const by = agg.options.by;
  const aggs = [...agg.workflows.values()].sort((a, b) => compareText(a.name, b.name));
  for (const w of aggs) {
    if (w.owner === null || w.owner.trim() === '') {
      agg.warn(w.firstFile, null, `workflow "${w.name}" has no owner: nobody is told when it leaks; add \`owner:\` to its file`);
    }
    if (w.stepsDropped > 0) agg.warn(w.firstFile, null, `workflow "${w.name}": more than ${w.steps.size} step ids; ${w.stepsDropped} records of further steps are not in its step table`);
    for (const [id, s] of w.steps) {
      if (s.otherErrors > 0) agg.warn(w.firstFile, null, `workflow "${w.name}", step "${id}": more than ${s.errors.size} different error messages; ${s.otherErrors} failures counted without their message`);
    }
  }
  const workflows = aggs.map((w) => figures(w, by, true));
  const total = newWorkflowAgg('total', '');
  for (const w of aggs) mergeWorkflow(total, w, false);
  const totals = { ...figures(total, by, false), owner: null, baseline: null, response_baseline_seconds: null, response_speedup: null, baselines_seen: total.baselines.size };

  const groups = new Map<string, WorkflowAgg[]>();
  for (const w of aggs) {
    const key = w.owner === null || w.owner.trim() === '' ? NO_OWNER : w.owner;
    groups.set(key, [...(groups.get(key) ?? []), w]);
  }
  const owners: OwnerFigures[] = [...groups].sort(([a], [b]) => compareText(a, b)).map(([owner, list]) => {
    const sum = newWorkflowAgg(owner, '');
    for (const w of list) mergeWorkflow(sum, w, false);
    const value = valueOf(sum.reclaimed);
    return {
      owner, workflows: list.map((w) => w.name), runs_started: sum.counts.started, leaked: sum.leaked,
      leakage_rate: rate(sum.leaked, sum.counts.started), reclaimed_hours: round(sum.reclaimed.hours), ...value,
    };
  });

  const top_failing_steps = workflows
    .flatMap((w) => w.steps)
    .filter((s) => s.failed > 0)
    .sort((a, b) => b.failed - a.failed || compareText(a.workflow, b.workflow) || compareText(a.step, b.step))
    .slice(0, TOP_FAILING);

  return {
    version: METRICS_VERSION,
    generated_at: new Date(meta.generatedAt).toISOString(),
    window: { since: meta.since === null ? null : new Date(meta.since).toISOString(), until: new Date(meta.until).toISOString() },
    by,
    stale_after_seconds: agg.options.staleMs / 1000,
    input: { ...agg.input },
    totals,
    workflows,
    owners,
    top_failing_steps,
    leaked_runs: agg.leaked.list(),
    leaked_runs_omitted: agg.leaked.omitted,
    warnings: agg.warnings.list(),
    warnings_omitted: agg.warnings.omitted,
    ...(meta.live === undefined ? {} : { live: meta.live }),
  };
}

function figures(w: WorkflowAgg, by: MetricsReport['by'], withSteps: boolean): WorkflowFigures {
  const c = w.counts;
  const ended = c.succeeded + c.failed + c.escalated;
  const response = quantiles(w.response);
  const baseline: Baseline | null = w.baseline === null ? null : {
    minutes_per_run: w.baseline.minutes_per_run, response_minutes: w.baseline.response_minutes, hourly_cost: w.baseline.hourly_cost, currency: w.baseline.currency,
  };
  const responseBaseline = baseline?.response_minutes == null ? null : baseline.response_minutes * 60;
  const keys = [...w.periods.keys()].sort();
  const periods: PeriodFigures[] = keys.length === 0 ? [] : periodRange(keys[0]!, keys[keys.length - 1]!, by).map((start) => {
    const p = w.periods.get(start);
    if (p === undefined) {
      return {
        start, runs: { started: 0, succeeded: 0, failed: 0, escalated: 0, cancelled: 0, rejected: 0, running: 0, waiting: 0, stalled: 0 },
        leaked: 0, reclaimed_hours: 0, reclaimed_value: null, response_seconds: quantiles(null), cycle_seconds: quantiles(null), ack_seconds: quantiles(null),
      };
    }
    return {
      start, runs: { ...p.counts }, leaked: p.leaked, reclaimed_hours: round(p.reclaimed.hours), reclaimed_value: valueOf(p.reclaimed).reclaimed_value,
      response_seconds: quantiles(p.response), cycle_seconds: quantiles(p.cycle), ack_seconds: quantiles(p.ack),
    };
  });
  const steps: StepFigures[] = !withSteps ? [] : [...w.steps]
    .sort(([ia, a], [ib, b]) => a.firstTs - b.firstTs || compareText(ia, ib))
    .map(([step, s]) => {
      let top: { message: string; count: number } | null = null;
      for (const [message, count] of s.errors) {
        if (top === null || count > top.count || (count === top.count && message < top.message)) top = { message, count };
      }
      return {
        workflow: w.name, step, finished: s.finished, succeeded: s.succeeded, failed: s.failed, skipped: s.skipped, retries: s.retries,
        duration_ms: { p50: q(s.duration, 0.5), p95: q(s.duration, 0.95) }, top_error: top,
      };
    });
  return {
    name: w.name,
    owner: w.owner === null || w.owner.trim() === '' ? null : w.owner,
    runs: { ...c },
    success_rate: rate(c.succeeded, ended),
    error_rate: rate(c.failed + c.escalated, ended),
    leakage_rate: rate(w.leaked, c.started),
    leaked: w.leaked,
    response_seconds: response,
    response_baseline_seconds: responseBaseline,
    response_speedup: responseBaseline === null || response.p50 === null || response.p50 === 0 ? null : round(responseBaseline / response.p50),
    cycle_seconds: quantiles(w.cycle),
    ack_seconds: quantiles(w.ack),
    reclaimed_hours: round(w.reclaimed.hours),
    ...valueOf(w.reclaimed),
    baseline,
    baselines_seen: w.baselines.size,
    steps,
    periods,
  };
}

function valueOf(r: Reclaimed): { reclaimed_value: number | null; currency: string | null } {
  if (r.valued === 0 || r.currencies.length !== 1) return { reclaimed_value: null, currency: null };
  return { reclaimed_value: round(r.value), currency: r.currencies[0] || null };
}

function quantiles(s: Sketch | null): Quantiles {
  return s === null ? { p50: null, p90: null, p99: null } : { p50: q(s, 0.5), p90: q(s, 0.9), p99: q(s, 0.99) };
}

function q(s: Sketch, at: number): number | null {
  const v = s.quantile(at);
  return v === null ? null : round(v);
}

function rate(n: number, of: number): number | null {
  return of === 0 ? null : round(n / of);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

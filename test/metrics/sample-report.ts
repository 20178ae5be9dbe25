/**
 * A hand-made metrics report for the renderers' tests: two workflows (one with a leak, a
 * changed baseline and a failing step), two owners, a week of daily periods, and an awkward
 * name with control characters and markup, so every format's escaping is exercised. The
 * figures are consistent with each other (totals are the sums), so a renderer that shows the
 * wrong one is caught.
 */
import type { MetricsReport, PeriodFigures, RunCounts, WorkflowFigures } from '../../src/metrics/report.js';

const counts = (c: Partial<RunCounts>): RunCounts => {
  const r = { succeeded: 0, failed: 0, escalated: 0, cancelled: 0, rejected: 0, running: 0, waiting: 0, stalled: 0, ...c };
  return { started: r.succeeded + r.failed + r.escalated + r.cancelled + r.rejected + r.running + r.waiting + r.stalled, ...r };
};

const day = (i: number): string => `2026-11-${String(16 + i).padStart(2, '0')}`;

function periods(succeeded: readonly number[], minutes: number, cost: number, leakedOn: number): PeriodFigures[] {
  return succeeded.map((n, i) => ({
    start: day(i),
    runs: counts({ succeeded: n, failed: i === leakedOn ? 1 : 0 }),
    leaked: i === leakedOn ? 1 : 0,
    reclaimed_hours: (n * minutes) / 60,
    reclaimed_value: ((n * minutes) / 60) * cost,
    response_seconds: n === 0 ? { p50: null, p90: null, p99: null } : { p50: 40 + i, p90: 80 + i, p99: 120 + i },
    cycle_seconds: n === 0 ? { p50: null, p90: null, p99: null } : { p50: 60 + i, p90: 100 + i, p99: 150 + i },
    ack_seconds: i === leakedOn ? { p50: 900, p90: 1800, p99: 1800 } : { p50: null, p90: null, p99: null },
  }));
}

const leadPeriods = periods([12, 15, 9, 0, 0, 14, 18], 6, 45, 2);
const leadRuns = counts({ succeeded: 68, failed: 1, escalated: 2, rejected: 3, waiting: 1 });
const lead: WorkflowFigures = {
  name: 'lead-intake',
  owner: 'sales-ops@example.com',
  runs: leadRuns,
  success_rate: 68 / 71,
  error_rate: 3 / 71,
  leakage_rate: 1 / 75,
  leaked: 1,
  response_seconds: { p50: 42.5, p90: 88.1, p99: 131.9 },
  response_baseline_seconds: 240 * 60,
  response_speedup: (240 * 60) / 42.5,
  cycle_seconds: { p50: 63.2, p90: 104.7, p99: 151.0 },
  ack_seconds: { p50: 900, p90: 1800, p99: 1800 },
  reclaimed_hours: (68 * 6) / 60,
  reclaimed_value: ((68 * 6) / 60) * 45,
  currency: 'USD',
  baseline: { minutes_per_run: 6, response_minutes: 240, hourly_cost: 45, currency: 'USD' },
  baselines_seen: 2,
  steps: [
    { workflow: 'lead-intake', step: 'lookup', finished: 75, succeeded: 75, failed: 0, skipped: 0, retries: 0, duration_ms: { p50: 120, p95: 310 }, top_error: null },
    { workflow: 'lead-intake', step: 'create_deal', finished: 72, succeeded: 69, failed: 3, skipped: 0, retries: 5, duration_ms: { p50: 240, p95: 900 }, top_error: { message: 'HTTP 503 from crm: service unavailable', count: 2 } },
    { workflow: 'lead-intake', step: 'notify', finished: 69, succeeded: 68, failed: 0, skipped: 1, retries: 0, duration_ms: { p50: 80, p95: 150 }, top_error: null },
  ],
  periods: leadPeriods,
};

const oddPeriods = periods([2, 0, 1, 0, 3, 0, 1], 30, 60, 99);
const oddRuns = counts({ succeeded: 7, running: 1, stalled: 1 });
const odd: WorkflowFigures = {
  name: 'invoice <b>&</b> "follow"\u001b[31m-up',
  owner: 'finance@example.com',
  runs: oddRuns,
  success_rate: 1,
  error_rate: 0,
  leakage_rate: 1 / 9,
  leaked: 1,
  response_seconds: { p50: null, p90: null, p99: null },
  response_baseline_seconds: null,
  response_speedup: null,
  cycle_seconds: { p50: 3600, p90: 86400, p99: 90000 },
  ack_seconds: { p50: null, p90: null, p99: null },
  reclaimed_hours: 3.5,
  reclaimed_value: 210,
  currency: 'USD',
  baseline: { minutes_per_run: 30, response_minutes: null, hourly_cost: 60, currency: 'USD' },
  baselines_seen: 1,
  steps: [
    { workflow: 'invoice <b>&</b> "follow"\u001b[31m-up', step: 'send', finished: 7, succeeded: 7, failed: 0, skipped: 0, retries: 1, duration_ms: { p50: 300, p95: 700 }, top_error: null },
  ],
  periods: oddPeriods,
};

const sum = (a: RunCounts, b: RunCounts): RunCounts => {
  const out: Record<string, number> = {};
  for (const k of Object.keys(a) as (keyof RunCounts)[]) out[k] = a[k] + b[k];
  return out as unknown as RunCounts;
};

/** The sample report; each call returns a fresh copy. */
export function sampleReport(): MetricsReport {
  const runs = sum(leadRuns, oddRuns);
  return {
    version: 1,
    generated_at: '2026-11-23T09:00:00.000Z',
    window: { since: '2026-11-16T00:00:00.000Z', until: '2026-11-23T00:00:00.000Z' },
    by: 'day',
    stale_after_seconds: 86400,
    input: { files: 84, lines: 1203, records: 1201, bytes: 402311 },
    totals: {
      name: 'total',
      owner: null,
      runs,
      success_rate: 75 / 78,
      error_rate: 3 / 78,
      leakage_rate: 2 / 84,
      leaked: 2,
      response_seconds: { p50: 42.5, p90: 88.1, p99: 131.9 },
      response_baseline_seconds: null,
      response_speedup: null,
      cycle_seconds: { p50: 64.0, p90: 3600, p99: 86400 },
      ack_seconds: { p50: 900, p90: 1800, p99: 1800 },
      reclaimed_hours: lead.reclaimed_hours + odd.reclaimed_hours,
      reclaimed_value: (lead.reclaimed_value ?? 0) + (odd.reclaimed_value ?? 0),
      currency: 'USD',
      baseline: null,
      baselines_seen: 3,
      steps: [],
      periods: leadPeriods.map((p, i) => {
        const o = oddPeriods[i]!;
        return {
          start: p.start,
          runs: sum(p.runs, o.runs),
          leaked: p.leaked + o.leaked,
          reclaimed_hours: p.reclaimed_hours + o.reclaimed_hours,
          reclaimed_value: (p.reclaimed_value ?? 0) + (o.reclaimed_value ?? 0),
          response_seconds: p.response_seconds,
          cycle_seconds: p.cycle_seconds,
          ack_seconds: p.ack_seconds,
        };
      }),
    },
    workflows: [odd, lead].sort((a, b) => (a.name < b.name ? -1 : 1)),
    owners: [
      { owner: 'finance@example.com', workflows: [odd.name], runs_started: oddRuns.started, leaked: 1, leakage_rate: 1 / 9, reclaimed_hours: 3.5, reclaimed_value: 210, currency: 'USD' },
      { owner: 'sales-ops@example.com', workflows: ['lead-intake'], runs_started: leadRuns.started, leaked: 1, leakage_rate: 1 / 75, reclaimed_hours: lead.reclaimed_hours, reclaimed_value: lead.reclaimed_value, currency: 'USD' },
    ],
    top_failing_steps: [lead.steps[1]!],
    leaked_runs: [
      { run_id: '01JDX3K7Q0000000000000000A', workflow: 'lead-intake', owner: 'sales-ops@example.com', last_step: 'create_deal', last_record_at: '2026-11-18T14:02:11.000Z', reason: 'failed, and no escalation was delivered' },
      { run_id: '01JDX3K7Q0000000000000000B', workflow: odd.name, owner: 'finance@example.com', last_step: 'send', last_record_at: '2026-11-20T08:00:00.000Z', reason: 'no record for 2d 1h and no run.finished: the run stopped without an end' },
    ],
    leaked_runs_omitted: 0,
    warnings: [
      { file: '.flux/logs/lead-intake/01JDX3K7Q0000000000000000C.jsonl', line: 7, message: 'not JSON: Unexpected end of JSON input (a truncated last line)' },
    ],
    warnings_omitted: 0,
  };
}

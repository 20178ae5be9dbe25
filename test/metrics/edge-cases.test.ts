// Hand-made run logs with known answers: every outcome a run can have (succeeded, escalated,
// failed with and without an escalation attempt, rejected, cancelled, running, waiting within
// and past its wake time, stalled), retries, a run split across a .jsonl.gz and a .jsonl, a
// changed baseline, a corrupt line, a truncated last line, records of a newer version, a
// workflow with no owner; then the --since boundary and the --workflow filter. Every figure
// of the JSON report is asserted (quantiles within the sketch's 1%).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricsReport, RunCounts } from '../../src/metrics/report.js';
import { at, finished, record, started, step, writeLog, type RunHead } from './log-builder.js';
import { clockEnv, metricsJson, near, nearQ } from './report-check.js';

const A = { minutes_per_run: 6, response_minutes: 240, hourly_cost: 45, currency: 'USD' };
const B = { minutes_per_run: 10, response_minutes: 240, hourly_cost: 45, currency: 'USD' };
const INV = { minutes_per_run: 30, hourly_cost: 60, currency: 'EUR' };
const lead = (run: string, baseline = A): RunHead => ({ run, workflow: 'lead', owner: 'sales@example.com', baseline });
const inv = (run: string): RunHead => ({ run, workflow: 'invoice', owner: '', baseline: INV });
const NOW = at(5760); // 2026-11-20T00:00:00Z, four days after the first run

let dir: string;
let env: Record<string, string>;
let files = 0;
let lines = 0;
let bytes = 0;

function log(rel: string, content: readonly string[], cut = false): void {
  const path = writeLog(dir, `.flux/logs/${rel}`, content, cut);
  const raw = readFileSync(path);
  const text = rel.endsWith('.gz') ? gunzipSync(raw) : raw;
  files++;
  lines += content.length;
  bytes += text.length;
}

const counts = (c: Partial<RunCounts>): RunCounts => {
  const r = { succeeded: 0, failed: 0, escalated: 0, cancelled: 0, rejected: 0, running: 0, waiting: 0, stalled: 0, ...c };
  return { started: Object.values(r).reduce((a, b) => a + b, 0), ...r };
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flux-metrics-edge-'));
  env = clockEnv(dir, NOW);
  const l1 = lead('L1');
  log('lead/L1.jsonl', [started(l1, 0, { received_at: at(-1), response_step: 'reply' }), ...step(l1, 'lookup', 1, { method: 'GET' }), ...step(l1, 'create', 2, { method: 'POST' }), ...step(l1, 'reply', 3), finished(l1, 4, 'succeeded')]);
  const l2 = lead('L2', B);
  log('lead/L2.jsonl', [
    started(l2, 60), ...step(l2, 'lookup', 61, { method: 'GET' }),
    record(l2, 'step.retry', 62, { step: 'create', path: 'create', attempt: 1, delay_ms: 1000, error: { message: 'HTTP 502' } }),
    ...step(l2, 'create', 63, { method: 'POST', attempt: 2 }), finished(l2, 64, 'succeeded'),
  ]);
  const l3 = lead('L3');
  log('lead/L3.jsonl', [started(l3, 120), ...step(l3, 'lookup', 121, { status: 'failed', error: 'HTTP 503 from crm' }),
    record(l3, 'escalation', 122, { step: 'lookup', via: 'http.post', delivered: true, error: { message: 'HTTP 503 from crm' } }), finished(l3, 123, 'escalated')]);
  const l4 = lead('L4');
  log('lead/L4.jsonl', [started(l4, 140), ...step(l4, 'lookup', 141, { status: 'failed', error: 'HTTP 503 from crm' }),
    record(l4, 'escalation', 142, { step: 'lookup', via: 'http.post', delivered: false, error: { message: 'HTTP 503 from crm' }, delivery_error: 'chat is down' }), finished(l4, 143, 'failed')]);
  const l5 = lead('L5');
  log('lead/L5.jsonl', [started(l5, 160), ...step(l5, 'lookup', 161, { status: 'failed', error: 'timeout after 30s' }), finished(l5, 162, 'failed')]);
  // Split by rotation: the compressed later part sorts (and in-process is read) first.
  const l6 = lead('L6');
  log('lead/L6.jsonl', [started(l6, 200), ...step(l6, 'lookup', 201, { method: 'GET' })]);
  log('lead/L6.1.jsonl.gz', [...step(l6, 'create', 202, { method: 'POST' }), finished(l6, 203, 'succeeded')]);
  const l7 = lead('L7');
  log('lead/L7.jsonl', [started(l7, 300), step(l7, 'lookup', 301)[0]!]);
  const l8 = lead('L8');
  log('lead/L8.jsonl', [started(l8, 5000), record(l8, 'run.waiting', 5001, { step: 'pause', path: 'pause', wake_at: at(6000) })]);
  const l9 = lead('L9');
  log('lead/L9.jsonl', [started(l9, 1000), record(l9, 'run.waiting', 1001, { step: 'pause', path: 'pause', wake_at: at(2000) })]);
  const l10 = lead('L10');
  log('lead/L10.jsonl', [started(l10, 5700), step(l10, 'lookup', 5701)[0]!]);
  const l11 = lead('L11');
  log('lead/L11.jsonl', [started(l11, 4000), record(l11, 'run.waiting', 4001, { step: 'pause', path: 'pause', wake_at: at(5000) })]);

  const i1 = inv('I1');
  log('invoice/I1.jsonl', [started(i1, 10), finished(i1, 11, 'succeeded')]);
  const i2 = inv('I2');
  log('invoice/I2.jsonl', [started(i2, 20), '{"v":1,"type":"step.fin', finished(i2, 22, 'succeeded'), '{"v":1,"type":"run.fini'], true);
  const i3 = inv('I3');
  log('invoice/I3.jsonl', [started(i3, 30), record(i3, 'step.finished', 31, { v: 2 }).replace('"v":1', '"v":2'), record(i3, 'step.finished', 31).replace('"v":1', '"v":2'), finished(i3, 32, 'succeeded')]);
  const i4 = inv('I4');
  log('invoice/I4.jsonl', [started(i4, 40), finished(i4, 40, 'rejected')]);
  const i5 = inv('I5');
  log('invoice/I5.jsonl', [started(i5, 50), finished(i5, 51, 'cancelled')]);
});

describe('flux metrics on hand-made logs', () => {
  let report: MetricsReport;
  beforeAll(async () => {
    ({ report } = await metricsJson(dir, [], env));
  });

  it('reads every file and counts every line', () => {
    expect(report.version).toBe(1);
    expect(report.generated_at).toBe(NOW);
    expect(report.window).toEqual({ since: null, until: NOW });
    expect(report.by).toBe('day');
    expect(report.stale_after_seconds).toBe(86400);
    // Unused: one corrupt line, one truncated last line, two records of version 2.
    expect(report.input).toEqual({ files, lines, records: lines - 4, bytes });
    expect(files).toBe(17);
  });

  it('warns about each unreadable line with its file and line, newer versions once per file, and the missing owner', () => {
    expect(report.warnings).toEqual([
      { file: '.flux/logs/invoice/I1.jsonl', line: null, message: 'workflow "invoice" has no owner: nobody is told when it leaks; add `owner:` to its file' },
      { file: '.flux/logs/invoice/I2.jsonl', line: 2, message: expect.stringMatching(/^not JSON: /) },
      { file: '.flux/logs/invoice/I2.jsonl', line: 4, message: expect.stringMatching(/^a truncated last line \(no newline at the end, not JSON: .*\): a write cut short, skipped$/) },
      { file: '.flux/logs/invoice/I3.jsonl', line: 2, message: '2 records of format version 2, newer than this flux reads (1): skipped; upgrade flux to count them' },
    ]);
    expect(report.warnings_omitted).toBe(0);
  });

  it('counts the runs of each outcome, and judges open runs against the stale threshold', () => {
    const w = report.workflows.find((x) => x.name === 'lead')!;
    expect(w.runs).toEqual(counts({ succeeded: 3, escalated: 1, failed: 2, stalled: 2, waiting: 2, running: 1 }));
    expect(w.owner).toBe('sales@example.com');
    expect(w.success_rate).toBe(0.5);
    expect(w.error_rate).toBe(0.5);
    expect(w.leaked).toBe(4);
    expect(w.leakage_rate).toBe(Math.round((4 / 11) * 1e6) / 1e6);
    const i = report.workflows.find((x) => x.name === 'invoice')!;
    expect(i.runs).toEqual(counts({ succeeded: 3, rejected: 1, cancelled: 1 }));
    expect(i.owner).toBeNull();
    expect([i.success_rate, i.error_rate, i.leakage_rate, i.leaked]).toEqual([1, 0, 0, 0]);
    expect(report.workflows.map((x) => x.name)).toEqual(['invoice', 'lead']);
  });

  it('lists every leaked run, oldest last record first, with why', () => {
    expect(report.leaked_runs).toEqual([
      { run_id: 'L4', workflow: 'lead', owner: 'sales@example.com', last_step: 'lookup', last_record_at: at(143), reason: 'failed, and its escalation could not be delivered' },
      { run_id: 'L5', workflow: 'lead', owner: 'sales@example.com', last_step: 'lookup', last_record_at: at(162), reason: 'failed, and no escalation was delivered' },
      { run_id: 'L7', workflow: 'lead', owner: 'sales@example.com', last_step: 'lookup', last_record_at: at(301), reason: 'no record for 3d 18h and no run.finished: the run stopped without an end' },
      { run_id: 'L9', workflow: 'lead', owner: 'sales@example.com', last_step: 'pause', last_record_at: at(1001), reason: `waiting until ${at(2000)} and not resumed 2d 14h after it` },
    ]);
    expect(report.leaked_runs_omitted).toBe(0);
  });

  it('measures response from receipt to the named response step, else to the first write; cycle of succeeded runs', () => {
    const w = report.workflows.find((x) => x.name === 'lead')!;
    // L1: received a minute before its start, answered by `reply` at +3: 240 s. L2: first POST
    // (after a retry) 3 minutes in: 180 s. L6: POST in its second file, 2 minutes in: 120 s.
    nearQ(w.response_seconds, 180, 180, 180);
    expect(w.response_baseline_seconds).toBe(14400);
    near(w.response_speedup, 80);
    nearQ(w.cycle_seconds, 240, 240, 240);
    const i = report.workflows.find((x) => x.name === 'invoice')!;
    nearQ(i.response_seconds, null, null, null);
    expect(i.response_speedup).toBeNull();
    nearQ(i.cycle_seconds, 120, 120, 120); // 60, 120, 120
  });

  it('applies each run its own baseline, and reports the newest', () => {
    const w = report.workflows.find((x) => x.name === 'lead')!;
    expect(w.reclaimed_hours).toBe(0.366667); // (6 + 10 + 6) / 60
    expect(w.reclaimed_value).toBe(16.5);
    expect(w.currency).toBe('USD');
    expect(w.baseline).toEqual(A);
    expect(w.baselines_seen).toBe(2);
    const i = report.workflows.find((x) => x.name === 'invoice')!;
    expect([i.reclaimed_hours, i.reclaimed_value, i.currency, i.baselines_seen]).toEqual([1.5, 90, 'EUR', 1]);
    expect(i.baseline).toEqual({ minutes_per_run: 30, response_minutes: null, hourly_cost: 60, currency: 'EUR' });
  });

  it('adds up the totals; no value when currencies differ', () => {
    const t = report.totals;
    expect(t.name).toBe('total');
    expect(t.owner).toBeNull();
    expect(t.runs).toEqual(counts({ succeeded: 6, escalated: 1, failed: 2, rejected: 1, cancelled: 1, stalled: 2, waiting: 2, running: 1 }));
    expect([t.success_rate, t.error_rate, t.leakage_rate, t.leaked]).toEqual([0.666667, 0.333333, 0.25, 4]);
    expect([t.reclaimed_hours, t.reclaimed_value, t.currency, t.baseline, t.baselines_seen]).toEqual([1.866667, null, null, null, 3]);
    expect([t.response_baseline_seconds, t.response_speedup, t.steps]).toEqual([null, null, []]);
    nearQ(t.response_seconds, 180, 180, 180);
    nearQ(t.cycle_seconds, 120, 240, 240); // 60 120 120 180 240 300
  });

  it('has per-step figures with retries and the most common error, and the top failing steps', () => {
    const w = report.workflows.find((x) => x.name === 'lead')!;
    expect(w.steps.map((s) => ({ ...s, duration_ms: null }))).toEqual([
      { workflow: 'lead', step: 'lookup', finished: 6, succeeded: 3, failed: 3, skipped: 0, retries: 0, duration_ms: null, top_error: { message: 'HTTP 503 from crm', count: 2 } },
      { workflow: 'lead', step: 'create', finished: 3, succeeded: 3, failed: 0, skipped: 0, retries: 1, duration_ms: null, top_error: null },
      { workflow: 'lead', step: 'reply', finished: 1, succeeded: 1, failed: 0, skipped: 0, retries: 0, duration_ms: null, top_error: null },
    ]);
    for (const s of w.steps) expect(s.duration_ms).toEqual({ p50: 100, p95: 100 });
    expect(report.workflows.find((x) => x.name === 'invoice')!.steps).toEqual([]);
    expect(report.top_failing_steps).toEqual([w.steps[0]]);
  });

  it('has a trend per day from the first run to the last, gaps filled', () => {
    const w = report.workflows.find((x) => x.name === 'lead')!;
    expect(w.periods.map((p) => [p.start, p.runs.started, p.leaked, p.reclaimed_hours, p.reclaimed_value])).toEqual([
      ['2026-11-16', 8, 4, 0.366667, 16.5], ['2026-11-17', 0, 0, 0, null], ['2026-11-18', 1, 0, 0, null], ['2026-11-19', 2, 0, 0, null],
    ]);
    expect(w.periods[0]!.runs).toEqual(counts({ succeeded: 3, escalated: 1, failed: 2, stalled: 2 }));
    expect(w.periods[2]!.runs).toEqual(counts({ waiting: 1 }));
    expect(w.periods[3]!.runs).toEqual(counts({ waiting: 1, running: 1 }));
    nearQ(w.periods[0]!.response_seconds, 180, 180, 180);
    nearQ(w.periods[1]!.cycle_seconds, null, null, null);
    expect(report.totals.periods.map((p) => p.start)).toEqual(['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19']);
    expect(report.totals.periods[0]!.runs.started).toBe(13);
    expect(report.totals.periods[0]!.reclaimed_value).toBeNull();
  });

  it('has per-owner figures, a workflow without an owner under "(no owner)"', () => {
    expect(report.owners).toEqual([
      { owner: '(no owner)', workflows: ['invoice'], runs_started: 5, leaked: 0, leakage_rate: 0, reclaimed_hours: 1.5, reclaimed_value: 90, currency: 'EUR' },
      { owner: 'sales@example.com', workflows: ['lead'], runs_started: 11, leaked: 4, leakage_rate: 0.363636, reclaimed_hours: 0.366667, reclaimed_value: 16.5, currency: 'USD' },
    ]);
  });

  it('groups by week (from Monday) and month', async () => {
    const week = (await metricsJson(dir, ['--by', 'week'], env)).report;
    expect(week.totals.periods.map((p) => [p.start, p.runs.started])).toEqual([['2026-11-16', 16]]);
    const month = (await metricsJson(dir, ['--by', 'month'], env)).report;
    expect(month.totals.periods.map((p) => [p.start, p.runs.started])).toEqual([['2026-11-01', 16]]);
  });

  it('counts a run in the window its run.started falls in; records of earlier runs are no warning', async () => {
    // L1 started at 00:00 and finished at 00:04: before --since 00:02, so not counted.
    const { report: r } = await metricsJson(dir, ['--since', '2026-11-16T00:02Z'], env);
    expect(r.window.since).toBe(at(2));
    const w = r.workflows.find((x) => x.name === 'lead')!;
    expect(w.runs).toEqual(counts({ succeeded: 2, escalated: 1, failed: 2, stalled: 2, waiting: 2, running: 1 }));
    expect(w.steps.map((s) => [s.step, s.finished])).toEqual([['lookup', 5], ['create', 2]]);
    expect(w.reclaimed_hours).toBe(0.266667);
    expect(r.warnings).toHaveLength(4);
  });

  it('--until judges open runs as of then and ignores later records', async () => {
    // As of 05:01 only L7 (started 05:00, a step started 05:01) is in the window, and it is running.
    const { report: r } = await metricsJson(dir, ['--until', at(301), '--since', at(290)], env);
    expect(r.window).toEqual({ since: at(290), until: at(301) });
    expect(r.workflows.map((w) => [w.name, w.runs])).toEqual([['lead', counts({ running: 1 })]]);
  });

  it('--workflow keeps only the named workflows', async () => {
    const { report: r } = await metricsJson(dir, ['--workflow', 'invoice'], env);
    expect(r.workflows.map((w) => w.name)).toEqual(['invoice']);
    expect(r.totals.runs.started).toBe(5);
    expect(r.input.records).toBe(10);
  });

  it('a shorter --stale-after leaks the waiting and running runs that outlived it', async () => {
    const { report: r } = await metricsJson(dir, ['--stale-after', '30m'], env);
    const w = r.workflows.find((x) => x.name === 'lead')!;
    // L10's last record is 59 minutes old; L11 woke 12h40m ago; L8 wakes later.
    expect(w.runs).toEqual(counts({ succeeded: 3, escalated: 1, failed: 2, stalled: 4, waiting: 1 }));
    expect(r.stale_after_seconds).toBe(1800);
  });
});

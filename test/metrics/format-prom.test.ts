// `flux metrics --format prom`: the output is read back by a real parser of the Prometheus
// text format (the official Python client's, Debian's python3-prometheus-client) and every
// sample compared with the report's figures. The parser is lenient about layout, so the rules
// it does not check (one HELP and TYPE per family, before its samples, no sample timestamps,
// no series twice) are checked on the text here.
import { describe, expect, it } from 'vitest';
import { formatProm } from '../../src/metrics/format/prom.js';
import type { MetricsReport, WorkflowFigures } from '../../src/metrics/report.js';
import { expectPromMatches, type Parsed } from './prom-check.js';
import { sampleReport } from './sample-report.js';

/** Renders the report and checks it (see prom-check.ts). */
const expectValid = (report: MetricsReport, shown: (name: string) => string = (n) => n): Promise<Parsed[]> => expectPromMatches(formatProm(report), report, shown);

describe('the sample report for the textfile collector', () => {
  it('parses, and every sample is the report\'s figure', async () => {
    const families = await expectValid(sampleReport(), (n) => (n === 'lead-intake' ? n : 'invoice <b>&</b> "follow"\\e[31m-up'));
    // A few by hand, against the sample's own numbers, so a shared misreading cannot pass.
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      families.find((f) => f.name === name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('flux_workflow_runs', { workflow: 'lead-intake', status: 'escalated' })).toBe(2);
    expect(value('flux_workflow_reclaimed_value', { workflow: 'lead-intake', currency: 'USD', owner: 'sales-ops@example.com' })).toBe(306);
    expect(value('flux_workflow_response_seconds', { workflow: 'lead-intake', quantile: '0.99' })).toBe(131.9);
    expect(value('flux_workflow_step_failures', { step: 'create_deal' })).toBe(3);
    expect(value('flux_metrics_report_timestamp_seconds', {})).toBe(1795424400);
    expect(value('flux_metrics_warnings', {})).toBe(1);
  });

  it('leaves null figures out instead of writing NaN', async () => {
    const text = formatProm(sampleReport());
    expect(text).not.toMatch(/NaN|Inf/);
    // The awkward workflow has no response time and no response baseline.
    expect(text).not.toMatch(/flux_workflow_response_seconds\{workflow="invoice/);
    expect(text).not.toMatch(/flux_workflow_response_baseline_seconds\{workflow="invoice/);
  });

  it('escapes label values per the format: backslash, quote, line feed; other controls shown as text', async () => {
    const r = sampleReport();
    const w = { ...r.workflows[1]!, name: 'a\\b "c"\nd\u0007', owner: 'o"\\' };
    const text = formatProm({ ...r, workflows: [w] });
    expect(text).toContain('flux_workflow_leaked_runs{workflow="a\\\\b \\"c\\"\\nd\\\\x07",owner="o\\"\\\\"} 1\n');
    await expectValid({ ...r, workflows: [w] }, () => 'a\\b "c"\nd\\x07');
  });
});

describe('variations', () => {
  it('with no runs, still has every family and the report time', async () => {
    const r = sampleReport();
    const families = await expectValid({ ...r, workflows: [], warnings: [], warnings_omitted: 0 });
    expect(families.filter((f) => f.samples.length > 0).map((f) => f.name)).toEqual(['flux_metrics_report_timestamp_seconds', 'flux_metrics_warnings']);
  });

  it('with nulls everywhere, writes only the figures that exist', async () => {
    const r = sampleReport();
    const blank = (w: WorkflowFigures): WorkflowFigures => ({
      ...w, owner: null, success_rate: null, error_rate: null, leakage_rate: null, response_seconds: { p50: null, p90: null, p99: null },
      cycle_seconds: { p50: null, p90: null, p99: null }, ack_seconds: { p50: null, p90: null, p99: null }, response_baseline_seconds: null, reclaimed_value: null, currency: null,
    });
    const families = await expectValid({ ...r, workflows: r.workflows.map(blank) }, (n) => (n === 'lead-intake' ? n : 'invoice <b>&</b> "follow"\\e[31m-up'));
    for (const name of ['flux_workflow_success_ratio', 'flux_workflow_reclaimed_value', 'flux_workflow_response_seconds', 'flux_workflow_cycle_seconds']) {
      expect(families.find((f) => f.name === name)?.samples, name).toEqual([]);
    }
  });

  it('with many workflows and huge numbers, every sample still parses to its value', async () => {
    const r = sampleReport();
    const base = r.workflows[1]!;
    const workflows = Array.from({ length: 50 }, (_, i): WorkflowFigures => ({
      ...base, name: `wf-${i}`, runs: { ...base.runs, succeeded: 9_007_199_254_740_991 }, reclaimed_hours: 1.5e21 + i, reclaimed_value: 1e300, cycle_seconds: { p50: 1e-7, p90: 0.1 + 0.2, p99: 3.4e38 },
    }));
    const families = await expectValid({ ...r, workflows, warnings_omitted: 1e12 });
    expect(families.find((f) => f.name === 'flux_workflow_runs')?.samples).toHaveLength(50 * 8);
    expect(families.find((f) => f.name === 'flux_metrics_warnings')?.samples[0]?.value).toBe(1e12 + 1);
  });
});

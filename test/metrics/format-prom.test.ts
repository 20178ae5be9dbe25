// `flux metrics --format prom`: the output is read back by a real parser of the Prometheus
// text format (the official Python client's, Debian's python3-prometheus-client) and every
// sample compared with the report's figures. The parser is lenient about layout, so the rules
// it does not check (one HELP and TYPE per family, before its samples, no sample timestamps,
// no series twice) are checked on the text here.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { formatProm } from '../../src/metrics/format/prom.js';
import type { MetricsReport, WorkflowFigures } from '../../src/metrics/report.js';
import { sampleReport } from './sample-report.js';

const PYTHON = '/usr/bin/python3';
const INSTALL = 'the Prometheus text-format parser is missing: install Debian\'s python3-prometheus-client (apt-get install -y python3-prometheus-client), which .ci/run does; this test validates --format prom with it and does not skip';

const PARSE = `
import json, sys
try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:
    sys.stderr.write("MISSING %s\\n" % e)
    sys.exit(3)
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [{"name": s.name, "labels": s.labels, "value": s.value, "timestamp": s.timestamp} for s in f.samples]})
print(json.dumps(out))
`;

interface Parsed {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: readonly { readonly name: string; readonly labels: Record<string, string>; readonly value: number; readonly timestamp: number | null }[];
}

/** Parses exposition text with the Python client's parser in a child process. */
function parse(text: string): Promise<Parsed[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', PARSE], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new Error(`${PYTHON}: ${e.message}; ${INSTALL}`)));
    child.on('close', (code) => {
      if (code === 3 && stderr.startsWith('MISSING')) reject(new Error(`${INSTALL} (${stderr.trim()})`));
      else if (code !== 0) reject(new Error(`the parser rejected the output (exit ${code}): ${stderr}`));
      else resolve(JSON.parse(stdout) as Parsed[]);
    });
    child.stdin.end(text);
  });
}

const FAMILIES = [
  'flux_workflow_runs', 'flux_workflow_runs_started', 'flux_workflow_leaked_runs', 'flux_workflow_success_ratio', 'flux_workflow_error_ratio',
  'flux_workflow_leakage_ratio', 'flux_workflow_reclaimed_hours', 'flux_workflow_reclaimed_value', 'flux_workflow_response_seconds',
  'flux_workflow_response_baseline_seconds', 'flux_workflow_cycle_seconds', 'flux_workflow_step_failures',
  'flux_metrics_report_timestamp_seconds', 'flux_metrics_warnings',
];

type Row = [string, Record<string, string>, number];

/** What the samples must be, built from the report by this test's own reading of it. */
function expectedSamples(r: MetricsReport, shown: (name: string) => string): Row[] {
  const rows: Row[] = [];
  const add = (name: string, labels: Record<string, string>, value: number | null): void => {
    if (value !== null) rows.push([name, labels, value]);
  };
  for (const w of r.workflows) {
    const id = { workflow: shown(w.name), owner: w.owner ?? '' };
    for (const status of ['succeeded', 'failed', 'escalated', 'cancelled', 'rejected', 'running', 'waiting', 'stalled'] as const) {
      add('flux_workflow_runs', { ...id, status }, w.runs[status]);
    }
    add('flux_workflow_runs_started', id, w.runs.started);
    add('flux_workflow_leaked_runs', id, w.leaked);
    add('flux_workflow_success_ratio', id, w.success_rate);
    add('flux_workflow_error_ratio', id, w.error_rate);
    add('flux_workflow_leakage_ratio', id, w.leakage_rate);
    add('flux_workflow_reclaimed_hours', id, w.reclaimed_hours);
    add('flux_workflow_reclaimed_value', { ...id, currency: w.currency ?? '' }, w.reclaimed_value);
    const q = (name: string, f: WorkflowFigures['response_seconds']): void => {
      add(name, { ...id, quantile: '0.5' }, f.p50);
      add(name, { ...id, quantile: '0.9' }, f.p90);
      add(name, { ...id, quantile: '0.99' }, f.p99);
    };
    q('flux_workflow_response_seconds', w.response_seconds);
    add('flux_workflow_response_baseline_seconds', id, w.response_baseline_seconds);
    q('flux_workflow_cycle_seconds', w.cycle_seconds);
    for (const s of w.steps) add('flux_workflow_step_failures', { ...id, step: s.step }, s.failed);
  }
  add('flux_metrics_report_timestamp_seconds', {}, Date.parse(r.generated_at) / 1000);
  add('flux_metrics_warnings', {}, r.warnings.length + r.warnings_omitted);
  return rows;
}

const key = ([name, labels]: Row): string => `${name}${JSON.stringify(Object.entries(labels).sort())}`;
const sorted = (rows: Row[]): Row[] => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1));

/** Parses, checks the layout rules, and compares every sample with the report. */
async function expectValid(report: MetricsReport, shown: (name: string) => string = (n) => n): Promise<Parsed[]> {
  const text = formatProm(report);
  const families = await parse(text);
  expect(families.map((f) => f.name)).toEqual(FAMILIES);
  for (const f of families) {
    expect(f.type, f.name).toBe('gauge');
    expect(f.help.length, f.name).toBeGreaterThan(10);
    for (const s of f.samples) expect(s.timestamp, f.name).toBeNull();
  }
  const got: Row[] = families.flatMap((f) => f.samples.map((s): Row => [s.name, s.labels, s.value]));
  expect(sorted(got)).toEqual(sorted(expectedSamples(report, shown)));
  expect(new Set(got.map(key)).size).toBe(got.length);

  // Layout the lenient parser lets through: HELP then TYPE once per family, samples right after.
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  let family = '';
  const seen = new Set<string>();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const help = /^# HELP (\w+) /.exec(line);
    if (help) {
      family = help[1]!;
      expect(seen.has(family), `${family} twice`).toBe(false);
      seen.add(family);
      expect(lines[++i]).toBe(`# TYPE ${family} gauge`);
      continue;
    }
    // name, optional labels, one value: no timestamp field (the textfile collector rejects them).
    expect(line).toMatch(new RegExp(`^${family}(\\{.*\\})? -?[0-9.]+(e[+-]?[0-9]+)?$`));
  }
  return families;
}

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
      cycle_seconds: { p50: null, p90: null, p99: null }, response_baseline_seconds: null, reclaimed_value: null, currency: null,
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

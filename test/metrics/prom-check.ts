/**
 * Checks text in the Prometheus exposition format against the report it was rendered from: read
 * back by a real parser of the format (the official Python client's, Debian's
 * python3-prometheus-client, in a child process), every sample compared with the report's
 * figures, and the layout rules that lenient parser lets through checked on the text. Shared by
 * the renderer's tests and the end-to-end test of `flux metrics --format prom`.
 */
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import type { MetricsReport, WorkflowFigures } from '../../src/metrics/report.js';

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

export interface Parsed {
  readonly name: string;
  readonly type: string;
  readonly help: string;
  readonly samples: readonly { readonly name: string; readonly labels: Record<string, string>; readonly value: number; readonly timestamp: number | null }[];
}

/** Parses exposition text with the Python client's parser in a child process. */
export function parseProm(text: string): Promise<Parsed[]> {
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
  'flux_workflow_response_baseline_seconds', 'flux_workflow_cycle_seconds', 'flux_workflow_ack_seconds', 'flux_workflow_step_failures',
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
    q('flux_workflow_ack_seconds', w.ack_seconds);
    for (const s of w.steps) add('flux_workflow_step_failures', { ...id, step: s.step }, s.failed);
  }
  add('flux_metrics_report_timestamp_seconds', {}, Date.parse(r.generated_at) / 1000);
  add('flux_metrics_warnings', {}, r.warnings.length + r.warnings_omitted);
  return rows;
}

const key = ([name, labels]: Row): string => `${name}${JSON.stringify(Object.entries(labels).sort())}`;
const sorted = (rows: Row[]): Row[] => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : 1));

/**
 * Parses `text` (the report in Prometheus format), checks the layout rules, and compares every
 * sample with the report's figures; `shown` maps a workflow name to its label value.
 */
export async function expectPromMatches(text: string, report: MetricsReport, shown: (name: string) => string = (n) => n): Promise<Parsed[]> {
  const families = await parseProm(text);
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

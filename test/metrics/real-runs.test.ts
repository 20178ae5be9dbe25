// Logs from real runs: `flux run` (a spawned process) on small workflows against a local HTTP
// server, then `flux metrics --format json` (spawned too). The expected figures come from
// what happened: which runs succeeded, failed and escalated, the baselines the workflows
// declare, and the times in the logs flux wrote.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsReport, RunCounts } from '../../src/metrics/report.js';
import { readRunLog, type RunRecord } from '../../src/store/run-log.js';
import { runFlux } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { metricsJson, near } from './report-check.js';

let server: TestServer;
let dir: string;
let report: MetricsReport;
const logs = (workflow: string): RunRecord[][] =>
  readdirSync(join(dir, '.flux/logs', workflow)).sort().map((f) => readRunLog(join(dir, '.flux/logs', workflow, f)).records);

const counts = (c: Partial<RunCounts>): RunCounts => {
  const r = { succeeded: 0, failed: 0, escalated: 0, cancelled: 0, rejected: 0, running: 0, waiting: 0, stalled: 0, ...c };
  return { started: Object.values(r).reduce((a, b) => a + b, 0), ...r };
};

beforeAll(async () => {
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-metrics-real-'));
  server.script('GET /lookup', { status: 200, body: { id: 7 } });
  server.script('POST /create', { status: 201, body: { created: true } });
  server.script('POST /fail', { status: 500, body: { error: 'down' } });
  server.script('POST /chat', { status: 200, body: { ok: true } });
  const head = (name: string, baseline: string, owner = 'ops@example.com') => `name: ${name}\nowner: ${owner}\ntrigger: manual\nbaseline: ${baseline}\n`;
  writeFileSync(join(dir, 'sync.yaml'), `${head('sync', '{ minutes_per_run: 12, response_minutes: 60, hourly_cost: 50, currency: USD }')}steps:
  - id: lookup
    uses: http
    with: { url: "${server.url}/lookup" }
  - id: create
    uses: http
    with: { url: "${server.url}/create", method: POST, json: { id: 1 } }
`);
  writeFileSync(join(dir, 'told.yaml'), `${head('told', '{ minutes_per_run: 5 }')}steps:
  - id: push
    uses: http
    with: { url: "${server.url}/fail", method: POST }
on_error:
  escalate:
    uses: http
    with: { url: "${server.url}/chat", method: POST }
`);
  writeFileSync(join(dir, 'silent.yaml'), `${head('silent', '{ minutes_per_run: 5 }', 'finance@example.com')}steps:
  - id: push
    uses: http
    with: { url: "${server.url}/fail", method: POST }
`);
  for (const [file, code] of [['sync.yaml', 0], ['sync.yaml', 0], ['told.yaml', 1], ['silent.yaml', 1]] as const) {
    const r = await runFlux(['run', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(code);
  }
  ({ report } = await metricsJson(dir, [], {}, true));
}, 60_000);
afterAll(async () => {
  await server.close();
});

describe('flux metrics on logs of real runs', () => {
  it('counts each run by its outcome, escalated apart from silent failures', () => {
    expect(report.workflows.map((w) => [w.name, w.owner, w.runs])).toEqual([
      ['silent', 'finance@example.com', counts({ failed: 1 })],
      ['sync', 'ops@example.com', counts({ succeeded: 2 })],
      ['told', 'ops@example.com', counts({ escalated: 1 })],
    ]);
    expect(report.totals.runs).toEqual(counts({ succeeded: 2, failed: 1, escalated: 1 }));
    expect([report.totals.success_rate, report.totals.error_rate, report.totals.leakage_rate, report.totals.leaked]).toEqual([0.5, 0.5, 0.25, 1]);
    expect(report.input.files).toBe(4);
    const lines = ['silent', 'sync', 'told'].flatMap(logs).reduce((n, r) => n + r.length, 0);
    expect(report.input.records).toBe(lines);
    expect(report.input.lines).toBe(lines);
    expect(report.warnings).toEqual([]);
  });

  it('lists the silent failure as leaked, at its last record', () => {
    const [silent] = logs('silent');
    expect(silent!.filter((r) => r.type === 'escalation')).toEqual([]);
    expect(report.leaked_runs).toEqual([{
      run_id: silent![0]!.run_id, workflow: 'silent', owner: 'finance@example.com', last_step: 'push',
      last_record_at: silent!.at(-1)!.ts, reason: 'failed, and no escalation was delivered',
    }]);
  });

  it('reclaims hours and value from the declared baseline, for succeeded runs only', () => {
    const sync = report.workflows.find((w) => w.name === 'sync')!;
    expect([sync.reclaimed_hours, sync.reclaimed_value, sync.currency]).toEqual([0.4, 20, 'USD']);
    expect(sync.baseline).toEqual({ minutes_per_run: 12, response_minutes: 60, hourly_cost: 50, currency: 'USD' });
    expect(sync.response_baseline_seconds).toBe(3600);
    const told = report.workflows.find((w) => w.name === 'told')!;
    expect([told.reclaimed_hours, told.reclaimed_value, told.currency]).toEqual([0, null, null]);
    expect(report.totals.reclaimed_hours).toBe(0.4);
    expect(report.owners.map((o) => [o.owner, o.workflows, o.runs_started, o.leaked, o.reclaimed_hours])).toEqual([
      ['finance@example.com', ['silent'], 1, 1, 0],
      ['ops@example.com', ['sync', 'told'], 3, 0, 0.4],
    ]);
  });

  it('measures cycle time from the logged times, and response time when flux records the method', () => {
    const runs = logs('sync');
    const cycles = runs.map((r) => (Date.parse(r.at(-1)!.ts) - Date.parse(startOf(r))) / 1000).sort((a, b) => a - b);
    const sync = report.workflows.find((w) => w.name === 'sync')!;
    near(sync.cycle_seconds.p50, cycles[0]!);
    near(sync.cycle_seconds.p99, cycles[0]!);
    // `method` on step.finished is recorded by newer flux; without it no step counts as the answer.
    const answers = runs.map((r) => {
      const post = r.find((x) => x.type === 'step.finished' && x.status === 'succeeded' && (x as { method?: string }).method === 'POST');
      return post ? (Date.parse(post.ts) - Date.parse(startOf(r))) / 1000 : null;
    }).filter((x): x is number => x !== null).sort((a, b) => a - b);
    near(sync.response_seconds.p50, answers[0] ?? null);
  });

  it('has step figures with the error flux recorded, and the top failing steps', () => {
    const sync = report.workflows.find((w) => w.name === 'sync')!;
    expect(sync.steps.map((s) => [s.step, s.finished, s.succeeded, s.failed, s.retries, s.top_error])).toEqual([['lookup', 2, 2, 0, 0, null], ['create', 2, 2, 0, 0, null]]);
    const message = (logs('silent')[0]!.find((r) => r.type === 'step.finished') as { error: { message: string } }).error.message;
    expect(message).toMatch(/500/);
    const silent = report.workflows.find((w) => w.name === 'silent')!;
    expect(silent.steps.map((s) => [s.step, s.finished, s.failed, s.top_error])).toEqual([['push', 1, 1, { message, count: 1 }]]);
    expect(report.top_failing_steps.map((s) => [s.workflow, s.step, s.failed])).toEqual([['silent', 'push', 1], ['told', 'push', 1]]);
    for (const s of sync.steps) expect(s.duration_ms.p50).toBeGreaterThanOrEqual(0);
  });
});

function startOf(records: readonly RunRecord[]): string {
  const s = records[0] as RunRecord & { received_at?: string };
  return s.received_at ?? s.ts;
}

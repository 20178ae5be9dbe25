// `flux metrics --store` as a real process, against a real SQLite state file and a real
// PostgreSQL schema, each filled through the store's own API: the live part in json, table,
// prom and html; runs whose logs have no end judged by the store (in flight there: never
// leaked; finished there: counted with its outcome, "log incomplete"); an unreachable store
// named without its password; and the report without --store unchanged.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsReport } from '../../src/metrics/report.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { runFlux } from '../helpers.js';
import { requirePostgres, testSchemas, urlWithSchema } from '../pg-helpers.js';
import { at, finished, started, step, writeLog } from './log-builder.js';
import { parseProm } from './prom-check.js';
import { clockEnv, expectValid } from './report-check.js';

const NOW = '2026-11-20T00:00:00.000Z';
const T = Date.parse(NOW);
const MIN = 60_000;
const VERSION = `sha256:${'0'.repeat(64)}`;
const head = (run: string) => ({ run, workflow: 'sync', baseline: { minutes_per_run: 30 } });

/**
 * Logs of four runs of `sync`, all started four days before NOW (past the default 24 h
 * --stale-after): OK1 ended; LIVE1, DONE1 and GONE1 have no end in these logs.
 */
function writeLogs(dir: string): void {
  writeLog(dir, 'logs/sync/OK1.jsonl', [started(head('OK1'), 0), ...step(head('OK1'), 'push', 1, { method: 'POST' }), finished(head('OK1'), 2, 'succeeded')]);
  writeLog(dir, 'logs/sync/LIVE1.jsonl', [started(head('LIVE1'), 10), ...step(head('LIVE1'), 'push', 11, { method: 'POST' })]);
  writeLog(dir, 'logs/sync/DONE1.jsonl', [started(head('DONE1'), 20), ...step(head('DONE1'), 'push', 21, { method: 'POST' })]);
  writeLog(dir, 'logs/sync/GONE1.jsonl', [started(head('GONE1'), 30)]);
}

/**
 * The store the daemons share: LIVE1 running (another daemon holds it), DONE1 succeeded (its
 * end is in that daemon's log, not given), GONE1 unknown; besides, a waiting run of `remind`, a
 * queued run of `sync`, an escalation of `billing` past its deadline and one not yet due, and
 * the poll of `feed` failing twice in a row.
 */
async function seed(store: Store): Promise<void> {
  const start = Date.parse(at(10));
  await store.putWorkflowVersion({ hash: VERSION, name: 'sync', text: 'name: sync\n', createdAt: start });
  const add = async (id: string, workflow: string): Promise<void> => {
    await store.enqueueRun({ id, workflow, workflowVersion: VERSION, trigger: 'webhook', event: {}, receivedAt: start }, start);
    const claimed = await store.claimRuns('daemon-b', 1, 3_600_000 * 200, start);
    expect(claimed.map((c) => c.run.id)).toEqual([id]);
  };
  await add('LIVE1', 'sync');
  await add('DONE1', 'sync');
  await store.finishRun('DONE1', 'daemon-b', 'succeeded', null, Date.parse(at(25)));
  await add('WAIT1', 'remind');
  await store.setWaiting('WAIT1', 'daemon-b', T + 86_400_000, null, start + 1000);
  for (const [id, due] of [['BILL1', T - 60 * MIN], ['BILL2', T + 60 * MIN]] as const) {
    await add(id, 'billing');
    await store.finishRun(id, 'daemon-b', 'escalated', { message: 'boom', step: 'charge' }, start + 2000);
    await store.openEscalation({ runId: id, workflow: 'billing', workflowVersion: VERSION, owner: 'ops', members: ['ops@example.com'], error: { message: 'boom' }, escalatedAt: start + 2000, ackDueAt: due, hasThen: false });
  }
  await store.enqueueRun({ id: 'QUEUED1', workflow: 'sync', workflowVersion: VERSION, trigger: 'webhook', event: {}, receivedAt: T - MIN }, T - MIN);
  for (const n of [1, 2]) {
    const claim = await store.claimPoll('feed', 'daemon-b', MIN, T - 10 * MIN + n);
    expect(claim.claimed).toBe(true);
    await store.failPoll('feed', 'daemon-b', `HTTP 503 from the feed\u001b[31m (${n})`, T - 10 * MIN + n, 5, T - 10 * MIN + n);
  }
}

/** The store's verdicts and live part, as every backend must give them. */
function expectJudged(r: MetricsReport, shownStore: string): void {
  expectValid(r);
  const sync = r.workflows.find((w) => w.name === 'sync')!;
  // LIVE1 is running (not stalled), DONE1 succeeded with OK1, GONE1 stalled as before.
  expect(sync.runs).toMatchObject({ started: 4, succeeded: 2, running: 1, stalled: 1 });
  expect(sync.reclaimed_hours).toBe(1);
  expect(r.leaked_runs.map((l) => l.run_id)).toEqual(['GONE1']);
  expect(r.live).toEqual({
    store: shownStore,
    read_at: NOW,
    runs: [
      { workflow: 'remind', queued: 0, running: 0, waiting: 1 },
      { workflow: 'sync', queued: 1, running: 1, waiting: 0 },
    ],
    totals: { queued: 1, running: 1, waiting: 1 },
    escalations: [{ workflow: 'billing', unacknowledged: 2, overdue: 1 }],
    failing_polls: [{ workflow: 'feed', failures: 2, last_error: 'HTTP 503 from the feed\u001b[31m (2)', escalated_at: null, next_poll_at: new Date(T - 10 * MIN + 2).toISOString() }],
    open_runs_checked: 3,
    open_runs_live: 1,
    log_incomplete_runs: 1,
    open_runs_unchecked: 0,
  });
  expect(r.warnings).toContainEqual({ file: shownStore, line: null, message: expect.stringMatching(/^log incomplete: 1 run with no end in the logs is finished in the store \(DONE1\), counted with the store's outcome/) });
}

const backends: { name: string; make(dir: string): Promise<{ spec: string; shown: string }> }[] = [
  {
    name: 'SQLite',
    async make(dir) {
      const spec = join(dir, 'state', 'flux.db');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir, 'state'));
      const store = await openStore(spec, { now: () => T });
      try {
        await seed(store);
      } finally {
        await store.close();
      }
      return { spec: 'state/flux.db', shown: 'state/flux.db' };
    },
  },
  {
    name: 'PostgreSQL',
    async make() {
      await requirePostgres();
      const spec = urlWithSchema(schemas.fresh());
      const store = await openStore(spec, { now: () => T });
      try {
        await seed(store);
      } finally {
        await store.close();
      }
      return { spec, shown: spec };
    },
  },
];

const schemas = testSchemas('flux_metrics_store');
afterAll(() => schemas.dropAll());

describe.each(backends)('flux metrics --store on $name', (backend) => {
  let dir: string;
  let env: Record<string, string>;
  let spec: string;
  let shown: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flux-metrics-store-'));
    env = clockEnv(dir, NOW);
    writeLogs(dir);
    ({ spec, shown } = await backend.make(dir));
  });

  it('json: the live part, and open runs judged by the store (in flight: not leaked; finished: counted, log incomplete)', async () => {
    const r = await runFlux(['metrics', 'logs', '--format', 'json', '--store', spec], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    expectJudged(JSON.parse(r.stdout) as MetricsReport, shown);
    expect(r.stderr).toContain("flux: log incomplete: 1 run with no end in the logs is finished in the store, counted with the store's outcome");
    expect(r.stderr).toContain('flux: 1 leaked run');
  });

  it('$FLUX_STORE_URL stands for --store; an open run the store holds is not leaked even past --stale-after', async () => {
    const r = await runFlux(['metrics', 'logs', '--format', 'json', '--stale-after', '1m', '--fail-on-leak'], { cwd: dir, env: { ...env, FLUX_STORE_URL: spec } });
    expect(r.code).toBe(1); // GONE1, unknown to the store, still leaked
    const report = JSON.parse(r.stdout) as MetricsReport;
    expectJudged(report, shown);
    expect(report.leaked_runs.map((l) => l.run_id)).not.toContain('LIVE1');
  });

  it('--until before the store finished a run: it was in flight then (running), not log incomplete', async () => {
    const r = await runFlux(['metrics', 'logs', '--format', 'json', '--until', at(24), '--store', spec], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as MetricsReport;
    expectValid(report);
    expect(report.workflows.find((w) => w.name === 'sync')!.runs).toMatchObject({ started: 3, succeeded: 1, running: 2, stalled: 0 });
    expect(report.live).toMatchObject({ open_runs_checked: 2, open_runs_live: 2, log_incomplete_runs: 0 });
    expect(r.stderr).not.toContain('log incomplete');
  });

  it('table: a Live section with runs and escalations per workflow, the failing poll escaped, the open runs', async () => {
    const r = await runFlux(['metrics', 'logs', '--format', 'table', '--store', spec], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const live = r.stdout.slice(r.stdout.indexOf('\nLive  '));
    const words = live.replace(/\s+/g, ' ');
    expect(live).toContain('\nLive  the store now, read 2026-11-20 00:00:00Z\n  store ');
    // The store's name is broken over lines (a URL has no spaces), never cut.
    const lines = live.split('\n');
    const first = lines.findIndex((l) => l.startsWith('  store '));
    let store = lines[first]!.slice(8);
    for (let j = first + 1; /^ {8}\S/.test(lines[j]!) && !lines[j]!.includes('runs now'); j++) store += lines[j]!.slice(8);
    expect(store).toBe(shown);
    expect(live).toMatch(/billing +0 +0 +0 +2 +1\n/);
    expect(live).toMatch(/remind +0 +0 +1 +0 +0\n/);
    expect(live).toMatch(/sync +1 +1 +0 +0 +0\n/);
    expect(live).toMatch(/total +1 +1 +1 +2 +1\n/);
    expect(words).toContain('poll of feed failing, 2 in a row: HTTP 503 from the feed\\e[31m (2)');
    expect(words).toContain('runs with no end in the logs: 3 looked up in the store, 1 still in flight (not leaked), 1 finished there (log incomplete)');
    expect(r.stdout).not.toContain('\u001b');
  });

  it('prom: flux_store_* gauges by workflow and status, read back by the Prometheus parser', async () => {
    const r = await runFlux(['metrics', 'logs', '--format', 'prom', '--store', spec], { cwd: dir, env });
    expect(r.code, r.stderr).toBe(0);
    const families = await parseProm(r.stdout);
    const of = (name: string) => families.find((f) => f.name === name)?.samples.map((s) => [s.labels, s.value]);
    expect(of('flux_store_runs')).toEqual([
      [{ workflow: 'remind', status: 'queued' }, 0], [{ workflow: 'remind', status: 'running' }, 0], [{ workflow: 'remind', status: 'waiting' }, 1],
      [{ workflow: 'sync', status: 'queued' }, 1], [{ workflow: 'sync', status: 'running' }, 1], [{ workflow: 'sync', status: 'waiting' }, 0],
    ]);
    expect(of('flux_store_escalations_unacknowledged')).toEqual([[{ workflow: 'billing' }, 2]]);
    expect(of('flux_store_escalations_overdue')).toEqual([[{ workflow: 'billing' }, 1]]);
    expect(of('flux_store_poll_failures')).toEqual([[{ workflow: 'feed' }, 2]]);
    expect(of('flux_metrics_log_incomplete_runs')).toEqual([[{}, 1]]);
    expect(of('flux_workflow_runs')).toContainEqual([{ workflow: 'sync', owner: 'ops@example.com', status: 'running' }, 1]);
    for (const f of families) expect(f.type).toBe('gauge');
  });

  it('html: a Live section whose figures carry data-live; csv says on stderr why the live part is not in it', async () => {
    const html = await runFlux(['metrics', 'logs', '--format', 'html', '--store', spec], { cwd: dir, env });
    expect(html.code, html.stderr).toBe(0);
    const section = html.stdout.slice(html.stdout.indexOf('<h2 id="live-h">Live</h2>'));
    expect(section).toContain('<td class="num" data-live="overdue" data-workflow="billing">1</td>');
    expect(section).toContain('<td class="num" data-live="waiting" data-workflow="remind">1</td>');
    expect(section).toContain('<span data-live="log_incomplete_runs">1</span>');
    const csv = await runFlux(['metrics', 'logs', '--format', 'csv', '--store', spec], { cwd: dir, env });
    expect(csv.code).toBe(0);
    expect(csv.stderr).toContain("flux: the store's live state is not in the csv report");
  });

  it('without --store the store is not read, and the report is the logs alone', async () => {
    const r = await runFlux(['metrics', 'logs', '--format', 'json'], { cwd: dir, env });
    const report = JSON.parse(r.stdout) as MetricsReport;
    expectValid(report);
    expect(report).not.toHaveProperty('live');
    expect(report.workflows[0]!.runs).toMatchObject({ started: 4, succeeded: 1, stalled: 3 });
    const table = await runFlux(['metrics', 'logs', '--format', 'table'], { cwd: dir, env });
    expect(table.stdout).not.toMatch(/^Live/m);
  });
});

describe('flux metrics --store that cannot be read', () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flux-metrics-store-bad-'));
    env = clockEnv(dir, NOW);
    writeLogs(dir);
  });

  it('an unreachable PostgreSQL: exit 2, the URL without its password, no stack trace', async () => {
    const r = await runFlux(['metrics', 'logs', '--store', 'postgres://flux:s3cr3t-pw@127.0.0.1:1/flux'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^flux: cannot open the PostgreSQL store postgres:\/\/flux(:\*+)?@127\.0\.0\.1:1\/flux: /);
    expect(r.stderr).not.toContain('s3cr3t-pw');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a SQLite file that does not exist: exit 2, named, and not created', async () => {
    const r = await runFlux(['metrics', 'logs', '--store', 'nothere/flux.db'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flux: cannot open the state database nothere\/flux\.db: /);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(dir, 'nothere'))).toBe(false);
  });

  it('a URL of another scheme: exit 2', async () => {
    const r = await runFlux(['metrics', 'logs', '--store', 'mysql://root:pw@db/flux'], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flux: --store takes a postgres:\/\/ URL or a SQLite file/);
  });
});

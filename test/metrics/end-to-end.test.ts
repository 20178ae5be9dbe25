// `flux metrics` end to end: the example workflows run by `flux demo` against its sandbox, plus
// one run that fails with nobody told, all by spawned flux processes; then the spawned binary
// writes the report in every format, each to the file `--out` names (the format taken from its
// extension). The JSON is checked against the schema and the runs flux wrote; every other
// format is checked against that JSON: the HTML in a real headless Chromium (every figure shown
// read back), the Prometheus text by the format's reference parser, the CSV cell by cell.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsReport } from '../../src/metrics/report.js';
import { readRunLog } from '../../src/store/run-log.js';
import { runFlux } from '../helpers.js';
import { expectCsvMatches } from './csv-check.js';
import { checkHtmlReport, launchChromium, openReport } from './html-check.js';
import { expectPromMatches } from './prom-check.js';
import { clockEnv, expectValid } from './report-check.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
let dir: string;
let logs: string;
let env: Record<string, string>;
let report: MetricsReport;
let browser: Browser | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flux-metrics-e2e-'));
  logs = join(dir, 'logs');
  const demo = await runFlux(['demo', '--no-daemon', '--log-dir', logs]);
  expect(demo.code, demo.stderr).toBe(0);
  // A workflow whose call cannot connect and that names no escalation: it fails silently.
  writeFileSync(join(dir, 'export.yaml'), `name: nightly-export
owner: data@example.com
trigger: manual
baseline: { minutes_per_run: 20, hourly_cost: 40, currency: USD }
steps:
  - id: upload
    timeout: 2s
    uses: http
    with: { url: "http://127.0.0.1:1/upload", method: PUT }
`);
  const failed = await runFlux(['run', 'export.yaml', '--log-dir', logs], { cwd: dir });
  expect(failed.code, failed.stderr).toBe(1);
  // Every format is computed at the same moment, so the reports are the same report.
  env = clockEnv(dir, new Date(Date.now() + 60_000).toISOString());
  for (const ext of ['json', 'html', 'csv', 'prom']) {
    const r = await runFlux(['metrics', logs, '--since', '1d', '--out', join(dir, `report.${ext}`)], { cwd: dir, env });
    expect(r.code, `${ext}: ${r.stderr}`).toBe(0);
    expect(r.stdout).toBe('');
  }
  report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as MetricsReport;
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('flux metrics on the demo\'s runs and a silent failure', () => {
  it('writes JSON that matches the schema and counts every run the logs hold, each once', () => {
    expectValid(report);
    const files = readdirSync(logs, { recursive: true }).filter((f) => String(f).endsWith('.jsonl'));
    const runs = files.map((f) => readRunLog(join(logs, String(f))).records);
    const finished = runs.map((r) => r.find((x) => x.type === 'run.finished') as { status: string } | undefined);
    expect(report.totals.runs.started).toBe(runs.length);
    for (const status of ['succeeded', 'failed', 'escalated'] as const) {
      expect(report.totals.runs[status], status).toBe(finished.filter((f) => f?.status === status).length);
    }
    expect(report.totals.runs.failed).toBe(1);
    expect(report.leaked_runs).toEqual([expect.objectContaining({ workflow: 'nightly-export', last_step: 'upload', reason: 'failed, and no escalation was delivered' })]);
    expect(report.warnings).toEqual([]);
    // The demo's workflows declare baselines, so their succeeded runs reclaim time.
    expect(report.totals.reclaimed_hours).toBeGreaterThan(0);
    const lead = report.workflows.find((w) => w.name === 'lead-intake');
    expect(lead?.response_seconds.p50).not.toBeNull();
  });

  it('shows the same figures in the HTML report, in a real headless Chromium', async () => {
    browser = await launchChromium();
    const { page, outside } = await openReport(browser, join(dir, 'report.html'));
    const { problems, figures } = await checkHtmlReport(page, report);
    expect(problems).toEqual([]);
    expect(figures).toBeGreaterThan(100);
    expect(outside).toEqual([]);
    // The leak is the headline: the first heading after the title names it.
    expect(await page.title()).toMatch(/^1 leaked run/);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'metrics-end-to-end.png'), fullPage: true });
  });

  it('writes the same figures for Prometheus, read by the format\'s parser', async () => {
    await expectPromMatches(readFileSync(join(dir, 'report.prom'), 'utf8'), report);
  });

  it('writes the same figures as CSV, one row per workflow and day', () => {
    expectCsvMatches(readFileSync(join(dir, 'report.csv'), 'utf8'), report);
  });

  it('leads the terminal table with the leaked run, and --fail-on-leak exits 1', async () => {
    const r = await runFlux(['metrics', logs, '--since', '1d', '--format', 'table', '--fail-on-leak'], { cwd: dir, env });
    expect(r.code).toBe(1);
    const first = r.stdout.split('\n').slice(0, 5).join('\n');
    expect(first).toMatch(/^1 leaked run/);
    expect(first).toContain('nightly-export');
    expect(first).toContain(report.leaked_runs[0]!.run_id);
    expect(r.stderr).toMatch(/1 leaked run/);
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });
});

// `flux metrics` as a real process: the default log directory and FLUX_HOME, the default
// format off a terminal, --out (atomic, format from the extension), exit codes for leaks and
// for every kind of bad input, and outside names escaped in messages.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MetricsReport } from '../../src/metrics/report.js';
import { runFlux } from '../helpers.js';
import { finished, started, step, writeLog } from './log-builder.js';
import { clockEnv, expectValid } from './report-check.js';

let dir: string;
let env: Record<string, string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flux-metrics-cli-'));
  env = clockEnv(dir, '2026-11-20T00:00:00.000Z');
  const ok = { run: 'OK1', workflow: 'sync', baseline: { minutes_per_run: 30 } };
  writeLog(dir, '.flux/logs/sync/OK1.jsonl', [started(ok, 0), ...step(ok, 'push', 1, { method: 'POST' }), finished(ok, 2, 'succeeded')]);
  const bad = { run: 'BAD1', workflow: 'sync', baseline: { minutes_per_run: 30 } };
  writeLog(dir, 'elsewhere/sync/BAD1.jsonl', [started(bad, 0), finished(bad, 1, 'failed'), '{oops']);
  mkdirSync(join(dir, 'home/logs/sync'), { recursive: true });
  writeLog(dir, 'home/logs/sync/OK2.jsonl.gz', [started({ ...ok, run: 'OK2' }, 5), finished({ ...ok, run: 'OK2' }, 6, 'succeeded')]);
});

const json = (stdout: string): MetricsReport => {
  const r = JSON.parse(stdout) as MetricsReport;
  expectValid(r);
  return r;
};

describe('flux metrics (spawned)', () => {
  it('reads .flux/logs by default and prints JSON when stdout is not a terminal', async () => {
    const r = await runFlux(['metrics'], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const report = json(r.stdout);
    expect([report.input.files, report.totals.runs.succeeded, report.totals.reclaimed_hours]).toEqual([1, 1, 0.5]);
  });

  it('reads $FLUX_HOME/logs when FLUX_HOME is set, gzipped logs included', async () => {
    const r = await runFlux(['metrics'], { cwd: dir, env: { ...env, FLUX_HOME: join(dir, 'home') } });
    expect(r.code).toBe(0);
    expect(json(r.stdout).workflows.map((w) => [w.name, w.runs.succeeded])).toEqual([['sync', 1]]);
  });

  it('exit 0 with leaks, 1 with --fail-on-leak; warnings and leaks summed up on stderr in one line each', async () => {
    const plain = await runFlux(['metrics', 'elsewhere', '.flux/logs'], { cwd: dir, env });
    expect(plain.code).toBe(0);
    expect(plain.stderr).toBe(
      'flux: 1 warning while reading the logs (unreadable lines, missing owners); see them in the "warnings" list of the report\n' +
      'flux: 1 leaked run: failed without a delivered escalation, or stopped without an end\n',
    );
    const report = json(plain.stdout);
    expect(report.warnings).toEqual([{ file: 'elsewhere/sync/BAD1.jsonl', line: 3, message: expect.stringMatching(/^not JSON/) }]);
    expect(report.leaked_runs.map((l) => l.run_id)).toEqual(['BAD1']);
    const failing = await runFlux(['metrics', '--log-dir', 'elsewhere', '--fail-on-leak'], { cwd: dir, env });
    expect(failing.code).toBe(1);
    expect(json(failing.stdout).totals.leaked).toBe(1);
    const clean = await runFlux(['metrics', '--fail-on-leak'], { cwd: dir, env });
    expect(clean.code).toBe(0);
  });

  it('--out writes the file atomically, its format from the extension, and nothing to stdout', async () => {
    const r = await runFlux(['metrics', '--out', 'out/report.json'], { cwd: dir, env: { ...env } });
    // The directory does not exist: an input error, and no file or temporary left behind.
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('flux: cannot write --out `out/report.json`: no such directory\n');
    mkdirSync(join(dir, 'out'));
    const ok = await runFlux(['metrics', '--out', 'out/report.json'], { cwd: dir, env });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('');
    expect(json(readFileSync(join(dir, 'out/report.json'), 'utf8')).totals.runs.started).toBe(1);
    expect(readdirSync(join(dir, 'out'))).toEqual(['report.json']);
  });

  it('--since and --until take durations back from the test clock and dates', async () => {
    const r = await runFlux(['metrics', '--since', '4d', '--until', '2026-11-19'], { cwd: dir, env });
    expect(r.code).toBe(0);
    expect(json(r.stdout).window).toEqual({ since: '2026-11-16T00:00:00.000Z', until: '2026-11-19T00:00:00.000Z' });
    const none = json((await runFlux(['metrics', '--since', '2026-11-16T00:01'], { cwd: dir, env })).stdout);
    expect(none.totals.runs.started).toBe(0);
    expect(none.workflows).toEqual([]);
  });

  const bad: [string, string[], string][] = [
    ['a missing path, escaped', ['metrics', 'no\u001b[31mpe'], 'flux: `no\\e[31mpe`: no such file or directory\n'],
    ['a missing --log-dir', ['metrics', '--log-dir', 'nowhere'], 'flux: `nowhere`: no such file or directory\n'],
    ['a bad --since', ['metrics', '--since', 'last tuesday'], 'flux: --since takes a duration back from now (7d, 12h, 30m) or a date (2026-11-01, 2026-11-01T09:00Z), not `last tuesday`\n'],
    ['a bad --until', ['metrics', '--until', '2026-13-45'], 'flux: --until takes a duration back from now (7d, 12h, 30m) or a date (2026-11-01, 2026-11-01T09:00Z), not `2026-13-45`\n'],
    ['--since after --until', ['metrics', '--since', '2026-11-19', '--until', '2026-11-18'], 'flux: --since (2026-11-19T00:00:00.000Z) is not before --until (2026-11-18T00:00:00.000Z)\n'],
    ['a bad --by', ['metrics', '--by', 'year'], 'flux: --by takes day, week or month, not `year`\n'],
    ['a bad --format', ['metrics', '--format', 'xml'], 'flux: --format takes table, json, csv, prom, html, not `xml`\n'],
    ['a bad --stale-after', ['metrics', '--stale-after', '5'], 'flux: --stale-after: duration `5` has no unit; write e.g. `5s` or `5m`\n'],
  ];
  for (const [name, argv, message] of bad) {
    it(`exit 2 for ${name}`, async () => {
      const r = await runFlux(argv, { cwd: dir, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(message);
      expect(r.stdout).toBe('');
    });
  }

  it('exit 2 naming the default directory when there are no logs at all', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'flux-metrics-empty-'));
    const r = await runFlux(['metrics'], { cwd: empty, env });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('flux: no run logs at `.flux/logs`: run a workflow first, or say where the logs are with --log-dir or paths\n');
    expect(existsSync(join(empty, '.flux'))).toBe(false);
  });
});

describe('chooseFormat', () => {
  it('takes --format, else the extension of --out, else table on a terminal and json otherwise', async () => {
    const { chooseFormat } = await import('../../src/cli/metrics.js');
    const io = (tty: boolean) => ({ stdout: { write: () => true, isTTY: tty }, stderr: { write: () => true }, env: {}, cwd: '/' });
    expect(chooseFormat('csv', 'x.json', io(false))).toBe('csv');
    expect(['a.json', 'a.csv', 'a.prom', 'a.HTML', 'a.txt', 'a'].map((out) => chooseFormat(undefined, out, io(false)))).toEqual(['json', 'csv', 'prom', 'html', 'table', 'table']);
    expect(chooseFormat(undefined, undefined, io(true))).toBe('table');
    expect(chooseFormat(undefined, undefined, io(false))).toBe('json');
  });
});

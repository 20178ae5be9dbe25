// Bounds on what outside data can make metrics hold: step ids per workflow, error messages per
// step, listed warnings; each overflow counted and said, never silent.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_WARNINGS } from '../../src/metrics/aggregate.js';
import { MAX_ERRORS, MAX_STEPS } from '../../src/metrics/figures.js';
import { finished, started, step, writeLog } from './log-builder.js';
import { clockEnv, metricsJson } from './report-check.js';

describe('bounds', () => {
  it('caps step ids per workflow and error messages per step, counting the rest and warning', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-metrics-bounds-'));
    const h = { run: 'R1', workflow: 'wide', baseline: null };
    const steps = Array.from({ length: MAX_STEPS + 5 }, (_, i) => step(h, `s${String(i).padStart(3, '0')}`, 1)).flat();
    const errors = Array.from({ length: MAX_ERRORS + 3 }, (_, i) => step(h, 's000', 2, { status: 'failed', error: `error ${String(i).padStart(2, '0')}` })).flat();
    const again = step(h, 's000', 3, { status: 'failed', error: 'error 05' });
    writeLog(dir, 'logs/wide/R1.jsonl', [started(h, 0), ...steps, ...errors, ...again, finished(h, 4, 'escalated')]);
    const { report } = await metricsJson(dir, ['logs'], clockEnv(dir, '2026-11-20T00:00:00Z'));
    const w = report.workflows[0]!;
    expect(w.steps).toHaveLength(MAX_STEPS);
    const first = w.steps.find((s) => s.step === 's000')!;
    expect([first.finished, first.failed, first.top_error]).toEqual([1 + MAX_ERRORS + 4, MAX_ERRORS + 4, { message: 'error 05', count: 2 }]);
    expect(report.warnings.map((x) => x.message)).toEqual([
      `workflow "wide", step "s000": more than ${MAX_ERRORS} different error messages; 3 failures counted without their message`,
      `workflow "wide": more than ${MAX_STEPS} step ids; 5 records of further steps are not in its step table`,
    ]);
  });

  it(`lists the first ${MAX_WARNINGS} warnings by file and line and counts the rest`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-metrics-bounds-'));
    const h = { run: 'R1', workflow: 'noisy', owner: 'o@example.com' };
    writeLog(dir, 'logs/b.jsonl', Array.from({ length: 90 }, () => 'garbage'));
    writeLog(dir, 'logs/a.jsonl', [started(h, 0), ...Array.from({ length: 60 }, () => '{"v":1}'), finished(h, 1, 'succeeded')]);
    const { report, run } = await metricsJson(dir, ['logs'], clockEnv(dir, '2026-11-20T00:00:00Z'));
    expect(report.warnings).toHaveLength(MAX_WARNINGS);
    expect(report.warnings_omitted).toBe(50);
    expect(report.warnings[0]).toEqual({ file: 'logs/a.jsonl', line: 2, message: 'not a run record: no `type`' });
    expect(report.warnings[59]!.line).toBe(61);
    expect(report.warnings[60]).toEqual({ file: 'logs/b.jsonl', line: 1, message: expect.stringMatching(/^not JSON/) });
    expect(report.warnings[99]!.line).toBe(40);
    expect(report.totals.runs.succeeded).toBe(1);
    expect(run.stderr).toContain('flux: 150 warnings while reading the logs');
  });
});

// How a finished run's outcome is read: a `failed` run whose escalation was delivered counts
// as escalated (not leaked), whatever status run.finished wrote; an unknown status is a
// failure nobody was told of.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { finished, record, started, writeLog } from './log-builder.js';
import { clockEnv, metricsJson } from './report-check.js';

it('reads escalations and odd statuses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flux-metrics-outcomes-'));
  const a = { run: 'A', workflow: 'w' };
  const b = { run: 'B', workflow: 'w' };
  writeLog(dir, 'logs/A.jsonl', [started(a, 0), record(a, 'escalation', 1, { via: 'chat.request', delivered: false, error: { message: 'x' } }),
    record(a, 'escalation', 2, { via: 'email.request', delivered: true, error: { message: 'x' } }), finished(a, 3, 'failed')]);
  writeLog(dir, 'logs/B.jsonl', [started(b, 10), finished(b, 11, 'exploded')]);
  const { report } = await metricsJson(dir, ['logs'], clockEnv(dir, '2026-11-20T00:00:00Z'));
  expect(report.totals.runs).toMatchObject({ started: 2, escalated: 1, failed: 1 });
  expect(report.leaked_runs.map((l) => [l.run_id, l.last_step, l.reason])).toEqual([['B', null, 'ended "exploded", and no escalation was delivered']]);
});

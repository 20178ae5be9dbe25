// Time to acknowledgement and unacknowledged escalations in `flux metrics`: escalations with
// ack_within, acknowledged in time, late, in another file than their run (a rotated log, read
// by another thread), not at all past their deadline (leaked, with a reason of their own) and
// not yet due (not leaked). The same answers in-process and from a pool of worker threads.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { formatCsv } from '../../src/metrics/format/csv.js';
import { at, finished, record, started, step, writeLog, type RunHead } from './log-builder.js';
import { clockEnv, metricsJson, nearQ } from './report-check.js';

const NOW = at(5760);
const pay = (run: string): RunHead => ({ run, workflow: 'pay', owner: 'finance' });

/** An escalated run: started, one failed step, told the owner at `minute`, due `within` minutes later (none: no ack_within). */
function escalatedRun(head: RunHead, minute: number, within?: number): string[] {
  return [
    started(head, minute),
    ...step(head, 'charge', minute, { status: 'failed', error: 'declined' }),
    record(head, 'escalation', minute, {
      step: 'charge', via: 'chat.request', delivered: true, error: { message: 'declined', step: 'charge' },
      ...(within !== undefined ? { ack_within: `${within}m`, ack_due_at: at(minute + within), ack_id: head.run } : {}),
    }),
    finished(head, minute, 'escalated'),
  ];
}

const acked = (head: RunHead, minute: number, escalatedAt: number, by = 'maria@example.com') =>
  record(head, 'escalation.acked', minute, { by, via: 'link', escalated_at: at(escalatedAt) });

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flux-metrics-ack-'));
  const log = (rel: string, lines: string[]) => writeLog(dir, `.flux/logs/pay/${rel}`, lines);
  // In time: 30 minutes after the escalation; and the then call is not a run record to count.
  log('r1.jsonl', [...escalatedRun(pay('r1'), 60, 240), acked(pay('r1'), 90, 60)]);
  // Late (after its deadline), in a second file of the run's log.
  log('r2.jsonl', escalatedRun(pay('r2'), 120, 60));
  log('r2.1.jsonl', [record(pay('r2'), 'escalation.then', 180, { via: 'pager.request', delivered: true, attempt: 1 }), acked(pay('r2'), 240, 120, 'boss@example.com')]);
  // Never acknowledged, past its deadline: leaked.
  log('r3.jsonl', escalatedRun(pay('r3'), 200, 240));
  // Not acknowledged, but not due before NOW: not leaked.
  log('r4.jsonl', escalatedRun(pay('r4'), 5700, 240));
  // No ack_within: nothing to acknowledge.
  log('r5.jsonl', escalatedRun(pay('r5'), 300));
});

describe('flux metrics: escalations and their acknowledgement', () => {
  for (const threads of ['0', '2']) {
    it(`times acknowledgements and counts those overdue as leaked (${threads === '0' ? 'in-process' : 'worker threads'})`, async () => {
      const { report } = await metricsJson(dir, ['.flux/logs', '--by', 'week'], { ...clockEnv(dir, NOW), FLUX_METRICS_THREADS: threads });
      const w = report.workflows.find((x) => x.name === 'pay')!;
      expect(w.runs).toMatchObject({ started: 5, escalated: 5 });
      // 30 min and 120 min: the sketch's quantiles are of the lower rank (DDSketch), 30 min for two values.
      nearQ(w.ack_seconds, 1800, 1800, 1800);
      nearQ(report.totals.ack_seconds, 1800, 1800, 1800);
      expect(w.leaked).toBe(1);
      expect(w.leakage_rate).toBe(0.2);
      expect(report.leaked_runs).toEqual([{
        run_id: 'r3', workflow: 'pay', owner: 'finance', last_step: 'charge', last_record_at: at(200),
        reason: `escalated, and not acknowledged by its deadline (${at(440)})`,
      }]);
      expect(w.periods.map((p) => p.leaked)).toEqual([1]);
      nearQ(w.periods[0]!.ack_seconds, 1800, 1800, 1800);
      expect(report.warnings).toEqual([]);
      expect(formatCsv(report).split('\r\n')[1]).toMatch(/,1800,1800,1800$/);
      // The late one alone (its acknowledgement is in the log's second file): 2 hours.
      const late = await metricsJson(dir, ['.flux/logs', '--since', at(100)], { ...clockEnv(dir, NOW), FLUX_METRICS_THREADS: threads });
      nearQ(late.report.workflows[0]!.ack_seconds, 7200, 7200, 7200);
    });
  }

  it('before r3 is due, nothing leaks; a window starting after the escalations times none', async () => {
    const early = await metricsJson(dir, ['.flux/logs'], clockEnv(dir, at(439)));
    expect(early.report.workflows[0]?.leaked).toBe(0);
    const later = await metricsJson(dir, ['.flux/logs', '--since', at(5000)], clockEnv(dir, NOW));
    nearQ(later.report.workflows[0]!.ack_seconds, null, null, null);
    expect(later.report.workflows[0]?.leaked).toBe(0);
  });
});

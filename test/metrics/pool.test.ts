// The worker pool gives the report one reader gives: runs split across files that land in
// different workers, held step records released at the merge, sketches merged after crossing
// the thread boundary, warnings and leaked runs capped the same way.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { planRead, sampleMachine } from '../../src/metrics/pool.js';
import { finished, record, started, step, writeLog, type RunHead } from './log-builder.js';
import { clockEnv, metricsJson } from './report-check.js';
import { seededRandom } from '../seeded-random.js';

const random = seededRandom;

let dir: string;
let env: Record<string, string>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flux-metrics-pool-'));
  env = clockEnv(dir, '2026-11-23T00:00:00.000Z');
  const r = random(1234);
  const workflows = ['alpha', 'beta', 'gamma', 'delta'];
  for (let i = 0; i < 400; i++) {
    const workflow = workflows[i % workflows.length]!;
    const head: RunHead = { run: `R${String(i).padStart(4, '0')}`, workflow, owner: workflow === 'delta' ? '' : `${workflow}@example.com`, baseline: { minutes_per_run: 1 + (i % 7), response_minutes: 60, hourly_cost: 30 + (i % 3) * 10, currency: 'USD' } };
    const t = Math.floor(r() * 9000);
    const lines = [started(head, t, r() < 0.5 ? { received_at: new Date(Date.UTC(2026, 10, 16) + t * 60_000 - 30_000).toISOString() } : {})];
    lines.push(...step(head, 'fetch', t + 1, { method: 'GET', duration_ms: Math.floor(r() * 2000) }));
    if (r() < 0.2) lines.push(record(head, 'step.retry', t + 2, { step: 'write', path: 'write', attempt: 1, delay_ms: 100, error: { message: 'HTTP 429' } }));
    const fate = r();
    if (fate < 0.6) {
      lines.push(...step(head, 'write', t + 3, { method: r() < 0.5 ? 'POST' : 'PUT', duration_ms: Math.floor(r() * 5000) }), finished(head, t + 4, 'succeeded'));
    } else if (fate < 0.75) {
      lines.push(...step(head, 'write', t + 3, { status: 'failed', error: `HTTP ${500 + Math.floor(r() * 4)}` }));
      if (r() < 0.5) lines.push(record(head, 'escalation', t + 4, { via: 'http.post', delivered: r() < 0.7, error: { message: 'x' } }));
      lines.push(finished(head, t + 5, 'failed'));
    } else if (fate < 0.85) {
      lines.push(record(head, 'run.waiting', t + 2, { step: 'pause', path: 'pause', wake_at: new Date(Date.UTC(2026, 10, 16) + (t + 2000) * 60_000).toISOString() }));
    } else if (fate < 0.9) {
      lines.push(finished(head, t + 2, 'rejected'));
    }
    // Some runs are split by rotation into two files, the later part compressed.
    const cut = r() < 0.3 ? 1 + Math.floor(r() * (lines.length - 1)) : lines.length;
    writeLog(dir, `logs/${workflow}/${head.run}.jsonl`, lines.slice(0, cut));
    if (cut < lines.length) writeLog(dir, `logs/${workflow}/${head.run}.1.jsonl.gz`, lines.slice(cut));
  }
  writeLog(dir, 'logs/beta/broken.jsonl', ['{"v":1,', started({ run: 'X', workflow: 'beta' }, 10), '{"v":3}'], true);
});

describe('worker pool', () => {
  it('reports exactly what one reader reports, with 2, 3 and 8 workers', async () => {
    const args = ['logs', '--since', '2026-11-16T06:00Z', '--stale-after', '12h'];
    const one = (await metricsJson(dir, args, { ...env, FLUX_METRICS_THREADS: '0' })).report;
    expect(one.totals.runs.started).toBeGreaterThan(300);
    expect(one.totals.leaked).toBeGreaterThan(10);
    expect(one.totals.runs.waiting + one.totals.runs.running).toBeGreaterThan(5);
    expect(one.warnings.length).toBeGreaterThan(2);
    // Striped: every thread reads files, so partials are merged (claimed, the main thread may
    // read this small input before a worker starts); claimed as flux reads by default, too.
    for (const threads of ['2', '3', '8']) {
      const pooled = (await metricsJson(dir, args, { ...env, FLUX_METRICS_THREADS: threads, FLUX_METRICS_STRIPED: '1' })).report;
      expect(pooled).toEqual(one);
    }
    expect((await metricsJson(dir, args, { ...env, FLUX_METRICS_THREADS: '2' })).report).toEqual(one);
  });

  it('reads small inputs in-process, large ones with one worker on two cores, and a worker per idle core beyond', async () => {
    const plan = async (files: { path: string; size: number }[], cores: number, load: number, env: Record<string, string> = {}) => {
      let sampled = false;
      const machine = () => {
        sampled = true;
        return Promise.resolve({ cores, load });
      };
      const { threads } = await planRead(files, env, machine, cores);
      return { threads, sampled };
    };
    const small = Array.from({ length: 50 }, (_, i) => ({ path: `f${i}`, size: 10_000 }));
    expect(await plan(small, 4, 0.2)).toEqual({ threads: 0, sampled: false });
    const large = Array.from({ length: 50 }, (_, i) => ({ path: `f${i}`, size: 10_000_000 }));
    expect(await plan(large, 4, 0.2)).toEqual({ threads: 3, sampled: true });
    expect(await plan(large, 16, 0)).toEqual({ threads: 4, sampled: true });
    // Two cores: one worker whatever the load, without waiting to sample it.
    expect(await plan(large, 2, 0.3)).toEqual({ threads: 1, sampled: false });
    expect(await plan(large, 2, 2)).toEqual({ threads: 1, sampled: false });
    // A busy machine of more cores still gets one worker.
    expect(await plan(large, 4, 3.2)).toEqual({ threads: 1, sampled: true });
    expect(await plan(large, 1, 0)).toEqual({ threads: 0, sampled: false });
    expect(await plan([{ path: 'a', size: 100e6 }, { path: 'b', size: 100e6 }], 4, 0.2)).toEqual({ threads: 1, sampled: true });
    expect(await plan([{ path: 'a', size: 1e9 }], 4, 0)).toEqual({ threads: 0, sampled: false });
    expect(await plan(large, 4, 0.2, { FLUX_METRICS_THREADS: '0' })).toEqual({ threads: 0, sampled: false });
    expect(await plan(small, 4, 0.2, { FLUX_METRICS_THREADS: '4' })).toEqual({ threads: 4, sampled: false });
  });

  it('samples how busy the cores are', async () => {
    const m = await sampleMachine(20);
    expect(m.cores).toBeGreaterThanOrEqual(1);
    expect(m.load).toBeGreaterThanOrEqual(0);
    expect(m.load).toBeLessThanOrEqual(m.cores + 1e-9);
  });
});

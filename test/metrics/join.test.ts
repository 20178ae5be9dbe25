// Joining the parts of a run's log: under several daemons a resumed run's log continues in
// the resuming daemon's log directory (daemon/runner.ts), so one run may be in two or three
// files, each beginning with run.started or run.resumed. Read together, the parts must give
// exactly the report the whole log gives: a run counted once, its start and trigger time from
// its first part, its end and outcome from its last, every step from every part. Checked with
// random runs split at random turn boundaries across two or three directories (or under other
// names in one shared directory), read in-process and by the worker pool; and a part missing
// its start, or its end, counted as what it is and never twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { MetricsReport } from '../../src/metrics/report.js';
import { at, finished, record, started, step, writeLog, type RunHead } from './log-builder.js';
import { clockEnv, metricsJson, near } from './report-check.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'flux-metrics-join-'));
  dirs.push(d);
  return d;
}

interface StepSpec {
  readonly id: string;
  readonly status: 'succeeded' | 'failed' | 'skipped';
  readonly method: 'GET' | 'POST';
  readonly retry: boolean;
}

interface TurnSpec {
  /** The daemon (0, 1 or 2) that ran this turn. */
  readonly daemon: number;
  readonly steps: readonly StepSpec[];
  /** How a turn that is not the run's last ended: parked at a wait, or its daemon died (no end). */
  readonly end: 'waiting' | 'died';
  readonly gap: number;
}

interface RunSpec {
  readonly workflow: 'billing' | 'onboarding';
  readonly start: number;
  readonly turns: readonly TurnSpec[];
  /** How the last turn ended: a status, or null for a run still in progress (or whose daemon died). */
  readonly outcome: 'succeeded' | 'failed' | 'cancelled' | null;
  readonly escalated: boolean;
  readonly responseStep: boolean;
  readonly baseline: number;
}

const stepArb: fc.Arbitrary<StepSpec> = fc.record({
  id: fc.constantFrom('fetch', 'write', 'notify', 'reply'),
  status: fc.constantFrom('succeeded', 'succeeded', 'failed', 'skipped'),
  method: fc.constantFrom('GET', 'POST'),
  retry: fc.boolean(),
});

const runArb: fc.Arbitrary<RunSpec> = fc.record({
  workflow: fc.constantFrom('billing', 'onboarding'),
  start: fc.integer({ min: 0, max: 4000 }),
  turns: fc.array(fc.record({ daemon: fc.integer({ min: 0, max: 2 }), steps: fc.array(stepArb, { maxLength: 3 }), end: fc.constantFrom('waiting', 'died'), gap: fc.integer({ min: 1, max: 600 }) }), { minLength: 1, maxLength: 4 }),
  outcome: fc.constantFrom('succeeded', 'succeeded', 'failed', 'cancelled', null),
  escalated: fc.boolean(),
  responseStep: fc.boolean(),
  baseline: fc.integer({ min: 1, max: 30 }),
}) as fc.Arbitrary<RunSpec>;

/** The lines of each turn of a run, as flux daemon writes them: the first turn's run.started, each later one's run.resumed naming its daemon. */
function turnsOf(spec: RunSpec, index: number): { head: RunHead; turns: { daemon: number; lines: string[] }[] } {
  const head: RunHead = { run: `R${String(index).padStart(4, '0')}`, workflow: spec.workflow, owner: `${spec.workflow}@example.com`, baseline: { minutes_per_run: spec.baseline, hourly_cost: 40, currency: 'USD' } };
  let t = spec.start;
  const turns = spec.turns.map((turn, i) => {
    const lines: string[] = [];
    const last = i === spec.turns.length - 1;
    if (i === 0) {
      lines.push(started(head, t, { received_at: at(t - 1), ...(spec.responseStep ? { response_step: 'reply' } : {}), daemon: `d${turn.daemon}`, attempt: 1 }));
    } else {
      lines.push(record(head, 'run.resumed', t, { attempt: 1 + spec.turns.slice(0, i).filter((p) => p.end === 'died').length, replayable: i, daemon: `d${turn.daemon}`, reason: spec.turns[i - 1]!.end === 'died' ? 'rescue' : 'wake', previous_elsewhere: spec.turns[i - 1]!.daemon !== turn.daemon }));
    }
    for (const s of turn.steps) {
      t += 1;
      if (s.retry) lines.push(record(head, 'step.retry', t, { step: s.id, path: s.id, attempt: 1, delay_ms: 100, error: { message: 'HTTP 503' } }));
      lines.push(...step(head, s.id, t, { status: s.status, method: s.method, duration_ms: 1000 * (1 + (t % 50)), ...(s.status === 'failed' ? { error: `HTTP ${500 + (t % 3)}` } : {}) }));
    }
    t += 1;
    if (!last) {
      if (turn.end === 'waiting') lines.push(record(head, 'run.waiting', t, { step: 'pause', path: 'pause', wake_at: at(t + turn.gap) }));
      t += turn.gap;
    } else if (spec.outcome !== null) {
      if (spec.outcome === 'failed') lines.push(record(head, 'escalation', t, { via: 'http.post', delivered: spec.escalated, error: { message: 'it broke' } }));
      lines.push(finished(head, t, spec.outcome));
    }
    return { daemon: turn.daemon, lines };
  });
  return { head, turns };
}

/** The report's figures; what was read (files, bytes) depends on the layout, the figures must not. */
function figures(report: MetricsReport): Omit<MetricsReport, 'input'> {
  const { input, ...rest } = report;
  void input;
  return rest;
}

const ARGS = ['--until', '2026-11-23T00:00:00Z', '--stale-after', '30m', '--by', 'day'];

describe('metrics joins the parts of a run log by run id', () => {
  it('the same runs split across two or three directories give the report of the whole logs, in-process and pooled', async () => {
    await fc.assert(fc.asyncProperty(fc.array(runArb, { minLength: 1, maxLength: 12 }), fc.constantFrom('dirs', 'shared'), async (specs, layout) => {
      const dir = tempDir();
      const env = clockEnv(dir, '2026-11-19T00:00:00.000Z');
      let records = 0;
      const multiPart = new Set<string>();
      specs.forEach((spec, i) => {
        const { head, turns } = turnsOf(spec, i);
        const whole = turns.flatMap((t) => t.lines);
        records += whole.length;
        writeLog(dir, `whole/${head.workflow}/${head.run}.jsonl`, whole);
        // Each daemon's part holds its turns, in order, at the run's path under its own directory
        // ('dirs'); or, in one shared directory, under names of their own ('shared').
        const byDaemon = new Map<number, string[]>();
        for (const t of turns) byDaemon.set(t.daemon, [...(byDaemon.get(t.daemon) ?? []), ...t.lines]);
        if (byDaemon.size > 1) multiPart.add(head.run);
        for (const [d, lines] of byDaemon) {
          writeLog(dir, layout === 'dirs' ? `d${d}/${head.workflow}/${head.run}.jsonl` : `shared/${head.workflow}/${head.run}.d${d}.jsonl`, lines);
        }
      });
      const used = new Set(specs.flatMap((spec) => spec.turns.map((t) => t.daemon)));
      const parts = layout === 'dirs' ? [...used].sort().map((d) => `d${d}`) : ['shared'];
      const one = (await metricsJson(dir, ['whole', ...ARGS], { ...env, FLUX_METRICS_THREADS: '0' })).report;
      expect(one.input.records).toBe(records);
      expect(one.totals.runs.started).toBe(specs.length);
      const split = (await metricsJson(dir, [...parts, ...ARGS], { ...env, FLUX_METRICS_THREADS: '0' })).report;
      expect(split.input.records).toBe(records);
      expect(figures(split)).toEqual(figures(one));
      if (multiPart.size > 0) {
        // Parts of one run in different workers: their partial states merge in the main thread.
        for (const threads of ['1', '2']) {
          const pooled = (await metricsJson(dir, [...parts, ...ARGS], { ...env, FLUX_METRICS_THREADS: threads, FLUX_METRICS_STRIPED: '1' })).report;
          expect(figures(pooled)).toEqual(figures(one));
        }
      }
      rmSync(dir, { recursive: true, force: true });
      // A fixed seed, so a failure is the same on every machine; no shrinking (each try spawns
      // workers, and a shrink would take minutes): the counterexample is printed as found.
    }), { numRuns: 30, seed: 20261124, endOnFailure: true });
  }, 120_000);

  it('a run in three parts (started, woken elsewhere, finished back at the first daemon) is counted once, with its answer from the middle part', async () => {
    const dir = tempDir();
    const env = clockEnv(dir, '2026-11-19T00:00:00.000Z');
    const head: RunHead = { run: 'R1', workflow: 'booking', owner: 'ops@example.com', baseline: { minutes_per_run: 12, hourly_cost: 60, currency: 'USD' } };
    const a = [started(head, 10, { received_at: at(9), response_step: 'reply', daemon: 'a', attempt: 1 }), ...step(head, 'ask', 11, { method: 'POST' }), record(head, 'run.waiting', 12, { step: 'pause', path: 'pause', wake_at: at(70) })];
    const b = [record(head, 'run.resumed', 70, { attempt: 1, replayable: 2, daemon: 'b', reason: 'wake', previous_elsewhere: true }), ...step(head, 'reply', 71, { method: 'POST' }), record(head, 'run.waiting', 72, { step: 'later', path: 'later', wake_at: at(130) })];
    const a2 = [record(head, 'run.resumed', 130, { attempt: 1, replayable: 4, daemon: 'a', reason: 'wake', previous_elsewhere: true }), ...step(head, 'close', 131, { method: 'PUT' }), finished(head, 132, 'succeeded')];
    writeLog(dir, 'a/booking/R1.jsonl', [...a, ...a2]);
    writeLog(dir, 'b/booking/R1.jsonl', b);
    writeLog(dir, 'whole/booking/R1.jsonl', [...a, ...b, ...a2]);
    const whole = (await metricsJson(dir, ['whole', ...ARGS], env)).report;
    const w = whole.workflows[0]!;
    expect(w.runs).toMatchObject({ started: 1, succeeded: 1 });
    // From the event (minute 9) to `reply`'s success in the middle part (minute 71); the cycle to the end (minute 132).
    near(w.response_seconds.p50, 62 * 60);
    near(w.cycle_seconds.p50, 123 * 60);
    expect(w.reclaimed_hours).toBeCloseTo(0.2, 6);
    expect(w.steps.map((s) => [s.step, s.finished])).toEqual([['ask', 1], ['reply', 1], ['close', 1]]);
    // Both orders of the directories, so the first daemon's file (start and end) is read before and after the middle part.
    for (const order of [['a', 'b'], ['b', 'a']]) {
      const r = await metricsJson(dir, [...order, ...ARGS], { ...env, FLUX_METRICS_THREADS: '0' });
      expect(figures(r.report)).toEqual(figures(whole));
      const pooled = await metricsJson(dir, [...order, ...ARGS], { ...env, FLUX_METRICS_THREADS: '1', FLUX_METRICS_STRIPED: '1' });
      expect(figures(pooled.report)).toEqual(figures(whole));
    }
  });

  it('a part without its start is not counted and says which log is missing; a part without its end is a run in progress', async () => {
    const dir = tempDir();
    const env = clockEnv(dir, '2026-11-16T03:00:00.000Z');
    const head: RunHead = { run: 'R7', workflow: 'relay', owner: 'ops@example.com' };
    writeLog(dir, 'a/relay/R7.jsonl', [started(head, 60, { daemon: 'a', attempt: 1 }), ...step(head, 'first', 61, { method: 'POST' }), record(head, 'step.started', 62, { step: 'slow', path: 'slow', attempt: 1, idempotency_key: 'R7:slow' })]);
    writeLog(dir, 'b/relay/R7.jsonl', [record(head, 'run.resumed', 170, { attempt: 2, replayable: 1, daemon: 'b', reason: 'rescue', previous_elsewhere: true }), ...step(head, 'slow', 171, { method: 'POST' })]);

    // Only the second daemon's directory: records of a run whose start is elsewhere.
    const onlyB = await metricsJson(dir, ['b', '--stale-after', '1h'], env);
    expect(onlyB.report.totals.runs.started).toBe(0);
    expect(onlyB.report.warnings).toEqual([{ file: join('b', 'relay', 'R7.jsonl'), line: null, message: expect.stringContaining('run R7 of workflow "relay": a part of its log that resumes it, without the part that holds its run.started') }]);
    expect(onlyB.report.warnings[0]!.message).toContain("give that daemon's log directory too");

    // Only the first: a run whose daemon died mid-step, its last record two hours old: stalled, once.
    const onlyA = await metricsJson(dir, ['a', '--stale-after', '1h'], env);
    expect(onlyA.report.totals.runs).toMatchObject({ started: 1, stalled: 1, running: 0 });
    expect(onlyA.report.leaked_runs).toEqual([expect.objectContaining({ run_id: 'R7', last_step: 'slow' })]);

    // Both, the run still going (no end yet) in the second daemon's part, read in-process and pooled: running, once, each step once.
    for (const threads of ['0', '1']) {
      const both = await metricsJson(dir, ['a', 'b', '--stale-after', '1h'], { ...env, FLUX_METRICS_THREADS: threads, FLUX_METRICS_STRIPED: '1' });
      expect(both.report.warnings).toEqual([]);
      expect(both.report.totals.runs).toMatchObject({ started: 1, running: 1, stalled: 0 });
      expect(both.report.workflows[0]!.steps.map((s) => [s.step, s.finished])).toEqual([['first', 1], ['slow', 1]]);
    }
  });
});

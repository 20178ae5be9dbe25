// Resume by replay: a later attempt of a run walks the workflow again, completed steps return
// their journaled outcome without running (or being recorded) again, and the first step not
// completed runs with the same idempotency key. Attempt 1 is cut off mid-step, as a crash
// would leave it: its log and journal are what was written up to that instant.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttp } from '../../src/connectors/http.js';
import { SkippingClock } from '../../src/engine/clock.js';
import { runWorkflow } from '../../src/engine/run.js';
import type { JournaledDraw, JournaledStep, RunResult } from '../../src/engine/types.js';
import { Masker } from '../../src/secrets/masker.js';
import { MemoryJournal, type RunRecord } from '../../src/store/run-log.js';
import { parseSource } from '../../src/workflow/source.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { HEAD, validateRecord } from './harness.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!condition()) throw new Error('condition never held');
}

interface AttemptOptions {
  readonly signal?: AbortSignal;
  readonly clock?: SkippingClock;
  readonly durableWaits?: boolean;
  readonly deliver?: { event: string; payload: unknown };
  /** The run's journaled draws: read back by each attempt, and added to as it draws. */
  readonly draws?: Map<string, number>;
}

/** One attempt of run RUN1; records go to `log`, completed steps to `journal` (a later entry for a key replaces an earlier one, as in a store). */
async function attempt(yaml: string, n: number, log: RunRecord[], journal: JournaledStep[], options: AttemptOptions = {}): Promise<RunResult> {
  const parsed = parseSource('test.yaml', yaml);
  if (!parsed.ok) throw new Error('does not parse');
  const value = parsed.source.value;
  const http = await createHttp({ userAgent: 'flux-test' });
  const records = new MemoryJournal();
  try {
    return await runWorkflow({
      workflow: { file: 'test.yaml', value, name: String(value.name), owner: String(value.owner), version: 'sha256:test', baseline: null },
      event: {}, trigger: 'manual', secrets: {}, environment: {}, connectors: { http }, clock: options.clock ?? new SkippingClock(), journal: records,
      masker: new Masker(), runId: 'RUN1', attempt: n, resume: n > 1, history: new Map(journal.map((j) => [j.key, j])),
      onStepCompleted: (j) => void journal.push(j), onRecord: (r) => log.push(r), ...(options.signal ? { signal: options.signal } : {}),
      ...(options.durableWaits ? { durableWaits: true } : {}), ...(options.deliver ? { deliver: options.deliver } : {}),
      ...(options.draws ? { draws: new Map(options.draws), onDraw: (d: JournaledDraw) => void options.draws?.set(d.key, d.value) } : {}),
    });
  } finally {
    await http.close?.();
  }
}

/** Runs attempt 1 until `crashAt` holds, keeps only what was written by then, then attempt 2. */
async function crashAndResume(yaml: string, crashAt: () => boolean) {
  const log: RunRecord[] = [];
  const journal: JournaledStep[] = [];
  const controller = new AbortController();
  const first = attempt(yaml, 1, log, journal, { signal: controller.signal });
  await until(crashAt);
  const logAtCrash = [...log];
  const journalAtCrash = [...journal];
  controller.abort();
  await first;
  const resumedLog = [...logAtCrash];
  const result = await attempt(yaml, 2, resumedLog, journalAtCrash);
  return { result, log: resumedLog };
}

function finishedOnce(log: RunRecord[]): void {
  const seen = new Set<string>();
  for (const r of log) expect(validateRecord(r), `${JSON.stringify(r)}: ${JSON.stringify(validateRecord.errors)}`).toBe(true);
  for (const r of log) {
    if (r.type !== 'step.finished') continue;
    const key = `${r.path}#${JSON.stringify(r.index ?? [])}`;
    expect(seen.has(key), `${key} finished twice`).toBe(false);
    seen.add(key);
  }
  expect(log.filter((r) => r.type === 'run.started')).toHaveLength(1);
  expect(log.filter((r) => r.type === 'run.resumed')).toEqual([expect.objectContaining({ attempt: 2 })]);
  expect(log.filter((r) => r.type === 'run.finished')).toHaveLength(1);
}

describe('resume by replay', () => {
  it('does not call completed steps again, and re-runs the interrupted one with the same idempotency key', async () => {
    server.script('POST /a', { status: 201, body: { id: 'a-1' } });
    server.script('POST /b', { status: 200, body: { late: true }, delayMs: 60_000 }, { status: 200, body: { ok: true } });
    server.script('POST /c', { status: 200, body: {} });
    const yaml = `${HEAD}steps:
  - id: a
    uses: http
    with: { url: "${server.url}/a", method: POST }
  - id: skip
    if: \${{ false }}
    set: { x: 1 }
  - id: b
    uses: http
    with: { url: "${server.url}/b", method: POST, json: { from: "\${{ steps.a.output.body.id }}" } }
  - id: c
    uses: http
    with: { url: "${server.url}/c", method: POST, json: { a: "\${{ steps.a.output.body.id }}", b: "\${{ steps.b.output.body.ok }}" } }
`;
    const { result, log } = await crashAndResume(yaml, () => server.received.some((r) => r.path === '/b'));
    expect(result.status).toBe('succeeded');
    const calls = (path: string) => server.received.filter((r) => r.path === path);
    expect(calls('/a')).toHaveLength(1);
    expect(calls('/b')).toHaveLength(2);
    expect(calls('/b')[1]!.headers['idempotency-key']).toBe(calls('/b')[0]!.headers['idempotency-key']);
    expect(JSON.parse(calls('/b')[1]!.body)).toEqual({ from: 'a-1' });
    expect(JSON.parse(calls('/c')[0]!.body)).toEqual({ a: 'a-1', b: true });
    expect(result.steps.map((s) => [s.step, s.replayed === true])).toEqual([['a', true], ['skip', true], ['b', false], ['c', false]]);
    finishedOnce(log);
  });

  it('resumes a foreach per item', async () => {
    server.script('POST /item', { status: 200, body: { n: 1 } }, { status: 200, body: { n: 2 } }, { status: 200, body: {}, delayMs: 60_000 }, { status: 200, body: { n: 3 } });
    const yaml = `${HEAD}steps:
  - id: each
    foreach:
      items: [10, 20, 30, 40]
      steps:
        - id: post
          uses: http
          with: { url: "${server.url}/item", method: POST, json: { v: "\${{ item }}" } }
  - id: sum
    set: { got: "\${{ steps.each.output.map(o, o.post.body.n) }}" }
`;
    const { result, log } = await crashAndResume(yaml, () => server.received.filter((r) => r.path === '/item').length === 3);
    expect(result.status).toBe('succeeded');
    const bodies = server.received.filter((r) => r.path === '/item').map((r) => [JSON.parse(r.body).v, r.headers['idempotency-key']]);
    expect(bodies).toEqual([[10, 'RUN1:post:0'], [20, 'RUN1:post:1'], [30, 'RUN1:post:2'], [30, 'RUN1:post:2'], [40, 'RUN1:post:3']]);
    const sum = log.find((r) => r.type === 'step.finished' && r.step === 'sum');
    expect(sum).toMatchObject({ output: { got: [1, 2, 3, 3] } });
    finishedOnce(log);
  });

  it('does not emit a replayed emit again, and exposes the attempt to expressions', async () => {
    const yaml = `${HEAD}steps:
  - id: tell
    emit: { event: lead.qualified, data: { id: 1 } }
  - id: which
    set: { attempt: "\${{ run.attempt }}" }
`;
    const log: RunRecord[] = [];
    const journal: JournaledStep[] = [];
    await attempt(yaml, 1, log, journal);
    expect(log.filter((r) => r.type === 'event.emitted')).toHaveLength(1);
    const resumedLog: RunRecord[] = [];
    const resumed = await attempt(yaml, 2, resumedLog, journal.filter((j) => j.step === 'tell'));
    expect(resumed.emitted).toEqual([]);
    expect(resumedLog.filter((r) => r.type === 'event.emitted')).toEqual([]);
    expect(resumedLog.find((r) => r.type === 'step.finished' && r.step === 'which')).toMatchObject({ output: { attempt: 2 } });
  });

  it('stops and fails the run when a completed step cannot be journaled', async () => {
    server.script('POST /a', { status: 200, body: {} });
    server.script('POST /b', { status: 200, body: {} });
    const parsed = parseSource('test.yaml', `${HEAD}steps:\n  - id: a\n    uses: http\n    with: { url: "${server.url}/a", method: POST }\n  - id: b\n    uses: http\n    with: { url: "${server.url}/b", method: POST }\n`);
    if (!parsed.ok) throw new Error('does not parse');
    const value = parsed.source.value;
    const http = await createHttp({ userAgent: 'flux-test' });
    const records = new MemoryJournal();
    const result = await runWorkflow({
      workflow: { file: 'test.yaml', value, name: 't', owner: 'ops@example.com', version: 'sha256:test', baseline: null },
      event: {}, trigger: 'manual', secrets: {}, environment: {}, connectors: { http }, clock: new SkippingClock(), journal: records,
      masker: new Masker(), runId: 'RUN1', onStepCompleted: () => Promise.reject(new Error('database is locked')),
    }).finally(() => http.close?.());
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe("cannot journal the run's progress: database is locked");
    expect(server.received.map((r) => r.path)).toEqual(['/a']);
    expect(records.records.filter((r) => r.type === 'run.finished')).toHaveLength(1);
  });
});

describe('durable waits', () => {
  /** A clock the test moves by hand: the attempt in between holds no timer. */
  function manualClock(start: number) {
    let now = start;
    const clock = new SkippingClock(() => now);
    return { clock, advance: (ms: number) => (now += ms), now: () => now };
  }
  const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
  const hours = (h: number) => h * 3_600_000;

  it('a 48-hour wait ends the attempt waiting, survives an early resume, and finishes once its time has come', async () => {
    server.script('POST /chase', { status: 200, body: {} });
    const yaml = `${HEAD}steps:
  - id: before
    set: { at: "\${{ run.attempt }}" }
  - id: reply
    wait: 48h
  - id: chase
    uses: http
    with: { url: "${server.url}/chase", method: POST }
`;
    const time = manualClock(T0);
    const log: RunRecord[] = [];
    const journal: JournaledStep[] = [];
    const first = await attempt(yaml, 1, log, journal, { clock: time.clock, durableWaits: true });
    expect(first.status).toBe('waiting');
    expect(first.waiting).toEqual({ step: 'reply', key: 'reply', path: 'reply', wake_at: '2026-11-26T09:00:00.000Z' });
    expect(log.at(-1)).toMatchObject({ type: 'run.waiting', step: 'reply', wake_at: '2026-11-26T09:00:00.000Z' });
    expect(log.some((r) => r.type === 'run.finished')).toBe(false);

    time.advance(hours(20)); // a restart, 20 hours in: the wait keeps its end
    const early = await attempt(yaml, 2, log, journal, { clock: time.clock, durableWaits: true });
    expect(early.waiting?.wake_at).toBe('2026-11-26T09:00:00.000Z');
    expect(server.received).toHaveLength(0);

    time.advance(hours(28));
    const done = await attempt(yaml, 3, log, journal, { clock: time.clock, durableWaits: true });
    expect(done.status).toBe('succeeded');
    expect(server.received.map((r) => r.path)).toEqual(['/chase']);
    const reply = log.find((r) => r.type === 'step.finished' && r.step === 'reply');
    expect(reply).toMatchObject({ duration_ms: hours(48), output: { waited_ms: hours(48), until: '2026-11-26T09:00:00.000Z' } });
    for (const r of log) expect(validateRecord(r), `${JSON.stringify(r)}: ${JSON.stringify(validateRecord.errors)}`).toBe(true);
    expect(log.filter((r) => r.type === 'step.started' && r.step === 'reply')).toHaveLength(1);
    expect(log.filter((r) => r.type === 'step.finished' && r.step === 'before')).toHaveLength(1);
    expect(log.filter((r) => r.type === 'run.finished')).toHaveLength(1);
  });

  it('run.started_at is when the first attempt started, on every attempt, not when the run woke', async () => {
    const yaml = `${HEAD}steps:
  - id: before
    set: { at: "\${{ run.started_at }}" }
  - id: reply
    wait: 48h
  - id: after
    set: { at: "\${{ run.started_at }}" }
`;
    const time = manualClock(T0);
    const log: RunRecord[] = [];
    const journal: JournaledStep[] = [];
    const draws = new Map<string, number>();
    expect((await attempt(yaml, 1, log, journal, { clock: time.clock, durableWaits: true, draws })).status).toBe('waiting');
    expect(draws).toEqual(new Map([['run.started_at', T0]]));
    time.advance(hours(48));
    expect((await attempt(yaml, 2, log, journal, { clock: time.clock, durableWaits: true, draws })).status).toBe('succeeded');
    const at = (step: string) => log.find((r) => r.type === 'step.finished' && r.step === step);
    expect(at('before')).toMatchObject({ output: { at: '2026-11-24T09:00:00.000Z' } });
    expect(at('after')).toMatchObject({ output: { at: '2026-11-24T09:00:00.000Z' } });
    expect(draws.size).toBe(1);
  });

  it('a draw that cannot be journaled stops the run before its first step', async () => {
    server.script('POST /a', { status: 200, body: {} });
    const parsed = parseSource('test.yaml', `${HEAD}steps:\n  - id: a\n    uses: http\n    with: { url: "${server.url}/a", method: POST, json: { at: "\${{ run.started_at }}" } }\n`);
    if (!parsed.ok) throw new Error('does not parse');
    const value = parsed.source.value;
    const http = await createHttp({ userAgent: 'flux-test' });
    const result = await runWorkflow({
      workflow: { file: 'test.yaml', value, name: 't', owner: 'ops@example.com', version: 'sha256:test', baseline: null },
      event: {}, trigger: 'manual', secrets: {}, environment: {}, connectors: { http }, clock: new SkippingClock(), journal: new MemoryJournal(),
      masker: new Masker(), runId: 'RUN1', onDraw: () => Promise.reject(new Error('disk I/O error')),
    }).finally(() => http.close?.());
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe("cannot journal the run's progress: disk I/O error");
    expect(server.received).toEqual([]);
  });

  it('a wait_for resumes with the event that matches, and keeps waiting for one that does not', async () => {
    const yaml = `${HEAD}steps:
  - id: answer
    wait_for: { event: reply.received, match: "\${{ item.booking == 7 }}", timeout: 2d }
  - id: got
    set: { from: "\${{ steps.answer.output.event.from }}" }
`;
    const time = manualClock(T0);
    const log: RunRecord[] = [];
    const journal: JournaledStep[] = [];
    const first = await attempt(yaml, 1, log, journal, { clock: time.clock, durableWaits: true });
    expect(first.waiting).toEqual({ step: 'answer', key: 'answer', path: 'answer', wake_at: '2026-11-26T09:00:00.000Z', event: 'reply.received' });
    time.advance(hours(1));
    const other = await attempt(yaml, 2, log, journal, { clock: time.clock, durableWaits: true, deliver: { event: 'reply.received', payload: { booking: 8, from: 'bob' } } });
    expect(other.status).toBe('waiting');
    const matched = await attempt(yaml, 3, log, journal, { clock: time.clock, durableWaits: true, deliver: { event: 'reply.received', payload: { booking: 7, from: 'ann' } } });
    expect(matched.status).toBe('succeeded');
    expect(log.find((r) => r.type === 'step.finished' && r.step === 'got')).toMatchObject({ output: { from: 'ann' } });
  });

  it('a wait_for whose timeout passed while nothing ran resumes timed out, or fails as on_timeout says', async () => {
    for (const [onTimeout, status] of [['', 'succeeded'], ['\n      on_timeout: fail', 'failed']] as const) {
      const yaml = `${HEAD}steps:
  - id: answer
    wait_for:
      event: reply.received
      timeout: 2d${onTimeout}
  - id: after
    set: { timed_out: "\${{ steps.answer.output.timed_out }}" }
`;
      const time = manualClock(T0);
      const log: RunRecord[] = [];
      const journal: JournaledStep[] = [];
      await attempt(yaml, 1, log, journal, { clock: time.clock, durableWaits: true });
      time.advance(hours(24 * 5)); // the daemon was down for five days
      const resumed = await attempt(yaml, 2, log, journal, { clock: time.clock, durableWaits: true });
      expect(resumed.status).toBe(status);
      if (status === 'succeeded') expect(log.find((r) => r.type === 'step.finished' && r.step === 'after')).toMatchObject({ output: { timed_out: true } });
      else expect(resumed.error?.message).toBe('no `reply.received` event arrived within 2d');
    }
  });
});

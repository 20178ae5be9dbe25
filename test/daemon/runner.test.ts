// The runner against a real SQLite store, a real run log and a real HTTP server: a run goes
// from queued to succeeded through the store; a daemon killed with SIGKILL mid-step loses its
// lease, and another daemon rescues the run and resumes it by replay; a durable wait parks the
// run in the store and a later claim finishes it.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnectors } from '../../src/connectors/index.js';
import { SkippingClock } from '../../src/engine/clock.js';
import { abandonment, runClaimed, type RunnerDeps } from '../../src/daemon/runner.js';
import type { ClaimedRun } from '../../src/store/store.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { readRunLog } from '../../src/store/run-log.js';
import { validateRecord } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';

let server: TestServer;
let dir: string;
let store: SqliteStore;
beforeEach(async () => {
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-runner-'));
  store = await openSqliteStore({ path: join(dir, 'flux.db'), now: Date.now });
});
afterEach(async () => {
  await store.close();
  await server.close();
});

const WORKFLOW = (url: string) => `name: handoff
owner: ops@example.com
trigger: manual
steps:
  - id: a
    uses: http
    with: { url: "${url}/a", method: POST }
  - id: b
    uses: http
    with: { url: "${url}/b", method: POST, json: { a: "\${{ steps.a.output.body.id }}" } }
  - id: c
    uses: http
    with: { url: "${url}/c", method: POST }
`;

async function enqueue(text: string, id = 'RUN1'): Promise<void> {
  await store.putWorkflowVersion({ hash: 'sha256:v1', name: 'handoff', text, createdAt: Date.now() });
  await store.enqueueRun({ id, workflow: 'handoff', workflowVersion: 'sha256:v1', trigger: 'webhook', event: {}, receivedAt: Date.now() }, Date.now());
}

async function deps(owner: string, clock = new SkippingClock()): Promise<RunnerDeps> {
  return { store, owner, leaseMs: 60_000, clock, connectors: await createConnectors({ userAgent: 'flux-test' }), logDir: join(dir, 'logs'), secrets: {}, environment: {} };
}

function logOf(id: string) {
  const log = readRunLog(join(dir, 'logs', 'handoff', `${id}.jsonl`));
  for (const r of log.records) expect(validateRecord(r), JSON.stringify(r)).toBe(true);
  return log;
}

describe('the runner', () => {
  it('runs a claimed run to the end and records it in the store and the run log', async () => {
    server.script('POST /a', { status: 201, body: { id: 'x' } });
    server.script('POST /b', { status: 200, body: {} });
    server.script('POST /c', { status: 200, body: {} });
    await enqueue(WORKFLOW(server.url));
    const [claim] = await store.claimRuns('daemon-a', 1, 60_000, Date.now());
    const outcome = await runClaimed(claim!, await deps('daemon-a'));
    expect(outcome).toMatchObject({ kind: 'ran', result: { status: 'succeeded' } });
    expect((await store.getRun('RUN1'))?.status).toBe('succeeded');
    expect((await store.journalFor('RUN1')).map((e) => [e.kind, e.key])).toEqual([['time', 'run.started_at'], ['step', 'a'], ['step', 'b'], ['step', 'c']]);
    expect(logOf('RUN1').records.map((r) => r.type)).toEqual(['run.started', ...Array(3).fill(['step.started', 'step.finished']).flat(), 'run.finished']);
  });

  it('after kill -9 mid-step, another daemon rescues the run and resumes it with the same idempotency key', async () => {
    server.script('POST /a', { status: 201, body: { id: 'x' } });
    server.script('POST /b', { status: 200, body: {}, delayMs: 60_000 }, { status: 200, body: { ok: true } });
    server.script('POST /c', { status: 200, body: {} });
    await enqueue(WORKFLOW(server.url));
    const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures/run-claimed.mjs'), join(dir, 'flux.db'), join(dir, 'logs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    for (let i = 0; i < 2000 && !server.received.some((r) => r.path === '/b'); i++) await new Promise((r) => setTimeout(r, 5));
    expect(server.received.some((r) => r.path === '/b'), 'daemon A never reached step b').toBe(true);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    // Daemon A's lease (60 s) has not lapsed yet: nothing to claim. Past it, B rescues the run.
    expect(await store.claimRuns('daemon-b', 1, 60_000, Date.now())).toEqual([]);
    const [claim] = await store.claimRuns('daemon-b', 1, 60_000, Date.now() + 61_000);
    expect(claim).toMatchObject({ reason: 'rescue', run: { id: 'RUN1', attempt: 2 } });
    const outcome = await runClaimed(claim!, await deps('daemon-b', new SkippingClock(() => Date.now() + 61_000)));
    expect(outcome).toMatchObject({ kind: 'ran', result: { status: 'succeeded' } });

    const calls = (path: string) => server.received.filter((r) => r.path === path);
    expect(calls('/a')).toHaveLength(1);
    expect(calls('/b')).toHaveLength(2);
    expect(calls('/b')[1]!.headers['idempotency-key']).toBe(calls('/b')[0]!.headers['idempotency-key']);
    expect(JSON.parse(calls('/b')[1]!.body)).toEqual({ a: 'x' });
    expect(calls('/c')).toHaveLength(1);
    const log = logOf('RUN1');
    expect(log.problems).toEqual([]);
    const types = log.records.map((r) => r.type);
    expect(types.filter((t) => t === 'run.started')).toHaveLength(1);
    expect(types.filter((t) => t === 'run.resumed')).toHaveLength(1);
    expect(types.filter((t) => t === 'run.finished')).toHaveLength(1);
    const finished = log.records.filter((r) => r.type === 'step.finished').map((r) => (r as { step: string }).step);
    expect(finished).toEqual(['a', 'b', 'c']);
    expect((await store.getRun('RUN1'))?.status).toBe('succeeded');
  });

  it('a journal write the store refuses (the database unreachable) hands the run back: not failed, resumed by the next claim', async () => {
    server.script('POST /a', { status: 201, body: { id: 'x' } });
    server.script('POST /b', { status: 200, body: {} });
    server.script('POST /c', { status: 200, body: {} });
    await enqueue(WORKFLOW(server.url));
    const [claim] = await store.claimRuns('daemon-a', 1, 1_000, Date.now());
    // The store cannot take the entry of step b: the connection to the database is gone.
    const cut: typeof store = Object.create(store);
    cut.recordStep = (owner, entry, emits) => (entry.key === 'b' ? Promise.reject(new Error('Connection terminated unexpectedly')) : store.recordStep(owner, entry, emits));
    const outcome = await runClaimed(claim!, { ...(await deps('daemon-a')), store: cut });
    expect(outcome).toEqual({ kind: 'lost' });
    expect((await store.getRun('RUN1'))?.status).toBe('running');
    expect(logOf('RUN1').records.map((r) => r.type)).not.toContain('run.finished');
    // Its lease lapses; another daemon takes it up from the journal: a replayed, b called again.
    const [rescue] = await store.claimRuns('daemon-b', 1, 60_000, Date.now() + 1_001);
    expect(rescue?.reason).toBe('rescue');
    expect(await runClaimed(rescue!, await deps('daemon-b'))).toMatchObject({ kind: 'ran', result: { status: 'succeeded' } });
    expect(server.received.map((r) => r.path)).toEqual(['/a', '/b', '/b', '/c']);
    expect(new Set(server.received.filter((r) => r.path === '/b').map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  it('parks a durable wait in the store and finishes it on a later claim, once it is due', async () => {
    server.script('POST /chase', { status: 200, body: {} });
    await enqueue(`name: handoff\nowner: ops@example.com\ntrigger: manual\nsteps:\n  - id: reply\n    wait: 48h\n  - id: chase\n    uses: http\n    with: { url: "${server.url}/chase", method: POST }\n`);
    let now = Date.UTC(2026, 10, 24, 9);
    const clock = new SkippingClock(() => now);
    const [first] = await store.claimRuns('daemon-a', 1, 60_000, now);
    expect(await runClaimed(first!, await deps('daemon-a', clock))).toMatchObject({ result: { status: 'waiting' } });
    expect(await store.getRun('RUN1')).toMatchObject({ status: 'waiting', wakeAt: Date.UTC(2026, 10, 26, 9) });
    now += 47 * 3_600_000;
    expect(await store.claimRuns('daemon-a', 1, 60_000, now)).toEqual([]);
    now += 3_600_000;
    const [woken] = await store.claimRuns('daemon-a', 1, 60_000, now);
    expect(woken?.reason).toBe('wake');
    expect(await runClaimed(woken!, await deps('daemon-a', clock))).toMatchObject({ result: { status: 'succeeded' } });
    expect(server.received.map((r) => r.path)).toEqual(['/chase']);
    const types = logOf('RUN1').records.map((r) => r.type);
    expect(types).toEqual(['run.started', 'step.started', 'run.waiting', 'run.resumed', 'step.finished', 'step.started', 'step.finished', 'run.finished']);
  });

  it('gives a run up past its resume budget: failed, escalated to its owner, nothing left running', async () => {
    server.script('POST /alerts', { status: 200, body: {} });
    await enqueue(`${WORKFLOW(server.url)}on_error:\n  escalate: { uses: http, with: { url: "${server.url}/alerts", method: POST } }\n`);
    // Four daemons claim the run and die before journaling anything (their leases lapse).
    let now = Date.now();
    for (const attempt of [1, 2, 3, 4]) {
      const [claim] = await store.claimRuns(`daemon-${attempt}`, 1, 60_000, now);
      expect(claim).toMatchObject({ reason: attempt === 1 ? 'start' : 'rescue', run: { attempt } });
      now += 61_000;
    }
    const [last] = await store.claimRuns('daemon-5', 1, 60_000, now);
    expect(last).toMatchObject({ reason: 'rescue', run: { attempt: 5 } });
    const outcome = await runClaimed(last!, { ...(await deps('daemon-5', new SkippingClock(() => now))), resumeBudget: 3 });
    const reason = 'abandoned after 4 crashed attempts: the daemon running it died each time (resume budget 3)';
    expect(outcome).toMatchObject({ kind: 'ran', result: { status: 'escalated', error: { message: reason } } });
    expect(server.received.map((r) => r.path)).toEqual(['/alerts']);
    expect(await store.getRun('RUN1')).toMatchObject({ status: 'escalated', error: { message: reason }, leaseOwner: null });
    expect(await store.listRuns({ status: 'running' })).toEqual([]);
    expect(logOf('RUN1').records.map((r) => r.type)).toEqual(['run.resumed', 'escalation', 'run.finished']);
  });
});

describe('the resume budget', () => {
  const claim = (reason: ClaimedRun['reason'], attempt: number) => ({ reason, run: { attempt } }) as unknown as ClaimedRun;
  it('lets a run be rescued `budget` times, gives it up on the next rescue, and calls nobody twice', () => {
    expect([1, 2, 3, 4].map((a) => abandonment(claim(a === 1 ? 'start' : 'rescue', a), 3))).toEqual([{}, {}, {}, {}]);
    expect(abandonment(claim('rescue', 5), 3)).toEqual({ abandon: { reason: 'abandoned after 4 crashed attempts: the daemon running it died each time (resume budget 3)', escalate: true } });
    expect(abandonment(claim('rescue', 6), 3)).toMatchObject({ abandon: { escalate: false } });
    expect(abandonment(claim('wake', 9), 3)).toEqual({});
    expect(abandonment(claim('rescue', 2), 0)).toMatchObject({ abandon: { reason: expect.stringContaining('after 1 crashed attempt:'), escalate: true } });
  });
});

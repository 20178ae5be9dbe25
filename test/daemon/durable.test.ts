// Durability of `flux daemon` as a real process, with real `kill -9`: runs waiting 48 hours
// survive a crash and resume once when their time comes; a wait_for whose timeout passed
// while no daemon ran resumes at start, timed out; a run keeps the workflow version it started
// with when the file is edited; and a run whose step kills its daemon every time is given up
// past the resume budget, failed and escalated, with nothing left `running`. Time is the test
// clock (FLUX_TEST_CLOCK), moved by rewriting a file: nothing here sleeps for the daemon.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { readRunLog, type RunRecord } from '../../src/store/run-log.js';
import type { RunRow } from '../../src/store/store.js';
import { validateRecord } from '../engine/harness.js';
import { BIN } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { spawnDaemon, type RunningDaemon } from './spawn-daemon.js';

// Several daemons are started and killed per test; each start takes a few hundred ms.
vi.setConfig({ testTimeout: 60_000 });

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const HOUR = 3_600_000;

let downstream: TestServer;
let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(async () => {
  downstream = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-durable-'));
  mkdirSync(join(dir, 'flows'));
  setClock(T0);
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await downstream.close();
});

/** Moves the daemons' time (they re-read the file within milliseconds). */
function setClock(ms: number): void {
  writeFileSync(join(dir, 'clock'), String(ms));
}

function flow(name: string, text: string): string {
  writeFileSync(join(dir, 'flows', `${name}.yaml`), text);
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

type Running = RunningDaemon;

/** Starts a daemon on a free port with the test clock; resolves once it listens. */
function daemon(...extra: string[]): Promise<Running> {
  return spawnDaemon({
    cwd: dir, children, args: ['flows', '--state-dir', 'state', '--port', '0', '--lease', '1s', '--grace', '2s', ...extra],
    env: { FLUX_TEST_CLOCK: join(dir, 'clock') },
  });
}

async function kill9(d: Running): Promise<void> {
  d.child.kill('SIGKILL');
  expect((await d.exit).signal).toBe('SIGKILL');
}

async function stop(d: Running): Promise<void> {
  d.child.kill('SIGTERM');
  expect((await d.exit).code).toBe(0);
}

/** Delivers an unsigned webhook; returns the run id the daemon answered 202 with. */
async function hook(url: string, path: string, event: unknown): Promise<string> {
  const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json' } });
  const body = await res.text();
  expect(res.status, body).toBe(202);
  return (JSON.parse(body) as { run_id: string }).run_id;
}

/** Polls (real time, bounded) until `done` holds; the daemon is another process. */
async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

/** The runs as the store has them (read with a second connection, as `flux runs` would). */
async function runs(ids: readonly string[]): Promise<RunRow[]> {
  const store = await openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: Date.now });
  try {
    return await Promise.all(ids.map(async (id) => (await store.getRun(id))!));
  } finally {
    await store.close();
  }
}

async function statusOf(ids: readonly string[], status: string): Promise<boolean> {
  return (await runs(ids)).every((r) => r.status === status);
}

/** A run's log, each record checked against the run-log schema. */
function logOf(workflow: string, id: string): RunRecord[] {
  const log = readRunLog(join(dir, 'state', 'logs', workflow, `${id}.jsonl`));
  expect(log.problems).toEqual([]);
  for (const r of log.records) expect(validateRecord(r), `${JSON.stringify(r)}: ${JSON.stringify(validateRecord.errors)}`).toBe(true);
  return log.records;
}

const count = (log: readonly RunRecord[], type: RunRecord['type'], step?: string) =>
  log.filter((r) => r.type === type && (step === undefined || (r as { step?: string }).step === step)).length;

describe('a daemon killed with SIGKILL', () => {
  it('mid-wait: every run waiting 48h resumes once when its time comes, each step finished once', async () => {
    downstream.script('POST /chase', { status: 200, body: {} });
    flow('remind', `name: remind
owner: ops@example.com
trigger:
  webhook: { path: /hooks/booking }
steps:
  - id: booked
    set: { id: "\${{ event.id }}" }
  - id: reply
    wait: 48h
  - id: chase
    uses: http
    with: { url: "${downstream.url}/chase", method: POST, json: { id: "\${{ steps.booked.output.id }}" } }
`);
    const first = await daemon();
    const ids = [await hook(first.url, '/hooks/booking', { id: 1 }), await hook(first.url, '/hooks/booking', { id: 2 }), await hook(first.url, '/hooks/booking', { id: 3 })];
    await until(() => statusOf(ids, 'waiting'), 'three runs waiting');
    expect((await runs(ids)).map((r) => r.wakeAt)).toEqual([T0 + 48 * HOUR, T0 + 48 * HOUR, T0 + 48 * HOUR]);
    await kill9(first);

    const second = await daemon();
    setClock(T0 + 48 * HOUR);
    await until(() => statusOf(ids, 'succeeded'), 'three runs succeeded');
    expect(downstream.received.map((r) => JSON.parse(r.body).id).sort()).toEqual([1, 2, 3]);
    for (const r of await runs(ids)) expect(r).toMatchObject({ attempt: 1, wakeAt: null, leaseOwner: null });
    for (const id of ids) {
      const log = logOf('remind', id);
      expect(count(log, 'run.started')).toBe(1);
      expect(count(log, 'run.waiting')).toBe(1);
      expect(count(log, 'run.resumed')).toBe(1);
      for (const step of ['booked', 'reply', 'chase']) expect(count(log, 'step.finished', step), `${id} ${step}`).toBe(1);
      expect(log.filter((r) => r.type === 'run.finished')).toEqual([expect.objectContaining({ status: 'succeeded' })]);
      expect(log.find((r) => r.type === 'step.finished' && r.step === 'reply')).toMatchObject({ output: { waited_ms: 48 * HOUR, until: '2026-11-26T09:00:00.000Z' } });
    }
    await stop(second);
  });

  it('a wait_for whose timeout passed while no daemon ran resumes at start, timed out', async () => {
    flow('answer', `name: answer
owner: ops@example.com
trigger:
  webhook: { path: /hooks/ask }
steps:
  - id: reply
    wait_for: { event: reply.received, timeout: 2d }
  - id: after
    set: { timed_out: "\${{ steps.reply.output.timed_out }}" }
`);
    const first = await daemon();
    const id = await hook(first.url, '/hooks/ask', {});
    await until(() => statusOf([id], 'waiting'), 'the run waiting');
    expect((await runs([id]))[0]).toMatchObject({ wakeAt: T0 + 48 * HOUR, waitingFor: { event: 'reply.received' } });
    await kill9(first);

    setClock(T0 + 72 * HOUR); // the daemon stays down a day past the timeout
    const second = await daemon();
    await until(() => statusOf([id], 'succeeded'), 'the run resumed and succeeded');
    const log = logOf('answer', id);
    expect(log.find((r) => r.type === 'step.finished' && r.step === 'reply')).toMatchObject({ status: 'succeeded', output: { timed_out: true, event: null } });
    expect(log.find((r) => r.type === 'step.finished' && r.step === 'after')).toMatchObject({ output: { timed_out: true } });
    expect(count(log, 'run.resumed')).toBe(1);
    expect(count(log, 'run.finished')).toBe(1);
    await stop(second);
  });
});

describe('a workflow edited while a run waits', () => {
  it('the run finishes on the version it started with; new runs use the new one', async () => {
    downstream.script('POST /done', { status: 200, body: {} });
    const text = (version: string) => `name: versioned
owner: ops@example.com
trigger:
  webhook: { path: /hooks/v }
steps:
  - id: pause
    wait: 1h
  - id: done
    uses: http
    with: { url: "${downstream.url}/done", method: POST, json: { version: ${version} } }
`;
    const v1 = flow('versioned', text('v1'));
    const first = await daemon();
    const old = await hook(first.url, '/hooks/v', {});
    await until(() => statusOf([old], 'waiting'), 'the first run waiting');
    await stop(first);

    const v2 = flow('versioned', text('v2'));
    expect(v2).not.toBe(v1);
    const second = await daemon();
    const fresh = await hook(second.url, '/hooks/v', {});
    await until(() => statusOf([fresh], 'waiting'), 'the second run waiting');
    setClock(T0 + HOUR);
    await until(() => statusOf([old, fresh], 'succeeded'), 'both runs succeeded');

    expect(downstream.received.map((r) => JSON.parse(r.body).version).sort()).toEqual(['v1', 'v2']);
    const [oldRow, freshRow] = await runs([old, fresh]);
    expect(oldRow?.workflowVersion).toBe(v1);
    expect(freshRow?.workflowVersion).toBe(v2);
    const sent = (id: string) => downstream.received.find((r) => r.headers['idempotency-key'] === `${id}:done`);
    expect(JSON.parse(sent(old)!.body)).toEqual({ version: 'v1' });
    expect(JSON.parse(sent(fresh)!.body)).toEqual({ version: 'v2' });
    expect(new Set(logOf('versioned', old).map((r) => r.workflow_version))).toEqual(new Set([v1]));
    expect(new Set(logOf('versioned', fresh).map((r) => r.workflow_version))).toEqual(new Set([v2]));
    await stop(second);
  });
});

/** A server whose /boom kills the current daemon with SIGKILL, as a step that crashes its process would; /alerts is the owner. */
async function startKiller(): Promise<{ url: string; boom: string[]; alerts: string[]; arm(pid: number | undefined): void; close(): Promise<void> }> {
  const boom: string[] = [];
  const alerts: string[] = [];
  // The daemon to kill; a /boom that arrives before the test names it kills it when named.
  let target: number | undefined;
  let pending = false;
  const kill = () => {
    if (target === undefined) pending = true;
    else process.kill(target, 'SIGKILL');
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/boom') {
        boom.push(String(req.headers['idempotency-key']));
        kill();
        return; // never answered: the caller is dead
      }
      alerts.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, boom, alerts,
    arm: (pid) => {
      target = pid;
      if (pending) {
        pending = false;
        kill();
      }
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('the resume budget', () => {
  it('a step that kills its daemon every time: after 3 resumes the run is failed and escalated, nothing left running', async () => {
    const killer = await startKiller();
    try {
      flow('crashy', `name: crashy
owner: ops@example.com
trigger:
  webhook: { path: /hooks/crash }
steps:
  - id: boom
    uses: http
    with: { url: "${killer.url}/boom", method: POST }
on_error:
  escalate: { uses: http, with: { url: "${killer.url}/alerts", method: POST } }
`);
      let now = T0;
      let id = '';
      // Attempt 1 and three resumes: each daemon dies in the step. The next daemon starts once
      // the dead one's lease (1 s of test time) has lapsed.
      for (let attempt = 1; attempt <= 4; attempt++) {
        const d = await daemon();
        // Armed after the 202 arrives: the step's kill must not beat the answer to the test.
        if (attempt === 1) id = await hook(d.url, '/hooks/crash', {});
        killer.arm(d.child.pid);
        expect((await d.exit).signal).toBe('SIGKILL');
        expect(killer.boom).toHaveLength(attempt);
        expect((await runs([id]))[0]).toMatchObject({ status: 'running', attempt });
        now += 2_000;
        setClock(now);
      }
      // The fourth rescue is past the budget: the run is given up, the step is not called again.
      const last = await daemon();
      killer.arm(last.child.pid);
      await until(async () => (await runs([id]))[0]?.status !== 'running', 'the run given up');
      const reason = 'abandoned after 4 crashed attempts: the daemon running it died each time (resume budget 3)';
      expect((await runs([id]))[0]).toMatchObject({ status: 'escalated', attempt: 5, error: { message: reason }, leaseOwner: null });
      expect(killer.boom).toEqual(Array(4).fill(`${id}:boom`));
      expect(killer.alerts).toHaveLength(1);
      expect(JSON.parse(killer.alerts[0]!)).toMatchObject({ text: `flux: workflow crashy failed: ${reason}`, run_id: id });

      const store = await openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: Date.now });
      try {
        expect(await store.listRuns({ status: 'running' })).toEqual([]);
      } finally {
        await store.close();
      }
      const log = logOf('crashy', id);
      expect(log.filter((r) => r.type === 'run.resumed').map((r) => (r as { attempt: number }).attempt)).toEqual([2, 3, 4, 5]);
      expect(count(log, 'step.started', 'boom')).toBe(4);
      expect(count(log, 'step.finished')).toBe(0);
      expect(log.slice(-3).map((r) => r.type)).toEqual(['run.resumed', 'escalation', 'run.finished']);
      expect(log.at(-2)).toMatchObject({ via: 'http', delivered: true, error: { message: reason } });
      expect(log.at(-1)).toMatchObject({ status: 'escalated', error: { message: reason } });
      await until(() => last.output().split('\n').some((l) => l.includes(`run ${id} crashy escalated in `) && l.endsWith(`: ${reason}`)), 'the daemon logging the give-up');
      expect(last.output()).toContain(`run ${id} crashy resumed after its daemon stopped (attempt 5)`);
      await stop(last);
    } finally {
      await killer.close();
    }
  });

  it('--resume-budget sets it; a bad value is a usage error naming the flag', async () => {
    const bad = spawn(process.execPath, [BIN, 'daemon', 'flows', '--state-dir', 'state', '--resume-budget', 'lots'], { cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' } });
    let stderr = '';
    bad.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => bad.on('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('--resume-budget takes a whole number from 0, not `lots`');
    expect(stderr).not.toMatch(/\n\s+at /);

    const killer = await startKiller();
    try {
      flow('crashy', `name: crashy\nowner: ops@example.com\ntrigger:\n  webhook: { path: /hooks/crash }\nsteps:\n  - id: boom\n    uses: http\n    with: { url: "${killer.url}/boom", method: POST }\n`);
      const d = await daemon('--resume-budget', '0');
      const id = await hook(d.url, '/hooks/crash', {});
      killer.arm(d.child.pid);
      expect((await d.exit).signal).toBe('SIGKILL');
      setClock(T0 + 2_000);
      const next = await daemon('--resume-budget', '0');
      await until(async () => (await runs([id]))[0]?.status === 'failed', 'the run failed at its first rescue');
      expect((await runs([id]))[0]?.error?.message).toBe('abandoned after 1 crashed attempt: the daemon running it died each time (resume budget 0)');
      expect(killer.boom).toHaveLength(1);
      // No escalation connection: the log says the owner could not be reached.
      expect(logOf('crashy', id).find((r) => r.type === 'escalation')).toMatchObject({ via: 'none', delivered: false });
      await stop(next);
    } finally {
      await killer.close();
    }
  });
});

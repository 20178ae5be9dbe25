// `flux daemon` as a real process: it refuses to start on lint errors and on a state directory
// another daemon holds; it answers a signed webhook 202 and runs it; SIGTERM stops it cleanly;
// and a daemon killed with SIGKILL mid-step leaves a run that the next daemon resumes from the
// journal, calling completed steps no second time and the interrupted one with the same
// idempotency key.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readRunLog } from '../../src/store/run-log.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRow } from '../../src/store/store.js';
import { BIN } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';

const SECRET = 'gh-webhook-secret-1';
let downstream: TestServer;
let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(async () => {
  downstream = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-daemon-'));
  mkdirSync(join(dir, 'flows'));
  writeFileSync(join(dir, 'flows', 'leads.yaml'), `name: leads
owner: ops@example.com
trigger:
  webhook:
    path: /hooks/leads
    signature: { scheme: github, secret: "\${{ secrets.GH_SECRET }}" }
secrets: [GH_SECRET]
steps:
  - id: a
    uses: http
    with: { url: "${downstream.url}/a", method: POST }
  - id: b
    uses: http
    with: { url: "${downstream.url}/b", method: POST, json: { email: "\${{ event.email }}" } }
on_error:
  escalate: { uses: http, with: { url: "${downstream.url}/alerts", method: POST } }
`);
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await downstream.close();
});

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  output(): string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a daemon on a free port and resolves once it prints where it listens (or exits). */
function daemon(...extra: string[]): Promise<Running | { code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'daemon', 'flows', '--state-dir', 'state', '--port', '0', '--lease', '1s', '--grace', '2s', '--allow-silent', ...extra], {
    cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', GH_SECRET: SECRET },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m) resolve({ child, url: m[1]!, output: () => stdout, exit });
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    void exit.then(({ code }) => resolve({ code, stdout, stderr }));
  });
}

function started(r: Awaited<ReturnType<typeof daemon>>): Running {
  if (!('url' in r)) throw new Error(`the daemon did not start: exit ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}

async function deliver(url: string, event: unknown): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(event);
  const res = await fetch(`${url}/hooks/leads`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
  });
  return { status: res.status, body: await res.text() };
}

/** The run as the store has it, once `done` holds (polled: the daemon is another process). */
async function runWhen(id: string, done: (run: RunRow | undefined) => boolean): Promise<RunRow | undefined> {
  const store = await openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: Date.now });
  try {
    for (let i = 0; i < 400; i++) {
      const run = await store.getRun(id);
      if (done(run)) return run;
      await new Promise((r) => setTimeout(r, 25));
    }
    return store.getRun(id);
  } finally {
    await store.close();
  }
}

describe('flux daemon', () => {
  it('answers a signed webhook 202, runs it, and stops cleanly on SIGTERM', async () => {
    downstream.script('POST /a', { status: 200, body: {} });
    downstream.script('POST /b', { status: 200, body: {} });
    const d = started(await daemon());
    const res = await deliver(d.url, { email: 'ann@example.com' });
    expect(res.status).toBe(202);
    const { run_id: id } = JSON.parse(res.body) as { run_id: string };
    expect(await runWhen(id, (r) => r?.status === 'succeeded')).toMatchObject({ status: 'succeeded', attempt: 1 });
    expect(JSON.parse(downstream.received.find((r) => r.path === '/b')!.body)).toEqual({ email: 'ann@example.com' });
    d.child.kill('SIGTERM');
    expect(await d.exit).toEqual({ code: 0, signal: null });
    expect(d.output()).toMatch(new RegExp(`run ${id} leads succeeded`));
    expect(d.output()).toMatch(/SIGTERM: stopping intake/);
  });

  it('refuses a second daemon on the same state directory, naming the first', async () => {
    const first = started(await daemon());
    const second = await daemon();
    expect('url' in second).toBe(false);
    expect(second).toMatchObject({ code: 2 });
    expect((second as { stderr: string }).stderr).toContain(`another flux daemon (pid ${first.child.pid}) uses the state directory`);
    first.child.kill('SIGTERM');
    expect((await first.exit).code).toBe(0);
  });

  it('does not start while a workflow has errors', async () => {
    writeFileSync(join(dir, 'flows', 'broken.yaml'), 'name: broken\nowner: ops@example.com\ntrigger: manual\nsteps:\n  - id: x\n    sett: { a: 1 }\n');
    const r = await daemon();
    expect(r).toMatchObject({ code: 2 });
    expect((r as { stderr: string }).stderr).toMatch(/flows\/broken\.yaml:6:5: unknown key `sett`/);
    expect((r as { stderr: string }).stderr).toContain('the daemon does not start while workflows have errors');
  });

  it('after kill -9 mid-step, the next daemon resumes the run from its journal', async () => {
    downstream.script('POST /a', { status: 201, body: { id: 'a-1' } });
    downstream.script('POST /b', { status: 200, body: {}, delayMs: 60_000 }, { status: 200, body: { ok: true } });
    const first = started(await daemon());
    const res = await deliver(first.url, { email: 'bob@example.com' });
    expect(res.status).toBe(202);
    const { run_id: id } = JSON.parse(res.body) as { run_id: string };
    for (let i = 0; i < 400 && !downstream.received.some((r) => r.path === '/b'); i++) await new Promise((r) => setTimeout(r, 25));
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    expect((await runWhen(id, () => true))?.status).toBe('running');

    const second = started(await daemon());
    expect(await runWhen(id, (r) => r?.status === 'succeeded')).toMatchObject({ status: 'succeeded', attempt: 2 });
    const calls = (path: string) => downstream.received.filter((r) => r.path === path);
    expect(calls('/a')).toHaveLength(1);
    expect(calls('/b')).toHaveLength(2);
    expect(calls('/b')[1]!.headers['idempotency-key']).toBe(calls('/b')[0]!.headers['idempotency-key']);
    expect(calls('/b')[1]!.body).toBe(calls('/b')[0]!.body);
    // The run's log goes on in one file: resumed once, each step finished once, one end.
    const log = readRunLog(join(dir, 'state', 'logs', 'leads', `${id}.jsonl`));
    expect(log.problems).toEqual([]);
    expect(log.records.filter((r) => r.type === 'run.resumed')).toEqual([expect.objectContaining({ attempt: 2 })]);
    expect(log.records.filter((r) => r.type === 'step.finished').map((r) => (r as { step: string }).step)).toEqual(['a', 'b']);
    expect(log.records.filter((r) => r.type === 'run.finished')).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
  });

  it('a step still running when the grace period ends is stopped and handed to the next daemon, not counted as a crash', async () => {
    downstream.script('POST /a', { status: 201, body: { id: 'a-1' } });
    downstream.script('POST /b', { status: 200, body: {}, delayMs: 120_000 }, { status: 200, body: { ok: true } });
    const first = started(await daemon());
    const res = await deliver(first.url, { email: 'cy@example.com' });
    const { run_id: id } = JSON.parse(res.body) as { run_id: string };
    for (let i = 0; i < 400 && !downstream.received.some((r) => r.path === '/b'); i++) await new Promise((r) => setTimeout(r, 25));
    const stopAt = Date.now();
    first.child.kill('SIGTERM');
    // --grace 2s: the daemon stops the step at the end of it, well before the step's own 5-minute bound.
    expect(await first.exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - stopAt).toBeLessThan(15_000);
    expect(first.output()).toContain(`run ${id} leads: still running when the grace period ended; stopped, and handed to the next daemon start`);
    const handed = await runWhen(id, () => true);
    expect(handed).toMatchObject({ status: 'waiting', attempt: 1, leaseOwner: null });
    expect(handed!.wakeAt).not.toBeNull();

    const second = started(await daemon());
    expect(await runWhen(id, (r) => r?.status === 'succeeded')).toMatchObject({ status: 'succeeded', attempt: 1 });
    const calls = (path: string) => downstream.received.filter((r) => r.path === path);
    expect(calls('/a')).toHaveLength(1);
    expect(calls('/b')).toHaveLength(2);
    expect(calls('/b')[1]!.headers['idempotency-key']).toBe(calls('/b')[0]!.headers['idempotency-key']);
    const log = readRunLog(join(dir, 'state', 'logs', 'leads', `${id}.jsonl`));
    expect(log.problems).toEqual([]);
    expect(log.records.filter((r) => r.type === 'run.resumed')).toHaveLength(1);
    expect(log.records.filter((r) => r.type === 'step.finished').map((r) => (r as { step: string }).step)).toEqual(['a', 'b']);
    expect(log.records.filter((r) => r.type === 'run.finished')).toEqual([expect.objectContaining({ status: 'succeeded' })]);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
  });

  it('serves a poll trigger: its first poll, at start, is the baseline', async () => {
    downstream.script('GET /deals', { body: { deals: [{ id: 1 }, { id: 2 }] } });
    writeFileSync(join(dir, 'flows', 'sync.yaml'), `name: sync
owner: ops@example.com
trigger:
  poll: { every: 15m, uses: http, with: { url: "${downstream.url}/deals" }, items: "\${{ response.body.deals }}", dedupe: "\${{ string(item.id) }}" }
steps:
  - id: a
    set: { x: 1 }
on_error:
  escalate: { uses: http, with: { url: "${downstream.url}/alerts", method: POST } }
`);
    const d = started(await daemon());
    await vi.waitFor(() => expect(d.output()).toContain('poll sync: baseline of 2 items recorded; only items after it start runs'), { timeout: 10_000 });
    expect(d.output()).not.toContain('not served');
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
  });
});

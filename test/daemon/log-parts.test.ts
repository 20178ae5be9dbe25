// A run's log across daemons, with real processes and a real `kill -9`: a daemon dies mid-step
// (its call to a local server is held open), a second daemon on the same state directory but
// with its own --log-dir rescues the run after the lease, and the run's log is then in two
// parts, one per log directory, at the same relative path. Each part is valid alone (every
// record matches the run-log schema), the second begins with a run.resumed naming its daemon,
// `flux runs show --log-dir` lists both attempts with their daemons, and `flux metrics` over
// both directories counts the run once. Time is the test clock (FLUX_TEST_CLOCK).
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { readRunLog, type RunRecord } from '../../src/store/run-log.js';
import type { RunRow } from '../../src/store/store.js';
import { validateRecord } from '../engine/harness.js';
import { runFlux } from '../helpers.js';
import { killChildren, spawnDaemon, type RunningDaemon } from './spawn-daemon.js';

vi.setConfig({ testTimeout: 60_000 });

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);

let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

/** A downstream whose /slow is held open (never answered) while `hold` is set: the step is mid-call when its daemon dies. */
interface Downstream {
  readonly url: string;
  readonly calls: string[];
  hold: boolean;
  close(): Promise<void>;
}

let downstream: Downstream;

function startDownstream(): Promise<Downstream> {
  const held: ServerResponse[] = [];
  const calls: string[] = [];
  const d = { url: '', calls, hold: true, close: async () => {} };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      calls.push(req.url ?? '');
      if (req.url === '/slow' && d.hold) return void held.push(res);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    d.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    d.close = () => new Promise((done) => {
      for (const r of held) r.destroy();
      server.close(() => done());
    });
    resolve(d);
  }));
}

beforeEach(async () => {
  downstream = await startDownstream();
  dir = mkdtempSync(join(tmpdir(), 'flux-log-parts-'));
  mkdirSync(join(dir, 'flows'));
  setClock(T0);
});
afterEach(async () => {
  killChildren(children);
  await downstream.close();
});

function setClock(ms: number): void {
  writeFileSync(join(dir, 'clock'), String(ms));
}

function daemon(extra: readonly string[], env: Record<string, string> = {}): Promise<RunningDaemon> {
  return spawnDaemon({
    cwd: dir, children, args: ['flows', '--state-dir', 'state', '--port', '0', '--lease', '1s', '--grace', '2s', ...extra],
    env: { FLUX_TEST_CLOCK: join(dir, 'clock'), ...env },
  });
}

async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

async function runOf(id: string): Promise<RunRow> {
  const store = await openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: Date.now });
  try {
    return (await store.getRun(id))!;
  } finally {
    await store.close();
  }
}

/** One part of a run's log: every line a record, every record valid against the run-log schema. */
function part(logDir: string, id: string): RunRecord[] {
  const log = readRunLog(join(dir, logDir, 'relay', `${id}.jsonl`));
  expect(log.problems).toEqual([]);
  expect(log.truncatedTail).toBe(false);
  for (const r of log.records) expect(validateRecord(r), `${JSON.stringify(r)}: ${JSON.stringify(validateRecord.errors)}`).toBe(true);
  return log.records;
}

/** A workflow of three calls; the middle one, /slow, is held open while `downstream.hold` is set. */
function relayFlow(): void {
  writeFileSync(join(dir, 'flows', 'relay.yaml'), `name: relay
owner: ops@example.com
trigger:
  webhook: { path: /hooks/relay }
steps:
  - id: first
    uses: http
    with: { url: "${downstream.url}/first", method: POST }
  - id: slow
    uses: http
    with: { url: "${downstream.url}/slow", method: POST }
  - id: last
    uses: http
    with: { url: "${downstream.url}/last", method: POST }
`);
}

const finished = (records: readonly RunRecord[]) => records.filter((r) => r.type === 'step.finished').map((r) => (r as { step: string }).step);

describe('a run rescued by another daemon with its own log directory', () => {
  it('continues its log there, in a second part that names the daemon and the attempt', async () => {
    relayFlow();
    const alpha = await daemon(['--daemon-id', 'alpha', '--log-dir', 'logs-a']);
    const res = await fetch(`${alpha.url}/hooks/relay`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { run_id: string }).run_id;
    await until(() => downstream.calls.includes('/slow'), 'the slow call made');
    expect((await runOf(id)).leaseOwner).toBe('alpha');
    alpha.child.kill('SIGKILL');
    expect((await alpha.exit).signal).toBe('SIGKILL');
    // Dead, and its lease not yet lapsed: the store still has the run with alpha.
    const clockEnv = { FLUX_TEST_CLOCK: join(dir, 'clock') };
    const held = await runFlux(['runs', 'show', id, '--state-dir', 'state', '--log-dir', 'logs-a'], { cwd: dir, env: clockEnv });
    expect(held.code, held.stderr).toBe(0);
    expect(held.stdout).toContain('  daemon     alpha holds it (lease until 2026-11-24 09:00:01Z)\n');
    expect(held.stdout).toMatch(/\n1\s+start\s+alpha\s+2026-11-24 09:00:00Z\s+- running \(last record 2026-11-24 09:00:00Z\)\n/);
    setClock(T0 + 5_000);
    const lapsed = await runFlux(['runs', 'show', id, '--state-dir', 'state', '--log-dir', 'logs-a'], { cwd: dir, env: clockEnv });
    expect(lapsed.stdout).toContain('  daemon     alpha held it; its lease lapsed at 2026-11-24 09:00:01Z (the daemon died or is cut off): another daemon resumes it\n');
    expect(lapsed.stdout).toMatch(/\n1\s+start\s+alpha\s+.*- no end recorded .*its daemon died/);
    expect(JSON.parse((await runFlux(['runs', 'show', id, '--json', '--state-dir', 'state'], { cwd: dir, env: clockEnv })).stdout)).toMatchObject({
      run: { status: 'running', lease: { daemon: 'alpha', until: '2026-11-24T09:00:01.000Z' } },
      // The parts are read from the state directory's logs/ only, unless --log-dir names others: none there.
      attempts: [], run_log_parts: [],
    });

    downstream.hold = false;
    // The second daemon is named by the environment; its lease check runs on the test clock.
    const beta = await daemon(['--log-dir', 'logs-b'], { FLUX_DAEMON_ID: 'beta' });
    await until(async () => (await runOf(id)).status === 'succeeded', 'the run rescued and succeeded');
    expect(await runOf(id)).toMatchObject({ attempt: 2, leaseOwner: null });
    // `first` completed before the crash: replayed from the journal, not called again; `slow` was cut off mid-call and is called again.
    expect(downstream.calls).toEqual(['/first', '/slow', '/slow', '/last']);

    const a = part('logs-a', id);
    expect(a[0]).toMatchObject({ type: 'run.started', run_id: id, daemon: 'alpha', attempt: 1 });
    expect(a.some((r) => r.type === 'run.finished' || r.type === 'run.resumed')).toBe(false);
    expect(finished(a)).toEqual(['first']);
    const b = part('logs-b', id);
    expect(b[0]).toMatchObject({ type: 'run.resumed', run_id: id, workflow: 'relay', owner: 'ops@example.com', daemon: 'beta', reason: 'rescue', attempt: 2, replayable: 1, previous_elsewhere: true });
    expect(b.some((r) => r.type === 'run.started')).toBe(false);
    expect(finished(b)).toEqual(['slow', 'last']);
    expect(b.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
    // Nothing of the run was written to the state directory's default log directory.
    expect(readRunLogOrNull(join(dir, 'state', 'logs', 'relay', `${id}.jsonl`))).toBeNull();

    const shown = await runFlux(['runs', 'show', id, '--state-dir', 'state', '--log-dir', 'logs-a', '--log-dir', 'logs-b'], { cwd: dir });
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    const rows = shown.stdout.split('\n').filter((l) => /^\d\s/.test(l));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^1\s+start\s+alpha\s+2026-11-24 09:00:00Z\s+- no end recorded .*its daemon died/);
    expect(rows[1]).toMatch(/^2\s+rescue\s+beta\s+2026-11-24 09:00:05Z\s+2026-11-24 09:00:05Z finished$/);
    const json = await runFlux(['runs', 'show', id, '--json', '--state-dir', 'state', '--log-dir', 'logs-a', '--log-dir', join(dir, 'logs-b')], { cwd: dir });
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as { attempts: unknown[]; run_log_parts: string[] };
    expect(doc.run_log_parts).toEqual([join('logs-a', 'relay', `${id}.jsonl`), join('logs-b', 'relay', `${id}.jsonl`)]);
    expect(doc.attempts).toEqual([
      { attempt: 1, reason: 'start', daemon: 'alpha', started_at: '2026-11-24T09:00:00.000Z', last_record_at: expect.any(String), end: null, log: join('logs-a', 'relay', `${id}.jsonl`) },
      { attempt: 2, reason: 'rescue', daemon: 'beta', started_at: '2026-11-24T09:00:05.000Z', last_record_at: '2026-11-24T09:00:05.000Z', end: 'finished', log: join('logs-b', 'relay', `${id}.jsonl`) },
    ]);

    // Both directories read together: one run, succeeded; each step counted once.
    const metrics = await runFlux(['metrics', 'logs-a', 'logs-b', '--format', 'json', '--until', '2026-11-24T10:00:00Z'], { cwd: dir });
    expect(metrics.code, metrics.stderr).toBe(0);
    const report = JSON.parse(metrics.stdout) as { workflows: { name: string; runs: Record<string, number>; steps: { step: string; finished: number }[] }[]; warnings: unknown[] };
    expect(report.warnings).toEqual([]);
    const relay = report.workflows.find((w) => w.name === 'relay')!;
    expect(relay.runs).toMatchObject({ started: 1, succeeded: 1, running: 0, stalled: 0 });
    expect(Object.fromEntries(relay.steps.map((s) => [s.step, s.finished]))).toEqual({ first: 1, slow: 1, last: 1 });

    beta.child.kill('SIGTERM');
    expect((await beta.exit).code).toBe(0);
  });

  it('a daemon restarted on the same log directory goes on in the same file, and says the log is whole there', async () => {
    relayFlow();
    const first = await daemon(['--log-dir', 'logs']);
    const res = await fetch(`${first.url}/hooks/relay`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const id = ((await res.json()) as { run_id: string }).run_id;
    await until(() => downstream.calls.includes('/slow'), 'the slow call made');
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');
    downstream.hold = false;
    const second = await daemon(['--log-dir', 'logs']);
    setClock(T0 + 5_000);
    await until(async () => (await runOf(id)).status === 'succeeded', 'the run rescued and succeeded');
    const log = part('logs', id);
    const resumed = log.filter((r) => r.type === 'run.resumed');
    expect(resumed).toEqual([expect.objectContaining({ reason: 'rescue', attempt: 2, previous_elsewhere: false })]);
    // Unnamed daemons: <hostname>:<pid>:<8 hex digits>, a new one per process.
    const ids = [log[0], resumed[0]].map((r) => (r as { daemon?: string }).daemon);
    for (const d of ids) expect(d).toMatch(/^[^:\s]+:\d+:[0-9a-f]{8}$/);
    expect(ids[0]).not.toBe(ids[1]);
    expect(finished(log)).toEqual(['first', 'slow', 'last']);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
  });

  it('refuses a daemon id that cannot name it in a lease', async () => {
    writeFileSync(join(dir, 'flows', 'relay.yaml'), 'name: relay\nowner: ops@example.com\ntrigger:\n  webhook: { path: /hooks/relay }\nsteps:\n  - id: s\n    set: { a: 1 }\n');
    for (const [args, env, from] of [[['--daemon-id', 'two words'], {}, '--daemon-id'], [[], { FLUX_DAEMON_ID: 'bad\u001b[31m' }, 'FLUX_DAEMON_ID']] as const) {
      const r = await runFlux(['daemon', 'flows', '--state-dir', 'state', '--port', '0', '--allow-silent', ...args], { cwd: dir, env });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${from} takes up to 128 letters`);
      expect(r.stderr).not.toContain('\u001b');
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});

function readRunLogOrNull(path: string): RunRecord[] | null {
  try {
    return readRunLog(path).records;
  } catch {
    return null;
  }
}

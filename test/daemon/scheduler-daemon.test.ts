// Schedules in a real `flux daemon` process, on a clock the test moves through FLUX_TEST_CLOCK:
// a month of hourly fires, each run once, with scheduled_for in the run log; restarts that do
// not fire twice; catch_up none/latest/all after the daemon was down; overlap skip logged;
// the spring-forward day of a 02:30 Europe/Berlin schedule; and a daemon killed with SIGKILL
// in the middle of a catch-up, after which every fire has run exactly once, counted at a real
// HTTP server. And a workflow's `concurrency`: runs beyond it stay queued until others finish.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { readRunLog } from '../../src/store/run-log.js';
import type { RunRow, Store } from '../../src/store/store.js';
import { BIN, ROOT } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';

vi.setConfig({ testTimeout: 120_000 });

const H = 3_600_000;
/** A fire instant of an hourly schedule. */
const T0 = Date.parse('2026-11-24T09:00:00.000Z');

let dir: string;
let clockFile: string;
let downstream: TestServer;
const children: ChildProcessWithoutNullStreams[] = [];
const stores: Store[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flux-sched-daemon-'));
  mkdirSync(join(dir, 'flows'));
  clockFile = join(dir, 'clock');
  downstream = await startTestServer();
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of stores.splice(0)) await s.close();
  await downstream.close();
});

function setClock(ms: number): void {
  writeFileSync(clockFile, String(ms));
}

function flow(name: string, text: string): void {
  writeFileSync(join(dir, 'flows', `${name}.yaml`), `name: ${name}\nowner: ops@example.com\n${text}`);
}

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  output(): string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a daemon on the test clock; resolves once it listens. */
async function daemon(): Promise<Running> {
  const child = spawn(process.execPath, [BIN, 'daemon', 'flows', '--state-dir', 'state', '--port', '0', '--lease', '1s', '--grace', '2s', '--allow-silent'], {
    cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', FLUX_TEST_CLOCK: clockFile },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/listening on http/.test(stdout)) resolve();
    });
    void exit.then(({ code }) => reject(new Error(`the daemon exited ${code} before listening:\n${stdout}${stderr}`)));
  });
  return { child, output: () => stdout, exit };
}

async function stop(d: Running): Promise<void> {
  d.child.kill('SIGTERM');
  expect((await d.exit).code).toBe(0);
}

/** A reader on the daemon's store (WAL: it does not block the daemon). */
async function store(): Promise<Store> {
  const s = await openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: Date.now });
  stores.push(s);
  return s;
}

/** Polls until `check` holds (the daemon is another process); fails naming `what` if it never does. */
async function until<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last seen: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 5));
    value = await read();
  }
  return value;
}

async function runsOf(s: Store, workflow: string): Promise<RunRow[]> {
  return (await s.listRuns({ workflow, limit: 100_000 })).sort((a, b) => a.scheduledFor! - b.scheduledFor!);
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('flux daemon: schedules', () => {
  it('a month of hourly fires: each fire runs once, and its run log says when it was scheduled', async () => {
    flow('hourly', 'trigger:\n  schedule: { cron: "0 * * * *", overlap: allow }\nsteps:\n  - id: note\n    set: { at: "${{ event.scheduled_for }}" }\n');
    setClock(T0 - 30 * 60_000);
    const d = await daemon();
    const s = await store();
    const hours = 30 * 24;
    for (let i = 0; i < hours; i++) {
      setClock(T0 + i * H + 20);
      await until(`the fire at ${iso(T0 + i * H)}`, () => s.lastFire('hourly'), (t) => t === T0 + i * H);
    }
    const runs = await until('every run to finish', () => runsOf(s, 'hourly'), (r) => r.length === hours && r.every((x) => x.status === 'succeeded'));
    expect(runs.map((r) => r.scheduledFor)).toEqual(Array.from({ length: hours }, (_, i) => T0 + i * H));
    // None started before its time (the test moves on once a fire is stored, so a start may see a later hour).
    expect(runs.filter((r) => !(r.trigger === 'schedule' && r.startedAt! >= r.scheduledFor! + 20)).map((r) => [r.scheduledFor, r.startedAt])).toEqual([]);
    await stop(d);

    const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
    const validate = addFormats(new Ajv2020({ strict: true })).compile(JSON.parse(readFileSync(join(ROOT, 'schemas/run-log.schema.json'), 'utf8')) as object);
    const files = readdirSync(join(dir, 'state', 'logs', 'hourly'));
    expect(files).toHaveLength(hours);
    for (const f of files.slice(0, 48)) {
      const log = readRunLog(join(dir, 'state', 'logs', 'hourly', f));
      for (const record of log.records) expect(validate(record), JSON.stringify(validate.errors)).toBe(true);
      const started = log.records.find((r) => r.type === 'run.started') as { trigger: string; scheduled_for: string; ts: string };
      const run = runs.find((r) => `${r.id}.jsonl` === f)!;
      expect(started).toMatchObject({ trigger: 'schedule', scheduled_for: iso(run.scheduledFor!) });
      expect(Date.parse(started.ts)).toBeGreaterThanOrEqual(run.startedAt!);
      expect(log.records.filter((r) => r.type === 'run.finished')).toHaveLength(1);
    }
  });

  it('after being down, catch_up none skips the missed fires, latest runs the newest, all runs each; a restart fires nothing twice', async () => {
    for (const mode of ['none', 'latest', 'all']) {
      flow(`catch-${mode}`, `trigger:\n  schedule: { cron: "0 * * * *", catch_up: ${mode}, overlap: allow }\nsteps:\n  - id: note\n    set: { at: "\${{ event.scheduled_for }}" }\n`);
    }
    setClock(T0 - 30 * 60_000);
    let d = await daemon();
    const s = await store();
    setClock(T0 + 10);
    for (const mode of ['none', 'latest', 'all']) await until(`catch-${mode} at T0`, () => runsOf(s, `catch-${mode}`), (r) => r.length === 1 && r[0]!.status === 'succeeded');
    await stop(d);
    // Restarted at the same time: the fire at T0 is not run again.
    d = await daemon();
    await stop(d);
    for (const mode of ['none', 'latest', 'all']) expect(await runsOf(s, `catch-${mode}`)).toHaveLength(1);

    setClock(T0 + 5 * H + 30 * 60_000); // fires T0+1h … T0+5h were missed while it was down
    d = await daemon();
    const done = (r: RunRow[]) => r.every((x) => x.status === 'succeeded');
    expect((await until('catch-all', () => runsOf(s, 'catch-all'), (r) => r.length === 6 && done(r))).map((r) => r.scheduledFor))
      .toEqual([0, 1, 2, 3, 4, 5].map((i) => T0 + i * H));
    expect((await until('catch-latest', () => runsOf(s, 'catch-latest'), (r) => r.length === 2 && done(r))).map((r) => r.scheduledFor)).toEqual([T0, T0 + 5 * H]);
    await stop(d);
    expect((await runsOf(s, 'catch-none')).map((r) => r.scheduledFor)).toEqual([T0]);
    const out = d.output();
    expect(out).toContain('schedule catch-none: 5 missed fires not run (catch_up: none)');
    expect(out).toContain('schedule catch-latest: 4 missed fires not run (catch_up: latest)');
    expect(out).toContain('schedule catch-latest: catching up 1 missed fire (catch_up: latest), from 2026-11-24T14:00:00.000Z');
    expect(out).toContain('schedule catch-all: catching up 5 missed fires (catch_up: all), from 2026-11-24T10:00:00.000Z');

    // And once more: a restart after the catch-up runs none of it again.
    d = await daemon();
    setClock(T0 + 6 * H + 10);
    await until('catch-all at T0+6h', () => runsOf(s, 'catch-all'), (r) => r.length === 7 && done(r));
    await stop(d);
    expect(await runsOf(s, 'catch-all')).toHaveLength(7);
    expect(await runsOf(s, 'catch-latest')).toHaveLength(3);
    expect(await runsOf(s, 'catch-none')).toHaveLength(2);
  });

  it('overlap skip: a fire while the previous run waits is skipped and logged', async () => {
    flow('slow', 'trigger:\n  schedule: { cron: "0 * * * *" }\nsteps:\n  - id: pause\n    wait: 90m\n');
    setClock(T0 - 30 * 60_000);
    const d = await daemon();
    const s = await store();
    setClock(T0 + 10);
    const [first] = await until('the first run to wait', () => runsOf(s, 'slow'), (r) => r[0]?.status === 'waiting');
    setClock(T0 + H + 10);
    await until('the skip to be logged', async () => d.output(), (o) => o.includes('fire skipped'));
    expect(d.output()).toContain(`fire skipped: slow scheduled for 2026-11-24T10:00:00.000Z: run ${first!.id} is still in progress (overlap: skip)`);
    // The first run wakes at T0+90m and finishes; the fire at T0+2h runs.
    setClock(T0 + 90 * 60_000 + 10);
    await until('the first run to finish', () => runsOf(s, 'slow'), (r) => r[0]?.status === 'succeeded');
    setClock(T0 + 2 * H + 10);
    const runs = await until('the fire at T0+2h', () => runsOf(s, 'slow'), (r) => r.length === 2);
    expect(runs.map((r) => r.scheduledFor)).toEqual([T0, T0 + 2 * H]);
    await stop(d);
  });

  it('a 02:30 Europe/Berlin schedule fires once on the spring-forward day, at 03:00 summer time', async () => {
    flow('nightly', 'trigger:\n  schedule: { cron: "30 2 * * *", timezone: Europe/Berlin }\nsteps:\n  - id: note\n    set: { at: "${{ event.scheduled_for }}" }\n');
    const dayStart = Date.parse('2027-03-27T23:00:00Z'); // 2027-03-28 00:00 CET
    setClock(dayStart - 60_000);
    const d = await daemon();
    const s = await store();
    for (let t = dayStart; t <= dayStart + 6 * H; t += 10 * 60_000) {
      setClock(t);
      await until(`a tick at ${iso(t)}`, async () => (await s.lastFire('nightly')) ?? 0, (last) => t < Date.parse('2027-03-28T01:00:00Z') || last === Date.parse('2027-03-28T01:00:00Z'));
    }
    const runs = await until('the run to finish', () => runsOf(s, 'nightly'), (r) => r.length === 1 && r[0]!.status === 'succeeded');
    expect(runs.map((r) => iso(r.scheduledFor!))).toEqual(['2027-03-28T01:00:00.000Z']);
    await stop(d);
    expect(await runsOf(s, 'nightly')).toHaveLength(1);
  });

  it('kill -9 in the middle of a catch-up: after a restart, every missed fire has run exactly once', async () => {
    const missed = 40;
    downstream.script('POST /report', { status: 200, body: { ok: true }, delayMs: 100 });
    flow('report', `trigger:\n  schedule: { cron: "0 * * * *", catch_up: all, overlap: queue }
steps:
  - id: send
    uses: http
    with: { url: "${downstream.url}/report", method: POST, json: { for: "\${{ event.scheduled_for }}" } }
on_error:
  escalate: { uses: http, with: { url: "${downstream.url}/alerts", method: POST } }
`);
    setClock(T0 - 30 * 60_000);
    let d = await daemon();
    const s = await store();
    setClock(T0 + 10);
    await until('the fire at T0', () => runsOf(s, 'report'), (r) => r[0]?.status === 'succeeded');
    await stop(d);

    setClock(T0 + missed * H + 30 * 60_000);
    d = await daemon();
    await until('a third of the catch-up', async () => downstream.received.length, (n) => n >= 1 + missed / 3);
    d.child.kill('SIGKILL');
    expect((await d.exit).signal).toBe('SIGKILL');
    const atKill = await runsOf(s, 'report');
    expect(atKill).toHaveLength(missed + 1);
    expect(atKill.filter((r) => r.status === 'queued').length).toBeGreaterThan(0);

    // The dead daemon's lease (1 s on the test clock) lapses; the next daemon takes over.
    setClock(T0 + missed * H + 30 * 60_000 + 5000);
    d = await daemon();
    const runs = await until('every fire to finish', () => runsOf(s, 'report'), (r) => r.length === missed + 1 && r.every((x) => x.status === 'succeeded'), 60_000);
    await stop(d);
    expect(runs.map((r) => r.scheduledFor)).toEqual(Array.from({ length: missed + 1 }, (_, i) => T0 + i * H));

    // At the server: every fire arrived, in order; only the call cut by the kill came twice,
    // with the same idempotency key.
    const calls = downstream.received.filter((r) => r.path === '/report');
    const byFire = new Map<string, string[]>();
    for (const c of calls) {
      const at = (JSON.parse(c.body) as { for: string }).for;
      byFire.set(at, [...(byFire.get(at) ?? []), String(c.headers['idempotency-key'])]);
    }
    expect([...byFire.keys()]).toEqual(Array.from({ length: missed + 1 }, (_, i) => iso(T0 + i * H)));
    const repeated = [...byFire.values()].filter((keys) => keys.length > 1);
    expect(repeated.length).toBeLessThanOrEqual(1);
    for (const keys of repeated) expect(new Set(keys).size).toBe(1);
    expect(calls.length).toBe(missed + 1 + repeated.reduce((n, k) => n + k.length - 1, 0));
    expect(downstream.received.filter((r) => r.path === '/alerts')).toEqual([]);
  });
});

describe('flux daemon: per-workflow concurrency', () => {
  it('runs beyond a workflow\'s `concurrency` stay queued and start as others finish', async () => {
    downstream.script('POST /slow', { status: 200, body: {}, delayMs: 300 });
    flow('limited', `concurrency: 2
trigger:
  webhook: { path: /hooks/limited }
steps:
  - id: call
    uses: http
    with: { url: "${downstream.url}/slow", method: POST }
on_error:
  escalate: { uses: http, with: { url: "${downstream.url}/alerts", method: POST } }
`);
    setClock(T0);
    const d = await daemon();
    const url = /listening on (http:\/\/\S+)/.exec(d.output())![1]!;
    const s = await store();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${url}/hooks/limited`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { run_id: string }).run_id);
    }
    let most = 0;
    const runs = await until('every run to finish', async () => {
      const all = await runsOf(s, 'limited');
      most = Math.max(most, all.filter((r) => r.status === 'running').length);
      return all;
    }, (all) => all.length === 6 && all.every((r) => r.status === 'succeeded'));
    await stop(d);
    expect(most).toBe(2);
    expect(runs.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(downstream.received.filter((r) => r.path === '/slow')).toHaveLength(6);
  });
});

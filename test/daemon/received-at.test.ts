// received_at under a real `flux daemon`: the run log says when the triggering event was
// received (the webhook's intake), not when the run got to start. Here a lead arrives while the
// daemon's one slot is taken by a run whose call the test holds; the clock (FLUX_TEST_CLOCK)
// moves an hour on before that call is released, so the lead's run starts an hour after its
// intake, and time-to-response in `flux metrics` must count that hour.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readRunLog, type RunRecord } from '../../src/store/run-log.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRow } from '../../src/store/store.js';
import { validateRecord } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { killChildren, spawnDaemon } from './spawn-daemon.js';

vi.setConfig({ testTimeout: 60_000 });

const T1 = Date.parse('2026-11-24T09:00:00.000Z');
const T2 = T1 + 3_600_000;
const LEASE_MS = 1000;

let dir: string;
let downstream: TestServer;
let hold: Hold;
const children: ChildProcessWithoutNullStreams[] = [];
const stores: SqliteStore[] = [];

/** A server whose answers wait until the test releases them: a call that takes as long as the test says. */
interface Hold {
  readonly url: string;
  readonly waiting: () => number;
  release(): void;
  close(): Promise<void>;
}

async function startHold(): Promise<Hold> {
  const held: ServerResponse[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => held.push(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    waiting: () => held.length,
    release: () => {
      for (const res of held.splice(0)) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flux-received-'));
  mkdirSync(join(dir, 'flows'));
  downstream = await startTestServer();
  hold = await startHold();
});
afterEach(async () => {
  killChildren(children);
  for (const s of stores.splice(0)) await s.close();
  await hold.close();
  await downstream.close();
});

function setClock(ms: number): void {
  writeFileSync(join(dir, 'clock'), String(ms));
}

function flow(name: string, steps: string): void {
  writeFileSync(join(dir, 'flows', `${name}.yaml`), `name: ${name}
owner: ops@example.com
trigger:
  webhook: { path: /hooks/${name} }
steps:
${steps}on_error:
  escalate: { uses: http, with: { url: "${downstream.url}/alerts", method: POST } }
`);
}

async function hook(url: string, path: string): Promise<string> {
  const res = await fetch(`${url}${path}`, { method: 'POST', body: '{"email":"ann@example.com"}', headers: { 'content-type': 'application/json' } });
  const body = await res.text();
  expect(res.status, body).toBe(202);
  return (JSON.parse(body) as { run_id: string }).run_id;
}

/** Polls (real time, bounded) the store until `done` holds for the run; the daemon is another process. */
async function runWhen(store: SqliteStore, id: string, done: (run: RunRow) => boolean, what: string): Promise<RunRow> {
  for (let i = 0; i < 800; i++) {
    const run = await store.getRun(id);
    if (run && done(run)) return run;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}; last seen ${JSON.stringify(await store.getRun(id))}`);
}

function started(workflow: string, id: string): { started: Extract<RunRecord, { type: 'run.started' }>; records: RunRecord[] } {
  const log = readRunLog(join(dir, 'state', 'logs', workflow, `${id}.jsonl`));
  expect(log.problems).toEqual([]);
  for (const r of log.records) expect(validateRecord(r), `${JSON.stringify(r)}: ${JSON.stringify(validateRecord.errors)}`).toBe(true);
  const first = log.records[0];
  if (first?.type !== 'run.started') throw new Error(`the log of ${id} does not begin with run.started`);
  return { started: first, records: log.records };
}

describe('flux daemon: received_at', () => {
  it('a webhook run queued behind another records its intake time, not its later start', async () => {
    downstream.script('POST /replies', { status: 201, body: { id: 1 } });
    flow('blocker', `  - id: slow\n    uses: http\n    with: { url: "${hold.url}/slow", method: POST }\n`);
    flow('leads', `  - id: reply\n    response: true\n    uses: http\n    with: { url: "${downstream.url}/replies", method: POST }\n`);
    // The clock stands at T1 from the daemon's first read, so both intakes happen at T1.
    setClock(T1);
    const d = await spawnDaemon({
      cwd: dir, children, args: ['flows', '--state-dir', 'state', '--port', '0', '--concurrency', '1', '--lease', '1s', '--grace', '2s'],
      env: { FLUX_TEST_CLOCK: join(dir, 'clock') },
    });
    const store = await openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: Date.now });
    stores.push(store);

    const blocker = await hook(d.url, '/hooks/blocker');
    await runWhen(store, blocker, () => hold.waiting() === 1, 'the blocker to make its held call');
    const lead = await hook(d.url, '/hooks/leads');
    expect(await store.getRun(lead)).toMatchObject({ status: 'queued', receivedAt: T1, startedAt: null });

    // An hour passes while the slot is taken. The blocker's lease, renewed on the daemon's clock,
    // shows the daemon has read the new time before the slot frees.
    setClock(T2);
    await runWhen(store, blocker, (r) => r.leaseUntil === T2 + LEASE_MS, 'the daemon to see the clock move');
    hold.release();
    expect(await runWhen(store, lead, (r) => r.status === 'succeeded', 'the lead run to succeed')).toMatchObject({ receivedAt: T1, startedAt: T2 });
    expect(await runWhen(store, blocker, (r) => r.status === 'succeeded', 'the blocker to succeed')).toMatchObject({ receivedAt: T1, startedAt: T1 });
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);

    const b = started('blocker', blocker);
    expect(b.started).toMatchObject({ trigger: 'webhook', ts: new Date(T1).toISOString(), received_at: new Date(T1).toISOString() });
    expect('response_step' in b.started).toBe(false);
    const l = started('leads', lead);
    expect(l.started).toMatchObject({ trigger: 'webhook', ts: new Date(T2).toISOString(), received_at: new Date(T1).toISOString(), response_step: 'reply' });
    expect(l.records.find((r) => r.type === 'step.finished')).toMatchObject({ step: 'reply', status: 'succeeded', method: 'POST', http_status: 201, ts: new Date(T2).toISOString() });
    expect(downstream.received.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /replies']);
  });
});

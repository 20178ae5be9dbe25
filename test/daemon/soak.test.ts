// The daemon under load, as a real process: (a) a soak of 1,000 webhooks whose downstream fails
// one call in ten (503s, connection resets, and hangs past the step's timeout), with retries,
// must end with every run succeeded or escalated, none left queued or running, none lost (runs
// stored = 202s received), and one escalation received per escalated run; (b) a burst of
// webhooks cut by `kill -9` mid-way, then a restart: every delivery that got a 202 ran exactly
// once (one idempotency key at the downstream, one succeeded run), and no delivery that got a
// definite refusal, or never reached the daemon, has a run.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRow } from '../../src/store/store.js';
import { spawnDaemon, type RunningDaemon } from './spawn-daemon.js';
import { seededRandom } from '../seeded-random.js';

vi.setConfig({ testTimeout: 50_000 });

/** One call the downstream received: which run and step, under which idempotency key. */
interface Call {
  readonly path: string;
  readonly runId: string;
  readonly delivery: string;
  readonly key: string;
}

interface Downstream {
  readonly url: string;
  readonly calls: Call[];
  readonly failed: { status: number; reset: number; hung: number };
  close(): Promise<void>;
}

/**
 * A real HTTP server on 127.0.0.1 that fails one call in ten under `/work/`, by a seeded
 * generator: a 503, a reset connection, or an answer that comes after the step's timeout.
 * `/down/` always answers 503 (a service that is out), `/alerts` always 200.
 */
async function startFlakyDownstream(seed: number): Promise<Downstream> {
  const random = seededRandom(seed);
  const calls: Call[] = [];
  const failed = { status: 0, reset: 0, hung: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const body = chunks.length > 0 ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { run?: string; delivery?: string }) : {};
      calls.push({ path, runId: body.run ?? '', delivery: body.delivery ?? '', key: String(req.headers['idempotency-key'] ?? '') });
      const answer = (status: number) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end('{}');
      };
      if (path.startsWith('/down/')) return answer(503);
      if (path.startsWith('/work/')) {
        const roll = random();
        if (roll < 0.1 / 3) {
          failed.status += 1;
          return answer(503);
        }
        if (roll < 0.2 / 3) {
          failed.reset += 1;
          return req.socket.destroy();
        }
        if (roll < 0.1) {
          failed.hung += 1;
          const timer = setTimeout(() => answer(200), 2_000);
          res.on('close', () => clearTimeout(timer));
          return;
        }
      }
      answer(200);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    failed,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

let dir: string;
let downstream: Downstream;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flux-soak-'));
  mkdirSync(join(dir, 'flows'));
  downstream = await startFlakyDownstream(7);
  // Two calls per run; a delivery marked `down` calls a service that is out, so its run escalates.
  writeFileSync(join(dir, 'flows', 'orders.yaml'), `name: orders
owner: ops@example.com
trigger:
  webhook: { path: /hooks/orders }
steps:
  - id: reserve
    uses: http
    timeout: 250ms
    retry: { attempts: 4, initial: 5ms, max: 20ms }
    with: { url: "${downstream.url}/\${{ event.route }}/reserve", method: POST, json: { run: "\${{ run.id }}", delivery: "\${{ event.delivery }}" } }
  - id: confirm
    uses: http
    timeout: 250ms
    retry: { attempts: 4, initial: 5ms, max: 20ms }
    with: { url: "${downstream.url}/work/confirm", method: POST, json: { run: "\${{ run.id }}", delivery: "\${{ event.delivery }}" } }
on_error:
  escalate: { uses: http, with: { url: "${downstream.url}/alerts", method: POST, json: { run: "\${{ run.id }}", delivery: "\${{ event.delivery }}" } } }
`);
});

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await downstream.close();
});

type Running = RunningDaemon;

function daemon(): Promise<Running> {
  return spawnDaemon({ cwd: dir, children, args: ['flows', '--state-dir', 'state', '--port', '0', '--concurrency', '25', '--lease', '2s', '--grace', '2s'] });
}

/** What a delivery got: a status and the run id, or no answer at all (the connection failed). */
type Answer = { readonly status: number; readonly runId?: string } | { readonly status: 'no answer' };

async function deliver(url: string, delivery: string, route: 'work' | 'down'): Promise<Answer> {
  try {
    const res = await fetch(`${url}/hooks/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ delivery, route }) });
    const text = await res.text();
    return res.status === 202 ? { status: 202, runId: (JSON.parse(text) as { run_id: string }).run_id } : { status: res.status };
  } catch {
    return { status: 'no answer' };
  }
}

/** Sends `total` deliveries, `width` at a time; `onAnswer` sees each as it comes. */
async function burst(url: string, total: number, width: number, route: (i: number) => 'work' | 'down', onAnswer: (a: Answer) => void = () => {}): Promise<Map<string, Answer>> {
  const answers = new Map<string, Answer>();
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < total) {
      const i = next++;
      const delivery = `d-${String(i).padStart(4, '0')}`;
      const answer = await deliver(url, delivery, route(i));
      answers.set(delivery, answer);
      onAnswer(answer);
    }
  }));
  return answers;
}

/** Every run in the store once none is queued or running (polled: the daemon is another process). */
async function settledRuns(): Promise<RunRow[]> {
  const store = await openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: Date.now });
  try {
    let runs: RunRow[] = [];
    for (let i = 0; i < 400; i++) {
      runs = await store.listRuns({ limit: 100_000 });
      if (runs.every((r) => r.status !== 'queued' && r.status !== 'running')) return runs;
      await new Promise((r) => setTimeout(r, 100));
    }
    return runs;
  } finally {
    await store.close();
  }
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe('flux daemon under load', () => {
  it('soak: 1,000 webhooks with one downstream call in ten failing all end succeeded or escalated, none lost', async () => {
    const d = await daemon();
    // One delivery in fifty calls a service that is out: those runs must escalate, not vanish.
    const answers = await burst(d.url, 1000, 25, (i) => (i % 50 === 0 ? 'down' : 'work'));
    const accepted = [...answers.values()].filter((a): a is { status: 202; runId: string } => a.status === 202);
    expect(accepted).toHaveLength(1000);

    const runs = await settledRuns();
    expect(runs).toHaveLength(1000);
    expect(new Set(runs.map((r) => r.id))).toEqual(new Set(accepted.map((a) => a.runId)));
    const statuses = countBy(runs, (r) => r.status);
    expect([...statuses.keys()].sort()).toEqual(['escalated', 'succeeded']);
    // The downstream really failed one call in ten, of each kind, and retries carried runs through.
    const work = downstream.calls.filter((c) => c.path.startsWith('/work/'));
    const failures = downstream.failed.status + downstream.failed.reset + downstream.failed.hung;
    expect(failures / work.length).toBeGreaterThan(0.07);
    expect(failures / work.length).toBeLessThan(0.13);
    expect(Math.min(downstream.failed.status, downstream.failed.reset, downstream.failed.hung)).toBeGreaterThan(10);
    // Every escalated run told its owner once, and only escalated runs did.
    const escalated = runs.filter((r) => r.status === 'escalated').map((r) => r.id).sort();
    expect(escalated.length).toBeGreaterThanOrEqual(20);
    const alerts = downstream.calls.filter((c) => c.path === '/alerts');
    expect(alerts.map((c) => c.runId).sort()).toEqual(escalated);
    // Each delivery sent to the service that is out escalated.
    const down = new Set(runs.filter((r) => (r.event as { route: string }).route === 'down').map((r) => r.id));
    expect(down.size).toBe(20);
    for (const id of down) expect(escalated).toContain(id);

    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
  });

  it('kill -9 mid-burst: every delivery that got 202 runs exactly once, and none that did not get one was stored unasked', async () => {
    const first = await daemon();
    let accepted = 0;
    const killed = new Promise<void>((resolve) => {
      void first.exit.then(() => resolve());
    });
    const answersPromise = burst(first.url, 600, 30, () => 'work', (a) => {
      if (a.status === 202 && ++accepted === 150) first.child.kill('SIGKILL');
    });
    await killed;
    expect((await first.exit).signal).toBe('SIGKILL');
    const answers = await answersPromise;
    const byOutcome = countBy([...answers.values()], (a) => String(a.status));
    // The kill came mid-burst: some were accepted, some were cut or never reached a daemon.
    expect(byOutcome.get('202')).toBeGreaterThanOrEqual(150);
    expect(byOutcome.get('no answer')).toBeGreaterThan(0);
    expect([...byOutcome.keys()].sort()).toEqual(['202', 'no answer']);

    const second = await daemon();
    const runs = await settledRuns();
    const runOf = new Map(runs.map((r) => [(r.event as { delivery: string }).delivery, r]));
    const callsByRun = new Map<string, Call[]>();
    for (const c of downstream.calls) callsByRun.set(c.runId, [...(callsByRun.get(c.runId) ?? []), c]);

    for (const [delivery, answer] of answers) {
      const run = runOf.get(delivery);
      if (answer.status === 202) {
        // Acknowledged: stored under the id the sender was given, and run to the end once.
        expect(run?.id, delivery).toBe(answer.runId);
        expect(['succeeded', 'escalated'], delivery).toContain(run?.status);
        const calls = callsByRun.get(answer.runId!) ?? [];
        expect(calls.length, delivery).toBeGreaterThan(0);
        // A step cut by the kill (or retried) may be sent again, but only with the key it had:
        // once, as far as the downstream can tell. A run that succeeded did each step.
        const keys = (path: string) => new Set(calls.filter((c) => c.path === path).map((c) => c.key)).size;
        expect(keys('/work/reserve'), delivery).toBe(1);
        // An escalated run may have reached confirm and failed there (a 503, a reset, a timeout):
        // still with one key at most.
        if (run?.status === 'succeeded') expect(keys('/work/confirm'), delivery).toBe(1);
        else expect(keys('/work/confirm'), delivery).toBeLessThanOrEqual(1);
      }
    }
    // No run that was not asked for: every stored run is a delivery that got 202 or whose answer
    // the kill cut off (stored, but the 202 never left); a delivery that never reached the
    // daemon (refused connection after the kill) has none.
    const cut = new Set([...answers].filter(([, a]) => a.status === 'no answer').map(([d]) => d));
    for (const r of runs) {
      const delivery = (r.event as { delivery: string }).delivery;
      const answer = answers.get(delivery)!;
      if (answer.status !== 202) expect(cut.has(delivery), delivery).toBe(true);
    }
    expect(runs.length - (byOutcome.get('202') ?? 0)).toBeLessThanOrEqual(30);
    // Each run id appears at the downstream only for its own delivery.
    for (const c of downstream.calls) expect(runOf.get(c.delivery)?.id).toBe(c.runId);

    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
  });
});

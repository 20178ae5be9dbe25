// Several real `flux daemon` processes on one PostgreSQL (issue 11): every schedule fire and
// every webhook delivery runs exactly once however many daemons see it; a daemon killed with
// SIGKILL mid-run has its runs resumed by another from the journal within the lease, each
// step's call made once (or retried with the same idempotency key); and a daemon cut off from
// the database stops holding its runs, which move on. PostgreSQL is the machine's, at
// $FLUX_TEST_PG_URL; each test works in a schema of its own, dropped afterwards.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { readRunLog } from '../../src/store/run-log.js';
import type { RunRow, Store } from '../../src/store/store.js';
import { spawnDaemon, killChildren, type RunningDaemon } from '../daemon/spawn-daemon.js';
import { openStore } from '../../src/store/open.js';
import { adminQuery, requirePostgres, testSchemas, urlWithSchema } from '../pg-helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-24T09:00:00.000Z');

let dir: string;
let schema: string;
let store: Store;
let downstream: TestServer;
const children: ChildProcessWithoutNullStreams[] = [];
const schemas = testSchemas('flux_cluster');

beforeAll(requirePostgres);
afterAll(() => schemas.dropAll());
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flux-cluster-'));
  mkdirSync(join(dir, 'flows'));
  schema = schemas.fresh();
  downstream = await startTestServer();
});
afterEach(async () => {
  killChildren(children);
  await store?.close().catch(() => undefined);
  await downstream.close();
});

/** The cluster's store URL, as daemon `app` connects to it (its connections carry that name), as `user` when given. */
function storeUrl(app: string, user?: string): string {
  const url = new URL(urlWithSchema(schema));
  url.searchParams.set('application_name', app);
  if (user !== undefined) url.username = user;
  return url.href;
}

/** Opens the store from the test, as an operator's `flux runs --store` would. */
async function openCluster(): Promise<Store> {
  return openStore(storeUrl('flux-test-reader'), { now: Date.now });
}

/**
 * Cuts the daemon connecting as `role` off the database for `ms`, as a network cut would: its
 * connections are terminated (pg_terminate_backend) and new ones refused (the role may not
 * log in), then it may connect again.
 */
async function cutOff(role: string, ms: number): Promise<void> {
  await adminQuery(`ALTER ROLE ${role} NOLOGIN`);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [role]);
    await new Promise((r) => setTimeout(r, 50));
  }
  await adminQuery(`ALTER ROLE ${role} LOGIN`);
}

function flow(name: string, text: string): void {
  writeFileSync(join(dir, 'flows', `${name}.yaml`), `name: ${name}\nowner: ops@example.com\n${text}`);
}

/** Daemon `n` of the cluster: its own state and log directories, the shared store (as `user` when given). */
function daemon(n: number, env: Record<string, string> = {}, ...extra: string[]): Promise<RunningDaemon> {
  return spawnDaemon({
    cwd: dir, children,
    args: ['flows', '--store', storeUrl(`flux-test-daemon-${n}`, env.PGUSER), '--state-dir', `state-${n}`, '--port', '0', '--grace', '1s', ...extra],
    env,
  });
}

/** Polls until `check` holds (the daemons are other processes); fails naming `what` if it never does. */
async function until<T>(what: string, read: () => Promise<T>, check: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last seen: ${summary(value)}`);
    await new Promise((r) => setTimeout(r, 20));
    value = await read();
  }
  return value;
}

/** What a poll saw, short: runs by status (and attempt), or the value itself. */
function summary(value: unknown): string {
  if (!Array.isArray(value) || !value.every((r) => typeof r === 'object' && r !== null && 'status' in r)) return JSON.stringify(value).slice(0, 400);
  const counts = new Map<string, number>();
  for (const r of value as RunRow[]) counts.set(`${r.status}#${r.attempt}`, (counts.get(`${r.status}#${r.attempt}`) ?? 0) + 1);
  return `${value.length} runs: ${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}`;
}

const runsOf = (workflow: string): Promise<RunRow[]> => store.listRuns({ workflow, limit: 100_000 });
const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('flux daemon: three daemons on one PostgreSQL', () => {
  it('1,000 schedule fires over a skipped clock: each fire runs exactly once', async () => {
    const clock = join(dir, 'clock');
    writeFileSync(clock, String(T0 - 30_000));
    flow('every-minute', `trigger:\n  schedule: { cron: "* * * * *", catch_up: all, overlap: allow }\nsteps:\n  - id: note\n    set: { at: "\${{ event.scheduled_for }}" }\n`);
    // Leases are on the test clock too: a day, so that a ten-minute jump does not expire the
    // lease of a run in progress (which a survivor would then take over, as after a crash).
    const daemons = await Promise.all([1, 2, 3].map((n) => daemon(n, { FLUX_TEST_CLOCK: clock }, '--lease', '24h', '--concurrency', '20')));
    store = await openCluster();
    // The clock jumps ten minutes at a time: each jump leaves nine fires missed (caught up by
    // catch_up: all) and one on time, evaluated by all three daemons at once. The first jump
    // covers T0 to T0+9min, the last ends at T0+999min: 1,000 fires.
    const fires = 1000;
    for (let at = T0 + 9 * MINUTE; at <= T0 + (fires - 1) * MINUTE; at += 10 * MINUTE) {
      writeFileSync(clock, String(at + 10));
      await until(`the fires up to ${new Date(at).toISOString()}`, () => store.lastFire('every-minute'), (t) => t === at);
    }
    const runs = await until('every run to finish', () => runsOf('every-minute'), (r) => r.length >= fires && r.every((x) => x.status === 'succeeded'));
    expect(runs.filter((r) => r.attempt !== 1)).toEqual([]);
    const times = runs.map((r) => r.scheduledFor!).sort((a, b) => a - b);
    expect(times).toEqual(Array.from({ length: fires }, (_, i) => T0 + i * MINUTE));
    for (const d of daemons) expect(d.stderr()).toBe('');
  });

  it('webhooks spread across the three daemons each run once, redeliveries to another daemon included', async () => {
    downstream.script('POST /seen', { status: 200, body: { ok: true } });
    flow('intake', `trigger:\n  webhook: { path: /hooks/intake, dedupe: "\${{ event.id }}" }\nsteps:\n  - id: record\n    uses: http\n    with: { url: "${downstream.url}/seen", method: POST, json: { id: "\${{ event.id }}" } }\n`);
    const daemons = await Promise.all([1, 2, 3].map((n) => daemon(n, {}, '--lease', '5s')));
    store = await openCluster();
    const deliveries = 300;
    const answers = await Promise.all(Array.from({ length: deliveries }, async (_, i) => {
      const first = await post(`${daemons[i % 3]!.url}/hooks/intake`, { id: `evt_${i}` });
      // Every tenth delivery is sent again, to another daemon, as a sender retrying would.
      const again = i % 10 === 0 ? await post(`${daemons[(i + 1) % 3]!.url}/hooks/intake`, { id: `evt_${i}` }) : undefined;
      return { first: first.status, firstId: ((await first.json()) as { run_id: string }).run_id, again: again?.status, againId: again ? ((await again.json()) as { run_id: string }).run_id : undefined };
    }));
    expect(answers.filter((a) => a.first !== 202)).toEqual([]);
    for (const a of answers.filter((x) => x.again !== undefined)) expect([a.again, a.againId]).toEqual([200, a.firstId]);
    const runs = await until('every delivery to run', () => runsOf('intake'), (r) => r.length === deliveries && r.every((x) => x.status === 'succeeded'));
    expect(new Set(runs.map((r) => r.id)).size).toBe(deliveries);
    const seen = downstream.received.filter((r) => r.path === '/seen').map((r) => (JSON.parse(r.body) as { id: string }).id);
    expect(seen.sort()).toEqual(Array.from({ length: deliveries }, (_, i) => `evt_${i}`).sort());
  });

  it('a daemon killed with SIGKILL mid-run: another resumes its runs within the lease, no call made twice without its key', async () => {
    downstream.script('POST /charge', { status: 200, body: { charged: true } });
    // Every call to /slow takes 4 s: long enough to kill a daemon while its runs are in it.
    downstream.script('POST /slow', { status: 200, body: { ok: true }, delayMs: 4_000 });
    downstream.script('POST /done', { status: 200, body: { ok: true } });
    flow('pay', `trigger:\n  webhook: { path: /hooks/pay }\nsteps:
  - id: charge
    uses: http
    with: { url: "${downstream.url}/charge", method: POST, json: { order: "\${{ event.order }}" } }
  - id: confirm
    uses: http
    with: { url: "${downstream.url}/slow", method: POST, json: { order: "\${{ event.order }}" } }
    timeout: 90s
  - id: done
    uses: http
    with: { url: "${downstream.url}/done", method: POST, json: { order: "\${{ event.order }}" } }
`);
    const lease = 2_000;
    const daemons = await Promise.all([1, 2, 3].map((n) => daemon(n, {}, '--lease', '2s', '--concurrency', '10')));
    store = await openCluster();
    const orders = 12;
    for (let i = 0; i < orders; i++) expect((await post(`${daemons[i % 3]!.url}/hooks/pay`, { order: `o${i}` })).status).toBe(202);
    await until('every run to reach the slow call', async () => downstream.received.filter((r) => r.path === '/slow').length, (n) => n === orders);
    const running = await runsOf('pay');
    const victim = daemons[0]!;
    const victimPid = String(victim.child.pid);
    const held = running.filter((r) => r.leaseOwner?.includes(`:${victimPid}:`));
    expect(held.length).toBeGreaterThan(0);
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exit;
    // A survivor takes each of the victim's runs once its lease runs out, replays `charge` from
    // the journal and calls /slow again (with the same key): that call is the failover.
    const resumedAt = await until('a survivor to call /slow again for a rescued run', async () => downstream.received.filter((r) => r.path === '/slow').length, (n) => n > orders);
    expect(resumedAt).toBeGreaterThan(orders);
    const failover = Date.now() - killedAt;
    const done = await until('every run to finish', () => runsOf('pay'), (r) => r.length === orders && r.every((x) => x.status === 'succeeded'), 60_000);
    // The victim's runs were rescued (attempt 2) by a survivor, within the lease and a claim poll.
    for (const r of done.filter((x) => held.some((h) => h.id === x.id))) expect(r.attempt).toBe(2);
    expect(failover).toBeLessThan(lease + 8_000);
    const calls = (path: string) => downstream.received.filter((r) => r.path === path && !r.aborted).map((r) => (JSON.parse(r.body) as { order: string }).order);
    // charge (not idempotent) was made once per order: the rescue replayed it from the journal.
    expect(calls('/charge').sort()).toEqual(Array.from({ length: orders }, (_, i) => `o${i}`).sort());
    expect(calls('/done').sort()).toEqual(Array.from({ length: orders }, (_, i) => `o${i}`).sort());
    // confirm was called again for the rescued runs, each time with that run's one key.
    const confirms = downstream.received.filter((r) => r.path === '/slow');
    expect(confirms.length).toBeGreaterThan(orders);
    for (const order of new Set(confirms.map((r) => (JSON.parse(r.body) as { order: string }).order))) {
      const keys = new Set(confirms.filter((r) => (JSON.parse(r.body) as { order: string }).order === order).map((r) => r.headers['idempotency-key']));
      expect(keys.size).toBe(1);
      expect([...keys][0]).toMatch(/:confirm$/);
    }
  });

  it('a daemon cut from the database stops holding its runs, and another finishes them', async () => {
    downstream.script('POST /step', { status: 200, body: { ok: true }, delayMs: 1_500 });
    flow('cut', `trigger:\n  webhook: { path: /hooks/cut }\nsteps:
  - id: one
    uses: http
    with: { url: "${downstream.url}/step", method: POST, json: { n: "\${{ event.n }}", step: 1 } }
  - id: two
    uses: http
    with: { url: "${downstream.url}/step", method: POST, json: { n: "\${{ event.n }}", step: 2 } }
`);
    // The first daemon connects as a role of its own, so that it alone can be cut off.
    const role = `flux_cut_${process.pid}`;
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    await adminQuery(`CREATE ROLE ${role} SUPERUSER LOGIN`);
    onTestFinished(async () => {
      await adminQuery(`REASSIGN OWNED BY ${role} TO CURRENT_USER`);
      await adminQuery(`DROP ROLE ${role}`);
    });
    const first = await daemon(1, { PGUSER: role }, '--lease', '2s', '--concurrency', '10');
    store = await openCluster();
    for (let i = 0; i < 5; i++) expect((await post(`${first.url}/hooks/cut`, { n: i })).status).toBe(202);
    await until('the first daemon to hold the runs', () => runsOf('cut'), (r) => r.length === 5 && r.every((x) => x.status === 'running'));
    // Cut it off: every connection it opens is terminated at once, for longer than its lease.
    const cutting = cutOff(role, 6_000);
    const rescuer = await daemon(2, {}, '--lease', '2s', '--concurrency', '10');
    await cutting;
    const runs = await until('the runs to finish', () => runsOf('cut'), (r) => r.length === 5 && r.every((x) => x.status === 'succeeded'), 60_000);
    expect(runs.filter((r) => r.attempt < 2)).toEqual([]);
    // Each step's calls, however many, carried that step's one key.
    const keys = new Map<string, Set<unknown>>();
    for (const r of downstream.received.filter((x) => x.path === '/step')) {
      const b = JSON.parse(r.body) as { n: number; step: number };
      const id = `${b.n}/${b.step}`;
      keys.set(id, (keys.get(id) ?? new Set()).add(r.headers['idempotency-key']));
    }
    expect(keys.size).toBe(10);
    for (const [id, k] of keys) {
      expect(k.size, id).toBe(1);
      expect(String([...k][0])).toMatch(id.endsWith('/1') ? /:one$/ : /:two$/);
    }
    // The daemon that was cut off finished none of them: its lost leases stopped it.
    const finishedIn = (logs: string) => runs.filter((r) => {
      const file = join(dir, logs, 'cut', `${r.id}.jsonl`);
      return existsSync(file) && readRunLog(file).records.some((x) => x.type === 'run.finished');
    }).length;
    expect(finishedIn('state-1/logs')).toBe(0);
    expect(finishedIn('state-2/logs')).toBe(5);
  });
});

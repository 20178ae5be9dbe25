// Waking daemons across nodes (issue 11): a PostgreSQL store tells the others on its schema
// when it made work due (LISTEN/NOTIFY), a listener that loses its connection comes back and
// looks again, and an idle daemon whose poll is an hour away starts a run another daemon took
// in at once, because it was told.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { openStore } from '../../src/store/open.js';
import type { NewRun, Store, StoreTopic } from '../../src/store/store.js';
import { scratch, startServiceOn, T0 } from '../daemon/events-helpers.js';
import { adminQuery, requirePostgres, testSchemas, urlWithSchema } from '../pg-helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';

const schemas = testSchemas('flux_notify');
const opened: Store[] = [];
const daemons: Daemon[] = [];
beforeAll(requirePostgres);
afterEach(async () => {
  for (const d of daemons.splice(0)) await d.stop(0);
  for (const s of opened.splice(0)) await s.close();
});
afterAll(() => schemas.dropAll());

async function open(url: string): Promise<Store> {
  const store = await openStore(url, { now: Date.now });
  opened.push(store);
  return store;
}

/** Polls until `check` holds; fails naming `what` if it does not within 10 s. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const run = (id: string): NewRun => ({ id, workflow: 'intake', workflowVersion: 'sha256:v1', trigger: 'webhook', event: {}, receivedAt: T0 });

describe('PostgreSQL notifications', () => {
  it('another store on the schema hears of runs enqueued and events appended, and a store on another schema does not', async () => {
    const url = urlWithSchema(schemas.fresh());
    const [a, b, elsewhere] = [await open(url), await open(url), await open(urlWithSchema(schemas.fresh()))];
    const heard: StoreTopic[] = [];
    const heardElsewhere: StoreTopic[] = [];
    b.subscribe!((t) => heard.push(t));
    elsewhere.subscribe!((t) => heardElsewhere.push(t));
    // On connecting, a listener looks once for what it may have missed.
    await until('the listeners to connect', () => heard.length === 2 && heardElsewhere.length === 2);
    heard.length = 0;
    heardElsewhere.length = 0;
    await a.putWorkflowVersion({ hash: 'sha256:v1', name: 'intake', text: 'name: intake', createdAt: T0 });
    await a.enqueueRun(run('01RUN0001'), T0);
    await until('the run to be heard of', () => heard.includes('runs'));
    await a.appendEvent({ id: '01EVT0001', name: 'lead.created', data: {}, createdAt: T0 });
    await until('the event to be heard of', () => heard.includes('events'));
    // A write that made nothing due says nothing: the same key again is a duplicate.
    heard.length = 0;
    await a.enqueueRun({ ...run('01RUN0002'), key: { kind: 'dedupe', key: 'k' } }, T0);
    await until('the keyed run to be heard of', () => heard.includes('runs'));
    heard.length = 0;
    expect((await a.enqueueRun({ ...run('01RUN0003'), key: { kind: 'dedupe', key: 'k' } }, T0)).created).toBe(false);
    await a.appendEvent({ id: '01EVT0002', name: 'marker', data: {}, createdAt: T0 });
    await until('the marker event', () => heard.includes('events'));
    expect(heard).toEqual(['events']);
    expect(heardElsewhere).toEqual([]);
  });

  it('a listener whose connection is cut connects again and looks for what it missed', async () => {
    const schema = schemas.fresh();
    const url = urlWithSchema(schema);
    const [a, b] = [await open(url), await open(url)];
    const heard: StoreTopic[] = [];
    b.subscribe!((t) => heard.push(t));
    await until('the listener to connect', () => heard.length === 2);
    const listeners = () => adminQuery<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = 'flux listener' AND query = $1", [`LISTEN flux_${schema}`]);
    await until('the listener to show', async () => (await listeners()).length === 1);
    const [before] = await listeners();
    await adminQuery('SELECT pg_terminate_backend($1)', [before!.pid]);
    // It comes back on a new connection and says both topics may have news.
    await until('the listener to come back', async () => (await listeners()).some((l) => l.pid !== before!.pid));
    await until('it to look again', () => heard.length === 4);
    await a.putWorkflowVersion({ hash: 'sha256:v1', name: 'intake', text: 'name: intake', createdAt: T0 });
    await a.enqueueRun(run('01RUN0001'), T0);
    await until('the run to be heard of on the new connection', () => heard.length === 5 && heard[4] === 'runs');
  });

  it('an idle daemon whose next poll is an hour away starts a run another daemon took in, because it was told', async () => {
    let server: TestServer | undefined;
    try {
      server = await startTestServer();
      server.script('POST /hold', { status: 200, body: {}, delayMs: 5_000 });
      const s = scratch();
      s.workflow('intake', `name: intake\nowner: ops@example.com\ntrigger:\n  webhook: { path: /hooks/intake }\nsteps:\n  - id: hold\n    uses: http\n    with: { url: "${server.url}/hold", method: POST, json: { n: "\${{ event.n }}" } }\n`);
      const store = urlWithSchema(schemas.fresh());
      const post = (d: Daemon, n: number) => fetch(`${d.url}/hooks/intake`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
      const called = (n: number) => server!.received.some((r) => (JSON.parse(r.body) as { n: number }).n === n);
      // Polls an hour apart: a daemon claims when it takes a webhook itself, when a turn of
      // its own ends, or when it is told.
      const busy = await startServiceOn(s, 'intake', null, { store, concurrency: 1, pollMs: 3_600_000, stateDir: `${s.dir}/state-a`, logDir: `${s.dir}/logs-a` });
      daemons.push(busy);
      expect((await post(busy, 1)).status).toBe(202);
      await until('the busy daemon to start its run', () => called(1));
      const idle = await startServiceOn(s, 'intake', null, { store, concurrency: 2, pollMs: 3_600_000, stateDir: `${s.dir}/state-b`, logDir: `${s.dir}/logs-b` });
      daemons.push(idle);
      // A run of its own proves the idle daemon up and claiming; then its claim loop goes quiet.
      expect((await post(idle, 0)).status).toBe(202);
      await until('the idle daemon to start its own run', () => called(0));
      await new Promise((r) => setTimeout(r, 300));
      // The busy daemon takes this one in but has no free slot; only the other can start it.
      expect((await post(busy, 2)).status).toBe(202);
      await until('the second run to call, from the idle daemon', () => called(2));
      const reader = await open(store);
      const runs = await reader.listRuns({ workflow: 'intake' });
      const ownerOf = (n: number) => runs.find((r) => (r.event as { n: number }).n === n)?.leaseOwner;
      expect([ownerOf(1), ownerOf(0), ownerOf(2)]).toEqual([busy.id, idle.id, idle.id]);
    } finally {
      await server?.close();
    }
  });
});

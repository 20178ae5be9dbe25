// A run the daemon parks in a durable wait is resumed at its wake time by the daemon's wake
// timer, not by the poll: the daemon service here polls once an hour, so only the wake timer
// can resume the runs before the test gives up. A real SQLite store, the real runner and
// engine, a real HTTP server counting the calls, webhooks over HTTP, and the test clock file
// (FLUX_TEST_CLOCK's clock) moved by the test.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { eventually, scratch, sql, startServiceOn, T0 } from './events-helpers.js';

vi.setConfig({ testTimeout: 30_000 });

const HOUR = 3_600_000;
let downstream: TestServer;
let daemon: Daemon | undefined;
beforeEach(async () => {
  downstream = await startTestServer();
});
afterEach(async () => {
  await daemon?.stop(1000);
  await downstream.close();
});

it('runs waiting until different times resume each at its own time, with no poll to find them', async () => {
  downstream.script('POST /chase', { status: 200, body: {} });
  const s = scratch();
  s.workflow('reminder', `name: reminder
owner: ops@example.com
trigger:
  webhook: { path: /hooks/booking }
steps:
  - id: reply
    wait: { until: "\${{ event.wake }}" }
  - id: chase
    uses: http
    with: { url: "${downstream.url}/chase", method: POST, json: { booking: "\${{ event.booking }}" } }
`);
  daemon = await startServiceOn(s, 'reminder', null, { pollMs: HOUR });
  const ids: string[] = [];
  for (const [booking, wake] of [['b-1', T0 + HOUR], ['b-2', T0 + 2 * HOUR]] as const) {
    const res = await fetch(`${daemon.url}/hooks/booking`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ booking, wake: new Date(wake).toISOString() }) });
    expect(res.status).toBe(202);
    ids.push(((await res.json()) as { run_id: string }).run_id);
  }
  // By booking: both ids are made in one instant of the test clock, so they do not sort by creation.
  const status = () => {
    const rows = new Map(sql(s, 'SELECT id, status FROM runs').map((r) => [r.id, r.status]));
    return Promise.resolve(ids.map((id) => rows.get(id)));
  };
  expect(await eventually(status, (st) => st.every((x) => x === 'waiting'))).toEqual(['waiting', 'waiting']);

  s.setClock(T0 + HOUR);
  expect(await eventually(status, (st) => st[0] === 'succeeded')).toEqual(['succeeded', 'waiting']);
  expect(downstream.received.filter((r) => r.path === '/chase').map((r) => JSON.parse(r.body) as unknown)).toEqual([{ booking: 'b-1' }]);

  s.setClock(T0 + 2 * HOUR + 1);
  expect(await eventually(status, (st) => st[1] === 'succeeded')).toEqual(['succeeded', 'succeeded']);
  expect(downstream.received.filter((r) => r.path === '/chase')).toHaveLength(2);

  // Each resumed when the clock stood at its wake time, in one attempt, its log complete.
  const resumedAt = ids.map((id) => {
    const records = readFileSync(join(s.dir, 'state', 'logs', 'reminder', `${id}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; ts: string });
    expect(records.filter((r) => r.type === 'run.resumed')).toHaveLength(1);
    expect(records.filter((r) => r.type === 'run.finished')).toHaveLength(1);
    return records.find((r) => r.type === 'run.resumed')!.ts;
  });
  expect(resumedAt).toEqual([new Date(T0 + HOUR).toISOString(), new Date(T0 + 2 * HOUR + 1).toISOString()]);
});

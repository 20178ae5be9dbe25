// The chain depth limit stops an event loop at run time. `flux lint` refuses a static cycle
// (event-cycle), so `flux daemon` never starts with one; the limit is the guard for what lint
// cannot see, and this test hands the daemon service a self-triggering workflow directly,
// past the CLI's lint gate: a real SQLite store, the real runner and engine, a real HTTP
// server counting the calls, and the event injected by a spawned `flux event`.
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { eventually, fluxEvent, scratch, sql, startServiceOn } from './events-helpers.js';

vi.setConfig({ testTimeout: 30_000 });

let downstream: TestServer;
let daemon: Daemon | undefined;
beforeEach(async () => {
  downstream = await startTestServer();
});
afterEach(async () => {
  await daemon?.stop(1000);
  await downstream.close();
});

it('a self-triggering workflow stops at the chain depth limit, and the stop is logged with its chain', async () => {
  downstream.script('POST /tick', { status: 200, body: {} });
  const s = scratch();
  s.workflow('loop', `name: loop
owner: ops@example.com
trigger:
  event: { name: tick }
steps:
  - id: call
    uses: http
    with: { url: "${downstream.url}/tick", method: POST }
  - id: again
    emit: { event: tick, data: { from: "\${{ run.id }}" } }
`);
  const lines: string[] = [];
  daemon = await startServiceOn(s, 'loop', lines, { maxChainDepth: 3 });
  const sent = await fluxEvent(s, 'tick', '--data', '{"from": "outside"}', '--state-dir', 'state');
  expect(sent.code).toBe(0);

  // Outside event (depth 0) → run 1 → run 2 → run 3; run 3's event would start a fourth hop.
  const stopped = await eventually(async () => lines.filter((l) => l.includes('past the chain depth limit')), (found) => found.length > 0);
  const runs = sql(s, 'SELECT id, parent_run_id, chain_depth, status FROM runs ORDER BY chain_depth');
  expect(runs.map((r) => r.chain_depth)).toEqual([1, 2, 3]);
  expect(runs.map((r) => r.parent_run_id)).toEqual([null, runs[0]!.id, runs[1]!.id]);
  expect(stopped).toEqual([
    `event tick (${String(runs[2]!.id)}:again) is past the chain depth limit (3): it starts no run of loop; chain of runs: ${runs.map((r) => r.id).join(' → ')} (1 stopped so far)`,
  ]);
  // Every event is delivered, the last one to nothing, so nothing is retried and no run follows.
  const events = await eventually(async () => sql(s, 'SELECT chain_depth, delivered_at IS NOT NULL AS delivered FROM events ORDER BY chain_depth'), (rows) => rows.every((r) => r.delivered === 1));
  expect(events).toEqual([0, 1, 2, 3].map((depth) => ({ chain_depth: depth, delivered: 1 })));
  await eventually(async () => sql(s, "SELECT id FROM runs WHERE status = 'succeeded'"), (rows) => rows.length === 3);
  expect(sql(s, 'SELECT status FROM runs')).toEqual([{ status: 'succeeded' }, { status: 'succeeded' }, { status: 'succeeded' }]);
  expect(downstream.received.filter((r) => r.path === '/tick')).toHaveLength(3);
  // The daemon counts a delivery once the store's write resolves, after the WAL sync; a read
  // through SQL can see the commit a moment before that.
  const running = daemon;
  const counted = await eventually(async () => ({ ...running.events }), (e) => e.delivered >= 4);
  expect(counted).toMatchObject({ delivered: 4, started: 3, pastChainDepth: 1 });
});

// The daemon's intake spool (store/sqlite/intake-spool.ts) in a real daemon service on a real
// SQLite store: webhook deliveries without a dedupe key are spooled, and adopted as queued runs
// only when the claim loop has free slots. The service here polls once an hour, so only the
// claim loop's own adoption can start anything: a workflow held at its `concurrency` limit with
// a long backlog spooled ahead must not keep another workflow's delivery from starting, and a
// keyed delivery still goes straight to the store, which answers a redelivery with the first id.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { join } from 'node:path';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { Daemon } from '../../src/daemon/daemon.js';
import { loadWorkflow } from '../../src/workflow/load.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { eventually, fluxCommand, scratch, sql, startServiceOn, type Scratch } from './events-helpers.js';

vi.setConfig({ testTimeout: 30_000 });

const HOUR = 3_600_000;
let downstream: TestServer;
let daemon: Daemon | undefined;
beforeEach(async () => {
  downstream = await startTestServer();
});
afterEach(async () => {
  await daemon?.stop(100);
  daemon = undefined;
  await downstream.close();
});

function hookFlow(name: string, path: string, extra = ''): string {
  return `name: ${name}
owner: ops@example.com
${extra}trigger:
  webhook: { path: ${path} }
steps:
  - id: call
    uses: http
    with: { url: "${downstream.url}/${name}", method: POST }
`;
}

async function load(s: Scratch, name: string) {
  const loaded = await loadWorkflow(join(s.dir, 'flows', `${name}.yaml`), `flows/${name}.yaml`, { allowSilent: true });
  if (!loaded.ok) throw new Error(`the ${name} workflow does not load`);
  return { workflow: loaded.workflow, text: loaded.text };
}

async function post(url: string, body: unknown = {}): Promise<{ status: number; runId: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, runId: ((await res.json()) as { run_id: string }).run_id };
}

it('a workflow held at its limit, with a backlog spooled ahead, does not keep another workflow\'s delivery from starting', async () => {
  downstream.script('POST /limited', { status: 200, body: {}, delayMs: 6_000 });
  downstream.script('POST /slow', { status: 200, body: {}, delayMs: 1_000 });
  downstream.script('POST /other', { status: 200, body: {} });
  const s = scratch();
  s.workflow('limited', hookFlow('limited', '/hooks/limited', 'concurrency: 1\n'));
  s.workflow('slow', hookFlow('slow', '/hooks/slow'));
  s.workflow('other', hookFlow('other', '/hooks/other'));
  daemon = await startServiceOn(s, 'limited', null, { pollMs: HOUR, concurrency: 2, workflows: [await load(s, 'limited'), await load(s, 'slow'), await load(s, 'other')] });
  expect(existsSync(join(s.dir, 'state', 'flux.db-intake'))).toBe(true);
  const status = (id: string) => sql(s, `SELECT status FROM runs WHERE id = '${id}'`)[0]?.status;

  // Both slots taken: the first limited run (6 s) and a slow one (1 s).
  const first = await post(`${daemon.url}/hooks/limited`);
  const slow = await post(`${daemon.url}/hooks/slow`);
  expect(await eventually(() => Promise.resolve([status(first.runId), status(slow.runId)]), (st) => st.every((x) => x === 'running'))).toEqual(['running', 'running']);
  // With no slot free nothing is adopted: three adoptions' worth (a free slot + 64 each) of the
  // limited workflow is spooled ahead of the other workflow's delivery.
  for (let i = 0; i < 200; i++) expect((await post(`${daemon.url}/hooks/limited`)).status).toBe(202);
  const other = await post(`${daemon.url}/hooks/other`);
  expect(other.status).toBe(202);
  expect(sql(s, 'SELECT count(*) AS n FROM intake', 'flux.db-intake')).toEqual([{ n: 201 }]);

  // The slow run ends, one slot frees: the claim adopts past the limited backlog to the other.
  expect(await eventually(() => Promise.resolve(status(other.runId)), (st) => st === 'succeeded')).toBe('succeeded');
  // Before the first limited run's call (6 s) came back: nothing but adoption started it.
  expect(status(first.runId)).toBe('running');
  expect(sql(s, "SELECT count(*) AS n FROM runs WHERE workflow = 'limited' AND status = 'running'")).toEqual([{ n: 1 }]);
});

it('keyed deliveries go to the store: a redelivery gets the first run\'s id; unkeyed ones are spooled, each a run', async () => {
  downstream.script('POST /keyed', { status: 200, body: {} });
  downstream.script('POST /plain', { status: 200, body: {} });
  const s = scratch();
  s.workflow('keyed', hookFlow('keyed', '/hooks/keyed').replace('  webhook: { path: /hooks/keyed }', '  webhook: { path: /hooks/keyed, dedupe: "${{ event.id }}" }'));
  s.workflow('plain', hookFlow('plain', '/hooks/plain'));
  daemon = await startServiceOn(s, 'keyed', null, { pollMs: HOUR, workflows: [await load(s, 'keyed'), await load(s, 'plain')] });

  const first = await post(`${daemon.url}/hooks/keyed`, { id: 'evt_1' });
  const again = await post(`${daemon.url}/hooks/keyed`, { id: 'evt_1' });
  expect([first.status, again.status]).toEqual([202, 200]);
  expect(again.runId).toBe(first.runId);
  const plain = [await post(`${daemon.url}/hooks/plain`, { id: 'evt_1' }), await post(`${daemon.url}/hooks/plain`, { id: 'evt_1' })];
  expect(plain.map((p) => p.status)).toEqual([202, 202]);
  expect(plain[0]!.runId).not.toBe(plain[1]!.runId);

  const done = () => Promise.resolve(sql(s, "SELECT workflow, count(*) AS n FROM runs WHERE status = 'succeeded' GROUP BY workflow ORDER BY workflow"));
  expect(await eventually(done, (rows) => rows.length === 2 && rows.every((r) => (r.workflow === 'keyed' ? r.n === 1 : r.n === 2))))
    .toEqual([{ workflow: 'keyed', n: 1 }, { workflow: 'plain', n: 2 }]);
  // Adopted, so no longer in the spool (the delete follows the store's commit).
  expect(await eventually(() => Promise.resolve(sql(s, `SELECT count(*) AS n FROM intake`, 'flux.db-intake')), (rows) => rows[0]?.n === 0)).toEqual([{ n: 0 }]);
});

it('`flux runs` lists deliveries still spooled as queued, shows one, and cancels one, which then never runs', async () => {
  downstream.script('POST /busy', { status: 200, body: {}, delayMs: 1_500 });
  downstream.script('POST /leads', { status: 200, body: {} });
  const s = scratch();
  s.workflow('busy', hookFlow('busy', '/hooks/busy'));
  s.workflow('leads', hookFlow('leads', '/hooks/leads'));
  daemon = await startServiceOn(s, 'busy', null, { pollMs: HOUR, concurrency: 1, workflows: [await load(s, 'busy'), await load(s, 'leads')] });
  const busy = await post(`${daemon.url}/hooks/busy`);
  expect(await eventually(() => Promise.resolve(sql(s, `SELECT status FROM runs WHERE id = '${busy.runId}'`)[0]?.status), (st) => st === 'running')).toBe('running');
  const leads = [await post(`${daemon.url}/hooks/leads`, { email: 'ann@example.com' }), await post(`${daemon.url}/hooks/leads`, { email: 'bo@example.com' })];
  expect(sql(s, 'SELECT count(*) AS n FROM intake', 'flux.db-intake')).toEqual([{ n: 2 }]);

  const listed = await fluxCommand(s, 'runs', 'list', '--status', 'queued', '--json', '--state-dir', 'state');
  expect(listed.code, listed.stderr).toBe(0);
  // Both were received in one instant of the test clock: their ids, not their times, order them.
  expect((JSON.parse(listed.stdout) as { runs: { id: string; workflow: string; status: string }[] }).runs.map((r) => [r.id, r.workflow, r.status]))
    .toEqual(leads.map((l) => [l.runId, 'leads', 'queued']).sort((a, b) => (a[0]! < b[0]! ? 1 : -1)));
  const shown = await fluxCommand(s, 'runs', 'show', leads[0]!.runId, '--state-dir', 'state');
  expect(shown.code, shown.stderr).toBe(0);
  expect(shown.stdout).toMatch(/queued/);
  const cancelled = await fluxCommand(s, 'runs', 'cancel', leads[1]!.runId, '--state-dir', 'state');
  expect(cancelled.code, cancelled.stderr + cancelled.stdout).toBe(0);

  // The busy run ends; the first lead runs; the cancelled one, adopted after its cancel, does not.
  const final = () => Promise.resolve(leads.map((l) => sql(s, `SELECT status FROM runs WHERE id = '${l.runId}'`)[0]?.status));
  expect(await eventually(final, (st) => st[0] === 'succeeded')).toEqual(['succeeded', 'cancelled']);
  expect(await eventually(() => Promise.resolve(sql(s, 'SELECT count(*) AS n FROM intake', 'flux.db-intake')), (rows) => rows[0]?.n === 0)).toEqual([{ n: 0 }]);
  expect(downstream.received.filter((r) => r.path === '/leads')).toHaveLength(1);
});

it('a spool that is not a database: the daemon exits 1 (as for its store), `flux runs` 2, both naming the file, no stack trace', async () => {
  const s = scratch();
  s.workflow('leads', hookFlow('leads', '/hooks/leads'));
  mkdirSync(join(s.dir, 'state'));
  writeFileSync(join(s.dir, 'state', 'flux.db-intake'), 'this is not a SQLite database, but a file someone put here by hand\n'.repeat(20));
  const started = await fluxCommand(s, 'daemon', 'flows', '--state-dir', 'state', '--port', '0', '--allow-silent');
  expect(started.code).toBe(1);
  expect(started.stderr).toContain('cannot open the state database');
  expect(started.stderr).toContain('flux.db-intake: file is not a database');
  expect(started.stderr).not.toMatch(/\n\s+at /);
  // The store itself opened before the spool failed; the lock is released.
  expect(existsSync(join(s.dir, 'state', 'daemon.pid'))).toBe(false);
  const listed = await fluxCommand(s, 'runs', 'list', '--state-dir', 'state');
  expect(listed.code).toBe(2);
  expect(listed.stderr).toContain('flux.db-intake: file is not a database');
  expect(listed.stderr).not.toMatch(/\n\s+at /);
});

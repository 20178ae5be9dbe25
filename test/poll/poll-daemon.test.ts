// Poll triggers in a real `flux daemon` process, on a clock the test moves (FLUX_TEST_CLOCK),
// against a real HTTP server with paged responses: the first poll is the baseline, a new item
// starts exactly one run, pagination stops at max_pages, the cursor is carried to the next
// poll, a daemon killed with SIGKILL between polls keeps its seen keys and cursor, and failing
// polls back off and tell the owner once.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { PollState, Store } from '../../src/store/store.js';
import { killChildren, spawnDaemon, type RunningDaemon } from '../daemon/spawn-daemon.js';
import { runFlux } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';

vi.setConfig({ testTimeout: 60_000 });

const MIN = 60_000;
const T0 = Date.parse('2026-11-24T09:00:00.000Z');

let dir: string;
let clockFile: string;
let desk: TestServer;
const children: ChildProcessWithoutNullStreams[] = [];
const stores: Store[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flux-poll-daemon-'));
  mkdirSync(join(dir, 'flows'));
  clockFile = join(dir, 'clock');
  desk = await startTestServer();
  desk.script('POST /handled', { status: 200, body: { ok: true } });
  desk.script('POST /alerts', { status: 200, body: { ok: true } });
});
afterEach(async () => {
  killChildren(children);
  for (const s of stores.splice(0)) await s.close();
  await desk.close();
});

function setClock(ms: number): void {
  writeFileSync(clockFile, String(ms));
}

function workflow(extra = ''): void {
  writeFileSync(join(dir, 'flows', 'tickets.yaml'), `name: tickets
owner: ops@example.com
trigger:
  poll:
    every: 5m
    uses: desk.request
    with: { path: /tickets, query: { since: "\${{ poll.cursor == null ? '' : string(poll.cursor) }}" } }
    items: \${{ response.body.tickets }}
    dedupe: \${{ string(item.id) }}
    cursor: \${{ max(items.map(i, i.updated_at)) }}
    paginate: { next: "\${{ response.body.next }}", max_pages: 2 }
${extra}connections:
  desk: { base_url: "${desk.url}" }
steps:
  - id: handle
    uses: desk.request
    with: { method: POST, path: /handled, json: { id: "\${{ event.id }}" } }
on_error:
  escalate: { uses: desk.request, with: { method: POST, path: /alerts, json: { text: "\${{ error.message }}" } } }
`);
}

function daemon(): Promise<RunningDaemon> {
  return spawnDaemon({ cwd: dir, args: ['flows', '--state-dir', 'state', '--port', '0', '--grace', '2s'], env: { FLUX_TEST_CLOCK: clockFile }, children });
}

async function store(): Promise<Store> {
  const s = await openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: Date.now });
  stores.push(s);
  return s;
}

/** Waits until the poll state satisfies `check` (the daemon is another process). */
async function pollStateWhen(s: Store, check: (p: PollState | undefined) => boolean): Promise<PollState | undefined> {
  let state: PollState | undefined;
  await vi.waitFor(async () => {
    state = await s.pollState('tickets');
    expect(check(state)).toBe(true);
  }, { timeout: 20_000, interval: 10 });
  return state;
}

/** The log line comes just after the store write a test waits for: wait for it too. */
async function logged(d: RunningDaemon, expected: string | RegExp): Promise<void> {
  await vi.waitFor(() => (typeof expected === 'string' ? expect(d.output()).toContain(expected) : expect(d.output()).toMatch(expected)), { timeout: 20_000 });
}

const requests = (path: string) => desk.received.filter((r) => r.path === path);
const handled = () => requests('/handled').map((r) => (JSON.parse(r.body) as { id: string }).id).sort();
const ticket = (id: string, updated: string) => ({ id, updated_at: `2026-11-24T${updated}Z` });

describe('flux daemon: poll triggers', () => {
  it('baseline, then one run per new item; pages up to max_pages; the cursor survives a SIGKILL', async () => {
    desk.script('GET /tickets', { body: { tickets: [ticket('A', '08:00:00'), ticket('B', '08:10:00')], next: '/tickets/p2' } });
    desk.script('GET /tickets/p2', { body: { tickets: [ticket('C', '08:20:00')], next: '/tickets/p3' } });
    desk.script('GET /tickets/p3', { body: { tickets: [ticket('D', '08:30:00')], next: null } });
    workflow();
    setClock(T0);
    const first = await daemon();
    const s = await store();
    // The first poll: two pages (max_pages: 2), recorded as the baseline; nothing runs.
    const baseline = await pollStateWhen(s, (p) => p?.polled === true);
    expect(baseline).toMatchObject({ cursor: '2026-11-24T08:20:00Z', seen: 3, failures: 0, nextPollAt: T0 + 5 * MIN });
    expect(requests('/tickets/p3')).toHaveLength(0);
    await logged(first, 'poll tickets: baseline of 3 items recorded');
    await logged(first, 'more pages than paginate.max_pages (2)');
    expect(await s.listRuns({ workflow: 'tickets' })).toEqual([]);

    // The next poll sends the cursor and finds one new item (B was seen): one run.
    desk.script('GET /tickets', { body: { tickets: [ticket('B', '08:10:00'), ticket('E', '09:01:00')], next: null } });
    setClock(T0 + 5 * MIN);
    await pollStateWhen(s, (p) => p?.cursor === '2026-11-24T09:01:00Z');
    expect(requests('/tickets').at(-1)?.query.since).toBe('2026-11-24T08:20:00Z');
    await vi.waitFor(() => expect(handled()).toEqual(['E']), { timeout: 20_000 });
    const runs = await s.listRuns({ workflow: 'tickets' });
    expect(runs.map((r) => [r.trigger, r.event])).toEqual([['poll', ticket('E', '09:01:00')]]);
    // Killed only once E's run has ended: a run killed mid-step would rightly call again on rescue.
    await vi.waitFor(async () => expect((await s.getRun(runs[0]!.id))?.status).toBe('succeeded'), { timeout: 20_000 });

    // Killed between polls: the restarted daemon keeps what was seen and the cursor.
    first.child.kill('SIGKILL');
    await first.exit;
    desk.script('GET /tickets', { body: { tickets: [ticket('A', '08:00:00'), ticket('E', '09:01:00'), ticket('F', '09:07:00')], next: null } });
    setClock(T0 + 10 * MIN);
    const second = await daemon();
    await pollStateWhen(s, (p) => p?.cursor === '2026-11-24T09:07:00Z');
    expect(requests('/tickets').at(-1)?.query.since).toBe('2026-11-24T09:01:00Z');
    await vi.waitFor(() => expect(handled()).toEqual(['E', 'F']), { timeout: 20_000 });
    await logged(second, 'poll tickets: 3 items, 1 new: 1 run started');
    expect(second.output()).not.toContain('baseline');
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
    expect(handled()).toEqual(['E', 'F']);
  });

  it('backs failing polls off, tells the owner once after escalate_after failures, and starts over after a success', async () => {
    desk.script('GET /tickets', { status: 503, body: { error: 'maintenance' } });
    workflow('    initial: all\n    escalate_after: 3\n');
    setClock(T0);
    const d = await daemon();
    const s = await store();
    await pollStateWhen(s, (p) => p?.failures === 1);
    await logged(d, /poll tickets failed \(1 in a row; next try in 300 s\): desk\.request: .*503/);
    // Backed off: the second try comes 5 minutes later, the third 10 minutes after that.
    setClock(T0 + 5 * MIN);
    await pollStateWhen(s, (p) => p?.failures === 2);
    await logged(d, '(2 in a row; next try in 600 s)');
    setClock(T0 + 14 * MIN);
    await new Promise((r) => setTimeout(r, 300));
    expect((await s.pollState('tickets'))?.failures).toBe(2);
    expect(requests('/alerts')).toHaveLength(0);
    setClock(T0 + 15 * MIN);
    await pollStateWhen(s, (p) => p?.failures === 3);
    await vi.waitFor(() => expect(requests('/alerts')).toHaveLength(1), { timeout: 20_000 });
    expect(JSON.parse(requests('/alerts')[0]!.body)).toEqual({ text: expect.stringMatching(/^3 polls in a row failed: desk\.request: .*503/) });
    await logged(d, 'poll tickets: 3 polls in a row failed; the owner was told through desk.request');
    setClock(T0 + 35 * MIN);
    await pollStateWhen(s, (p) => p?.failures === 4);
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    expect(metrics).toContain('flux_poll_failures{workflow="tickets"} 4');
    expect(metrics).toContain('flux_polls_total{workflow="tickets",outcome="failed"} 4');
    expect(requests('/alerts')).toHaveLength(1);
    // flux runs shows the failing poll, which started no run.
    const listed = await runFlux(['runs', '--state-dir', 'state'], { cwd: dir, env: { FLUX_TEST_CLOCK: clockFile } });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/failing polls \(they start no runs until a poll succeeds\):\n {2}tickets: 4 in a row, next try 2026-11-24 10:15:00Z, owner told 2026-11-24 09:15:00Z: desk\.request: .*503/);

    // Working again: initial: all runs the items of the first successful poll; the count starts over.
    desk.script('GET /tickets', { body: { tickets: [ticket('G', '09:30:00')], next: null } });
    setClock(T0 + 75 * MIN);
    await pollStateWhen(s, (p) => p?.failures === 0 && p.polled);
    await vi.waitFor(() => expect(handled()).toEqual(['G']), { timeout: 20_000 });
    const after = await (await fetch(`${d.url}/metrics`)).text();
    expect(after).toContain('flux_poll_failures{workflow="tickets"} 0');
    expect(after).toContain('flux_poll_runs_started_total{workflow="tickets"} 1');
    await logged(d, 'polling works again after 4 failures');
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
  });

  it('a reload starts polling an added workflow, keeps the state of a changed one, and stops a removed one', async () => {
    writeFileSync(join(dir, 'flows', 'other.yaml'), 'name: other\nowner: ops@example.com\ntrigger: manual\nsteps:\n  - id: a\n    set: { x: 1 }\non_error:\n  escalate: { uses: http, with: { url: "http://127.0.0.1:1/" } }\n');
    desk.script('GET /tickets', { body: { tickets: [ticket('A', '08:00:00')], next: null } });
    setClock(T0);
    const d = await daemon();
    const s = await store();
    workflow();
    d.child.kill('SIGHUP');
    await pollStateWhen(s, (p) => p?.polled === true && p.seen === 1);
    // Changed: due when the store says (5 minutes after the last poll), not at once.
    workflow('    initial: all\n');
    d.child.kill('SIGHUP');
    await logged(d, /reloaded: 0 added, 1 changed/);
    await new Promise((r) => setTimeout(r, 300));
    expect(requests('/tickets')).toHaveLength(1);
    desk.script('GET /tickets', { body: { tickets: [ticket('A', '08:00:00'), ticket('B', '09:02:00')], next: null } });
    setClock(T0 + 5 * MIN);
    await vi.waitFor(() => expect(handled()).toEqual(['B']), { timeout: 20_000 });
    // Removed: no more polls.
    rmSync(join(dir, 'flows', 'tickets.yaml'));
    d.child.kill('SIGHUP');
    await logged(d, /reloaded: 0 added, 0 changed, 1 removed/);
    const polls = requests('/tickets').length;
    setClock(T0 + 20 * MIN);
    await new Promise((r) => setTimeout(r, 300));
    expect(requests('/tickets')).toHaveLength(polls);
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
  });
});

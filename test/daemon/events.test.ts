// Events through a real `flux daemon` (spawned, port 0, a real SQLite store, FLUX_TEST_CLOCK so
// no wait can time out by itself): a chain intake → scheduling → invoicing runs each workflow
// once; an emitted event survives kill -9 between its journal entry and its delivery and
// starts the next workflow exactly once; a waiting wait_for is woken by `flux event` and by
// `POST /events/NAME` only for a matching payload; `flux event` into a state directory with no
// daemon is delivered by the daemon started later.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readRunLog } from '../../src/store/run-log.js';
import type { RunRow } from '../../src/store/store.js';
import { validateRecord } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { eventually, fluxCommand, fluxEvent, killAll, openState, scratch, sql, startDaemon, T0, type Scratch } from './events-helpers.js';

// Polling a spawned daemon until it is done can take a few seconds on a loaded machine.
vi.setConfig({ testTimeout: 30_000 });

let downstream: TestServer;
let s: Scratch;

beforeEach(async () => {
  downstream = await startTestServer();
  s = scratch();
});
afterEach(async () => {
  killAll();
  await downstream.close();
});

const calls = (path: string) => downstream.received.filter((r) => r.path === path);

/** Every run in the store, oldest first. */
async function runs(): Promise<RunRow[]> {
  const store = await openState(s);
  try {
    return (await store.listRuns({ limit: 1000 })).reverse();
  } finally {
    await store.close();
  }
}

async function run(id: string): Promise<RunRow | undefined> {
  const store = await openState(s);
  try {
    return await store.getRun(id);
  } finally {
    await store.close();
  }
}

const CHAIN = (url: string) => ({
  intake: `name: intake
owner: ops@example.com
trigger:
  webhook: { path: /hooks/leads }
steps:
  - id: save
    uses: http
    with: { url: "${url}/intake", method: POST, json: { email: "\${{ event.email }}" } }
  - id: qualified
    emit: { event: lead.qualified, data: { email: "\${{ event.email }}" } }
`,
  scheduling: `name: scheduling
owner: ops@example.com
trigger:
  event: { name: lead.qualified }
steps:
  - id: book
    uses: http
    with: { url: "${url}/scheduling", method: POST, json: { email: "\${{ event.email }}" } }
  - id: booked
    emit: { event: meeting.booked, data: { email: "\${{ event.email }}", slot: mon-10 } }
`,
  invoicing: `name: invoicing
owner: ops@example.com
trigger:
  event: { name: meeting.booked }
steps:
  - id: bill
    uses: http
    with: { url: "${url}/invoicing", method: POST, json: { email: "\${{ event.email }}", slot: "\${{ event.slot }}" } }
`,
});

const BOOKING = (url: string) => `name: booking
owner: ops@example.com
trigger:
  event: { name: booking.requested }
steps:
  - id: book
    set: { id: "\${{ event.id }}" }
  - id: confirmation
    wait_for:
      event: booking.confirmed
      match: "\${{ item.booking_id == steps.book.output.id }}"
      timeout: 2d
  - id: notify
    uses: http
    with: { url: "${url}/confirmed", method: POST, json: { booking: "\${{ steps.confirmation.output.event.booking_id }}", by: "\${{ steps.confirmation.output.event.by }}" } }
`;

describe('events in the daemon', () => {
  it('a chain intake → scheduling → invoicing runs each workflow once, each started by the one before', async () => {
    for (const path of ['/intake', '/scheduling', '/invoicing']) downstream.script(`POST ${path}`, { status: 200, body: {} });
    for (const [name, text] of Object.entries(CHAIN(downstream.url))) s.workflow(name, text);
    const d = await startDaemon(s);
    const res = await fetch(`${d.url}/hooks/leads`, { method: 'POST', body: JSON.stringify({ email: 'ann@example.com' }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
    // The clock stands still, so runs are told apart by their place in the chain, not their time.
    const all = (await eventually(runs, (rs) => rs.length === 3 && rs.every((r) => r.status === 'succeeded'))).sort((a, b) => a.chainDepth - b.chainDepth);
    expect(all.map((r) => [r.workflow, r.status, r.trigger, r.chainDepth])).toEqual([
      ['intake', 'succeeded', 'webhook', 0], ['scheduling', 'succeeded', 'event', 1], ['invoicing', 'succeeded', 'event', 2],
    ]);
    expect(all[1]!.parentRunId).toBe(all[0]!.id);
    expect(all[2]!.parentRunId).toBe(all[1]!.id);
    expect(all[2]!.event).toEqual({ email: 'ann@example.com', slot: 'mon-10' });
    expect([calls('/intake').length, calls('/scheduling').length, calls('/invoicing').length]).toEqual([1, 1, 1]);
    expect(JSON.parse(calls('/invoicing')[0]!.body)).toEqual({ email: 'ann@example.com', slot: 'mon-10' });
    // Both events are stored once, by the step that emitted them, and delivered.
    expect(sql(s, 'SELECT name, source_run_id, chain_depth, delivered_at IS NOT NULL AS delivered FROM events ORDER BY chain_depth')).toEqual([
      { name: 'lead.qualified', source_run_id: all[0]!.id, chain_depth: 0, delivered: 1 },
      { name: 'meeting.booked', source_run_id: all[1]!.id, chain_depth: 1, delivered: 1 },
    ]);
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
    expect(d.output()).toMatch(new RegExp(`event lead\\.qualified \\(${all[0]!.id}:qualified\\) from run ${all[0]!.id}: started ${all[1]!.id}`));
  });

  it('an event emitted just before kill -9 is delivered after restart, and the next workflow runs exactly once', async () => {
    const chain = CHAIN(downstream.url);
    // The emitter: emits, then hangs on a call, so the test knows the emit is journaled.
    const emitter = `name: intake
owner: ops@example.com
trigger: manual
steps:
  - id: qualified
    emit: { event: lead.qualified, data: { email: ann@example.com } }
  - id: after
    uses: http
    with: { url: "${downstream.url}/after", method: POST }
`;
    s.workflow('intake', emitter);
    s.workflow('scheduling', chain.scheduling.replace(/  - id: booked[\s\S]*$/, ''));
    downstream.script('POST /after', { status: 200, body: {}, delayMs: 60_000 }, { status: 200, body: { ok: true } });
    downstream.script('POST /scheduling', { status: 200, body: {} });
    // A runner with no delivery loop (as a daemon is between the two, for an instant) runs the
    // emitter and is killed once the emit is journaled and the next step is in flight.
    const store = await openState(s);
    await store.putWorkflowVersion({ hash: 'sha256:emitter', name: 'intake', text: emitter, createdAt: T0 });
    await store.enqueueRun({ id: 'RUN-EMITTER', workflow: 'intake', workflowVersion: 'sha256:emitter', trigger: 'manual', event: {}, receivedAt: T0 }, T0);
    await store.close();
    const child = spawn(process.execPath, [join(import.meta.dirname, 'fixtures/run-claimed.mjs'), join(s.dir, 'state', 'flux.db'), join(s.dir, 'state', 'logs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    await eventually(async () => calls('/after').length, (n) => n === 1);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.on('exit', resolve));
    expect(calls('/after')).toHaveLength(1);
    // Journaled and stored together, not delivered: exactly the state a crash leaves.
    expect(sql(s, "SELECT key FROM journal WHERE run_id = 'RUN-EMITTER' AND kind = 'step' ORDER BY id")).toEqual([{ key: 'qualified' }]);
    expect(sql(s, 'SELECT id, delivered_at FROM events')).toEqual([{ id: 'RUN-EMITTER:qualified', delivered_at: null }]);

    // The next daemon, later than the dead runner's 60 s lease: it delivers the event and
    // rescues the emitter, whose emit step replays without emitting again.
    s.setClock(Date.now() + 5 * 60_000);
    const d = await startDaemon(s);
    const emitterRun = await eventually(() => run('RUN-EMITTER'), (r) => r?.status === 'succeeded');
    expect(emitterRun).toMatchObject({ status: 'succeeded', attempt: 2 });
    const scheduled = await eventually(async () => (await runs()).filter((r) => r.workflow === 'scheduling'), (rs) => rs.length === 1 && rs[0]!.status === 'succeeded');
    expect(scheduled.map((r) => [r.status, r.parentRunId, r.event])).toEqual([['succeeded', 'RUN-EMITTER', { email: 'ann@example.com' }]]);
    expect(calls('/scheduling')).toHaveLength(1);
    expect(calls('/after')).toHaveLength(2);
    expect(sql(s, 'SELECT id, delivered_at IS NOT NULL AS delivered FROM events')).toEqual([{ id: 'RUN-EMITTER:qualified', delivered: 1 }]);
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
  });

  it('flux event wakes a waiting wait_for only with a payload its match accepts', async () => {
    downstream.script('POST /confirmed', { status: 200, body: {} });
    s.workflow('booking', BOOKING(downstream.url));
    const d = await startDaemon(s);
    const requested = await fluxEvent(s, 'booking.requested', '--data', '{"id": "B-7"}', '--state-dir', 'state');
    expect(requested).toMatchObject({ code: 0, stderr: '' });
    expect(requested.stdout).toMatch(/^[0-9A-Z]{26}\n$/);
    const [waiting] = await eventually(runs, (rs) => rs[0]?.status === 'waiting');
    expect(waiting).toMatchObject({ workflow: 'booking', status: 'waiting', trigger: 'event', waitingFor: { event: 'booking.confirmed', step: 'confirmation#event:0' } });

    // Another booking's confirmation: the run looks at it, does not match, and waits on.
    const other = await fluxEvent(s, 'booking.confirmed', '--data', '{"booking_id": "B-8", "by": "bob"}', '--state-dir', 'state');
    expect(other.code).toBe(0);
    const stillWaiting = await eventually(() => run(waiting!.id), (r) => r?.waitingFor?.step === 'confirmation#event:1');
    expect(stillWaiting).toMatchObject({ status: 'waiting', waitingFor: { event: 'booking.confirmed', step: 'confirmation#event:1' }, wakeAt: T0 + 2 * 86_400_000 });
    expect(calls('/confirmed')).toHaveLength(0);

    const mine = await fluxEvent(s, 'booking.confirmed', '--data', '{"booking_id": "B-7", "by": "ann"}', '--state-dir', 'state');
    expect(mine.code).toBe(0);
    expect(await eventually(() => run(waiting!.id), (r) => r?.status === 'succeeded')).toMatchObject({ status: 'succeeded' });
    expect(calls('/confirmed').map((c) => JSON.parse(c.body))).toEqual([{ booking: 'B-7', by: 'ann' }]);
    // Its log is whole: it waited twice and resumed twice, and each step and the run ended once.
    const log = readRunLog(join(s.dir, 'state', 'logs', 'booking', `${waiting!.id}.jsonl`)).records;
    for (const r of log) expect(validateRecord(r), JSON.stringify(r)).toBe(true);
    expect(log.map((r) => (r.type.startsWith('step.') ? `${r.type} ${String((r as { step?: string }).step)}` : r.type))).toEqual([
      'run.started', 'step.started book', 'step.finished book', 'step.started confirmation', 'run.waiting', 'run.resumed', 'run.waiting', 'run.resumed',
      'step.finished confirmation', 'step.started notify', 'step.finished notify', 'run.finished',
    ]);
    // `flux runs show` lists the steps, not the deliveries journaled beside them.
    const shown = await fluxCommand(s, 'runs', 'show', waiting!.id, '--state-dir', 'state');
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(/\nconfirmation +succeeded +1 +\S+ +\{"timed_out":false,"event":\{"booking_id":"B-7","by":"ann"\}\}\n/);
    expect(shown.stdout).not.toContain('#event');
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
  });

  it('POST /events/NAME needs the bearer token from FLUX_EVENT_TOKEN, and wakes the matching wait_for', async () => {
    const token = 'evt-token-2f9c';
    downstream.script('POST /confirmed', { status: 200, body: {} });
    s.workflow('booking', BOOKING(downstream.url));
    const d = await startDaemon(s, { FLUX_EVENT_TOKEN: token });
    const post = (name: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${d.url}/events/${name}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
    const auth = { authorization: `Bearer ${token}` };

    expect((await post('booking.requested', '{"id": "B-1"}')).status).toBe(401);
    expect((await post('booking.requested', '{"id": "B-1"}', { authorization: 'Bearer not-the-token' })).status).toBe(401);
    expect((await post('booking.requested', '{"id": "B-1"}', { authorization: token })).status).toBe(401);
    expect(await runs()).toEqual([]);
    const bad = await post('Booking!', '{}', auth);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('is not an event name');
    const malformed = await post('booking.requested', '{"id": "B-1",\n}', auth);
    expect(malformed.status).toBe(400);
    expect(await malformed.text()).toContain('line 2, column 1');
    expect((await post('booking.requested', JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }), auth)).status).toBe(413);
    expect((await fetch(`${d.url}/events/booking.requested`, { headers: auth })).status).toBe(405);

    const accepted = await post('booking.requested', '{"id": "B-1"}', auth);
    expect(accepted.status).toBe(202);
    const { event_id: eventId } = (await accepted.json()) as { event_id: string };
    expect(eventId).toMatch(/^[0-9A-Z]{26}$/);
    const [waiting] = await eventually(runs, (rs) => rs[0]?.status === 'waiting');
    expect(waiting?.event).toEqual({ id: 'B-1' });
    expect((await post('booking.confirmed', '{"booking_id": "B-1", "by": "http"}', auth)).status).toBe(202);
    expect(await eventually(() => run(waiting!.id), (r) => r?.status === 'succeeded')).toMatchObject({ status: 'succeeded' });
    expect(calls('/confirmed').map((c) => JSON.parse(c.body))).toEqual([{ booking: 'B-1', by: 'http' }]);
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
    expect(d.output()).not.toContain(token);
  });

  it('POST /events/NAME is not served when FLUX_EVENT_TOKEN is not set', async () => {
    s.workflow('booking', BOOKING(downstream.url));
    const d = await startDaemon(s);
    const res = await fetch(`${d.url}/events/booking.requested`, { method: 'POST', body: '{}', headers: { authorization: 'Bearer anything' } });
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('FLUX_EVENT_TOKEN');
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
  });

  it('flux event into a state directory with no daemon is delivered by the daemon started later', async () => {
    downstream.script('POST /orders', { status: 200, body: {} });
    s.workflow('orders', `name: orders
owner: ops@example.com
trigger:
  event: { name: order.created, if: "\${{ event.total > 0 }}" }
steps:
  - id: record
    uses: http
    with: { url: "${downstream.url}/orders", method: POST, json: { order: "\${{ event.order }}" } }
`);
    const free = await fluxEvent(s, 'order.created', '--data', '{"order": "O-1", "total": 0}', '--state-dir', 'state');
    const paid = await fluxEvent(s, 'order.created', '--data', '{"order": "O-2", "total": 30}', '--state-dir', 'state');
    expect([free.code, paid.code]).toEqual([0, 0]);
    const [freeId, paidId] = [free.stdout.trim(), paid.stdout.trim()];
    expect(sql(s, 'SELECT id, delivered_at FROM events ORDER BY created_at, id').map((e) => e.id).sort()).toEqual([freeId, paidId].sort());

    const d = await startDaemon(s);
    const started = await eventually(runs, (rs) => rs.length === 1 && rs[0]!.status === 'succeeded');
    expect(started.map((r) => [r.workflow, r.status, r.trigger, r.event, r.chainDepth, r.parentRunId])).toEqual([
      ['orders', 'succeeded', 'event', { order: 'O-2', total: 30 }, 1, null],
    ]);
    expect(calls('/orders').map((c) => JSON.parse(c.body))).toEqual([{ order: 'O-2' }]);
    // The event its `if` turned away is delivered too (to nothing), and said so: never retried.
    const delivered = await eventually(async () => sql(s, 'SELECT id FROM events WHERE delivered_at IS NOT NULL'), (rows) => rows.length === 2);
    expect(delivered).toHaveLength(2);
    expect(d.output()).toContain(`event order.created (${freeId}) from outside delivered to nothing`);
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
  });

  it('flux event refuses a bad name or bad data with exit 2 and says where', async () => {
    const badName = await fluxEvent(s, 'Order Created', '--state-dir', 'state');
    expect(badName.code).toBe(2);
    expect(badName.stderr).toBe('flux: `Order Created` is not an event name: use lowercase letters, digits, dots, - and _, starting with a letter or digit (e.g. lead.qualified)\n');
    const badJson = await fluxEvent(s, 'order.created', '--data', '{"order": "O-1",}', '--state-dir', 'state');
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toBe('flux: the event data in --data is not valid JSON: line 1, column 17: expected a property name in double quotes, found `}`\n');
    const list = await fluxEvent(s, 'order.created', '--data', '[1, 2]', '--state-dir', 'state');
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('must be a JSON object, not a list');
    const deep = await fluxEvent(s, 'order.created', '--data', `{"a": ${'['.repeat(70)}${']'.repeat(70)}}`, '--state-dir', 'state');
    expect(deep.code).toBe(2);
    expect(deep.stderr).toContain('nests deeper than 64 levels');
    const missing = await fluxEvent(s, 'order.created', '--data', '@nope.json', '--state-dir', 'state');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('flux: --data @nope.json: cannot read nope.json: ENOENT\n');
    for (const r of [badName, badJson, list, deep, missing]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

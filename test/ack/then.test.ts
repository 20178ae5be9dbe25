// The second call of an escalation nobody acknowledged (on_error.escalate.then), made by a real
// daemon on the test clock: once, past the deadline and not before; not at all when the
// escalation was acknowledged in time; after a kill -9 before the deadline, by the next daemon;
// never twice after a kill -9 once it was made; and retried with back-off when it fails,
// visibly (daemon log, /metrics, flux runs).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { THEN_FIRST_BACKOFF_MS } from '../../src/daemon/ack-watch.js';
import type { RunningDaemon } from '../daemon/spawn-daemon.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { HOUR, T0, Scratch, hook, payWorkflow, sent, until } from './helpers.js';

vi.setConfig({ testTimeout: 60_000 });

let server: TestServer;
let s: Scratch;

beforeEach(async () => {
  server = await startTestServer();
  server.script('POST /chat', { status: 200, body: {} });
  s = new Scratch();
});
afterEach(async () => {
  s.kill();
  await server.close();
});

async function kill9(d: RunningDaemon): Promise<void> {
  d.child.kill('SIGKILL');
  expect((await d.exit).signal).toBe('SIGKILL');
}

/** Lets a daemon poll a few times (it polls every 250 ms) with the clock where it is. */
const settle = () => new Promise((r) => setTimeout(r, 800));

describe('the then call', () => {
  it('is made once past the deadline, not before, with the link for the backup, and recorded', async () => {
    server.script('POST /page', { status: 200, body: {} });
    s.flow('pay', payWorkflow(server.url));
    const d = await s.daemon();
    const id = await hook(d.url, { n: 3 });
    await until(async () => (await s.status(id)) === 'escalated', 'the run ends escalated');
    s.setClock(T0 + 4 * HOUR - 1);
    await settle();
    expect(sent(server, '/page')).toEqual([]);
    s.setClock(T0 + 4 * HOUR);
    await until(() => sent(server, '/page').length === 1, 'the then call');
    s.setClock(T0 + 9 * HOUR);
    await settle();
    expect(sent(server, '/page')).toHaveLength(1);
    const page = sent(server, '/page')[0]!;
    expect(page).toMatchObject({ workflow: 'pay', owner: 'finance', run_id: id, step: 'charge', error: 'invoice 3 is stuck', escalated_at: '2026-11-24T09:00:00.000Z' });
    expect(String(page.text)).toMatch(/^flux: workflow pay failed at step charge: invoice 3 is stuck; its owner finance did not acknowledge within 4h \(acknowledge: http:\/\/.+\/ack\/.+\)$/);
    const idempotency = server.received.find((r) => r.path === '/page')?.headers['idempotency-key'];
    expect(idempotency).toBe(`${id}:escalation.then`);
    expect(s.log(id).filter((r) => r.type === 'escalation.then')).toEqual([expect.objectContaining({ via: 'pager.request', delivered: true, attempt: 1, ts: '2026-11-24T13:00:00.000Z' })]);
    expect(await s.escalation(id)).toMatchObject({ thenSentAt: T0 + 4 * HOUR, ackedAt: null });
    const listed = await s.flux('runs', '--status', 'escalated', '--state-dir', 'state');
    expect(listed.stdout).toMatch(/unacknowledged for 9h \(due 13:00, overdue\), then sent 13:00\n$/);
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    expect(metrics).toContain('flux_escalations_unacknowledged{workflow="pay"} 1');
    expect(metrics).toContain('flux_escalations_overdue{workflow="pay"} 1');
    expect(metrics).toContain('flux_escalation_then_total{workflow="pay",delivered="true"} 1');
    // The backup may still acknowledge through the link the page carried.
    const link = /\(acknowledge: (\S+)\)$/.exec(String(page.text))![1]!;
    const res = await fetch(link, { method: 'POST', body: new URLSearchParams({ as: 'boss@example.com' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(res.status).toBe(200);
    expect(await (await fetch(`${d.url}/metrics`)).text()).toContain('flux_escalations_unacknowledged{workflow="pay"} 0');
  });

  it('survives kill -9 before the deadline (the next daemon makes it) and after it (never twice)', async () => {
    server.script('POST /page', { status: 200, body: {} });
    s.flow('pay', payWorkflow(server.url));
    const first = await s.daemon();
    const id = await hook(first.url, { n: 4 });
    // Killed once the run has ended escalated: its escalation now waits only in the store.
    await until(async () => (await s.status(id)) === 'escalated', 'the run ends escalated');
    await kill9(first);
    s.setClock(T0 + 5 * HOUR);
    const second = await s.daemon();
    await until(() => sent(server, '/page').length === 1, 'the then call after restart');
    await until(async () => typeof (await s.escalation(id))?.thenSentAt === 'number', 'the call is recorded');
    await kill9(second);
    s.setClock(T0 + 50 * HOUR);
    const third = await s.daemon();
    await settle();
    expect(sent(server, '/page')).toHaveLength(1);
    expect(sent(server, '/chat')).toHaveLength(1);
    expect(s.log(id).filter((r) => r.type === 'escalation.then')).toHaveLength(1);
    expect(third.output()).not.toContain('then call');
  });

  it('a failing then call is retried with back-off, and says so in the log, /metrics and flux runs', async () => {
    server.script('POST /page', { status: 503, body: { error: 'pager down' } }, { status: 200, body: {} });
    s.flow('pay', payWorkflow(server.url));
    const d = await s.daemon();
    const id = await hook(d.url, { n: 5 });
    await until(async () => (await s.status(id)) === 'escalated', 'the run ends escalated');
    s.setClock(T0 + 4 * HOUR);
    await until(async () => typeof (await s.escalation(id))?.thenError === 'string', 'the first attempt fails');
    expect(sent(server, '/page')).toHaveLength(1);
    expect(d.output()).toMatch(new RegExp(`run ${id} pay: the then call failed \\(attempt 1\\), trying again at 2026-11-24T13:00:30.000Z: .*503`));
    expect(await (await fetch(`${d.url}/metrics`)).text()).toContain('flux_escalation_then_total{workflow="pay",delivered="false"} 1');
    expect((await s.flux('runs', '--state-dir', 'state')).stdout).toMatch(/then failing \(attempt 1\)\n$/);
    s.setClock(T0 + 4 * HOUR + THEN_FIRST_BACKOFF_MS - 1);
    await settle();
    expect(sent(server, '/page')).toHaveLength(1);
    s.setClock(T0 + 4 * HOUR + THEN_FIRST_BACKOFF_MS);
    await until(() => sent(server, '/page').length === 2, 'the retry');
    await until(async () => typeof (await s.escalation(id))?.thenSentAt === 'number', 'the retry is recorded');
    expect(s.log(id).filter((r) => r.type === 'escalation.then').map((r) => [(r as { attempt: number }).attempt, (r as { delivered: boolean }).delivered])).toEqual([[1, false], [2, true]]);
  });
});

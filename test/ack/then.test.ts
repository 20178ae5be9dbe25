// The second call of an escalation nobody acknowledged (on_error.escalate.then), made by a real
// daemon on the test clock: once, past the deadline and not before; not at all when the
// escalation was acknowledged in time; after a kill -9 before the deadline, by the next daemon;
// never twice after a kill -9 once it was made; and retried with back-off when it fails,
// visibly (daemon log, /metrics, flux runs).
import { describe, expect, it, vi } from 'vitest';
import { THEN_FIRST_BACKOFF_MS } from '../../src/daemon/ack-watch.js';
import type { RunningDaemon } from '../daemon/spawn-daemon.js';
import { HOUR, T0, hook, payWorkflow, perTest, sent, until } from './helpers.js';

vi.setConfig({ testTimeout: 60_000 });

const t = perTest();

async function kill9(d: RunningDaemon): Promise<void> {
  d.child.kill('SIGKILL');
  expect((await d.exit).signal).toBe('SIGKILL');
}

/** Lets a daemon poll a few times (it polls every 250 ms) with the clock where it is. */
const settle = () => new Promise((r) => setTimeout(r, 800));

describe('the then call', () => {
  it('is made once past the deadline, not before, with the link for the backup, and recorded', async () => {
    t.server.script('POST /page', { status: 200, body: {} });
    t.s.flow('pay', payWorkflow(t.server.url));
    const d = await t.s.daemon();
    const id = await hook(d.url, { n: 3 });
    await until(async () => (await t.s.status(id)) === 'escalated', 'the run ends escalated');
    t.s.setClock(T0 + 4 * HOUR - 1);
    await settle();
    expect(sent(t.server, '/page')).toEqual([]);
    t.s.setClock(T0 + 4 * HOUR);
    await until(() => sent(t.server, '/page').length === 1, 'the then call');
    await until(async () => typeof (await t.s.escalation(id))?.thenSentAt === 'number', 'the call is recorded');
    t.s.setClock(T0 + 9 * HOUR);
    await settle();
    expect(sent(t.server, '/page')).toHaveLength(1);
    const page = sent(t.server, '/page')[0]!;
    expect(page).toMatchObject({ workflow: 'pay', owner: 'finance', run_id: id, step: 'charge', error: 'invoice 3 is stuck', escalated_at: '2026-11-24T09:00:00.000Z' });
    expect(String(page.text)).toMatch(/^flux: workflow pay failed at step charge: invoice 3 is stuck; its owner finance did not acknowledge within 4h \(acknowledge: http:\/\/.+\/ack\/.+\)$/);
    const idempotency = t.server.received.find((r) => r.path === '/page')?.headers['idempotency-key'];
    expect(idempotency).toBe(`${id}:escalation.then`);
    expect(t.s.log(id).filter((r) => r.type === 'escalation.then')).toEqual([expect.objectContaining({ via: 'pager.request', delivered: true, attempt: 1, ts: '2026-11-24T13:00:00.000Z' })]);
    expect(await t.s.escalation(id)).toMatchObject({ thenSentAt: T0 + 4 * HOUR, ackedAt: null });
    const listed = await t.s.flux('runs', '--status', 'escalated', '--state-dir', 'state');
    expect(listed.stdout).toMatch(/unacknowledged for 9h \(due 13:00, overdue\), then sent 13:00\n$/);
    // Counted once the daemon has the store's answer, a moment after another process can read it.
    await until(async () => (await (await fetch(`${d.url}/metrics`)).text()).includes('flux_escalation_then_total{workflow="pay",delivered="true"} 1'), 'the call is counted');
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
    t.server.script('POST /page', { status: 200, body: {} });
    t.s.flow('pay', payWorkflow(t.server.url));
    const first = await t.s.daemon();
    const id = await hook(first.url, { n: 4 });
    // Killed once the run has ended escalated: its escalation now waits only in the store.
    await until(async () => (await t.s.status(id)) === 'escalated', 'the run ends escalated');
    await kill9(first);
    t.s.setClock(T0 + 5 * HOUR);
    const second = await t.s.daemon();
    await until(() => sent(t.server, '/page').length === 1, 'the then call after restart');
    await until(async () => typeof (await t.s.escalation(id))?.thenSentAt === 'number', 'the call is recorded');
    await kill9(second);
    t.s.setClock(T0 + 50 * HOUR);
    const third = await t.s.daemon();
    await settle();
    expect(sent(t.server, '/page')).toHaveLength(1);
    expect(sent(t.server, '/chat')).toHaveLength(1);
    expect(t.s.log(id).filter((r) => r.type === 'escalation.then')).toHaveLength(1);
    expect(third.output()).not.toContain('then call');
  });

  it('a failing then call is retried with back-off, and says so in the log, /metrics and flux runs', async () => {
    t.server.script('POST /page', { status: 503, body: { error: 'pager down' } }, { status: 200, body: {} });
    t.s.flow('pay', payWorkflow(t.server.url));
    const d = await t.s.daemon();
    const id = await hook(d.url, { n: 5 });
    await until(async () => (await t.s.status(id)) === 'escalated', 'the run ends escalated');
    t.s.setClock(T0 + 4 * HOUR);
    await until(async () => typeof (await t.s.escalation(id))?.thenError === 'string', 'the first attempt fails');
    expect(sent(t.server, '/page')).toHaveLength(1);
    // The daemon logs it just after the store has it.
    await until(() => d.output().includes(`run ${id} pay: the then call failed (attempt 1), trying again at 2026-11-24T13:00:30.000Z: `), 'the failure is logged');
    expect(d.output()).toMatch(new RegExp(`run ${id} pay: the then call failed \\(attempt 1\\), trying again at 2026-11-24T13:00:30.000Z: .*503`));
    await until(async () => (await (await fetch(`${d.url}/metrics`)).text()).includes('flux_escalation_then_total{workflow="pay",delivered="false"} 1'), 'the failure is counted');
    expect((await t.s.flux('runs', '--state-dir', 'state')).stdout).toMatch(/then failing \(attempt 1\)\n$/);
    t.s.setClock(T0 + 4 * HOUR + THEN_FIRST_BACKOFF_MS - 1);
    await settle();
    expect(sent(t.server, '/page')).toHaveLength(1);
    t.s.setClock(T0 + 4 * HOUR + THEN_FIRST_BACKOFF_MS);
    await until(() => sent(t.server, '/page').length === 2, 'the retry');
    await until(async () => typeof (await t.s.escalation(id))?.thenSentAt === 'number', 'the retry is recorded');
    expect(t.s.log(id).filter((r) => r.type === 'escalation.then').map((r) => [(r as { attempt: number }).attempt, (r as { delivered: boolean }).delivered])).toEqual([[1, false], [2, true]]);
  });
});

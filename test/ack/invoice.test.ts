// The example of issue 9, end to end: workflows/invoice-follow-up.yaml as it ships, under a
// real daemon on the test clock, against a real HTTP server standing in for accounting, email
// and chat. On a weekday at 09:00 Berlin it reminds every overdue invoice; one at its third
// reminder escalates to the finance team with an acknowledgement link; nobody acknowledges
// within 4 hours, so the CFO (the team's backup) is emailed, once.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ROOT } from '../helpers.js';
import { HOUR, perTest, sent, until } from './helpers.js';

vi.setConfig({ testTimeout: 60_000 });

// Tuesday 2026-11-24, 09:00 in Berlin.
const NINE = Date.UTC(2026, 10, 24, 8, 0, 0);

const t = perTest();

beforeEach(() => {
  t.s.setClock(NINE - 60_000);
  copyFileSync(join(ROOT, 'workflows', 'invoice-follow-up.yaml'), join(t.s.dir, 'flows', 'invoice-follow-up.yaml'));
  t.s.env = {
    ACCOUNTING_URL: `${t.server.url}/accounting`, EMAIL_URL: `${t.server.url}/email`, CHAT_URL: `${t.server.url}/chat`,
    ACCOUNTING_TOKEN: 'accounting-token-123', EMAIL_TOKEN: 'email-token-1234567', CHAT_TOKEN: 'chat-token-12345678',
  };
  t.server.script('POST /email/messages', { status: 200, body: { id: 1 } });
  t.server.script('POST /chat/messages', { status: 200, body: { id: 2 } });
});

describe('invoice-follow-up', () => {
  it('escalates an invoice at its third reminder with acknowledgement, and emails the CFO when nobody acknowledges', async () => {
    t.server.script('GET /accounting/invoices', {
      status: 200,
      body: {
        invoices: [
          { number: '2026-041', customer: 'Acme', customer_email: 'ap@acme.example', amount: 1800, currency: 'USD', due_date: '2026-10-01', reminders_sent: 2 },
          { number: '2026-057', customer: 'Globex', customer_email: 'billing@globex.example', amount: 420, currency: 'USD', due_date: '2026-11-10', reminders_sent: 0 },
        ],
      },
    });
    const d = await t.s.daemon('--public-url', 'https://flux.example.com/');
    t.s.setClock(NINE);
    await until(() => sent(t.server, '/chat/messages').length === 1, 'the escalation to finance');
    const reminders = sent(t.server, '/email/messages');
    // Reminders go out five at a time (foreach concurrency): in any order.
    expect(reminders.map((m) => m.to).sort()).toEqual(['ap@acme.example', 'billing@globex.example']);
    const chat = sent(t.server, '/chat/messages')[0]!;
    expect(chat.channel).toBe('finance');
    expect(String(chat.text)).toMatch(
      /^invoice-follow-up, unpaid_after_three: still unpaid after the third reminder: 2026-041 \(Acme\)\. Acknowledge by 2026-11-24T12:00:00\.000Z: https:\/\/flux\.example\.com\/ack\/[\w-]+\.[\w-]+$/,
    );
    const runs = JSON.parse((await t.s.flux('runs', '--json', '--state-dir', 'state')).stdout) as { runs: { id: string; status: string; escalation: Record<string, unknown> }[] };
    expect(runs.runs).toHaveLength(1);
    const run = runs.runs[0]!;
    expect(run).toMatchObject({ status: 'escalated', escalation: { owner: 'finance', ack_due_at: '2026-11-24T12:00:00.000Z', acked_by: null } });

    // Not acknowledged within 4 hours: the backup is emailed, once.
    t.s.setClock(NINE + 4 * HOUR);
    await until(() => sent(t.server, '/email/messages').length === 3, 'the email to the CFO');
    t.s.setClock(NINE + 6 * HOUR);
    await new Promise((r) => setTimeout(r, 600));
    const email = sent(t.server, '/email/messages');
    expect(email).toHaveLength(3);
    expect(email[2]).toMatchObject({ to: 'cfo@example.com', subject: 'Unacknowledged: invoice-follow-up, unpaid_after_three' });
    expect(String(email[2]!.text)).toMatch(/^Finance did not acknowledge within 4h: still unpaid after the third reminder: 2026-041 \(Acme\)\. Acknowledge: https:\/\/flux\.example\.com\/ack\//);
    // The CFO acknowledges from the terminal; the run log has it all.
    const ack = await t.s.flux('runs', 'ack', run.id, '--as', 'cfo@example.com', '--state-dir', 'state');
    expect(ack.code, ack.stderr).toBe(0);
    const log = t.s.log(run.id, 'invoice-follow-up');
    expect(log.map((r) => r.type).filter((t) => t.startsWith('escalation') || t.startsWith('run.'))).toEqual(['run.started', 'escalation', 'run.finished', 'escalation.then', 'escalation.acked']);
    expect(log.every((r) => r.owner === 'finance')).toBe(true);
    const metrics = await t.s.flux('metrics', 'state/logs', '--format', 'json');
    const report = JSON.parse(metrics.stdout) as { workflows: { name: string; ack_seconds: { p50: number } }[] };
    expect(report.workflows[0]?.ack_seconds.p50).toBeCloseTo(6 * 3600, -2);
    await until(() => d.output().includes('not acknowledged by finance in time; then call made'), 'the daemon logs the then call');
  });

  it('with no invoice at its third reminder, the run succeeds and nobody is told', async () => {
    t.server.script('GET /accounting/invoices', { status: 200, body: { invoices: [{ number: '2026-057', customer: 'Globex', customer_email: 'billing@globex.example', amount: 420, currency: 'USD', due_date: '2026-11-10', reminders_sent: 1 }] } });
    await t.s.daemon();
    t.s.setClock(NINE);
    await until(async () => (await t.s.flux('runs', '--status', 'succeeded', '--state-dir', 'state')).stdout.includes('invoice-follow-up'), 'the run succeeds');
    expect(sent(t.server, '/chat/messages')).toEqual([]);
  });
});

// The example of issue 9, end to end: workflows/invoice-follow-up.yaml as it ships, under a
// real daemon on the test clock, against a real HTTP server standing in for accounting, email
// and chat. On a weekday at 09:00 Berlin it reminds every overdue invoice; one at its third
// reminder escalates to the finance team with an acknowledgement link; nobody acknowledges
// within 4 hours, so the CFO (the team's backup) is emailed, once.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ROOT } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { HOUR, Scratch, sent, until } from './helpers.js';

vi.setConfig({ testTimeout: 60_000 });

// Tuesday 2026-11-24, 09:00 in Berlin.
const NINE = Date.UTC(2026, 10, 24, 8, 0, 0);

let server: TestServer;
let s: Scratch;

beforeEach(async () => {
  server = await startTestServer();
  s = new Scratch();
  s.setClock(NINE - 60_000);
  copyFileSync(join(ROOT, 'workflows', 'invoice-follow-up.yaml'), join(s.dir, 'flows', 'invoice-follow-up.yaml'));
  s.env = {
    ACCOUNTING_URL: `${server.url}/accounting`, EMAIL_URL: `${server.url}/email`, CHAT_URL: `${server.url}/chat`,
    ACCOUNTING_TOKEN: 'accounting-token-123', EMAIL_TOKEN: 'email-token-1234567', CHAT_TOKEN: 'chat-token-12345678',
  };
  server.script('POST /email/messages', { status: 200, body: { id: 1 } });
  server.script('POST /chat/messages', { status: 200, body: { id: 2 } });
});
afterEach(async () => {
  s.kill();
  await server.close();
});

describe('invoice-follow-up', () => {
  it('escalates an invoice at its third reminder with acknowledgement, and emails the CFO when nobody acknowledges', async () => {
    server.script('GET /accounting/invoices', {
      status: 200,
      body: {
        invoices: [
          { number: '2026-041', customer: 'Acme', customer_email: 'ap@acme.example', amount: 1800, currency: 'USD', due_date: '2026-10-01', reminders_sent: 2 },
          { number: '2026-057', customer: 'Globex', customer_email: 'billing@globex.example', amount: 420, currency: 'USD', due_date: '2026-11-10', reminders_sent: 0 },
        ],
      },
    });
    const d = await s.daemon('--public-url', 'https://flux.example.com/');
    s.setClock(NINE);
    await until(() => sent(server, '/chat/messages').length === 1, 'the escalation to finance');
    const reminders = sent(server, '/email/messages');
    expect(reminders.map((m) => m.to)).toEqual(['ap@acme.example', 'billing@globex.example']);
    const chat = sent(server, '/chat/messages')[0]!;
    expect(chat.channel).toBe('finance');
    expect(String(chat.text)).toMatch(
      /^invoice-follow-up, unpaid_after_three: still unpaid after the third reminder: 2026-041 \(Acme\)\. Acknowledge by 2026-11-24T12:00:00\.000Z: https:\/\/flux\.example\.com\/ack\/[\w-]+\.[\w-]+$/,
    );
    const runs = JSON.parse((await s.flux('runs', '--json', '--state-dir', 'state')).stdout) as { runs: { id: string; status: string; escalation: Record<string, unknown> }[] };
    expect(runs.runs).toHaveLength(1);
    const run = runs.runs[0]!;
    expect(run).toMatchObject({ status: 'escalated', escalation: { owner: 'finance', ack_due_at: '2026-11-24T12:00:00.000Z', acked_by: null } });

    // Not acknowledged within 4 hours: the backup is emailed, once.
    s.setClock(NINE + 4 * HOUR);
    await until(() => sent(server, '/email/messages').length === 3, 'the email to the CFO');
    s.setClock(NINE + 6 * HOUR);
    await new Promise((r) => setTimeout(r, 600));
    const email = sent(server, '/email/messages');
    expect(email).toHaveLength(3);
    expect(email[2]).toMatchObject({ to: 'cfo@example.com', subject: 'Unacknowledged: invoice-follow-up, unpaid_after_three' });
    expect(String(email[2]!.text)).toMatch(/^Finance did not acknowledge within 4h: still unpaid after the third reminder: 2026-041 \(Acme\)\. Acknowledge: https:\/\/flux\.example\.com\/ack\//);
    // The CFO acknowledges from the terminal; the run log has it all.
    const ack = await s.flux('runs', 'ack', run.id, '--as', 'cfo@example.com', '--state-dir', 'state');
    expect(ack.code, ack.stderr).toBe(0);
    const log = s.log(run.id, 'invoice-follow-up');
    expect(log.map((r) => r.type).filter((t) => t.startsWith('escalation') || t.startsWith('run.'))).toEqual(['run.started', 'escalation', 'run.finished', 'escalation.then', 'escalation.acked']);
    expect(log.every((r) => r.owner === 'finance')).toBe(true);
    const metrics = await s.flux('metrics', 'state/logs', '--format', 'json');
    const report = JSON.parse(metrics.stdout) as { workflows: { name: string; ack_seconds: { p50: number } }[] };
    expect(report.workflows[0]?.ack_seconds.p50).toBeCloseTo(6 * 3600, -2);
    expect(d.output()).toContain('not acknowledged by finance in time; then call made');
  });

  it('with no invoice at its third reminder, the run succeeds and nobody is told', async () => {
    server.script('GET /accounting/invoices', { status: 200, body: { invoices: [{ number: '2026-057', customer: 'Globex', customer_email: 'billing@globex.example', amount: 420, currency: 'USD', due_date: '2026-11-10', reminders_sent: 1 }] } });
    await s.daemon();
    s.setClock(NINE);
    await until(async () => (await s.flux('runs', '--status', 'succeeded', '--state-dir', 'state')).stdout.includes('invoice-follow-up'), 'the run succeeds');
    expect(sent(server, '/chat/messages')).toEqual([]);
  });
});

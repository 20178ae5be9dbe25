// The example of issue 9, end to end: workflows/invoice-follow-up.yaml as it ships, under a
// real daemon on the test clock, against the contract sandbox standing in for Xero, SendGrid
// and Slack. On a weekday at 09:00 Berlin it reminds every overdue invoice; one unpaid a month
// after its due date escalates to the finance team with an acknowledgement link; nobody
// acknowledges within 4 hours, so the CFO (the team's backup) is emailed, once.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { vendorBaseUrl } from '../../src/sandbox/contract/sites.js';
import { sandboxEnvironment, startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { ROOT } from '../helpers.js';
import { HOUR, perTest, until } from './helpers.js';

vi.setConfig({ testTimeout: 60_000 });

// Tuesday 2026-11-24, 09:00 in Berlin.
const NINE = Date.UTC(2026, 10, 24, 8, 0, 0);

const t = perTest();
let sandbox: Sandbox;

type Json = Record<string, unknown>;
/** What SendGrid accepted: `{ to, subject, content }` per message. */
const mail = (): Json[] => sandbox.state.vendors.sendgrid?.mail ?? [];
/** What the runs posted to Slack (the seeded welcome message left out). */
const slack = (): Json[] => (sandbox.state.vendors.slack?.messages ?? []).slice(1);
const textOf = (m: Json | undefined): string => String((m?.content as Json[] | undefined)?.[0]?.value ?? '');

beforeEach(async () => {
  t.s.setClock(NINE - 60_000);
  // The sandbox's Xero seeds two invoices overdue by 14 and 5 days on its clock, the test's.
  sandbox = await startSandbox({ now: () => NINE });
  copyFileSync(join(ROOT, 'workflows', 'invoice-follow-up.yaml'), join(t.s.dir, 'flows', 'invoice-follow-up.yaml'));
  t.s.env = { ...sandboxEnvironment(sandbox.url), XERO_TOKEN: 'xero-token-1234567', SENDGRID_API_KEY: 'sendgrid-key-1234567', SLACK_BOT_TOKEN: 'xoxb-slack-12345678' };
});
afterEach(async () => {
  await sandbox.close();
});

/** Puts an invoice into the sandbox's Xero through its API, as the ledger would have it. */
async function invoice(due: string, contact = 'eaa28f49-6028-4b6e-bb12-d8f6278073fc'): Promise<string> {
  const res = await fetch(`${vendorBaseUrl(sandbox.url, 'xero')}/Invoices`, {
    method: 'PUT', headers: { authorization: 'Bearer x', 'content-type': 'application/json', 'xero-tenant-id': '70784a63-d24b-46a9-a4db-0e70a274b056' },
    body: JSON.stringify({ Invoices: [{ Type: 'ACCREC', Contact: { ContactID: contact }, DueDate: due, Status: 'AUTHORISED', LineItems: [{ Description: 'Boiler service', Quantity: 1, UnitAmount: 1800, AccountCode: '200' }] }] }),
  });
  expect(res.status).toBe(200);
  return String(((await res.json()) as { Invoices: Json[] }).Invoices[0]!.InvoiceNumber);
}

describe('invoice-follow-up', () => {
  it('escalates an invoice unpaid a month after its due date with acknowledgement, and emails the CFO when nobody acknowledges', async () => {
    const old = await invoice('2026-10-01');
    const d = await t.s.daemon('--public-url', 'https://flux.example.com/');
    t.s.setClock(NINE);
    await until(() => slack().length === 1, 'the escalation to finance');
    // Reminders go out five at a time (foreach concurrency): in any order.
    expect(mail().map((m) => m.to).flat().sort(), JSON.stringify(sandbox.state.requests.filter((r) => r.vendor))).toEqual(['ap@acme.example', 'ap@acme.example', 'billing@globex.example']);
    expect(mail().map((m) => m.subject)).toContain(`Invoice ${old} is overdue`);
    const chat = slack()[0]!;
    expect(sandbox.state.vendors.slack!.channels!.find((c) => c.id === chat.channel)?.name).toBe('finance');
    expect(String(chat.text)).toMatch(new RegExp(
      `^invoice-follow-up, unpaid_after_a_month: still unpaid 30 days after the due date: ${old} \\(Acme Plumbing\\)\\. Acknowledge by 2026-11-24T12:00:00\\.000Z: https://flux\\.example\\.com/ack/[\\w-]+\\.[\\w-]+$`,
    ));
    const runs = JSON.parse((await t.s.flux('runs', '--json', '--state-dir', 'state')).stdout) as { runs: { id: string; status: string; escalation: Record<string, unknown> }[] };
    expect(runs.runs).toHaveLength(1);
    const run = runs.runs[0]!;
    expect(run).toMatchObject({ status: 'escalated', escalation: { owner: 'finance', ack_due_at: '2026-11-24T12:00:00.000Z', acked_by: null } });

    // Not acknowledged within 4 hours: the backup is emailed, once.
    t.s.setClock(NINE + 4 * HOUR);
    await until(() => mail().length === 4, 'the email to the CFO');
    t.s.setClock(NINE + 6 * HOUR);
    await new Promise((r) => setTimeout(r, 600));
    expect(mail()).toHaveLength(4);
    expect(mail()[3]).toMatchObject({ to: ['cfo@example.com'], subject: 'Unacknowledged: invoice-follow-up, unpaid_after_a_month' });
    expect(textOf(mail()[3])).toMatch(new RegExp(`^Finance did not acknowledge within 4h: still unpaid 30 days after the due date: ${old} \\(Acme Plumbing\\)\\. Acknowledge: https://flux\\.example\\.com/ack/`));
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

  it('with no invoice a month past due, the overdue ones are reminded, the run succeeds and nobody is told', async () => {
    await t.s.daemon();
    t.s.setClock(NINE);
    await until(async () => (await t.s.flux('runs', '--status', 'succeeded', '--state-dir', 'state')).stdout.includes('invoice-follow-up'), 'the run succeeds');
    expect(mail().map((m) => m.to).flat().sort()).toEqual(['ap@acme.example', 'billing@globex.example']);
    expect(slack()).toEqual([]);
  });
});

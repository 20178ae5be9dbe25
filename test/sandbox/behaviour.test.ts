// The contract sandbox behaves as the vendors do: invalid requests get the vendor's own error
// (which flux turns into one message naming the field), missing credentials the vendor's 401,
// unknown paths its 404; records round-trip; writes replay on the vendor's idempotency key;
// lists page over three pages with `paginate: true`; a queued 429 is retried after Retry-After.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { vendorBaseUrl } from '../../src/sandbox/contract/sites.js';
import { finished, run } from '../engine/harness.js';
import { caller, type Caller } from './helpers.js';

let sandbox: Sandbox;
let vendors: Caller;

beforeEach(async () => {
  sandbox = await startSandbox();
  vendors = await caller(sandbox.url);
});
afterEach(async () => {
  await vendors.close();
  await sandbox.close();
});

type Json = Record<string, unknown>;
const output = (o: { output: unknown }) => o.output as Json;
const vendorState = (prefix: string) => sandbox.state.vendors[prefix]!;

async function fail(vendor: string, status = 429, count = 1, retryAfter = 1): Promise<void> {
  const res = await fetch(`${sandbox.url}/_sandbox/fail`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vendor, status, count, retry_after: retryAfter }) });
  expect(res.status).toBe(200);
}

describe('an invalid request gets the vendor-style error, and flux one message naming the field', () => {
  it('Stripe: 400 invalid_request_error with param', async () => {
    const o = await vendors.call('stripe', 'create_payment_link', { metadata: { order: '1' } });
    expect(o.ok).toBe(false);
    expect(o.status).toBe(400);
    expect(output(o)).toMatchObject({ error: { type: 'invalid_request_error', param: 'line_items' } });
    expect(o.error?.message).toBe("Stripe: body must have required property 'line_items' (invalid_request_error)");
  });

  it('Slack: HTTP 200, ok false, invalid_arguments', async () => {
    const o = await vendors.call('slack', 'post_message', { text: 'hi' });
    expect(o.status).toBe(200);
    expect(output(o)).toMatchObject({ ok: false, error: 'invalid_arguments' });
    expect(o.error?.message).toBe('Slack: invalid_arguments ([ERROR] missing required form field `channel`)');
  });

  it('Xero: 400 ValidationException with its validation errors', async () => {
    const o = await vendors.call('xero', 'create_invoices', { invoices: [{ Type: 'ACCREC', Contact: { ContactID: 'eaa28f49-6028-4b6e-bb12-d8f6278073fc' }, Status: 'SENT_SOMEWHERE' }] });
    expect(o.status).toBe(400);
    expect(output(o)).toMatchObject({ Type: 'ValidationException', Elements: [{ ValidationErrors: [{ Message: expect.stringMatching(/Status/) }] }] });
    expect(o.error?.message).toMatch(/^Xero: ValidationException: body\/Invoices\/0\/Status must be equal to one of the allowed values/);
  });

  it('Intercom: error.list with a code', async () => {
    const o = await vendors.call('intercom', 'add_note', { contact_id: 123 });
    expect(o.status).toBe(400);
    expect(output(o)).toMatchObject({ type: 'error.list', errors: [{ code: 'parameter_invalid' }] });
    expect(o.error?.message).toMatch(/^Intercom: parameter_invalid: body must have required property 'body'/);
  });

  it('Google Calendar: error with status and reason', async () => {
    const o = await vendors.call('google_calendar', 'list_events', { order_by: 'bogus' });
    expect(o.status).toBe(400);
    expect(output(o)).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT', errors: [{ reason: 'invalid' }] } });
    expect(o.error?.message).toBe('Google Calendar: INVALID_ARGUMENT: query parameter `orderBy` must be equal to one of the allowed values');
  });

  it('Square: errors with category, code and field', async () => {
    const o = await vendors.call('square', 'publish_invoice', { invoice_id: 'inv:0-ChCHu2mZEabLeeHahQnXDjZQECY', version: 7 });
    expect(o.status).toBe(400);
    expect(output(o)).toMatchObject({ errors: [{ category: 'INVALID_REQUEST_ERROR', code: 'VERSION_MISMATCH', field: 'version' }] });
    expect(o.error?.message).toBe('Square: VERSION_MISMATCH: The invoice is at version 0, not 7 (version)');
  });

  it('Notion: object error, validation code', async () => {
    const o = await vendors.call('notion', 'create_page', { properties: {} });
    expect(o.status).toBe(400);
    expect(output(o)).toMatchObject({ object: 'error', status: 400, code: 'validation_error' });
    expect(o.error?.message).toMatch(/^Notion: validation_error: body\/parent must have required property 'page_id'/);
  });

  it("a vendor's own refusal, after the description's check passed", async () => {
    const slack = await vendors.call('slack', 'post_message', { channel: 'C9999999999', text: 'hi' });
    expect(slack.error?.message).toBe('Slack: channel_not_found');
    const stripe = await vendors.call('stripe', 'create_refund', { payment_intent: 'pi_3MtwBwLkdIwHu7ix28a3tqPa', amount: 999999 });
    expect(stripe.error?.message).toBe('Stripe: Refund amount (999999) is greater than unrefunded amount on charge (12000) (amount_too_large)');
    const intercom = await vendors.call('intercom', 'update_contact', { contact_id: 'nobody', name: 'x' });
    expect(intercom).toMatchObject({ ok: false, status: 404 });
    expect(intercom.error?.message).toBe("Intercom: not_found: No such contact: 'nobody'");
  });
});

describe('credentials and paths', () => {
  it('a call without credentials gets the vendor 401 (Slack: not_authed with HTTP 200)', async () => {
    const stripe = await vendors.call('stripe', 'create_customer', { email: 'a@example.com' }, { auth: false });
    expect(stripe).toMatchObject({ ok: false, status: 401 });
    expect(stripe.error?.message).toMatch(/^Stripe: No valid credentials/);
    const slack = await vendors.call('slack', 'list_channels', {}, { auth: false });
    expect(slack.error?.message).toBe('Slack: not_authed');
    const xero = await vendors.call('xero', 'list_invoices', {}, { auth: false });
    expect(output(xero)).toEqual({ Type: null, Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' });
    expect(vendorState('stripe').customers).toHaveLength(1);
  });

  it('an unknown path gets the vendor-style 404', async () => {
    const res = await fetch(`${sandbox.url}/stripe/v1/nothing_here`, { method: 'POST', headers: { authorization: 'Bearer x' } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', message: 'Unrecognized request URL (POST: /v1/nothing_here)' } });
    const google = await fetch(`${sandbox.url}/google/calendar/v3/nothing`);
    expect(google.status).toBe(404);
    expect(await google.json()).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
  });
});

describe('state round-trips', () => {
  it('Intercom: a created contact is found by search, updated, and found by its new name', async () => {
    const created = await vendors.call('intercom', 'create_contact', { role: 'lead', email: 'new.lead@example.com', name: 'New Lead' });
    expect(created.ok).toBe(true);
    const found = await vendors.call('intercom', 'search_contacts', { query: { field: 'email', operator: '=', value: 'new.lead@example.com' } });
    expect(output(found)).toMatchObject({ total_count: 1, data: [{ id: output(created).id, name: 'New Lead' }] });
    await vendors.call('intercom', 'update_contact', { contact_id: String(output(created).id), name: 'Renamed Lead' });
    const again = await vendors.call('intercom', 'search_contacts', { query: { field: 'name', operator: '~', value: 'renamed' } });
    expect(output(again)).toMatchObject({ total_count: 1, data: [{ email: 'new.lead@example.com' }] });
    const twice = await vendors.call('intercom', 'create_contact', { role: 'lead', email: 'new.lead@example.com' });
    expect(twice).toMatchObject({ ok: false, status: 409 });
  });

  it('Stripe: an invoice created, finalized, sent and paid changes status, and lists by status', async () => {
    const customer = 'cus_NeZwdNtLEOXuvB';
    await vendors.call('stripe_invoicing', 'create_invoice_item', { customer, amount: 4200, currency: 'usd', description: 'Audit' });
    const invoice = output(await vendors.call('stripe_invoicing', 'create_invoice', { customer, collection_method: 'send_invoice', days_until_due: 14 }));
    expect(invoice).toMatchObject({ status: 'draft', amount_due: 4200 });
    const id = String(invoice.id);
    expect(output(await vendors.call('stripe_invoicing', 'finalize_invoice', { invoice: id }))).toMatchObject({ status: 'open' });
    expect((await vendors.call('stripe_invoicing', 'send_invoice', { invoice: id })).ok).toBe(true);
    const open = output(await vendors.call('stripe_invoicing', 'list_invoices', { status: 'open' }));
    expect((open.data as Json[]).map((i) => i.id)).toContain(id);
    expect(output(await vendors.call('stripe_invoicing', 'pay_invoice', { invoice: id, paid_out_of_band: true }))).toMatchObject({ status: 'paid', amount_remaining: 0 });
    const paid = output(await vendors.call('stripe_invoicing', 'list_invoices', { status: 'paid' }));
    expect((paid.data as Json[]).map((i) => i.id)).toEqual([id]);
    expect(vendorState('stripe').sent).toEqual([expect.objectContaining({ invoice: id })]);
    const again = await vendors.call('stripe_invoicing', 'finalize_invoice', { invoice: id });
    expect(again.error?.message).toMatch(/already finalized/);
  });

  it('Xero: overdue invoices listed by status and due date; a payment in full makes one PAID', async () => {
    const today = new Date();
    const where = `Type=="ACCREC" AND AmountDue>0 AND DueDate<DateTime(${today.getUTCFullYear()},${today.getUTCMonth() + 1},${today.getUTCDate()})`;
    const overdue = output(await vendors.call('xero', 'list_invoices', { statuses: ['AUTHORISED'], where, order: 'DueDate ASC' }));
    expect((overdue.Invoices as Json[]).map((i) => i.InvoiceNumber)).toEqual(['INV-0041', 'INV-0057']);
    const paid = await vendors.call('xero', 'create_payment', { invoice_id: '4c5b8e5b-7c8f-4f6a-9d0e-2b3a1c4d5e6f', account_code: '090', amount: 180, date: '2026-11-24' });
    expect(paid.ok).toBe(true);
    const after = output(await vendors.call('xero', 'list_invoices', { statuses: ['PAID'] }));
    expect((after.Invoices as Json[]).map((i) => i.InvoiceNumber)).toEqual(['INV-0041']);
    const over = await vendors.call('xero', 'create_payment', { invoice_id: '9b1de2a4-1f3c-4c1a-8a52-0e8f0c3d7b21', account_code: '090', amount: 5000 });
    expect(over.error?.message).toBe('Xero: ValidationException: Payment amount exceeds the amount outstanding on this document (420)');
  });

  it('Google Calendar: an inserted event is listed, fetched and patched', async () => {
    const made = output(await vendors.call('google_calendar', 'insert_event', { summary: 'Call with Luis', start: '2026-12-02T10:00:00Z', end: '2026-12-02T10:30:00Z' }));
    const listed = output(await vendors.call('google_calendar', 'list_events', { time_min: '2026-12-02T00:00:00Z', time_max: '2026-12-03T00:00:00Z' }));
    expect((listed.items as Json[]).map((e) => e.summary)).toEqual(['Call with Luis']);
    await vendors.call('google_calendar', 'patch_event', { event_id: String(made.id), summary: 'Call with Luis (moved)' });
    expect(output(await vendors.call('google_calendar', 'get_event', { event_id: String(made.id) }))).toMatchObject({ summary: 'Call with Luis (moved)', sequence: 1 });
  });

  it('Slack: a posted message is updated; Notion: a created page is found by a query', async () => {
    const posted = output(await vendors.call('slack', 'post_message', { channel: '#sales', text: 'first' }));
    await vendors.call('slack', 'update_message', { channel: String(posted.channel), ts: String(posted.ts), text: 'second' });
    expect(vendorState('slack').messages!.find((m) => m.ts === posted.ts)).toMatchObject({ text: 'second', edited: true });
    await vendors.call('notion', 'create_page', { database_id: 'd9824bdc-8445-4327-be8b-5b47500af6ce', properties: { Name: { title: [{ text: { content: 'Open item' } }] }, Status: { status: { name: 'Open' } } } });
    const query = output(await vendors.call('notion', 'query_data_source', { data_source_id: 'a42a62ed-9b51-4b98-9dea-ea6d091bc508', filter: { property: 'Status', status: { equals: 'Open' } } }));
    expect(query.results).toHaveLength(1);
  });
});

describe('idempotency as the vendor does it', () => {
  it('Stripe replays the first answer to a repeated Idempotency-Key', async () => {
    const first = await vendors.call('stripe', 'create_customer', { email: 'once@example.com' }, { idempotencyKey: 'RUN9:customer' });
    const second = await vendors.call('stripe', 'create_customer', { email: 'once@example.com' }, { idempotencyKey: 'RUN9:customer' });
    expect(output(second).id).toBe(output(first).id);
    expect(vendorState('stripe').customers!.filter((c) => c.email === 'once@example.com')).toHaveLength(1);
    const other = await vendors.call('stripe', 'create_customer', { email: 'other@example.com' }, { idempotencyKey: 'RUN9:customer' });
    expect(other.error?.message).toMatch(/^Stripe: Keys for idempotent requests can only be used with the same parameters/);
  });

  it("Square replays on the body's idempotency_key", async () => {
    const params = { location_id: 'L88917AVBK2S5', customer_id: 'C1', due_date: '2026-12-08', order_id: 'O1' };
    const first = output(await vendors.call('square', 'create_invoice', params, { idempotencyKey: 'RUN9:invoice' }));
    const second = output(await vendors.call('square', 'create_invoice', params, { idempotencyKey: 'RUN9:invoice' }));
    expect((second.invoice as Json).id).toBe((first.invoice as Json).id);
    expect(vendorState('square').invoices).toHaveLength(2);
  });
});

describe('pagination: paginate: true follows the vendor cursor over three pages', () => {
  const pages = (prefix: string) => sandbox.state.requests.filter((r) => r.vendor === prefix && r.status === 200).length;
  it('Slack conversations.list', async () => {
    const o = output(await vendors.call('slack', 'list_channels', { limit: 4, paginate: true }));
    expect(o).toMatchObject({ count: 10, has_more: false });
    expect(pages('slack')).toBe(3);
  });
  it('Stripe list (starting_after the last id)', async () => {
    for (const amount of [100, 200]) {
      await vendors.call('stripe_invoicing', 'create_invoice', { customer: 'cus_NeZwdNtLEOXuvB', collection_method: 'send_invoice', days_until_due: amount });
    }
    const o = output(await vendors.call('stripe_invoicing', 'list_invoices', { limit: 1, paginate: true }));
    expect(o).toMatchObject({ count: 3 });
    expect(pages('stripe')).toBe(5);
  });
  it('Intercom search (pages.next.starting_after)', async () => {
    const o = output(await vendors.call('intercom', 'search_contacts', { query: { field: 'role', operator: 'IN', value: ['user', 'lead'] }, per_page: 1, paginate: true }));
    expect(o).toMatchObject({ count: 3 });
    expect(pages('intercom')).toBe(3);
  });
  it('Google events list (nextPageToken)', async () => {
    for (const day of ['02', '03']) await vendors.call('google_calendar', 'insert_event', { summary: `Day ${day}`, start: `2026-12-${day}T10:00:00Z`, end: `2026-12-${day}T11:00:00Z` });
    const o = output(await vendors.call('google_calendar', 'list_events', { max_results: 1, paginate: true }));
    expect(o).toMatchObject({ count: 3 });
    expect(pages('google')).toBe(5);
  });
});

describe('rate limits', () => {
  it('a queued 429 carries the vendor headers, and a workflow step retries after Retry-After', async () => {
    await fail('intercom', 429, 1, 7);
    const raw = await fetch(`${sandbox.url}/intercom/contacts/search`, { method: 'POST' });
    expect(raw.status).toBe(429);
    expect(raw.headers.get('retry-after')).toBe('7');
    expect(Number(raw.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(await raw.json()).toMatchObject({ type: 'error.list', errors: [{ code: 'rate_limit_exceeded' }] });

    await fail('slack', 429, 2, 7);
    const { result, journal, clock } = await run(`name: t
owner: ops@example.com
trigger: manual
secrets: [SLACK_TOKEN]
env:
  SLACK_URL: http://127.0.0.1:9/slack/api
connections:
  chat: { connector: slack, base_url: "\${{ env.SLACK_URL }}", auth: { bearer: "\${{ secrets.SLACK_TOKEN }}" } }
steps:
  - id: tell
    uses: chat.post_message
    retry: { attempts: 3, initial: 1s, max: 30s }
    with: { channel: C0123456789, text: "after the limit" }
`, { environment: { SLACK_URL: vendorBaseUrl(sandbox.url, 'slack') }, secrets: { SLACK_TOKEN: 'xoxb-sandbox' } });
    expect(result.status).toBe('succeeded');
    expect(clock.sleeps).toEqual([7000, 7000]);
    expect(finished(journal, 'tell')).toMatchObject({ status: 'succeeded', attempt: 3 });
    expect(vendorState('slack').messages!.filter((m) => m.text === 'after the limit')).toHaveLength(1);
  });

  it('the control endpoint refuses what it cannot do', async () => {
    const res = await fetch(`${sandbox.url}/_sandbox/fail`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vendor: 'nobody' }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as Json).error).toMatch(/^vendor must be one of box, discord/);
  });
});

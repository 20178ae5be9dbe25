// The newest vendors in the contract sandbox behave as the real ones do: PayPal invoicing
// (errors in PayPal's shape, PayPal-Request-Id replays, numbered pages with total_pages, a
// payment bounded by what is due), Google Drive (multipart uploads, the query subset, moves
// between folders, sharing, pageToken), Square payments and refunds (a refund raises the
// payment's refunded amount; idempotency_key replays) and Box uploads at the upload host.
import { describe, expect, it } from 'vitest';
import { vendorBaseUrl } from '../../src/sandbox/contract/sites.js';
import { sandboxPerTest } from './helpers.js';

const ctx = sandboxPerTest();

type Json = Record<string, unknown>;
const output = (o: { output: unknown }) => o.output as Json;
const records = (prefix: string, collection: string) => ctx.sandbox.state.vendors[prefix]![collection] ?? [];

const invoice = (n: number) => ({
  currency: 'USD', recipient_email: `buyer${n}@acme.example`, items: [{ name: 'Boiler service', quantity: '2', unit_amount: '90.00' }], due_date: '2026-12-08', invoice_number: `SBX-${n}`,
});

describe('PayPal invoicing', () => {
  it('drafts, sends and is paid outside PayPal; a second payment over what is due gets the 422 in PayPal\'s shape', async () => {
    const draft = output(await ctx.vendors.call('paypal_invoicing', 'create_invoice', invoice(1)));
    expect(draft).toMatchObject({ status: 'DRAFT', amount: { currency_code: 'USD', value: '180.00' } });
    const id = String(draft.id);
    expect(id).toMatch(/^INV2-/);
    const early = await ctx.vendors.call('paypal_invoicing', 'record_payment', { invoice_id: id, method: 'CASH' });
    expect(early.status).toBe(422);
    expect(early.error?.message).toMatch(/^PayPal: UNPROCESSABLE_ENTITY: .*\(\/invoice_id: CANT_RECORD_PAYMENT: A payment can be recorded only for a sent, unpaid invoice; this one is DRAFT\.\)$/);
    expect((await ctx.vendors.call('paypal_invoicing', 'send_invoice', { invoice_id: id })).ok).toBe(true);
    const part = await ctx.vendors.call('paypal_invoicing', 'record_payment', { invoice_id: id, method: 'BANK_TRANSFER', amount: { currency_code: 'USD', value: '100.00' } });
    expect(output(part).payment_id).toMatch(/^EXTR-/);
    const found = output(await ctx.vendors.call('paypal_invoicing', 'search_invoices', { invoice_number: 'SBX-1' }));
    expect(found.items).toEqual([expect.objectContaining({ id, status: 'PARTIALLY_PAID', due_amount: { currency_code: 'USD', value: '80.00' } })]);
    const over = await ctx.vendors.call('paypal_invoicing', 'record_payment', { invoice_id: id, method: 'CASH', amount: { currency_code: 'USD', value: '80.01' } });
    expect(over.status).toBe(422);
    expect(output(over)).toMatchObject({ name: 'UNPROCESSABLE_ENTITY', debug_id: expect.any(String), details: [{ field: '/amount/value', issue: 'INVALID_PAYMENT_AMOUNT' }] });
    expect((await ctx.vendors.call('paypal_invoicing', 'record_payment', { invoice_id: id, method: 'CASH' })).ok).toBe(true);
    const paid = records('paypal', 'invoices').find((i) => i.id === id)!;
    expect(paid.status).toBe('MARKED_AS_PAID');
  });

  it('an invalid request gets 400 INVALID_REQUEST with the field in details, read into one message', async () => {
    // The connector would not build this body; the raw request sends it as given.
    const raw = await ctx.vendors.call('paypal_invoicing', 'request', { method: 'POST', path: '/v2/invoicing/invoices', json: { detail: {} } });
    expect(raw.status).toBe(400);
    expect(output(raw).body).toMatchObject({ name: 'INVALID_REQUEST', details: [{ field: '/detail/currency_code', issue: 'INVALID_PARAMETER_VALUE' }] });
    expect(raw.error?.message).toMatch(/^PayPal: INVALID_REQUEST: .*\(\/detail\/currency_code: INVALID_PARAMETER_VALUE: body\/detail must have required property 'currency_code'\)$/);
  });

  it('a retried create with the same PayPal-Request-Id gets the first answer and makes one invoice', async () => {
    const before = records('paypal', 'invoices').length;
    const first = output(await ctx.vendors.call('paypal_invoicing', 'create_invoice', invoice(2), { idempotencyKey: 'RUN7:draft' }));
    const second = output(await ctx.vendors.call('paypal_invoicing', 'create_invoice', invoice(2), { idempotencyKey: 'RUN7:draft' }));
    expect(second.id).toBe(first.id);
    expect(records('paypal', 'invoices')).toHaveLength(before + 1);
    expect(ctx.sandbox.state.requests.filter((r) => r.vendor === 'paypal').map((r) => r.status)).toEqual([201, 201]);
  });

  it('search pages with page and page_size until total_pages: paginate gathers three pages', async () => {
    for (let n = 10; n < 15; n++) expect((await ctx.vendors.call('paypal_invoicing', 'create_invoice', invoice(n))).ok).toBe(true);
    const o = output(await ctx.vendors.call('paypal_invoicing', 'search_invoices', { currency: 'USD', status: ['DRAFT'], invoice_date_range: { start: '2026-01-01', end: '2030-12-31' }, page_size: 2, paginate: true }));
    const searches = ctx.sandbox.state.requests.filter((r) => r.operation === '/v2/invoicing/search-invoices');
    expect(searches).toHaveLength(3);
    // The seeded draft and the five made here.
    expect(o).toMatchObject({ count: 6, has_more: false });
  });
});

describe('Google Drive', () => {
  const folder = '0B1yKqkBEA4_FUmVWNEJ6ZE1lVnc';

  it('uploads a text file (multipart/related) that list_files finds by name, parent and trashed; moves and shares it', async () => {
    const up = output(await ctx.vendors.call('google_drive', 'upload_file', { name: 'notes-acme.txt', content: 'call Maria on Monday', parents: [folder] }));
    expect(up).toEqual({ kind: 'drive#file', id: expect.any(String), name: 'notes-acme.txt', mimeType: 'text/plain' });
    const stored = records('google', 'files').find((f) => f.id === up.id)!;
    expect(stored).toMatchObject({ content: 'call Maria on Monday', size: '20', parents: [folder] });
    const q = `name contains 'NOTES' and '${folder}' in parents and trashed = false`;
    const listed = output(await ctx.vendors.call('google_drive', 'list_files', { q }));
    expect((listed.files as Json[]).map((f) => f.name)).toEqual(['notes-acme.txt']);
    const moved = await ctx.vendors.call('google_drive', 'create_file', { name: 'Archive', mime_type: 'application/vnd.google-apps.folder' });
    const archive = String(output(moved).id);
    expect((await ctx.vendors.call('google_drive', 'update_file', { file_id: up.id, add_parents: archive, remove_parents: folder, trashed: true })).ok).toBe(true);
    expect(records('google', 'files').find((f) => f.id === up.id)).toMatchObject({ parents: [archive], trashed: true });
    expect(output(await ctx.vendors.call('google_drive', 'list_files', { q })).files).toEqual([]);
    const shared = output(await ctx.vendors.call('google_drive', 'share_file', { file_id: up.id, role: 'reader', type: 'user', email_address: 'maria@acme.example' }));
    expect(shared).toMatchObject({ kind: 'drive#permission', role: 'reader', type: 'user', emailAddress: 'maria@acme.example' });
  });

  it('a query outside the subset, an unknown folder and a user share without an email get Google\'s errors', async () => {
    const q = await ctx.vendors.call('google_drive', 'list_files', { q: "fullText contains 'x'" });
    expect(q.status).toBe(400);
    expect(output(q)).toMatchObject({ error: { code: 400, status: 'INVALID_ARGUMENT', errors: [{ reason: 'invalid', location: 'q' }] } });
    expect(q.error?.message).toMatch(/^Google Drive: INVALID_ARGUMENT: Invalid Value: the sandbox reads .*; not `fullText contains 'x'`$/);
    const parent = await ctx.vendors.call('google_drive', 'create_file', { name: 'x', parents: ['nope'] });
    expect(parent.status).toBe(404);
    expect(parent.error?.message).toBe('Google Drive: NOT_FOUND: File not found: nope.');
    const share = await ctx.vendors.call('google_drive', 'share_file', { file_id: folder, role: 'reader', type: 'user' });
    expect(share.status).toBe(400);
  });

  it('list_files pages with pageToken: paginate gathers three pages', async () => {
    for (let n = 0; n < 5; n++) expect((await ctx.vendors.call('google_drive', 'create_file', { name: `page-${n}` })).ok).toBe(true);
    const o = output(await ctx.vendors.call('google_drive', 'list_files', { q: "name contains 'page-'", page_size: 2, paginate: true }));
    expect(o).toMatchObject({ count: 5, has_more: false });
    expect((o.items as Json[]).map((f) => f.name)).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    const lists = ctx.sandbox.state.requests.filter((r) => r.method === 'GET' && r.operation === '/drive/v3/files');
    expect(lists).toHaveLength(3);
  });
});

describe('Square payments and refunds', () => {
  it('a refund raises the payment\'s refunded amount, and one over what is left is refused', async () => {
    const pay = output(await ctx.vendors.call('square', 'create_payment', { source_id: 'cnon:card-nonce-ok', amount: 5000, currency: 'USD' }));
    const payment = pay.payment as Json;
    expect(payment).toMatchObject({ status: 'COMPLETED', amount_money: { amount: 5000, currency: 'USD' } });
    const refund = output(await ctx.vendors.call('square', 'refund_payment', { payment_id: payment.id, amount: 3000, currency: 'USD' }));
    expect(refund.refund).toMatchObject({ status: 'PENDING', payment_id: payment.id, amount_money: { amount: 3000 } });
    expect(records('square', 'payments').find((p) => p.id === payment.id)).toMatchObject({ refunded_money: { amount: 3000, currency: 'USD' } });
    const over = await ctx.vendors.call('square', 'refund_payment', { payment_id: payment.id, amount: 2001, currency: 'USD' });
    expect(over.status).toBe(400);
    expect(over.error?.message).toBe('Square: REFUND_AMOUNT_INVALID: The refund amount (2001) exceeds what is left unrefunded (2000) (amount_money.amount)');
  });

  it('a retried payment with the same idempotency_key is taken once', async () => {
    const params = { source_id: 'cnon:card-nonce-ok', amount: 1200, currency: 'USD' };
    const first = output(await ctx.vendors.call('square', 'create_payment', params, { idempotencyKey: 'RUN8:pay' }));
    const second = output(await ctx.vendors.call('square', 'create_payment', params, { idempotencyKey: 'RUN8:pay' }));
    expect(second).toEqual(first);
    expect(records('square', 'payments').filter((p) => (p.amount_money as Json).amount === 1200)).toHaveLength(1);
  });
});

describe('Box uploads', () => {
  it('the box prefix stands for the upload host: a file uploaded there is in its folder, and the same name again is a 409', async () => {
    expect(vendorBaseUrl(ctx.sandbox.url, 'box')).toBe(`${ctx.sandbox.url}/box/2.0`);
    const up = output(await ctx.vendors.call('box', 'upload_file', { name: 'quote-7.txt', parent_id: '0', content: 'Quote 7: 180.00' }));
    expect(up).toMatchObject({ total_count: 1, entries: [{ type: 'file', name: 'quote-7.txt', size: 15 }] });
    const items = output(await ctx.vendors.call('box', 'list_folder_items', { folder_id: '0' }));
    expect((items.entries as Json[]).map((e) => e.name)).toContain('quote-7.txt');
    const again = await ctx.vendors.call('box', 'upload_file', { name: 'quote-7.txt', parent_id: '0', content: 'again' });
    expect(again.status).toBe(409);
    expect(output(again)).toMatchObject({ type: 'error', code: 'item_name_in_use' });
  });
});

describe('the connector fixes, against the sandbox', () => {
  it('Xero: an invoice for a contact by Name makes that contact once, and a second invoice by Name reuses it', async () => {
    const invoice = (reference: string) => ({ invoices: [{ Type: 'ACCREC', Contact: { Name: 'Northwind Traders' }, Reference: reference, LineItems: [{ Description: 'Service', Quantity: 1, UnitAmount: 90, AccountCode: '200' }] }] });
    const first = output(await ctx.vendors.call('xero', 'create_invoices', invoice('A')));
    const second = output(await ctx.vendors.call('xero', 'create_invoices', invoice('B')));
    const contactOf = (o: Json) => ((o.Invoices as Json[])[0]!.Contact as Json).ContactID;
    expect(contactOf(first)).toEqual(expect.any(String));
    expect(contactOf(second)).toBe(contactOf(first));
    expect(records('xero', 'contacts').filter((c) => c.Name === 'Northwind Traders')).toHaveLength(1);
    const none = await ctx.vendors.call('xero', 'create_invoices', { invoices: [{ Type: 'ACCREC', Contact: {} }] });
    expect(none.error?.message).toBe('Xero: ValidationException: A Contact must be specified for this type of transaction');
  });

  it('Intercom: a note on a contact by its hex string ID', async () => {
    const o = await ctx.vendors.call('intercom', 'add_note', { contact_id: '6762f0dd1bb69f9f2193bb83', body: '<p>Call back Monday</p>' });
    expect(o.ok).toBe(true);
    expect(records('intercom', 'notes').at(-1)).toMatchObject({ body: '<p>Call back Monday</p>' });
  });
});

// The accounting connectors at run time, against a real HTTP server on 127.0.0.1: Xero's
// tenant header from the connection (and a clear failure without it), its error body as one
// message, its Idempotency-Key across retries, Retry-After on 429, page-number pagination over
// three pages bounded by max_items; Stripe invoicing's starting_after pagination (the last
// item's id), due-date filters, paid_out_of_band with its Idempotency-Key, and its errors;
// Square's version header, idempotency_key body field (bounded for payments and refunds), error
// bodies and body-cursor pagination.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttp } from '../../src/connectors/http.js';
import { createVendorRuntime } from '../../src/connectors/vendor-runtime.js';
import { SQUARE_VERSION } from '../../src/connectors/square.js';
import { xeroSpec } from '../../src/connectors/xero.js';
import { Masker } from '../../src/secrets/masker.js';
import { finished, HEAD, run } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const TENANT = '70784a63-d24b-46a9-a4db-0e70a274b056';
const connections = (xeroHeaders = `headers: { xero-tenant-id: "\${{ secrets.TENANT }}" }, `): string => `secrets: [TOKEN, TENANT]
connections:
  books: { connector: xero, base_url: "${server.url}/api.xro/2.0", ${xeroHeaders}auth: { bearer: "\${{ secrets.TOKEN }}" } }
  billing: { connector: stripe_invoicing, base_url: "${server.url}", auth: { bearer: "\${{ secrets.TOKEN }}" } }
  shop: { connector: square, base_url: "${server.url}", auth: { bearer: "\${{ secrets.TOKEN }}" } }
`;
const secrets = { TOKEN: 'xero-access-token-secret', TENANT };
const INVOICE_ID = '4c5b8e5b-7c8f-4f6a-9d0e-2b3a1c4d5e6f';

describe('xero at run time', () => {
  it("sends the connection's tenant header and the bearer token, and gives Xero's body as output", async () => {
    server.script('PUT /api.xro/2.0/Contacts', { status: 200, body: { Contacts: [{ ContactID: 'c1', Name: 'Acme' }] } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: contact
    uses: books.create_contacts
    with: { contacts: [{ Name: Acme, EmailAddress: maria@acme.example }] }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'contact')?.output).toEqual({ Contacts: [{ ContactID: 'c1', Name: 'Acme' }] });
    const sent = server.received.at(-1)!;
    expect(sent.headers['xero-tenant-id']).toBe(TENANT);
    expect(sent.headers.authorization).toBe('Bearer xero-access-token-secret');
    expect(JSON.parse(sent.body)).toEqual({ Contacts: [{ Name: 'Acme', EmailAddress: 'maria@acme.example' }] });
  });

  it('fails before sending anything when the connection has no tenant header (lint says so first)', async () => {
    // Lint refuses such a workflow; at run time a header that rendered empty is as good as none.
    const http = await createHttp({ userAgent: 'flux-test' });
    try {
      const runtime = createVendorRuntime(xeroSpec, http);
      const before = server.received.length;
      const ctx = { signal: new AbortController().signal, idempotencyKey: 'RUN1:list', masker: new Masker(), dryRun: false };
      const outcomes = await Promise.all([undefined, { 'xero-tenant-id': '' }].map((headers) => runtime.call({
        operation: 'list_invoices', params: {}, connection: { base_url: `${server.url}/api.xro/2.0`, auth: { bearer: 'x' }, ...(headers ? { headers } : {}) },
      }, ctx)));
      for (const outcome of outcomes) {
        expect(outcome).toMatchObject({ ok: false, error: { retryable: false, message: 'Xero: the connection needs the `xero-tenant-id` header (the ID of the Xero organisation (tenant) the calls act on, from GET https://api.xero.com/connections): add `headers: { xero-tenant-id: ... }` to it' } });
      }
      expect(server.received.length).toBe(before);
    } finally {
      await http.close?.();
    }
  });

  it('reads a ValidationException into one message, every validation error in it', async () => {
    server.script('PUT /api.xro/2.0/Invoices', {
      status: 400,
      body: {
        ErrorNumber: 10, Type: 'ValidationException', Message: 'A validation exception occurred',
        Elements: [{ ValidationErrors: [{ Message: 'Email address must be valid.' }, { Message: 'Account code \'999\' is not a valid code.' }] }, { ValidationErrors: [{ Message: 'Email address must be valid.' }] }],
      },
    });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: invoice
    uses: books.create_invoices
    with:
      invoices: [{ Type: ACCREC, Contact: { ContactID: eaa28f49-6028-4b6e-bb12-d8f6278073fc }, LineItems: [{ Description: Service, Quantity: 1, UnitAmount: 180, AccountCode: "999" }] }]
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'invoice')?.error?.message).toBe("Xero: ValidationException: Email address must be valid.; Account code '999' is not a valid code.");
  });

  it('reads other error bodies: an auth problem, a bare status', async () => {
    server.script('POST /api.xro/2.0/Invoices/{id}/Email'.replace('{id}', INVOICE_ID),
      { status: 401, body: { Type: null, Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' } },
      { status: 404, raw: 'The resource you\'re looking for cannot be found', headers: { 'content-type': 'text/plain' } });
    const messages: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: email
    uses: books.email_invoice
    with: { invoice_id: ${INVOICE_ID} }
`, { secrets });
      messages.push(finished(journal, 'email')?.error?.message ?? '');
    }
    expect(messages).toEqual(['Xero: Unauthorized: AuthenticationUnsuccessful', 'Xero: HTTP 404']);
  });

  it('records a payment with the same Idempotency-Key on every retry, and honours Retry-After on 429', async () => {
    const before = server.received.length;
    server.script('PUT /api.xro/2.0/Payments',
      { status: 429, headers: { 'retry-after': '11' }, body: { Title: 'Too Many Requests' } },
      { status: 503, body: { Type: 'ServiceUnavailable' } },
      { status: 200, body: { Payments: [{ PaymentID: 'p1', Status: 'AUTHORISED' }] } });
    const { result, clock } = await run(`${HEAD}${connections()}steps:
  - id: pay
    uses: books.create_payment
    retry: { attempts: 3, initial: 1s, max: 1m }
    with: { invoice_id: ${INVOICE_ID}, account_code: "090", amount: 180, date: "2026-11-24" }
`, { secrets });
    expect(result.status).toBe('succeeded');
    const sent = server.received.slice(before);
    expect(sent).toHaveLength(3);
    expect(new Set(sent.map((r) => r.headers['idempotency-key'])).size).toBe(1);
    expect(sent[0]!.headers['idempotency-key']).toMatch(/pay/);
    expect(clock.sleeps[0]).toBe(11_000);
    expect(JSON.parse(sent[0]!.body)).toEqual({ Payments: [{ Invoice: { InvoiceID: INVOICE_ID }, Account: { Code: '090' }, Amount: 180, Date: '2026-11-24' }] });
  });

  describe('paginate: true over three numbered pages', () => {
    const pages = (pageCount?: number) => {
      const meta = (page: number) => (pageCount === undefined ? {} : { pagination: { page, pageSize: 2, pageCount, itemCount: 6 } });
      server.script('GET /api.xro/2.0/Invoices',
        { status: 200, body: { Invoices: [{ InvoiceID: 'i1' }, { InvoiceID: 'i2' }], ...meta(1) } },
        { status: 200, body: { Invoices: [{ InvoiceID: 'i3' }, { InvoiceID: 'i4' }], ...meta(2) } },
        { status: 200, body: { Invoices: [{ InvoiceID: 'i5' }, { InvoiceID: 'i6' }], ...meta(3) } },
        { status: 200, body: { Invoices: [], ...meta(4) } });
    };
    const overdue = `uses: books.list_invoices
    with:
      statuses: [AUTHORISED, SUBMITTED]
      where: 'Type=="ACCREC" AND AmountDue>0 AND DueDate<DateTime(2026,11,24)'
      page_size: 2
      paginate: true`;

    it("asks for pages 1, 2, 3 and stops at the response's page count", async () => {
      pages(3);
      const before = server.received.length;
      const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    ${overdue}
`, { secrets });
      expect(result.status).toBe('succeeded');
      expect(finished(journal, 'list')?.output).toEqual({ items: ['i1', 'i2', 'i3', 'i4', 'i5', 'i6'].map((id) => ({ InvoiceID: id })), count: 6, has_more: false, next_cursor: null });
      const sent = server.received.slice(before);
      expect(sent.map((r) => r.query.page)).toEqual(['1', '2', '3']);
      expect(sent[0]!.query).toMatchObject({ Statuses: 'AUTHORISED,SUBMITTED', where: 'Type=="ACCREC" AND AmountDue>0 AND DueDate<DateTime(2026,11,24)', pageSize: '2' });
    });

    it('without a page count, stops at the first empty page', async () => {
      pages();
      const before = server.received.length;
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    ${overdue}
`, { secrets });
      expect(finished(journal, 'list')?.output).toMatchObject({ count: 6, has_more: false, next_cursor: null });
      expect(server.received.slice(before).map((r) => r.query.page)).toEqual(['1', '2', '3', '4']);
    });

    it('stops at max_items with the next page number as the cursor', async () => {
      pages(3);
      const before = server.received.length;
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    ${overdue}
      max_items: 4
`, { secrets });
      expect(finished(journal, 'list')?.output).toEqual({ items: ['i1', 'i2', 'i3', 'i4'].map((id) => ({ InvoiceID: id })), count: 4, has_more: true, next_cursor: 3 });
      expect(server.received.length - before).toBe(2);
    });
  });
});

describe('stripe_invoicing at run time', () => {
  it('lists open invoices past their due date over three pages, each starting after the last id', async () => {
    server.script('GET /v1/invoices',
      { status: 200, body: { object: 'list', data: [{ id: 'in_1' }, { id: 'in_2' }], has_more: true } },
      { status: 200, body: { object: 'list', data: [{ id: 'in_3' }, { id: 'in_4' }], has_more: true } },
      { status: 200, body: { object: 'list', data: [{ id: 'in_5' }], has_more: false } });
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: overdue
    uses: billing.list_invoices
    with: { status: open, due_date_lt: 1764000000, limit: 2, paginate: true }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'overdue')?.output).toEqual({ items: ['in_1', 'in_2', 'in_3', 'in_4', 'in_5'].map((id) => ({ id })), count: 5, has_more: false, next_cursor: null });
    const sent = server.received.slice(before);
    expect(sent.map((r) => r.query.starting_after ?? null)).toEqual([null, 'in_2', 'in_4']);
    expect(sent[0]!.query).toEqual({ status: 'open', 'due_date[lt]': '1764000000', limit: '2' });
  });

  it('stops at max_items, the next page starting after the last id kept', async () => {
    server.script('GET /v1/invoices',
      { status: 200, body: { object: 'list', data: [{ id: 'in_1' }, { id: 'in_2' }], has_more: true } },
      { status: 200, body: { object: 'list', data: [{ id: 'in_3' }, { id: 'in_4' }], has_more: true } });
    const before = server.received.length;
    const { journal } = await run(`${HEAD}${connections()}steps:
  - id: overdue
    uses: billing.list_invoices
    with: { status: open, limit: 2, paginate: true, max_items: 4 }
`, { secrets });
    expect(finished(journal, 'overdue')?.output).toMatchObject({ count: 4, has_more: true, next_cursor: 'in_4' });
    expect(server.received.length - before).toBe(2);
  });

  it('marks an invoice paid out of band with an Idempotency-Key kept across retries', async () => {
    server.script('POST /v1/invoices/in_9/pay',
      { status: 500, body: { error: { message: 'Something went wrong', type: 'api_error' } } },
      { status: 200, body: { id: 'in_9', status: 'paid', paid_out_of_band: true } });
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: paid
    uses: billing.pay_invoice
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { invoice: in_9, paid_out_of_band: true }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'paid')?.output).toMatchObject({ status: 'paid' });
    const sent = server.received.slice(before);
    expect(sent.map((r) => r.body)).toEqual(['paid_out_of_band=true', 'paid_out_of_band=true']);
    expect(sent[0]!.headers['idempotency-key']).toBe(sent[1]!.headers['idempotency-key']);
    expect(sent[0]!.headers['idempotency-key']).toMatch(/paid/);
  });

  it("reads Stripe's error body when an invoice cannot be finalized", async () => {
    server.script('POST /v1/invoices/in_1/finalize', { status: 400, body: { error: { message: 'This invoice is already finalized.', code: 'invoice_not_editable', type: 'invalid_request_error' } } });
    const { journal } = await run(`${HEAD}${connections()}steps:
  - id: finalize
    uses: billing.finalize_invoice
    with: { invoice: in_1 }
`, { secrets });
    expect(finished(journal, 'finalize')).toMatchObject({ status: 'failed', error: { message: 'Stripe: This invoice is already finalized. (invoice_not_editable)' } });
  });

  it('never shows the token in the run log', async () => {
    server.script('POST /v1/invoices/in_2/send', { status: 402, body: { error: { message: 'bad key xero-access-token-secret', type: 'invalid_request_error' } } });
    const { journal } = await run(`${HEAD}${connections()}steps:
  - id: send
    uses: billing.send_invoice
    with: { invoice: in_2 }
`, { secrets });
    expect(finished(journal, 'send')?.error?.message).toBe('Stripe: bad key *** (invalid_request_error)');
    expect(JSON.stringify(journal)).not.toContain('xero-access-token-secret');
  });
});

describe('square at run time', () => {
  it('sends Square-Version and the same idempotency_key in the body on every retry', async () => {
    server.script('POST /v2/online-checkout/payment-links',
      { status: 500, body: { errors: [{ category: 'API_ERROR', code: 'INTERNAL_SERVER_ERROR', detail: 'Something went wrong' }] } },
      { status: 200, body: { payment_link: { id: 'pl_1', url: 'https://square.link/u/abc' } } });
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: link
    uses: shop.create_payment_link
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { name: Boiler service, amount: 18000, currency: USD, location_id: L1, buyer_email: maria@acme.example }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'link')?.output).toEqual({ payment_link: { id: 'pl_1', url: 'https://square.link/u/abc' } });
    const sent = server.received.slice(before);
    expect(sent.map((r) => r.headers['square-version'])).toEqual([SQUARE_VERSION, SQUARE_VERSION]);
    const bodies = sent.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(bodies[0]).toEqual(bodies[1]);
    expect(bodies[0]).toEqual({
      quick_pay: { name: 'Boiler service', price_money: { amount: 18000, currency: 'USD' }, location_id: 'L1' },
      pre_populated_data: { buyer_email: 'maria@acme.example' },
      idempotency_key: expect.stringMatching(/link/),
    });
  });

  it('takes a payment and refunds it, each with an idempotency_key within 45 characters kept across retries', async () => {
    server.script('POST /v2/payments',
      { status: 503, body: { errors: [{ category: 'API_ERROR', code: 'SERVICE_UNAVAILABLE', detail: 'Service unavailable' }] } },
      { status: 200, body: { payment: { id: 'pay_1', status: 'COMPLETED', amount_money: { amount: 18000, currency: 'USD' } } } });
    server.script('POST /v2/refunds',
      { status: 200, body: { refund: { id: 'ref_1', status: 'PENDING', payment_id: 'pay_1' } } });
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: charge_the_card_on_file_for_the_november_service
    uses: shop.create_payment
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { source_id: "ccof:GaJGNaZa8x4OgDJn4GB", amount: 18000, currency: USD, customer_id: c1, reference_id: INV-000123, tip_amount: 200 }
  - id: refund
    uses: shop.refund_payment
    with: { payment_id: "\${{ steps.charge_the_card_on_file_for_the_november_service.output.payment.id }}", amount: 18000, currency: USD, reason: Service cancelled }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'refund')?.output).toEqual({ refund: { id: 'ref_1', status: 'PENDING', payment_id: 'pay_1' } });
    const sent = server.received.slice(before);
    expect(sent.map((r) => r.path)).toEqual(['/v2/payments', '/v2/payments', '/v2/refunds']);
    const [first, retry, refund] = sent.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(first).toEqual(retry);
    expect(first).toEqual({
      source_id: 'ccof:GaJGNaZa8x4OgDJn4GB', amount_money: { amount: 18000, currency: 'USD' }, tip_money: { amount: 200, currency: 'USD' },
      customer_id: 'c1', reference_id: 'INV-000123', idempotency_key: expect.any(String),
    });
    // The run key (run id and a long step id) is past Square's 45: its digest is sent.
    expect(String(first!.idempotency_key).length).toBeLessThanOrEqual(45);
    expect(String(first!.idempotency_key)).not.toMatch(/charge/);
    expect(refund).toEqual({ payment_id: 'pay_1', amount_money: { amount: 18000, currency: 'USD' }, reason: 'Service cancelled', idempotency_key: expect.stringMatching(/refund/) });
  });

  it("lets the connection pin another Square-Version", async () => {
    server.script('POST /v2/invoices/inv%3A1/publish', { status: 200, body: { invoice: { id: 'inv:1', status: 'UNPAID' } } });
    const { result } = await run(`${HEAD}${connections().replace('shop: { connector: square, ', 'shop: { connector: square, headers: { Square-Version: "2024-01-18" }, ')}steps:
  - id: publish
    uses: shop.publish_invoice
    with: { invoice_id: "inv:1", version: 0 }
`, { secrets });
    expect(result.status).toBe('succeeded');
    const sent = server.received.at(-1)!;
    expect(sent.headers['square-version']).toBe('2024-01-18');
    expect(JSON.parse(sent.body)).toEqual({ version: 0, idempotency_key: expect.stringMatching(/publish/) });
  });

  it("reads Square's errors into one message", async () => {
    server.script('POST /v2/invoices', {
      status: 400,
      body: { errors: [{ category: 'INVALID_REQUEST_ERROR', code: 'INVALID_VALUE', detail: 'The order is already invoiced.', field: 'invoice.order_id' }, { category: 'INVALID_REQUEST_ERROR', code: 'MISSING_REQUIRED_PARAMETER' }] },
    });
    const { journal } = await run(`${HEAD}${connections()}steps:
  - id: invoice
    uses: shop.create_invoice
    with: { location_id: L1, order_id: o1, customer_id: c1, due_date: "2026-12-08" }
`, { secrets });
    expect(finished(journal, 'invoice')?.error?.message).toBe('Square: INVALID_VALUE: The order is already invoiced. (invoice.order_id) (and 1 more)');
    expect(JSON.parse(server.received.at(-1)!.body)).toMatchObject({
      invoice: { location_id: 'L1', order_id: 'o1', primary_recipient: { customer_id: 'c1' }, payment_requests: [{ request_type: 'BALANCE', due_date: '2026-12-08' }], delivery_method: 'EMAIL', accepted_payment_methods: { card: true } },
    });
  });

  describe('paginate: true over a three-page cursor in the body', () => {
    const pages = () => server.script('POST /v2/invoices/search',
      { status: 200, body: { invoices: [{ id: 'inv:1' }, { id: 'inv:2' }], cursor: 'c2' } },
      { status: 200, body: { invoices: [{ id: 'inv:3' }, { id: 'inv:4' }], cursor: 'c3' } },
      { status: 200, body: { invoices: [{ id: 'inv:5' }] } });

    it('follows the cursor to the last page, sending it in the body', async () => {
      pages();
      const before = server.received.length;
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: search
    uses: shop.search_invoices
    with: { location_id: L1, limit: 2, paginate: true }
`, { secrets });
      expect(finished(journal, 'search')?.output).toEqual({ items: [1, 2, 3, 4, 5].map((n) => ({ id: `inv:${n}` })), count: 5, has_more: false, next_cursor: null });
      const bodies = server.received.slice(before).map((r) => JSON.parse(r.body) as Record<string, unknown>);
      expect(bodies.map((b) => b.cursor ?? null)).toEqual([null, 'c2', 'c3']);
      expect(bodies[0]).toEqual({ query: { filter: { location_ids: ['L1'] }, sort: { field: 'INVOICE_SORT_DATE', order: 'DESC' } }, limit: 2 });
    });

    it('stops at max_items', async () => {
      pages();
      const before = server.received.length;
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: search
    uses: shop.search_invoices
    with: { location_id: L1, limit: 2, paginate: true, max_items: 3 }
`, { secrets });
      expect(finished(journal, 'search')?.output).toEqual({ items: [1, 2, 3].map((n) => ({ id: `inv:${n}` })), count: 3, has_more: true, next_cursor: 'c3' });
      expect(server.received.length - before).toBe(2);
    });

    it('reads an answer without invoices (Square leaves empty lists out) as an empty page', async () => {
      server.script('POST /v2/invoices/search', { status: 200, body: {} });
      const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: search
    uses: shop.search_invoices
    with: { location_id: L1, paginate: true }
`, { secrets });
      expect(result.status).toBe('succeeded');
      expect(finished(journal, 'search')?.output).toEqual({ items: [], count: 0, has_more: false, next_cursor: null });
    });
  });
});

// PayPal invoicing at run time, against a real HTTP server on 127.0.0.1 that answers as PayPal
// does: an OAuth2 client-credentials token fetched from the token endpoint and sent as a bearer
// token, the draft invoice built from the flux fields, a PayPal-Request-Id kept across retries,
// search over three numbered pages, and PayPal's error bodies read into one message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest, loadDescription } from '../../src/connectors/contract/check.js';
import { paypalError, paypalInvoicingSpec } from '../../src/connectors/paypal-invoicing.js';
import type { ConnectorSpec, OperationSpec } from '../../src/connectors/spec.js';
import { finished, HEAD, run } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { buildThroughConnector } from './build.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const connections = (): string => `secrets: [CLIENT_ID, CLIENT_SECRET]
connections:
  paypal:
    connector: paypal_invoicing
    base_url: "${server.url}"
    auth: { oauth2: { token_url: "${server.url}/v1/oauth2/token", client_id: "\${{ secrets.CLIENT_ID }}", client_secret: "\${{ secrets.CLIENT_SECRET }}" } }
`;
const secrets = { CLIENT_ID: 'AeA1QIZXiflr1_-r0U2UbWTziOWX1GRQer5vdhIl', CLIENT_SECRET: 'EGnHDxD_qRPdaLdZz8iCr8N7_MzF-YHPTkjs6NKYQvQSBngp4PTTVWkPZRbL' };
const TOKEN = 'A21AAFEpH4PsADK7qSS7pSRsgzfENtu-Q1ysgEDVDESseMHBYXVJYE8ovjj68elIDy8nF26AwPhfXTIeWAZHSLIsQkSYz9ifg';

describe('paypal_invoicing at run time', () => {
  it('fetches a client-credentials token, then creates the draft invoice with a PayPal-Request-Id', async () => {
    server.script('POST /v1/oauth2/token', { status: 200, body: { scope: 'https://uri.paypal.com/services/invoicing', access_token: TOKEN, token_type: 'Bearer', expires_in: 32400 } });
    server.script('POST /v2/invoicing/invoices', { status: 201, body: { id: 'INV2-Z56S-5LLA-Q52L-CPZ5', status: 'DRAFT' } });
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: invoice
    uses: paypal.create_invoice
    with:
      currency: USD
      recipient_email: maria@acme.example
      recipient_given_name: Maria
      items: [{ name: Boiler service, quantity: "1", unit_amount: "180.00" }]
      due_date: "2026-12-08"
      note: Thank you.
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'invoice')?.output).toEqual({ id: 'INV2-Z56S-5LLA-Q52L-CPZ5', status: 'DRAFT' });
    const [token, create] = server.received.slice(before);
    expect(token!.path).toBe('/v1/oauth2/token');
    expect(new URLSearchParams(token!.body).get('grant_type')).toBe('client_credentials');
    expect(create!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(create!.headers['paypal-request-id']).toMatch(/invoice/);
    expect(JSON.parse(create!.body)).toEqual({
      detail: { currency_code: 'USD', payment_term: { due_date: '2026-12-08' }, note: 'Thank you.' },
      primary_recipients: [{ billing_info: { email_address: 'maria@acme.example', name: { given_name: 'Maria' } } }],
      items: [{ name: 'Boiler service', quantity: '1', unit_amount: { currency_code: 'USD', value: '180.00' } }],
    });
  });

  it('sends the invoice with the same PayPal-Request-Id on each retry after a 503', async () => {
    server.script('POST /v1/oauth2/token', { status: 200, body: { access_token: TOKEN, expires_in: 32400 } });
    server.script('POST /v2/invoicing/invoices/INV2-1/send',
      { status: 503, body: { name: 'SERVICE_UNAVAILABLE', message: 'Service Unavailable.', debug_id: '90957fca61718' } },
      { status: 200, body: { href: 'https://www.paypal.com/invoice/p/#INV2-1', rel: 'payer-view', method: 'GET' } });
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: send
    uses: paypal.send_invoice
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { invoice_id: INV2-1, subject: Your invoice }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'send')?.output).toMatchObject({ rel: 'payer-view' });
    const sends = server.received.slice(before).filter((r) => r.path.endsWith('/send'));
    expect(sends).toHaveLength(2);
    expect(new Set(sends.map((r) => r.headers['paypal-request-id'])).size).toBe(1);
    expect(JSON.parse(sends[0]!.body)).toEqual({ subject: 'Your invoice' });
  });

  it('searches unpaid invoices past due over three numbered pages', async () => {
    server.script('POST /v1/oauth2/token', { status: 200, body: { access_token: TOKEN, expires_in: 32400 } });
    const page = (ids: string[]) => ({ status: 200, body: { total_items: 5, total_pages: 3, items: ids.map((id) => ({ id })) } });
    server.script('POST /v2/invoicing/search-invoices', page(['i1', 'i2']), page(['i3', 'i4']), page(['i5']));
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: overdue
    uses: paypal.search_invoices
    with: { status: [SENT, UNPAID], due_date_range: { start: "2026-01-01", end: "2026-11-23" }, page_size: 2, paginate: true }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'overdue')?.output).toEqual({ items: ['i1', 'i2', 'i3', 'i4', 'i5'].map((id) => ({ id })), count: 5, has_more: false, next_cursor: null });
    const searches = server.received.slice(before).filter((r) => r.path.endsWith('/search-invoices'));
    expect(searches.map((r) => r.query)).toEqual([1, 2, 3].map((p) => ({ page: String(p), page_size: '2', total_required: 'true' })));
    expect(JSON.parse(searches[0]!.body)).toEqual({ status: ['SENT', 'UNPAID'], due_date_range: { start: '2026-01-01', end: '2026-11-23' } });
  });

  it("records a payment received by bank transfer, and reads PayPal's validation errors into one message", async () => {
    server.script('POST /v1/oauth2/token', { status: 200, body: { access_token: TOKEN, expires_in: 32400 } });
    server.script('POST /v2/invoicing/invoices/INV2-2/payments',
      { status: 200, body: { payment_id: 'EXTR-86F38350LX4353815' } },
      {
        status: 422,
        body: {
          name: 'UNPROCESSABLE_ENTITY', message: 'The requested action could not be performed, semantically incorrect, or failed business validation.',
          debug_id: 'b1d1f06c7246c', details: [{ field: '/amount/value', value: '900.00', location: 'body', issue: 'PAYMENT_AMOUNT_EXCEEDS_DUE', description: 'Payment amount is greater than the amount due.' }],
        },
      });
    const step = `steps:
  - id: paid
    uses: paypal.record_payment
    with: { invoice_id: INV2-2, method: BANK_TRANSFER, amount: { currency_code: USD, value: "180.00" }, payment_date: "2026-11-30" }
`;
    const before = server.received.length;
    const ok = await run(`${HEAD}${connections()}${step}`, { secrets });
    expect(finished(ok.journal, 'paid')?.output).toEqual({ payment_id: 'EXTR-86F38350LX4353815' });
    const sent = server.received.slice(before).find((r) => r.path.endsWith('/payments'))!;
    expect(JSON.parse(sent.body)).toEqual({ method: 'BANK_TRANSFER', amount: { currency_code: 'USD', value: '180.00' }, payment_date: '2026-11-30' });
    const refused = await run(`${HEAD}${connections()}${step}`, { secrets });
    expect(refused.result.status).toBe('failed');
    expect(finished(refused.journal, 'paid')?.error?.message).toBe(
      'PayPal: UNPROCESSABLE_ENTITY: The requested action could not be performed, semantically incorrect, or failed business validation. (/amount/value: PAYMENT_AMOUNT_EXCEEDS_DUE: Payment amount is greater than the amount due.)',
    );
  });

  it('names a failed token fetch without the client secret', async () => {
    server.script('POST /v1/oauth2/token', { status: 401, body: { error: 'invalid_client', error_description: 'Client Authentication failed' } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: invoice
    uses: paypal.send_invoice
    with: { invoice_id: INV2-3 }
`, { secrets });
    expect(result.status).toBe('failed');
    const message = finished(journal, 'invoice')?.error?.message ?? '';
    expect(message).toMatch(/^OAuth2: invalid_client: Client Authentication failed \(token endpoint http:\/\/127\.0\.0\.1:\d+, HTTP 401\)/);
    expect(message).not.toContain(secrets.CLIENT_SECRET);
    // PayPal takes the client's credentials in a Basic header, never in the form.
    const token = server.received.find((r) => r.path === '/v1/oauth2/token')!;
    expect(token.headers.authorization).toMatch(/^Basic /);
    expect(new URLSearchParams(token.body).has('client_secret')).toBe(false);
  });
});

describe('paypal.request, the raw call', () => {
  it("reads PayPal's error body into the same message as an operation, keeping the raw output", async () => {
    server.script('POST /v1/oauth2/token', { status: 200, body: { access_token: TOKEN, expires_in: 32400 } });
    server.script('GET /v2/invoicing/invoices/INV2-404', {
      status: 404,
      body: { name: 'RESOURCE_NOT_FOUND', message: 'The specified resource does not exist.', debug_id: 'f8a1b3c4d5e6', details: [{ issue: 'INVALID_RESOURCE_ID', description: 'Requested resource ID was not found.' }] },
    });
    server.script('GET /v2/invoicing/invoices/INV2-5', { status: 200, body: { id: 'INV2-5', status: 'SENT' } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: found
    uses: paypal.request
    with: { path: /v2/invoicing/invoices/INV2-5 }
  - id: missing
    uses: paypal.request
    with: { path: /v2/invoicing/invoices/INV2-404 }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'found')?.output).toMatchObject({ status: 200, body: { id: 'INV2-5', status: 'SENT' } });
    const missing = finished(journal, 'missing');
    expect(missing?.error?.message).toBe('PayPal: RESOURCE_NOT_FOUND: The specified resource does not exist. (INVALID_RESOURCE_ID: Requested resource ID was not found.)');
    expect(missing?.output).toMatchObject({ status: 404, body: { name: 'RESOURCE_NOT_FOUND' } });
    expect(server.received.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });
});

describe("PayPal's error bodies", () => {
  it('reads VALIDATION_ERROR details, OAuth2 errors and bodies that are not PayPal\'s', () => {
    expect(paypalError({
      name: 'VALIDATION_ERROR', message: 'Invalid request - see details',
      details: [
        { field: '/detail/currency_code', issue: 'MISSING_REQUIRED_PARAMETER', description: 'Currency code is required.' },
        { field: '/items/0/quantity', issue: 'INVALID_PARAMETER_VALUE' },
        { issue: 'A' }, { issue: 'B' },
      ],
    }, 400)).toBe('PayPal: VALIDATION_ERROR: Invalid request - see details (/detail/currency_code: MISSING_REQUIRED_PARAMETER: Currency code is required.; /items/0/quantity: INVALID_PARAMETER_VALUE; A; and 1 more)');
    expect(paypalError({ error: 'invalid_token', error_description: 'Token signature verification failed' }, 401)).toBe('PayPal: invalid_token: Token signature verification failed');
    expect(paypalError('<html>Bad gateway</html>', 502)).toBe('PayPal: HTTP 502');
    expect(paypalError({ name: 'X\u001b[31m', message: 'm' }, 400)).toBe('PayPal: X\\e[31m: m');
    expect(paypalError({ id: 'INV2-1' }, 201)).toBeUndefined();
  });
});

describe('the check fails a PayPal connector that drifted', () => {
  const drift = (operation: string, change: (op: OperationSpec) => OperationSpec): ConnectorSpec => ({
    ...paypalInvoicingSpec, operations: { ...paypalInvoicingSpec.operations, [operation]: change(paypalInvoicingSpec.operations[operation]!) },
  });
  const description = loadDescription(paypalInvoicingSpec.vendorCheck as Extract<ConnectorSpec['vendorCheck'], { checked: true }>);

  it('an amount sent as a number, not decimal text', async () => {
    const drifted = drift('record_payment', (op) => ({ ...op, http: { ...op.http!, buildBody: (f) => ({ method: f.method, amount: { currency_code: 'USD', value: 180 } }) } }));
    const request = await buildThroughConnector(drifted, 'record_payment', { invoice_id: 'INV2-1', method: 'CASH' });
    expect(checkRequest(description, request)).toEqual(['body/amount/value must be string']);
  });

  it('a search page size past PayPal\'s 100', async () => {
    const drifted = drift('search_invoices', (op) => ({ ...op, fields: { ...op.fields, page_size: { ...op.fields.page_size!, maximum: undefined } } }));
    const request = await buildThroughConnector(drifted, 'search_invoices', { page_size: 500 });
    expect(checkRequest(description, request)).toEqual(['query parameter `page_size` must be <= 100']);
  });

  it('a draft invoice without its currency', async () => {
    const drifted = drift('create_invoice', (op) => ({ ...op, http: { ...op.http!, buildBody: (f) => ({ detail: { note: f.note } }) } }));
    const request = await buildThroughConnector(drifted, 'create_invoice', { currency: 'USD', recipient_email: 'a@example.com', items: [] });
    expect(checkRequest(description, request).join('\n')).toMatch(/currency_code/);
  });
});

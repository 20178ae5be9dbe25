/**
 * PayPal invoicing (Invoicing API v2): create a draft invoice, send it, search invoices (by
 * status, due date, recipient), record a payment received outside PayPal. Checked against
 * PayPal's OpenAPI 3.0 description (schemas/vendor-specs/paypal-invoicing.json). Auth is an
 * OAuth2 client-credentials token (or a bearer token fetched elsewhere); writes carry a
 * `PayPal-Request-Id` header that stays the same across retries of a step, which PayPal
 * uses to answer a repeated request with the first one's result. Amounts are decimal text
 * ("180.00"), as PayPal takes them. Search pages with `page`/`page_size`; errors
 * `{ name, message, details: [{ field, issue, description }] }` read as
 * "PayPal: VALIDATION_ERROR: <message> (<field>: <issue>: <description>)".
 */
import { PAYPAL_OAUTH } from './oauth/providers.js';
import type { ConnectorSpec, FieldSpec, HttpMapping, OperationSpec } from './spec.js';
import { clipText, pick, renamed } from './vendor-text.js';

/** PayPal's decimal amount as text (its `money.value` pattern). */
const AMOUNT_PATTERN = '^((-?[0-9]+)|(-?([0-9]+)?[.][0-9]+))$';
/** PayPal's date without time (its `date_no_time` pattern). */
const DATE_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])$';
const STATUSES = ['DRAFT', 'SENT', 'SCHEDULED', 'PAID', 'MARKED_AS_PAID', 'CANCELLED', 'REFUNDED', 'PARTIALLY_PAID', 'PARTIALLY_REFUNDED', 'MARKED_AS_REFUNDED', 'UNPAID', 'PAYMENT_PENDING'];
const PAYMENT_METHODS = ['BANK_TRANSFER', 'CASH', 'CHECK', 'CREDIT_CARD', 'DEBIT_CARD', 'PAYPAL', 'WIRE_TRANSFER', 'OTHER'];

const currency: FieldSpec = { type: 'string', description: 'Three-letter currency code (ISO 4217), e.g. USD.', pattern: '^[A-Z]{3}$' };
const date = (description: string, example?: string): FieldSpec => ({ type: 'string', description, pattern: DATE_PATTERN, ...(example ? { example } : {}) });
const money: FieldSpec = {
  type: 'object', description: 'An amount: `{ currency_code, value }`, value as decimal text ("180.00").',
  properties: {
    currency_code: { ...currency, required: true },
    value: { type: 'string', description: 'The amount as decimal text, e.g. "180.00".', pattern: AMOUNT_PATTERN, required: true },
  },
};
const invoiceId: FieldSpec = { type: 'string', in: 'path', required: true, description: 'The invoice ID (INV2-...), from create_invoice.', example: 'INV2-Z56S-5LLA-Q52L-CPZ5' };
const dateRange = (what: string): FieldSpec => ({
  type: 'object', description: `Only invoices whose ${what} is in this range: \`{ start, end }\` (YYYY-MM-DD, both included).`,
  // PayPal's date_range needs both ends.
  properties: { start: { ...date('First day.'), required: true }, end: { ...date('Last day.'), required: true } },
});

/** A write: JSON body, and the PayPal-Request-Id PayPal deduplicates retries by. */
const write = (summary: string, path: string, fields: Record<string, FieldSpec>, output: string, buildBody?: HttpMapping['buildBody']): OperationSpec => ({
  summary, fields, output, idempotency: { header: 'PayPal-Request-Id' },
  http: { method: 'POST', path, body: 'json', ...(buildBody ? { buildBody } : {}) },
});

/**
 * "PayPal: VALIDATION_ERROR: Invalid request - see details (/detail/currency_code:
 * MISSING_REQUIRED_PARAMETER: Currency code is required.)". PayPal's token endpoint and its
 * 401s answer OAuth2 style (`{ error, error_description }`) instead.
 */
export function paypalError(body: unknown, status: number): string | undefined {
  if (status < 400) return undefined;
  const name = clipText(pick(body, 'name'), 60) ?? clipText(pick(body, 'error'), 60);
  const message = clipText(pick(body, 'message')) ?? clipText(pick(body, 'error_description')) ?? `HTTP ${status}`;
  const details = pick(body, 'details');
  const list = Array.isArray(details) ? details : [];
  const shown = list.slice(0, 3).map((d) => [clipText(pick(d, 'field'), 80), clipText(pick(d, 'issue'), 80), clipText(pick(d, 'description'))].filter((p) => p !== undefined).join(': ')).filter((t) => t !== '');
  const more = list.length > shown.length ? `; and ${list.length - shown.length} more` : '';
  return `PayPal: ${name ? `${name}: ` : ''}${message}${shown.length > 0 ? ` (${shown.join('; ')}${more})` : ''}`;
}

const item: FieldSpec = {
  type: 'object', description: 'A line of the invoice.',
  properties: {
    name: { type: 'string', description: 'What is sold.', required: true },
    quantity: { type: 'string', description: 'How many, as decimal text ("1", "2.5").', pattern: '^[0-9]{1,9}([.][0-9]{1,4})?$', required: true },
    unit_amount: { type: 'string', description: 'Price of one, as decimal text in the invoice currency ("180.00").', pattern: AMOUNT_PATTERN, required: true },
    description: { type: 'string', description: 'More about the line.' },
  },
};

/** PayPal's invoice body from the flux fields: one recipient, lines priced in the invoice currency. */
function invoiceBody(f: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const person = renamed(f, { recipient_given_name: 'given_name', recipient_surname: 'surname' });
  const name = Object.keys(person).length > 0 ? { name: person } : {};
  const term = f.due_date !== undefined ? { payment_term: { due_date: f.due_date } } : f.term_type !== undefined ? { payment_term: { term_type: f.term_type } } : {};
  const items = Array.isArray(f.items) ? f.items as Record<string, unknown>[] : [];
  return {
    detail: {
      currency_code: f.currency,
      ...renamed(f, { invoice_number: 'invoice_number', invoice_date: 'invoice_date' }),
      ...term,
      ...renamed(f, { reference: 'reference', note: 'note', memo: 'memo' }),
    },
    ...(f.invoicer_email !== undefined ? { invoicer: { email_address: f.invoicer_email } } : {}),
    primary_recipients: [{
      billing_info: {
        email_address: f.recipient_email,
        ...name,
        ...renamed(f, { recipient_business_name: 'business_name' }),
      },
    }],
    items: items.map((i) => ({
      name: i.name, quantity: i.quantity, unit_amount: { currency_code: f.currency, value: i.unit_amount },
      ...renamed(i, { description: 'description' }),
    })),
  };
}

export const paypalInvoicingSpec: ConnectorSpec = {
  name: 'paypal_invoicing',
  vendor: 'PayPal',
  category: 'accounting',
  summary: 'PayPal invoicing: create draft invoices, send them, search invoices, record payments received outside PayPal.',
  baseUrl: 'https://api-m.paypal.com',
  auth: ['oauth2', 'bearer'],
  oauth: PAYPAL_OAUTH,
  vendorCheck: { checked: true, file: 'paypal-invoicing.json', format: 'openapi-3.0' },
  errorOf: paypalError,
  operations: {
    create_invoice: write('Create a draft invoice for one recipient (send it with send_invoice).', '/v2/invoicing/invoices', {
      currency: { ...currency, required: true, example: 'USD' },
      recipient_email: { type: 'string', format: 'email', description: 'Email address of the customer billed.', required: true, example: 'maria@acme.example' },
      recipient_given_name: { type: 'string', description: "The customer's first name.", example: 'Maria' },
      recipient_surname: { type: 'string', description: "The customer's last name.", example: 'Lopez' },
      recipient_business_name: { type: 'string', description: "The customer's business name.", example: 'Acme Plumbing' },
      items: { type: 'array', description: 'The lines billed (at most 100).', required: true, items: item, example: [{ name: 'Boiler service', quantity: '1', unit_amount: '180.00' }] },
      invoice_number: { type: 'string', description: 'Your invoice number; PayPal numbers it when absent.', example: '000123' },
      invoice_date: date('Date on the invoice (YYYY-MM-DD); default today.', '2026-11-24'),
      due_date: date('When payment is due (YYYY-MM-DD).', '2026-12-08'),
      term_type: { type: 'string', description: 'Or a payment term instead of a due date.', enum: ['DUE_ON_RECEIPT', 'NET_10', 'NET_15', 'NET_30', 'NET_45', 'NET_60', 'NET_90', 'NO_DUE_DATE'] },
      reference: { type: 'string', description: 'A reference such as a purchase order number.' },
      note: { type: 'string', description: 'A note to the customer, on the invoice.', example: 'Thank you for your business.' },
      memo: { type: 'string', description: 'A private note, not shown to the customer.' },
      invoicer_email: { type: 'string', format: 'email', description: "Your PayPal account's email address, where it differs from the token's account." },
    }, "PayPal's answer: the draft invoice (or a link to it): `{ id, status: DRAFT, detail, ... }`; `id` is what send_invoice takes.", invoiceBody),
    send_invoice: write('Send a draft invoice to its recipient (it becomes payable).', '/v2/invoicing/invoices/{invoice_id}/send', {
      invoice_id: invoiceId,
      subject: { type: 'string', description: 'Subject of the email to the recipient.', example: 'Your invoice from Acme Services' },
      note: { type: 'string', description: 'A note in the email.', example: 'Payment is due by December 8.' },
      send_to_recipient: { type: 'boolean', description: 'Email the recipient (default true); false only makes the invoice payable by its link.' },
      send_to_invoicer: { type: 'boolean', description: 'Send yourself a copy.' },
      additional_recipients: { type: 'array', description: 'More addresses to copy.', items: { type: 'string', format: 'email', description: 'An email address.' } },
    }, "PayPal's answer: `{ href, rel, method }`, the link to the sent invoice (or nothing, when PayPal answers 202)."),
    search_invoices: {
      summary: 'Search invoices by status, due date, recipient or number (e.g. the unpaid ones past due).',
      http: {
        method: 'POST', path: '/v2/invoicing/search-invoices', body: 'json', query: { total_required: 'true' },
        buildBody: (f) => renamed(f, {
          status: 'status', due_date_range: 'due_date_range', invoice_date_range: 'invoice_date_range', recipient_email: 'recipient_email',
          invoice_number: 'invoice_number', currency: 'currency_code', archived: 'archived',
        }),
      },
      fields: {
        status: { type: 'array', description: 'Only invoices in these statuses (at most 5).', items: { type: 'string', description: 'A status.', enum: STATUSES }, example: ['SENT', 'UNPAID'] },
        due_date_range: { ...dateRange('due date'), example: { start: '2026-01-01', end: '2026-11-23' } },
        invoice_date_range: dateRange('invoice date'),
        recipient_email: { type: 'string', description: "The recipient's email address.", example: 'maria@acme.example' },
        invoice_number: { type: 'string', description: 'The invoice number.' },
        currency,
        archived: { type: 'boolean', description: 'Only archived (true) or only unarchived (false) invoices.' },
        page: { type: 'integer', description: 'Page number, from 1.', in: 'query', minimum: 1, maximum: 1000 },
        page_size: { type: 'integer', description: 'Invoices per page. Default 20.', in: 'query', minimum: 1, maximum: 100, example: 100 },
      },
      pagination: { style: 'page', cursorField: 'page', items: 'items', pageCount: 'total_pages', itemsMayBeAbsent: true },
      output: "PayPal's answer: `{ items, total_items, total_pages, links }`; with paginate: `{ items, count, has_more, next_cursor }` (next_cursor is the next page number).",
    },
    record_payment: write('Record a payment received outside PayPal (cash, bank transfer, check): the invoice becomes MARKED_AS_PAID when fully paid.', '/v2/invoicing/invoices/{invoice_id}/payments', {
      invoice_id: invoiceId,
      method: { type: 'string', description: 'How the money came.', enum: PAYMENT_METHODS, required: true, example: 'BANK_TRANSFER' },
      amount: { ...money, description: 'Amount received; default the amount due.', example: { currency_code: 'USD', value: '180.00' } },
      payment_date: date('Date of the payment (YYYY-MM-DD).', '2026-11-30'),
      note: { type: 'string', description: 'A note about the payment, e.g. the bank transfer reference.', example: 'BT-20261130-01' },
    }, "PayPal's answer: `{ payment_id }`, the ID of the recorded payment."),
  },
};

/**
 * Square payments, refunds, invoices and payment links: take a payment, refund one, create a
 * payment link, create, publish and search invoices. Checked against Square's OpenAPI 3.0 description (schemas/vendor-specs/
 * square.json). Every call sends the Square-Version the connector was written against; every
 * write carries an `idempotency_key` in its body that stays the same across retries of a step.
 * Square leaves empty lists out of its answers, and reports errors as
 * `{ errors: [{ category, code, detail, field }] }`, read into "Square: <code>: <detail>".
 */
import type { ConnectorSpec, FieldSpec } from './spec.js';
import { clipText, pick, renamed } from './vendor-text.js';

/** The Square API version the operations were checked against (square.json's source block). */
export const SQUARE_VERSION = '2025-08-20';

/** The currencies of the countries Square sells in; a seller can only charge in its own. */
const CURRENCIES = ['USD', 'CAD', 'GBP', 'EUR', 'AUD', 'JPY'];

const locationId: FieldSpec = { type: 'string', description: 'The ID of the seller location (Locations API).', required: true, example: 'L88917AVBK2S5' };

/** "Square: INVALID_VALUE: Invalid email (invoice.primary_recipient.email_address)". */
function squareError(body: unknown, status: number): string | undefined {
  if (status < 400) return undefined;
  const errors = pick(body, 'errors');
  const list = Array.isArray(errors) ? errors : [];
  const first = list[0];
  const code = clipText(pick(first, 'code'), 60) ?? clipText(pick(first, 'category'), 60);
  const detail = clipText(pick(first, 'detail')) ?? `HTTP ${status}`;
  const field = clipText(pick(first, 'field'), 80);
  const more = list.length > 1 ? ` (and ${list.length - 1} more)` : '';
  return `Square: ${code ? `${code}: ` : ''}${detail}${field ? ` (${field})` : ''}${more}`;
}

export const squareSpec: ConnectorSpec = {
  name: 'square',
  vendor: 'Square',
  category: 'accounting',
  summary: 'Square payments, refunds, invoices and payment links: take and refund payments, create a payment link, create, publish and search invoices.',
  baseUrl: 'https://connect.squareup.com',
  // Square's OAuth token endpoint takes JSON, not the form RFC 6749 describes: an access token
  // from Square's OAuth (or a personal access token) is given as `bearer`.
  auth: ['bearer'],
  vendorCheck: { checked: true, file: 'square.json', format: 'openapi-3.0' },
  headers: { 'Square-Version': SQUARE_VERSION },
  errorOf: squareError,
  operations: {
    create_payment: {
      summary: 'Take a payment: charge a card on file or a card nonce (or record a cash or external one).',
      http: {
        method: 'POST', path: '/v2/payments', body: 'json',
        buildBody: (f) => ({
          source_id: f.source_id,
          amount_money: { amount: f.amount, currency: f.currency },
          ...(f.tip_amount !== undefined ? { tip_money: { amount: f.tip_amount, currency: f.currency } } : {}),
          ...renamed(f, { autocomplete: 'autocomplete', customer_id: 'customer_id', location_id: 'location_id', order_id: 'order_id', reference_id: 'reference_id', note: 'note', buyer_email_address: 'buyer_email_address' }),
        }),
      },
      // Square bounds a payment's key at 45 characters: a longer run key is sent as its digest.
      idempotency: { bodyField: 'idempotency_key', maxLength: 45 },
      fields: {
        source_id: { type: 'string', description: 'What pays: a card ID on file (ccof:...), a card nonce from the Web Payments SDK (cnon:...), or CASH / EXTERNAL.', required: true, example: 'ccof:GaJGNaZa8x4OgDJn4GB' },
        amount: { type: 'integer', description: 'Amount in the smallest currency unit (cents).', required: true, minimum: 1, example: 18000 },
        currency: { type: 'string', description: "Currency of the amount: the seller's own.", required: true, enum: CURRENCIES, example: 'USD' },
        tip_amount: { type: 'integer', description: 'A tip, in the same currency and unit.', minimum: 1 },
        customer_id: { type: 'string', description: 'The customer paying (needed with a card on file).', example: 'JDKYHBWT1D4F8MFH63DBMEN8Y4' },
        location_id: { type: 'string', description: "The seller location; default the seller's main location.", example: 'L88917AVBK2S5' },
        order_id: { type: 'string', description: 'The order (Orders API) the payment pays.' },
        reference_id: { type: 'string', description: 'Your own reference (an invoice number), up to 40 characters.', example: 'INV-000123' },
        note: { type: 'string', description: 'A note on the payment.', example: 'Boiler service, November' },
        autocomplete: { type: 'boolean', description: 'Capture at once (default true); false only authorizes, to complete later.' },
        buyer_email_address: { type: 'string', format: 'email', description: "The buyer's email address, for the receipt.", example: 'maria@acme.example' },
      },
      output: "Square's answer: `{ payment: { id, status, amount_money, receipt_url, ... } }`.",
    },
    refund_payment: {
      summary: 'Refund a payment, in full or in part.',
      http: {
        method: 'POST', path: '/v2/refunds', body: 'json',
        buildBody: (f) => ({
          payment_id: f.payment_id,
          amount_money: { amount: f.amount, currency: f.currency },
          ...renamed(f, { reason: 'reason' }),
        }),
      },
      idempotency: { bodyField: 'idempotency_key', maxLength: 45 },
      fields: {
        payment_id: { type: 'string', description: 'The payment to refund.', required: true, example: 'R2B3Z8WMVt3EAmzYWLZvz7Y69EbZY' },
        amount: { type: 'integer', description: 'Amount to refund in the smallest currency unit (cents), at most what was paid.', required: true, minimum: 1, example: 18000 },
        currency: { type: 'string', description: 'Currency of the payment.', required: true, enum: CURRENCIES, example: 'USD' },
        reason: { type: 'string', description: 'Why, shown to the buyer (up to 192 characters).', example: 'Service cancelled' },
      },
      output: "Square's answer: `{ refund: { id, status, amount_money, payment_id, ... } }` (status PENDING until Square completes it).",
    },
    create_payment_link: {
      summary: 'Create a link to a Square-hosted checkout page for one amount (a quick pay link).',
      http: {
        method: 'POST', path: '/v2/online-checkout/payment-links', body: 'json',
        buildBody: (f) => ({
          quick_pay: { name: f.name, price_money: { amount: f.amount, currency: f.currency }, location_id: f.location_id },
          ...(f.description !== undefined ? { description: f.description } : {}),
          ...(f.payment_note !== undefined ? { payment_note: f.payment_note } : {}),
          ...(f.redirect_url !== undefined ? { checkout_options: { redirect_url: f.redirect_url } } : {}),
          ...(f.buyer_email !== undefined ? { pre_populated_data: { buyer_email: f.buyer_email } } : {}),
        }),
      },
      idempotency: { bodyField: 'idempotency_key' },
      fields: {
        name: { type: 'string', description: 'What is being paid for, shown on the checkout page.', required: true, example: 'Boiler service, November' },
        amount: { type: 'integer', description: 'Price in the smallest currency unit (cents).', required: true, minimum: 1, example: 18000 },
        currency: { type: 'string', description: "Currency of the amount: the seller's own.", required: true, enum: CURRENCIES, example: 'USD' },
        location_id: locationId,
        description: { type: 'string', description: 'A note for the seller, not shown to the buyer.' },
        payment_note: { type: 'string', description: 'A note added to the resulting payment.', example: 'Invoice 000123' },
        redirect_url: { type: 'string', format: 'uri', description: 'Where the buyer goes after paying.', example: 'https://example.com/thanks' },
        buyer_email: { type: 'string', format: 'email', description: "Prefill the buyer's email address.", example: 'maria@acme.example' },
      },
      output: "Square's answer: `{ payment_link: { id, url, order_id, ... } }`; `payment_link.url` is the link to send.",
    },
    create_invoice: {
      summary: 'Create a draft invoice for an order, asking the customer for the balance by a due date.',
      http: {
        method: 'POST', path: '/v2/invoices', body: 'json',
        buildBody: (f) => ({
          invoice: {
            location_id: f.location_id,
            order_id: f.order_id,
            primary_recipient: { customer_id: f.customer_id },
            payment_requests: [{ request_type: 'BALANCE', due_date: f.due_date, ...(f.tipping_enabled !== undefined ? { tipping_enabled: f.tipping_enabled } : {}) }],
            delivery_method: f.delivery_method,
            accepted_payment_methods: f.accepted_payment_methods ?? { card: true },
            ...(f.invoice_number !== undefined ? { invoice_number: f.invoice_number } : {}),
            ...(f.title !== undefined ? { title: f.title } : {}),
            ...(f.description !== undefined ? { description: f.description } : {}),
          },
        }),
      },
      idempotency: { bodyField: 'idempotency_key' },
      fields: {
        location_id: locationId,
        order_id: { type: 'string', description: 'The order (Orders API) the invoice bills; its location must be location_id.', required: true, example: 'CAISENgvlJ6jLWAzERDzjyHVybY' },
        customer_id: { type: 'string', description: 'The customer (Customers API) who receives and pays the invoice.', required: true, example: 'JDKYHBWT1D4F8MFH63DBMEN8Y4' },
        due_date: { type: 'string', description: 'When payment is due (YYYY-MM-DD, in the location\'s time zone).', required: true, example: '2026-12-08' },
        delivery_method: { type: 'string', description: 'How Square sends the invoice when published.', enum: ['EMAIL', 'SMS', 'SHARE_MANUALLY'], default: 'EMAIL' },
        accepted_payment_methods: {
          type: 'object', description: 'How the customer may pay. Default `{ card: true }`.',
          properties: {
            card: { type: 'boolean', description: 'Credit or debit card.' },
            bank_account: { type: 'boolean', description: 'Bank transfer (ACH, US only).' },
            square_gift_card: { type: 'boolean', description: 'Square gift card.' },
            cash_app_pay: { type: 'boolean', description: 'Cash App (US only).' },
          },
        },
        invoice_number: { type: 'string', description: 'Your invoice number; Square numbers it when absent.', example: '000123' },
        title: { type: 'string', description: 'A title shown on the invoice.', example: 'Boiler service' },
        description: { type: 'string', description: 'A description shown on the invoice.' },
        tipping_enabled: { type: 'boolean', description: 'Let the customer add a tip.' },
      },
      output: "Square's answer: `{ invoice: { id, version, status, public_url, ... } }`; publish_invoice needs `id` and `version`.",
    },
    publish_invoice: {
      summary: 'Publish a draft invoice: Square sends it (by its delivery method) and it can be paid.',
      http: { method: 'POST', path: '/v2/invoices/{invoice_id}/publish', body: 'json' },
      idempotency: { bodyField: 'idempotency_key' },
      fields: {
        invoice_id: { type: 'string', description: 'The invoice ID.', required: true, in: 'path', example: 'inv:0-ChCHu2mZEabLeeHahQnXDjZQECY' },
        version: { type: 'integer', description: 'The invoice version from create_invoice (a stale version is refused).', required: true, minimum: 0, example: 0 },
      },
      output: "Square's answer: `{ invoice: { id, status, public_url, ... } }`; `public_url` is the page the customer pays on.",
    },
    search_invoices: {
      summary: "Search a location's invoices, optionally of some customers, newest first.",
      http: {
        method: 'POST', path: '/v2/invoices/search', body: 'json',
        buildBody: (f) => ({
          query: {
            filter: { location_ids: [f.location_id], ...(f.customer_ids !== undefined ? { customer_ids: f.customer_ids } : {}) },
            sort: { field: 'INVOICE_SORT_DATE', order: f.order ?? 'DESC' },
          },
          ...(f.limit !== undefined ? { limit: f.limit } : {}),
          ...(f.cursor !== undefined ? { cursor: f.cursor } : {}),
        }),
      },
      fields: {
        location_id: locationId,
        customer_ids: { type: 'array', description: 'Only the invoices of these customers.', items: { type: 'string', description: 'A customer ID.' }, example: ['JDKYHBWT1D4F8MFH63DBMEN8Y4'] },
        order: { type: 'string', description: 'Sort by invoice date: newest (DESC) or oldest (ASC) first.', enum: ['DESC', 'ASC'] },
        limit: { type: 'integer', description: 'Invoices per page. Default 100.', minimum: 1, maximum: 200, example: 100 },
        cursor: { type: 'string', description: "Cursor from a previous page's cursor." },
      },
      pagination: { cursorField: 'cursor', nextCursor: 'cursor', items: 'invoices', itemsMayBeAbsent: true },
      output: "Square's answer: `{ invoices, cursor }` (no `invoices` when none match); with paginate: `{ items, count, has_more, next_cursor }`.",
    },
  },
};

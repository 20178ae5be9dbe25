/**
 * Stripe invoicing: invoice items, invoices, finalize, send, list by status and due date, and
 * pay (or mark paid outside Stripe). A connector of its own rather than more operations on
 * `stripe`: it is checked against Stripe's invoicing description (schemas/vendor-specs/
 * stripe-invoicing.json), a different file from the payments one, and belongs to the
 * accounting category. It speaks the same API: same base URL, auth, form bodies with nested
 * keys, `Idempotency-Key` header on writes and error bodies as `stripe`.
 */
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';
import { stripeSpec } from './stripe.js';

const metadata: FieldSpec = { type: 'object', description: 'Your own key-value pairs (strings) stored on the object.', example: { order_id: '6735' } };
const invoice: FieldSpec = { type: 'string', description: 'The invoice ID (in_...).', required: true, in: 'path', example: 'in_1MtHbELkdIwHu7ixl4OzzPMv' };
const customer: FieldSpec = { type: 'string', description: 'The customer ID (cus_...) to bill.', required: true, example: 'cus_NeZwdNtLEOXuvB' };
const currency: FieldSpec = { type: 'string', description: 'Three-letter ISO currency code, lowercase (usd, eur).', example: 'usd' };
const unixTime = (description: string, example?: number): FieldSpec => ({ type: 'integer', description: `${description} (Unix time, seconds).`, minimum: 0, ...(example !== undefined ? { example } : {}) });

const write = (summary: string, path: string, fields: Record<string, FieldSpec>, output: string, extra: Partial<OperationSpec> = {}): OperationSpec => ({
  summary, fields, output, http: { method: 'POST', path, body: 'form' }, idempotency: { header: 'Idempotency-Key' }, ...extra,
});

const INVOICE_OUTPUT = "Stripe's invoice object: `{ id, status, amount_due, hosted_invoice_url, invoice_pdf, ... }`.";

export const stripeInvoicingSpec: ConnectorSpec = {
  name: 'stripe_invoicing',
  vendor: 'Stripe',
  category: 'accounting',
  summary: 'Stripe invoicing: invoice items, invoices, finalize, send, list by status and due date, mark paid.',
  baseUrl: stripeSpec.baseUrl!,
  auth: stripeSpec.auth!,
  vendorCheck: { checked: true, file: 'stripe-invoicing.json', format: 'openapi-3.0' },
  errorOf: stripeSpec.errorOf!,
  operations: {
    create_invoice_item: write('Add a line (an invoice item) to a customer\'s next invoice, or to a draft invoice.', '/v1/invoiceitems', {
      customer,
      amount: { type: 'integer', description: 'Amount in the smallest currency unit (cents); negative for a credit. Or give price.', example: 2500 },
      currency,
      description: { type: 'string', description: 'What the line is for, shown on the invoice.', example: 'Website maintenance, November' },
      price: { type: 'string', description: 'A Price ID (price_...) instead of amount and currency.' },
      quantity: { type: 'integer', description: 'How many of price. Default 1.', minimum: 1 },
      invoice: { type: 'string', description: 'Add to this draft invoice (in_...) rather than the next one.' },
      metadata,
    }, "Stripe's invoice item object: `{ id, amount, currency, invoice, ... }`.", { oneOf: [['amount', 'price']] }),
    create_invoice: write('Create a draft invoice for a customer (its pending invoice items are added).', '/v1/invoices', {
      customer,
      collection_method: { type: 'string', description: 'charge_automatically charges the saved payment method; send_invoice emails the invoice for the customer to pay.', enum: ['charge_automatically', 'send_invoice'], example: 'send_invoice' },
      days_until_due: { type: 'integer', description: 'With send_invoice: days until the invoice is due.', minimum: 0, maximum: 36_500, example: 30 },
      due_date: unixTime('With send_invoice: when the invoice is due'),
      description: { type: 'string', description: 'A memo shown on the invoice.', example: 'Thank you for your business.' },
      footer: { type: 'string', description: 'A footer shown on the invoice.' },
      auto_advance: { type: 'boolean', description: 'Let Stripe finalize (and then collect) the draft automatically after about an hour.', example: false },
      pending_invoice_items_behavior: { type: 'string', description: "Whether the customer's pending invoice items are added.", enum: ['exclude', 'include', 'include_and_require'], example: 'include' },
      currency,
      metadata,
    }, INVOICE_OUTPUT),
    finalize_invoice: write('Finalize a draft invoice, so it can be sent and paid (it gets its number and hosted page).', '/v1/invoices/{invoice}/finalize', {
      invoice,
      auto_advance: { type: 'boolean', description: 'Let Stripe go on to collect the invoice automatically.' },
    }, INVOICE_OUTPUT),
    send_invoice: write('Email a finalized invoice to the customer (collection_method send_invoice).', '/v1/invoices/{invoice}/send', { invoice }, INVOICE_OUTPUT),
    list_invoices: {
      summary: 'List invoices, newest first, by customer, status and due date.',
      http: { method: 'GET', path: '/v1/invoices' },
      fields: {
        customer: { type: 'string', description: 'Only this customer\'s invoices (cus_...).', in: 'query' },
        status: { type: 'string', description: 'Only invoices in this status (open ones past due_date_lt are overdue).', enum: ['draft', 'open', 'paid', 'uncollectible', 'void'], in: 'query', example: 'open' },
        collection_method: { type: 'string', description: 'Only invoices collected this way.', enum: ['charge_automatically', 'send_invoice'], in: 'query' },
        due_date_gte: { ...unixTime('Only invoices due at or after this time'), in: 'query', name: 'due_date[gte]' },
        due_date_lt: { ...unixTime('Only invoices due before this time; with status open, the overdue ones', 1_764_000_000), in: 'query', name: 'due_date[lt]' },
        created_gte: { ...unixTime('Only invoices created at or after this time'), in: 'query', name: 'created[gte]' },
        limit: { type: 'integer', description: 'Invoices per page. Default 10.', in: 'query', minimum: 1, maximum: 100, example: 100 },
        starting_after: { type: 'string', description: 'Cursor: the ID of the last invoice of the previous page.', in: 'query' },
      },
      // Stripe's lists name no next cursor: the next page starts after the last item's id.
      pagination: { cursorField: 'starting_after', lastItemCursor: 'id', items: 'data', hasMore: 'has_more' },
      output: "Stripe's list: `{ data, has_more }`; with paginate: `{ items, count, has_more, next_cursor }`.",
    },
    pay_invoice: write('Pay an open invoice now, or with paid_out_of_band mark it paid outside Stripe (cash, bank transfer).', '/v1/invoices/{invoice}/pay', {
      invoice,
      paid_out_of_band: { type: 'boolean', description: 'Mark the invoice paid without charging anything: it was paid outside Stripe.', example: true },
      payment_method: { type: 'string', description: 'Charge this payment method (pm_...) instead of the default.' },
      forgive: { type: 'boolean', description: 'If the payment covers less than amount_due, forgive the rest.' },
      off_session: { type: 'boolean', description: 'The customer is not present (for 3-D Secure decisions).' },
    }, INVOICE_OUTPUT),
  },
};

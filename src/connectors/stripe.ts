/**
 * Stripe payments: customers, customer search, payment links, checkout sessions, refunds.
 * Checked against Stripe's OpenAPI 3.0 description (schemas/vendor-specs/
 * stripe-payments.json). Bodies are form-encoded with nested keys (`metadata[order]=42`);
 * writes carry an `Idempotency-Key` header that stays the same across retries of a step.
 */
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

const metadata: FieldSpec = { type: 'object', description: 'Your own key-value pairs (strings) stored on the object.', example: { order_id: '6735' } };
const lineItems: FieldSpec = {
  type: 'array', description: 'What is sold: a list of `{ price, quantity }` with Stripe price IDs.', required: true,
  items: {
    type: 'object', description: 'A line item.',
    properties: {
      price: { type: 'string', description: 'Price ID (price_...).', required: true },
      quantity: { type: 'integer', description: 'How many.', required: true, minimum: 1 },
    },
  },
  example: [{ price: 'price_1MoBy5LkdIwHu7ixZhnattbh', quantity: 1 }],
};
const address: FieldSpec = {
  type: 'object', description: 'Postal address.',
  properties: {
    line1: { type: 'string', description: 'Street and number.' },
    line2: { type: 'string', description: 'Apartment, suite or building.' },
    city: { type: 'string', description: 'City.' },
    postal_code: { type: 'string', description: 'ZIP or postal code.' },
    state: { type: 'string', description: 'State, county or province.' },
    country: { type: 'string', description: 'Two-letter country code (ISO 3166-1 alpha-2).' },
  },
  example: { line1: '1 Main St', city: 'Springfield', postal_code: '12345', country: 'US' },
};

const write = (summary: string, path: string, fields: Record<string, FieldSpec>, output: string, oneOf?: string[][]): OperationSpec => ({
  summary, fields, output, http: { method: 'POST', path, body: 'form' }, idempotency: { header: 'Idempotency-Key' }, ...(oneOf ? { oneOf } : {}),
});

export const stripeSpec: ConnectorSpec = {
  name: 'stripe',
  vendor: 'Stripe',
  category: 'payments',
  summary: 'Stripe payments: customers, payment links, checkout sessions, refunds.',
  baseUrl: 'https://api.stripe.com',
  auth: ['bearer', 'basic'],
  vendorCheck: { checked: true, file: 'stripe-payments.json', format: 'openapi-3.0' },
  errorOf(body, status) {
    if (status < 400) return undefined;
    const message = clipText(pick(body, 'error.message')) ?? `HTTP ${status}`;
    const code = clipText(pick(body, 'error.code'), 60) ?? clipText(pick(body, 'error.type'), 60);
    // Stripe names the parameter at fault in `param`; its message usually names it too, not always.
    const param = clipText(pick(body, 'error.param'), 80);
    const where = param && !message.includes(param) ? ` [${param}]` : '';
    return `Stripe: ${message}${where}${code ? ` (${code})` : ''}`;
  },
  operations: {
    create_customer: write('Create a customer.', '/v1/customers', {
      email: { type: 'string', format: 'email', description: "The customer's email address.", example: 'jenny.rosen@example.com' },
      name: { type: 'string', description: "The customer's full name or business name.", example: 'Jenny Rosen' },
      phone: { type: 'string', description: "The customer's phone number.", example: '+15555550123' },
      description: { type: 'string', description: 'A note shown in the Dashboard.' },
      address,
      metadata,
    }, "Stripe's customer object: `{ id, email, name, ... }`."),
    search_customers: {
      summary: "Search customers with Stripe's search query language.",
      http: { method: 'GET', path: '/v1/customers/search' },
      fields: {
        query: { type: 'string', description: "The search query, e.g. email:'jenny@example.com'.", required: true, in: 'query', example: "email:'jenny.rosen@example.com'" },
        limit: { type: 'integer', description: 'Results per page. Default 10.', in: 'query', example: 10, minimum: 1, maximum: 100 },
        page: { type: 'string', description: "Cursor from a previous page's next_page.", in: 'query' },
      },
      pagination: { cursorField: 'page', nextCursor: 'next_page', items: 'data', hasMore: 'has_more' },
      output: "Stripe's search result: `{ data, has_more, next_page }`; with paginate: `{ items, count, has_more, next_cursor }`.",
    },
    create_payment_link: write('Create a payment link to share with a customer.', '/v1/payment_links', {
      line_items: lineItems,
      allow_promotion_codes: { type: 'boolean', description: 'Let the customer enter promotion codes.' },
      metadata,
    }, "Stripe's payment link object: `{ id, url, active, ... }`; `url` is the link to send."),
    create_checkout_session: write('Create a Checkout Session (a hosted payment page).', '/v1/checkout/sessions', {
      success_url: { type: 'string', format: 'uri', description: 'Where Stripe sends the customer after payment.', required: true, example: 'https://example.com/thanks' },
      cancel_url: { type: 'string', format: 'uri', description: 'Where Stripe sends the customer who cancels.', example: 'https://example.com/cart' },
      mode: { type: 'string', description: 'payment (one-off), subscription or setup.', enum: ['payment', 'setup', 'subscription'], example: 'payment' },
      line_items: { ...lineItems, required: false },
      customer: { type: 'string', description: 'An existing customer ID (cus_...).' },
      customer_email: { type: 'string', format: 'email', description: 'Prefill the email of a new customer.' },
      client_reference_id: { type: 'string', description: 'Your own reference (an order ID) to reconcile the session.' },
      metadata,
    }, "Stripe's Checkout Session: `{ id, url, status, ... }`; `url` is the payment page."),
    create_refund: write('Refund a payment, in full or in part.', '/v1/refunds', {
      payment_intent: { type: 'string', description: 'The PaymentIntent to refund (pi_...).', example: 'pi_3MtwBwLkdIwHu7ix28a3tqPa' },
      charge: { type: 'string', description: 'Or the charge to refund (ch_...).' },
      amount: { type: 'integer', description: 'Amount in the smallest currency unit (cents); default the whole payment.', example: 1000, minimum: 1 },
      reason: { type: 'string', description: 'Why.', enum: ['duplicate', 'fraudulent', 'requested_by_customer'] },
      metadata,
    }, "Stripe's refund object: `{ id, amount, status, ... }`.", [['payment_intent', 'charge']]),
  },
};

/**
 * PayPal invoicing in the sandbox: invoices created as DRAFT (numbered, totalled from their
 * lines), sent (DRAFT → SENT), searched (status, due and invoice date ranges, recipient,
 * number, currency) a page at a time with `page`/`page_size` and `total_pages`, and paid
 * outside PayPal (SENT → PARTIALLY_PAID → MARKED_AS_PAID; more than is due is refused).
 * Writes replay on `PayPal-Request-Id`. Errors are
 * `{ name, message, debug_id, details: [{ field, issue, description }] }`.
 */
import { find, limitOf, obj, VendorError, type Json, type Reply, type VendorCall, type VendorSite } from './site.js';

const STATUS: Record<string, [number, string, string]> = {
  invalid: [400, 'INVALID_REQUEST', 'Request is not well-formed, syntactically incorrect, or violates schema.'],
  unauthorized: [401, 'AUTHENTICATION_FAILURE', 'Authentication failed due to invalid authentication credentials or a missing Authorization header.'],
  not_found: [404, 'RESOURCE_NOT_FOUND', 'The specified resource does not exist.'],
  conflict: [409, 'RESOURCE_CONFLICT', 'The server has detected a conflict while processing this request.'],
  rate_limited: [429, 'RATE_LIMIT_REACHED', 'Too many requests. Blocked due to rate limiting.'],
};

/** A business rule PayPal refuses with 422 UNPROCESSABLE_ENTITY, naming the issue. */
function unprocessable(issue: string, description: string, field: string): VendorError {
  return new VendorError('invalid', description, field, issue, 422);
}

/** Decimal text ("180.00") as cents, and back. */
function cents(value: unknown): number {
  return Math.round(Number(value) * 100);
}
function decimal(n: number): string {
  return (n / 100).toFixed(2);
}

/** The invoice's total: the sum of its lines, quantity times unit amount. */
function totalOf(items: readonly Json[]): number {
  return items.reduce((sum, i) => sum + Math.round(Number(i.quantity) * cents(obj(i.unit_amount).value)), 0);
}

function invoiceOf(call: VendorCall): Json {
  return find(call.store.list('invoices'), 'id', call.params.invoice_id, 'invoice', 'invoice_id');
}

/** The invoice as PayPal shows it, without the sandbox's cents bookkeeping. */
function shown(invoice: Json): Json {
  const { total: _total, paid: _paid, ...rest } = invoice;
  const currency = obj(invoice.detail).currency_code;
  return { ...rest, amount: { currency_code: currency, value: decimal(Number(invoice.total)) }, due_amount: { currency_code: currency, value: decimal(Number(invoice.total) - Number(invoice.paid)) } };
}

function link(invoice: Json, rel = 'self'): Json {
  return { href: `https://api-m.paypal.com/v2/invoicing/invoices/${String(invoice.id)}`, rel, method: 'GET' };
}

function inRange(value: unknown, range: unknown): boolean {
  if (range === undefined) return true;
  const r = obj(range);
  return typeof value === 'string' && value >= String(r.start) && value <= String(r.end);
}

/** PayPal invoice IDs look like INV2-Z56S-5LLA-Q52L-CPZ5. */
function invoiceId(n: string): string {
  const digits = n.padStart(16, '0');
  return `INV2-${digits.slice(0, 4)}-${digits.slice(4, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}`;
}

export const paypalSite: VendorSite = {
  prefix: 'paypal',
  origin: 'https://api-m.paypal.com',
  connectors: ['paypal_invoicing'],
  error(e) {
    const [status, name, message] = STATUS[e.kind]!;
    const code = e.status ?? status;
    const field = e.field ? `/${e.field.replace(/\./g, '/')}` : undefined;
    const details = e.kind === 'unauthorized' ? undefined : [{ ...(field ? { field, location: 'body' } : {}), issue: e.code ?? 'INVALID_PARAMETER_VALUE', description: e.message }];
    return {
      status: code,
      body: {
        name: code === 422 ? 'UNPROCESSABLE_ENTITY' : name, message: code === 422 ? 'The requested action could not be performed, semantically incorrect, or failed business validation.' : e.kind === 'unauthorized' ? message : `${message} ${e.message}`,
        debug_id: 'sbx0d1e2b3u4g', ...(details ? { details } : {}),
        links: [{ href: 'https://developer.paypal.com/docs/api/invoicing/v2/#errors', rel: 'information_link' }],
      },
    };
  },
  idempotencyKey: (call) => call.headers['paypal-request-id'],
  oauth: { tokenPath: '/v1/oauth2/token', clientAuth: 'basic' },
  seed(store) {
    // The invoice send_invoice's and record_payment's examples name: a draft for Maria, due before the search's range ends.
    store.list('invoices').push({
      id: 'INV2-Z56S-5LLA-Q52L-CPZ5', status: 'DRAFT',
      detail: { currency_code: 'USD', invoice_number: '000122', invoice_date: '2026-11-06', payment_term: { due_date: '2026-11-20' }, metadata: { create_time: '2026-11-06T09:00:00Z' } },
      primary_recipients: [{ billing_info: { email_address: 'maria@acme.example', name: { given_name: 'Maria', surname: 'Lopez' } } }],
      items: [{ name: 'Boiler service', quantity: '1', unit_amount: { currency_code: 'USD', value: '180.00' } }],
      total: 18000, paid: 0,
    });
  },
  handlers: {
    'POST /v2/invoicing/invoices'(call) {
      const b = obj(call.body);
      const detail = obj(b.detail);
      const items = (b.items as Json[] | undefined) ?? [];
      const wrong = items.findIndex((i) => obj(i.unit_amount).currency_code !== detail.currency_code);
      if (wrong >= 0) throw unprocessable('CURRENCY_MISMATCH', 'Currency of all the items should be the same as the invoice currency.', `items.${wrong}.unit_amount.currency_code`);
      const list = call.store.list('invoices');
      const number = detail.invoice_number ?? String(list.length + 1).padStart(6, '0');
      if (list.some((i) => obj(i.detail).invoice_number === number)) throw unprocessable('DUPLICATE_INVOICE_NUMBER', `Invoice number ${String(number)} is already used.`, 'detail.invoice_number');
      const invoice: Json = {
        ...b, id: invoiceId(call.store.id()), status: 'DRAFT',
        detail: { ...detail, invoice_number: number, invoice_date: detail.invoice_date ?? new Date(call.store.now()).toISOString().slice(0, 10), metadata: { create_time: new Date(call.store.now()).toISOString() } },
        total: totalOf(items), paid: 0,
      };
      list.push(invoice);
      return { status: 201, body: shown(invoice) };
    },
    'POST /v2/invoicing/invoices/{invoice_id}/send'(call) {
      const invoice = invoiceOf(call);
      if (invoice.status !== 'DRAFT' && invoice.status !== 'SCHEDULED') throw unprocessable('CANT_SEND_INVOICE', `Only a DRAFT or SCHEDULED invoice can be sent; this one is ${String(invoice.status)}.`, 'invoice_id');
      invoice.status = 'SENT';
      Object.assign(obj(invoice.detail).metadata as Json, { first_sent_time: new Date(call.store.now()).toISOString() });
      return link(invoice);
    },
    'POST /v2/invoicing/invoices/{invoice_id}/payments'(call) {
      const invoice = invoiceOf(call);
      if (!['SENT', 'UNPAID', 'PARTIALLY_PAID'].includes(String(invoice.status))) throw unprocessable('CANT_RECORD_PAYMENT', `A payment can be recorded only for a sent, unpaid invoice; this one is ${String(invoice.status)}.`, 'invoice_id');
      const b = obj(call.body);
      const due = Number(invoice.total) - Number(invoice.paid);
      const amount = b.amount === undefined ? due : cents(obj(b.amount).value);
      if (b.amount !== undefined && obj(b.amount).currency_code !== obj(invoice.detail).currency_code) throw unprocessable('CURRENCY_MISMATCH', 'The payment must be in the invoice currency.', 'amount.currency_code');
      if (amount > due) throw unprocessable('INVALID_PAYMENT_AMOUNT', `The payment (${decimal(amount)}) is more than the amount due (${decimal(due)}).`, 'amount.value');
      invoice.paid = Number(invoice.paid) + amount;
      invoice.status = invoice.paid === invoice.total ? 'MARKED_AS_PAID' : 'PARTIALLY_PAID';
      const paymentId = `EXTR-${call.store.id()}`;
      const payments = obj(invoice.payments);
      invoice.payments = {
        paid_amount: { currency_code: obj(invoice.detail).currency_code, value: decimal(Number(invoice.paid)) },
        transactions: [...((payments.transactions as Json[] | undefined) ?? []), { payment_id: paymentId, type: 'EXTERNAL', method: b.method, amount: { currency_code: obj(invoice.detail).currency_code, value: decimal(amount) }, ...(b.payment_date ? { payment_date: b.payment_date } : {}), ...(b.note ? { note: b.note } : {}) }],
      };
      return { payment_id: paymentId };
    },
    'POST /v2/invoicing/search-invoices'(call): Reply {
      const b = obj(call.body);
      const statuses = b.status as string[] | undefined;
      const hits = call.store.list('invoices').filter((i) => {
        const detail = obj(i.detail);
        return (!statuses || statuses.includes(String(i.status)))
          && inRange(obj(detail.payment_term).due_date, b.due_date_range) && inRange(detail.invoice_date, b.invoice_date_range)
          && (b.recipient_email === undefined || ((i.primary_recipients as Json[] | undefined) ?? []).some((r) => obj(r.billing_info).email_address === b.recipient_email))
          && (b.invoice_number === undefined || detail.invoice_number === b.invoice_number)
          && (b.currency_code === undefined || detail.currency_code === b.currency_code)
          && (b.archived === undefined || (i.archived === true) === b.archived);
      });
      const size = limitOf(call.query.get('page_size'), 20, 100);
      const page = limitOf(call.query.get('page'), 1, 1000);
      const items = hits.slice((page - 1) * size, page * size).map(shown);
      const pages = Math.ceil(hits.length / size);
      const totals = call.query.get('total_required') === 'true' ? { total_items: hits.length, total_pages: pages } : {};
      // PayPal leaves `items` out of an empty page.
      return { status: 200, body: { ...totals, ...(items.length > 0 ? { items } : {}), links: [{ href: `https://api-m.paypal.com/v2/invoicing/search-invoices?page=${page}&page_size=${size}`, rel: 'self', method: 'POST' }] } };
    },
  },
};

/**
 * Stripe in the sandbox: customers, payment links, checkout sessions, refunds, invoice items
 * and invoices (draft → open → paid), under one API as Stripe has it. Errors are
 * `{ error: { type, code, message, param } }`; writes replay on their Idempotency-Key; lists
 * page with `starting_after` and `has_more`, search with `page` and `next_page`.
 */
import { epochSeconds, find, limitOf, obj, offsetPage, VendorError, type Json, type VendorCall, type VendorSite } from './site.js';

const STATUS: Record<string, number> = { invalid: 400, unauthorized: 401, not_found: 404, conflict: 400, rate_limited: 429 };
const TYPE: Record<string, string> = { invalid: 'invalid_request_error', unauthorized: 'invalid_request_error', not_found: 'invalid_request_error', conflict: 'invalid_request_error', rate_limited: 'rate_limit_error' };

/** `line_items.0.price` as Stripe names a parameter: `line_items[0][price]`. */
function param(field: string | undefined): string | undefined {
  if (!field) return undefined;
  const [first, ...rest] = field.split('.');
  return `${first}${rest.map((p) => `[${p}]`).join('')}`;
}

/** A form value as the number Stripe reads it as. */
function int(value: unknown): number | undefined {
  return value === undefined ? undefined : Number(value);
}

function flag(value: unknown): boolean | undefined {
  return value === undefined ? undefined : value === true || value === 'true';
}

function created(call: VendorCall): number {
  return epochSeconds(call.store.now());
}

/** An invoice's totals from its lines. */
function totals(invoice: Json): void {
  const lines = (obj(invoice.lines).data as Json[]) ?? [];
  const total = lines.reduce((sum, l) => sum + Number(l.amount ?? 0), 0);
  invoice.subtotal = total;
  invoice.total = total;
  invoice.amount_due = total;
  invoice.amount_remaining = invoice.status === 'paid' ? 0 : total - Number(invoice.amount_paid ?? 0);
}

function invoiceOf(call: VendorCall): Json {
  return find(call.store.list('invoices'), 'id', call.params.invoice, 'invoice', 'invoice');
}

function list(call: VendorCall, url: string, items: Json[]): Json {
  const limit = limitOf(call.query.get('limit'), 10, 100);
  const after = call.query.get('starting_after');
  const before = call.query.get('ending_before');
  let start = 0;
  if (after) start = items.findIndex((x) => x.id === after) + 1 || items.length;
  const end = before ? Math.max(0, items.findIndex((x) => x.id === before)) : items.length;
  const data = items.slice(start, end).slice(0, limit);
  return { object: 'list', url, has_more: start + data.length < end, data };
}

/** `due_date[lt]=...` style range filters on a numeric field. */
function inRange(query: URLSearchParams, name: string, value: unknown): boolean {
  const ops: [string, (a: number, b: number) => boolean][] = [['lt', (a, b) => a < b], ['lte', (a, b) => a <= b], ['gt', (a, b) => a > b], ['gte', (a, b) => a >= b]];
  const exact = query.get(name);
  if (exact !== null && Number(value) !== Number(exact)) return false;
  return ops.every(([op, test]) => {
    const bound = query.get(`${name}[${op}]`);
    return bound === null || (value !== null && value !== undefined && test(Number(value), Number(bound)));
  });
}

export const stripeSite: VendorSite = {
  prefix: 'stripe',
  origin: 'https://api.stripe.com',
  connectors: ['stripe', 'stripe_invoicing'],
  error(e) {
    const code = e.code ?? (e.kind === 'not_found' ? 'resource_missing' : e.kind === 'rate_limited' ? 'rate_limit' : undefined);
    const type = code === 'idempotency_key_reused' ? 'idempotency_error' : TYPE[e.kind]!;
    const field = param(e.field);
    return { status: e.status ?? STATUS[e.kind]!, body: { error: { type, message: e.message, ...(code ? { code } : {}), ...(field ? { param: field } : {}) } } };
  },
  idempotencyKey: (call) => (call.method === 'POST' ? call.headers['idempotency-key'] : undefined),
  seed(store) {
    store.list('customers').push({ id: 'cus_NeZwdNtLEOXuvB', object: 'customer', email: 'ap@acme.example', name: 'Acme Corp', phone: null, address: null, metadata: {}, created: 1732000000, livemode: false });
    store.list('payment_intents').push({ id: 'pi_3MtwBwLkdIwHu7ix28a3tqPa', object: 'payment_intent', amount: 12000, amount_refunded: 0, currency: 'usd', status: 'succeeded', customer: 'cus_NeZwdNtLEOXuvB' });
    store.list('prices').push({ id: 'price_1MoBy5LkdIwHu7ixZhnattbh', object: 'price', unit_amount: 18000, currency: 'usd', active: true });
    store.list('invoices').push({
      id: 'in_1MtHbELkdIwHu7ixl4OzzPMv', object: 'invoice', customer: 'cus_NeZwdNtLEOXuvB', customer_email: 'ap@acme.example', status: 'draft', collection_method: 'send_invoice',
      currency: 'usd', number: null, description: 'Boiler service', due_date: 1764500000, created: 1763000000, hosted_invoice_url: null, amount_paid: 0, paid_out_of_band: false,
      lines: { object: 'list', data: [{ id: 'ii_seed1', object: 'invoiceitem', amount: 18000, currency: 'usd', description: 'Boiler service' }] }, metadata: {}, livemode: false,
    });
    totals(store.list('invoices')[0]!);
  },
  handlers: {
    'POST /v1/customers'(call) {
      const b = obj(call.body);
      const customer = { id: call.store.id('cus_Sbx'), object: 'customer', email: b.email ?? null, name: b.name ?? null, phone: b.phone ?? null, description: b.description ?? null, address: b.address ?? null, metadata: b.metadata ?? {}, created: created(call), livemode: false };
      call.store.list('customers').push(customer);
      return customer;
    },
    'GET /v1/customers/search'(call) {
      // Stripe's search query language, the part flux uses: `field:'value'` clauses joined by AND.
      const clauses = (call.query.get('query') ?? '').split(/\s+AND\s+/i).map((c) => /^(\w+)(?:\[['"]?(\w+)['"]?\])?\s*:\s*['"](.*)['"]$/.exec(c.trim()));
      if (clauses.some((c) => c === null)) throw new VendorError('invalid', `Invalid search query: ${call.query.get('query') ?? ''}`, 'query');
      const hits = call.store.list('customers').filter((cu) => clauses.every((c) => String(c![2] ? obj(cu[c![1]!])[c![2]] : cu[c![1]!]) === c![3]));
      const { page, next } = offsetPage(hits, call.query.get('page'), limitOf(call.query.get('limit'), 10, 100));
      return { object: 'search_result', url: '/v1/customers/search', has_more: next !== undefined, next_page: next ?? null, data: page };
    },
    'POST /v1/payment_links'(call) {
      const b = obj(call.body);
      const items = (b.line_items as Json[] | undefined) ?? [];
      for (const [i, item] of items.entries()) find(call.store.list('prices'), 'id', item.price, 'price', `line_items.${i}.price`);
      const id = call.store.id('plink_Sbx');
      const link = { id, object: 'payment_link', active: true, url: `https://buy.stripe.com/test_${id}`, metadata: b.metadata ?? {}, livemode: false };
      call.store.list('payment_links').push({ ...link, line_items: items });
      return link;
    },
    'POST /v1/checkout/sessions'(call) {
      const b = obj(call.body);
      const id = call.store.id('cs_test_Sbx');
      const session = {
        id, object: 'checkout.session', mode: b.mode ?? 'payment', status: 'open', payment_status: 'unpaid', url: `https://checkout.stripe.com/c/pay/${id}`,
        success_url: b.success_url ?? null, cancel_url: b.cancel_url ?? null, customer: b.customer ?? null, customer_email: b.customer_email ?? null, metadata: b.metadata ?? {}, created: created(call), livemode: false,
      };
      call.store.list('checkout_sessions').push(session);
      return session;
    },
    'POST /v1/refunds'(call) {
      const b = obj(call.body);
      if (b.payment_intent === undefined && b.charge === undefined) throw new VendorError('invalid', 'One of the following params should be provided for this request: payment_intent or charge.', 'payment_intent');
      const intent = find(call.store.list('payment_intents'), 'id', b.payment_intent, 'payment_intent', 'payment_intent');
      const left = Number(intent.amount) - Number(intent.amount_refunded);
      const amount = int(b.amount) ?? left;
      if (amount > left) throw new VendorError('invalid', `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`, 'amount', 'amount_too_large');
      intent.amount_refunded = Number(intent.amount_refunded) + amount;
      const refund = { id: call.store.id('re_Sbx'), object: 'refund', amount, currency: intent.currency, payment_intent: intent.id, reason: b.reason ?? null, status: 'succeeded', metadata: b.metadata ?? {}, created: created(call) };
      call.store.list('refunds').push(refund);
      return refund;
    },
    'POST /v1/invoiceitems'(call) {
      const b = obj(call.body);
      find(call.store.list('customers'), 'id', b.customer, 'customer', 'customer');
      const item = {
        id: call.store.id('ii_Sbx'), object: 'invoiceitem', customer: b.customer, amount: int(b.amount) ?? 0, currency: b.currency ?? 'usd', description: b.description ?? null,
        invoice: (b.invoice as string | undefined) ?? null, metadata: b.metadata ?? {}, date: created(call), livemode: false,
      };
      call.store.list('invoiceitems').push(item);
      if (item.invoice) {
        const invoice = find(call.store.list('invoices'), 'id', item.invoice, 'invoice', 'invoice');
        (obj(invoice.lines).data as Json[]).push(item);
        totals(invoice);
      }
      return item;
    },
    'POST /v1/invoices'(call) {
      const b = obj(call.body);
      const customer = find(call.store.list('customers'), 'id', b.customer, 'customer', 'customer');
      const method = (b.collection_method as string | undefined) ?? 'charge_automatically';
      if (method === 'send_invoice' && b.days_until_due === undefined && b.due_date === undefined) {
        throw new VendorError('invalid', 'Missing required param: days_until_due or due_date (invoices sent to the customer need a due date).', 'days_until_due');
      }
      const now = created(call);
      const pending = b.pending_invoice_items_behavior === 'exclude' ? [] : call.store.list('invoiceitems').filter((i) => i.customer === customer.id && i.invoice === null);
      const id = call.store.id('in_Sbx');
      for (const item of pending) item.invoice = id;
      const invoice: Json = {
        id, object: 'invoice', customer: customer.id, customer_email: customer.email, status: 'draft', collection_method: method, currency: b.currency ?? 'usd', number: null,
        description: b.description ?? null, auto_advance: flag(b.auto_advance) ?? false, created: now,
        due_date: int(b.due_date) ?? (b.days_until_due !== undefined ? now + Number(b.days_until_due) * 86400 : null), hosted_invoice_url: null, amount_paid: 0, paid_out_of_band: false,
        lines: { object: 'list', data: pending }, metadata: b.metadata ?? {}, livemode: false,
      };
      totals(invoice);
      call.store.list('invoices').push(invoice);
      return invoice;
    },
    'POST /v1/invoices/{invoice}/finalize'(call) {
      const invoice = invoiceOf(call);
      if (invoice.status !== 'draft') throw new VendorError('invalid', `This invoice is already finalized, you can't re-finalize a non-draft invoice.`, 'invoice', 'invoice_not_editable');
      invoice.status = 'open';
      invoice.number = `SBX-${call.store.id()}`;
      invoice.hosted_invoice_url = `https://invoice.stripe.com/i/${String(invoice.id)}`;
      invoice.status_transitions = { finalized_at: created(call) };
      return invoice;
    },
    'POST /v1/invoices/{invoice}/send'(call) {
      const invoice = invoiceOf(call);
      if (invoice.status !== 'open') throw new VendorError('invalid', `You can only send an invoice that is open, not ${String(invoice.status)}.`, 'invoice', 'invoice_not_open');
      if (invoice.collection_method !== 'send_invoice') throw new VendorError('invalid', 'You can only send invoices whose collection_method is send_invoice.', 'invoice');
      call.store.list('sent').push({ invoice: invoice.id, to: invoice.customer_email, at: created(call) });
      return invoice;
    },
    'GET /v1/invoices'(call) {
      const q = call.query;
      const hits = call.store.list('invoices').filter((i) => ['status', 'customer', 'collection_method'].every((k) => q.get(k) === null || i[k] === q.get(k))
        && inRange(q, 'due_date', i.due_date) && inRange(q, 'created', i.created));
      return list(call, '/v1/invoices', hits);
    },
    'POST /v1/invoices/{invoice}/pay'(call) {
      const invoice = invoiceOf(call);
      if (invoice.status === 'paid') throw new VendorError('invalid', 'Invoice is already paid.', 'invoice', 'invoice_already_paid');
      if (invoice.status !== 'open') throw new VendorError('invalid', `You can only pay an open invoice, not a ${String(invoice.status)} one.`, 'invoice', 'invoice_not_open');
      const b = obj(call.body);
      invoice.status = 'paid';
      invoice.paid_out_of_band = flag(b.paid_out_of_band) ?? false;
      invoice.amount_paid = invoice.amount_due;
      totals(invoice);
      return invoice;
    },
  },
};

/**
 * Square in the sandbox: payments (taken COMPLETED, or APPROVED with `autocomplete: false`),
 * refunds (bounded by what is left unrefunded; each one raises the payment's
 * `refunded_money`), payment links, invoices (created as DRAFT, published to UNPAID when the
 * version matches) and invoice search by location and customer, paged with `cursor`.
 * Writes replay on their `idempotency_key` body field. Errors are
 * `{ errors: [{ category, code, detail, field }] }`.
 */
import { find, limitOf, obj, offsetPage, VendorError, type Json, type VendorSite } from './site.js';

const STATUS: Record<string, [number, string, string]> = {
  invalid: [400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE'], unauthorized: [401, 'AUTHENTICATION_ERROR', 'UNAUTHORIZED'], not_found: [404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND'],
  conflict: [409, 'INVALID_REQUEST_ERROR', 'CONFLICT'], rate_limited: [429, 'RATE_LIMIT_ERROR', 'RATE_LIMITED'],
};

const LOCATION = 'L88917AVBK2S5';

/** Money in Square's shape. */
function money(amount: unknown, currency: unknown): Json {
  return { amount, currency };
}

/** The keys of `from` that are set. */
function pickDefined(from: Json, keys: readonly string[]): Json {
  return Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]]));
}

export const squareSite: VendorSite = {
  prefix: 'square',
  origin: 'https://connect.squareup.com',
  connectors: ['square'],
  error(e) {
    const [status, category, code] = STATUS[e.kind]!;
    return { status: e.status ?? status, body: { errors: [{ category, code: e.code ?? code, detail: e.message, ...(e.field ? { field: e.field } : {}) }] } };
  },
  idempotencyKey: (call) => {
    const key = obj(call.body).idempotency_key;
    return typeof key === 'string' ? `${call.template} ${key}` : undefined;
  },
  seed(store) {
    store.list('locations').push({ id: LOCATION, name: 'Main street' });
    // The payment refund_payment's example refunds.
    store.list('payments').push({
      id: 'R2B3Z8WMVt3EAmzYWLZvz7Y69EbZY', status: 'COMPLETED', amount_money: money(18000, 'USD'), total_money: money(18000, 'USD'), refunded_money: money(0, 'USD'),
      source_type: 'CARD', location_id: LOCATION, created_at: '2026-11-20T10:00:00Z', updated_at: '2026-11-20T10:00:00Z',
    });
    store.list('invoices').push({
      id: 'inv:0-ChCHu2mZEabLeeHahQnXDjZQECY', version: 0, location_id: LOCATION, order_id: 'CAISENgvlJ6jLWAzERDzjyHVybY', status: 'DRAFT',
      primary_recipient: { customer_id: 'JDKYHBWT1D4F8MFH63DBMEN8Y4' }, payment_requests: [{ uid: 'pr-seed', request_type: 'BALANCE', due_date: '2026-12-08' }],
      delivery_method: 'EMAIL', invoice_number: '000123', title: 'Boiler service', created_at: '2026-11-20T10:00:00Z', updated_at: '2026-11-20T10:00:00Z',
    });
  },
  handlers: {
    'POST /v2/payments'(call) {
      const b = obj(call.body);
      const location = b.location_id ?? LOCATION;
      find(call.store.list('locations'), 'id', location, 'location', 'location_id');
      const amount = obj(b.amount_money);
      const tip = obj(b.tip_money);
      if (b.tip_money !== undefined && tip.currency !== amount.currency) throw new VendorError('invalid', 'tip_money must be in the currency of amount_money', 'tip_money.currency', 'CURRENCY_MISMATCH');
      const total = Number(amount.amount) + Number(tip.amount ?? 0);
      const now = new Date(call.store.now()).toISOString();
      const source = String(b.source_id);
      const payment: Json = {
        id: call.store.id('SBXPAY'), created_at: now, updated_at: now, amount_money: money(amount.amount, amount.currency), total_money: money(total, amount.currency),
        ...(b.tip_money !== undefined ? { tip_money: money(tip.amount, tip.currency) } : {}), refunded_money: money(0, amount.currency),
        status: b.autocomplete === false ? 'APPROVED' : 'COMPLETED', source_type: source === 'CASH' ? 'CASH' : source === 'EXTERNAL' ? 'EXTERNAL' : 'CARD', location_id: location,
        ...pickDefined(b, ['customer_id', 'order_id', 'reference_id', 'note', 'buyer_email_address']),
        receipt_url: `https://squareup.com/receipt/preview/${String(call.store.id('SBXR'))}`,
      };
      call.store.list('payments').push(payment);
      return { payment };
    },
    'POST /v2/refunds'(call) {
      const b = obj(call.body);
      const payment = find(call.store.list('payments'), 'id', b.payment_id, 'payment', 'payment_id');
      const asked = obj(b.amount_money);
      const paid = obj(payment.total_money);
      const refunded = obj(payment.refunded_money);
      if (asked.currency !== paid.currency) throw new VendorError('invalid', `The refund must be in the payment's currency, ${String(paid.currency)}`, 'amount_money.currency', 'CURRENCY_MISMATCH');
      if (payment.status !== 'COMPLETED') throw new VendorError('invalid', `Only a COMPLETED payment can be refunded; this one is ${String(payment.status)}`, 'payment_id', 'PAYMENT_NOT_REFUNDABLE');
      const left = Number(paid.amount) - Number(refunded.amount ?? 0);
      if (Number(asked.amount) > left) throw new VendorError('invalid', `The refund amount (${String(asked.amount)}) exceeds what is left unrefunded (${left})`, 'amount_money.amount', 'REFUND_AMOUNT_INVALID');
      const now = new Date(call.store.now()).toISOString();
      payment.refunded_money = money(Number(refunded.amount ?? 0) + Number(asked.amount), paid.currency);
      payment.updated_at = now;
      const refund = {
        id: call.store.id('SBXREF'), status: 'PENDING', amount_money: money(asked.amount, asked.currency), payment_id: payment.id, location_id: payment.location_id,
        ...pickDefined(b, ['reason']), created_at: now, updated_at: now,
      };
      call.store.list('refunds').push(refund);
      return { refund };
    },
    'POST /v2/online-checkout/payment-links'(call) {
      const b = obj(call.body);
      const quick = obj(b.quick_pay);
      if (quick.location_id !== undefined) find(call.store.list('locations'), 'id', quick.location_id, 'location', 'quick_pay.location_id');
      const id = call.store.id('SBXPL');
      const link = { id, version: 1, order_id: call.store.id('SBXORD'), url: `https://square.link/u/${id}`, created_at: new Date(call.store.now()).toISOString(), ...(b.description ? { description: b.description } : {}), ...(b.payment_note ? { payment_note: b.payment_note } : {}) };
      call.store.list('payment_links').push({ ...link, amount: obj(quick.price_money).amount, name: quick.name });
      return { payment_link: link };
    },
    'POST /v2/invoices'(call) {
      const given = obj(obj(call.body).invoice);
      find(call.store.list('locations'), 'id', given.location_id, 'location', 'invoice.location_id');
      const now = new Date(call.store.now()).toISOString();
      const invoice = {
        ...given, id: `inv:0-${call.store.id('SBX')}`, version: 0, status: 'DRAFT', created_at: now, updated_at: now,
        payment_requests: ((given.payment_requests as Json[] | undefined) ?? []).map((p) => ({ uid: call.store.id('pr-'), ...p })),
      };
      call.store.list('invoices').push(invoice);
      return { invoice };
    },
    'POST /v2/invoices/{invoice_id}/publish'(call) {
      const invoice = find(call.store.list('invoices'), 'id', call.params.invoice_id, 'invoice', 'invoice_id');
      const version = obj(call.body).version;
      if (version !== invoice.version) throw new VendorError('invalid', `The invoice is at version ${String(invoice.version)}, not ${String(version)}`, 'version', 'VERSION_MISMATCH');
      if (invoice.status !== 'DRAFT') throw new VendorError('invalid', `Only a DRAFT invoice can be published; this one is ${String(invoice.status)}`, 'invoice_id', 'BAD_REQUEST');
      Object.assign(invoice, { status: 'UNPAID', version: Number(invoice.version) + 1, public_url: `https://squareup.com/pay-invoice/${String(invoice.id)}`, updated_at: new Date(call.store.now()).toISOString() });
      return { invoice };
    },
    'POST /v2/invoices/search'(call) {
      const b = obj(call.body);
      const filter = obj(obj(b.query).filter);
      const locations = (filter.location_ids as string[] | undefined) ?? [];
      const customers = filter.customer_ids as string[] | undefined;
      const hits = call.store.list('invoices').filter((i) => locations.includes(String(i.location_id)) && (!customers || customers.includes(String(obj(i.primary_recipient).customer_id))));
      const { page, next } = offsetPage(hits, b.cursor as string | undefined, limitOf(b.limit, 100, 200));
      return { ...(page.length > 0 ? { invoices: page } : {}), ...(next ? { cursor: next } : {}) };
    },
  },
};

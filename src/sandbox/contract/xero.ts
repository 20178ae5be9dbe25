/**
 * Xero's accounting API in the sandbox: contacts, invoices (listed by status and by a `where`
 * filter, 100 a page), emailing an invoice, and payments that bring an invoice's amount due
 * down until it is PAID. Errors are `{ ErrorNumber, Type: 'ValidationException', Message,
 * Elements: [{ ValidationErrors: [{ Message }] }] }`; 401 is `{ Title, Status, Detail }`.
 */
import { find, obj, VendorError, type Json, type VendorCall, type VendorSite } from './site.js';

const PAGE_SIZE = 100;

/** A date as Xero's JSON writes it: `/Date(1732406400000+0000)/`. */
function msDate(day: string): string {
  return `/Date(${Date.parse(`${day}T00:00:00Z`)}+0000)/`;
}

/** One clause of Xero's `where` (`Type=="ACCREC"`, `AmountDue>0`, `DueDate<DateTime(2026,11,24)`) as a test. */
function clause(text: string): (invoice: Json) => boolean {
  const m = /^\s*([\w.]+)\s*(==|!=|>=|<=|>|<)\s*(.+?)\s*$/.exec(text);
  if (!m) throw new VendorError('invalid', `The where filter could not be read near '${text.slice(0, 40)}'`, 'where');
  const [, field, op, raw] = m as unknown as [string, string, string, string];
  let value: string | number;
  const date = /^DateTime\((\d{4}),\s*(\d{1,2}),\s*(\d{1,2})\)$/.exec(raw);
  if (date) value = `${date[1]}-${date[2]!.padStart(2, '0')}-${date[3]!.padStart(2, '0')}`;
  else if (/^"(.*)"$/.test(raw)) value = raw.slice(1, -1);
  else if (/^Guid\("(.*)"\)$/.test(raw)) value = raw.slice(6, -2);
  else if (!Number.isNaN(Number(raw))) value = Number(raw);
  else throw new VendorError('invalid', `The where filter has a value Xero cannot read: ${raw.slice(0, 40)}`, 'where');
  return (invoice) => {
    const actual = field.split('.').reduce<unknown>((at, k) => obj(at)[k], invoice);
    const a = typeof value === 'number' ? Number(actual) : String(actual ?? '');
    switch (op) {
      case '==': return a === value;
      case '!=': return a !== value;
      case '>': return a > value;
      case '<': return a < value;
      case '>=': return a >= value;
      default: return a <= value;
    }
  };
}

function invoiceOf(call: VendorCall, id: unknown, field: string): Json {
  return find(call.store.list('invoices'), 'InvoiceID', id, 'invoice', field);
}

function validation(messages: string[]): VendorError {
  return new VendorError('invalid', messages.join('; '));
}

export const xeroSite: VendorSite = {
  prefix: 'xero',
  origin: 'https://api.xero.com',
  connectors: ['xero'],
  // identity.xero.com/connect/token, played at `<sandbox>/xero/connect/token`.
  oauth: { tokenPath: '/connect/token', clientAuth: 'either' },
  error(e) {
    if (e.kind === 'unauthorized') return { status: 401, body: { Type: null, Title: 'Unauthorized', Status: 401, Detail: 'AuthenticationUnsuccessful' } };
    if (e.kind === 'not_found') return { status: 404, body: { Title: 'Not Found', Status: 404, Detail: e.message } };
    if (e.kind === 'rate_limited') return { status: 429, body: { Title: 'Too Many Requests', Status: 429, Detail: e.message } };
    const messages = e.message.split('; ');
    return {
      status: e.status ?? 400,
      body: { ErrorNumber: 10, Type: 'ValidationException', Message: 'A validation exception occurred', Elements: [{ ValidationErrors: messages.map((Message) => ({ Message })) }] },
    };
  },
  rateLimitHeaders: () => ({ 'x-rate-limit-problem': 'minute', 'x-minlimit-remaining': '0' }),
  idempotencyKey: (call) => (call.method !== 'GET' ? call.headers['idempotency-key'] : undefined),
  seed(store) {
    store.list('contacts').push(
      { ContactID: 'eaa28f49-6028-4b6e-bb12-d8f6278073fc', Name: 'Acme Plumbing', EmailAddress: 'ap@acme.example', ContactStatus: 'ACTIVE' },
      { ContactID: '3e5b2b1c-8a4e-4a55-9f5b-6f0f8f1f2a10', Name: 'Globex', EmailAddress: 'billing@globex.example', ContactStatus: 'ACTIVE' },
    );
    // Due dates relative to the sandbox's clock, so two are overdue (by 14 and 5 days) and one
    // is not yet due whenever the sandbox runs.
    const day = (offset: number) => new Date(store.now() + offset * 86_400_000).toISOString().slice(0, 10);
    const seeded: [string, string, number, string, string, string][] = [
      ['4c5b8e5b-7c8f-4f6a-9d0e-2b3a1c4d5e6f', 'INV-0041', 180, day(-14), 'eaa28f49-6028-4b6e-bb12-d8f6278073fc', 'AUTHORISED'],
      ['9b1de2a4-1f3c-4c1a-8a52-0e8f0c3d7b21', 'INV-0057', 420, day(-5), '3e5b2b1c-8a4e-4a55-9f5b-6f0f8f1f2a10', 'AUTHORISED'],
      ['c2f6a0d7-5e4b-4d38-9a1f-7b3c2e1d0f98', 'INV-0060', 990, day(7), '3e5b2b1c-8a4e-4a55-9f5b-6f0f8f1f2a10', 'AUTHORISED'],
    ];
    for (const [id, number, total, due, contactId, status] of seeded) {
      const contact = store.list('contacts').find((c) => c.ContactID === contactId)!;
      store.list('invoices').push({
        InvoiceID: id, InvoiceNumber: number, Type: 'ACCREC', Status: status, Contact: { ContactID: contactId, Name: contact.Name, EmailAddress: contact.EmailAddress },
        DateString: `${day(-45)}T00:00:00`, Date: msDate(day(-45)), DueDateString: `${due}T00:00:00`, DueDate: due, LineAmountTypes: 'Exclusive',
        LineItems: [{ Description: 'Services', Quantity: 1, UnitAmount: total, LineAmount: total, AccountCode: '200' }],
        SubTotal: total, TotalTax: 0, Total: total, AmountDue: total, AmountPaid: 0, CurrencyCode: 'USD', SentToContact: false, Payments: [],
      });
    }
  },
  handlers: {
    'PUT /Contacts'(call) {
      const given = (obj(call.body).Contacts as Json[] | undefined) ?? [];
      const contacts = call.store.list('contacts');
      const problems = given.flatMap((c) => (contacts.some((x) => x.Name === c.Name) ? [`The contact name ${String(c.Name)} is already assigned to another contact. The contact name must be unique across all active contacts.`] : []));
      if (problems.length > 0) throw validation(problems);
      const made = given.map((c) => ({ ...c, ContactID: call.store.uuid(), ContactStatus: 'ACTIVE' }));
      contacts.push(...made);
      return { Id: call.store.uuid(), Status: 'OK', ProviderName: 'flux sandbox', Contacts: made };
    },
    'PUT /Invoices'(call) {
      const given = (obj(call.body).Invoices as Json[] | undefined) ?? [];
      const problems: string[] = [];
      const newContacts: Json[] = [];
      const made = given.map((inv) => {
        const { ContactID: contactId, Name: name } = obj(inv.Contact);
        // Xero takes the contact by ContactID, or by Name: a name no contact has makes a new contact.
        let contact = [...call.store.list('contacts'), ...newContacts].find((c) => (contactId !== undefined ? c.ContactID === contactId : c.Name === name));
        if (!contact && contactId === undefined && typeof name === 'string' && name.trim() !== '') newContacts.push(contact = { ContactID: call.store.uuid(), Name: name, ContactStatus: 'ACTIVE' });
        if (!contact) problems.push(contactId === undefined && name === undefined ? 'A Contact must be specified for this type of transaction' : `Contact ${String(contactId ?? name)} does not exist`);
        const lines = ((inv.LineItems as Json[] | undefined) ?? []).map((l) => ({ ...l, LineAmount: Number(l.Quantity ?? 1) * Number(l.UnitAmount ?? 0) }));
        if (lines.length === 0 && inv.Status === 'AUTHORISED') problems.push('An invoice must have at least one line item to be approved');
        const total = lines.reduce((s, l) => s + Number(l.LineAmount), 0);
        const count = call.store.list('invoices').length + 1;
        return {
          // Xero answers with the organisation's base currency where the invoice names none.
          CurrencyCode: 'USD', ...inv, InvoiceID: call.store.uuid(), InvoiceNumber: inv.InvoiceNumber ?? `INV-${String(count).padStart(4, '0')}`, Status: inv.Status ?? 'DRAFT',
          Contact: contact ? { ContactID: contact.ContactID, Name: contact.Name, EmailAddress: contact.EmailAddress } : inv.Contact,
          DueDate: inv.DueDate, ...(inv.DueDate ? { DueDateString: `${String(inv.DueDate)}T00:00:00` } : {}), Date: inv.Date ? msDate(String(inv.Date)) : undefined, LineItems: lines, SubTotal: total, TotalTax: 0, Total: total, AmountDue: total, AmountPaid: 0, SentToContact: false, Payments: [],
        };
      });
      if (problems.length > 0) throw validation(problems);
      call.store.list('contacts').push(...newContacts);
      call.store.list('invoices').push(...made);
      return { Id: call.store.uuid(), Status: 'OK', ProviderName: 'flux sandbox', Invoices: made };
    },
    'GET /Invoices'(call) {
      const q = call.query;
      const statuses = q.get('Statuses')?.split(',');
      const ids = q.get('IDs')?.split(',');
      const where = (q.get('where') ?? '').split(/\s+AND\s+/i).filter((c) => c.trim() !== '').map(clause);
      const hits = call.store.list('invoices').filter((i) => (!statuses || statuses.includes(String(i.Status))) && (!ids || ids.includes(String(i.InvoiceID))) && where.every((w) => w(i)));
      const order = /^(\w+)(?:\s+(ASC|DESC))?$/i.exec(q.get('order') ?? '');
      if (order) hits.sort((a, b) => String(a[order[1]!]).localeCompare(String(b[order[1]!]), undefined, { numeric: true }) * (order[2]?.toUpperCase() === 'DESC' ? -1 : 1));
      const page = q.get('page');
      if (page === null) return { Invoices: hits };
      const n = Math.max(1, Number(page) || 1);
      return { pagination: { page: n, pageSize: PAGE_SIZE, pageCount: Math.max(1, Math.ceil(hits.length / PAGE_SIZE)), itemCount: hits.length }, Invoices: hits.slice((n - 1) * PAGE_SIZE, n * PAGE_SIZE) };
    },
    'POST /Invoices/{InvoiceID}/Email'(call) {
      const invoice = invoiceOf(call, call.params.InvoiceID, 'InvoiceID');
      if (!['AUTHORISED', 'SUBMITTED', 'PAID'].includes(String(invoice.Status))) throw validation([`Invoice ${String(invoice.InvoiceNumber)} is ${String(invoice.Status)}: only approved invoices can be emailed`]);
      if (!obj(invoice.Contact).EmailAddress) throw validation(['The contact has no email address']);
      invoice.SentToContact = true;
      call.store.list('emails').push({ InvoiceID: invoice.InvoiceID, InvoiceNumber: invoice.InvoiceNumber, To: obj(invoice.Contact).EmailAddress });
      return { status: 204 };
    },
    'PUT /Payments'(call) {
      const given = (obj(call.body).Payments as Json[] | undefined) ?? [];
      const problems: string[] = [];
      const made = given.map((p) => {
        const invoice = call.store.list('invoices').find((i) => i.InvoiceID === obj(p.Invoice).InvoiceID || (obj(p.Invoice).InvoiceNumber !== undefined && i.InvoiceNumber === obj(p.Invoice).InvoiceNumber));
        const amount = Number(p.Amount ?? 0);
        if (!invoice) problems.push(`Invoice ${String(obj(p.Invoice).InvoiceID ?? obj(p.Invoice).InvoiceNumber)} could not be found`);
        else if (invoice.Status !== 'AUTHORISED') problems.push(`Payments can only be made against Authorised documents (invoice ${String(invoice.InvoiceNumber)} is ${String(invoice.Status)})`);
        else if (amount > Number(invoice.AmountDue)) problems.push(`Payment amount exceeds the amount outstanding on this document (${String(invoice.AmountDue)})`);
        return { p, invoice, amount };
      });
      if (problems.length > 0) throw validation(problems);
      const payments = made.map(({ p, invoice, amount }) => {
        invoice!.AmountDue = Number(invoice!.AmountDue) - amount;
        invoice!.AmountPaid = Number(invoice!.AmountPaid) + amount;
        if (Number(invoice!.AmountDue) === 0) invoice!.Status = 'PAID';
        const payment = { PaymentID: call.store.uuid(), Date: p.Date ? msDate(String(p.Date)) : undefined, Amount: amount, Reference: p.Reference, Status: 'AUTHORISED', PaymentType: 'ACCRECPAYMENT', Invoice: { InvoiceID: invoice!.InvoiceID, InvoiceNumber: invoice!.InvoiceNumber }, Account: p.Account };
        (invoice!.Payments as Json[]).push({ PaymentID: payment.PaymentID, Amount: amount });
        call.store.list('payments').push(payment);
        return payment;
      });
      return { Id: call.store.uuid(), Status: 'OK', ProviderName: 'flux sandbox', Payments: payments };
    },
  },
};

/**
 * Xero accounting: contacts, invoices, overdue invoices, email an invoice, payments. Checked
 * against Xero's OpenAPI 3.0 description (schemas/vendor-specs/xero-accounting.json).
 * Every call names the organisation in an `xero-tenant-id` header, which the connection gives
 * (`headers: { xero-tenant-id: ... }`). Lists page by number (`page`, 100 a page); errors come
 * back as `{ Type, Elements: [{ ValidationErrors: [{ Message }] }] }`, read into
 * "Xero: ValidationException: <message>". Object fields keep Xero's own PascalCase names, so
 * Xero's documentation reads directly onto them.
 */
import { XERO_OAUTH } from './oauth/providers.js';
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

const date = (description: string, example?: string): FieldSpec => ({ type: 'string', description: `${description} (YYYY-MM-DD).`, ...(example !== undefined ? { example } : {}) });

const contact: FieldSpec = {
  type: 'object', description: 'A contact (customer or supplier).',
  properties: {
    Name: { type: 'string', description: 'Full name of the person or organisation; unique in Xero.', required: true },
    FirstName: { type: 'string', description: 'First name of the contact person.' },
    LastName: { type: 'string', description: 'Last name of the contact person.' },
    EmailAddress: { type: 'string', format: 'email', description: 'Email address invoices are sent to.' },
    ContactNumber: { type: 'string', description: 'Your own ID for the contact (from another system).' },
    AccountNumber: { type: 'string', description: 'Your account number with them, or theirs with you; unique.' },
    TaxNumber: { type: 'string', description: 'Tax number (ABN, GST or VAT number).' },
  },
};

const lineItem: FieldSpec = {
  type: 'object', description: 'A line of the invoice.',
  properties: {
    Description: { type: 'string', description: 'What the line is for.', required: true },
    Quantity: { type: 'number', description: 'How many.', minimum: 0 },
    UnitAmount: { type: 'number', description: 'Price of one, in the invoice currency.' },
    AccountCode: { type: 'string', description: 'Code of the sales (or purchases) account, e.g. 200.' },
    ItemCode: { type: 'string', description: 'Code of an inventory item.' },
    TaxType: { type: 'string', description: 'Tax rate code, e.g. OUTPUT2 or NONE.' },
    DiscountRate: { type: 'number', description: 'Discount in percent.', minimum: 0, maximum: 100 },
  },
};

const invoice: FieldSpec = {
  type: 'object', description: 'An invoice.',
  properties: {
    Type: { type: 'string', description: 'ACCREC: a sales invoice (you are owed); ACCPAY: a bill (you owe).', enum: ['ACCREC', 'ACCPAY'], required: true },
    Contact: {
      // Xero takes either key: a Name it does not know creates that contact with the invoice.
      type: 'object', description: 'Who the invoice is for: `{ ContactID }` of an existing contact, or `{ Name }` (an existing contact by name, or a new one).', required: true,
      properties: {
        ContactID: { type: 'string', format: 'uuid', description: "The contact's ID (give this or Name)." },
        Name: { type: 'string', description: "The contact's name (give this or ContactID); Xero creates the contact when no contact has it." },
      },
    },
    LineItems: { type: 'array', description: 'The lines of the invoice.', items: lineItem },
    Date: date('Invoice date; default today'),
    DueDate: date('Date payment is due'),
    Reference: { type: 'string', description: 'Your reference (sales invoices), shown to the customer.' },
    InvoiceNumber: { type: 'string', description: 'Invoice number; Xero assigns the next one when absent (sales invoices).' },
    Status: { type: 'string', description: 'DRAFT (default), SUBMITTED for approval, or AUTHORISED (approved, ready to send and pay).', enum: ['DRAFT', 'SUBMITTED', 'AUTHORISED'] },
    LineAmountTypes: { type: 'string', description: 'Whether line amounts include tax.', enum: ['Exclusive', 'Inclusive', 'NoTax'] },
  },
};

const STATUSES = ['DRAFT', 'SUBMITTED', 'DELETED', 'AUTHORISED', 'PAID', 'VOIDED'];

const put = (summary: string, path: string, fields: Record<string, FieldSpec>, output: string): OperationSpec => ({
  summary, fields, output, http: { method: 'PUT', path, body: 'json' }, idempotency: { header: 'Idempotency-Key' },
});

/** "Xero: ValidationException: Email address must be valid; ..." from Xero's error body. */
function xeroError(body: unknown, status: number): string | undefined {
  if (status < 400) return undefined;
  const type = clipText(pick(body, 'Type'), 60) ?? clipText(pick(body, 'Title'), 60);
  const elements = pick(body, 'Elements');
  const messages = (Array.isArray(elements) ? elements : []).flatMap((e) => {
    const errors = pick(e, 'ValidationErrors');
    return Array.isArray(errors) ? errors.map((v) => clipText(pick(v, 'Message'))).filter((m): m is string => m !== undefined) : [];
  });
  const unique = [...new Set(messages)];
  const text = unique.length > 0
    ? `${unique.slice(0, 3).join('; ')}${unique.length > 3 ? ` (and ${unique.length - 3} more)` : ''}`
    : clipText(pick(body, 'Message')) ?? clipText(pick(body, 'Detail')) ?? `HTTP ${status}`;
  return `Xero: ${type ? `${type}: ` : ''}${text}`;
}

export const xeroSpec: ConnectorSpec = {
  name: 'xero',
  vendor: 'Xero',
  category: 'accounting',
  summary: 'Xero accounting: contacts, invoices, overdue invoices, email an invoice, payments.',
  baseUrl: 'https://api.xero.com/api.xro/2.0',
  auth: ['oauth2', 'bearer'],
  oauth: XERO_OAUTH,
  vendorCheck: { checked: true, file: 'xero-accounting.json', format: 'openapi-3.0' },
  connectionHeaders: {
    'xero-tenant-id': { description: 'the ID of the Xero organisation (tenant) the calls act on, from GET https://api.xero.com/connections', example: '${{ secrets.XERO_TENANT_ID }}' },
  },
  errorOf: xeroError,
  operations: {
    create_contacts: put('Create one or more contacts.', '/Contacts', {
      contacts: {
        type: 'array', name: 'Contacts', description: 'The contacts to create.', required: true, items: contact,
        example: [{ Name: 'Acme Plumbing Ltd', FirstName: 'Maria', LastName: 'Lopez', EmailAddress: 'maria@acme-plumbing.example' }],
      },
    }, "Xero's answer: `{ Contacts: [{ ContactID, Name, ... }] }`."),
    create_invoices: put('Create one or more invoices (sales invoices or bills).', '/Invoices', {
      invoices: {
        type: 'array', name: 'Invoices', description: 'The invoices to create.', required: true, items: invoice,
        example: [{
          Type: 'ACCREC', Contact: { ContactID: 'eaa28f49-6028-4b6e-bb12-d8f6278073fc' }, Date: '2026-11-24', DueDate: '2026-12-08', Reference: 'Order 6735', Status: 'AUTHORISED',
          LineItems: [{ Description: 'Boiler service', Quantity: 1, UnitAmount: 180, AccountCode: '200' }],
        }],
      },
      unitdp: { type: 'integer', description: 'Decimal places of unit amounts: 4 to keep four, else 2.', in: 'query', minimum: 2, maximum: 4 },
    }, "Xero's answer: `{ Invoices: [{ InvoiceID, InvoiceNumber, Status, AmountDue, ... }] }`."),
    list_invoices: {
      summary: 'List invoices, filtered by status, contact or a where expression (e.g. the overdue ones).',
      http: { method: 'GET', path: '/Invoices' },
      fields: {
        statuses: { type: 'array', name: 'Statuses', description: 'Only invoices in these statuses.', in: 'query', separator: ',', items: { type: 'string', description: 'A status.', enum: STATUSES }, example: ['AUTHORISED'] },
        where: {
          type: 'string', in: 'query',
          description: 'A Xero filter expression. Overdue sales invoices: Type=="ACCREC" AND AmountDue>0 AND DueDate<DateTime(2026,11,24) (with statuses AUTHORISED).',
          example: 'Type=="ACCREC" AND AmountDue>0 AND DueDate<DateTime(2026,11,24)',
        },
        contact_ids: { type: 'array', name: 'ContactIDs', description: 'Only the invoices of these contacts.', in: 'query', separator: ',', items: { type: 'string', format: 'uuid', description: 'A ContactID.' } },
        invoice_numbers: { type: 'array', name: 'InvoiceNumbers', description: 'Only these invoice numbers.', in: 'query', separator: ',', items: { type: 'string', description: 'An invoice number.' } },
        order: { type: 'string', description: 'Sort order, e.g. "DueDate ASC".', in: 'query', example: 'DueDate ASC' },
        page: { type: 'integer', description: 'Page number, from 1 (100 invoices a page, or page_size).', in: 'query', minimum: 1 },
        page_size: { type: 'integer', name: 'pageSize', description: 'Invoices per page. Default 100.', in: 'query', minimum: 1, maximum: 1000 },
        include_archived: { type: 'boolean', name: 'includeArchived', description: 'Include archived invoices.', in: 'query' },
        summary_only: { type: 'boolean', name: 'summaryOnly', description: 'Leave out line items and other details, for a faster answer.', in: 'query' },
      },
      pagination: { style: 'page', cursorField: 'page', items: 'Invoices', pageCount: 'pagination.pageCount' },
      output: "Xero's answer: `{ Invoices: [...], pagination: { page, pageCount, itemCount } }`; with paginate: `{ items, count, has_more, next_cursor }` (next_cursor is the next page number).",
    },
    email_invoice: {
      summary: "Email a sales invoice to its contact, with the organisation's invoice email template (AUTHORISED or later).",
      http: { method: 'POST', path: '/Invoices/{InvoiceID}/Email', body: 'json' },
      idempotency: { header: 'Idempotency-Key' },
      fields: {
        invoice_id: { type: 'string', format: 'uuid', name: 'InvoiceID', description: 'The InvoiceID of the invoice to send.', required: true, in: 'path', example: '4c5b8e5b-7c8f-4f6a-9d0e-2b3a1c4d5e6f' },
      },
      output: 'Xero answers 204 with no body: the output is `null`.',
    },
    create_payment: {
      summary: 'Record a payment against an invoice (it becomes PAID when fully paid).',
      http: {
        method: 'PUT', path: '/Payments', body: 'json',
        buildBody: (f) => ({
          Payments: [{
            Invoice: { InvoiceID: f.invoice_id },
            Account: f.account_id !== undefined ? { AccountID: f.account_id } : { Code: f.account_code },
            Amount: f.amount,
            ...(f.date !== undefined ? { Date: f.date } : {}),
            ...(f.reference !== undefined ? { Reference: f.reference } : {}),
          }],
        }),
      },
      idempotency: { header: 'Idempotency-Key' },
      fields: {
        invoice_id: { type: 'string', format: 'uuid', description: 'The InvoiceID being paid.', required: true, example: '4c5b8e5b-7c8f-4f6a-9d0e-2b3a1c4d5e6f' },
        account_code: { type: 'string', description: 'Code of the bank account the money went into (or came from), e.g. 090.', example: '090' },
        account_id: { type: 'string', format: 'uuid', description: 'Or the AccountID of that bank account.' },
        amount: { type: 'number', description: 'Amount paid, in the invoice currency.', required: true, minimum: 0.01, example: 180 },
        date: date('Date of the payment; default today', '2026-11-24'),
        reference: { type: 'string', description: 'A reference for the payment, e.g. the bank transfer ID.', example: 'BT-20261124-01' },
      },
      oneOf: [['account_code', 'account_id']],
      exclusive: [['account_code', 'account_id']],
      output: "Xero's answer: `{ Payments: [{ PaymentID, Amount, Status, Invoice, ... }] }`.",
    },
  },
};

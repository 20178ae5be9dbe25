/**
 * Resend: send an email, send a batch, look one up. Checked against Resend's OpenAPI 3.1.2
 * description (schemas/vendor-specs/resend.json). Sends carry an `Idempotency-Key`
 * header, the same on every retry of a step, so a retried send is not a second email.
 */
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

const addresses = (description: string): FieldSpec => ({
  type: ['string', 'array'], description, format: 'email',
  items: { type: 'string', description: 'An email address.', format: 'email' },
});

/** The fields of one email, shared by send_email and each item of send_batch. */
const email: Readonly<Record<string, FieldSpec>> = {
  from: { type: 'string', description: 'Sender, `address` or `Name <address>`, on a domain verified in Resend.', required: true, example: 'Acme Orders <orders@acme.example>' },
  to: { ...addresses('Recipient address, or a list of up to 50.'), required: true, example: 'jenny@example.com' },
  subject: { type: 'string', description: 'Subject line.', required: true, example: 'Your order has shipped' },
  text: { type: 'string', description: 'Plain-text body.', example: 'Hi Jenny, your order 6735 is on its way.' },
  html: { type: 'string', description: 'HTML body.', example: '<p>Hi Jenny, your order <b>6735</b> is on its way.</p>' },
  cc: addresses('Copy to this address or these addresses.'),
  bcc: addresses('Blind copy to this address or these addresses.'),
  reply_to: addresses('Address, or addresses, replies go to.'),
};

const send = (summary: string, path: string, fields: Record<string, FieldSpec>, output: string, extra: Partial<OperationSpec> = {}): OperationSpec => ({
  summary, fields, output, http: { method: 'POST', path, body: 'json' }, idempotency: { header: 'Idempotency-Key' }, ...extra,
});

export const resendSpec: ConnectorSpec = {
  name: 'resend',
  vendor: 'Resend',
  category: 'email',
  summary: 'Resend: send transactional email, one at a time or in batches.',
  baseUrl: 'https://api.resend.com',
  auth: ['bearer'],
  vendorCheck: { checked: true, file: 'resend.json', format: 'openapi-3.1' },
  errorOf(body, status) {
    if (status < 400) return undefined;
    // { statusCode, name: "validation_error", message }
    const name = clipText(pick(body, 'name'), 60);
    const message = clipText(pick(body, 'message')) ?? `HTTP ${status}`;
    return `Resend: ${name ? `${name}: ` : ''}${message}`;
  },
  operations: {
    send_email: send('Send an email.', '/emails', {
      ...email,
      scheduled_at: { type: 'string', description: 'Send later: an ISO 8601 time or natural language ("in 1 hour").', example: '2026-12-01T09:00:00Z' },
      tags: {
        type: 'array', description: 'Name/value pairs to find the email by in Resend (ASCII letters, digits, _ and -).',
        items: {
          type: 'object', description: 'A tag.',
          properties: {
            name: { type: 'string', description: 'Tag name.', required: true },
            value: { type: 'string', description: 'Tag value.', required: true },
          },
        },
        example: [{ name: 'category', value: 'order_shipped' }],
      },
      headers: { type: 'object', description: 'Extra email headers, name to value.', example: { 'X-Entity-Ref-ID': '6735' } },
    }, "Resend's answer: `{ id }`, the email's ID (for get_email).", { oneOf: [['text', 'html']] }),
    send_batch: send('Send up to 100 emails in one call.', '/emails/batch', {
      emails: {
        type: 'array', required: true, description: 'The emails, each with from, to, subject and a text or html body.',
        items: { type: 'object', description: 'One email.', properties: email },
        example: [
          { from: 'Acme Orders <orders@acme.example>', to: 'jenny@example.com', subject: 'Your order has shipped', text: 'Hi Jenny, order 6735 is on its way.' },
          { from: 'Acme Orders <orders@acme.example>', to: 'sam@example.com', subject: 'Your order has shipped', text: 'Hi Sam, order 6736 is on its way.' },
        ],
      },
    }, "Resend's answer: `{ data: [{ id }, ...] }`, one ID per email, in order.", {
      http: { method: 'POST', path: '/emails/batch', body: 'json', buildBody: (f) => (Array.isArray(f.emails) ? f.emails : []) },
    }),
    get_email: {
      summary: 'Look up a sent email and its last delivery event.',
      http: { method: 'GET', path: '/emails/{email_id}' },
      fields: {
        email_id: { type: 'string', description: 'The ID send_email answered with.', required: true, in: 'path', example: '4ef9a417-02e9-4d39-ad75-9611e0fcc33c' },
      },
      output: "Resend's email object: `{ id, from, to, subject, created_at, last_event, ... }`; `last_event` is delivered, bounced, opened, ...",
    },
  },
};

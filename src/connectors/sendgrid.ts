/**
 * Twilio SendGrid: send an email (Mail Send v3). Checked against SendGrid's OpenAPI 3.1
 * description (schemas/vendor-specs/sendgrid-mail.json). The flat fields a workflow
 * gives (to, from, subject, text, html) are built into SendGrid's personalizations body.
 */
import type { ConnectorSpec, FieldSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

const addresses: FieldSpec = { type: ['string', 'array'], description: 'An email address, or a list of them.', items: { type: 'string', description: 'An email address.', format: 'email' }, format: 'email' };

/** `a@x.com` or `["a@x.com", "b@x.com"]` → `[{ email }]`. */
function emails(value: unknown): { email: string }[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.map((email) => ({ email: String(email) }));
}

export const sendgridSpec: ConnectorSpec = {
  name: 'sendgrid',
  vendor: 'SendGrid',
  category: 'email',
  summary: 'Twilio SendGrid: send transactional email.',
  baseUrl: 'https://api.sendgrid.com',
  auth: ['bearer'],
  vendorCheck: { checked: true, file: 'sendgrid-mail.json', format: 'openapi-3.1' },
  rateLimit: { resetEpochSeconds: 'x-ratelimit-reset' },
  errorOf(body, status) {
    if (status < 400) return undefined;
    const errors = pick(body, 'errors');
    const first = Array.isArray(errors) ? errors[0] : undefined;
    const message = clipText(pick(first, 'message')) ?? `HTTP ${status}`;
    const field = clipText(pick(first, 'field'), 60);
    return `SendGrid: ${message}${field ? ` (${field})` : ''}`;
  },
  operations: {
    send_email: {
      summary: 'Send an email to one or more recipients.',
      http: {
        method: 'POST', path: '/v3/mail/send', body: 'json',
        buildBody(f) {
          const content = [
            ...(f.text !== undefined ? [{ type: 'text/plain', value: String(f.text) }] : []),
            ...(f.html !== undefined ? [{ type: 'text/html', value: String(f.html) }] : []),
          ];
          const personalization = { to: emails(f.to) ?? [], ...(f.cc !== undefined ? { cc: emails(f.cc) } : {}), ...(f.bcc !== undefined ? { bcc: emails(f.bcc) } : {}) };
          return {
            personalizations: [personalization],
            from: { email: String(f.from), ...(f.from_name !== undefined ? { name: String(f.from_name) } : {}) },
            subject: f.subject,
            ...(content.length > 0 ? { content } : {}),
            ...(f.reply_to !== undefined ? { reply_to: { email: String(f.reply_to) } } : {}),
            ...(f.categories !== undefined ? { categories: f.categories } : {}),
          };
        },
      },
      fields: {
        to: { ...addresses, description: 'Recipient address, or a list of them.', required: true, example: 'jenny@example.com' },
        from: { type: 'string', format: 'email', description: 'Sender address (a verified sender in SendGrid).', required: true, example: 'orders@example.com' },
        from_name: { type: 'string', description: "Sender's display name.", example: 'Example Shop' },
        subject: { type: 'string', description: 'Subject line.', required: true, example: 'Your order has shipped' },
        text: { type: 'string', description: 'Plain-text body.', example: 'Hi Jenny, your order is on its way.' },
        html: { type: 'string', description: 'HTML body.' },
        cc: { ...addresses, description: 'Copy to this address or these addresses.' },
        bcc: { ...addresses, description: 'Blind copy to this address or these addresses.' },
        reply_to: { type: 'string', format: 'email', description: 'Address replies go to.' },
        categories: { type: 'array', description: 'Up to 10 category names, for SendGrid statistics.', items: { type: 'string', description: 'A category.' } },
      },
      oneOf: [['text', 'html']],
      output: 'SendGrid answers 202 with no body: the output is `null`.',
    },
  },
};

/**
 * Gmail API v1: send an email, or save it as a draft. Checked against Google's discovery
 * document (schemas/vendor-specs/gmail.json), read through the discovery adapter of the
 * contract test. Gmail takes a whole RFC 2822 message, base64url-encoded, as `raw`: flux builds
 * it from to/cc/bcc/subject/text/html/reply_to (gmail-message.ts), refusing line breaks in
 * any header field. Gmail has no idempotency key: a send retried after a lost answer may send
 * twice. Errors read as "Gmail: <status>: <message>".
 */
import { rawMessage } from './gmail-message.js';
import { googleErrorOf, googleRetryable } from './google-common.js';
import { googleOAuth } from './oauth/providers.js';
import type { ConnectorSpec, FieldSpec } from './spec.js';

const addresses = (description: string, example?: unknown): FieldSpec => ({
  type: ['string', 'array'], format: 'email', description,
  items: { type: 'string', format: 'email', description: 'An email address.' },
  ...(example !== undefined ? { example } : {}),
});

const userId: FieldSpec = { type: 'string', in: 'path', name: 'userId', default: 'me', description: 'Mailbox: `me` (the signed-in user) or, with domain-wide delegation, a user\'s address.' };

const messageFields: Record<string, FieldSpec> = {
  user_id: userId,
  to: { ...addresses('Recipient address, or a list of them.', 'jenny@example.com'), required: true },
  cc: addresses('Copy to this address or these addresses.'),
  bcc: addresses('Blind copy to this address or these addresses (not shown to the others).'),
  from: { type: 'string', format: 'email', description: "Sender: the mailbox's address (the default) or one of its send-as aliases." },
  reply_to: { type: 'string', format: 'email', description: 'Address replies go to.', example: 'support@example.com' },
  subject: { type: 'string', description: 'Subject line (any language: flux encodes it for mail).', required: true, example: 'Your invoice INV-0042' },
  text: { type: 'string', description: 'Plain-text body.', example: 'Hi Jenny,\n\nyour invoice is attached to your account.\n\nThanks!' },
  html: { type: 'string', description: 'HTML body (sent alongside text when both are given).', example: '<p>Hi Jenny,</p><p>your invoice is ready.</p>' },
  thread_id: { type: 'string', description: 'Gmail thread to add the message to (its Subject must match the thread\'s).' },
};

/** The body fields of a message as Gmail's Message: `raw`, and `threadId` when given. */
function message(f: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return { raw: rawMessage(f), ...(f.thread_id !== undefined ? { threadId: f.thread_id } : {}) };
}

export const gmailSpec: ConnectorSpec = {
  name: 'gmail',
  vendor: 'Gmail',
  category: 'email',
  summary: 'Gmail: send email or save drafts from a Google Workspace or Gmail mailbox.',
  baseUrl: 'https://gmail.googleapis.com',
  auth: ['bearer', 'oauth2'],
  oauth: googleOAuth(['gmail.send', 'gmail.compose']),
  vendorCheck: { checked: true, file: 'gmail.json', format: 'google-discovery' },
  errorOf: googleErrorOf('Gmail'),
  retryable: googleRetryable,
  operations: {
    send_email: {
      summary: 'Send an email from the mailbox.',
      http: { method: 'POST', path: '/gmail/v1/users/{userId}/messages/send', body: 'json', buildBody: message },
      fields: messageFields,
      oneOf: [['text', 'html']],
      output: 'The sent message: `id`, `threadId`, `labelIds`.',
    },
    create_draft: {
      summary: 'Save an email as a draft in the mailbox, to be reviewed and sent by a person.',
      http: { method: 'POST', path: '/gmail/v1/users/{userId}/drafts', body: 'json', buildBody: (f) => ({ message: message(f) }) },
      fields: messageFields,
      oneOf: [['text', 'html']],
      output: 'The draft: `id`, and `message` with its `id` and `threadId`.',
    },
  },
};

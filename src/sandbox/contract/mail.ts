/**
 * The email vendors in the sandbox: SendGrid (202 with no body; errors
 * `{ errors: [{ message, field }] }`) and Resend (`{ id }`; errors
 * `{ statusCode, name, message }`; Idempotency-Key replays). Sent mail is kept, so a test can
 * read what went out.
 */
import { find, obj, VendorError, type Json, type VendorCall, type VendorSite } from './site.js';

const STATUS: Record<string, number> = { invalid: 400, unauthorized: 401, not_found: 404, conflict: 409, rate_limited: 429 };

export const sendgridSite: VendorSite = {
  prefix: 'sendgrid',
  origin: 'https://api.sendgrid.com',
  connectors: ['sendgrid'],
  error(e) {
    const message = e.kind === 'unauthorized' ? 'authorization required' : e.message;
    return { status: e.status ?? STATUS[e.kind]!, body: { errors: [{ message, field: e.field ?? null, help: null }] } };
  },
  rateLimitHeaders: (seconds, now) => ({ 'x-ratelimit-limit': '600', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.floor(now / 1000) + seconds) }),
  seed() {},
  handlers: {
    'POST /v3/mail/send'(call) {
      const b = obj(call.body);
      const to = ((b.personalizations as Json[] | undefined) ?? []).flatMap((p) => ((p.to as Json[] | undefined) ?? []).map((t) => t.email));
      call.store.list('mail').push({ id: call.store.id('sg-'), to, from: obj(b.from).email, subject: b.subject, content: b.content });
      return { status: 202, headers: { 'x-message-id': call.store.id('sbxmsg') } };
    },
  },
};

/** An address or a list of them, as the list Resend answers with. */
function list(value: unknown): unknown[] {
  return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
}

function resendEmail(call: VendorCall, b: Json): Json {
  const record = {
    object: 'email', id: call.store.uuid(), to: list(b.to), from: b.from, subject: b.subject, text: b.text ?? null, html: b.html ?? '',
    cc: list(b.cc), bcc: list(b.bcc), reply_to: list(b.reply_to), created_at: new Date(call.store.now()).toISOString(), last_event: b.scheduled_at ? 'scheduled' : 'delivered',
    ...(b.scheduled_at ? { scheduled_at: b.scheduled_at } : {}),
  };
  call.store.list('emails').push(record);
  return record;
}

export const resendSite: VendorSite = {
  prefix: 'resend',
  origin: 'https://api.resend.com',
  connectors: ['resend'],
  error(e) {
    const name = e.code ?? { invalid: 'validation_error', unauthorized: 'missing_api_key', not_found: 'not_found', conflict: 'invalid_idempotent_request', rate_limited: 'rate_limit_exceeded' }[e.kind];
    const status = e.status ?? (e.kind === 'invalid' ? 422 : STATUS[e.kind]!);
    return { status, body: { statusCode: status, name, message: e.message } };
  },
  idempotencyKey: (call) => (call.method === 'POST' ? call.headers['idempotency-key'] : undefined),
  seed(store) {
    store.list('emails').push({ object: 'email', id: '4ef9a417-02e9-4d39-ad75-9611e0fcc33c', to: ['jenny@example.com'], from: 'Acme Orders <orders@acme.example>', subject: 'Your order has shipped', text: 'Hi Jenny', html: '', cc: [], bcc: [], reply_to: [], created_at: '2026-11-24T09:00:00.000Z', last_event: 'delivered' });
  },
  handlers: {
    'POST /emails': (call) => ({ id: resendEmail(call, obj(call.body)).id }),
    'POST /emails/batch'(call) {
      const list = Array.isArray(call.body) ? (call.body as Json[]) : [];
      if (list.length > 100) throw new VendorError('invalid', 'A batch takes at most 100 emails', 'emails');
      return { data: list.map((b) => ({ id: resendEmail(call, b).id })) };
    },
    'GET /emails/{email_id}': (call) => find(call.store.list('emails'), 'id', call.params.email_id, 'email', 'email_id'),
  },
};

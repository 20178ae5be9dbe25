/**
 * Discord in the sandbox: channel messages (created, deduplicated by `nonce` when
 * `enforce_nonce` is set, edited) and webhook posts, which need no bot token. Errors are
 * `{ code, message, errors: { field: { _errors: [{ code, message }] } } }`; a 429 says
 * `retry_after` and sends X-RateLimit-Reset.
 */
import { find, obj, type Json, type VendorCall, type VendorSite } from './site.js';

const STATUS: Record<string, [number, number, string]> = {
  invalid: [400, 50035, 'Invalid Form Body'], unauthorized: [401, 0, '401: Unauthorized'], not_found: [404, 10003, 'Unknown Channel'],
  conflict: [400, 50035, 'Invalid Form Body'], rate_limited: [429, 0, 'You are being rate limited.'],
};

function message(call: VendorCall, channelId: string, b: Json): Json {
  return {
    id: call.store.id('1101234567890200'), type: 0, channel_id: channelId, content: b.content ?? '', embeds: ((b.embeds as Json[] | undefined) ?? []).map((e) => ({ type: 'rich', ...e })), attachments: [], mentions: [], mention_roles: [],
    pinned: false, mention_everyone: false, tts: false, timestamp: new Date(call.store.now()).toISOString(), edited_timestamp: null, flags: 0, components: [],
    author: { id: '1101234567890100000', username: 'flux-sandbox', discriminator: '0000', avatar: null, global_name: null, bot: true, public_flags: 0, flags: 0, primary_guild: null },
    ...(b.nonce !== undefined ? { nonce: b.nonce } : {}),
  };
}

export const discordSite: VendorSite = {
  prefix: 'discord',
  origin: 'https://discord.com',
  connectors: ['discord'],
  public: ['POST /webhooks/{webhook_id}/{webhook_token}'],
  error(e) {
    const [status, code, text] = STATUS[e.kind]!;
    if (e.kind === 'rate_limited') return { status, body: { message: text, retry_after: 1, global: false } };
    const detail = e.kind === 'invalid' ? { errors: { [e.field ?? '_body']: { _errors: [{ code: 'BASE_TYPE_INVALID', message: e.message }] } } } : {};
    return { status: e.status ?? status, body: { code, message: e.kind === 'not_found' ? e.message : text, ...detail } };
  },
  rateLimitHeaders: (seconds, now) => ({ 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': (now / 1000 + seconds).toFixed(3), 'x-ratelimit-reset-after': String(seconds), 'x-ratelimit-scope': 'user' }),
  idempotencyKey(call) {
    const b = obj(call.body);
    return b.enforce_nonce === true && b.nonce !== undefined ? `${String(call.params.channel_id)} ${String(b.nonce)}` : undefined;
  },
  seed(store) {
    store.list('channels').push({ id: '1101234567890123456', name: 'orders' });
    store.list('webhooks').push({ id: '1101234567890120000', channel_id: '1101234567890123456' });
    store.list('messages').push({ id: '1101234567890123999', channel_id: '1101234567890123456', content: 'Order 6735 received', embeds: [] });
  },
  handlers: {
    'POST /channels/{channel_id}/messages'(call) {
      const channel = find(call.store.list('channels'), 'id', call.params.channel_id, 'channel', 'channel_id');
      const record = message(call, String(channel.id), obj(call.body));
      call.store.list('messages').push(record);
      return record;
    },
    'PATCH /channels/{channel_id}/messages/{message_id}'(call) {
      const record = find(call.store.list('messages').filter((m) => m.channel_id === call.params.channel_id), 'id', call.params.message_id, 'message', 'message_id');
      const b = obj(call.body);
      for (const k of ['content', 'embeds']) if (b[k] !== undefined) record[k] = b[k];
      record.edited_timestamp = new Date(call.store.now()).toISOString();
      return { ...message(call, String(record.channel_id), record), id: record.id, edited_timestamp: record.edited_timestamp };
    },
    'POST /webhooks/{webhook_id}/{webhook_token}'(call) {
      const hook = find(call.store.list('webhooks'), 'id', call.params.webhook_id, 'webhook', 'webhook_id');
      const record = message(call, String(hook.channel_id), obj(call.body));
      call.store.list('messages').push(record);
      return call.query.get('wait') === 'true' ? record : { status: 204 };
    },
  },
};

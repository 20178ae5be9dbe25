/**
 * Slack's Web API in the sandbox: channels, users and messages. Slack answers most failures
 * with HTTP 200 and `{ ok: false, error }` (`not_authed`, `invalid_arguments`,
 * `channel_not_found`), 429 with Retry-After when rate limited, and pages lists with
 * `response_metadata.next_cursor`.
 */
import { limitOf, obj, offsetPage, VendorError, type Json, type VendorCall, type VendorSite } from './site.js';

const ERROR_CODES: Record<string, string> = { invalid: 'invalid_arguments', unauthorized: 'not_authed', not_found: 'unknown_method', conflict: 'invalid_arguments', rate_limited: 'ratelimited' };

function channelOf(call: VendorCall, wanted: unknown): Json {
  const name = String(wanted ?? '').replace(/^#/, '');
  const found = call.store.list('channels').find((c) => c.id === name || c.name === name);
  if (!found) throw new VendorError('not_found', `channel ${String(wanted)} not found`, 'channel', 'channel_not_found', 200);
  return found;
}

/** A message as Slack returns it. */
function shown(m: Json, withBlocks = true): Json {
  return { type: 'message', text: m.text, ts: m.ts, bot_id: 'B0SANDBOX', user: 'U0SANDBOX', ...(m.blocks && withBlocks ? { blocks: m.blocks } : {}), ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}) };
}

function blocksOf(value: unknown): unknown {
  if (typeof value !== 'string') return undefined;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    throw new VendorError('invalid', 'blocks is not valid JSON', 'blocks', 'invalid_blocks', 200);
  }
}

export const slackSite: VendorSite = {
  prefix: 'slack',
  origin: 'https://slack.com',
  connectors: ['slack'],
  error(e) {
    const code = e.code ?? ERROR_CODES[e.kind]!;
    const status = e.status ?? (e.kind === 'rate_limited' ? 429 : e.kind === 'not_found' && code === 'unknown_method' ? 404 : 200);
    const messages = e.kind === 'invalid' ? { response_metadata: { messages: e.message.split('; ').map((m) => `[ERROR] ${m}`) } } : {};
    return { status, body: { ok: false, error: code, ...messages } };
  },
  seed(store) {
    // The channels the example workflows post to, and a few more.
    const names = ['general', 'sales', 'sales-ops', 'sales-managers', 'delivery', 'delivery-leads', 'finance', 'support', 'support-ops', 'ops'];
    store.list('channels').push(...names.map((name, i) => ({
      id: i === 0 ? 'C0123456789' : `C0${String(1000000000 + i * 7919)}`, name, is_channel: true, is_private: false, is_archived: false, is_member: true, created: 1700000000 + i, num_members: 3 + i,
    })));
    store.list('users').push(
      { id: 'U0123ABCDEF', name: 'maria', real_name: 'Maria Lopez', profile: { email: 'maria@example.com', real_name: 'Maria Lopez', display_name: 'maria' }, is_bot: false, deleted: false },
      { id: 'U0456GHIJKL', name: 'tom', real_name: 'Tom Becker', profile: { email: 'tom@northwind.example', real_name: 'Tom Becker', display_name: 'tom' }, is_bot: false, deleted: false },
    );
    store.list('messages').push({ channel: 'C0123456789', ts: '1700000000.000100', text: 'Welcome to #general' });
  },
  handlers: {
    'POST /chat.postMessage'(call) {
      const body = obj(call.body);
      const channel = channelOf(call, body.channel);
      if (body.text === undefined && body.blocks === undefined) throw new VendorError('invalid', 'no text or blocks given', 'text', 'no_text', 200);
      const ts = `${Math.floor(call.store.now() / 1000)}.${call.store.id().padStart(6, '0')}`;
      const message = { channel: channel.id, ts, text: body.text ?? '', ...(body.blocks ? { blocks: blocksOf(body.blocks) } : {}), ...(body.thread_ts ? { thread_ts: body.thread_ts } : {}) };
      call.store.list('messages').push(message);
      return { ok: true, channel: channel.id, ts, message: shown(message) };
    },
    'POST /chat.update'(call) {
      const body = obj(call.body);
      const channel = channelOf(call, body.channel);
      const message = call.store.list('messages').find((m) => m.channel === channel.id && m.ts === body.ts);
      if (!message) throw new VendorError('not_found', `no message ${String(body.ts)} in ${String(channel.id)}`, 'ts', 'message_not_found', 200);
      if (body.text !== undefined) message.text = body.text;
      if (body.blocks !== undefined) message.blocks = blocksOf(body.blocks);
      message.edited = true;
      // Slack's description types chat.update's `message.blocks` as an object (its post answer
      // as a list), so the update's echo leaves the blocks out rather than break either.
      return { ok: true, channel: channel.id, ts: message.ts, text: message.text, message: shown(message, false) };
    },
    'GET /users.lookupByEmail'(call) {
      const email = call.query.get('email') ?? '';
      const user = call.store.list('users').find((u) => obj(u.profile).email === email);
      if (!user) throw new VendorError('not_found', `no user with email ${email}`, 'email', 'users_not_found', 200);
      return { ok: true, user };
    },
    'GET /conversations.list'(call) {
      const types = (call.query.get('types') ?? 'public_channel').split(',');
      const excludeArchived = call.query.get('exclude_archived') === 'true';
      const all = call.store.list('channels').filter((c) => types.includes(c.is_private ? 'private_channel' : 'public_channel') && !(excludeArchived && c.is_archived));
      const { page, next } = offsetPage(all, call.query.get('cursor'), limitOf(call.query.get('limit'), 100, 1000));
      return { ok: true, channels: page, response_metadata: { next_cursor: next ?? '' } };
    },
  },
};

/**
 * Discord: post and edit channel messages as a bot, post through a webhook. Checked against
 * Discord's OpenAPI 3.1 description (schemas/vendor-specs/discord.json). Bots send
 * `Authorization: Bot <token>` (an api_key auth); a webhook needs no auth, its token is in
 * the path. A posted message carries a `nonce` with `enforce_nonce`, so a retried step does
 * not post twice. Errors `{ code, message, errors }` become "Discord: <message> (<code>)".
 */
import type { ConnectorSpec, FieldSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

/** Discord's IDs ("snowflakes") are decimal numbers sent as text. */
const SNOWFLAKE = '^(0|[1-9][0-9]*)$';
const id = (description: string, example: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({ type: 'string', description, example, pattern: SNOWFLAKE, ...extra });

const content: FieldSpec = { type: 'string', description: 'Message text (up to 2000 characters), with Discord markdown and mentions (<@user_id>).', example: 'New order 6735 from Acme: 3 items, $120.00' };
const embeds: FieldSpec = {
  type: 'array', description: 'Up to 10 rich embeds: `{ title, description, url, color }`.',
  items: {
    type: 'object', description: 'An embed.',
    properties: {
      title: { type: 'string', description: 'Title (up to 256 characters).' },
      description: { type: 'string', description: 'Text under the title (up to 4096 characters).' },
      url: { type: 'string', format: 'uri', description: 'Link on the title.' },
      color: { type: 'integer', description: 'Colour of the left edge, as a number (0xRRGGBB).', minimum: 0, maximum: 16_777_215 },
    },
  },
  example: [{ title: 'Order 6735', description: '3 items, $120.00', url: 'https://shop.example.com/orders/6735', color: 5_763_719 }],
};
const allowedMentions: FieldSpec = {
  type: 'object', description: 'Which mentions in the text notify anyone: `{ parse: [users, roles, everyone] }`; `{ parse: [] }` notifies no one.',
  properties: {
    parse: { type: 'array', description: 'Mention kinds to notify.', items: { type: 'string', description: 'A mention kind.', enum: ['users', 'roles', 'everyone'] } },
  },
  example: { parse: ['users'] },
};

/** The first detailed error in Discord's nested `errors` tree: "content: Must be 2000 or fewer in length." */
function firstDetail(errors: unknown, path: string[] = [], depth = 0): string | undefined {
  if (errors === null || typeof errors !== 'object' || depth > 8) return undefined;
  const inner = (errors as Record<string, unknown>)._errors;
  if (Array.isArray(inner)) {
    const message = clipText(pick(inner[0], 'message'));
    return message ? `${path.length > 0 ? `${path.join('.')}: ` : ''}${message}` : undefined;
  }
  for (const [key, value] of Object.entries(errors)) {
    const found = firstDetail(value, [...path, key], depth + 1);
    if (found) return found;
  }
  return undefined;
}

export const discordSpec: ConnectorSpec = {
  name: 'discord',
  vendor: 'Discord',
  category: 'chat',
  summary: 'Discord: post and edit messages as a bot, post through a webhook.',
  baseUrl: 'https://discord.com/api/v10',
  auth: ['api_key', 'bearer'],
  apiKey: { header: 'Authorization', prefix: 'Bot ' },
  vendorCheck: { checked: true, file: 'discord.json', format: 'openapi-3.1' },
  rateLimit: { resetEpochSeconds: 'x-ratelimit-reset' },
  errorOf(body, status) {
    if (status < 400) return undefined;
    const message = clipText(pick(body, 'message')) ?? `HTTP ${status}`;
    const code = pick(body, 'code');
    const detail = firstDetail(pick(body, 'errors'));
    return `Discord: ${message}${typeof code === 'number' ? ` (${code})` : ''}${detail ? `: ${detail}` : ''}`;
  },
  operations: {
    create_message: {
      summary: 'Post a message to a channel as the bot.',
      http: {
        method: 'POST', path: '/channels/{channel_id}/messages', body: 'json',
        // The nonce (the step's idempotency key) only deduplicates when enforced.
        buildBody: (f) => {
          const { reply_to, ...rest } = f;
          return { ...rest, ...(reply_to !== undefined ? { message_reference: { message_id: reply_to } } : {}), enforce_nonce: true };
        },
      },
      idempotency: { bodyField: 'nonce', maxLength: 25 },
      fields: {
        channel_id: id('Channel to post in (its numeric ID).', '1101234567890123456', { required: true, in: 'path' }),
        content,
        embeds,
        allowed_mentions: allowedMentions,
        reply_to: id('Reply to this message (its ID) in the same channel.', '1101234567890123999'),
        tts: { type: 'boolean', description: 'Read the message aloud (text-to-speech).' },
      },
      oneOf: [['content', 'embeds']],
      output: "Discord's message object: `{ id, channel_id, content, timestamp, ... }`; `id` is what edit_message takes.",
    },
    edit_message: {
      summary: 'Edit a message the bot posted.',
      http: { method: 'PATCH', path: '/channels/{channel_id}/messages/{message_id}', body: 'json' },
      fields: {
        channel_id: id('Channel of the message.', '1101234567890123456', { required: true, in: 'path' }),
        message_id: id('The message to edit (its ID, from create_message).', '1101234567890123999', { required: true, in: 'path' }),
        content: { ...content, example: 'Order 6735 shipped' },
        embeds,
        allowed_mentions: allowedMentions,
      },
      oneOf: [['content', 'embeds']],
      output: "Discord's message object after the edit: `{ id, content, edited_timestamp, ... }`.",
    },
    execute_webhook: {
      summary: "Post a message through a channel's webhook (no bot needed).",
      http: { method: 'POST', path: '/webhooks/{webhook_id}/{webhook_token}', body: 'json' },
      fields: {
        webhook_id: id('Webhook ID: the number after /webhooks/ in the webhook URL.', '1101234567890120000', { required: true, in: 'path' }),
        webhook_token: { type: 'string', description: 'Webhook token: the last part of the webhook URL. A secret: use ${{ secrets.NAME }}.', required: true, in: 'path', example: '${{ secrets.DISCORD_WEBHOOK_TOKEN }}' },
        wait: { type: 'boolean', description: 'Wait for the message to be posted and return it (false: Discord answers 204, output null).', in: 'query', default: true },
        thread_id: id('Post in this thread of the channel.', '1101234567890124000', { in: 'query' }),
        content,
        username: { type: 'string', description: "Override the webhook's display name (1 to 80 characters).", example: 'Shop alerts' },
        avatar_url: { type: 'string', format: 'uri', description: "Override the webhook's avatar with this image URL." },
        embeds,
        allowed_mentions: allowedMentions,
        tts: { type: 'boolean', description: 'Read the message aloud (text-to-speech).' },
      },
      oneOf: [['content', 'embeds']],
      output: "With wait (the default), Discord's message object `{ id, channel_id, content, ... }`; with wait: false, null.",
    },
  },
};

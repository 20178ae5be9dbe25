/**
 * Slack Web API: post and update messages, find a user by email, list channels. Checked
 * against Slack's Swagger 2.0 description (schemas/vendor-specs/slack-web.json). Slack
 * answers most errors with HTTP 200 and `ok: false`; errorOf turns them into "Slack: <error>".
 */
import type { ConnectorSpec, FieldSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

const channel: FieldSpec = { type: 'string', description: 'Channel ID (C0123456789) or name (#general) to post to.', required: true, example: 'C0123456789' };
const blocks: FieldSpec = {
  type: 'array', description: 'Block Kit blocks (a list of objects), sent as JSON.', encode: 'json',
  items: { type: 'object', description: 'A Block Kit block.' },
  example: [{ type: 'section', text: { type: 'mrkdwn', text: '*New lead*: Acme' } }],
};
const text: FieldSpec = { type: 'string', description: 'Message text (mrkdwn); the notification text when blocks are given.', example: 'New lead: Acme Corp' };

export const slackSpec: ConnectorSpec = {
  name: 'slack',
  vendor: 'Slack',
  category: 'chat',
  summary: 'Slack Web API: post and update messages, find users, list channels.',
  baseUrl: 'https://slack.com/api',
  auth: ['bearer'],
  vendorCheck: { checked: true, file: 'slack-web.json', format: 'swagger-2.0', authParameters: ['token'] },
  errorOf(body, status) {
    if (pick(body, 'ok') === false) {
      const error = clipText(pick(body, 'error')) ?? 'unknown_error';
      const messages = pick(body, 'response_metadata.messages');
      const detail = Array.isArray(messages) ? messages.slice(0, 3).map((m) => clipText(m)).filter(Boolean).join('; ') : undefined;
      return `Slack: ${error}${detail ? ` (${detail})` : ''}`;
    }
    return status >= 400 ? `Slack: HTTP ${status}` : undefined;
  },
  operations: {
    post_message: {
      summary: 'Post a message to a channel (chat.postMessage).',
      http: { method: 'POST', path: '/chat.postMessage', body: 'form' },
      fields: {
        channel,
        text,
        blocks,
        thread_ts: { type: 'string', description: "Reply in the thread of this message's ts.", example: '1700000000.000100' },
        reply_broadcast: { type: 'boolean', description: 'With thread_ts: also show the reply in the channel.' },
        unfurl_links: { type: 'boolean', description: 'Unfurl links to text-based content.' },
        mrkdwn: { type: 'boolean', description: 'Format text as mrkdwn. Default true.' },
        username: { type: 'string', description: "Bot's display name for this message." },
        icon_emoji: { type: 'string', description: 'Emoji to use as the icon, e.g. :robot_face:.' },
      },
      oneOf: [['text', 'blocks']],
      output: "Slack's answer: `{ ok, channel, ts, message }`; `ts` identifies the message (for update_message or thread_ts).",
    },
    update_message: {
      summary: 'Replace the text or blocks of a message (chat.update).',
      http: { method: 'POST', path: '/chat.update', body: 'form' },
      fields: {
        channel: { ...channel, description: 'Channel ID of the message.' },
        ts: { type: 'string', description: 'Timestamp (ts) of the message to update.', required: true, example: '1700000000.000100' },
        text,
        blocks,
      },
      oneOf: [['text', 'blocks']],
      output: "Slack's answer: `{ ok, channel, ts, text, message }`.",
    },
    lookup_user_by_email: {
      summary: 'Find a workspace member by email address (users.lookupByEmail).',
      http: { method: 'GET', path: '/users.lookupByEmail' },
      fields: {
        email: { type: 'string', format: 'email', description: 'Email address of the member.', required: true, in: 'query', example: 'maria@example.com' },
      },
      output: "Slack's answer: `{ ok, user }`; `user.id` is the member ID to mention (<@U123>) or DM.",
    },
    list_channels: {
      summary: 'List channels in the workspace (conversations.list).',
      http: { method: 'GET', path: '/conversations.list' },
      fields: {
        types: { type: 'string', description: 'Comma-separated channel types: public_channel, private_channel, mpim, im.', in: 'query', example: 'public_channel,private_channel' },
        exclude_archived: { type: 'boolean', description: 'Leave out archived channels.', in: 'query', example: true },
        limit: { type: 'integer', description: 'Channels per page.', in: 'query', example: 200, minimum: 1, maximum: 1000 },
        cursor: { type: 'string', description: 'Cursor from a previous page (response_metadata.next_cursor).', in: 'query' },
      },
      pagination: { cursorField: 'cursor', nextCursor: 'response_metadata.next_cursor', items: 'channels' },
      output: "Slack's answer: `{ ok, channels, response_metadata }`; with paginate: `{ items, count, has_more, next_cursor }`.",
    },
  },
};

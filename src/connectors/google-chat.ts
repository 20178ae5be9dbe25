/**
 * Google Chat API v1: post a message to a space, and update it. Checked against Google's
 * discovery document (schemas/vendor-specs/google-chat.json), read through the discovery
 * adapter of the contract test. Spaces and messages are named by resource names
 * (`spaces/AAAA…`, `spaces/AAAA…/messages/BBBB…`) sent with their slashes ({+name} paths).
 * A post carries the step's idempotency key as Chat's `requestId`, so a retry returns the
 * message already posted instead of posting it twice. Errors read as
 * "Google Chat: <status>: <message>".
 */
import { googleErrorOf } from './google-common.js';
import { googleOAuth } from './oauth/providers.js';
import type { ConnectorSpec } from './spec.js';

export const googleChatSpec: ConnectorSpec = {
  name: 'google_chat',
  vendor: 'Google Chat',
  category: 'chat',
  summary: 'Google Chat: post and update messages in spaces.',
  baseUrl: 'https://chat.googleapis.com',
  auth: ['bearer', 'oauth2'],
  oauth: googleOAuth(['chat.messages']),
  vendorCheck: { checked: true, file: 'google-chat.json', format: 'google-discovery' },
  errorOf: googleErrorOf('Google Chat'),
  operations: {
    create_message: {
      summary: 'Post a text message to a space, optionally in a thread.',
      http: {
        method: 'POST', path: '/v1/{+parent}/messages', body: 'json',
        buildBody: (f) => ({ text: f.text, ...(f.thread_key !== undefined ? { thread: { threadKey: f.thread_key } } : {}) }),
      },
      idempotency: { query: 'requestId' },
      fields: {
        space: { type: 'string', in: 'path', name: 'parent', required: true, pattern: '^spaces/[^/]+$', example: 'spaces/AAAAbCdEfGh', description: 'The space, by resource name (spaces/…, from its URL or spaces.list).' },
        text: { type: 'string', required: true, example: 'New order from *Acme*: 3 items, $420', description: 'Message text; *bold*, _italic_, `code` and <users/123> mentions as Chat formats them.' },
        thread_key: { type: 'string', example: 'order-6735', description: 'Your own key for a thread: messages with the same key go to the same thread (with reply_option).' },
        reply_option: {
          type: 'string', in: 'query', name: 'messageReplyOption', enum: ['REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD', 'REPLY_MESSAGE_OR_FAIL'], example: 'REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD',
          description: 'Reply in the thread of thread_key (falling back to a new thread, or failing); without it every message starts a thread.',
        },
        message_id: { type: 'string', in: 'query', name: 'messageId', pattern: '^client-[a-z0-9-]{1,56}$', description: 'Your own ID for the message (client-…), to update it later without keeping Google\'s.' },
      },
      output: 'The message: `name` (spaces/…/messages/…, for update_message), `thread.name`, `createTime`, ...',
    },
    update_message: {
      summary: "Replace a message's text.",
      http: { method: 'PATCH', path: '/v1/{+name}', body: 'json', buildBody: (f) => ({ text: f.text }) },
      fields: {
        message: { type: 'string', in: 'path', name: 'name', required: true, pattern: '^spaces/[^/]+/messages/[^/]+$', example: 'spaces/AAAAbCdEfGh/messages/BBBBcDeFgHi.BBBBcDeFgHi', description: 'The message, by resource name (the `name` create_message returned).' },
        text: { type: 'string', required: true, example: 'Order from *Acme* shipped', description: 'The new text.' },
        update_mask: { type: 'string', in: 'query', name: 'updateMask', enum: ['text'], default: 'text', description: 'What to replace: the text (the one field this operation sets).' },
      },
      output: 'The updated message.',
    },
  },
};

// Resend, Discord and Notion at run time, against a real HTTP server on 127.0.0.1: each
// vendor's error body as one message, its idempotency (Resend's header, Discord's enforced
// nonce) across retries, Discord's bot auth and rate-limit reset header, and Notion's
// Notion-Version header and start_cursor/next_cursor pagination over three pages, Box's
// error body, its fixed query parameters and its marker pagination over three pages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished, HEAD, run } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const connections = (): string => `secrets: [TOKEN, HOOK]
connections:
  mail: { connector: resend, base_url: "${server.url}", auth: { bearer: "\${{ secrets.TOKEN }}" } }
  chat: { connector: discord, base_url: "${server.url}/api/v10", auth: { api_key: { header: Authorization, value: "Bot \${{ secrets.TOKEN }}" } } }
  docs: { connector: notion, base_url: "${server.url}", auth: { bearer: "\${{ secrets.TOKEN }}" } }
  files: { connector: box, base_url: "${server.url}/2.0", auth: { bearer: "\${{ secrets.TOKEN }}" } }
`;
const secrets = { TOKEN: 're_secret_token_0123456789', HOOK: 'hook-secret-abcdef' };

describe('resend at run time', () => {
  it('sends one Idempotency-Key on every retry of a send and gives the email id', async () => {
    const before = server.received.length;
    server.script('POST /emails',
      { status: 500, body: { statusCode: 500, name: 'internal_server_error', message: 'An unexpected error occurred.' } },
      { status: 200, body: { id: '4ef9a417-02e9-4d39-ad75-9611e0fcc33c' } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: send
    uses: mail.send_email
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { from: "Acme <orders@acme.example>", to: [jenny@example.com], subject: Shipped, text: "On its way" }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'send')?.output).toEqual({ id: '4ef9a417-02e9-4d39-ad75-9611e0fcc33c' });
    const sent = server.received.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.headers['idempotency-key']).toBe('RUN1:send');
    expect(sent[1]!.headers['idempotency-key']).toBe(sent[0]!.headers['idempotency-key']);
    expect(sent[0]!.headers.authorization).toBe(`Bearer ${secrets.TOKEN}`);
    expect(JSON.parse(sent[0]!.body)).toEqual({ from: 'Acme <orders@acme.example>', to: ['jenny@example.com'], subject: 'Shipped', text: 'On its way' });
  });

  it('reads its error body into one message, and sends a batch as a list', async () => {
    server.script('POST /emails/batch', { status: 422, body: { statusCode: 422, name: 'validation_error', message: 'The `to` field must be a valid email address.' } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: batch
    uses: mail.send_batch
    with:
      emails:
        - { from: orders@acme.example, to: jenny@example.com, subject: A, text: a }
        - { from: orders@acme.example, to: sam@example.com, subject: B, html: "<p>b</p>" }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'batch')).toMatchObject({ error: { message: 'Resend: validation_error: The `to` field must be a valid email address.' } });
    const body = JSON.parse(server.received.at(-1)!.body) as unknown[];
    expect(body).toHaveLength(2);
    expect(body[1]).toEqual({ from: 'orders@acme.example', to: 'sam@example.com', subject: 'B', html: '<p>b</p>' });
  });
});

describe('discord at run time', () => {
  it('posts as the bot with an enforced nonce, the same on every retry, waiting for the reset header on 429', async () => {
    const before = server.received.length;
    const reset = (Date.now() + 20_000) / 1000;
    server.script('POST /api/v10/channels/1101234567890123456/messages',
      { status: 429, headers: { 'x-ratelimit-reset': reset.toFixed(3), 'x-ratelimit-remaining': '0' }, body: { message: 'You are being rate limited.', retry_after: 20, global: false, code: 0 } },
      { status: 200, body: { id: '1101234567890124444', channel_id: '1101234567890123456', content: 'New order' } });
    const { result, journal, clock } = await run(`${HEAD}${connections()}steps:
  - id: tell
    uses: chat.create_message
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { channel_id: "1101234567890123456", content: New order, reply_to: "1101234567890123999" }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(clock.sleeps[0]).toBeGreaterThan(10_000);
    expect(finished(journal, 'tell')?.output).toMatchObject({ id: '1101234567890124444' });
    const sent = server.received.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.headers.authorization).toBe(`Bot ${secrets.TOKEN}`);
    const bodies = sent.map((r) => JSON.parse(r.body) as { nonce: string });
    expect(bodies[0]).toMatchObject({ content: 'New order', enforce_nonce: true, message_reference: { message_id: '1101234567890123999' } });
    // The harness's key fits Discord's 25 characters; a real run's is digested (vendor-request.test.ts).
    expect(bodies[0]!.nonce).toBe('RUN1:tell');
    expect(bodies[1]!.nonce).toBe(bodies[0]!.nonce);
  });

  it("reads Discord's error body, with its first field error, into one message", async () => {
    server.script('PATCH /api/v10/channels/1/messages/2', {
      status: 400,
      body: { code: 50035, message: 'Invalid Form Body', errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } } },
    });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: edit
    uses: chat.edit_message
    with: { channel_id: "1", message_id: "2", content: too long }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'edit')).toMatchObject({ error: { message: 'Discord: Invalid Form Body (50035): content: Must be 2000 or fewer in length.' } });
  });

  it('posts through a webhook with wait=true, and the token in the path stays out of the log', async () => {
    server.script(`POST /api/v10/webhooks/99/${secrets.HOOK}`, { status: 404, body: { message: 'Unknown Webhook', code: 10015 } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: hook
    uses: chat.execute_webhook
    with: { webhook_id: "99", webhook_token: "\${{ secrets.HOOK }}", content: Hi, username: Shop alerts }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'hook')).toMatchObject({ error: { message: 'Discord: Unknown Webhook (10015)' } });
    expect(server.received.at(-1)!.query).toEqual({ wait: 'true' });
    expect(JSON.stringify(journal.records)).not.toContain(secrets.HOOK);
    expect(JSON.stringify(journal.records)).not.toContain(secrets.TOKEN);
  });
});

describe('notion at run time', () => {
  it('sends Notion-Version and reads { object: error, code, message } into one message', async () => {
    server.script('POST /v1/pages', { status: 400, body: { object: 'error', status: 400, code: 'validation_error', message: 'Title is not a property that exists.' } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: page
    uses: docs.create_page
    with: { database_id: d9824bdc-8445-4327-be8b-5b47500af6ce, properties: { Title: { title: [{ text: { content: Acme } }] } } }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'page')).toMatchObject({ error: { message: 'Notion: validation_error: Title is not a property that exists.' } });
    const sent = server.received.at(-1)!;
    expect(sent.headers['notion-version']).toBe('2025-09-03');
    expect(JSON.parse(sent.body)).toEqual({ parent: { type: 'database_id', database_id: 'd9824bdc-8445-4327-be8b-5b47500af6ce' }, properties: { Title: { title: [{ text: { content: 'Acme' } }] } } });
  });

  it('appends lines as paragraph and bullet blocks', async () => {
    server.script('PATCH /v1/blocks/b1/children', { status: 200, body: { object: 'list', results: [] } });
    const { result } = await run(`${HEAD}${connections()}steps:
  - id: notes
    uses: docs.append_blocks
    with: { block_id: b1, paragraphs: [Called Acme], bullets: [Send quote] }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(JSON.parse(server.received.at(-1)!.body)).toEqual({
      children: [
        { type: 'paragraph', paragraph: { rich_text: [{ type: 'text', text: { content: 'Called Acme' } }] } },
        { type: 'bulleted_list_item', bulleted_list_item: { rich_text: [{ type: 'text', text: { content: 'Send quote' } }] } },
      ],
    });
  });

  describe('paginate: true over three pages of start_cursor/next_cursor', () => {
    const pages = () => server.script('POST /v1/data_sources/ds1/query',
      { status: 200, body: { object: 'list', results: [{ id: 'p1' }, { id: 'p2' }], has_more: true, next_cursor: 'c2' } },
      { status: 200, body: { object: 'list', results: [{ id: 'p3' }, { id: 'p4' }], has_more: true, next_cursor: 'c3' } },
      { status: 200, body: { object: 'list', results: [{ id: 'p5' }], has_more: false, next_cursor: null } });

    it('follows next_cursor to the last page, sending it as start_cursor', async () => {
      pages();
      const before = server.received.length;
      const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: rows
    uses: docs.query_data_source
    with: { data_source_id: ds1, page_size: 2, filter: { property: Status, status: { equals: Open } }, paginate: true }
`, { secrets });
      expect(result.status).toBe('succeeded');
      expect(finished(journal, 'rows')?.output).toEqual({ items: ['p1', 'p2', 'p3', 'p4', 'p5'].map((id) => ({ id })), count: 5, has_more: false, next_cursor: null });
      const bodies = server.received.slice(before).map((r) => JSON.parse(r.body) as Record<string, unknown>);
      expect(bodies.map((b) => b.start_cursor ?? null)).toEqual([null, 'c2', 'c3']);
      expect(bodies[0]).toEqual({ filter: { property: 'Status', status: { equals: 'Open' } }, page_size: 2 });
    });

    it('stops at max_items with the cursor to go on from', async () => {
      pages();
      const before = server.received.length;
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: rows
    uses: docs.query_data_source
    with: { data_source_id: ds1, page_size: 2, paginate: true, max_items: 4 }
`, { secrets });
      expect(finished(journal, 'rows')?.output).toEqual({ items: ['p1', 'p2', 'p3', 'p4'].map((id) => ({ id })), count: 4, has_more: true, next_cursor: 'c3' });
      expect(server.received.length - before).toBe(2);
    });
  });
});

describe('box at run time', () => {
  it("shares a file with fields=shared_link and reads Box's error body into one message", async () => {
    server.script('PUT /2.0/files/404', { status: 404, body: { type: 'error', status: 404, code: 'not_found', message: 'Could not find the specified resource', request_id: 'abc' } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: share
    uses: files.share_file
    with: { file_id: "404", access: open, can_download: false }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'share')).toMatchObject({ error: { message: 'Box: not_found: Could not find the specified resource' } });
    const sent = server.received.at(-1)!;
    expect(sent.query).toEqual({ fields: 'shared_link' });
    expect(JSON.parse(sent.body)).toEqual({ shared_link: { access: 'open', permissions: { can_download: false } } });
  });

  describe('paginate: true over three pages of markers', () => {
    const pages = () => server.script('GET /2.0/folders/0/items',
      { status: 200, body: { entries: [{ id: '1' }, { id: '2' }], limit: 2, next_marker: 'm2' } },
      { status: 200, body: { entries: [{ id: '3' }, { id: '4' }], limit: 2, next_marker: 'm3' } },
      { status: 200, body: { entries: [{ id: '5' }], limit: 2, next_marker: null } });

    it('follows next_marker to the last page, with usemarker on every call', async () => {
      pages();
      const before = server.received.length;
      const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    uses: files.list_folder_items
    with: { folder_id: "0", limit: 2, paginate: true }
`, { secrets });
      expect(result.status).toBe('succeeded');
      expect(finished(journal, 'list')?.output).toEqual({ items: ['1', '2', '3', '4', '5'].map((id) => ({ id })), count: 5, has_more: false, next_cursor: null });
      expect(server.received.slice(before).map((r) => r.query)).toEqual([
        { limit: '2', usemarker: 'true' }, { limit: '2', marker: 'm2', usemarker: 'true' }, { limit: '2', marker: 'm3', usemarker: 'true' },
      ]);
    });

    it('stops at max_items', async () => {
      pages();
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    uses: files.list_folder_items
    with: { folder_id: "0", limit: 2, paginate: true, max_items: 3 }
`, { secrets });
      expect(finished(journal, 'list')?.output).toEqual({ items: [{ id: '1' }, { id: '2' }, { id: '3' }], count: 3, has_more: true, next_cursor: 'm3' });
    });
  });
});

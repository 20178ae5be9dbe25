// Named connectors at run time, against a real HTTP server on 127.0.0.1: vendor error bodies
// as readable failures, Stripe's idempotency header across retries, Retry-After on 429, the
// vendor reset header, and paginate: true over a three-page cursor bounded by max_items.
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

const connections = (): string => `secrets: [TOKEN]
connections:
  chat: { connector: slack, base_url: "${server.url}/api", auth: { bearer: "\${{ secrets.TOKEN }}" } }
  pay: { connector: stripe, base_url: "${server.url}", auth: { bearer: "\${{ secrets.TOKEN }}" } }
  mail: { connector: sendgrid, base_url: "${server.url}", auth: { bearer: "\${{ secrets.TOKEN }}" } }
`;
const secrets = { TOKEN: 'xoxb-secret-token' };

describe('vendor connectors at run time', () => {
  it("turns Slack's ok:false (with HTTP 200) into a failure that says what Slack said", async () => {
    server.script('POST /api/chat.postMessage', { status: 200, body: { ok: false, error: 'channel_not_found' } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: post
    uses: chat.post_message
    with: { channel: C404, text: "hello" }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'post')).toMatchObject({ status: 'failed', error: { message: 'Slack: channel_not_found' } });
    const sent = server.received.at(-1)!;
    expect(sent.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sent.headers.authorization).toBe('Bearer xoxb-secret-token');
    expect(new URLSearchParams(sent.body).get('channel')).toBe('C404');
  });

  it('gives the output of a successful Slack call as the body Slack sent', async () => {
    server.script('POST /api/chat.postMessage', { status: 200, body: { ok: true, channel: 'C1', ts: '1700000000.000100' } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: post
    uses: chat.post_message
    with: { channel: C1, blocks: [{ type: section, text: { type: mrkdwn, text: "*hi*" } }] }
  - id: after
    set: { ts: "\${{ steps.post.output.ts }}" }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'after')?.output).toEqual({ ts: '1700000000.000100' });
    expect(JSON.parse(new URLSearchParams(server.received.at(-1)!.body).get('blocks')!)).toEqual([{ type: 'section', text: { type: 'mrkdwn', text: '*hi*' } }]);
  });

  it("sends Stripe's Idempotency-Key, the same on every retry, and honours Retry-After on 429", async () => {
    const before = server.received.length;
    server.script('POST /v1/refunds',
      { status: 429, headers: { 'retry-after': '7' }, body: { error: { message: 'Too many requests', type: 'rate_limit_error' } } },
      { status: 500, body: { error: { message: 'Something went wrong', type: 'api_error' } } },
      { status: 200, body: { id: 're_1', status: 'succeeded' } });
    const { result, clock } = await run(`${HEAD}${connections()}steps:
  - id: refund
    uses: pay.create_refund
    retry: { attempts: 3, initial: 1s, max: 1m }
    with: { payment_intent: pi_1, amount: 500, metadata: { order: "42" } }
`, { secrets });
    expect(result.status).toBe('succeeded');
    const sent = server.received.slice(before);
    expect(sent).toHaveLength(3);
    const keys = sent.map((r) => r.headers['idempotency-key']);
    expect(keys[0]).toMatch(/refund/);
    expect(new Set(keys).size).toBe(1);
    expect(clock.sleeps[0]).toBe(7000);
    expect(sent[0]!.body).toBe('payment_intent=pi_1&amount=500&metadata%5Border%5D=42');
  });

  it("escapes and bounds the vendor's error text", async () => {
    server.script('POST /api/chat.update', { status: 200, body: { ok: false, error: `\u001b[31mred${'x'.repeat(5000)}` } });
    const { journal } = await run(`${HEAD}${connections()}steps:
  - id: update
    uses: chat.update_message
    with: { channel: C1, ts: "1.2", text: hi }
`, { secrets });
    const message = finished(journal, 'update')?.error?.message ?? '';
    expect(message).toMatch(/^Slack: \\e\[31mredx+…$/);
    expect(message.length).toBeLessThan(260);
  });

  it('reads odd error bodies without failing itself', async () => {
    server.script('POST /api/chat.update',
      { status: 200, body: { ok: false, error: 'invalid_blocks', response_metadata: { messages: '[ERROR] not a list' } } },
      { status: 200, body: { ok: false, error: 'invalid_blocks', response_metadata: { messages: ['[ERROR] a', 7, '[ERROR] b', 'c', 'd'] } } },
      { status: 200, body: { ok: false, error: { nested: true } } },
      { status: 503, raw: '<html>down</html>', headers: { 'content-type': 'text/html' } });
    const messages: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: update
    uses: chat.update_message
    with: { channel: C1, ts: "1.2", text: hi }
`, { secrets });
      messages.push(finished(journal, 'update')?.error?.message ?? '');
    }
    expect(messages).toEqual(['Slack: invalid_blocks', 'Slack: invalid_blocks ([ERROR] a; [ERROR] b)', 'Slack: unknown_error', 'Slack: HTTP 503']);
  });

  it('sends a raw request on a vendor connection with its base URL and auth', async () => {
    server.script('GET /api/team.info', { status: 200, body: { ok: true, team: { id: 'T1' } } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: team
    uses: chat.request
    with: { path: /team.info }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'team')?.output).toMatchObject({ status: 200, body: { ok: true, team: { id: 'T1' } } });
    expect(server.received.at(-1)!.headers.authorization).toBe('Bearer xoxb-secret-token');
  });

  it("reads a Stripe error body into one message", async () => {
    server.script('POST /v1/customers', { status: 400, body: { error: { message: 'Invalid email address: x', code: 'email_invalid', type: 'invalid_request_error' } } });
    const { journal } = await run(`${HEAD}${connections()}steps:
  - id: customer
    uses: pay.create_customer
    with: { email: x }
`, { secrets });
    expect(finished(journal, 'customer')).toMatchObject({ status: 'failed', error: { message: 'Stripe: Invalid email address: x (email_invalid)' } });
  });

  it("waits for SendGrid's rate-limit reset when a 429 has no Retry-After", async () => {
    const reset = Math.floor(Date.now() / 1000) + 30;
    server.script('POST /v3/mail/send', { status: 429, headers: { 'x-ratelimit-reset': String(reset) }, body: { errors: [{ message: 'too many requests' }] } }, { status: 202, raw: '' });
    const { result, clock } = await run(`${HEAD}${connections()}steps:
  - id: send
    uses: mail.send_email
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { to: [a@example.com, b@example.com], from: shop@example.com, subject: Hi, text: Hello }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(clock.sleeps[0]).toBeGreaterThan(20_000);
    expect(JSON.parse(server.received.at(-1)!.body)).toMatchObject({ personalizations: [{ to: [{ email: 'a@example.com' }, { email: 'b@example.com' }] }], from: { email: 'shop@example.com' } });
  });

  describe('paginate: true over a three-page cursor', () => {
    const pages = () => server.script('GET /api/conversations.list',
      { status: 200, body: { ok: true, channels: [{ id: 'C1' }, { id: 'C2' }], response_metadata: { next_cursor: 'page2' } } },
      { status: 200, body: { ok: true, channels: [{ id: 'C3' }, { id: 'C4' }], response_metadata: { next_cursor: 'page3' } } },
      { status: 200, body: { ok: true, channels: [{ id: 'C5' }, { id: 'C6' }], response_metadata: { next_cursor: '' } } });

    it('follows the cursor to the last page', async () => {
      pages();
      const before = server.received.length;
      const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    uses: chat.list_channels
    with: { limit: 2, paginate: true }
`, { secrets });
      expect(result.status).toBe('succeeded');
      expect(finished(journal, 'list')?.output).toEqual({ items: ['C1', 'C2', 'C3', 'C4', 'C5', 'C6'].map((id) => ({ id })), count: 6, has_more: false, next_cursor: null });
      expect(server.received.slice(before).map((r) => r.query.cursor ?? null)).toEqual([null, 'page2', 'page3']);
    });

    it('stops at max_items', async () => {
      pages();
      const before = server.received.length;
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    uses: chat.list_channels
    with: { limit: 2, paginate: true, max_items: 3 }
`, { secrets });
      expect(finished(journal, 'list')?.output).toEqual({ items: [{ id: 'C1' }, { id: 'C2' }, { id: 'C3' }], count: 3, has_more: true, next_cursor: 'page3' });
      expect(server.received.length - before).toBe(2);
    });

    it('says there is more when max_items cuts the last page short', async () => {
      pages();
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    uses: chat.list_channels
    with: { paginate: true, max_items: 5 }
`, { secrets });
      expect(finished(journal, 'list')?.output).toMatchObject({ count: 5, has_more: true, next_cursor: null });
    });

    it('stops after 100 pages of a cursor that never ends', async () => {
      server.script('GET /api/conversations.list', { status: 200, body: { ok: true, channels: [{ id: 'C1' }], response_metadata: { next_cursor: 'again' } } });
      const before = server.received.length;
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    uses: chat.list_channels
    with: { paginate: true }
`, { secrets });
      expect(finished(journal, 'list')?.output).toMatchObject({ count: 100, has_more: true, next_cursor: 'again' });
      expect(server.received.length - before).toBe(100);
    });
  });
});

// The Google connectors at run time, against a real HTTP server on 127.0.0.1: Google's error
// body as one message, pageToken/nextPageToken over three pages bounded by max_items (a failed
// page retried alone), 429
// with Retry-After, 403 rate limits retried (other 403s not), Gmail's raw message as sent, a header injection refused before any
// request leaves, and Chat's resource-name paths and requestId kept across retries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttp } from '../../src/connectors/http.js';
import { googleCalendarSpec } from '../../src/connectors/google-calendar.js';
import { createVendorRuntime } from '../../src/connectors/vendor-runtime.js';
import { Masker } from '../../src/secrets/masker.js';
import { finished, HEAD, run } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const connections = (): string => `secrets: [GOOGLE_TOKEN]
connections:
  cal: { connector: google_calendar, base_url: "${server.url}", auth: { bearer: "\${{ secrets.GOOGLE_TOKEN }}" } }
  mail: { connector: gmail, base_url: "${server.url}", auth: { bearer: "\${{ secrets.GOOGLE_TOKEN }}" } }
  chat: { connector: google_chat, base_url: "${server.url}", auth: { bearer: "\${{ secrets.GOOGLE_TOKEN }}" } }
`;
const secrets = { GOOGLE_TOKEN: 'ya29.secret-access-token' };

describe('Google Calendar', () => {
  it("reads Google's error body into \"Google Calendar: <status>: <message>\"", async () => {
    server.script('GET /calendar/v3/calendars/primary/events/ev404', { status: 404, body: { error: { code: 404, message: 'Not Found', status: 'NOT_FOUND', errors: [{ reason: 'notFound' }] } } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: get
    uses: cal.get_event
    with: { event_id: ev404 }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'get')).toMatchObject({ status: 'failed', error: { message: 'Google Calendar: NOT_FOUND: Not Found' } });
    expect(JSON.stringify(journal.records)).not.toContain('ya29.secret-access-token');
    expect(server.received.at(-1)!.headers.authorization).toBe('Bearer ya29.secret-access-token');
  });

  it('names the reason when the body has no status, and the HTTP status when it is not Google\'s', async () => {
    server.script('PATCH /calendar/v3/calendars/team%40example.com/events/ev1',
      { status: 403, body: { error: { code: 403, message: 'The user must be signed up for Google Calendar.', errors: [{ reason: 'forbidden' }] } } },
      { status: 502, raw: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } });
    const messages: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: patch
    uses: cal.patch_event
    with: { calendar_id: team@example.com, event_id: ev1, summary: Moved }
`, { secrets });
      messages.push(finished(journal, 'patch')?.error?.message ?? '');
    }
    expect(messages).toEqual(['Google Calendar: forbidden: The user must be signed up for Google Calendar.', 'Google Calendar: HTTP 502']);
  });

  it('creates an event with Google\'s start/end objects and attendee list, honouring Retry-After on 429', async () => {
    const before = server.received.length;
    server.script('POST /calendar/v3/calendars/primary/events',
      { status: 429, headers: { 'retry-after': '5' }, body: { error: { code: 429, message: 'Rate Limit Exceeded', status: 'RESOURCE_EXHAUSTED' } } },
      { status: 200, body: { id: 'ev1', status: 'confirmed', htmlLink: 'https://calendar.google.com/event?eid=ev1' } });
    const { result, journal, clock } = await run(`${HEAD}${connections()}steps:
  - id: book
    uses: cal.insert_event
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { summary: Call, start_date: "2026-12-01", end_date: "2026-12-02", attendees: [jenny@example.com], send_updates: none }
  - id: after
    set: { id: "\${{ steps.book.output.id }}" }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(clock.sleeps[0]).toBe(5000);
    expect(finished(journal, 'after')?.output).toEqual({ id: 'ev1' });
    const sent = server.received.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.query).toEqual({ sendUpdates: 'none' });
    expect(JSON.parse(sent[1]!.body)).toEqual({ id: expect.stringMatching(/^[a-v0-9]{52}$/), summary: 'Call', start: { date: '2026-12-01' }, end: { date: '2026-12-02' }, attendees: [{ email: 'jenny@example.com' }] });
    // The event ID derives from the run and step: the retry asks for the same one.
    expect(JSON.parse(sent[0]!.body).id).toBe(JSON.parse(sent[1]!.body).id);
  });

  it('retries a 403 rateLimitExceeded or userRateLimitExceeded like a 429, and not a 403 that refuses access', async () => {
    const rateLimited = (reason: string) => ({ status: 403, body: { error: { code: 403, message: 'Rate Limit Exceeded', errors: [{ domain: 'usageLimits', reason, message: 'Rate Limit Exceeded' }] } } });
    server.script('GET /calendar/v3/calendars/primary/events/ev7',
      rateLimited('rateLimitExceeded'), rateLimited('userRateLimitExceeded'),
      { status: 200, body: { id: 'ev7', status: 'confirmed' } });
    const step = (id: string) => `steps:
  - id: get
    uses: cal.get_event
    retry: { attempts: 3, initial: 2s, max: 1m }
    with: { event_id: ${id} }
`;
    let before = server.received.length;
    const limited = await run(`${HEAD}${connections()}${step('ev7')}`, { secrets });
    expect(limited.result.status).toBe('succeeded');
    expect(finished(limited.journal, 'get')?.output).toEqual({ id: 'ev7', status: 'confirmed' });
    expect(server.received.length - before).toBe(3);
    expect(limited.clock.sleeps).toHaveLength(2);
    server.script('GET /calendar/v3/calendars/primary/events/ev8',
      { status: 403, body: { error: { code: 403, message: 'Forbidden', errors: [{ domain: 'global', reason: 'forbidden', message: 'Forbidden' }] } } });
    before = server.received.length;
    const refused = await run(`${HEAD}${connections()}${step('ev8')}`, { secrets });
    expect(refused.result.status).toBe('failed');
    expect(finished(refused.journal, 'get')?.error).toMatchObject({ message: 'Google Calendar: forbidden: Forbidden' });
    expect(server.received.length - before).toBe(1);
  });

  describe('paginate: true over pageToken/nextPageToken', () => {
    const pages = () => server.script('GET /calendar/v3/calendars/primary/events',
      { status: 200, body: { items: [{ id: 'e1' }, { id: 'e2' }], nextPageToken: 'p2' } },
      { status: 200, body: { items: [{ id: 'e3' }, { id: 'e4' }], nextPageToken: 'p3' } },
      { status: 200, body: { items: [{ id: 'e5' }, { id: 'e6' }] } });

    it('follows the token to the last page', async () => {
      pages();
      const before = server.received.length;
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    uses: cal.list_events
    with: { time_min: "2026-12-01T00:00:00Z", max_results: 2, paginate: true }
`, { secrets });
      expect(finished(journal, 'list')?.output).toEqual({ items: ['e1', 'e2', 'e3', 'e4', 'e5', 'e6'].map((id) => ({ id })), count: 6, has_more: false, next_cursor: null });
      const sent = server.received.slice(before);
      expect(sent.map((r) => r.query.pageToken ?? null)).toEqual([null, 'p2', 'p3']);
      expect(sent[0]!.query).toEqual({ timeMin: '2026-12-01T00:00:00Z', maxResults: '2' });
    });

    it('stops at max_items with the token to go on from', async () => {
      pages();
      const before = server.received.length;
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    uses: cal.list_events
    with: { paginate: true, max_items: 4 }
`, { secrets });
      expect(finished(journal, 'list')?.output).toEqual({ items: ['e1', 'e2', 'e3', 'e4'].map((id) => ({ id })), count: 4, has_more: true, next_cursor: 'p3' });
      expect(server.received.length - before).toBe(2);
    });

    it('retries only the page that failed, keeping the items gathered', async () => {
      server.script('GET /calendar/v3/calendars/primary/events',
        { status: 200, body: { items: [{ id: 'e1' }, { id: 'e2' }], nextPageToken: 'p2' } },
        { status: 200, body: { items: [{ id: 'e3' }, { id: 'e4' }], nextPageToken: 'p3' } },
        { status: 503, body: { error: { code: 503, message: 'Backend Error', errors: [{ reason: 'backendError' }] } } },
        { status: 200, body: { items: [{ id: 'e5' }] } });
      const before = server.received.length;
      const { result, journal, clock } = await run(`${HEAD}${connections()}steps:
  - id: list
    uses: cal.list_events
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { max_results: 2, paginate: true }
`, { secrets });
      expect(result.status).toBe('succeeded');
      expect(clock.sleeps).toHaveLength(1);
      expect(finished(journal, 'list')?.output).toEqual({ items: ['e1', 'e2', 'e3', 'e4', 'e5'].map((id) => ({ id })), count: 5, has_more: false, next_cursor: null });
      expect(server.received.slice(before).map((r) => r.query.pageToken ?? null)).toEqual([null, 'p2', 'p3', 'p3']);
    });

    it('lists from the first page again after a failure that is not worth a retry', async () => {
      server.script('GET /calendar/v3/calendars/primary/events',
        { status: 200, body: { items: [{ id: 'e1' }], nextPageToken: 'p2' } },
        { status: 400, body: { error: { code: 400, message: 'Invalid pageToken', errors: [{ reason: 'badRequest' }] } } },
        { status: 200, body: { items: [{ id: 'e1' }] } });
      // One runtime, called twice with the same step key, as the engine's attempts are.
      const http = await createHttp({ userAgent: 'flux-test' });
      try {
        const runtime = createVendorRuntime(googleCalendarSpec, http);
        const call = { operation: 'list_events', params: { max_results: 1, paginate: true }, connection: { base_url: server.url, auth: { bearer: 'ya29.token' } } };
        const ctx = { signal: new AbortController().signal, idempotencyKey: 'RUN9:list', masker: new Masker(), dryRun: false };
        const before = server.received.length;
        expect(await runtime.call(call, ctx)).toMatchObject({ ok: false, error: { message: 'Google Calendar: badRequest: Invalid pageToken', retryable: false } });
        expect(await runtime.call(call, ctx)).toMatchObject({ ok: true, output: { items: [{ id: 'e1' }], count: 1 } });
        expect(server.received.slice(before).map((r) => r.query.pageToken ?? null)).toEqual([null, 'p2', null]);
      } finally {
        await http.close?.();
      }
    });
  });
});

describe('Gmail', () => {
  it('sends the message as base64url raw to the mailbox of the token', async () => {
    server.script('POST /gmail/v1/users/me/messages/send', { status: 200, body: { id: 'm1', threadId: 't1', labelIds: ['SENT'] } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: send
    uses: mail.send_email
    with: { to: [jenny@example.com, sam@example.com], subject: "Grüße", text: "Hi", thread_id: t1 }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'send')?.output).toEqual({ id: 'm1', threadId: 't1', labelIds: ['SENT'] });
    const body = JSON.parse(server.received.at(-1)!.body) as { raw: string; threadId: string };
    expect(body.threadId).toBe('t1');
    const message = Buffer.from(body.raw, 'base64url').toString('utf8');
    expect(message).toMatch(/^To: jenny@example.com, sam@example.com\r\nSubject: =\?UTF-8\?B\?R3LDvMOfZQ==\?=\r\n/);
  });

  it('saves a draft under message', async () => {
    server.script('POST /gmail/v1/users/ops%40example.com/drafts', { status: 200, body: { id: 'r1', message: { id: 'm2', threadId: 't2' } } });
    const { result } = await run(`${HEAD}${connections()}steps:
  - id: draft
    uses: mail.create_draft
    with: { user_id: ops@example.com, to: jenny@example.com, subject: Quote, html: "<p>Attached</p>" }
`, { secrets });
    expect(result.status).toBe('succeeded');
    const body = JSON.parse(server.received.at(-1)!.body) as { message: { raw: string } };
    expect(Buffer.from(body.message.raw, 'base64url').toString('utf8')).toContain('Content-Type: text/html; charset=UTF-8');
  });

  it('refuses a subject with a line break before sending anything', async () => {
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: send
    uses: mail.send_email
    with: { to: jenny@example.com, subject: "Hi\\r\\nBcc: everyone@example.com", text: "Hi" }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'send')?.error?.message).toBe('Gmail: field `subject` must not contain a line break (it would add headers to the message)');
    expect(server.received.length).toBe(before);
  });

  it("reads Gmail's error body", async () => {
    server.script('POST /gmail/v1/users/me/messages/send', { status: 400, body: { error: { code: 400, message: 'Invalid To header', status: 'INVALID_ARGUMENT' } } });
    const { journal } = await run(`${HEAD}${connections()}steps:
  - id: send
    uses: mail.send_email
    with: { to: jenny@example.com, subject: Hi, text: Hi }
`, { secrets });
    expect(finished(journal, 'send')?.error?.message).toBe('Gmail: INVALID_ARGUMENT: Invalid To header');
  });
});

describe('Google Chat', () => {
  it('posts to the space by its resource name, with the same requestId on every retry', async () => {
    const before = server.received.length;
    server.script('POST /v1/spaces/AAAA1234/messages',
      { status: 503, body: { error: { code: 503, message: 'The service is currently unavailable.', status: 'UNAVAILABLE' } } },
      { status: 200, body: { name: 'spaces/AAAA1234/messages/M1.M1', thread: { name: 'spaces/AAAA1234/threads/T1' } } });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: post
    uses: chat.create_message
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { space: spaces/AAAA1234, text: "Order *42* paid", thread_key: order-42, reply_option: REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD }
  - id: edit
    uses: chat.update_message
    with: { message: "\${{ steps.post.output.name }}", text: "Order *42* shipped" }
`, { secrets });
    expect(result.status).toBe('failed');
    const sent = server.received.slice(before);
    expect(sent.slice(0, 2).map((r) => r.path)).toEqual(['/v1/spaces/AAAA1234/messages', '/v1/spaces/AAAA1234/messages']);
    const ids = sent.slice(0, 2).map((r) => r.query.requestId);
    expect(ids[0]).toMatch(/post/);
    expect(ids[1]).toBe(ids[0]);
    expect(sent[0]!.query.messageReplyOption).toBe('REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD');
    expect(JSON.parse(sent[1]!.body)).toEqual({ text: 'Order *42* paid', thread: { threadKey: 'order-42' } });
    // The update went to the message's own path, slashes as they are (nothing scripted: 404).
    expect(sent[2]).toMatchObject({ method: 'PATCH', path: '/v1/spaces/AAAA1234/messages/M1.M1', query: { updateMask: 'text' } });
    expect(finished(journal, 'edit')?.error?.message).toBe('Google Chat: HTTP 404');
  });

  it('refuses a computed resource name that is not one, without sending', async () => {
    const before = server.received.length;
    const { journal } = await run(`${HEAD}${connections()}steps:
  - id: name
    set: { space: "AAAA1234" }
  - id: post
    uses: chat.create_message
    with: { space: "\${{ steps.name.output.space }}", text: hi }
`, { secrets });
    expect(finished(journal, 'post')?.error?.message).toBe('Google Chat: field `space` must match `^spaces/[^/]+$`, not `AAAA1234`');
    expect(server.received.length).toBe(before);
  });

  it("reads Chat's error body", async () => {
    server.script('PATCH /v1/spaces/S/messages/M', { status: 403, body: { error: { code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' } } });
    const { journal } = await run(`${HEAD}${connections()}steps:
  - id: edit
    uses: chat.update_message
    with: { message: spaces/S/messages/M, text: hi }
`, { secrets });
    expect(finished(journal, 'edit')?.error?.message).toBe('Google Chat: PERMISSION_DENIED: The caller does not have permission');
  });
});

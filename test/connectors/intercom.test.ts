// The Intercom connector at run time, against a real HTTP server on 127.0.0.1: the
// Intercom-Version header on every call, its error.list bodies as one message, its search
// cursor (pagination.starting_after in the body, pages.next.starting_after in the answer)
// over three pages with max_items, and its X-RateLimit-Reset header on a 429.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERCOM_VERSION } from '../../src/connectors/intercom.js';
import type { ConnectorSpec } from '../../src/connectors/spec.js';
import { finished, HEAD, run } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { buildThroughConnector, closeBuilder } from './build.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
  await closeBuilder();
});

const TOKEN = 'dG9rOmludGVyY29tLXNlY3JldA==';
const connections = (): string => `secrets: [TOKEN]
connections:
  crm: { connector: intercom, base_url: "${server.url}", auth: { bearer: "\${{ secrets.TOKEN }}" } }
`;
const secrets = { TOKEN };

describe('intercom at run time', () => {
  it('sends Intercom-Version and the bearer token, and reads an error.list body into one message', async () => {
    server.script('POST /contacts', {
      status: 409,
      body: { type: 'error.list', request_id: '0001', errors: [{ code: 'conflict', message: 'A contact matching those details already exists with id=6762f0dd' }] },
    });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: contact
    uses: crm.create_contact
    with: { email: jenny@example.com, name: Jenny Rosen, custom_attributes: { plan: pro } }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'contact')).toMatchObject({ status: 'failed', error: { message: 'Intercom: conflict: A contact matching those details already exists with id=6762f0dd' } });
    const sent = server.received.at(-1)!;
    expect(sent.headers['intercom-version']).toBe(INTERCOM_VERSION);
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sent.body)).toEqual({ email: 'jenny@example.com', name: 'Jenny Rosen', custom_attributes: { plan: 'pro' } });
    expect(JSON.stringify(journal)).not.toContain(TOKEN);
  });

  it('reads error bodies of other shapes without failing itself', async () => {
    server.script('PUT /tickets/2114',
      { status: 404, body: { type: 'error.list', errors: [{ code: 'ticket_not_found' }] } },
      { status: 400, body: { type: 'error.list', errors: [{ code: 'parameter_invalid', message: `bad\u001b[31m${'x'.repeat(500)}` }] } },
      { status: 502, raw: '<html>bad gateway</html>', headers: { 'content-type': 'text/html' } });
    const messages: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { journal } = await run(`${HEAD}${connections()}steps:
  - id: close
    uses: crm.update_ticket
    with: { ticket_id: "2114", open: false }
`, { secrets });
      messages.push(finished(journal, 'close')?.error?.message ?? '');
    }
    expect(messages[0]).toBe('Intercom: ticket_not_found');
    expect(messages[1]).toMatch(/^Intercom: parameter_invalid: bad\\e\[31mx+…$/);
    expect(messages[1]!.length).toBeLessThan(260);
    expect(messages[2]).toBe('Intercom: HTTP 502');
  });

  it("builds a ticket from one contact and an assignee, and a teammate's reply", async () => {
    server.script('POST /tickets', { status: 200, body: { type: 'ticket', id: '2114', ticket_id: '12' } });
    server.script('POST /tickets/2114/reply', { status: 200, body: { type: 'ticket_part', id: '9' } });
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: ticket
    uses: crm.create_ticket
    with: { ticket_type_id: "1234", contact_email: jenny@example.com, admin_assignee_id: "991267", ticket_attributes: { _default_title_: Refund } }
  - id: reply
    uses: crm.reply_ticket
    with: { ticket_id: "\${{ steps.ticket.output.id }}", admin_id: "991267", body: On it, message_type: note }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'reply')?.output).toEqual({ type: 'ticket_part', id: '9' });
    const [ticket, reply] = server.received.slice(before).map((r) => JSON.parse(r.body) as unknown);
    expect(ticket).toEqual({ ticket_type_id: '1234', ticket_attributes: { _default_title_: 'Refund' }, contacts: [{ email: 'jenny@example.com' }], assignment: { admin_assignee_id: '991267' } });
    expect(reply).toEqual({ admin_id: '991267', body: 'On it', message_type: 'note', type: 'admin' });
  });

  it('waits for X-RateLimit-Reset on a 429 without Retry-After, and resends the same request', async () => {
    const reset = Math.floor(Date.now() / 1000) + 30;
    server.script('POST /companies',
      { status: 429, headers: { 'x-ratelimit-reset': String(reset), 'x-ratelimit-remaining': '0' }, body: { type: 'error.list', errors: [{ code: 'rate_limit_exceeded', message: 'Exceeded rate limit of 10000 in 1_minute' }] } },
      { status: 200, body: { type: 'company', id: '531ee472cce572a6ec000006', company_id: 'acme-42' } });
    const before = server.received.length;
    const { result, clock } = await run(`${HEAD}${connections()}steps:
  - id: company
    uses: crm.create_company
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { company_id: acme-42, name: Acme Corp, size: 25 }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(clock.sleeps[0]).toBeGreaterThan(20_000);
    const sent = server.received.slice(before);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.body).toBe(sent[1]!.body);
    expect(JSON.parse(sent[1]!.body)).toEqual({ company_id: 'acme-42', name: 'Acme Corp', size: 25 });
  });

  describe('paginate: true over a three-page search', () => {
    const pages = () => server.script('POST /contacts/search',
      { status: 200, body: { type: 'list', data: [{ id: 'c1' }, { id: 'c2' }], total_count: 6, pages: { type: 'pages', page: 1, total_pages: 3, next: { per_page: 2, starting_after: 'WzE3MDAwMDAwMDAsImMyIl0=' } } } },
      { status: 200, body: { type: 'list', data: [{ id: 'c3' }, { id: 'c4' }], total_count: 6, pages: { type: 'pages', page: 2, total_pages: 3, next: { per_page: 2, starting_after: 'WzE3MDAwMDAwMDAsImM0Il0=' } } } },
      { status: 200, body: { type: 'list', data: [{ id: 'c5' }, { id: 'c6' }], total_count: 6, pages: { type: 'pages', page: 3, total_pages: 3 } } });
    const step = (extra: string): string => `${HEAD}${connections()}steps:
  - id: find
    uses: crm.search_contacts
    with: { all: [{ field: role, operator: "=", value: user }, { field: custom_attributes.plan, operator: IN, value: [pro, team] }], per_page: 2, paginate: true${extra} }
`;

    it('follows pages.next.starting_after to the last page', async () => {
      pages();
      const before = server.received.length;
      const { result, journal } = await run(step(''), { secrets });
      expect(result.status).toBe('succeeded');
      expect(finished(journal, 'find')?.output).toEqual({ items: ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'].map((id) => ({ id })), count: 6, has_more: false, next_cursor: null });
      const bodies = server.received.slice(before).map((r) => JSON.parse(r.body) as { query: unknown; pagination: unknown });
      expect(bodies.map((b) => b.pagination)).toEqual([
        { per_page: 2 },
        { per_page: 2, starting_after: 'WzE3MDAwMDAwMDAsImMyIl0=' },
        { per_page: 2, starting_after: 'WzE3MDAwMDAwMDAsImM0Il0=' },
      ]);
      expect(bodies[0]!.query).toEqual({ operator: 'AND', value: [{ field: 'role', operator: '=', value: 'user' }, { field: 'custom_attributes.plan', operator: 'IN', value: ['pro', 'team'] }] });
    });

    it('stops at max_items', async () => {
      pages();
      const before = server.received.length;
      const { journal } = await run(step(', max_items: 3'), { secrets });
      expect(finished(journal, 'find')?.output).toEqual({ items: [{ id: 'c1' }, { id: 'c2' }, { id: 'c3' }], count: 3, has_more: true, next_cursor: 'WzE3MDAwMDAwMDAsImM0Il0=' });
      expect(server.received.length - before).toBe(2);
    });
  });
});

describe('connector-wide headers', () => {
  const spec: ConnectorSpec = {
    name: 'versioned', summary: 'A vendor that wants a version header.', baseUrl: 'https://api.example.com',
    headers: { 'X-Api-Version': '7' },
    operations: {
      plain: { summary: 'No header field.', http: { method: 'GET', path: '/a' }, fields: {}, output: 'The body.' },
      pinned: {
        summary: 'Its own version.', http: { method: 'GET', path: '/b' }, output: 'The body.',
        fields: { version: { type: 'string', description: 'API version.', in: 'header', name: 'x-api-version', default: '8' } },
      },
    },
  };

  it("go on every call, below an operation's own header field", async () => {
    expect((await buildThroughConnector(spec, 'plain', {})).headers['x-api-version']).toBe('7');
    expect((await buildThroughConnector(spec, 'pinned', {})).headers['x-api-version']).toBe('8');
  });
});

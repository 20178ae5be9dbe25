// The HubSpot connector at run time, against a real HTTP server on 127.0.0.1: records built
// as HubSpot's `{ properties }` (with a deal's associations), its error body as one message,
// and its search cursor (`after` in the body, `paging.next.after` in the answer) over three
// pages with max_items. HubSpot is not checked against a vendor description (see the spec).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hubspotSpec } from '../../src/connectors/hubspot.js';
import { finished, HEAD, run } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const TOKEN = 'pat-na1-00000000-secret';
const connections = (): string => `secrets: [TOKEN]
connections:
  crm: { connector: hubspot, base_url: "${server.url}", auth: { bearer: "\${{ secrets.TOKEN }}" } }
`;
const secrets = { TOKEN };

describe('hubspot at run time', () => {
  it('says why it is not checked against a vendor description', () => {
    expect(hubspotSpec.vendorCheck).toMatchObject({ checked: false, reason: expect.stringMatching(/proprietary licence/) });
  });

  it('sends a contact as properties, and reads a HubSpot error body into one message', async () => {
    server.script('POST /crm/v3/objects/contacts', {
      status: 409,
      body: { status: 'error', message: 'Contact already exists. Existing ID: 151', correlationId: 'aeb5f871-7f07-4993-9211-075dc63e7cbf', category: 'CONFLICT' },
    });
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: contact
    uses: crm.create_contact
    with: { email: jenny@example.com, firstname: Jenny, lifecyclestage: lead, other_properties: { hs_lead_status: NEW } }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'contact')).toMatchObject({ status: 'failed', error: { message: 'HubSpot: CONFLICT: Contact already exists. Existing ID: 151' } });
    const sent = server.received.at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(sent.body)).toEqual({ properties: { hs_lead_status: 'NEW', email: 'jenny@example.com', firstname: 'Jenny', lifecyclestage: 'lead' } });
    expect(JSON.stringify(journal)).not.toContain(TOKEN);
  });

  it('creates a deal associated with a contact, and updates it by id', async () => {
    server.script('POST /crm/v3/objects/deals', { status: 201, body: { id: '98210', properties: { dealname: 'Acme' } } });
    server.script('PATCH /crm/v3/objects/deals/98210', { status: 200, body: { id: '98210', properties: { dealstage: 'closedwon' } } });
    server.script('PATCH /crm/v3/objects/deals/9', { status: 502, raw: 'bad gateway', headers: { 'content-type': 'text/plain' } });
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: deal
    uses: crm.create_deal
    with: { dealname: Acme, amount: 4500, dealstage: appointmentscheduled, contact_ids: ["151"] }
  - id: won
    uses: crm.update_deal
    with: { deal_id: "\${{ steps.deal.output.id }}", dealstage: closedwon }
  - id: broken
    uses: crm.update_deal
    with: { deal_id: "9", amount: "1" }
`, { secrets });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'won')?.output).toEqual({ id: '98210', properties: { dealstage: 'closedwon' } });
    expect(finished(journal, 'broken')?.error?.message).toBe('HubSpot: HTTP 502');
    const [deal, won] = server.received.slice(before).map((r) => JSON.parse(r.body) as unknown);
    expect(deal).toEqual({
      properties: { dealname: 'Acme', amount: 4500, dealstage: 'appointmentscheduled' },
      associations: [{ to: { id: '151' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }] }],
    });
    expect(won).toEqual({ properties: { dealstage: 'closedwon' } });
  });

  describe('paginate: true over a three-page search', () => {
    const pages = () => server.script('POST /crm/v3/objects/deals/search',
      { status: 200, body: { total: 6, results: [{ id: 'd1' }, { id: 'd2' }], paging: { next: { after: '2', link: '?after=2' } } } },
      { status: 200, body: { total: 6, results: [{ id: 'd3' }, { id: 'd4' }], paging: { next: { after: '4', link: '?after=4' } } } },
      { status: 200, body: { total: 6, results: [{ id: 'd5' }, { id: 'd6' }] } });
    const step = (extra: string): string => `${HEAD}${connections()}steps:
  - id: find
    uses: crm.search_deals
    with: { filters: [{ propertyName: dealstage, operator: EQ, value: closedwon }], return_properties: [dealname, amount], limit: 2, paginate: true${extra} }
`;

    it('follows paging.next.after to the last page', async () => {
      pages();
      const before = server.received.length;
      const { result, journal } = await run(step(''), { secrets });
      expect(result.status).toBe('succeeded');
      expect(finished(journal, 'find')?.output).toEqual({ items: ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'].map((id) => ({ id })), count: 6, has_more: false, next_cursor: null });
      const bodies = server.received.slice(before).map((r) => JSON.parse(r.body) as Record<string, unknown>);
      expect(bodies.map((b) => b.after ?? null)).toEqual([null, '2', '4']);
      expect(bodies[0]).toEqual({ limit: 2, properties: ['dealname', 'amount'], filterGroups: [{ filters: [{ propertyName: 'dealstage', operator: 'EQ', value: 'closedwon' }] }] });
    });

    it('stops at max_items', async () => {
      pages();
      const before = server.received.length;
      const { journal } = await run(step(', max_items: 3'), { secrets });
      expect(finished(journal, 'find')?.output).toEqual({ items: [{ id: 'd1' }, { id: 'd2' }, { id: 'd3' }], count: 3, has_more: true, next_cursor: '4' });
      expect(server.received.length - before).toBe(2);
    });
  });
});

// HubSpot in the contract sandbox, played from HubSpot's documentation (its API descriptions are
// not openly licensed, so nothing checks these requests against one): every operation's spec
// example runs through the real connector runtime and gets HubSpot's record or search shape;
// records round-trip through create, search and update; HubSpot's errors (400 with errors[],
// 401, 404, 409 CONFLICT) come back as one readable message from the connector's errorOf;
// search pages with `after` over three pages with `paginate: true`.
import { spawn } from 'node:child_process';
import { beforeEach, describe, expect, it } from 'vitest';
import { hubspotSpec } from '../../src/connectors/hubspot.js';
import { exampleParams } from '../connectors/arbitraries.js';
import { BIN } from '../helpers.js';
import { sandboxPerBlock, sandboxPerTest } from './helpers.js';

type Json = Record<string, unknown>;
const output = (o: { output: unknown }) => o.output as Json;

/** HubSpot's record: `{ id, properties, createdAt, updatedAt, archived }`, every property value a string or null. */
function expectRecord(value: unknown): void {
  expect(value).toEqual({ id: expect.stringMatching(/^\d+$/), properties: expect.any(Object), createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/), updatedAt: expect.stringMatching(/Z$/), archived: false });
  for (const v of Object.values((value as Json).properties as Json)) expect(v === null || typeof v === 'string').toBe(true);
}

describe("every hubspot operation's spec example, through the connector runtime", () => {
  const ctx = sandboxPerBlock();
  // In the spec's order, on one sandbox: the contact created first is the one searched for.
  for (const [name, op] of Object.entries(hubspotSpec.operations)) {
    it(`${name} succeeds with HubSpot's answer`, async () => {
      const outcome = await ctx.vendors.call('hubspot', name, exampleParams(op));
      expect(outcome.error?.message, JSON.stringify(outcome.output)).toBeUndefined();
      expect(outcome.ok).toBe(true);
      const served = ctx.sandbox.state.requests.at(-1)!;
      expect(served).toMatchObject({ vendor: 'hubspot', operation: op.http!.path, method: op.http!.method });
      if (op.http!.path.endsWith('/search')) {
        const o = output(outcome);
        expect(o).toMatchObject({ total: expect.any(Number), results: expect.any(Array) });
        expect(o.total).toBeGreaterThanOrEqual(1);
        for (const r of o.results as unknown[]) expectRecord(r);
      } else {
        expect(outcome.status).toBe(op.http!.method === 'POST' ? 201 : 200);
        expectRecord(outcome.output);
      }
    });
  }
});

describe('hubspot in the sandbox', () => {
  let clock = 0;
  beforeEach(() => {
    clock = Date.parse('2026-11-24T09:00:00Z');
  });
  const ctx = sandboxPerTest({ now: () => clock });
  const post = async (path: string, body: unknown, headers: Record<string, string> = { authorization: 'Bearer sandbox-token-0123' }) => {
    const res = await fetch(`${ctx.sandbox.url}/hubspot${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Json };
  };

  it('a contact is created, found by search and updated', async () => {
    const created = await ctx.vendors.call('hubspot', 'create_contact', { email: 'Ada.Byron@example.com', firstname: 'Ada', lastname: 'Byron', lifecyclestage: 'lead' });
    expect(created.status).toBe(201);
    const id = output(created).id as string;
    expect(output(created)).toMatchObject({ createdAt: '2026-11-24T09:00:00.000Z', properties: { email: 'Ada.Byron@example.com', firstname: 'Ada', hs_object_id: id } });

    const byEmail = output(await ctx.vendors.call('hubspot', 'search_contacts', { filters: [{ propertyName: 'email', operator: 'EQ', value: 'ada.byron@example.com' }], return_properties: ['email', 'lifecyclestage', 'phone'] }));
    expect(byEmail).toMatchObject({ total: 1, results: [{ id, properties: { email: 'Ada.Byron@example.com', lifecyclestage: 'lead', phone: null } }] });
    expect(byEmail.paging).toBeUndefined();
    const byToken = output(await ctx.vendors.call('hubspot', 'search_contacts', { filters: [{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: 'byron' }] }));
    expect((byToken.results as Json[]).map((r) => r.id)).toEqual([id]);
    const none = output(await ctx.vendors.call('hubspot', 'search_contacts', { filters: [{ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: 'byr' }] }));
    expect(none).toMatchObject({ total: 0, results: [] });
    const either = output(await ctx.vendors.call('hubspot', 'search_contacts', { filter_groups: [{ filters: [{ propertyName: 'firstname', operator: 'EQ', value: 'Ada' }] }, { filters: [{ propertyName: 'lastname', operator: 'EQ', value: 'Lee' }] }], sorts: [{ propertyName: 'firstname', direction: 'DESCENDING' }] }));
    expect((either.results as Json[]).map((r) => (r.properties as Json).firstname)).toEqual(['Sam', 'Ada']);

    clock += 60_000;
    const updated = await ctx.vendors.call('hubspot', 'update_contact', { contact_id: id, lifecyclestage: 'customer' });
    expect(updated.status).toBe(200);
    expect(output(updated)).toMatchObject({ id, updatedAt: '2026-11-24T09:01:00.000Z', properties: { lifecyclestage: 'customer', firstname: 'Ada', lastmodifieddate: '2026-11-24T09:01:00.000Z' } });
    const after = output(await ctx.vendors.call('hubspot', 'search_contacts', { filters: [{ propertyName: 'lifecyclestage', operator: 'EQ', value: 'customer' }] }));
    expect((after.results as Json[]).map((r) => r.id)).toEqual([id]);
    // Named by a unique property instead of the id (HubSpot's idProperty).
    const byProperty = await ctx.vendors.call('hubspot', 'update_contact', { contact_id: 'ada.byron@example.com', id_property: 'email', jobtitle: 'Analyst' });
    expect(output(byProperty)).toMatchObject({ id, properties: { jobtitle: 'Analyst' } });
  });

  it('a deal is created with its contact, found by stage and moved to another', async () => {
    const created = await ctx.vendors.call('hubspot', 'create_deal', { dealname: 'Globex: 10 seats', amount: 900, dealstage: 'qualifiedtobuy', contact_ids: ['151'] });
    expect(created.status).toBe(201);
    const id = output(created).id as string;
    expect(output(created)).toMatchObject({ properties: { dealname: 'Globex: 10 seats', amount: '900', pipeline: 'default' } });
    expect(ctx.sandbox.state.vendors.hubspot!.deals!.find((d) => d.id === id)).toMatchObject({ associations: [{ to: '151', associationTypeId: 3 }] });
    const found = output(await ctx.vendors.call('hubspot', 'search_deals', { filters: [{ propertyName: 'amount', operator: 'GT', value: 500 }, { propertyName: 'dealstage', operator: 'IN', values: ['qualifiedtobuy', 'closedwon'] }] }));
    expect((found.results as Json[]).map((r) => r.id)).toEqual([id]);
    await ctx.vendors.call('hubspot', 'update_deal', { deal_id: id, dealstage: 'closedwon' });
    const won = output(await ctx.vendors.call('hubspot', 'search_deals', { filters: [{ propertyName: 'dealstage', operator: 'EQ', value: 'closedwon' }] }));
    expect((won.results as Json[]).map((r) => r.id)).toEqual([id]);
  });

  it('a second contact with an existing email is the 409 CONFLICT, one readable message in flux', async () => {
    const first = output(await ctx.vendors.call('hubspot', 'create_contact', { email: 'jo@example.com' }));
    const again = await ctx.vendors.call('hubspot', 'create_contact', { email: 'JO@example.com', firstname: 'Jo' });
    expect(again.ok).toBe(false);
    expect(again.status).toBe(409);
    expect(output(again)).toMatchObject({ status: 'error', category: 'CONFLICT', message: `Contact already exists. Existing ID: ${String(first.id)}`, correlationId: expect.any(String) });
    expect(again.error?.message).toBe(`HubSpot: CONFLICT: Contact already exists. Existing ID: ${String(first.id)}`);
    expect(ctx.sandbox.state.vendors.hubspot!.contacts).toHaveLength(2);
  });

  it('no bearer token is the 401, an unknown id the 404', async () => {
    const anonymous = await ctx.vendors.call('hubspot', 'search_deals', {}, { auth: false });
    expect(anonymous.status).toBe(401);
    expect(output(anonymous)).toMatchObject({ status: 'error', category: 'INVALID_AUTHENTICATION' });
    expect(anonymous.error?.message).toMatch(/^HubSpot: INVALID_AUTHENTICATION: No valid credentials were sent/);

    const missing = await ctx.vendors.call('hubspot', 'update_deal', { deal_id: '4242', amount: 1 });
    expect(missing.status).toBe(404);
    expect(missing.error?.message).toBe('HubSpot: OBJECT_NOT_FOUND: Object not found: no deal with ID 4242');
    expect((await post('/crm/v3/objects/tasks', {})).status).toBe(404);
  });

  it('what HubSpot refuses is a 400 VALIDATION_ERROR listing each problem under errors', async () => {
    const noName = await post('/crm/v3/objects/deals', { properties: { amount: '5', dealstage: 'closedwon' } });
    expect(noName.status).toBe(400);
    expect(noName.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR', message: expect.stringMatching(/^Property values were not valid: /), errors: [{ in: 'dealname', code: 'REQUIRED', message: 'Property "dealname" is required' }] });

    const bad = await post('/crm/v3/objects/contacts', { properties: { email: 'not-an-address', lifecyclestage: 'prospect', tags: ['x'] } });
    expect(bad.status).toBe(400);
    expect((bad.body.errors as Json[]).map((e) => `${String(e.in)} ${String(e.code)}`)).toEqual(['tags INVALID_TYPE', 'email INVALID_EMAIL', 'lifecyclestage INVALID_OPTION']);
    expect(ctx.sandbox.state.vendors.hubspot!.contacts).toHaveLength(1);

    expect((await post('/crm/v3/objects/contacts', '{not json')).body).toMatchObject({ category: 'VALIDATION_ERROR', errors: [{ code: 'INVALID_JSON' }] });
    expect((await post('/crm/v3/objects/deals/search', { filterGroups: [{ filters: [{ propertyName: 'dealstage', operator: 'LIKE', value: 'x' }] }] })).body).toMatchObject({ errors: [{ in: 'filterGroups[0].filters[0].operator' }] });
    expect((await post('/crm/v3/objects/deals/search', { limit: 201 })).status).toBe(400);
    expect((await post('/crm/v3/objects/deals/search', { after: 'abc' })).status).toBe(400);

    // Through the connector: a request its spec allows and HubSpot refuses, as one message.
    const groups = Array.from({ length: 6 }, () => ({ filters: [{ propertyName: 'dealname', operator: 'HAS_PROPERTY' }] }));
    const tooMany = await ctx.vendors.call('hubspot', 'search_deals', { filter_groups: groups });
    expect(tooMany.status).toBe(400);
    expect(tooMany.error?.message).toBe('HubSpot: VALIDATION_ERROR: Up to 5 filterGroups are allowed, got 6');
  });

  it('paginate: true follows paging.next.after over three pages', async () => {
    for (const name of ['Initech: pilot', 'Umbrella: renewal']) await ctx.vendors.call('hubspot', 'create_deal', { dealname: name, dealstage: 'appointmentscheduled' });
    const o = output(await ctx.vendors.call('hubspot', 'search_deals', { filters: [{ propertyName: 'dealstage', operator: 'EQ', value: 'appointmentscheduled' }], sorts: ['dealname'], limit: 1, paginate: true }));
    expect(o).toMatchObject({ count: 3, has_more: false });
    expect((o.items as Json[]).map((r) => (r.properties as Json).dealname)).toEqual(['Initech: pilot', 'Northwind: renewal', 'Umbrella: renewal']);
    expect(ctx.sandbox.state.requests.filter((r) => r.operation === '/crm/v3/objects/deals/search' && r.status === 200)).toHaveLength(3);
    const first = output(await ctx.vendors.call('hubspot', 'search_deals', { limit: 2 }));
    expect(first).toMatchObject({ total: 3, paging: { next: { after: '2' } } });
    expect(output(await ctx.vendors.call('hubspot', 'search_deals', { limit: 2, after: '2' }))).toMatchObject({ total: 3, results: [expect.any(Object)] });
  });

  it("a queued 429 carries HubSpot's rate-limit headers; its token endpoint issues tokens the prefix takes", async () => {
    await fetch(`${ctx.sandbox.url}/_sandbox/fail`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ vendor: 'hubspot', status: 429, count: 1, retry_after: 2 }) });
    const limited = await post('/crm/v3/objects/deals/search', {});
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
    expect(limited.body).toMatchObject({ status: 'error', category: 'RATE_LIMITS', errorType: 'RATE_LIMIT' });

    const res = await fetch(`${ctx.sandbox.url}/hubspot/oauth/v1/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'r1', client_id: 'id', client_secret: 'secret' }).toString() });
    expect(res.status).toBe(200);
    const token = ((await res.json()) as Json).access_token as string;
    expect((await post('/crm/v3/objects/deals/search', {}, { authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await post('/crm/v3/objects/deals/search', {}, { authorization: 'Bearer sbx_at_forged' })).status).toBe(401);
  });
});

it('`flux sandbox` prints HUBSPOT_URL, and a contact can be created at it', async () => {
  const child = spawn(process.execPath, [BIN, 'sandbox', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    let out = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const found = /^ {2}HUBSPOT_URL=(\S+)$/m.exec(out);
        if (found && out.includes('state: ')) resolve(found[1]!);
      });
      child.once('exit', (code) => reject(new Error(`flux sandbox exited ${String(code)} before printing HUBSPOT_URL: ${out}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/hubspot$/);
    const res = await fetch(`${url}/crm/v3/objects/contacts`, { method: 'POST', headers: { authorization: 'Bearer t0k3n', 'content-type': 'application/json' }, body: JSON.stringify({ properties: { email: 'cli@example.com' } }) });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ properties: { email: 'cli@example.com' } });
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
});

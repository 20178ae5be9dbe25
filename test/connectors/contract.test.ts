// Every operation of every connector checked against a vendor description builds requests
// that the description accepts: from the spec's examples, and from generated field values.
// A deliberately drifted connector must fail the same check, so the check can fail.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { connectorSpecs } from '../../src/connectors/index.js';
import { intercomSpec } from '../../src/connectors/intercom.js';
import type { ConnectorSpec, OperationSpec } from '../../src/connectors/spec.js';
import { boxSpec } from '../../src/connectors/box.js';
import { discordSpec } from '../../src/connectors/discord.js';
import { notionSpec } from '../../src/connectors/notion.js';
import { resendSpec } from '../../src/connectors/resend.js';
import { googleCalendarSpec } from '../../src/connectors/google-calendar.js';
import { slackSpec } from '../../src/connectors/slack.js';
import { squareSpec } from '../../src/connectors/square.js';
import { stripeInvoicingSpec } from '../../src/connectors/stripe-invoicing.js';
import { stripeSpec } from '../../src/connectors/stripe.js';
import { xeroSpec } from '../../src/connectors/xero.js';
import { exampleParams, paramsArbitrary } from './arbitraries.js';
import { buildThroughConnector, closeBuilder } from './build.js';
import { checkRequest, decodeForm, loadDescription } from '../../src/connectors/contract/check.js';

afterAll(closeBuilder);

const checked = Object.values(connectorSpecs).filter((c) => c.vendorCheck?.checked === true);

function contractOf(spec: ConnectorSpec): Extract<ConnectorSpec['vendorCheck'], { checked: true }> {
  if (spec.vendorCheck?.checked !== true) throw new Error(`${spec.name} is not checked`);
  return spec.vendorCheck;
}

/** The problems of a request, less those the connector's errata name for its operation (the description's known mistakes). */
function unlessErrata(spec: ConnectorSpec, op: OperationSpec, found: string[]): string[] {
  const errata = contractOf(spec).errata?.[`${op.http!.method} ${op.http!.path}`] ?? [];
  return found.filter((p) => !errata.includes(p));
}

async function problems(spec: ConnectorSpec, operation: string, params: Record<string, unknown>): Promise<string[]> {
  const check = spec.vendorCheck;
  if (check?.checked !== true) throw new Error(`${spec.name} is not checked`);
  return checkRequest(loadDescription(check), await buildThroughConnector(spec, operation, params));
}

describe('connectors match their vendor descriptions', () => {
  it('covers the connectors of this increment', () => {
    expect(checked.map((c) => c.name).sort()).toEqual(['box', 'discord', 'gmail', 'google_calendar', 'google_chat', 'google_drive', 'intercom', 'notion', 'paypal_invoicing', 'resend', 'sendgrid', 'slack', 'square', 'stripe', 'stripe_invoicing', 'xero']);
  });
  for (const spec of checked) {
    const check = spec.vendorCheck as Extract<ConnectorSpec['vendorCheck'], { checked: true }>;
    const description = loadDescription(check);
    describe(spec.name, () => {
      for (const [name, op] of Object.entries(spec.operations)) {
        it(`${name}: the spec's example request`, async () => {
          const request = await buildThroughConnector(spec, name, exampleParams(op));
          expect(unlessErrata(spec, op, checkRequest(description, request))).toEqual([]);
        });
        it(`${name}: generated requests`, async () => {
          await fc.assert(fc.asyncProperty(paramsArbitrary(op), async (params) => {
            const request = await buildThroughConnector(spec, name, params);
            const found = unlessErrata(spec, op, checkRequest(description, request));
            if (found.length > 0) throw new Error(`${JSON.stringify(params)} → ${request.method} ${request.url} ${request.body ?? ''}: ${found.join('; ')}`);
          }), { numRuns: 60, seed: 424242 });
        });
      }
    });
  }
});

describe('errata: where a description is known to be wrong', () => {
  it('each erratum is still a problem the description reports, and nothing else is excused', async () => {
    // Intercom's description types add_note's contact_id as an integer; a real (hex) ID breaks exactly that.
    expect(await problems(intercomSpec, 'add_note', { contact_id: '6762f0dd1bb69f9f2193bb83', body: 'hi' })).toEqual(['path parameter `contact_id` must be integer']);
    expect(unlessErrata(intercomSpec, intercomSpec.operations.add_note!, ['path parameter `contact_id` must be integer'])).toEqual([]);
    expect(unlessErrata(intercomSpec, intercomSpec.operations.add_note!, ["body must have required property 'body'"])).toEqual(["body must have required property 'body'"]);
    expect(unlessErrata(intercomSpec, intercomSpec.operations.update_contact!, ['path parameter `contact_id` must be integer'])).toEqual(['path parameter `contact_id` must be integer']);
  });
});

describe('the check fails a connector that drifted', () => {
  const drift = (spec: ConnectorSpec, operation: string, change: (op: OperationSpec) => OperationSpec): ConnectorSpec => ({
    ...spec, operations: { ...spec.operations, [operation]: change(spec.operations[operation]!) },
  });

  it('a wrong path', async () => {
    const drifted = drift(stripeSpec, 'create_refund', (op) => ({ ...op, http: { ...op.http!, path: '/v1/refund' } }));
    expect(await problems(drifted, 'create_refund', { payment_intent: 'pi_1', amount: 100 })).toEqual(['no path in the description matches POST /v1/refund']);
  });

  it('a base URL the vendor does not serve', async () => {
    const drifted = { ...stripeSpec, baseUrl: 'https://stripe.com' };
    expect(await problems(drifted, 'create_refund', { payment_intent: 'pi_1' })).toEqual(['https://stripe.com/v1/refunds is on none of the described servers (https://api.stripe.com)']);
  });

  it('a missing required body field', async () => {
    const drifted = drift(stripeSpec, 'create_payment_link', (op) => {
      const { line_items: _gone, ...fields } = op.fields;
      return { ...op, fields };
    });
    const found = await problems(drifted, 'create_payment_link', { metadata: { order: '1' } });
    expect(found.join('\n')).toMatch(/line_items/);
  });

  it('a field the vendor does not take', async () => {
    const drifted = drift(slackSpec, 'post_message', (op) => ({ ...op, fields: { ...op.fields, text: { ...op.fields.text!, name: 'message' } } }));
    expect(await problems(drifted, 'post_message', { channel: 'C1', text: 'hi' })).toEqual(['form field `message` is not in the description']);
  });

  it('a value of the wrong type', async () => {
    const drifted = drift(slackSpec, 'list_channels', (op) => ({ ...op, fields: { ...op.fields, limit: { ...op.fields.limit!, type: 'string' } } }));
    expect((await problems(drifted, 'list_channels', { limit: 'many' })).join('\n')).toMatch(/query parameter `limit`/);
  });

  it('a version header the vendor does not know', async () => {
    const drifted = { ...intercomSpec, headers: { 'Intercom-Version': '3.0' } };
    expect((await problems(drifted, 'add_note', { contact_id: 1, body: 'hi' })).join('\n')).toMatch(/header parameter `Intercom-Version` must be equal to one of the allowed values/);
  });

  it("a search query that is not Intercom's query object", async () => {
    const drifted = drift(intercomSpec, 'search_tickets', (op) => ({ ...op, http: { ...op.http!, buildBody: (f) => ({ query: { AND: f.all } }) } }));
    expect((await problems(drifted, 'search_tickets', { all: [{ field: 'open', operator: '=', value: true }] })).join('\n')).toMatch(/body\/query/);
  });

  it('a teammate reply without its author type', async () => {
    const drifted = drift(intercomSpec, 'reply_ticket', (op) => ({ ...op, http: { ...op.http!, buildBody: (f) => ({ ...f }) } }));
    expect((await problems(drifted, 'reply_ticket', { ticket_id: '1', admin_id: '2', body: 'hi' })).join('\n')).toMatch(/must have required property 'type'/);
  });

  it('a JSON body missing what the vendor requires', async () => {
    const sendgrid = connectorSpecs.sendgrid!;
    const drifted = drift(sendgrid, 'send_email', (op) => ({ ...op, http: { ...op.http!, buildBody: (f) => ({ personalizations: [{ to: [{ email: f.to }] }] }) } }));
    expect((await problems(drifted, 'send_email', { to: 'a@example.com', from: 'b@example.com', subject: 's', text: 't' })).join('\n')).toMatch(/must have required property 'from'/);
  });
});

describe('the check fails a messaging connector that drifted', () => {
  const drift = (spec: ConnectorSpec, operation: string, change: (op: OperationSpec) => OperationSpec): ConnectorSpec => ({
    ...spec, operations: { ...spec.operations, [operation]: change(spec.operations[operation]!) },
  });
  const longKey = '01J9ZX3Q7K8M2N4P6R8T0V2W4Y:tell_the_team';

  it("a Discord nonce longer than Discord's 25 characters (the key's bound dropped)", async () => {
    const drifted = drift(discordSpec, 'create_message', (op) => ({ ...op, idempotency: { bodyField: 'nonce' } }));
    const request = await buildThroughConnector(drifted, 'create_message', { channel_id: '1101234567890123456', content: 'hi' }, longKey);
    expect(checkRequest(loadDescription(contractOf(discordSpec)), request).join('\n')).toMatch(/body\/nonce must NOT have more than 25 characters/);
    // The connector as it is bounds the same key.
    const kept = await buildThroughConnector(discordSpec, 'create_message', { channel_id: '1101234567890123456', content: 'hi' }, longKey);
    expect(checkRequest(loadDescription(contractOf(discordSpec)), kept)).toEqual([]);
  });

  it('a Discord channel ID the description does not take', async () => {
    const drifted = drift(discordSpec, 'create_message', (op) => ({ ...op, fields: { ...op.fields, channel_id: { ...op.fields.channel_id!, pattern: undefined } } }));
    expect((await problems(drifted, 'create_message', { channel_id: 'general', content: 'hi' })).join('\n')).toMatch(/path parameter `channel_id` must match pattern/);
  });

  it('a Notion block type the description does not take', async () => {
    const drifted = drift(notionSpec, 'append_blocks', (op) => ({
      ...op, http: { ...op.http!, buildBody: (f) => ({ children: (f.paragraphs as string[]).map((t) => ({ type: 'heading_1', heading_1: { rich_text: [{ text: { content: t } }] } })) }) },
    }));
    expect((await problems(drifted, 'append_blocks', { block_id: 'b1', paragraphs: ['Hi'] })).join('\n')).toMatch(/body\/children\/0/);
  });

  it('a Notion parent in the wrong shape', async () => {
    const drifted = drift(notionSpec, 'create_page', (op) => ({ ...op, http: { ...op.http!, buildBody: (f) => ({ parent: { id: f.parent_page_id }, properties: f.properties }) } }));
    expect((await problems(drifted, 'create_page', { parent_page_id: '59833787-2cf9-4fdf-8782-e53db20768a5', properties: {} })).join('\n')).toMatch(/body\/parent/);
  });

  it('a Box share sent with the wrong method, and without its fixed fields=shared_link', async () => {
    const patched = drift(boxSpec, 'share_file', (op) => ({ ...op, http: { ...op.http!, method: 'PATCH' } }));
    expect(await problems(patched, 'share_file', { file_id: '12', access: 'open' })).toEqual(['/files/{file_id}#add_shared_link has no PATCH operation']);
    const unfielded = drift(boxSpec, 'share_file', (op) => ({ ...op, http: { ...op.http!, query: {} } }));
    expect(await problems(unfielded, 'share_file', { file_id: '12', access: 'open' })).toEqual(['missing required query parameter `fields`']);
  });

  it('a Resend batch sent as an object instead of a list', async () => {
    const drifted = drift(resendSpec, 'send_batch', (op) => ({ ...op, http: { method: 'POST', path: '/emails/batch', body: 'json' } }));
    expect(await problems(drifted, 'send_batch', { emails: [{ from: 'a@example.com', to: 'b@example.com', subject: 's' }] })).toEqual(['body must be array']);
  });
});

describe('the check fails an accounting connector that drifted', () => {
  const drift = (spec: ConnectorSpec, operation: string, change: (op: OperationSpec) => OperationSpec): ConnectorSpec => ({
    ...spec, operations: { ...spec.operations, [operation]: change(spec.operations[operation]!) },
  });

  it('Xero without the tenant header every call needs', async () => {
    const { connectionHeaders: _gone, ...drifted } = xeroSpec;
    expect(await problems(drifted, 'list_invoices', { statuses: ['AUTHORISED'] })).toEqual(['missing required header parameter `xero-tenant-id`']);
  });

  it('Xero created with the wrong method', async () => {
    const drifted = drift(xeroSpec, 'create_contacts', (op) => ({ ...op, http: { ...op.http!, method: 'POST' } }));
    expect(await problems(drifted, 'create_contacts', { contacts: [{ Name: 'Acme' }] })).toEqual(['/Contacts has no POST operation']);
  });

  it('Square with a payment link missing what quick_pay requires', async () => {
    const drifted = drift(squareSpec, 'create_payment_link', (op) => ({
      ...op, http: { ...op.http!, buildBody: (f) => ({ quick_pay: { name: f.name, price_money: { amount: f.amount, currency: f.currency } } }) },
    }));
    expect(await problems(drifted, 'create_payment_link', { name: 'n', amount: 100, currency: 'USD', location_id: 'L1' })).toEqual(["body/quick_pay must have required property 'location_id'"]);
  });

  it('Stripe invoicing with a renamed form field', async () => {
    const drifted = drift(stripeInvoicingSpec, 'pay_invoice', (op) => ({ ...op, fields: { ...op.fields, paid_out_of_band: { ...op.fields.paid_out_of_band!, name: 'paid_outside' } } }));
    expect(await problems(drifted, 'pay_invoice', { invoice: 'in_1', paid_out_of_band: true })).toEqual(['body must NOT have additional properties (`paid_outside`)']);
  });
});

describe('the check fails a Google connector that drifted', () => {
  const drift = (spec: ConnectorSpec, operation: string, change: (op: OperationSpec) => OperationSpec): ConnectorSpec => ({
    ...spec, operations: { ...spec.operations, [operation]: change(spec.operations[operation]!) },
  });

  it('a query parameter under the wrong name', async () => {
    const drifted = drift(googleCalendarSpec, 'list_events', (op) => ({ ...op, fields: { ...op.fields, max_results: { ...op.fields.max_results!, name: 'maxResult' } } }));
    expect(await problems(drifted, 'list_events', { max_results: 10 })).toEqual(['query parameter `maxResult` is not in the description']);
  });

  it('a path without the servicePath', async () => {
    const drifted = drift(googleCalendarSpec, 'get_event', (op) => ({ ...op, http: { ...op.http!, path: '/calendars/{calendarId}/events/{eventId}' } }));
    expect(await problems(drifted, 'get_event', { event_id: 'e1' })).toEqual(['no path in the description matches GET /calendars/primary/events/e1']);
  });

  it('an event body in a shape Google does not read', async () => {
    const drifted = drift(googleCalendarSpec, 'insert_event', (op) => ({ ...op, http: { ...op.http!, buildBody: (f) => ({ summary: f.summary, start: f.start, end: { dateTime: f.end } }) } }));
    expect(await problems(drifted, 'insert_event', { summary: 'x', start: '2026-12-01T10:00:00Z', end: '2026-12-01T11:00:00Z' })).toEqual(['body/start must be object']);
  });

  it('a resource name sent with its slashes escaped ({parent} for {+parent})', async () => {
    const chat = connectorSpecs.google_chat!;
    const drifted = drift(chat, 'create_message', (op) => ({ ...op, http: { ...op.http!, path: '/v1/{parent}/messages' } }));
    expect(await problems(drifted, 'create_message', { space: 'spaces/AAAA', text: 'hi' })).toEqual(['path parameter `parent` has an escaped slash (%2F): {+parent} sends its slashes as they are']);
  });

  it('a Gmail message under a name Google does not know', async () => {
    const gmail = connectorSpecs.gmail!;
    const drifted = drift(gmail, 'send_email', (op) => ({ ...op, http: { ...op.http!, buildBody: (f) => ({ message: f.text }) } }));
    expect(await problems(drifted, 'send_email', { to: 'a@example.com', subject: 's', text: 't' })).toEqual(['body must NOT have additional properties (`message`)']);
  });
});

describe('form bodies', () => {
  it('decode nested keys and lists back into objects', () => {
    expect(decodeForm('line_items[0][price]=p1&line_items[0][quantity]=2&metadata[a]=x&email=e')).toEqual({
      line_items: [{ price: 'p1', quantity: '2' }], metadata: { a: 'x' }, email: 'e',
    });
  });
});

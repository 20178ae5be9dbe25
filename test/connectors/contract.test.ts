// Every operation of every connector checked against a vendor description builds requests
// that the description accepts: from the spec's examples, and from generated field values.
// A deliberately drifted connector must fail the same check, so the check can fail.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { connectorSpecs } from '../../src/connectors/index.js';
import type { ConnectorSpec, OperationSpec } from '../../src/connectors/spec.js';
import { googleCalendarSpec } from '../../src/connectors/google-calendar.js';
import { slackSpec } from '../../src/connectors/slack.js';
import { stripeSpec } from '../../src/connectors/stripe.js';
import { exampleParams, paramsArbitrary } from './arbitraries.js';
import { buildThroughConnector, closeBuilder } from './build.js';
import { checkRequest, decodeForm, loadDescription } from './vendor-check.js';

afterAll(closeBuilder);

const checked = Object.values(connectorSpecs).filter((c) => c.vendorCheck?.checked === true);

async function problems(spec: ConnectorSpec, operation: string, params: Record<string, unknown>): Promise<string[]> {
  const check = spec.vendorCheck;
  if (check?.checked !== true) throw new Error(`${spec.name} is not checked`);
  return checkRequest(loadDescription(check), await buildThroughConnector(spec, operation, params));
}

describe('connectors match their vendor descriptions', () => {
  it('covers the connectors of this increment', () => {
    expect(checked.map((c) => c.name).sort()).toEqual(['gmail', 'google_calendar', 'google_chat', 'sendgrid', 'slack', 'stripe']);
  });
  for (const spec of checked) {
    const check = spec.vendorCheck as Extract<ConnectorSpec['vendorCheck'], { checked: true }>;
    const description = loadDescription(check);
    describe(spec.name, () => {
      for (const [name, op] of Object.entries(spec.operations)) {
        it(`${name}: the spec's example request`, async () => {
          const request = await buildThroughConnector(spec, name, exampleParams(op));
          expect(checkRequest(description, request)).toEqual([]);
        });
        it(`${name}: generated requests`, async () => {
          await fc.assert(fc.asyncProperty(paramsArbitrary(op), async (params) => {
            const request = await buildThroughConnector(spec, name, params);
            const found = checkRequest(description, request);
            if (found.length > 0) throw new Error(`${JSON.stringify(params)} → ${request.method} ${request.url} ${request.body ?? ''}: ${found.join('; ')}`);
          }), { numRuns: 60, seed: 424242 });
        });
      }
    });
  }
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

  it('a JSON body missing what the vendor requires', async () => {
    const sendgrid = connectorSpecs.sendgrid!;
    const drifted = drift(sendgrid, 'send_email', (op) => ({ ...op, http: { ...op.http!, buildBody: (f) => ({ personalizations: [{ to: [{ email: f.to }] }] }) } }));
    expect((await problems(drifted, 'send_email', { to: 'a@example.com', from: 'b@example.com', subject: 's', text: 't' })).join('\n')).toMatch(/must have required property 'from'/);
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

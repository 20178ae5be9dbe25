// Connector fixes the contract sandbox found: Stripe's error names the parameter at fault when
// its message does not; Xero's create_invoices takes the contact by ContactID or by Name;
// Intercom's add_note takes the hex string IDs Intercom gives contacts (and integers).
import { afterAll, describe, expect, it } from 'vitest';
import { checkRequest, loadDescription } from '../../src/connectors/contract/check.js';
import { intercomSpec } from '../../src/connectors/intercom.js';
import type { ConnectorSpec } from '../../src/connectors/spec.js';
import { stripeSpec } from '../../src/connectors/stripe.js';
import { xeroSpec } from '../../src/connectors/xero.js';
import { lintSources } from '../../src/lint/linter.js';
import { parseSource } from '../../src/workflow/source.js';
import { buildThroughConnector, closeBuilder } from './build.js';

afterAll(closeBuilder);

/** The lint errors of one step `uses: c.<operation>` with `with: <withText>` on a connection of `connector`. */
function lintWorkflowText(connector: string, operation: string, withText: string): string[] {
  const text = `name: t\nowner: ops@example.com\ntrigger: manual\nsecrets: [TOKEN]\nconnections:\n  c: { connector: ${connector}, headers: { xero-tenant-id: t1 }, auth: { bearer: "\${{ secrets.TOKEN }}" } }\nsteps:\n  - id: a\n    uses: c.${operation}\n    with: ${withText}\n`;
  const parsed = parseSource('f.yaml', text);
  if (!parsed.ok) throw new Error(`fixture does not parse: ${JSON.stringify(parsed.diagnostics)}`);
  return lintSources([parsed.source]).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.column} ${d.message} [${d.ruleId}]`);
}

const description = (spec: ConnectorSpec) => loadDescription(spec.vendorCheck as Extract<ConnectorSpec['vendorCheck'], { checked: true }>);

describe("stripe's errorOf", () => {
  const errorOf = stripeSpec.errorOf!;
  it('appends [param] when the message does not name it', () => {
    expect(errorOf({ error: { type: 'invalid_request_error', code: 'parameter_invalid_integer', message: 'Invalid integer: abc', param: 'amount' } }, 400))
      .toBe('Stripe: Invalid integer: abc [amount] (parameter_invalid_integer)');
    expect(errorOf({ error: { type: 'card_error', message: 'Your card was declined.', param: 'payment_method' } }, 402)).toBe('Stripe: Your card was declined. [payment_method] (card_error)');
  });
  it('leaves the message as it is when it names the param, or there is none', () => {
    expect(errorOf({ error: { type: 'invalid_request_error', message: 'Missing required param: line_items.', param: 'line_items' } }, 400))
      .toBe('Stripe: Missing required param: line_items. (invalid_request_error)');
    expect(errorOf({ error: { type: 'api_error', message: 'Something went wrong.' } }, 500)).toBe('Stripe: Something went wrong. (api_error)');
    expect(errorOf({ error: { type: 'invalid_request_error', message: 'No such customer', param: '' } }, 404)).toBe('Stripe: No such customer (invalid_request_error)');
  });
  it('clips a long param and escapes nothing into the terminal', () => {
    const message = errorOf({ error: { message: 'Bad', param: `x${'y'.repeat(200)}\u001b[31m` } }, 400)!;
    expect(message.length).toBeLessThan(120);
    expect(message).not.toContain('\u001b');
  });
});

describe('xero create_invoices: the contact by ContactID or by Name', () => {
  const line = [{ Description: 'Boiler service', Quantity: 1, UnitAmount: 180, AccountCode: '200' }];
  it('both forms build a request the description accepts', async () => {
    for (const Contact of [{ ContactID: 'eaa28f49-6028-4b6e-bb12-d8f6278073fc' }, { Name: 'Northwind Traders' }]) {
      const request = await buildThroughConnector(xeroSpec, 'create_invoices', { invoices: [{ Type: 'ACCREC', Contact, LineItems: line }] });
      expect(JSON.parse(request.body!)).toMatchObject({ Invoices: [{ Contact }] });
      expect(checkRequest(description(xeroSpec), request)).toEqual([]);
    }
  });
  it('lint takes Name and still refuses a key Xero does not have', () => {
    const ok = lintWorkflowText('xero', 'create_invoices', '{ invoices: [{ Type: ACCREC, Contact: { Name: Northwind Traders } }] }');
    expect(ok).toEqual([]);
    const bad = lintWorkflowText('xero', 'create_invoices', '{ invoices: [{ Type: ACCREC, Contact: { ContactName: Northwind } }] }');
    expect(bad.join('\n')).toMatch(/ContactName/);
  });
});

describe('intercom add_note: the contact ID as Intercom gives it', () => {
  it('a hex string ID goes into the path; an integer still does', async () => {
    const hex = await buildThroughConnector(intercomSpec, 'add_note', { contact_id: '6762f0dd1bb69f9f2193bb83', body: 'Call back Monday' });
    expect(new URL(hex.url).pathname).toBe('/contacts/6762f0dd1bb69f9f2193bb83/notes');
    const int = await buildThroughConnector(intercomSpec, 'add_note', { contact_id: 123, body: 'Call back Monday' });
    expect(new URL(int.url).pathname).toBe('/contacts/123/notes');
    expect(checkRequest(description(intercomSpec), int)).toEqual([]);
  });
  it('lint takes a string or an integer, and nothing else', () => {
    expect(lintWorkflowText('intercom', 'add_note', '{ contact_id: "6762f0dd1bb69f9f2193bb83", body: hi }')).toEqual([]);
    expect(lintWorkflowText('intercom', 'add_note', '{ contact_id: 123, body: hi }')).toEqual([]);
    expect(lintWorkflowText('intercom', 'add_note', '{ contact_id: [1], body: hi }').join('\n')).toMatch(/contact_id/);
  });
});

// Lint of named connector steps: the table of `with` mistakes the connector rule reports,
// at their positions, and every operation's example step from its spec linting clean.
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectorSpecs } from '../../src/connectors/index.js';
import { exampleStep } from '../../src/connectors/reference.js';
import { lintSources } from '../../src/lint/linter.js';
import { parseSource } from '../../src/workflow/source.js';

function diagnostics(text: string): string[] {
  const parsed = parseSource('f.yaml', text);
  if (!parsed.ok) throw new Error(`fixture does not parse: ${JSON.stringify(parsed.diagnostics)}`);
  return lintSources([parsed.source]).diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.line}:${d.column} ${d.ruleId}`);
}

const head = `name: t
owner: ops@example.com
trigger: manual
secrets: [TOKEN]
connections:
  chat: { connector: slack, auth: { bearer: "\${{ secrets.TOKEN }}" } }
  pay: { connector: stripe, auth: { bearer: "\${{ secrets.TOKEN }}" } }
  api: { base_url: "https://api.example.com" }
steps:
`;
/** The same with an Intercom connection `crm` (one line more). */
const crmHead = head.replace('steps:\n', 'crm: { connector: intercom, auth: { bearer: "${{ secrets.TOKEN }}" } }\nsteps:\n'.replace(/^/, '  '));

const valid = [
  `${head}  - id: a\n    uses: chat.post_message\n    with: { channel: C1, text: "hi \${{ run.id }}" }\n`,
  `${head}  - id: a\n    uses: chat.list_channels\n    with: { paginate: true, max_items: 50, limit: 200 }\n`,
  `${head}  - id: a\n    uses: pay.create_payment_link\n    with: { line_items: [{ price: p, quantity: 2 }] }\n`,
  `${head}  - id: a\n    uses: pay.create_refund\n    with: { payment_intent: pi_1, amount: "\${{ 100 }}" }\n`,
  `${head}  - id: a\n    uses: api.request\n    with: { path: /x }\n`,
  `${crmHead}  - id: a\n    uses: crm.search_tickets\n    with: { any: [{ field: state, operator: IN, value: [open, snoozed] }], paginate: true }\n`,
  // a raw request on a vendor connection
  `${head}  - id: a\n    uses: chat.request\n    with: { path: /team.info, method: GET }\n`,
];

const invalid: { text: string; at: string[] }[] = [
  // unknown field (and so neither text nor blocks)
  { text: `${head}  - id: a\n    uses: chat.post_message\n    with: { channel: C1, txt: hi }\n`, at: ['12:5 connector', '12:26 connector'] },
  // missing required field
  { text: `${head}  - id: a\n    uses: chat.post_message\n    with: { text: hi }\n`, at: ['12:5 connector'] },
  // wrong type
  { text: `${head}  - id: a\n    uses: chat.list_channels\n    with: { limit: lots }\n`, at: ['12:20 connector'] },
  // value outside the enum
  { text: `${head}  - id: a\n    uses: pay.create_refund\n    with: { charge: ch_1, reason: sorry }\n`, at: ['12:35 connector'] },
  // an operation the connector lacks
  { text: `${head}  - id: a\n    uses: pay.post_message\n`, at: ['11:11 connector'] },
  // nested shape: unknown and missing item fields
  { text: `${head}  - id: a\n    uses: pay.create_payment_link\n    with: { line_items: [{ price: p, qty: 1 }] }\n`, at: ['12:26 connector', '12:38 connector'] },
  // outside a field's bounds
  { text: `${head}  - id: a\n    uses: chat.list_channels\n    with: { paginate: true, max_items: 50000 }\n`, at: ['12:40 connector'] },
  // paginate on an operation without pagination
  { text: `${head}  - id: a\n    uses: pay.create_customer\n    with: { paginate: true }\n`, at: ['12:13 connector'] },
  // an unknown connector on a connection (schema), and a vendor connector used bare
  { text: `${head.replace('connector: slack', 'connector: slak')}  - id: a\n    uses: stripe\n`, at: ['6:22 schema', '11:11 connector'] },
  // intercom: a typo in a filter's key and in an operator, and a ticket without its type or contact
  { text: `${crmHead}  - id: a\n    uses: crm.search_contacts\n    with: { query: { feild: email, operator: "==", value: a@example.com } }\n`, at: ['13:20 connector', '13:22 connector', '13:46 connector'] },
  { text: `${crmHead}  - id: a\n    uses: crm.create_ticket\n    with: { ticket_attributes: { _default_title_: Refund } }\n`, at: ['13:5 connector', '13:5 connector'] },
  // an http connection still needs its base_url
  { text: `${head.replace('api: { base_url: "https://api.example.com" }', 'api: { headers: { a: b } }')}  - id: a\n    uses: api.request\n    with: { path: /x }\n`, at: ['8:3 schema'] },
];

const books = `name: t
owner: ops@example.com
trigger: manual
secrets: [TOKEN, TENANT]
connections:
  books: { connector: xero, headers: { xero-tenant-id: "\${{ secrets.TENANT }}" }, auth: { bearer: "\${{ secrets.TOKEN }}" } }
  billing: { connector: stripe_invoicing, auth: { bearer: "\${{ secrets.TOKEN }}" } }
steps:
`;
const shop = books.replace('steps:\n', '  shop: { connector: square, auth: { bearer: "\${{ secrets.TOKEN }}" } }\nsteps:\n');

const accountingValid = [
  `${books}  - id: a\n    uses: books.list_invoices\n    with: { statuses: [AUTHORISED], where: 'DueDate<DateTime(2026,11,24)', paginate: true }\n`,
  `${books}  - id: a\n    uses: books.create_payment\n    with: { invoice_id: "\${{ run.id }}", account_code: "090", amount: 180 }\n`,
  `${books}  - id: a\n    uses: billing.pay_invoice\n    with: { invoice: in_1, paid_out_of_band: true }\n`,
];

const accountingInvalid: { text: string; at: string[] }[] = [
  // a typo in a field name (and so the required field is missing too)
  { text: `${books}  - id: a\n    uses: books.create_payment\n    with: { invoice_id: x, account_code: "090", ammount: 180 }\n`, at: ['11:5 connector', '11:49 connector'] },
  // a missing required field
  { text: `${books}  - id: a\n    uses: billing.finalize_invoice\n    with: { auto_advance: true }\n`, at: ['11:5 connector'] },
  // a typo inside a nested Xero object, and a status Xero does not have (Contact takes ContactID
  // or Name, so neither is required on its own: Xero, and the sandbox, refuse a Contact with neither)
  { text: `${books}  - id: a\n    uses: books.create_invoices\n    with: { invoices: [{ Type: ACCREC, Contact: { ContactId: c1 }, Status: OPEN }] }\n`, at: ['11:51 connector', '11:76 connector'] },
  // a status Stripe does not have
  { text: `${books}  - id: a\n    uses: billing.list_invoices\n    with: { status: overdue }\n`, at: ['11:21 connector'] },
  // Square: a typo (so currency is missing too), and a missing location_id
  { text: `${shop}  - id: a\n    uses: shop.create_payment_link\n    with: { name: Service, amount: 100, currrency: USD }\n`, at: ['12:5 connector', '12:5 connector', '12:41 connector'] },
  // a Xero connection without its tenant header
  { text: `${books.replace('headers: { xero-tenant-id: "\${{ secrets.TENANT }}" }, ', '')}  - id: a\n    uses: books.list_invoices\n`, at: ['6:3 connector'] },
];

describe('connector rule on the accounting connectors', () => {
  it.each(accountingValid.map((t, i) => [i, t]))('valid %i', (_i, text) => {
    expect(diagnostics(text)).toEqual([]);
  });
  it.each(accountingInvalid.map((c, i) => [i, c]))('invalid %i', (_i, c) => {
    expect(diagnostics(c.text)).toEqual(c.at);
  });
});

const googleHead = `name: t
owner: ops@example.com
trigger: manual
secrets: [GOOGLE_TOKEN]
connections:
  cal: { connector: google_calendar, auth: { bearer: "\${{ secrets.GOOGLE_TOKEN }}" } }
  mail: { connector: gmail, auth: { bearer: "\${{ secrets.GOOGLE_TOKEN }}" } }
  chat: { connector: google_chat, auth: { bearer: "\${{ secrets.GOOGLE_TOKEN }}" } }
steps:
`;

const googleInvalid: { text: string; at: string[] }[] = [
  // a typo in a field name: unknown field, and so the required subject is missing
  { text: `${googleHead}  - id: a\n    uses: mail.send_email\n    with: { to: a@example.com, subjct: Hi, text: hi }\n`, at: ['12:5 connector', '12:32 connector'] },
  // a missing required field
  { text: `${googleHead}  - id: a\n    uses: cal.get_event\n    with: { calendar_id: primary }\n`, at: ['12:5 connector'] },
  // start and start_date together, and a value outside the enum
  { text: `${googleHead}  - id: a\n    uses: cal.insert_event\n    with: { start: "2026-12-01T10:00:00Z", start_date: "2026-12-01", end_date: "2026-12-02", send_updates: everyone }\n`, at: ['12:44 connector', '12:108 connector'] },
  // outside the vendor's bound
  { text: `${googleHead}  - id: a\n    uses: cal.list_events\n    with: { max_results: 5000 }\n`, at: ['12:26 connector'] },
  // a space ID where Chat takes a resource name
  { text: `${googleHead}  - id: a\n    uses: chat.create_message\n    with: { space: AAAA1234, text: hi }\n`, at: ['12:20 connector'] },
];

describe('connector rule on the Google connectors', () => {
  it('passes a step that pages events', () => {
    expect(diagnostics(`${googleHead}  - id: a\n    uses: cal.list_events\n    with: { time_min: "2026-12-01T00:00:00Z", single_events: true, order_by: startTime, paginate: true, max_items: 500 }\n`)).toEqual([]);
  });
  it.each(googleInvalid.map((c, i) => [i, c]))('invalid %i', (_i, c) => {
    expect(diagnostics(c.text)).toEqual(c.at);
  });
});

describe('connector rule on named connectors', () => {
  it.each(valid.map((t, i) => [i, t]))('valid %i', (_i, text) => {
    expect(diagnostics(text)).toEqual([]);
  });
  it.each(invalid.map((c, i) => [i, c]))('invalid %i', (_i, c) => {
    expect(diagnostics(c.text)).toEqual(c.at);
  });
});

describe('example steps of every operation', () => {
  for (const spec of Object.values(connectorSpecs).filter((s) => !s.standalone)) {
    it(`${spec.name}: every field example of its spec lints clean`, () => {
      const steps = Object.entries(spec.operations).map(([name, op]) => {
        const example = Object.fromEntries(Object.entries(op.fields).filter(([, f]) => f.example !== undefined).map(([k, f]) => [k, f.example]));
        return { id: name, uses: `conn.${name}`, with: example };
      });
      // A secret field's example (a webhook token) names its own secret.
      const named = [...JSON.stringify(steps).matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1]!);
      const headers = Object.fromEntries(Object.keys(spec.connectionHeaders ?? {}).map((h) => [h, '${{ secrets.TOKEN }}']));
      const text = stringify({ name: 't', owner: 'ops@example.com', trigger: 'manual', secrets: [...new Set(['TOKEN', ...named])], connections: { conn: { connector: spec.name, headers, auth: { bearer: '${{ secrets.TOKEN }}' } } }, steps });
      expect(diagnostics(text)).toEqual([]);
    });
    for (const [name, op] of Object.entries(spec.operations)) {
      it(`${spec.name}.${name}: the example step flux connectors shows lints clean`, () => {
        const text = `name: t\nowner: ops@example.com\ntrigger: manual\n${exampleStep(spec, name, op)}`;
        expect(diagnostics(text)).toEqual([]);
      });
    }
  }
});

describe('connector rule on the messaging connectors (Resend, Discord, Notion)', () => {
  const messaging = `name: t
owner: ops@example.com
trigger: manual
secrets: [TOKEN]
connections:
  mail: { connector: resend, auth: { bearer: "\${{ secrets.TOKEN }}" } }
  chat: { connector: discord, auth: { api_key: { header: Authorization, value: "Bot \${{ secrets.TOKEN }}" } } }
  docs: { connector: notion, auth: { bearer: "\${{ secrets.TOKEN }}" } }
steps:
  - id: a
`;
  const cases: { text: string; at: string[] }[] = [
    // a typo: unknown field (so the required `properties` is missing too)
    { text: `${messaging}    uses: docs.create_page\n    with: { database_id: d9824bdc-8445-4327-be8b-5b47500af6ce, propertes: {} }\n`, at: ['12:5 connector', '12:64 connector'] },
    // a missing required field
    { text: `${messaging}    uses: chat.create_message\n    with: { content: hi }\n`, at: ['12:5 connector'] },
    // a channel name where Discord takes a numeric ID
    { text: `${messaging}    uses: chat.create_message\n    with: { channel_id: general, content: hi }\n`, at: ['12:25 connector'] },
    // neither text nor html
    { text: `${messaging}    uses: mail.send_email\n    with: { from: a@example.com, to: b@example.com, subject: s }\n`, at: ['12:5 connector'] },
    // a nested value outside its enum
    { text: `${messaging}    uses: docs.query_data_source\n    with: { data_source_id: x, sorts: [{ property: Due, direction: up }] }\n`, at: ['12:68 connector'] },
  ];
  it.each(cases.map((c, i) => [i, c]))('invalid %i', (_i, c) => {
    expect(diagnostics(c.text)).toEqual(c.at);
  });
  it('accepts expressions and valid values', () => {
    expect(diagnostics(`${messaging}    uses: chat.create_message\n    with: { channel_id: "\${{ run.id }}", content: hi }\n`)).toEqual([]);
    expect(diagnostics(`${messaging}    uses: docs.query_data_source\n    with: { data_source_id: x, paginate: true, max_items: 10 }\n`)).toEqual([]);
  });
});

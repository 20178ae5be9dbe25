// The world the metrics benchmark's generator simulates: a seeded PRNG, 50 workflows with their
// owners, triggers, baselines (some changing mid-way), steps and failure profiles, and pools of
// realistic step outputs (CRM contacts, invoices, lists, chat acks). Everything is drawn from
// the seed, so the same seed gives the same bytes. Used by metrics-gen.mjs and metrics-gen-run.mjs.

/** A seeded PRNG (mulberry32) with the draws the generator needs. Fast: one call per draw. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    gauss: () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()),
    /** Log-normal around a median: most values near it, a long right tail, as latencies are. */
    lognormal: (median, sigma) => median * Math.exp(sigma * r.gauss()),
    poisson: (lambda) => {
      if (lambda <= 0) return 0;
      if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * r.gauss()));
      const l = Math.exp(-lambda);
      let k = 0;
      for (let p = next(); p > l; p *= next()) k++;
      return k;
    },
    hex: (n) => {
      let s = '';
      while (s.length < n) s += ((next() * 4294967296) >>> 0).toString(16).padStart(8, '0');
      return s.slice(0, n);
    },
  };
  return r;
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID-shaped run id as flux makes them (src/engine/run-id.ts): 10 chars of ms, 16 random. */
export function runId(ms, r) {
  let time = '';
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) time = CROCKFORD[t % 32] + time;
  let rand = '';
  for (let i = 0; i < 16; i++) rand += CROCKFORD[Math.floor(r.next() * 32)];
  return time + rand;
}

const NAMES = [
  'lead-intake', 'appointment-reminders', 'invoice-follow-up', 'sales-handoff', 'weekly-status-report', 'crm-accounting-sync',
  'payment-received', 'support-ticket-triage', 'order-fulfilment', 'refund-approval', 'new-hire-onboarding', 'offboarding-access-revoke',
  'contract-renewal-reminder', 'churn-risk-alert', 'nps-survey-follow-up', 'quote-request', 'demo-booking', 'webinar-registration',
  'trial-expiry-nudge', 'invoice-dunning', 'expense-approval', 'purchase-order-sync', 'inventory-restock', 'shipping-delay-notice',
  'review-request', 'partner-referral', 'event-check-in', 'lead-enrichment', 'deal-won-handover', 'meeting-notes-to-crm',
  'calendar-no-show', 'vendor-onboarding', 'timesheet-reminder', 'payroll-export', 'tax-document-collection', 'subscription-upgrade',
  'failed-payment-retry', 'abandoned-cart', 'product-feedback-routing', 'bug-report-intake', 'uptime-incident-page', 'daily-sales-digest',
  'monthly-close-checklist', 'backup-verification', 'gdpr-deletion-request', 'kyc-document-check', 'loyalty-points-sync', 'newsletter-signup',
  'price-change-notice', 'warranty-claim',
];
const OWNERS = [
  'sales-ops@example.com', 'finance@example.com', 'support-lead@example.com', 'people-ops@example.com', 'it-ops@example.com',
  'marketing@example.com', '@ecommerce-team', 'customer-success@example.com', 'legal@example.com', 'logistics@example.com',
  '@product-team', 'security@example.com',
];
const CALLS = {
  GET: ['fetch_contact', 'lookup_account', 'get_invoice', 'list_open_deals', 'fetch_order', 'get_customer', 'list_line_items', 'fetch_subscription'],
  POST: ['create_contact', 'post_to_chat', 'send_email', 'create_ticket', 'create_invoice', 'reply_to_customer', 'create_task', 'notify_owner'],
  PUT: ['sync_record', 'upsert_account'],
  PATCH: ['update_deal', 'update_contact', 'mark_paid', 'set_stage'],
  DELETE: ['remove_access'],
};
const OTHER = { set: ['score_lead', 'build_summary', 'normalise_input', 'pick_owner', 'compute_totals'], switch: ['route_by_size', 'route_by_region'], emit: ['emit_qualified', 'emit_synced'] };
const CONNECTIONS = ['crm.request', 'accounting.request', 'shop.request', 'http', 'helpdesk.request'];
const EVENTS = ['invoice.paid', 'contract.signed', 'document.uploaded', 'approval.given'];

/**
 * A trigger kind, webhook-heavy as the businesses flux serves are; a name that says when it runs
 * is a schedule, with its interval when the name fixes it (else the generator sizes it).
 */
function trigger(name, r) {
  if (/weekly|payroll|timesheet/.test(name)) return ['schedule', 10080];
  if (/daily|monthly|backup|reminder|digest/.test(name)) return ['schedule', 1440];
  if (/-sync$|restock/.test(name)) return ['schedule', undefined];
  const x = r.next();
  return [x < 0.65 ? 'webhook' : x < 0.85 ? 'event' : x < 0.95 ? 'poll' : 'manual', undefined];
}

function baseline(r) {
  if (r.chance(0.1)) return null;
  const b = { minutes_per_run: r.int(2, 45) };
  if (r.chance(0.75)) b.response_minutes = r.pick([15, 30, 60, 120, 240, 480, 1440]);
  if (r.chance(0.85)) b.hourly_cost = r.int(30, 95);
  if (b.hourly_cost !== undefined) b.currency = r.chance(0.8) ? 'USD' : 'EUR';
  return b;
}

function callStep(r, id, method, ctx) {
  const out = method === 'GET' ? (r.chance(0.2) ? 'list' : r.chance(0.5) ? 'invoice' : 'record') : id === 'post_to_chat' || id === 'notify_owner' ? 'ack' : id === 'send_email' ? 'mail' : 'created';
  return {
    id, kind: 'call', method, uses: id === 'post_to_chat' || id === 'notify_owner' ? 'chat.post' : id === 'send_email' ? 'mail.send' : r.pick(CONNECTIONS), out,
    latency: r.int(40, 400), transientP: ctx.flaky * r.next() * 0.03, fatalP: ctx.flaky * r.next() * 0.006,
    attempts: r.chance(0.7) ? r.int(3, 5) : 1, skipP: r.chance(0.15) ? 0.2 + r.next() * 0.5 : 0, continueOnError: r.chance(0.08),
    bigExportP: method === 'GET' && out === 'list' && r.chance(0.5) ? 0.1 : 0,
  };
}

/** The steps of one workflow: 3 to 12 at the top level, ids unique within it. */
function steps(r, ctx) {
  const n = r.int(3, 12);
  const used = new Set();
  const unique = (id) => {
    let u = id;
    for (let k = 2; used.has(u); k++) u = `${id}_${k}`;
    used.add(u);
    return u;
  };
  const list = [];
  const fetch = r.pick(CALLS.GET);
  list.push(callStep(r, unique(fetch), 'GET', ctx));
  const foreachAt = r.chance(0.3) ? r.int(1, n - 1) : -1;
  const waitAt = r.chance(0.14) ? r.int(1, n - 1) : -1;
  for (let i = 1; i < n; i++) {
    if (i === foreachAt) {
      const inner = [callStep(r, unique(r.pick(CALLS.PATCH)), 'PATCH', ctx)];
      if (r.chance(0.4)) inner.push(callStep(r, unique(r.pick(CALLS.POST)), 'POST', ctx));
      for (const s of inner) s.skipP = 0;
      list.push({ id: unique(r.pick(['for_each_line', 'for_each_attendee', 'for_each_item', 'for_each_invoice'])), kind: 'foreach', inner, items: r.int(2, 12), skipP: 0 });
    } else if (i === waitAt) {
      if (r.chance(0.4)) list.push({ id: unique('wait_for_reply'), kind: 'wait_for', event: r.pick(EVENTS), timeoutMs: r.pick([1, 3, 7]) * 86400000, arriveP: 0.6 + r.next() * 0.35, skipP: 0 });
      else list.push({ id: unique(r.pick(['wait_two_days', 'wait_until_morning', 'cool_off'])), kind: 'wait', waitMs: r.pick([3600000, 14400000, 86400000, 172800000]), skipP: 0 });
    } else {
      const x = r.next();
      if (x < 0.28) list.push({ id: unique(r.pick(OTHER.set)), kind: 'set', skipP: r.chance(0.2) ? 0.5 : 0 });
      else if (x < 0.36) list.push({ id: unique(r.pick(OTHER.switch)), kind: 'switch', skipP: 0 });
      else if (x < 0.41) list.push({ id: unique(r.pick(OTHER.emit)), kind: 'emit', event: r.pick(['lead.qualified', 'record.synced', 'order.shipped']), skipP: 0 });
      else {
        const m = r.next();
        const method = m < 0.3 ? 'GET' : m < 0.75 ? 'POST' : m < 0.82 ? 'PUT' : m < 0.98 ? 'PATCH' : 'DELETE';
        list.push(callStep(r, unique(r.pick(CALLS[method])), method, ctx));
      }
    }
  }
  return list;
}

/** The 50 workflows, from the seed: everything a run of each needs, plus its share of volume. */
export function workflows(seed, startMs, days) {
  const shuffled = prng(seed ^ 0x5eed).next;
  const ranks = NAMES.map((_, i) => i).sort(() => shuffled() - 0.5);
  return NAMES.map((name, i) => {
    const r = prng(seed * 1000 + i + 1);
    const [kind, interval] = trigger(name, r);
    const ctx = { flaky: r.chance(0.2) ? 2 + r.next() * 3 : 0.3 + r.next() };
    const list = steps(r, ctx);
    // Versions: the workflow is edited 0 to 3 times; some edits change the baseline.
    const first = baseline(r);
    const versions = [{ from: startMs, hash: `sha256:${r.hex(64)}`, baseline: first }];
    for (let k = r.int(0, 3); k > 0; k--) {
      const prev = versions[versions.length - 1].baseline;
      const change = prev === null ? r.chance(0.3) : r.chance(0.2);
      const b = change ? baseline(r) ?? { minutes_per_run: r.int(2, 45) } : prev;
      versions.push({ from: startMs + r.int(5, days - 5) * 86400000 + r.int(0, 86399999), hash: `sha256:${r.hex(64)}`, baseline: b });
    }
    versions.sort((a, b) => a.from - b.from);
    versions[0].from = startMs;
    for (const v of versions) v.base = JSON.stringify(v.baseline);
    const posts = list.filter((s) => s.kind === 'call' && s.method !== 'GET');
    return {
      name, index: i, owner: OWNERS[i % OWNERS.length], trigger: kind, interval, steps: list, versions,
      weight: kind === 'schedule' ? 0.25 / (1 + (ranks[i] % 7)) : 1 / (1 + ranks[i]) ** 0.8,
      rejectP: kind === 'webhook' ? 0.005 + r.next() * 0.025 : 0.002, cancelP: 0.0005, crashP: 0.003, leakP: 0.00004,
      escalate: r.chance(0.85), deliverP: r.chance(0.2) ? 0.4 + r.next() * 0.3 : 0.9 + r.next() * 0.08,
      responseStep: kind === 'webhook' && posts.length > 0 && r.chance(0.5) ? posts[0].id : undefined,
      weekend: kind === 'schedule' ? 1 : 0.25 + r.next() * 0.3,
      intakeMs: r.int(10, 120),
    };
  });
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Edsger', 'Frances', 'Donald', 'Radia', 'Niklaus', 'Sophie', 'Tim'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Dijkstra', 'Allen', 'Knuth', 'Perlman', 'Wirth', 'Wilson', 'Berners-Lee'];
const COMPANIES = ['Acme Corp', 'Globex', 'Initech', 'Umbrella Health', 'Stark Logistics', 'Wayne Foods', 'Hooli', 'Vandelay Imports', 'Soylent GmbH', 'Tyrell Systems'];
const CITIES = [['Berlin', 'DE'], ['Lyon', 'FR'], ['Austin', 'US'], ['Leeds', 'GB'], ['Porto', 'PT'], ['Denver', 'US'], ['Utrecht', 'NL']];

function isoIn(r, startMs, days) {
  return new Date(startMs + Math.floor(r.next() * days * 86400000)).toISOString();
}

function contact(r, span) {
  const [first, last, company, [city, country]] = [r.pick(FIRST), r.pick(LAST), r.pick(COMPANIES), r.pick(CITIES)];
  const custom = {};
  for (let k = r.int(0, 10); k > 0; k--) custom[`cf_${r.hex(6)}`] = r.chance(0.5) ? r.int(0, 100000) : `${r.pick(['gold', 'silver', 'trial', 'partner', 'inbound', 'churned'])} ${r.hex(r.int(4, 40))}`;
  return {
    id: `ct_${r.hex(12)}`, email: `${first.toLowerCase()}.${last.toLowerCase()}@${company.toLowerCase().replace(/\W+/g, '')}.example`, name: `${first} ${last}`,
    company, phone: `+${r.int(1, 49)} ${r.int(100, 999)} ${r.int(1000000, 9999999)}`, owner_id: `usr_${r.hex(8)}`,
    stage: r.pick(['lead', 'qualified', 'proposal', 'negotiation', 'won', 'lost']), amount: r.int(0, 250) * 100, currency: r.pick(['USD', 'EUR']),
    tags: Array.from({ length: r.int(0, 4) }, () => r.pick(['inbound', 'q4', 'enterprise', 'smb', 'renewal', 'referral'])),
    address: { street: `${r.int(1, 200)} ${r.pick(LAST)} Street`, city, postal_code: String(r.int(10000, 99999)), country },
    custom_fields: custom, created_at: isoIn(r, span[0], span[1]), updated_at: isoIn(r, span[0], span[1]),
  };
}

function invoice(r, span) {
  const lines = Array.from({ length: r.int(1, 8) }, () => {
    const qty = r.int(1, 20);
    const unit = r.int(5, 900);
    return { description: `${r.pick(['Consulting', 'Licence', 'Support plan', 'Hardware', 'Training'])} ${r.hex(4)}`, quantity: qty, unit_price: unit, amount: qty * unit };
  });
  const subtotal = lines.reduce((s, l) => s + l.amount, 0);
  return {
    id: `in_${r.hex(12)}`, number: `INV-2026-${String(r.int(1, 99999)).padStart(5, '0')}`, customer: { id: `cus_${r.hex(10)}`, name: r.pick(COMPANIES), email: `billing@${r.hex(6)}.example` },
    lines, subtotal, tax: Math.round(subtotal * 0.19), total: Math.round(subtotal * 1.19), currency: r.pick(['EUR', 'USD']),
    due_date: isoIn(r, span[0], span[1]).slice(0, 10), status: r.pick(['open', 'paid', 'overdue', 'draft']),
  };
}

/**
 * Pools of pre-serialized outputs, one per kind: drawing from them costs nothing per record,
 * and 1,024 variants each keep the data as varied as logs of real systems are.
 */
export function outputPools(seed, startMs, days) {
  const r = prng(seed ^ 0xbeef);
  const span = [startMs, days];
  const headers = () => ({ 'content-type': 'application/json; charset=utf-8', date: new Date(startMs + r.int(0, days * 86400) * 1000).toUTCString(), 'x-request-id': r.hex(16) });
  const wrap = (status, body) => JSON.stringify({ status, headers: headers(), body });
  const pool = (make) => Array.from({ length: 1024 }, make);
  // A failed call's output is the response, and its error message is "HTTP <status>: <body>".
  const failure = (status, body) => ({
    status, output: wrap(status, body), message: JSON.stringify(`HTTP ${status}: ${typeof body === 'string' ? body : JSON.stringify(body)}`),
  });
  return {
    record: pool(() => wrap(200, contact(r, span))),
    invoice: pool(() => wrap(200, invoice(r, span))),
    list: pool(() => wrap(200, { results: Array.from({ length: r.int(2, 5) }, () => contact(r, span)), next_cursor: r.chance(0.5) ? r.hex(24) : null })),
    // A nightly export page: far over the 16 KiB cap, so flux logs a truncated preview of it.
    export: Array.from({ length: 16 }, () => JSON.stringify(`${JSON.stringify({ status: 200, headers: headers(), body: { results: Array.from({ length: 40 }, () => contact(r, span)) } }).slice(0, 16384)}…`)),
    created: pool(() => { const id = `ct_${r.hex(12)}`; return wrap(201, { id, status: 'created', url: `https://crm.example.com/records/${id}` }); }),
    ack: pool(() => wrap(200, { ok: true, channel: `C${r.hex(8).toUpperCase()}`, ts: `${r.int(1760000000, 1770000000)}.${String(r.int(0, 999999)).padStart(6, '0')}` })),
    mail: pool(() => wrap(202, { id: `<${r.hex(20)}@mail.example.com>`, queued: true })),
    set: pool(() => JSON.stringify({ tier: r.pick(['small', 'medium', 'large']), score: r.int(0, 100), region: r.pick(['emea', 'amer', 'apac']), owner: `usr_${r.hex(8)}` })),
    data: pool(() => JSON.stringify({ id: `ct_${r.hex(12)}`, email: `${r.pick(FIRST).toLowerCase()}@${r.hex(6)}.example`, score: r.int(0, 100) })),
    failed: [[503, { error: 'upstream unavailable' }], [502, '<html><body><h1>502 Bad Gateway</h1></body></html>'], [500, { error: 'internal error', trace_id: r.hex(16) }],
      [429, { message: 'rate limit exceeded, retry later' }], [504, 'upstream request timeout']].map(([s, b]) => failure(s, b)),
    fatal: [[422, { errors: [{ field: 'email', message: 'is invalid' }] }], [404, { error: 'not found' }], [409, { error: 'duplicate record', existing_id: `ct_${r.hex(12)}` }],
      [400, { error: "missing field 'amount'" }]].map(([s, b]) => failure(s, b)),
    network: ['connection reset by crm.example.com', 'cannot reach api.accounting.example: connect timed out', 'the call timed out after 10s'].map((m) => JSON.stringify(m)),
    rejections: ['the event does not match inputs: /email must match format "email"', 'the event does not match inputs: must have required property \'name\'', 'the event does not match inputs: /amount must be >= 0'].map((m) => JSON.stringify(m)),
    deliveryErrors: ['HTTP 502: <html><body><h1>502 Bad Gateway</h1></body></html>', 'cannot reach chat.example.com: connection refused', 'HTTP 401: {"ok":false,"error":"invalid_auth"}'].map((m) => JSON.stringify(m)),
  };
}

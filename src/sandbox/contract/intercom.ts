/**
 * Intercom in the sandbox: contacts (created, searched, updated, noted), companies (upserted
 * by company_id), tickets and conversation replies. Errors are
 * `{ type: 'error.list', errors: [{ code, message }] }`; searches take Intercom's query object
 * and page with `pages.next.starting_after`; a 429 carries X-RateLimit-* headers.
 */
import { epochSeconds, find, limitOf, obj, offsetPage, VendorError, type Json, type VendorCall, type VendorSite } from './site.js';

const STATUS: Record<string, number> = { invalid: 400, unauthorized: 401, not_found: 404, conflict: 409, rate_limited: 429 };
const CODES: Record<string, string> = { invalid: 'parameter_invalid', unauthorized: 'unauthorized', not_found: 'not_found', conflict: 'conflict', rate_limited: 'rate_limit_exceeded' };

/** Whether `record` passes Intercom's query object: a filter `{ field, operator, value }` or a group `{ operator: AND|OR, value: [...] }`. */
function matches(record: Json, query: Json): boolean {
  if (query.operator === 'AND' || query.operator === 'OR') {
    const parts = Array.isArray(query.value) ? (query.value as Json[]) : [];
    return query.operator === 'AND' ? parts.every((p) => matches(record, p)) : parts.some((p) => matches(record, p));
  }
  const field = String(query.field ?? '');
  const actual = field.split('.').reduce<unknown>((at, k) => obj(at)[k], record);
  const wanted = query.value;
  const text = (v: unknown) => String(v ?? '').toLowerCase();
  switch (query.operator) {
    case '=': return actual === wanted || (actual !== undefined && actual !== null && String(actual) === String(wanted));
    case '!=': return String(actual) !== String(wanted);
    case 'IN': return Array.isArray(wanted) && wanted.map(String).includes(String(actual));
    case 'NIN': return Array.isArray(wanted) && !wanted.map(String).includes(String(actual));
    case '>': return Number(actual) > Number(wanted);
    case '<': return Number(actual) < Number(wanted);
    case '~': return text(actual).includes(text(wanted));
    case '!~': return !text(actual).includes(text(wanted));
    case '^': return text(actual).startsWith(text(wanted));
    case '$': return text(actual).endsWith(text(wanted));
    default: throw new VendorError('invalid', `Unsupported operator ${String(query.operator)}`, 'query.operator');
  }
}

/** One page of a search, with Intercom's `pages` block. */
function search(call: VendorCall, list: Json[], key: 'data' | 'tickets'): Json {
  const body = obj(call.body);
  const hits = list.filter((r) => matches(r, obj(body.query)));
  const pagination = obj(body.pagination);
  const perPage = limitOf(pagination.per_page, 50, 150);
  const { page, next } = offsetPage(hits, pagination.starting_after as string | undefined, perPage);
  const start = pagination.starting_after ? hits.indexOf(page[0]!) : 0;
  const current = Math.floor(Math.max(0, start) / perPage) + 1;
  return {
    type: key === 'data' ? 'list' : 'ticket.list', [key]: page, total_count: hits.length,
    pages: { type: 'pages', page: current, per_page: perPage, total_pages: Math.max(1, Math.ceil(hits.length / perPage)), ...(next ? { next: { page: current + 1, starting_after: next } } : {}) },
  };
}

function contact(call: VendorCall, b: Json, id: string): Json {
  const now = epochSeconds(call.store.now());
  return {
    type: 'contact', id, workspace_id: 'sbx123', external_id: b.external_id ?? null, role: b.role ?? 'user', email: b.email ?? null, phone: b.phone ?? null, name: b.name ?? null,
    avatar: b.avatar ?? null, owner_id: b.owner_id ?? null, has_hard_bounced: false, marked_email_as_spam: false, unsubscribed_from_emails: b.unsubscribed_from_emails ?? false,
    created_at: now, updated_at: now, signed_up_at: b.signed_up_at ?? null, last_seen_at: b.last_seen_at ?? null, custom_attributes: b.custom_attributes ?? {},
  };
}

function ticketState(category: string, id = '7490'): Json {
  const label = category.replace(/_/g, ' ');
  return { type: 'ticket_state', id, category, internal_label: label, external_label: label };
}

function ticket(call: VendorCall, b: Json, id: string, type: Json): Json {
  const now = epochSeconds(call.store.now());
  const attributes = obj(b.ticket_attributes);
  const contacts = ((b.contacts as Json[] | undefined) ?? []).map((c) => ({ type: 'contact', id: String(c.id ?? c.external_id ?? c.email ?? ''), external_id: c.external_id ?? null }));
  return {
    type: 'ticket', id, ticket_id: id, ticket_attributes: attributes, ticket_state: ticketState('submitted'), ticket_type: { type: 'ticket_type', id: String(type.id), name: type.name },
    contacts: { type: 'contact.list', contacts }, admin_assignee_id: 0, team_assignee_id: 0, created_at: now, updated_at: now, open: true, is_shared: false,
  };
}

function reply(call: VendorCall, kind: 'ticket' | 'conversation'): Json {
  const list = call.store.list(kind === 'ticket' ? 'tickets' : 'conversations');
  const target = find(list, 'id', kind === 'ticket' ? call.params.ticket_id : call.params.conversation_id, kind, `${kind}_id`);
  const b = obj(call.body);
  const part = { type: 'conversation_part', id: call.store.id(), part_type: b.message_type, body: b.body ?? null, created_at: epochSeconds(call.store.now()), author: { type: b.type, id: String(b.admin_id ?? b.intercom_user_id ?? '') } };
  (target.parts as Json[] | undefined ?? (target.parts = [])).push(part);
  return kind === 'ticket' ? { type: 'ticket_part', id: part.id, part_type: part.part_type, body: part.body, created_at: part.created_at, author: part.author } : target;
}

export const intercomSite: VendorSite = {
  prefix: 'intercom',
  origin: 'https://api.intercom.io',
  connectors: ['intercom'],
  error(e) {
    const code = e.code ?? CODES[e.kind]!;
    return { status: e.status ?? STATUS[e.kind]!, body: { type: 'error.list', request_id: 'sbx-request', errors: [{ code, message: e.message, ...(e.field ? { field: e.field } : {}) }] } };
  },
  rateLimitHeaders: (seconds, now) => ({ 'x-ratelimit-limit': '10000', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(epochSeconds(now) + seconds) }),
  seed(store) {
    const at = 1732000000;
    store.list('contacts').push(
      { type: 'contact', id: '6762f0dd1bb69f9f2193bb83', workspace_id: 'sbx123', external_id: 'cust_0999', role: 'user', email: 'sam.lee@example.com', phone: null, name: 'Sam Lee', avatar: null, owner_id: null, has_hard_bounced: false, marked_email_as_spam: false, unsubscribed_from_emails: false, created_at: at, updated_at: at, signed_up_at: null, last_seen_at: null, custom_attributes: {} },
      // A customer whose deal was won, as crm-accounting-sync polls for them.
      { type: 'contact', id: '124', workspace_id: 'sbx123', external_id: null, role: 'user', email: 'luis@acme.example', phone: null, name: 'Luis Ortega', avatar: null, owner_id: null, has_hard_bounced: false, marked_email_as_spam: false, unsubscribed_from_emails: false, created_at: at, updated_at: at, signed_up_at: null, last_seen_at: null, custom_attributes: { company: 'Acme', deal_stage: 'won', deal_title: 'Acme pilot', deal_value: 3000 } },
      { type: 'contact', id: '123', workspace_id: 'sbx123', external_id: null, role: 'lead', email: 'dana@northwind.example', phone: null, name: 'Dana Whitfield', avatar: null, owner_id: null, has_hard_bounced: false, marked_email_as_spam: false, unsubscribed_from_emails: false, created_at: at, updated_at: at, signed_up_at: null, last_seen_at: null, custom_attributes: { company: 'Northwind' } },
    );
    store.list('tickets').push({
      type: 'ticket', id: '2114', ticket_id: '2114', ticket_attributes: { _default_title_: 'Refund request', _default_description_: 'Order 6700 arrived late.' }, ticket_state: ticketState('submitted'),
      ticket_type: { type: 'ticket_type', id: '1234', name: 'Refund request' }, contacts: { type: 'contact.list', contacts: [{ type: 'contact', id: '6762f0dd1bb69f9f2193bb83', external_id: 'cust_0999' }] },
      admin_assignee_id: 0, team_assignee_id: 0, created_at: 1735700000, updated_at: 1735700000, open: true, is_shared: false,
    });
    store.list('conversations').push({ type: 'conversation', id: '147', title: 'Where is my order?', created_at: at, updated_at: at, open: true, state: 'open', read: true, parts: [] });
    store.list('ticket_types').push({ id: '1234', name: 'Refund request' }, { id: '1235', name: 'Onboarding' });
    store.list('ticket_states').push({ id: '7493', name: 'Resolved', category: 'resolved' });
  },
  handlers: {
    'POST /contacts'(call) {
      const b = obj(call.body);
      if (b.email === undefined && b.external_id === undefined && b.role !== 'lead') throw new VendorError('invalid', 'One of email, external_id or role: lead is required', 'email', 'parameter_not_found');
      const same = call.store.list('contacts').find((c) => (b.email !== undefined && c.email === b.email) || (b.external_id !== undefined && c.external_id === b.external_id));
      if (same) throw new VendorError('conflict', `A contact matching those details already exists with id=${String(same.id)}`, 'email');
      // Numeric ids (real ones are hex): the examples pass them to add_note through int(), which both forms satisfy.
      const record = contact(call, b, call.store.id());
      call.store.list('contacts').push(record);
      return record;
    },
    'POST /contacts/search': (call) => search(call, call.store.list('contacts'), 'data'),
    'PUT /contacts/{contact_id}'(call) {
      const record = find(call.store.list('contacts'), 'id', call.params.contact_id, 'contact', 'contact_id');
      const b = obj(call.body);
      // Custom attributes not named keep their values, as Intercom's update does.
      Object.assign(record, b, { updated_at: epochSeconds(call.store.now()) }, b.custom_attributes !== undefined ? { custom_attributes: { ...obj(record.custom_attributes), ...obj(b.custom_attributes) } } : {});
      return record;
    },
    'POST /contacts/{contact_id}/notes'(call) {
      const record = find(call.store.list('contacts'), 'id', call.params.contact_id, 'contact', 'contact_id');
      const b = obj(call.body);
      const note = { type: 'note', id: call.store.id(), created_at: epochSeconds(call.store.now()), contact: { type: 'contact', id: record.id }, author: { type: 'admin', id: String(b.admin_id ?? '0'), name: 'Sandbox Admin', email: 'admin@example.com', away_mode_enabled: false, away_mode_reassign: false }, body: b.body };
      call.store.list('notes').push(note);
      return note;
    },
    'POST /companies'(call) {
      const b = obj(call.body);
      const companies = call.store.list('companies');
      const now = epochSeconds(call.store.now());
      let company = companies.find((c) => c.company_id === b.company_id);
      if (!company) {
        company = { type: 'company', id: call.store.id('65b0cc'), company_id: b.company_id, app_id: 'sbx123', created_at: now, remote_created_at: b.remote_created_at ?? now, user_count: 0, session_count: 0, custom_attributes: {} };
        companies.push(company);
      }
      // Intercom takes a plan by name and answers with a plan object.
      Object.assign(company, b, { updated_at: now }, b.plan !== undefined ? { plan: { type: 'plan', id: call.store.id(), name: b.plan } } : {});
      return company;
    },
    'POST /tickets'(call) {
      const b = obj(call.body);
      const type = find(call.store.list('ticket_types'), 'id', b.ticket_type_id, 'ticket type', 'ticket_type_id');
      for (const [i, c] of ((b.contacts as Json[] | undefined) ?? []).entries()) {
        if (c.id !== undefined) find(call.store.list('contacts'), 'id', c.id, 'contact', `contacts.${i}.id`);
      }
      const record = ticket(call, b, call.store.id(), type);
      call.store.list('tickets').push(record);
      return record;
    },
    'PUT /tickets/{ticket_id}'(call) {
      const record = find(call.store.list('tickets'), 'id', call.params.ticket_id, 'ticket', 'ticket_id');
      const b = obj(call.body);
      if (b.ticket_state_id !== undefined) {
        const state = find(call.store.list('ticket_states'), 'id', b.ticket_state_id, 'ticket state', 'ticket_state_id');
        record.ticket_state = ticketState(String(state.category), String(state.id));
        record.open = state.category !== 'resolved';
      }
      if (b.ticket_attributes !== undefined) record.ticket_attributes = { ...obj(record.ticket_attributes), ...obj(b.ticket_attributes) };
      if (b.open !== undefined) record.open = b.open;
      record.updated_at = epochSeconds(call.store.now());
      return record;
    },
    'POST /tickets/{ticket_id}/reply': (call) => reply(call, 'ticket'),
    'POST /tickets/search': (call) => search(call, call.store.list('tickets'), 'tickets'),
    'POST /conversations/{conversation_id}/reply': (call) => reply(call, 'conversation'),
  },
};

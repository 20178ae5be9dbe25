/**
 * Intercom: CRM contacts and companies, tickets, conversation replies. Checked against
 * Intercom's OpenAPI 3.0.1 description of API version 2.16 (schemas/vendor-specs/
 * intercom.json); every call carries `Intercom-Version: 2.16`, the version the shapes here
 * are checked against. Searches take Intercom's query objects, one filter or a group of
 * filters joined with AND or OR, and page with `pagination.starting_after`. Intercom has no
 * idempotency key: create_company is an upsert keyed by company_id, and a contact created
 * twice with one email is refused with a conflict, so retries do not duplicate either.
 */
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

/** The API version the operations are checked against, sent on every call. */
export const INTERCOM_VERSION = '2.16';

const COMPARISONS = ['=', '!=', 'IN', 'NIN', '<', '<=', '>', '>=', '~', '!~', '^', '$'];

/** Intercom's single filter: `{ field, operator, value }`. */
const filter = (example: unknown): FieldSpec => ({
  type: 'object',
  description: "A filter `{ field, operator, value }`: operators =, !=, IN, NIN (value a list), <, <=, >, >= (dates as Unix seconds), ~ and !~ (contains), ^ (starts with), $ (ends with).",
  properties: {
    field: { type: 'string', description: 'The attribute to filter on, e.g. email, name, created_at, custom_attributes.plan.', required: true },
    operator: { type: 'string', description: 'How to compare.', required: true, enum: COMPARISONS },
    value: {
      type: ['string', 'integer', 'boolean', 'array'], description: 'The value to compare with; a list for IN and NIN.', required: true,
      items: { type: ['string', 'integer'], description: 'One of the values.' },
    },
  },
  example,
});

const group = (join: string, example: unknown): FieldSpec => ({
  type: 'array',
  description: `Filters ${join === 'AND' ? 'that must all match' : 'of which at least one must match'} (sent as \`{ operator: ${join}, value: [...] }\`).`,
  items: { ...filter(undefined), description: 'A filter `{ field, operator, value }`.' },
  example,
});

/** Search fields: one filter, or a list joined with AND or OR; Intercom's page size and cursor. */
const searchFields = (examples: { query: unknown; all: unknown }): Record<string, FieldSpec> => ({
  query: filter(examples.query),
  all: group('AND', examples.all),
  any: group('OR', undefined),
  per_page: { type: 'integer', description: 'Results per page. Default 50.', minimum: 1, maximum: 150, example: 50 },
  starting_after: { type: 'string', description: "Cursor from a previous page (pages.next.starting_after)." },
});

/** `query`, `all` or `any` as Intercom's query object, and the page fields under `pagination`. */
function searchBody(f: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const query = f.query ?? (f.all !== undefined ? { operator: 'AND', value: f.all } : { operator: 'OR', value: f.any });
  const pagination = {
    ...(f.per_page !== undefined ? { per_page: f.per_page } : {}),
    ...(f.starting_after !== undefined ? { starting_after: f.starting_after } : {}),
  };
  return {
    query,
    ...(Object.keys(pagination).length > 0 ? { pagination } : {}),
    ...(f.sort_field !== undefined ? { sort: { field: f.sort_field, ...(f.sort_order !== undefined ? { order: f.sort_order } : {}) } } : {}),
  };
}

const customAttributes: FieldSpec = { type: 'object', description: 'Values of custom attributes defined in your workspace, by attribute name.', example: { plan: 'pro' } };

/** Contact attributes, shared by create and update. */
const contactFields = (required: boolean): Record<string, FieldSpec> => ({
  role: { type: 'string', description: 'user (a signed-up user) or lead.', enum: ['user', 'lead'], ...(required ? { example: 'user' } : {}) },
  email: { type: 'string', format: 'email', description: "The contact's email address.", example: 'jenny.rosen@example.com' },
  external_id: { type: 'string', description: 'Your own ID for the contact (the user ID in your system).', example: 'cust_1042' },
  name: { type: 'string', description: "The contact's full name.", example: 'Jenny Rosen' },
  phone: { type: 'string', description: "The contact's phone number.", example: '+15555550123' },
  avatar: { type: 'string', format: 'uri', description: 'URL of an avatar image.' },
  owner_id: { type: 'string', description: 'The ID of the teammate who owns the contact.' },
  signed_up_at: { type: 'integer', description: 'When the user signed up, in Unix seconds.', minimum: 0 },
  last_seen_at: { type: 'integer', description: 'When the contact was last seen, in Unix seconds.', minimum: 0 },
  unsubscribed_from_emails: { type: 'boolean', description: 'Whether the contact unsubscribed from emails.' },
  custom_attributes: customAttributes,
});

/** A teammate's reply (comment or internal note) on a ticket or conversation. */
const adminReply = (summary: string, path: string, idField: string, idSpec: FieldSpec): OperationSpec => ({
  summary,
  http: { method: 'POST', path, body: 'json', buildBody: (f) => ({ ...f, type: 'admin' }) },
  fields: {
    [idField]: idSpec,
    admin_id: { type: 'string', description: 'The ID of the teammate the reply is from.', required: true, example: '991267' },
    body: { type: 'string', description: 'The reply text (HTML allowed).', required: true, example: '<p>Thanks, we are on it.</p>' },
    message_type: { type: 'string', description: 'comment (the customer sees it) or note (teammates only).', enum: ['comment', 'note'], default: 'comment', example: 'comment' },
    attachment_urls: { type: 'array', description: 'Up to 10 URLs of files to attach.', items: { type: 'string', format: 'uri', description: 'A file URL.' } },
    created_at: { type: 'integer', description: 'When the reply was written, in Unix seconds (default now).', minimum: 0 },
    skip_notifications: { type: 'boolean', description: 'Do not notify the customer or teammates.' },
  },
  output: "Intercom's answer: the ticket reply or conversation, with its parts.",
});

const ticketId: FieldSpec = { type: 'string', description: 'The ID of the ticket.', required: true, in: 'path', example: '2114' };

export const intercomSpec: ConnectorSpec = {
  name: 'intercom',
  vendor: 'Intercom',
  category: 'crm',
  summary: 'Intercom: contacts, notes, companies, tickets and conversation replies.',
  baseUrl: 'https://api.intercom.io',
  auth: ['bearer'],
  vendorCheck: {
    checked: true, file: 'intercom.json', format: 'openapi-3.0',
    // The description types the notes path's contact_id as an integer; Intercom's contact IDs
    // are hex strings (6762f0dd1bb69f9f2193bb83), as its other contact paths type them.
    errata: { 'POST /contacts/{contact_id}/notes': ['path parameter `contact_id` must be integer'] },
  },
  headers: { 'Intercom-Version': INTERCOM_VERSION },
  rateLimit: { resetEpochSeconds: 'x-ratelimit-reset' },
  errorOf(body, status) {
    if (status < 400) return undefined;
    const errors = pick(body, 'errors');
    const first: unknown = Array.isArray(errors) ? errors[0] : undefined;
    const code = clipText(pick(first, 'code'), 60);
    const message = clipText(pick(first, 'message'));
    if (code === undefined && message === undefined) return `Intercom: HTTP ${status}`;
    return `Intercom: ${[code, message].filter(Boolean).join(': ')}`;
  },
  operations: {
    create_contact: {
      summary: 'Create a contact (a user or a lead).',
      http: { method: 'POST', path: '/contacts', body: 'json' },
      fields: contactFields(true),
      oneOf: [['email', 'external_id', 'role']],
      output: "Intercom's contact object: `{ type: contact, id, role, email, name, ... }`; `id` is for update_contact, add_note and tickets.",
    },
    search_contacts: {
      summary: 'Search contacts with a filter or a group of filters.',
      http: { method: 'POST', path: '/contacts/search', body: 'json', buildBody: searchBody },
      fields: {
        ...searchFields({ query: { field: 'email', operator: '=', value: 'jenny.rosen@example.com' }, all: undefined }),
        sort_field: { type: 'string', description: 'Attribute to sort by, e.g. created_at.' },
        sort_order: { type: 'string', description: 'Sort direction.', enum: ['ascending', 'descending'] },
      },
      oneOf: [['query', 'all', 'any']],
      exclusive: [['query', 'all', 'any']],
      pagination: { cursorField: 'starting_after', nextCursor: 'pages.next.starting_after', items: 'data' },
      output: "Intercom's contact list: `{ type: list, data, total_count, pages }`; with paginate: `{ items, count, has_more, next_cursor }`.",
    },
    update_contact: {
      summary: "Update a contact's attributes.",
      http: { method: 'PUT', path: '/contacts/{contact_id}', body: 'json' },
      fields: {
        contact_id: { type: 'string', description: 'The ID of the contact (the `id` Intercom gave it).', required: true, in: 'path', example: '6762f0dd1bb69f9f2193bb83' },
        ...contactFields(false),
      },
      output: "Intercom's contact object, as updated.",
    },
    add_note: {
      summary: 'Add a note to a contact.',
      http: { method: 'POST', path: '/contacts/{contact_id}/notes', body: 'json' },
      fields: {
        // Intercom's description types this path parameter as an integer (see errata above), but
        // the IDs create_contact and search_contacts return are hex strings; both are taken.
        contact_id: { type: ['string', 'integer'], description: 'The ID of the contact (the `id` Intercom gave it).', required: true, in: 'path', example: '6762f0dd1bb69f9f2193bb83' },
        body: { type: 'string', description: 'The note text (HTML allowed).', required: true, example: '<p>Asked for a call back on Monday.</p>' },
        admin_id: { type: 'string', description: 'The ID of the teammate writing the note.', example: '991267' },
      },
      output: "Intercom's note object: `{ type: note, id, body, author, contact, ... }`.",
    },
    create_company: {
      summary: 'Create a company, or update the one with this company_id.',
      http: { method: 'POST', path: '/companies', body: 'json' },
      fields: {
        company_id: { type: 'string', description: 'Your own ID for the company; a second call with it updates the company.', required: true, example: 'acme-42' },
        name: { type: 'string', description: "The company's name.", example: 'Acme Corp' },
        plan: { type: 'string', description: 'The plan the company is on.', example: 'pro' },
        size: { type: 'integer', description: 'Number of employees.', minimum: 0, example: 25 },
        website: { type: 'string', format: 'uri', description: "The company's website.", example: 'https://acme.example.com' },
        industry: { type: 'string', description: "The company's industry.", example: 'Manufacturing' },
        monthly_spend: { type: 'integer', description: 'How much the company pays you a month (whole units).', minimum: 0 },
        remote_created_at: { type: 'integer', description: 'When the company was created in your system, in Unix seconds.', minimum: 0 },
        custom_attributes: { ...customAttributes, description: 'Values (strings) of custom company attributes, by attribute name.' },
      },
      output: "Intercom's company object: `{ type: company, id, company_id, name, ... }`.",
    },
    create_ticket: {
      summary: 'Create a ticket for a contact.',
      http: {
        method: 'POST', path: '/tickets', body: 'json',
        buildBody(f) {
          const { contact_id, contact_email, contact_external_id, admin_assignee_id, team_assignee_id, ...rest } = f;
          // Intercom takes one contact, named by exactly one of its ID, external ID or email.
          const contact = contact_id !== undefined ? { id: contact_id } : contact_external_id !== undefined ? { external_id: contact_external_id } : { email: contact_email };
          const assignment = {
            ...(admin_assignee_id !== undefined ? { admin_assignee_id } : {}),
            ...(team_assignee_id !== undefined ? { team_assignee_id } : {}),
          };
          return { ...rest, contacts: [contact], ...(Object.keys(assignment).length > 0 ? { assignment } : {}) };
        },
      },
      fields: {
        ticket_type_id: { type: 'string', description: 'The ID of the ticket type.', required: true, example: '1234' },
        contact_id: { type: 'string', description: 'The contact the ticket is for, by Intercom ID.', example: '6762f0dd1bb69f9f2193bb83' },
        contact_external_id: { type: 'string', description: 'Or by your own ID for the contact.' },
        contact_email: { type: 'string', format: 'email', description: 'Or by email address.' },
        ticket_attributes: { type: 'object', description: 'Ticket attributes by name: _default_title_, _default_description_ and those of the ticket type.', example: { _default_title_: 'Refund request', _default_description_: 'Order 6735 arrived damaged.' } },
        company_id: { type: 'string', description: 'The ID of a company of the contact to link the ticket to.' },
        conversation_to_link_id: { type: 'string', description: 'The ID of a conversation to link to the ticket.' },
        admin_assignee_id: { type: 'string', description: 'Teammate to assign the ticket to.' },
        team_assignee_id: { type: 'string', description: 'Team to assign the ticket to.' },
        created_at: { type: 'integer', description: 'When the ticket was created, in Unix seconds (default now).', minimum: 0 },
        skip_notifications: { type: 'boolean', description: 'Do not notify the contact or teammates.' },
      },
      oneOf: [['contact_id', 'contact_external_id', 'contact_email']],
      exclusive: [['contact_id', 'contact_external_id', 'contact_email']],
      output: "Intercom's ticket object: `{ type: ticket, id, ticket_id, ticket_state, ticket_attributes, ... }`.",
    },
    update_ticket: {
      summary: "Update a ticket's attributes, state, assignee or open status.",
      http: { method: 'PUT', path: '/tickets/{ticket_id}', body: 'json' },
      fields: {
        ticket_id: ticketId,
        ticket_state_id: { type: 'string', description: 'The ID of the ticket state to move it to.', example: '7493' },
        ticket_attributes: { type: 'object', description: 'Ticket attributes to change, by name.', example: { _default_title_: 'Refund request (approved)' } },
        open: { type: 'boolean', description: 'false closes the ticket, true reopens it.' },
        is_shared: { type: 'boolean', description: 'Whether the customer can see the ticket.' },
        assignee_id: { type: 'string', description: 'Teammate or team to assign the ticket to (0 unassigns).' },
        admin_id: { type: 'integer', description: 'The teammate making the change (needed with assignee_id).', minimum: 1 },
        company_id: { type: 'string', description: 'The ID of the company to link the ticket to.' },
        snoozed_until: { type: 'integer', description: 'Snooze the ticket until this time, in Unix seconds.', minimum: 0 },
        skip_notifications: { type: 'boolean', description: 'Do not notify the contact or teammates.' },
      },
      output: "Intercom's ticket object, as updated.",
    },
    reply_ticket: adminReply('Reply to a ticket as a teammate, or add an internal note.', '/tickets/{ticket_id}/reply', 'ticket_id', ticketId),
    search_tickets: {
      summary: 'Search tickets with a filter or a group of filters.',
      http: { method: 'POST', path: '/tickets/search', body: 'json', buildBody: searchBody },
      fields: searchFields({ query: undefined, all: [{ field: 'open', operator: '=', value: true }, { field: 'created_at', operator: '>', value: 1735689600 }] }),
      oneOf: [['all', 'query', 'any']],
      exclusive: [['all', 'query', 'any']],
      pagination: { cursorField: 'starting_after', nextCursor: 'pages.next.starting_after', items: 'tickets' },
      output: "Intercom's ticket list: `{ type: ticket.list, tickets, total_count, pages }`; with paginate: `{ items, count, has_more, next_cursor }`.",
    },
    reply_conversation: adminReply('Reply to a conversation as a teammate, or add an internal note.', '/conversations/{conversation_id}/reply', 'conversation_id',
      { type: 'string', description: 'The ID of the conversation.', required: true, in: 'path', example: '147' }),
  },
};

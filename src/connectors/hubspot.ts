/**
 * HubSpot CRM: contacts and deals (create, search, update) through the CRM v3 objects API.
 * Written from HubSpot's documentation and not checked against a vendor description: HubSpot
 * publishes its API descriptions under a proprietary licence, so none is kept in this project.
 * Records carry their values under `properties`; the common ones are typed fields here, any
 * other (custom) property goes in `other_properties`. Searches page with `after` /
 * `paging.next.after`. HubSpot has no idempotency key: contacts are unique by email (a second
 * create is refused as a conflict), deals are not deduplicated.
 */
import { HUBSPOT_OAUTH } from './oauth/providers.js';
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

const OPERATORS = ['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN'];

const filter: FieldSpec = {
  type: 'object', description: 'A filter `{ propertyName, operator, value }` (values for IN and NOT_IN, value and highValue for BETWEEN).',
  properties: {
    propertyName: { type: 'string', description: 'Internal name of the property, e.g. email or dealstage.', required: true },
    operator: { type: 'string', description: 'How to compare.', required: true, enum: OPERATORS },
    value: { type: ['string', 'number', 'boolean'], description: 'The value to compare with (dates as epoch milliseconds).' },
    highValue: { type: ['string', 'number'], description: 'With BETWEEN: the upper bound.' },
    values: { type: 'array', description: 'With IN and NOT_IN: the values.', items: { type: 'string', description: 'A value.' } },
  },
};

/** Search fields shared by contacts and deals. */
const searchFields = (example: unknown, properties: string[]): Record<string, FieldSpec> => ({
  filters: { type: 'array', description: 'Filters that must all match (one filter group).', items: filter, example },
  filter_groups: {
    type: 'array', description: 'Or: groups of filters, any group matching (up to 5 groups).',
    items: { type: 'object', description: 'A filter group.', properties: { filters: { type: 'array', description: 'Filters that must all match.', required: true, items: filter } } },
  },
  query: { type: 'string', description: 'Text to search for in the default searchable properties.' },
  return_properties: { type: 'array', description: 'Properties to return (HubSpot\'s `properties`; default: a few basic ones).', items: { type: 'string', description: 'A property name.' }, example: properties },
  sorts: { type: 'array', description: 'Sort by: property names, or `{ propertyName, direction }` with ASCENDING or DESCENDING.', items: { type: ['string', 'object'], description: 'A sort.' } },
  limit: { type: 'integer', description: 'Results per page. Default 10.', minimum: 1, maximum: 200, example: 100 },
  after: { type: 'string', description: 'Cursor from a previous page (paging.next.after).' },
});

function searchBody(f: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { filters, filter_groups: groups, return_properties: properties, ...rest } = f;
  return { ...rest, ...(properties !== undefined ? { properties } : {}), ...(filters !== undefined ? { filterGroups: [{ filters }] } : groups !== undefined ? { filterGroups: groups } : {}) };
}

const search = (object: string, example: unknown, properties: string[]): OperationSpec => ({
  summary: `Search ${object} with filters, a text query, or both.`,
  http: { method: 'POST', path: `/crm/v3/objects/${object}/search`, body: 'json', buildBody: searchBody },
  fields: searchFields(example, properties),
  exclusive: [['filters', 'filter_groups']],
  pagination: { cursorField: 'after', nextCursor: 'paging.next.after', items: 'results' },
  output: 'HubSpot\'s answer: `{ total, results, paging }`, each result `{ id, properties, createdAt, updatedAt }`; with paginate: `{ items, count, has_more, next_cursor }`.',
});

/** Named property fields, plus `other_properties` for the rest, sent as HubSpot's `{ properties }`. */
function recordBody(named: readonly string[], extra: (f: Readonly<Record<string, unknown>>) => Record<string, unknown> = () => ({})) {
  return (f: Readonly<Record<string, unknown>>): Record<string, unknown> => {
    const properties: Record<string, unknown> = { ...((f.other_properties as Record<string, unknown> | undefined) ?? {}) };
    for (const k of named) if (f[k] !== undefined) properties[k] = f[k];
    return { properties, ...extra(f) };
  };
}

const otherProperties: FieldSpec = { type: 'object', description: 'Other properties (custom ones too) by internal name.', example: { hs_lead_status: 'NEW' } };

const CONTACT_PROPERTIES = ['email', 'firstname', 'lastname', 'phone', 'company', 'website', 'jobtitle', 'lifecyclestage'];
const contactFields = (): Record<string, FieldSpec> => ({
  email: { type: 'string', format: 'email', description: "The contact's email address (HubSpot's unique key for contacts).", example: 'jenny.rosen@example.com' },
  firstname: { type: 'string', description: 'First name.', example: 'Jenny' },
  lastname: { type: 'string', description: 'Last name.', example: 'Rosen' },
  phone: { type: 'string', description: 'Phone number.' },
  company: { type: 'string', description: 'Company name (text; not an association).' },
  website: { type: 'string', description: 'Website URL.' },
  jobtitle: { type: 'string', description: 'Job title.' },
  lifecyclestage: {
    type: 'string', description: 'Lifecycle stage (internal value).',
    enum: ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other'],
  },
  other_properties: otherProperties,
});

const DEAL_PROPERTIES = ['dealname', 'amount', 'dealstage', 'pipeline', 'closedate', 'hubspot_owner_id'];
const dealFields = (required: boolean): Record<string, FieldSpec> => ({
  dealname: { type: 'string', description: "The deal's name.", required, example: 'Acme Corp: 25 seats' },
  amount: { type: ['number', 'string'], description: 'Deal amount, in the currency of the account.', example: 4500 },
  dealstage: { type: 'string', description: 'Internal ID of the deal stage, e.g. appointmentscheduled or closedwon.', example: 'appointmentscheduled' },
  pipeline: { type: 'string', description: 'Internal ID of the pipeline (default: the default pipeline).', example: 'default' },
  closedate: { type: 'string', description: 'Expected close date, ISO 8601 (2025-06-30T00:00:00Z).' },
  hubspot_owner_id: { type: 'string', description: 'ID of the owner (a HubSpot user).' },
  other_properties: { ...otherProperties, example: undefined },
});

/** A new deal's associations: to contacts (type 3) and companies (type 5), HubSpot-defined. */
function dealAssociations(f: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const to = (ids: unknown, typeId: number) => (Array.isArray(ids) ? ids : []).map((id) => ({ to: { id: String(id) }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId }] }));
  const associations = [...to(f.contact_ids, 3), ...to(f.company_ids, 5)];
  return associations.length > 0 ? { associations } : {};
}

const recordId = (what: string, example: string): FieldSpec => ({ type: 'string', description: `The ${what}'s record ID (or the value of id_property).`, required: true, in: 'path', example });
const idProperty: FieldSpec = { type: 'string', description: 'Name a record by this unique property instead of its ID (e.g. email).', in: 'query', name: 'idProperty' };

export const hubspotSpec: ConnectorSpec = {
  name: 'hubspot',
  vendor: 'HubSpot',
  category: 'crm',
  summary: 'HubSpot CRM: contacts and deals.',
  baseUrl: 'https://api.hubapi.com',
  auth: ['bearer', 'oauth2'],
  oauth: HUBSPOT_OAUTH,
  vendorCheck: { checked: false, reason: "HubSpot's API descriptions are published under a proprietary licence; written from its documentation" },
  errorOf(body, status) {
    if (status < 400) return undefined;
    const category = clipText(pick(body, 'category'), 60);
    const message = clipText(pick(body, 'message'));
    if (category === undefined && message === undefined) return `HubSpot: HTTP ${status}`;
    return `HubSpot: ${[category, message].filter(Boolean).join(': ')}`;
  },
  operations: {
    create_contact: {
      summary: 'Create a contact.',
      http: { method: 'POST', path: '/crm/v3/objects/contacts', body: 'json', buildBody: recordBody(CONTACT_PROPERTIES) },
      fields: contactFields(),
      oneOf: [['email', 'firstname', 'lastname', 'other_properties']],
      output: "HubSpot's contact: `{ id, properties, createdAt, updatedAt, archived }`.",
    },
    search_contacts: search('contacts', [{ propertyName: 'email', operator: 'EQ', value: 'jenny.rosen@example.com' }], ['email', 'firstname', 'lastname', 'lifecyclestage']),
    update_contact: {
      summary: "Update a contact's properties.",
      http: { method: 'PATCH', path: '/crm/v3/objects/contacts/{contact_id}', body: 'json', buildBody: recordBody(CONTACT_PROPERTIES) },
      fields: { contact_id: recordId('contact', '151'), id_property: idProperty, ...contactFields() },
      output: "HubSpot's contact, as updated.",
    },
    create_deal: {
      summary: 'Create a deal, optionally associated with contacts and companies.',
      http: { method: 'POST', path: '/crm/v3/objects/deals', body: 'json', buildBody: recordBody(DEAL_PROPERTIES, dealAssociations) },
      fields: {
        ...dealFields(true),
        contact_ids: { type: 'array', description: 'Contacts (record IDs) to associate the deal with.', items: { type: 'string', description: 'A contact ID.' }, example: ['151'] },
        company_ids: { type: 'array', description: 'Companies (record IDs) to associate the deal with.', items: { type: 'string', description: 'A company ID.' } },
      },
      output: "HubSpot's deal: `{ id, properties, createdAt, updatedAt, archived }`.",
    },
    search_deals: search('deals', [{ propertyName: 'dealstage', operator: 'EQ', value: 'appointmentscheduled' }], ['dealname', 'amount', 'dealstage', 'closedate']),
    update_deal: {
      summary: "Update a deal's properties (move it to another stage, change its amount).",
      http: { method: 'PATCH', path: '/crm/v3/objects/deals/{deal_id}', body: 'json', buildBody: recordBody(DEAL_PROPERTIES) },
      fields: { deal_id: recordId('deal', '98210'), id_property: idProperty, ...dealFields(false), dealname: { ...dealFields(false).dealname!, example: undefined }, dealstage: { ...dealFields(false).dealstage!, example: 'closedwon' } },
      output: "HubSpot's deal, as updated.",
    },
  },
};

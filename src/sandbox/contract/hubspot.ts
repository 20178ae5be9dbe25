/**
 * HubSpot in the sandbox: CRM contacts and deals (create, search, update), played, not checked.
 * HubSpot publishes its API descriptions under a proprietary licence, so the project keeps none
 * and the sandbox cannot check requests against one as it does for the other vendors. Instead
 * the site is routed by the hubspot connector's own operations (method and path template), and
 * its handlers check only what HubSpot's documentation says it refuses: a body that is not a JSON
 * object, property values against the connector's field types (a required property missing, a
 * value outside an enumeration, an email address that is not one), filters and limits of a
 * search. A request the connector gets wrong in a way the connector's own spec cannot see would
 * pass here and fail at HubSpot.
 *
 * Records are HubSpot's `{ id, properties, createdAt, updatedAt, archived }`, every property
 * value a string; contacts are unique by email (a second create is the 409 CONFLICT "Contact
 * already exists. Existing ID: N"); searches take filterGroups, sorts, query, properties,
 * limit and `after`, and page with `paging.next.after`. Errors are
 * `{ status: 'error', message, correlationId, category }`, a 400's with `errors: [{ message, in, code }]`.
 */
import { randomUUID } from 'node:crypto';
import { hubspotSpec } from '../../connectors/hubspot.js';
import type { FieldSpec, OperationSpec } from '../../connectors/spec.js';
import { obj, VendorError, type Json, type VendorCall, type VendorSite } from './site.js';

/** One validation problem as HubSpot lists it under `errors`. */
interface Problem {
  readonly message: string;
  readonly in: string;
  readonly code: string;
}

/** A 400 listing every problem found (VendorError carries one field; HubSpot lists them all). */
class ValidationError extends VendorError {
  constructor(message: string, readonly problems: readonly Problem[]) {
    super('invalid', message, problems[0]?.in, problems[0]?.code);
  }
}

const STATUS: Record<string, number> = { invalid: 400, unauthorized: 401, not_found: 404, conflict: 409, rate_limited: 429 };
const CATEGORY: Record<string, string> = { invalid: 'VALIDATION_ERROR', unauthorized: 'INVALID_AUTHENTICATION', not_found: 'OBJECT_NOT_FOUND', conflict: 'CONFLICT', rate_limited: 'RATE_LIMITS' };

/** How each object type differs: what it is called, what a search returns by default, what its text query looks in. */
const OBJECTS = {
  contacts: { what: 'contact', modified: 'lastmodifieddate', shown: ['firstname', 'lastname', 'email'], searchable: ['firstname', 'lastname', 'email', 'phone', 'company', 'website'] },
  deals: { what: 'deal', modified: 'hs_lastmodifieddate', shown: ['dealname', 'amount', 'closedate', 'pipeline', 'dealstage'], searchable: ['dealname'] },
} as const;
type ObjectType = keyof typeof OBJECTS;

const BASE_PATH = new URL(hubspotSpec.baseUrl!).pathname.replace(/\/$/, '');
/** The connector's operations by route (`POST /crm/v3/objects/contacts`): what the site is routed by. */
const OPERATIONS = new Map<string, OperationSpec>(Object.values(hubspotSpec.operations).flatMap((op) => (op.http ? [[`${op.http.method} ${BASE_PATH}${op.http.path}`, op] as const] : [])));

const SCALAR = new Set(['string', 'number', 'integer', 'boolean']);
const OPERATORS = new Set(['EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN', 'NOT_CONTAINS_TOKEN']);

/** The connector's property fields of the operation at `call`: body fields of scalar type (email, dealname), not other_properties or association ids. */
function propertyFields(call: VendorCall): [string, FieldSpec][] {
  const op = OPERATIONS.get(`${call.method} ${call.template}`);
  return Object.entries(op?.fields ?? {}).filter(([, f]) => f.in === undefined && [f.type].flat().every((t) => SCALAR.has(t)));
}

/** The body's `properties` as strings, checked against the connector's field types; a 400 listing what is wrong. */
function propertiesOf(call: VendorCall, creating: boolean): Record<string, string> {
  if (call.body === null || typeof call.body !== 'object' || Array.isArray(call.body)) throw new ValidationError('Invalid input JSON: the body must be a JSON object', [{ message: 'The body must be a JSON object', in: 'body', code: 'INVALID_JSON' }]);
  const given = obj(obj(call.body).properties);
  const problems: Problem[] = [];
  const values: Record<string, string> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value === null || typeof value === 'object') problems.push({ message: `Property "${name}" must be a string, number or boolean`, in: name, code: 'INVALID_TYPE' });
    else values[name] = String(value);
  }
  for (const [name, f] of propertyFields(call)) {
    const value = values[name];
    if (value === undefined || value === '') {
      if (creating && f.required) problems.push({ message: `Property "${name}" is required`, in: name, code: 'REQUIRED' });
    } else if (f.enum && !f.enum.includes(value)) {
      problems.push({ message: `${value} was not one of the allowed options: [${f.enum.join(', ')}]`, in: name, code: 'INVALID_OPTION' });
    } else if (f.format === 'email' && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
      problems.push({ message: `Email address ${value} is invalid`, in: name, code: 'INVALID_EMAIL' });
    }
  }
  if (problems.length > 0) {
    const listed = problems.map((p) => ({ isValid: false, message: p.message, error: p.code, name: p.in }));
    throw new ValidationError(`Property values were not valid: ${JSON.stringify(listed)}`, problems);
  }
  return values;
}

/** A record as HubSpot answers with it: every property, or only `names` (null where unset) plus the ones it always returns. */
function render(record: Json, type: ObjectType, names?: readonly string[]): Json {
  const properties = obj(record.properties);
  const shown = names ? Object.fromEntries([...names, 'createdate', 'hs_object_id', OBJECTS[type].modified].map((n) => [n, properties[n] ?? null])) : { ...properties };
  return { id: record.id, properties: shown, createdAt: record.createdAt, updatedAt: record.updatedAt, archived: false };
}

function create(type: ObjectType) {
  return (call: VendorCall) => {
    const values = propertiesOf(call, true);
    const list = call.store.list(type);
    if (type === 'contacts' && values.email !== undefined) {
      const same = list.find((c) => String(obj(c.properties).email ?? '').toLowerCase() === values.email!.toLowerCase());
      if (same) throw new VendorError('conflict', `Contact already exists. Existing ID: ${String(same.id)}`);
    }
    const associations = type === 'deals' ? associationsOf(call) : [];
    const id = call.store.id();
    const at = new Date(call.store.now()).toISOString();
    const record: Json = {
      id, createdAt: at, updatedAt: at, archived: false,
      properties: { ...values, createdate: at, hs_object_id: id, [OBJECTS[type].modified]: at, ...(type === 'deals' && values.pipeline === undefined ? { pipeline: 'default' } : {}) },
      ...(associations.length > 0 ? { associations } : {}),
    };
    list.push(record);
    return { status: 201, body: render(record, type) };
  };
}

/** A new deal's associations; a contact (type 3) must exist. The sandbox keeps no companies, so company ids (type 5) are taken as given. */
function associationsOf(call: VendorCall): Json[] {
  const given = obj(call.body).associations;
  if (given === undefined) return [];
  if (!Array.isArray(given)) throw new ValidationError('associations must be an array', [{ message: 'associations must be an array', in: 'associations', code: 'INVALID_TYPE' }]);
  return given.map((a: unknown, i) => {
    const to = String(obj(obj(a).to).id ?? '');
    const typeId = obj((obj(a).types as unknown[] | undefined)?.[0]).associationTypeId;
    if (typeId === 3 && !call.store.list('contacts').some((c) => c.id === to)) {
      const message = `No contact with ID ${to} to associate the deal with`;
      throw new ValidationError(message, [{ message, in: `associations[${i}].to.id`, code: 'INVALID_ASSOCIATION' }]);
    }
    return { to, associationTypeId: typeId };
  });
}

function update(type: ObjectType, param: string) {
  return (call: VendorCall) => {
    const values = propertiesOf(call, false);
    const key = call.params[param]!;
    const by = call.query.get('idProperty');
    const record = call.store.list(type).find((r) => (by ? String(obj(r.properties)[by] ?? '').toLowerCase() === key.toLowerCase() : r.id === key));
    if (!record) throw new VendorError('not_found', `Object not found: no ${OBJECTS[type].what} with ${by ?? 'ID'} ${key}`);
    const at = new Date(call.store.now()).toISOString();
    Object.assign(obj(record.properties), values, { [OBJECTS[type].modified]: at });
    record.updatedAt = at;
    return render(record, type);
  };
}

/** Whether the property value `actual` passes one HubSpot filter. */
function passes(actual: string | undefined, f: Json): boolean {
  const has = actual !== undefined && actual !== '';
  const a = (actual ?? '').toLowerCase();
  const v = String(f.value ?? '').toLowerCase();
  const compare = (x: string, y: string) => {
    const nx = Number(x);
    const ny = Number(y);
    return x !== '' && y !== '' && Number.isFinite(nx) && Number.isFinite(ny) ? nx - ny : x.localeCompare(y);
  };
  switch (f.operator) {
    case 'EQ': return has && compare(a, v) === 0;
    case 'NEQ': return !has || compare(a, v) !== 0;
    case 'LT': return has && compare(a, v) < 0;
    case 'LTE': return has && compare(a, v) <= 0;
    case 'GT': return has && compare(a, v) > 0;
    case 'GTE': return has && compare(a, v) >= 0;
    case 'BETWEEN': return has && compare(a, v) >= 0 && compare(a, String(f.highValue ?? '').toLowerCase()) <= 0;
    case 'IN': return has && (Array.isArray(f.values) ? f.values : []).some((x: unknown) => compare(a, String(x).toLowerCase()) === 0);
    case 'NOT_IN': return !has || !(Array.isArray(f.values) ? f.values : []).some((x: unknown) => compare(a, String(x).toLowerCase()) === 0);
    case 'HAS_PROPERTY': return has;
    case 'NOT_HAS_PROPERTY': return !has;
    case 'CONTAINS_TOKEN': return has && containsToken(a, v);
    case 'NOT_CONTAINS_TOKEN': return !has || !containsToken(a, v);
    default: return false;
  }
}

/** HubSpot's token match: the value (with `*` wildcards) is the whole property or one of its words. */
function containsToken(actual: string, token: string): boolean {
  const pattern = new RegExp(`^${token.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return [actual, ...actual.split(/[\s@.,;:_\-/]+/)].some((word) => pattern.test(word));
}

/** The body's filter groups, each checked; a 400 for what HubSpot refuses. */
function filterGroupsOf(body: Json): Json[][] {
  const groups = body.filterGroups ?? [];
  const refuse = (message: string, at: string): never => {
    throw new ValidationError(message, [{ message, in: at, code: 'INVALID_FILTER' }]);
  };
  if (!Array.isArray(groups)) return refuse('filterGroups must be an array', 'filterGroups');
  if (groups.length > 5) refuse(`Up to 5 filterGroups are allowed, got ${groups.length}`, 'filterGroups');
  return groups.map((g: unknown, i) => {
    const filters = obj(g).filters;
    if (!Array.isArray(filters)) return refuse(`filterGroups[${i}].filters must be an array`, `filterGroups[${i}].filters`);
    if (filters.length > 6) refuse(`Up to 6 filters are allowed in a filter group, got ${filters.length}`, `filterGroups[${i}].filters`);
    return filters.map((f: unknown, j) => {
      const filter = obj(f);
      if (typeof filter.propertyName !== 'string' || filter.propertyName === '') refuse('A filter needs a propertyName', `filterGroups[${i}].filters[${j}].propertyName`);
      if (!OPERATORS.has(String(filter.operator))) refuse(`Unknown operator ${JSON.stringify(filter.operator)}; one of ${[...OPERATORS].join(', ')}`, `filterGroups[${i}].filters[${j}].operator`);
      return filter;
    });
  });
}

function search(type: ObjectType) {
  return (call: VendorCall) => {
    if (call.body === null || typeof call.body !== 'object' || Array.isArray(call.body)) throw new ValidationError('Invalid input JSON: the body must be a JSON object', [{ message: 'The body must be a JSON object', in: 'body', code: 'INVALID_JSON' }]);
    const body = obj(call.body);
    const groups = filterGroupsOf(body);
    const limit = body.limit === undefined ? 10 : Number(body.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new ValidationError(`limit must be an integer from 1 to 200, got ${JSON.stringify(body.limit)}`, [{ message: 'limit must be from 1 to 200', in: 'limit', code: 'INVALID_LIMIT' }]);
    const offset = body.after === undefined ? 0 : Number(body.after);
    if (!Number.isInteger(offset) || offset < 0) throw new ValidationError(`after must be a paging cursor from paging.next.after, got ${JSON.stringify(body.after)}`, [{ message: 'Invalid paging cursor', in: 'after', code: 'INVALID_AFTER' }]);
    const query = typeof body.query === 'string' ? body.query.toLowerCase() : '';
    const hits = call.store.list(type).filter((r) => {
      const p = obj(r.properties) as Record<string, string | undefined>;
      const inGroups = groups.length === 0 || groups.some((filters) => filters.every((f) => passes(p[String(f.propertyName)], f)));
      return inGroups && (query === '' || OBJECTS[type].searchable.some((n) => (p[n] ?? '').toLowerCase().includes(query)));
    });
    for (const s of [...(Array.isArray(body.sorts) ? body.sorts : [])].reverse()) {
      const name = typeof s === 'string' ? s : String(obj(s).propertyName ?? '');
      const sign = typeof s === 'object' && obj(s).direction === 'DESCENDING' ? -1 : 1;
      hits.sort((x, y) => sign * String(obj(x.properties)[name] ?? '').localeCompare(String(obj(y.properties)[name] ?? ''), undefined, { numeric: true }));
    }
    const names = Array.isArray(body.properties) ? body.properties.map(String) : OBJECTS[type].shown;
    const page = hits.slice(offset, offset + limit);
    const next = offset + page.length < hits.length ? { paging: { next: { after: String(offset + page.length) } } } : {};
    return { total: hits.length, results: page.map((r) => render(r, type, names)), ...next };
  };
}

/** The handler of each operation of the connector, by route. */
const HANDLERS = {
  [`POST ${BASE_PATH}/crm/v3/objects/contacts`]: create('contacts'),
  [`POST ${BASE_PATH}/crm/v3/objects/contacts/search`]: search('contacts'),
  [`PATCH ${BASE_PATH}/crm/v3/objects/contacts/{contact_id}`]: update('contacts', 'contact_id'),
  [`POST ${BASE_PATH}/crm/v3/objects/deals`]: create('deals'),
  [`POST ${BASE_PATH}/crm/v3/objects/deals/search`]: search('deals'),
  [`PATCH ${BASE_PATH}/crm/v3/objects/deals/{deal_id}`]: update('deals', 'deal_id'),
};

function seeded(id: string, properties: Record<string, string>, modified: string, associations?: Json[]): Json {
  const at = '2026-11-02T09:30:00.000Z';
  return { id, createdAt: at, updatedAt: at, archived: false, properties: { ...properties, createdate: at, hs_object_id: id, [modified]: at }, ...(associations ? { associations } : {}) };
}

export const hubspotSite: VendorSite = {
  prefix: 'hubspot',
  origin: 'https://api.hubapi.com',
  connectors: ['hubspot'],
  routes: [...OPERATIONS.keys()],
  oauth: { tokenPath: '/oauth/v1/token', clientAuth: 'either' },
  error(e) {
    const status = e.status ?? STATUS[e.kind]!;
    const category = status >= 500 ? 'INTERNAL_ERROR' : CATEGORY[e.kind]!;
    const problems = e instanceof ValidationError ? e.problems : e.kind === 'invalid' ? [{ message: e.message, in: e.field ?? 'body', code: e.code ?? 'INVALID' }] : undefined;
    const rate = e.kind === 'rate_limited' ? { errorType: 'RATE_LIMIT', policyName: 'TEN_SECONDLY_ROLLING' } : {};
    return { status, body: { status: 'error', message: e.message, correlationId: randomUUID(), category, ...rate, ...(problems ? { errors: problems } : {}) } };
  },
  rateLimitHeaders: () => ({ 'x-hubspot-ratelimit-interval-milliseconds': '10000', 'x-hubspot-ratelimit-max': '100', 'x-hubspot-ratelimit-remaining': '0' }),
  seed(store) {
    // What the connector's examples name: contact 151, deal 98210 at appointmentscheduled.
    store.list('contacts').push(seeded('151', { email: 'sam.lee@example.com', firstname: 'Sam', lastname: 'Lee', lifecyclestage: 'lead' }, 'lastmodifieddate'));
    store.list('deals').push(seeded('98210', { dealname: 'Northwind: renewal', amount: '1200', dealstage: 'appointmentscheduled', pipeline: 'default' }, 'hs_lastmodifieddate', [{ to: '151', associationTypeId: 3 }]));
  },
  handlers: HANDLERS,
};

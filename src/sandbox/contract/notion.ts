/**
 * Notion in the sandbox: pages created under a page or a database, updated, given blocks, and
 * queried through the database's data source (filtered, paged with `next_cursor`). Errors are
 * `{ object: 'error', status, code, message }` (`validation_failed`, `unauthorized`,
 * `object_not_found`, `rate_limited`).
 */
import { find, limitOf, obj, offsetPage, type Json, type VendorCall, type VendorSite } from './site.js';

const STATUS: Record<string, [number, string]> = {
  invalid: [400, 'validation_error'], unauthorized: [401, 'unauthorized'], not_found: [404, 'object_not_found'], conflict: [409, 'conflict_error'], rate_limited: [429, 'rate_limited'],
};

/** The data source each seeded database has. */
const DATA_SOURCES: Record<string, string> = { 'a42a62ed-9b51-4b98-9dea-ea6d091bc508': 'd9824bdc-8445-4327-be8b-5b47500af6ce' };

function page(call: VendorCall, parent: Json, properties: Json): Json {
  const now = new Date(call.store.now()).toISOString();
  const id = call.store.uuid();
  return {
    object: 'page', id, created_time: now, last_edited_time: now, created_by: { object: 'user', id: USER }, last_edited_by: { object: 'user', id: USER },
    cover: null, icon: null, parent, archived: false, in_trash: false, properties, url: `https://www.notion.so/${id.replace(/-/g, '')}`, public_url: null,
  };
}

const USER = 'b5c1a9e2-3d4f-4a6b-8c7d-9e0f1a2b3c4d';

/** The value a page property holds for a filter: a status or select name, a checkbox, text. */
function propertyValue(property: unknown): unknown {
  const p = obj(property);
  if (p.status !== undefined) return obj(p.status).name;
  if (p.select !== undefined) return obj(p.select).name;
  if (p.checkbox !== undefined) return p.checkbox;
  const text = (p.title ?? p.rich_text ?? (Array.isArray(property) ? property : undefined)) as Json[] | undefined;
  if (Array.isArray(text)) return text.map((t) => String(obj(t.text).content ?? t.plain_text ?? '')).join('');
  return undefined;
}

function passes(pageRecord: Json, filter: Json): boolean {
  if (Array.isArray(filter.and)) return (filter.and as Json[]).every((f) => passes(pageRecord, f));
  if (Array.isArray(filter.or)) return (filter.or as Json[]).some((f) => passes(pageRecord, f));
  if (filter.property === undefined) return true;
  const value = propertyValue(obj(pageRecord.properties)[String(filter.property)]);
  const condition = obj(Object.entries(filter).find(([k]) => k !== 'property' && k !== 'type')?.[1]);
  if ('equals' in condition) return value === condition.equals;
  if ('does_not_equal' in condition) return value !== condition.does_not_equal;
  if ('contains' in condition) return String(value ?? '').includes(String(condition.contains));
  if ('is_empty' in condition) return value === undefined || value === '';
  return true;
}

export const notionSite: VendorSite = {
  prefix: 'notion',
  origin: 'https://api.notion.com',
  connectors: ['notion'],
  error(e) {
    const [status, code] = STATUS[e.kind]!;
    return { status: e.status ?? status, body: { object: 'error', status: e.status ?? status, code: e.code ?? code, message: e.message, request_id: 'sbx-request' } };
  },
  seed(store) {
    store.list('databases').push({ id: 'd9824bdc-8445-4327-be8b-5b47500af6ce', title: 'Tasks' });
    store.list('pages').push({
      object: 'page', id: '59833787-2cf9-4fdf-8782-e53db20768a5', created_time: '2026-11-01T09:00:00.000Z', last_edited_time: '2026-11-01T09:00:00.000Z',
      created_by: { object: 'user', id: USER }, last_edited_by: { object: 'user', id: USER }, cover: null, icon: null, parent: { type: 'workspace', workspace: true },
      archived: false, in_trash: false, properties: { title: [{ text: { content: 'Weekly status' } }] }, url: 'https://www.notion.so/598337872cf94fdf8782e53db20768a5', public_url: null,
    });
  },
  handlers: {
    'POST /v1/pages'(call) {
      const b = obj(call.body);
      const parent = obj(b.parent);
      if (parent.database_id !== undefined) find(call.store.list('databases'), 'id', parent.database_id, 'database', 'parent.database_id');
      else if (parent.page_id !== undefined) find(call.store.list('pages'), 'id', parent.page_id, 'page', 'parent.page_id');
      const record = page(call, parent, obj(b.properties));
      call.store.list('pages').push(record);
      if (Array.isArray(b.children)) call.store.list('blocks').push(...(b.children as Json[]).map((c) => ({ ...c, parent_id: record.id })));
      return record;
    },
    'PATCH /v1/pages/{page_id}'(call) {
      const record = find(call.store.list('pages'), 'id', call.params.page_id, 'page', 'page_id');
      const b = obj(call.body);
      record.properties = { ...obj(record.properties), ...obj(b.properties) };
      for (const k of ['icon', 'cover', 'archived', 'in_trash']) if (b[k] !== undefined) record[k] = b[k];
      record.last_edited_time = new Date(call.store.now()).toISOString();
      return record;
    },
    'PATCH /v1/blocks/{block_id}/children'(call) {
      const parent = call.store.list('pages').find((p) => p.id === call.params.block_id) ?? find(call.store.list('blocks'), 'id', call.params.block_id, 'block', 'block_id');
      const now = new Date(call.store.now()).toISOString();
      const added = ((obj(call.body).children as Json[] | undefined) ?? []).map((c) => ({
        object: 'block', id: call.store.uuid(), parent: { type: 'page_id', page_id: parent.id }, created_time: now, last_edited_time: now,
        created_by: { object: 'user', id: USER }, last_edited_by: { object: 'user', id: USER }, has_children: false, archived: false, in_trash: false, ...c,
      }));
      call.store.list('blocks').push(...added);
      return { object: 'list', results: added, next_cursor: null, has_more: false, type: 'block', block: {} };
    },
    'POST /v1/data_sources/{data_source_id}/query'(call) {
      const source = call.params.data_source_id!;
      const database = DATA_SOURCES[source];
      if (database === undefined) find([], 'id', source, 'data source', 'data_source_id');
      const b = obj(call.body);
      const hits = call.store.list('pages').filter((p) => (obj(p.parent).database_id === database || obj(p.parent).data_source_id === source) && passes(p, obj(b.filter)));
      const { page: results, next } = offsetPage(hits, b.start_cursor as string | undefined, limitOf(b.page_size, 100, 100));
      return { object: 'list', results, next_cursor: next ?? null, has_more: next !== undefined, type: 'page_or_data_source', page_or_data_source: {} };
    },
  },
};

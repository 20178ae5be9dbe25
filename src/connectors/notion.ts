/**
 * Notion: create and update pages, append blocks, query a data source (the rows of a
 * database). Checked against the OpenAPI 3.1 description Notion keeps for its own tools
 * (schemas/vendor-specs/notion.json; Notion-Version 2025-09-03). Every call sends the
 * `Notion-Version` header; queries page with `start_cursor`/`next_cursor`; errors
 * `{ object: "error", code, message }` become "Notion: <code>: <message>".
 */
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

const notionVersion: FieldSpec = {
  type: 'string', description: 'The Notion API version the call is made against (the Notion-Version header).',
  in: 'header', name: 'Notion-Version', default: '2025-09-03', pattern: '^\\d{4}-\\d{2}-\\d{2}$',
};
const uuid = (description: string, example: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({ type: 'string', format: 'uuid', description, example, ...extra });
const properties: FieldSpec = {
  type: 'object',
  description: "Property values by property name, in Notion's shape, e.g. `{ Name: { title: [{ text: { content: 'Acme' } }] } }`; a page under a page takes only `title`.",
  example: { title: [{ text: { content: 'Call notes: Acme Corp' } }] },
};
const lines = (description: string, example?: string[]): FieldSpec => ({
  type: 'array', description, items: { type: 'string', description: 'A line of text.' }, ...(example ? { example } : {}),
});

/** Lines of text as Notion blocks of one type: paragraph or bulleted_list_item. */
function blocks(type: string, value: unknown): unknown[] {
  if (!Array.isArray(value)) return [];
  return value.map((line) => ({ type, [type]: { rich_text: [{ type: 'text', text: { content: String(line) } }] } }));
}

const op = (o: OperationSpec): OperationSpec => ({ ...o, fields: { ...o.fields, notion_version: notionVersion } });

export const notionSpec: ConnectorSpec = {
  name: 'notion',
  vendor: 'Notion',
  category: 'documents',
  summary: 'Notion: create and update pages, append blocks, query data sources.',
  baseUrl: 'https://api.notion.com',
  auth: ['bearer'],
  vendorCheck: { checked: true, file: 'notion.json', format: 'openapi-3.1' },
  errorOf(body, status) {
    if (status < 400 && pick(body, 'object') !== 'error') return undefined;
    const code = clipText(pick(body, 'code'), 60);
    const message = clipText(pick(body, 'message')) ?? `HTTP ${status}`;
    return `Notion: ${code ? `${code}: ` : ''}${message}`;
  },
  operations: {
    create_page: op({
      summary: 'Create a page under a page, or a row in a database.',
      http: {
        method: 'POST', path: '/v1/pages', body: 'json',
        buildBody: (f) => ({
          parent: f.database_id !== undefined ? { type: 'database_id', database_id: f.database_id } : { page_id: f.parent_page_id },
          properties: f.properties ?? {},
        }),
      },
      fields: {
        parent_page_id: uuid('Create the page under this page (its ID).', '59833787-2cf9-4fdf-8782-e53db20768a5'),
        database_id: uuid('Or add the page as a row of this database (its ID).', 'd9824bdc-8445-4327-be8b-5b47500af6ce'),
        properties: { ...properties, required: true },
      },
      oneOf: [['parent_page_id', 'database_id']],
      output: "Notion's page object: `{ object: page, id, url, properties, ... }`; `id` is what update_page and append_blocks take.",
    }),
    update_page: op({
      summary: "Change a page's properties, icon or cover, or move it to the trash.",
      http: {
        method: 'PATCH', path: '/v1/pages/{page_id}', body: 'json',
        buildBody: (f) => ({
          ...(f.properties !== undefined ? { properties: f.properties } : {}),
          ...(f.in_trash !== undefined ? { in_trash: f.in_trash } : {}),
          ...(f.icon_emoji !== undefined ? { icon: { emoji: f.icon_emoji } } : {}),
          ...(f.cover_url !== undefined ? { cover: { type: 'external', external: { url: f.cover_url } } } : {}),
        }),
      },
      fields: {
        page_id: uuid('The page to update.', '59833787-2cf9-4fdf-8782-e53db20768a5', { required: true, in: 'path' }),
        properties: { ...properties, description: 'Property values to change, by property name (others are left as they are).', example: { Status: { status: { name: 'Done' } } } },
        in_trash: { type: 'boolean', description: 'true moves the page to the trash; false restores it.' },
        icon_emoji: { type: 'string', description: "The page's icon, an emoji.", example: '✅' },
        cover_url: { type: 'string', format: 'uri', description: "The page's cover, an external image URL." },
      },
      oneOf: [['properties', 'in_trash', 'icon_emoji', 'cover_url']],
      output: "Notion's page object after the update.",
    }),
    append_blocks: op({
      summary: 'Add paragraphs or bullet points to the end of a page (or after a block).',
      http: {
        method: 'PATCH', path: '/v1/blocks/{block_id}/children', body: 'json',
        buildBody: (f) => ({
          children: [...blocks('paragraph', f.paragraphs), ...blocks('bulleted_list_item', f.bullets)],
          ...(f.after !== undefined ? { after: f.after } : {}),
        }),
      },
      fields: {
        block_id: uuid('The page (or block) to add to: its ID.', '59833787-2cf9-4fdf-8782-e53db20768a5', { required: true, in: 'path' }),
        paragraphs: lines('Paragraphs to add, one per line of the list.', ['Called Acme about the renewal.', 'They want a quote by Friday.']),
        bullets: lines('Bullet points to add (after the paragraphs), one per item.', ['Send quote', 'Book follow-up call']),
        after: uuid('Insert after this block (its ID) instead of at the end.', '7a7e7ab8-0c4f-4c52-8a79-5d2f5a4d9e10'),
      },
      oneOf: [['paragraphs', 'bullets']],
      output: "Notion's answer: `{ object: list, results }`, the blocks added.",
    }),
    query_data_source: op({
      summary: 'Find rows (pages) of a data source, with a filter and sorts.',
      http: { method: 'POST', path: '/v1/data_sources/{data_source_id}/query', body: 'json' },
      fields: {
        data_source_id: uuid('The data source to query (a database has one; its ID is in the database settings).', 'a42a62ed-9b51-4b98-9dea-ea6d091bc508', { required: true, in: 'path' }),
        filter: { type: 'object', description: "A Notion filter, e.g. `{ property: Status, status: { equals: Open } }`.", example: { property: 'Status', status: { equals: 'Open' } } },
        sorts: {
          type: 'array', description: 'Order of the rows: a list of `{ property, direction }`.',
          items: {
            type: 'object', description: 'A sort.',
            properties: {
              property: { type: 'string', description: 'Property name.', required: true },
              direction: { type: 'string', description: 'ascending or descending.', enum: ['ascending', 'descending'], required: true },
            },
          },
          example: [{ property: 'Due', direction: 'ascending' }],
        },
        page_size: { type: 'integer', description: 'Rows per page (default 100).', minimum: 1, maximum: 100, example: 100 },
        start_cursor: { type: 'string', description: "Cursor from a previous page's next_cursor." },
        in_trash: { type: 'boolean', description: 'Query the rows in the trash instead.' },
        filter_properties: { type: 'array', description: 'Return only these properties (their IDs).', in: 'query', items: { type: 'string', description: 'A property ID.' } },
      },
      pagination: { cursorField: 'start_cursor', nextCursor: 'next_cursor', items: 'results', hasMore: 'has_more' },
      output: "Notion's list: `{ object: list, results, has_more, next_cursor }`; with paginate: `{ items, count, has_more, next_cursor }`.",
    }),
  },
};

/**
 * Box: create folders, list a folder's items, share a file by link. Checked against Box's
 * OpenAPI 3.0 description (schemas/vendor-specs/box.json, whose path keys tell some
 * operations apart with a `#fragment`). Listing pages with Box's markers (`usemarker=true`,
 * `marker`/`next_marker`); errors `{ type: "error", code, message }` become
 * "Box: <code>: <message>". Uploading a small text file is a multipart/form-data body (its
 * `attributes` JSON before the `file`), sent to Box's upload host.
 */
import { BOX_OAUTH } from './oauth/providers.js';
import { DEFAULT_TEXT_TYPE, TEXT_CONTENT_FIELDS, type ConnectorSpec, type FieldSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

/** Box's IDs are decimal numbers as text; "0" is the root folder ("All Files"). */
const id = (description: string, example: string, extra: Partial<FieldSpec> = {}): FieldSpec => ({ type: 'string', description, example, pattern: '^[0-9]+$', ...extra });

export const boxSpec: ConnectorSpec = {
  name: 'box',
  vendor: 'Box',
  category: 'documents',
  summary: 'Box: create folders, list folder items, upload small files, share files by link.',
  baseUrl: 'https://api.box.com/2.0',
  auth: ['bearer', 'oauth2'],
  oauth: BOX_OAUTH,
  vendorCheck: { checked: true, file: 'box.json', format: 'openapi-3.0' },
  errorOf(body, status) {
    if (status < 400) return undefined;
    const code = clipText(pick(body, 'code'), 60);
    const message = clipText(pick(body, 'message')) ?? `HTTP ${status}`;
    return `Box: ${code ? `${code}: ` : ''}${message}`;
  },
  operations: {
    create_folder: {
      summary: 'Create a folder inside a folder.',
      http: { method: 'POST', path: '/folders', body: 'json', buildBody: (f) => ({ name: f.name, parent: { id: String(f.parent_id) } }) },
      fields: {
        name: { type: 'string', description: 'Folder name (1 to 255 characters, unique in its parent; no / or \\).', required: true, example: 'Acme Corp - Contracts' },
        parent_id: id('The folder to create it in; "0" is the root (All Files).', '0', { required: true }),
      },
      output: "Box's folder object: `{ type: folder, id, name, ... }`; `id` is the new folder's ID.",
    },
    list_folder_items: {
      summary: "List the files, folders and web links in a folder.",
      http: { method: 'GET', path: '/folders/{folder_id}/items', query: { usemarker: 'true' } },
      fields: {
        folder_id: id('The folder to list; "0" is the root (All Files).', '0', { required: true, in: 'path' }),
        limit: { type: 'integer', description: 'Items per page (default 100).', in: 'query', minimum: 1, maximum: 1000, example: 100 },
        marker: { type: 'string', description: "Cursor from a previous page's next_marker.", in: 'query' },
        sort: { type: 'string', description: 'Order by id, name, date or size.', in: 'query', enum: ['id', 'name', 'date', 'size'] },
        direction: { type: 'string', description: 'Ascending (ASC) or descending (DESC).', in: 'query', enum: ['ASC', 'DESC'] },
      },
      pagination: { cursorField: 'marker', nextCursor: 'next_marker', items: 'entries' },
      output: "Box's item list: `{ entries, limit, next_marker }`; with paginate: `{ items, count, has_more, next_cursor }`.",
    },
    upload_file: {
      summary: 'Upload a small text file (up to 5 MiB) into a folder.',
      http: {
        method: 'POST', path: '/files/content', body: 'multipart/form-data', baseUrl: 'https://upload.box.com/api/2.0',
        parts: (f) => [
          {
            name: 'attributes', contentType: 'application/json',
            content: JSON.stringify({ name: f.name, parent: { id: String(f.parent_id) }, ...(f.content_modified_at !== undefined ? { content_modified_at: f.content_modified_at } : {}) }),
          },
          { name: 'file', filename: String(f.name), contentType: typeof f.content_type === 'string' ? f.content_type : DEFAULT_TEXT_TYPE, content: String(f.content ?? '') },
        ],
      },
      fields: {
        name: { type: 'string', description: 'File name (unique in its folder; no / or \\).', required: true, example: 'invoice-000123.csv' },
        parent_id: id('The folder to upload into; "0" is the root (All Files).', '0', { required: true }),
        ...TEXT_CONTENT_FIELDS,
        content_modified_at: { type: 'string', format: 'date-time', description: 'When the content last changed, if not now (RFC 3339).' },
      },
      output: "Box's answer: `{ total_count, entries: [{ type: file, id, name, ... }] }`; `entries[0].id` is the new file's ID. A name already in the folder is refused (409 item_name_in_use).",
    },
    share_file: {
      summary: 'Create (or change) the shared link of a file.',
      http: {
        method: 'PUT', path: '/files/{file_id}', body: 'json', query: { fields: 'shared_link' },
        buildBody: (f) => ({
          shared_link: {
            ...(f.access !== undefined ? { access: f.access } : {}),
            ...(f.password !== undefined ? { password: f.password } : {}),
            ...(f.unshared_at !== undefined ? { unshared_at: f.unshared_at } : {}),
            ...(f.can_download !== undefined ? { permissions: { can_download: f.can_download } } : {}),
          },
        }),
      },
      fields: {
        file_id: id('The file to share (its ID).', '12345678901', { required: true, in: 'path' }),
        access: { type: 'string', description: 'Who can open the link: open (anyone), company, or collaborators. Default: the enterprise setting.', enum: ['open', 'company', 'collaborators'], example: 'open' },
        password: { type: 'string', description: 'A password the link asks for (use ${{ secrets.NAME }}).' },
        unshared_at: { type: 'string', description: 'When the link stops working (an RFC 3339 time, e.g. 2026-12-31T23:59:59Z).', format: 'date-time', example: '2026-12-31T23:59:59Z' },
        can_download: { type: 'boolean', description: 'Whether people with the link can download the file.' },
      },
      output: "Box's file object with `shared_link`: `{ id, shared_link: { url, download_url, access, ... } }`; `shared_link.url` is the link to send.",
    },
  },
};

/**
 * Box in the sandbox: folders created (a name taken in the parent is a 409), folder items
 * listed with markers (`usemarker=true`, `next_marker`), and files shared by link. Errors are
 * `{ type: 'error', status, code, message }`.
 */
import { find, limitOf, obj, offsetPage, VendorError, type Json, type VendorSite } from './site.js';

const STATUS: Record<string, [number, string]> = {
  invalid: [400, 'bad_request'], unauthorized: [401, 'unauthorized'], not_found: [404, 'not_found'], conflict: [409, 'item_name_in_use'], rate_limited: [429, 'rate_limit_exceeded'],
};

function mini(item: Json): Json {
  return { type: item.type, id: item.id, name: item.name, etag: '0', sequence_id: '0' };
}

export const boxSite: VendorSite = {
  prefix: 'box',
  origin: 'https://api.box.com',
  connectors: ['box'],
  error(e) {
    const [status, code] = STATUS[e.kind]!;
    return { status: e.status ?? status, body: { type: 'error', status: e.status ?? status, code: e.code ?? code, message: e.message, request_id: 'sbxrequest' } };
  },
  seed(store) {
    store.list('items').push(
      { type: 'folder', id: '0', name: 'All Files', parent: null },
      { type: 'file', id: '12345678901', name: 'Contract.pdf', parent: '0', size: 1024 },
      { type: 'file', id: '12345678902', name: 'Quote.pdf', parent: '0', size: 2048 },
    );
  },
  handlers: {
    'POST /folders'(call) {
      const b = obj(call.body);
      const parentId = String(obj(b.parent).id);
      const parent = find(call.store.list('items').filter((i) => i.type === 'folder'), 'id', parentId, 'folder', 'parent.id');
      if (call.store.list('items').some((i) => i.parent === parentId && i.name === b.name)) throw new VendorError('conflict', `Item with the same name already exists: ${String(b.name)}`, 'name');
      const folder = { type: 'folder', id: call.store.id('2'), name: b.name, parent: parentId };
      call.store.list('items').push(folder);
      return { status: 201, body: { ...mini(folder), parent: mini(parent), item_status: 'active' } };
    },
    'GET /folders/{folder_id}/items'(call) {
      find(call.store.list('items').filter((i) => i.type === 'folder'), 'id', call.params.folder_id, 'folder', 'folder_id');
      const inside = call.store.list('items').filter((i) => i.parent === call.params.folder_id);
      const limit = limitOf(call.query.get('limit'), 100, 1000);
      if (call.query.get('usemarker') === 'true') {
        const { page, next } = offsetPage(inside, call.query.get('marker'), limit);
        return { entries: page.map(mini), limit, ...(next ? { next_marker: next } : {}) };
      }
      const offset = Number(call.query.get('offset') ?? 0);
      return { entries: inside.slice(offset, offset + limit).map(mini), limit, offset, total_count: inside.length };
    },
    'PUT /files/{file_id}#add_shared_link'(call) {
      const file = find(call.store.list('items').filter((i) => i.type === 'file'), 'id', call.params.file_id, 'file', 'file_id');
      const link = obj(obj(call.body).shared_link);
      // Box's description requires `accessed` beside `access` (a quirk of its schema), so both are sent.
      file.shared_link = { url: `https://app.box.com/s/sbx${String(file.id)}`, access: link.access ?? 'open', accessed: link.access ?? 'open', effective_access: link.access ?? 'open', effective_permission: 'can_download', is_password_enabled: false, download_count: 0, preview_count: 0, ...(link.unshared_at ? { unshared_at: link.unshared_at } : {}) };
      return { ...mini(file), shared_link: file.shared_link };
    },
  },
};

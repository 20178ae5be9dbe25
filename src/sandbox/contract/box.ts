/**
 * Box in the sandbox: folders created (a name taken in the parent is a 409), folder items
 * listed with markers (`usemarker=true`, `next_marker`), small files uploaded as
 * multipart/form-data (`attributes` JSON, then `file`) at Box's upload host, which the same
 * prefix stands for (`<sandbox>/box/2.0/files/content` is upload.box.com/api/2.0/files/content),
 * and files shared by link. Tokens come from `<sandbox>/box/oauth2/token`. Errors are
 * `{ type: 'error', status, code, message }`.
 */
import { find, iso, limitOf, multipartOf, obj, offsetPage, VendorError, type Json, type VendorSite } from './site.js';

const STATUS: Record<string, [number, string]> = {
  invalid: [400, 'bad_request'], unauthorized: [401, 'unauthorized'], not_found: [404, 'not_found'], conflict: [409, 'item_name_in_use'], rate_limited: [429, 'rate_limit_exceeded'],
};

function mini(item: Json): Json {
  return { type: item.type, id: item.id, name: item.name, etag: '0', sequence_id: '0' };
}

export const boxSite: VendorSite = {
  prefix: 'box',
  origin: 'https://api.box.com',
  otherOrigins: ['https://upload.box.com/api'],
  connectors: ['box'],
  oauth: { tokenPath: '/oauth2/token', clientAuth: 'either' },
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
    'POST /files/content'(call) {
      const parts = multipartOf(call);
      const named = (name: string) => parts.find((p) => new RegExp(`;\\s*name="${name}"`).test(p.headers['content-disposition'] ?? ''));
      const attributes = named('attributes');
      const file = named('file');
      // Box reads the attributes before the file: the other order is refused.
      if (!attributes || !file || parts.indexOf(attributes) > parts.indexOf(file)) throw new VendorError('invalid', 'The attributes part must come before the file part', 'attributes', 'bad_request');
      let attrs: Json;
      try {
        attrs = obj(JSON.parse(attributes.content));
      } catch {
        throw new VendorError('invalid', 'attributes is not JSON', 'attributes', 'bad_request');
      }
      const parentId = String(obj(attrs.parent).id);
      const parent = find(call.store.list('items').filter((i) => i.type === 'folder'), 'id', parentId, 'folder', 'parent.id');
      if (call.store.list('items').some((i) => i.parent === parentId && i.name === attrs.name)) throw new VendorError('conflict', `Item with the same name already exists: ${String(attrs.name)}`, 'name');
      const now = iso(call.store.now());
      const item = { type: 'file', id: call.store.id('1'), name: attrs.name, parent: parentId, size: Buffer.byteLength(file.content), content: file.content };
      call.store.list('items').push(item);
      return {
        status: 201,
        body: { total_count: 1, entries: [{ ...mini(item), size: item.size, parent: mini(parent), created_at: now, modified_at: attrs.content_modified_at ?? now, item_status: 'active', path_collection: { total_count: 1, entries: [mini(parent)] } }] },
      };
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

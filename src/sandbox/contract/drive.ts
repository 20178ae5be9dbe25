/**
 * Google Drive in the sandbox, served with Calendar on www.googleapis.com (the `/google`
 * prefix): files and folders created from metadata, small files uploaded as
 * multipart/related (metadata part, then content), files listed with a subset of Drive's query
 * language (`name contains 'x'`, `name = 'x'`, `'<id>' in parents`, `trashed = false|true`,
 * `mimeType = 'x'`, joined by `and`) and `pageToken`, metadata patched (with `addParents` and
 * `removeParents` to move a file), and files shared (permissions). Answers carry Drive's
 * default fields (`kind, id, name, mimeType`) unless a `fields` selector asks for others.
 */
import { find, iso, limitOf, multipartOf, obj, offsetPage, VendorError, type Handler, type Json, type VendorCall, type VendorStore } from './site.js';

const FOLDER = 'application/vnd.google-apps.folder';
const ROOT = 'root';
const DEFAULT_FIELDS = ['kind', 'id', 'name', 'mimeType'];

/** Drive's "File not found" 404, on the parameter at fault. */
function notFound(id: unknown, field: string): VendorError {
  return new VendorError('not_found', `File not found: ${String(id)}.`, field, 'notFound');
}

/** Drive's 400 for a query it cannot read. */
function invalidQuery(why: string): VendorError {
  return new VendorError('invalid', `Invalid Value: ${why}`, 'q', 'invalid');
}

function fileOf(call: VendorCall, id: unknown, field = 'fileId'): Json {
  const file = call.store.list('files').find((f) => f.id === id);
  if (!file) throw notFound(id, field);
  return file;
}

/** The folders named in `ids`, each of which must exist ("root" is My Drive). */
function foldersOf(call: VendorCall, ids: readonly unknown[], field: string): string[] {
  return ids.map((id) => {
    if (id === ROOT) return ROOT;
    const folder = fileOf(call, id, field);
    if (folder.mimeType !== FOLDER) throw new VendorError('invalid', `The parent ${String(id)} is not a folder.`, field, 'invalidParent');
    return String(id);
  });
}

/** `fields=id,name,webViewLink` (or the inside of `files(...)`): which fields of a File to show. */
function selected(fields: string | null, list: boolean): string[] {
  if (!fields) return DEFAULT_FIELDS;
  const inner = list ? /files\(([^)]*)\)/.exec(fields)?.[1] : fields.replace(/\w+\([^)]*\)/g, '');
  if (inner === undefined) return DEFAULT_FIELDS;
  const names = inner.split(',').map((f) => f.trim()).filter((f) => f !== '' && f !== 'nextPageToken' && f !== 'kind');
  return names.includes('*') ? ['*'] : ['kind', ...names];
}

function shown(file: Json, fields: readonly string[]): Json {
  const { content: _content, ...rest } = file;
  return fields.includes('*') ? rest : Object.fromEntries(fields.filter((f) => rest[f] !== undefined).map((f) => [f, rest[f]]));
}

/** A fresh Drive file from its metadata; `parents` default My Drive. */
function createFile(call: VendorCall, meta: Json, extra: Json): Json {
  const now = iso(call.store.now());
  const id = `1sbx${call.store.id()}${call.store.uuid().replace(/-/g, '').slice(0, 20)}`;
  const file: Json = {
    kind: 'drive#file', id, name: meta.name, mimeType: meta.mimeType ?? 'application/octet-stream', parents: foldersOf(call, (meta.parents as unknown[] | undefined) ?? [ROOT], 'parents'),
    trashed: false, starred: meta.starred ?? false, createdTime: now, modifiedTime: now, webViewLink: `https://drive.google.com/file/d/${id}/view`, ...extra,
    ...(meta.description !== undefined ? { description: meta.description } : {}), ...(meta.appProperties !== undefined ? { appProperties: meta.appProperties } : {}),
  };
  call.store.list('files').push(file);
  return shown(file, selected(call.query.get('fields'), false));
}

/** One clause of a Drive query, as a test of a file. */
function clause(text: string): (f: Json) => boolean {
  const quoted = "'((?:[^'\\\\]|\\\\.)*)'";
  const unquote = (s: string): string => s.replace(/\\(.)/g, '$1');
  let m = new RegExp(`^name\\s+contains\\s+${quoted}$`, 'i').exec(text);
  if (m) {
    const word = unquote(m[1]!).toLowerCase();
    return (f) => String(f.name).toLowerCase().includes(word);
  }
  m = new RegExp(`^(name|mimeType)\\s*(=|!=)\\s*${quoted}$`).exec(text);
  if (m) {
    const [, field, op, value] = m;
    return (f) => (String(f[field!]) === unquote(value!)) === (op === '=');
  }
  m = new RegExp(`^${quoted}\\s+in\\s+parents$`).exec(text);
  if (m) {
    const parent = unquote(m[1]!);
    return (f) => ((f.parents as string[] | undefined) ?? []).includes(parent);
  }
  m = /^trashed\s*(=|!=)\s*(true|false)$/.exec(text);
  if (m) {
    const want = (m[2] === 'true') === (m[1] === '=');
    return (f) => f.trashed === want;
  }
  throw invalidQuery(`the sandbox reads \`name contains '…'\`, \`name = '…'\`, \`mimeType = '…'\`, \`'<id>' in parents\` and \`trashed = false\`, joined by \`and\`; not \`${text.slice(0, 80)}\``);
}

/** The files a query `q` selects (every clause must hold). */
function matching(files: readonly Json[], q: string | null): Json[] {
  if (!q || q.trim() === '') return [...files];
  const tests = q.split(/\s+and\s+(?=(?:[^']*'[^']*')*[^']*$)/i).map((c) => clause(c.trim()));
  return files.filter((f) => tests.every((t) => t(f)));
}

/** Sorts by Drive's `orderBy` keys (`name`, `createdTime`, `modifiedTime`, each optionally `desc`). */
function ordered(files: Json[], orderBy: string | null): Json[] {
  if (!orderBy) return files;
  const keys = orderBy.split(',').map((k) => k.trim().split(/\s+/)).map(([key = '', dir]) => {
    if (!['name', 'createdTime', 'modifiedTime', 'folder'].includes(key)) throw new VendorError('invalid', `Invalid Value: cannot sort by ${key.slice(0, 40)}`, 'orderBy', 'invalid');
    return { key, desc: dir === 'desc' };
  });
  return files.sort((a, b) => {
    for (const { key, desc } of keys) {
      const x = key === 'folder' ? String(a.mimeType !== FOLDER) : String(a[key]);
      const y = key === 'folder' ? String(b.mimeType !== FOLDER) : String(b[key]);
      if (x !== y) return (x < y ? -1 : 1) * (desc ? -1 : 1);
    }
    return 0;
  });
}

/** What the Drive examples refer to: a contracts folder, and a document in My Drive. */
export function seedDrive(store: VendorStore): void {
  const base = { kind: 'drive#file', trashed: false, starred: false, createdTime: '2026-11-01T10:00:00Z', modifiedTime: '2026-11-01T10:00:00Z' };
  store.list('files').push(
    { ...base, id: '0B1yKqkBEA4_FUmVWNEJ6ZE1lVnc', name: 'Customers', mimeType: FOLDER, parents: [ROOT], webViewLink: 'https://drive.google.com/drive/folders/0B1yKqkBEA4_FUmVWNEJ6ZE1lVnc' },
    { ...base, id: '1ZdR3L3qP4Bkq8noWLJHSr_iBau0DNT4Kli4SxNc2YEo', name: 'Acme Corp - Contracts', mimeType: 'application/vnd.google-apps.document', parents: ['0B1yKqkBEA4_FUmVWNEJ6ZE1lVnc'], webViewLink: 'https://docs.google.com/document/d/1ZdR3L3qP4Bkq8noWLJHSr_iBau0DNT4Kli4SxNc2YEo/edit' },
    { ...base, id: '1sbxInvoice000122', name: 'invoice-000122.csv', mimeType: 'text/csv', parents: ['0B1yKqkBEA4_FUmVWNEJ6ZE1lVnc'], size: '42', webViewLink: 'https://drive.google.com/file/d/1sbxInvoice000122/view' },
  );
}

export const driveHandlers: Readonly<Record<string, Handler>> = {
  'POST /drive/v3/files': (call) => createFile(call, obj(call.body), {}),
  'POST /upload/drive/v3/files'(call) {
    const parts = multipartOf(call);
    const [metaPart, media] = parts;
    if (!metaPart || !media || parts.length !== 2) throw new VendorError('invalid', 'A multipart upload has two parts: the metadata, then the media.', undefined, 'badContent');
    let meta: Json;
    try {
      meta = obj(JSON.parse(metaPart.content));
    } catch {
      throw new VendorError('invalid', 'The metadata part is not JSON.', undefined, 'parseError');
    }
    const mediaType = (media.headers['content-type'] ?? 'application/octet-stream').split(';')[0]!.trim();
    const converted = typeof meta.mimeType === 'string' && meta.mimeType.startsWith('application/vnd.google-apps.');
    return createFile(call, { ...meta, mimeType: meta.mimeType ?? mediaType }, {
      content: media.content, ...(converted ? {} : { size: String(Buffer.byteLength(media.content)) }),
    });
  },
  'GET /drive/v3/files'(call) {
    const q = call.query;
    const hits = ordered(matching(call.store.list('files'), q.get('q')), q.get('orderBy'));
    const { page, next } = offsetPage(hits, q.get('pageToken'), limitOf(q.get('pageSize'), 100, 1000));
    const fields = selected(q.get('fields'), true);
    return { kind: 'drive#fileList', incompleteSearch: false, files: page.map((f) => shown(f, fields)), ...(next ? { nextPageToken: next } : {}) };
  },
  'PATCH /drive/v3/files/{fileId}'(call) {
    const file = fileOf(call, call.params.fileId);
    const b = obj(call.body);
    if (b.parents !== undefined) throw new VendorError('invalid', 'The parents field is not directly writable in update requests. Use the addParents and removeParents parameters instead.', 'parents', 'fieldNotWritable', 403);
    const list = (name: string): string[] => (call.query.get(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const added = foldersOf(call, list('addParents'), 'addParents');
    const removed = list('removeParents');
    const parents = (file.parents as string[]).filter((p) => !removed.includes(p));
    for (const p of added) if (!parents.includes(p)) parents.push(p);
    for (const key of ['name', 'description', 'starred', 'trashed'] as const) if (b[key] !== undefined) file[key] = b[key];
    if (b.appProperties !== undefined) file.appProperties = { ...obj(file.appProperties), ...obj(b.appProperties) };
    Object.assign(file, { parents, modifiedTime: iso(call.store.now()) });
    return shown(file, selected(call.query.get('fields'), false));
  },
  'POST /drive/v3/files/{fileId}/permissions'(call) {
    const file = fileOf(call, call.params.fileId);
    const b = obj(call.body);
    if ((b.type === 'user' || b.type === 'group') && b.emailAddress === undefined) throw new VendorError('invalid', "The permission type field 'emailAddress' is required for type user or group.", 'permission.emailAddress', 'required');
    if (b.type === 'domain' && b.domain === undefined) throw new VendorError('invalid', "The permission type field 'domain' is required for type domain.", 'permission.domain', 'required');
    if (b.role === 'owner' && b.type !== 'user') throw new VendorError('invalid', 'Only a user can own a file.', 'permission.role', 'invalidSharingRequest');
    const permission = { kind: 'drive#permission', id: b.type === 'anyone' ? 'anyoneWithLink' : call.store.id('0'), ...b };
    file.permissions = [...((file.permissions as Json[] | undefined) ?? []), permission];
    return permission;
  },
};

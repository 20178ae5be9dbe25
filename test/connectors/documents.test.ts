// Google Drive and Box uploads at run time, against a real HTTP server on 127.0.0.1: Drive's
// metadata-only create, its multipart/related upload (metadata, then content) at the upload
// path, a list over three pageToken pages, PATCH and share, Google's error body; Box's
// multipart/form-data upload (attributes before file) on its upload host. And the multipart
// body kind itself: bounds, escaping, and the contract check that decodes it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRequest, decodeMultipart, loadDescription } from '../../src/connectors/contract/check.js';
import { boxSpec } from '../../src/connectors/box.js';
import { googleDriveSpec } from '../../src/connectors/google-drive.js';
import type { ConnectorSpec, OperationSpec } from '../../src/connectors/spec.js';
import { encodeMultipart, MAX_MULTIPART_BYTES } from '../../src/connectors/vendor-request.js';
import { HttpFailure } from '../../src/connectors/http-failure.js';
import { finished, HEAD, run } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { buildThroughConnector, closeBuilder } from './build.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
  await closeBuilder();
});

const connections = (): string => `secrets: [TOKEN]
connections:
  drive: { connector: google_drive, base_url: "${server.url}", auth: { bearer: "\${{ secrets.TOKEN }}" } }
  box: { connector: box, base_url: "${server.url}/2.0", auth: { bearer: "\${{ secrets.TOKEN }}" } }
`;
const secrets = { TOKEN: 'ya29.drive-token-secret' };

/** The boundary a request's Content-Type names. */
const boundaryOf = (contentType: unknown): string => /boundary=([^;]+)/.exec(String(contentType))![1]!;

describe('google_drive at run time', () => {
  it('creates a folder with a JSON body of metadata', async () => {
    server.script('POST /drive/v3/files', { status: 200, body: { kind: 'drive#file', id: 'f1', name: 'Acme', mimeType: 'application/vnd.google-apps.folder' } });
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: folder
    uses: drive.create_file
    with: { name: Acme, mime_type: application/vnd.google-apps.folder, parents: [root1] }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'folder')?.output).toMatchObject({ id: 'f1' });
    const sent = server.received[before]!;
    expect(sent.headers.authorization).toBe('Bearer ya29.drive-token-secret');
    expect(JSON.parse(sent.body)).toEqual({ name: 'Acme', mimeType: 'application/vnd.google-apps.folder', parents: ['root1'] });
  });

  it('uploads text as multipart/related: the metadata part, then the content', async () => {
    server.script('POST /upload/drive/v3/files', { status: 200, body: { kind: 'drive#file', id: 'f2', name: 'invoice.csv', mimeType: 'text/csv' } });
    const before = server.received.length;
    const { result } = await run(`${HEAD}${connections()}steps:
  - id: upload
    uses: drive.upload_file
    with: { name: invoice.csv, content: "item,amount\\nBoiler service,180.00\\n", content_type: text/csv, parents: [f1] }
`, { secrets });
    expect(result.status).toBe('succeeded');
    const sent = server.received[before]!;
    expect(sent.query).toEqual({ uploadType: 'multipart' });
    expect(sent.headers['content-type']).toMatch(/^multipart\/related; boundary=flux-[0-9a-f]{32}$/);
    const parts = decodeMultipart(sent.body, boundaryOf(sent.headers['content-type']));
    expect(parts).toEqual([
      { headers: { 'content-type': 'application/json; charset=UTF-8' }, content: '{"name":"invoice.csv","parents":["f1"]}' },
      { headers: { 'content-type': 'text/csv' }, content: 'item,amount\nBoiler service,180.00\n' },
    ]);
  });

  it('lists files over three pageToken pages, keeping the query', async () => {
    server.script('GET /drive/v3/files',
      { status: 200, body: { files: [{ id: 'a' }, { id: 'b' }], nextPageToken: 't2' } },
      { status: 200, body: { files: [{ id: 'c' }], nextPageToken: 't3' } },
      { status: 200, body: { files: [{ id: 'd' }] } });
    const before = server.received.length;
    const { journal } = await run(`${HEAD}${connections()}steps:
  - id: list
    uses: drive.list_files
    with: { q: "name contains 'invoice'", page_size: 2, paginate: true }
`, { secrets });
    expect(finished(journal, 'list')?.output).toEqual({ items: ['a', 'b', 'c', 'd'].map((id) => ({ id })), count: 4, has_more: false, next_cursor: null });
    const sent = server.received.slice(before);
    expect(sent.map((r) => r.query.pageToken ?? null)).toEqual([null, 't2', 't3']);
    expect(sent[2]!.query).toEqual({ q: "name contains 'invoice'", pageSize: '2', pageToken: 't3' });
  });

  it('renames and moves a file with PATCH, shares it, and reads Google\'s error body', async () => {
    server.script('PATCH /drive/v3/files/f2', { status: 200, body: { id: 'f2', name: 'paid.csv' } });
    server.script('POST /drive/v3/files/f2/permissions',
      { status: 200, body: { kind: 'drive#permission', id: 'p1', type: 'user', role: 'reader' } },
      { status: 403, body: { error: { code: 403, message: 'The user does not have sufficient permissions for this file.', errors: [{ reason: 'insufficientFilePermissions', domain: 'global' }] } } });
    const before = server.received.length;
    const steps = `steps:
  - id: rename
    uses: drive.update_file
    with: { file_id: f2, name: paid.csv, add_parents: f9, remove_parents: f1 }
  - id: share
    uses: drive.share_file
    with: { file_id: f2, role: reader, type: user, email_address: maria@acme.example, send_notification_email: false }
`;
    const first = await run(`${HEAD}${connections()}${steps}`, { secrets });
    expect(first.result.status).toBe('succeeded');
    const [patch, share] = server.received.slice(before);
    expect(patch!.method).toBe('PATCH');
    expect(patch!.query).toEqual({ addParents: 'f9', removeParents: 'f1' });
    expect(JSON.parse(patch!.body)).toEqual({ name: 'paid.csv' });
    expect(share!.query).toEqual({ sendNotificationEmail: 'false' });
    expect(JSON.parse(share!.body)).toEqual({ role: 'reader', type: 'user', emailAddress: 'maria@acme.example' });
    const second = await run(`${HEAD}${connections()}${steps}`, { secrets });
    expect(finished(second.journal, 'share')?.error?.message).toBe('Google Drive: insufficientFilePermissions: The user does not have sufficient permissions for this file.');
  });
});

describe('box.upload_file', () => {
  it('sends multipart/form-data with the attributes before the file', async () => {
    server.script('POST /2.0/files/content', { status: 201, body: { total_count: 1, entries: [{ type: 'file', id: '12345', name: 'notes.txt' }] } });
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: up
    uses: box.upload_file
    with: { name: notes.txt, parent_id: "0", content: "hello \\"Box\\"" }
`, { secrets });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'up')?.output).toMatchObject({ entries: [{ id: '12345' }] });
    const sent = server.received[before]!;
    expect(sent.headers['content-type']).toMatch(/^multipart\/form-data; boundary=flux-[0-9a-f]{32}$/);
    expect(decodeMultipart(sent.body, boundaryOf(sent.headers['content-type']))).toEqual([
      { headers: { 'content-disposition': 'form-data; name="attributes"', 'content-type': 'application/json' }, content: '{"name":"notes.txt","parent":{"id":"0"}}' },
      { headers: { 'content-disposition': 'form-data; name="file"; filename="notes.txt"', 'content-type': 'text/plain; charset=UTF-8' }, content: 'hello "Box"' },
    ]);
  });

  it("goes to Box's upload host when the connection names no base_url", async () => {
    const request = await buildThroughConnector(boxSpec, 'upload_file', { name: 'a.txt', parent_id: '0', content: 'x' });
    expect(request.url).toBe('https://upload.box.com/api/2.0/files/content');
    const other = await buildThroughConnector(boxSpec, 'create_folder', { name: 'a', parent_id: '0' });
    expect(other.url).toBe('https://api.box.com/2.0/folders');
  });

  it('refuses a content type that would inject a header, before sending', async () => {
    const before = server.received.length;
    const { result, journal } = await run(`${HEAD}${connections()}steps:
  - id: up
    uses: box.upload_file
    with: { name: a.txt, parent_id: "0", content: x, content_type: "\${{ event.type }}" }
`, { secrets, event: { type: 'text/plain\r\nX-Evil: 1' } });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'up')?.error?.message).toMatch(/^Box: field `content_type` must match/);
    expect(server.received.length).toBe(before);
  });
});

describe('multipart bodies', () => {
  it('are bounded in parts and bytes, and escape quotes and line breaks in names', () => {
    expect(() => encodeMultipart([], 'b', false)).toThrow(HttpFailure);
    expect(() => encodeMultipart(Array.from({ length: 9 }, () => ({ contentType: 'text/plain', content: 'x' })), 'b', false)).toThrow(/1 to 8 parts, not 9/);
    expect(() => encodeMultipart([{ contentType: 'text/plain', content: 'x'.repeat(MAX_MULTIPART_BYTES + 1) }], 'b', false)).toThrow(/limit is 5242880/);
    expect(() => encodeMultipart([{ contentType: 'text/plain', content: 'a\r\n--b\r\n' }], 'b', false)).toThrow(/contains the boundary/);
    expect(() => encodeMultipart([{ contentType: 'text/plain\r\nX-Evil: 1', content: 'x' }], 'b', false)).toThrow(/is not a media type/);
    expect(encodeMultipart([{ name: 'file', filename: 'a"b\r\n.txt', contentType: 'text/plain', content: 'x' }], 'b', true))
      .toBe('--b\r\nContent-Disposition: form-data; name="file"; filename="a%22b%0D%0A.txt"\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n');
  });

  it('decode back into their parts, and a broken body is named', () => {
    const body = encodeMultipart([{ contentType: 'application/json', content: '{}' }, { contentType: 'text/plain', content: 'line\r\n\r\nmore' }], 'B1', false);
    expect(decodeMultipart(body, 'B1').map((p) => p.content)).toEqual(['{}', 'line\r\n\r\nmore']);
    expect(() => decodeMultipart(body, 'B2')).toThrow('does not open with its boundary');
    expect(() => decodeMultipart(body.replace('--B1--', '--B1'), 'B1')).toThrow('has no closing boundary');
  });
});

describe('the check fails an upload that drifted', () => {
  const drift = (spec: ConnectorSpec, operation: string, change: (op: OperationSpec) => OperationSpec): ConnectorSpec => ({
    ...spec, operations: { ...spec.operations, [operation]: change(spec.operations[operation]!) },
  });
  const described = (spec: ConnectorSpec) => loadDescription(spec.vendorCheck as Extract<ConnectorSpec['vendorCheck'], { checked: true }>);
  const upload = { name: 'a.csv', content: 'x', parents: ['f1'] };

  it('Drive metadata under a name Google does not know', async () => {
    const drifted = drift(googleDriveSpec, 'upload_file', (op) => ({
      ...op, http: { ...op.http!, parts: (f) => [{ contentType: 'application/json', content: JSON.stringify({ title: f.name }) }, { contentType: 'text/plain', content: 'x' }] },
    }));
    expect(checkRequest(described(googleDriveSpec), await buildThroughConnector(drifted, 'upload_file', upload))).toEqual(['body must NOT have additional properties (`title`)']);
  });

  it('a Drive upload without its media part, or sent to the metadata path', async () => {
    const noMedia = drift(googleDriveSpec, 'upload_file', (op) => ({ ...op, http: { ...op.http!, parts: (f) => [{ contentType: 'application/json', content: JSON.stringify({ name: f.name }) }] } }));
    expect(checkRequest(described(googleDriveSpec), await buildThroughConnector(noMedia, 'upload_file', upload))).toEqual(['multipart/related upload has 1 parts, not 2 (metadata, media)']);
    const wrongPath = drift(googleDriveSpec, 'upload_file', (op) => ({ ...op, http: { ...op.http!, path: '/drive/v3/files' } }));
    expect(checkRequest(described(googleDriveSpec), await buildThroughConnector(wrongPath, 'upload_file', upload))).toEqual([
      'body is multipart/related; the description takes application/json',
    ]);
  });

  it('a Box upload without the parent in its attributes, or on the API host', async () => {
    const noParent = drift(boxSpec, 'upload_file', (op) => ({
      ...op, http: { ...op.http!, parts: (f) => [{ name: 'attributes', contentType: 'application/json', content: JSON.stringify({ name: f.name }) }, { name: 'file', filename: 'a', contentType: 'text/plain', content: 'x' }] },
    }));
    expect(checkRequest(described(boxSpec), await buildThroughConnector(noParent, 'upload_file', { name: 'a', parent_id: '0', content: 'x' }))).toEqual(["body/attributes must have required property 'parent'"]);
    const apiHost = drift(boxSpec, 'upload_file', (op) => ({ ...op, http: { ...op.http!, baseUrl: undefined } }));
    expect(checkRequest(described(boxSpec), await buildThroughConnector(apiHost, 'upload_file', { name: 'a', parent_id: '0', content: 'x' }))).toEqual([
      'POST /files/content is served at https://upload.box.com/api/2.0, not https://api.box.com/2.0',
    ]);
  });
});

// The discovery adapter: a Google API Discovery document read as the OpenAPI shape the
// contract check validates against. A small document exercises each discovery feature (nested
// resources, servicePath, {+name} reserved expansion, repeated and bounded parameters, global
// parameters, bare $refs, Google formats, media upload paths); the three kept documents are
// read whole, and checkRequest is run on requests that must pass and requests that must not.
import { describe, expect, it } from 'vitest';
import { discoveryMethods, discoveryToOpenApi, toJsonSchema } from '../../src/connectors/contract/discovery.js';
import { checkRequest, describeDocument, loadDescription, type BuiltHttpRequest } from '../../src/connectors/contract/check.js';

const doc = {
  'x-vendor-spec-source': { repo: 'example/discovery' },
  name: 'things', version: 'v2', rootUrl: 'https://things.googleapis.com/', servicePath: 'things/v2/',
  parameters: { fields: { location: 'query', type: 'string' }, uploadType: { location: 'query', type: 'string' } },
  resources: {
    projects: {
      resources: {
        items: {
          methods: {
            patch: {
              id: 'things.projects.items.patch', httpMethod: 'PATCH', path: '{+name}',
              parameters: {
                name: { location: 'path', required: true, type: 'string', pattern: '^projects/[^/]+/items/[^/]+$' },
                updateMask: { location: 'query', type: 'string', format: 'google-fieldmask' },
                tags: { location: 'query', type: 'string', repeated: true },
                pageSize: { location: 'query', type: 'integer', format: 'int32', minimum: '1', maximum: '50' },
              },
              request: { $ref: 'Item' },
            },
          },
        },
      },
    },
    files: {
      methods: {
        create: {
          id: 'things.files.create', httpMethod: 'POST', path: 'files', request: { $ref: 'Item' }, supportsMediaUpload: true,
          mediaUpload: { accept: ['image/*'], protocols: { simple: { path: '/upload/things/v2/files' } } },
        },
      },
    },
  },
  schemas: {
    Item: {
      id: 'Item', type: 'object', description: 'An item.',
      properties: {
        title: { type: 'string' }, data: { type: 'string', format: 'byte' }, due: { type: 'string', format: 'date-time' },
        size: { type: 'string', format: 'int64' }, extra: { type: 'object', additionalProperties: { type: 'any' } },
        parts: { type: 'array', items: { $ref: 'Item' } }, id: { type: 'string', readOnly: true },
      },
    },
  },
};

const check = { checked: true, file: 'unused.json', format: 'google-discovery' } as const;

function request(method: string, url: string, body?: unknown, contentType = 'application/json'): BuiltHttpRequest {
  return { method, url, headers: { authorization: 'Bearer t', ...(body !== undefined ? { 'content-type': contentType } : {}) }, body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body) };
}

describe('discoveryToOpenApi', () => {
  const api = discoveryToOpenApi(doc) as { servers: { url: string }[]; paths: Record<string, Record<string, { parameters: { name: string; in: string; required?: boolean; schema: unknown }[]; requestBody?: { content: Record<string, unknown> } }>>; components: { schemas: Record<string, unknown> } };

  it('serves from rootUrl, with servicePath in each path and upload paths as they are', () => {
    expect(api.servers).toEqual([{ url: 'https://things.googleapis.com' }]);
    expect(Object.keys(api.paths).sort()).toEqual(['/things/v2/files', '/things/v2/{+name}', '/upload/things/v2/files']);
  });

  it('turns parameters into OpenAPI ones: location, required, repeated lists, numeric bounds, global ones added', () => {
    const params = api.paths['/things/v2/{+name}']!.patch!.parameters;
    expect(params).toEqual([
      { name: 'name', in: 'path', required: true, schema: { type: 'string', pattern: '^projects/[^/]+/items/[^/]+$' } },
      { name: 'updateMask', in: 'query', schema: { type: 'string' } },
      { name: 'tags', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
      { name: 'pageSize', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 50 } },
      { name: 'fields', in: 'query', schema: { type: 'string' } },
      { name: 'uploadType', in: 'query', schema: { type: 'string' } },
    ]);
  });

  it('rewrites schemas: bare $refs, byte as base64 of either alphabet, Google formats dropped, type any open, objects closed', () => {
    expect(api.components.schemas.Item).toEqual({
      type: 'object', additionalProperties: false,
      properties: {
        title: { type: 'string' }, data: { type: 'string', pattern: '^[A-Za-z0-9+/_-]*={0,2}$' }, due: { type: 'string', format: 'date-time' },
        size: { type: 'string' }, extra: { type: 'object', additionalProperties: {} },
        parts: { type: 'array', items: { $ref: '#/components/schemas/Item' } }, id: { type: 'string' },
      },
    });
    expect(api.paths['/things/v2/files']!.post!.requestBody!.content).toEqual({ 'application/json': { schema: { $ref: '#/components/schemas/Item' } } });
  });

  it('takes the media (or multipart/related) at the upload path', () => {
    expect(Object.keys(api.paths['/upload/things/v2/files']!.post!.requestBody!.content)).toEqual(['image/*', 'multipart/related']);
  });

  it("types multipart/related by the method's request schema, which its metadata part must match", () => {
    const content = api.paths['/upload/things/v2/files']!.post!.requestBody!.content;
    expect(content['multipart/related']).toEqual({ schema: { $ref: '#/components/schemas/Item' } });
    expect(content['image/*']).toEqual({ schema: {} });
  });

  it('refuses a document with two methods on one path and verb', () => {
    const twice = { ...doc, methods: { again: { id: 'x', httpMethod: 'POST', path: 'files' } } };
    expect(() => discoveryToOpenApi(twice)).toThrow('two methods for POST /things/v2/files');
  });

  it('finds the methods of nested resources', () => {
    expect(discoveryMethods(doc).map((m) => m.id).sort()).toEqual(['things.files.create', 'things.projects.items.patch']);
    expect(toJsonSchema({ $ref: 'Item' })).toEqual({ $ref: '#/components/schemas/Item' });
  });
});

describe('checkRequest on a discovery document', () => {
  const things = describeDocument(check, doc);
  const d = loadDescription({ ...check, file: 'google-chat.json' });

  it('accepts a reserved expansion with its slashes, and checks the pattern of its value', () => {
    expect(checkRequest(things, request('PATCH', 'https://things.googleapis.com/things/v2/projects/p1/items/i%201?updateMask=title&tags=a&tags=b&pageSize=50', { title: 'x', data: 'aGk_-w', due: '2026-01-01T10:00:00Z' }))).toEqual([]);
    expect(checkRequest(things, request('PATCH', 'https://things.googleapis.com/things/v2/projects/p1', { title: 'x' }))).toEqual([
      'path parameter `name` must match pattern "^projects/[^/]+/items/[^/]+$"',
    ]);
  });

  it('refuses what Google would: unknown body names, wrong formats, out-of-bounds and unknown parameters', () => {
    const found = checkRequest(things, request('PATCH', 'https://things.googleapis.com/things/v2/projects/p1/items/i1?pageSize=51&colour=red', { titel: 'x', due: 'tomorrow', data: 'not base64!' }));
    expect(found).toEqual([
      'query parameter `pageSize` must be <= 50',
      'query parameter `colour` is not in the description',
      'body must NOT have additional properties (`titel`)',
      'body/data must match pattern "^[A-Za-z0-9+/_-]*={0,2}$"',
      'body/due must match format "date-time"',
    ]);
  });

  it('checks a media upload by its type and path', () => {
    expect(checkRequest(things, request('POST', 'https://things.googleapis.com/upload/things/v2/files?uploadType=media', 'PNG...', 'image/png'))).toEqual([]);
    expect(checkRequest(things, request('POST', 'https://things.googleapis.com/upload/things/v2/files?uploadType=media', 'text', 'text/plain'))).toEqual([
      'body is text/plain; the description takes image/*, multipart/related',
    ]);
  });

  it('reads the kept Chat document: a message created in a space, not with an escaped slash', () => {
    const ok = request('POST', 'https://chat.googleapis.com/v1/spaces/AAAA1234/messages?requestId=r1', { text: 'hi' });
    expect(checkRequest(d, ok)).toEqual([]);
    expect(checkRequest(d, { ...ok, url: 'https://chat.googleapis.com/v1/spaces%2FAAAA1234/messages' })).toEqual(['path parameter `parent` has an escaped slash (%2F): {+parent} sends its slashes as they are']);
  });
});

// Turns a Google API Discovery document (discoveryVersion v1) into the OpenAPI 3.0 shape
// check.ts validates requests against. Discovery is not OpenAPI: methods sit in nested
// `resources`; a method's `path` is relative to `rootUrl` + `servicePath` while its media
// upload paths (`/upload/...`) are relative to `rootUrl` alone; `{+name}` is RFC 6570
// reserved expansion (the value keeps its slashes: `spaces/AAA/messages/BBB`); parameters
// have a `location`, minimum/maximum as strings and `repeated` for lists; schemas are named
// by bare `$ref`s ("Event") and typed with Google's own formats. So the one server is
// `rootUrl`, every path carries its `servicePath`, and schemas are rewritten to JSON Schema
// (objects closed, as Google's JSON reader is).
type Json = Record<string, unknown>;

/**
 * Formats Ajv checks as Google means them. `byte` is base64, which Google reads in either
 * alphabet (Gmail's `raw` is documented as base64url), padded or not; Google's other formats
 * (int64 as a string, google-datetime, google-fieldmask, ...) are left unchecked.
 */
const BYTE_PATTERN = '^[A-Za-z0-9+/_-]*={0,2}$';
const KEPT_FORMATS = new Set(['date', 'date-time']);
/** Discovery keywords that are documentation, not constraints (or that Ajv would misread, like `id`). */
const DROPPED = new Set(['id', 'description', 'annotations', 'enumDescriptions', 'deprecated', 'location', 'repeated', 'required', 'readOnly']);

/** A discovery schema (or parameter) as JSON Schema draft-07 with OpenAPI refs. */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const n = node as Json;
  if (typeof n.$ref === 'string') return { $ref: `#/components/schemas/${n.$ref}` };
  const out: Json = {};
  for (const [k, v] of Object.entries(n)) {
    if (DROPPED.has(k)) continue;
    if (k === 'type') {
      if (v !== 'any') out.type = v;
    } else if (k === 'format') {
      if (v === 'byte') out.pattern = BYTE_PATTERN;
      else if (KEPT_FORMATS.has(String(v))) out.format = v;
    } else if (k === 'minimum' || k === 'maximum') {
      out[k] = Number(v);
    } else if (k === 'properties') {
      out.properties = Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, toJsonSchema(s)]));
    } else if (k === 'items' || k === 'additionalProperties') {
      out[k] = toJsonSchema(v);
    } else {
      out[k] = v;
    }
  }
  // Google's JSON reader refuses names it does not know ("Invalid JSON payload received.
  // Unknown name"): an object with listed properties takes no others.
  if (n.type === 'object' && n.properties && n.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

function parameter(name: string, p: Json): Json {
  const schema = toJsonSchema(p) as Json;
  return {
    name, in: p.location, ...(p.required === true ? { required: true } : {}),
    schema: p.repeated === true ? { type: 'array', items: schema } : schema,
  };
}

/** Every method of the document, however deep its resources nest. */
export function discoveryMethods(doc: Json): Json[] {
  const out: Json[] = [];
  const walk = (resources: unknown): void => {
    for (const r of Object.values((resources as Record<string, Json> | undefined) ?? {})) {
      out.push(...Object.values((r.methods as Record<string, Json> | undefined) ?? {}));
      walk(r.resources);
    }
  };
  walk(doc.resources);
  out.push(...Object.values((doc.methods as Record<string, Json> | undefined) ?? {}));
  return out;
}

/** The discovery document as an OpenAPI 3.0 document, its source block kept. */
export function discoveryToOpenApi(doc: Json): Json {
  const root = String(doc.rootUrl).replace(/\/$/, '');
  const servicePath = String(doc.servicePath ?? '').replace(/^\//, '');
  const global = Object.entries((doc.parameters as Record<string, Json> | undefined) ?? {});
  const paths: Record<string, Json> = {};
  const add = (path: string, method: string, op: Json): void => {
    const item = (paths[path] ??= {});
    if (item[method]) throw new Error(`discovery: two methods for ${method.toUpperCase()} ${path}`);
    item[method] = op;
  };
  for (const m of discoveryMethods(doc)) {
    const method = String(m.httpMethod).toLowerCase();
    const own = Object.entries((m.parameters as Record<string, Json> | undefined) ?? {});
    const parameters = [...own, ...global.filter(([g]) => !own.some(([o]) => o === g))].map(([name, p]) => parameter(name, p));
    const request = m.request as Json | undefined;
    const json = request ? { requestBody: { required: true, content: { 'application/json': { schema: toJsonSchema(request) } } } } : {};
    const response = m.response ? { responses: { 200: { content: { 'application/json': { schema: toJsonSchema(m.response) } } } } } : {};
    add(`/${servicePath}${String(m.path)}`, method, { operationId: m.id, parameters, ...json, ...response });
    // Media uploads: the same method at its upload path, the media (or a multipart/related
    // of metadata and media) as the body, what kind of upload in `uploadType`. The schema of
    // multipart/related is the metadata's, its first part (check.ts decodes the parts).
    const upload = m.mediaUpload as { accept?: string[]; protocols?: { simple?: { path?: string } } } | undefined;
    const uploadPath = upload?.protocols?.simple?.path;
    if (m.supportsMediaUpload === true && uploadPath) {
      const content: Json = Object.fromEntries((upload?.accept ?? ['*/*']).map((type) => [type, { schema: {} }]));
      content['multipart/related'] = { schema: request ? toJsonSchema(request) : {} };
      const withType = parameters.some((p) => p.name === 'uploadType') ? parameters : [...parameters, { name: 'uploadType', in: 'query', schema: { type: 'string' } }];
      add(uploadPath, method, { operationId: `${String(m.id)}#upload`, parameters: withType, requestBody: { required: true, content } });
    }
  }
  const schemas = Object.fromEntries(Object.entries((doc.schemas as Record<string, Json> | undefined) ?? {}).map(([name, s]) => [name, toJsonSchema(s)]));
  return {
    openapi: '3.0.3',
    'x-vendor-spec-source': doc['x-vendor-spec-source'],
    info: { title: String(doc.title ?? doc.name), version: String(doc.version) },
    servers: [{ url: root }],
    paths,
    components: { schemas },
  };
}

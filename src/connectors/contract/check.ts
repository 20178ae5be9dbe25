// Checks a built HTTP request against the vendor's operation in its published API description
// (Swagger 2.0, OpenAPI 3.0 or 3.1, in schemas/vendor-specs/): method, path against the
// path templates, path/query/header parameters, and the body against the request schema.
// Schemas are validated by Ajv (draft-07 with OpenAPI's `nullable` for Swagger 2.0 and
// OpenAPI 3.0, draft 2020-12 for 3.1), with the whole description registered so that its
// `$ref`s resolve where they point; form bodies are decoded back into objects first. Google
// discovery documents are turned into the same OpenAPI shape first (discovery.ts).
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { VendorCheck } from '../spec.js';
import { discoveryToOpenApi } from './discovery.js';

type Json = Record<string, unknown>;
type Checked = Extract<VendorCheck, { checked: true }>;

/** A request as the HTTP connector would send it (its dry-run output). */
export interface BuiltHttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
}

const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2020) => Ajv | Ajv2020;

/** A loaded description: the document and an Ajv instance that knows it as `vendor`. */
export interface Description {
  readonly check: Checked;
  readonly doc: Json;
  validator(pointer: string): ValidateFunction;
  /** A validator for a Swagger 2.0 parameter, whose type keywords sit on the parameter itself. */
  parameterValidator(parameter: Json): ValidateFunction;
}

const PARAMETER_SCHEMA_KEYS = ['type', 'items', 'enum', 'format', 'maximum', 'minimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems'];

/** The description named by `check`, read from schemas/vendor-specs/. */
export function loadDescription(check: Checked): Description {
  return describeDocument(check, JSON.parse(readFileSync(new URL(`../../../schemas/vendor-specs/${check.file}`, import.meta.url), 'utf8')) as Json);
}

/** A description from a document in memory (a discovery document is adapted first). */
export function describeDocument(check: Checked, raw: Json): Description {
  const doc = check.format === 'google-discovery' ? discoveryToOpenApi(raw) : raw;
  const options = { strict: false, allErrors: true, validateSchema: false, logger: false } as const;
  const ajv = addFormats(check.format === 'openapi-3.1' ? new Ajv2020(options) : new Ajv(options));
  ajv.addFormat('unix-time', true);
  ajv.addSchema(check.format === 'openapi-3.1' ? doc : nullableWithoutType(structuredClone(doc)), 'vendor');
  const cache = new Map<string, ValidateFunction>();
  return {
    check, doc,
    validator(pointer) {
      let v = cache.get(pointer);
      if (!v) cache.set(pointer, (v = ajv.compile({ $ref: `vendor#${pointer}` })));
      return v;
    },
    parameterValidator(parameter) {
      return ajv.compile(Object.fromEntries(Object.entries(parameter).filter(([k]) => PARAMETER_SCHEMA_KEYS.includes(k))));
    },
  };
}

/**
 * OpenAPI 3.0 allows `nullable: true` beside `oneOf` with no `type` (Intercom's search filter
 * value), which Ajv refuses to compile: such a schema becomes `anyOf: [itself, null]`.
 */
function nullableWithoutType(node: unknown): Json {
  if (Array.isArray(node)) node.forEach(nullableWithoutType);
  else if (node && typeof node === 'object') {
    const n = node as Json;
    for (const v of Object.values(n)) nullableWithoutType(v);
    // `nullable: false` says nothing, and Ajv refuses it without a type too (Box's allOf parts).
    if (n.nullable === false && n.type === undefined) delete n.nullable;
    if (n.nullable === true && n.type === undefined) {
      const { nullable: _nullable, ...rest } = n;
      for (const k of Object.keys(n)) delete n[k];
      n.anyOf = [rest, { enum: [null] }];
    }
  }
  return node as Json;
}

const esc = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** Follows a `$ref` (of a parameter, request body or schema) inside the document. */
function deref(doc: Json, node: unknown, pointer: string): { node: Json; pointer: string } {
  let n = node as Json;
  let p = pointer;
  for (let i = 0; i < 20 && typeof n?.$ref === 'string'; i++) {
    p = (n.$ref as string).slice(1);
    n = p.split('/').slice(1).reduce<unknown>((at, k) => (at as Json)?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], doc) as Json;
  }
  return { node: n, pointer: p };
}

/** A path matched against the description's templates: which one, and the values of its slots. */
export interface MatchedPath {
  readonly template: string;
  readonly values: Readonly<Record<string, string>>;
  /** Slots sent in a way the template does not allow (an escaped slash in `{+name}`). */
  readonly problems: readonly string[];
}

/**
 * The path template `rawPath` (relative to the server, still percent-encoded) falls under, or
 * undefined. Literal paths win over templated ones (`/customers/search` before `/customers/{id}`).
 */
export function matchPath(d: Description, rawPath: string): MatchedPath | undefined {
  const paths = d.doc.paths as Record<string, Json>;
  const templates = Object.keys(paths).sort((a, b) => a.split('{').length - b.split('{').length);
  for (const template of templates) {
    const slots: { name: string; reserved: boolean }[] = [];
    const pattern = template.split('#')[0]!.split(/(\{\+?[^}]+\})/).map((part) => {
      const slot = /^\{(\+?)([^}]+)\}$/.exec(part);
      if (!slot) return part.replace(/[.*+?^$(){}|[\]\\]/g, '\\$&');
      slots.push({ name: slot[2]!, reserved: slot[1] === '+' });
      return slot[1] ? '(.+)' : '([^/]+)';
    }).join('');
    const m = new RegExp(`^${pattern}$`).exec(rawPath);
    if (!m) continue;
    const problems: string[] = [];
    // Matched before decoding, so an escaped slash stays inside its segment; `{+name}` (RFC 6570
    // reserved expansion, Google's) spans segments, its slashes sent as they are.
    for (const [i, s] of slots.entries()) {
      if (s.reserved && /%2f/i.test(m[i + 1]!)) problems.push(`path parameter \`${s.name}\` has an escaped slash (%2F): {+${s.name}} sends its slashes as they are`);
    }
    return { template, values: Object.fromEntries(slots.map((s, i) => [s.name, safeDecode(m[i + 1]!)])), problems };
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The described server `url` is on: one the whole API names or (Box's uploads) one operation
 * names; longest first, so a server that is a prefix of another does not take its requests.
 */
function knownServer(d: Description, url: string): string | undefined {
  const known = [...servers(d.doc), ...operationServers(d.doc)].sort((a, b) => b.length - a.length);
  return known.find((s) => url.startsWith(`${s}/`) || url === s || url.startsWith(`${s}?`));
}

/** The path of `url` relative to the described server it is on, still percent-encoded; undefined when on none. */
export function serverPath(d: Description, url: string): string | undefined {
  const server = knownServer(d, url);
  return server === undefined ? undefined : new URL(url).pathname.slice(new URL(server).pathname.replace(/\/$/, '').length);
}

/** The problems of `req` against the description (empty when it matches). */
export function checkRequest(d: Description, req: BuiltHttpRequest): string[] {
  const problems: string[] = [];
  const url = new URL(req.url);
  // The connector's default base URL must be one of the servers the description names, for
  // the whole API or (Box's uploads) for the operation.
  const server = knownServer(d, req.url);
  if (server === undefined) return [`${url.origin}${url.pathname} is on none of the described servers (${servers(d.doc).join(', ')})`];
  const rawPath = url.pathname.slice(new URL(server).pathname.replace(/\/$/, '').length);
  const found = matchPath(d, rawPath);
  if (!found) return [`no path in the description matches ${req.method} ${safeDecode(rawPath)}`];
  problems.push(...found.problems);
  const item = (d.doc.paths as Record<string, Json>)[found.template]!;
  const method = req.method.toLowerCase();
  const op = item[method] as Json | undefined;
  if (!op) return [`${found.template} has no ${req.method} operation`];
  const allowed = serverList(op.servers) ?? serverList(item.servers) ?? servers(d.doc);
  if (!allowed.includes(server)) return [`${req.method} ${found.template} is served at ${allowed.join(', ')}, not ${server}`];
  const opPointer = `/paths/${esc(found.template)}/${method}`;
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const hasAuth = headers.authorization !== undefined;
  const params = [
    ...((item.parameters as unknown[] | undefined) ?? []).map((p, i) => deref(d.doc, p, `/paths/${esc(found!.template)}/parameters/${i}`)),
    ...((op.parameters as unknown[] | undefined) ?? []).map((p, i) => deref(d.doc, p, `${opPointer}/parameters/${i}`)),
  ];
  const formParams = params.filter((p) => p.node.in === 'formData');
  const listed = new Set<string>();
  for (const { node: p, pointer } of params) {
    const name = String(p.name);
    const where = String(p.in);
    if (where === 'formData' || where === 'body') continue;
    if (where === 'query') listed.add(name);
    const auth = (d.check.authParameters ?? []).includes(name) && hasAuth;
    let raw: string | string[] | undefined;
    if (where === 'path') raw = found.values[name];
    else if (where === 'query') raw = url.searchParams.has(name) ? url.searchParams.getAll(name) : undefined;
    // `explode: false` (style form): a list is one value, its items joined by commas.
    if (where === 'query' && p.explode === false && Array.isArray(raw)) raw = raw.flatMap((v) => v.split(','));
    else if (where === 'header') raw = headers[name.toLowerCase()];
    if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) {
      if (p.required === true && !auth) problems.push(`missing required ${where} parameter \`${name}\``);
      continue;
    }
    const schemaPointer = p.schema ? `${pointer}/schema` : pointer;
    const schema = p.schema ? deref(d.doc, p.schema, schemaPointer).node : p;
    const value = Array.isArray(raw) ? (schemaType(d.doc, schema).includes('array') ? raw : raw[0]) : raw;
    problems.push(...validate(p.schema ? d.validator(schemaPointer) : d.parameterValidator(p), coerce(d.doc, value, schema), `${where} parameter \`${name}\``));
  }
  for (const name of new Set(url.searchParams.keys())) {
    const deepObject = [...listed].some((k) => name.startsWith(`${k}[`));
    if (!listed.has(name) && !deepObject) problems.push(`query parameter \`${name}\` is not in the description`);
  }
  const contentType = (headers['content-type'] ?? '').split(';')[0]!.trim();
  if (req.body === null || req.body === '') {
    const body = op.requestBody ? deref(d.doc, op.requestBody, `${opPointer}/requestBody`).node : undefined;
    if (body?.required === true) problems.push('missing required request body');
    for (const { node: p } of formParams) if (p.required === true) problems.push(`missing required form field \`${String(p.name)}\``);
    return problems;
  }
  if (formParams.length > 0 || d.check.format === 'swagger-2.0') {
    // Swagger 2.0: form fields are parameters, each with its own type.
    if (contentType !== 'application/x-www-form-urlencoded') return [...problems, `body is ${contentType || 'untyped'}, the description takes form fields`];
    const form = new URLSearchParams(req.body);
    const byName = new Map(formParams.map((p) => [String(p.node.name), p]));
    for (const name of new Set(form.keys())) {
      const p = byName.get(name);
      if (!p) {
        problems.push(`form field \`${name}\` is not in the description`);
        continue;
      }
      problems.push(...validate(d.parameterValidator(p.node), coerce(d.doc, form.get(name), p.node), `form field \`${name}\``));
    }
    for (const [name, p] of byName) if (p.node.required === true && !form.has(name)) problems.push(`missing required form field \`${name}\``);
    return problems;
  }
  const body = op.requestBody ? deref(d.doc, op.requestBody, `${opPointer}/requestBody`) : undefined;
  if (!body) return [...problems, `${req.method} ${found.template} takes no request body`];
  const content = body.node.content as Record<string, Json> | undefined;
  const media = content?.[contentType] ?? content?.[`${contentType.split('/')[0]}/*`];
  if (!media) return [...problems, `body is ${contentType || 'untyped'}; the description takes ${Object.keys(content ?? {}).join(', ')}`];
  const multipart = contentType === 'multipart/related' || contentType === 'multipart/form-data';
  // Media (an upload's file, an RFC 822 message) is not JSON: its type is all there is to check.
  if (contentType !== 'application/json' && contentType !== 'application/x-www-form-urlencoded' && !multipart) return problems;
  const schemaPointer = `${body.pointer}/content/${esc(contentType)}/schema`;
  const schema = deref(d.doc, media.schema, schemaPointer).node;
  let value: unknown;
  if (contentType === 'application/x-www-form-urlencoded') value = coerce(d.doc, decodeForm(req.body), schema);
  else if (multipart) {
    const boundary = /;\s*boundary=("?)([^";]+)\1/i.exec(headers['content-type'] ?? '')?.[2];
    let parts: DecodedPart[];
    try {
      if (!boundary) throw new Error('has no boundary');
      parts = decodeMultipart(req.body, boundary);
    } catch (error) {
      return [...problems, `multipart body ${(error as Error).message}`];
    }
    if (contentType === 'multipart/form-data') value = formDataValue(d.doc, parts, schema);
    else {
      // Google's multipart upload: the metadata as JSON, then the media; nothing else.
      if (parts.length !== 2) return [...problems, `multipart/related upload has ${parts.length} parts, not 2 (metadata, media)`];
      if (!/^application\/json\b/.test(parts[0]!.headers['content-type'] ?? '')) return [...problems, 'the first part of a multipart/related upload is not application/json metadata'];
      try {
        value = JSON.parse(parts[0]!.content);
      } catch {
        return [...problems, 'the metadata part is not valid JSON'];
      }
    }
  } else {
    try {
      value = JSON.parse(req.body);
    } catch {
      return [...problems, 'body is not valid JSON'];
    }
  }
  problems.push(...validate(d.validator(schemaPointer), value, 'body'));
  return problems;
}

function validate(v: ValidateFunction, value: unknown, what: string): string[] {
  if (v(value)) return [];
  return (v.errors ?? []).slice(0, 5).map((e) => `${what}${e.instancePath} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` (\`${String(e.params.additionalProperty)}\`)` : ''}`);
}

/** Servers named on single paths or operations (OpenAPI 3), besides the document's. */
function operationServers(doc: Json): string[] {
  const out: string[] = [];
  for (const item of Object.values((doc.paths as Record<string, Json> | undefined) ?? {})) {
    out.push(...(serverList(item.servers) ?? []));
    for (const op of Object.values(item)) if (op && typeof op === 'object') out.push(...(serverList((op as Json).servers) ?? []));
  }
  return out;
}

function serverList(value: unknown): string[] | undefined {
  return Array.isArray(value) ? (value as { url: string }[]).map((s) => s.url.replace(/\/$/, '')) : undefined;
}

/** Base URLs the description names: OpenAPI `servers`, or Swagger 2.0 scheme + host + basePath. */
function servers(doc: Json): string[] {
  if (Array.isArray(doc.servers)) return (doc.servers as { url: string }[]).map((s) => s.url.replace(/\/$/, ''));
  const schemes = (doc.schemes as string[] | undefined) ?? ['https'];
  return schemes.map((s) => `${s}://${String(doc.host)}${String(doc.basePath ?? '')}`.replace(/\/$/, ''));
}

/** Decodes `a[b][0]=v` form keys back into nested objects and lists. */
export function decodeForm(text: string): Json {
  const root: Json = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const parts = key.replace(/\]/g, '').split('[');
    let at: Json = root;
    parts.forEach((part, i) => {
      if (i === parts.length - 1) at[part] = value;
      else at = (at[part] ??= {}) as Json;
    });
  }
  return listify(root) as Json;
}

/** One part of a decoded multipart body: its headers (lowercase names) and its content. */
export interface DecodedPart {
  readonly headers: Readonly<Record<string, string>>;
  readonly content: string;
}

/**
 * Splits a multipart body (RFC 2046) on `boundary` into its parts; throws (with what is wrong)
 * on a body that does not open with the boundary, has no closing delimiter, or a part without
 * the blank line that ends its headers.
 */
export function decodeMultipart(body: string, boundary: string): DecodedPart[] {
  const delimiter = `--${boundary}`;
  if (!body.startsWith(`${delimiter}\r\n`)) throw new Error('does not open with its boundary');
  const end = body.indexOf(`\r\n${delimiter}--`);
  if (end === -1) throw new Error('has no closing boundary');
  return body.slice(delimiter.length + 2, end).split(`\r\n${delimiter}\r\n`).map((raw) => {
    const blank = raw.indexOf('\r\n\r\n');
    if (blank === -1) throw new Error('has a part without a blank line after its headers');
    const headers = Object.fromEntries(raw.slice(0, blank).split('\r\n').filter((l) => l !== '').map((line) => {
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`has a malformed part header \`${line.slice(0, 60)}\``);
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
    }));
    return { headers, content: raw.slice(blank + 4) };
  });
}

/**
 * A multipart/form-data body as the object its schema describes: each part under its field
 * name, parsed as JSON where the schema types the field as an object or list (Box's
 * `attributes`), text otherwise (a file).
 */
function formDataValue(doc: Json, parts: readonly DecodedPart[], schema: unknown): Json {
  const props = branches(doc, schema).find((b) => b.properties)?.properties as Json | undefined;
  const out: Json = {};
  for (const part of parts) {
    const name = /;\s*name="([^"]*)"/.exec(part.headers['content-disposition'] ?? '')?.[1] ?? '';
    const types = props?.[name] ? schemaType(doc, props[name]) : [];
    let value: unknown = part.content;
    if (types.includes('object') || types.includes('array')) {
      try {
        value = JSON.parse(part.content);
      } catch {
        value = part.content;
      }
    }
    out[name] = value;
  }
  return out;
}

function listify(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Json).map(([k, v]) => [k, listify(v)] as const);
  const isList = entries.length > 0 && entries.every(([k], i) => k === String(i));
  return isList ? entries.map(([, v]) => v) : Object.fromEntries(entries);
}

/** The schema's alternatives (anyOf/oneOf/allOf flattened, refs followed). */
function branches(doc: Json, schema: unknown): Json[] {
  const s = deref(doc, schema, '').node;
  if (!s || typeof s !== 'object') return [];
  const nested = [...((s.anyOf as unknown[]) ?? []), ...((s.oneOf as unknown[]) ?? []), ...((s.allOf as unknown[]) ?? [])];
  return nested.length > 0 ? [s, ...nested.flatMap((n) => branches(doc, n))] : [s];
}

function schemaType(doc: Json, schema: unknown): string[] {
  return branches(doc, schema).flatMap((b) => (Array.isArray(b.type) ? (b.type as string[]) : typeof b.type === 'string' ? [b.type] : []));
}

/** Form and query values are text: turns them into what the schema types them as. */
function coerce(doc: Json, value: unknown, schema: unknown): unknown {
  const options = branches(doc, schema);
  const types = schemaType(doc, schema);
  if (typeof value === 'string') {
    if ((types.includes('integer') && /^-?\d+$/.test(value)) || (types.includes('number') && value.trim() !== '' && !Number.isNaN(Number(value)))) return Number(value);
    if (types.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
    return value;
  }
  if (Array.isArray(value)) {
    const items = options.find((o) => o.items)?.items;
    return items ? value.map((v) => coerce(doc, v, items)) : value;
  }
  if (value && typeof value === 'object') {
    const props = options.find((o) => o.properties || o.additionalProperties);
    if (!props) return value;
    return Object.fromEntries(Object.entries(value as Json).map(([k, v]) => {
      const inner = (props.properties as Json | undefined)?.[k] ?? (typeof props.additionalProperties === 'object' ? props.additionalProperties : undefined);
      return [k, inner ? coerce(doc, v, inner) : v];
    }));
  }
  return value;
}

/**
 * The problems of a response to `method template` against the schema the description gives for
 * its status (the exact code, then `4XX`-style ranges, then `default`). `described` is false
 * when the description has no schema for it (Stripe's keep only the request side, SendGrid's
 * 202 has no body): then there is nothing to check.
 */
export function checkResponse(d: Description, method: string, template: string, status: number, body: unknown): { described: boolean; problems: string[]; unreadable?: string } {
  const opPointer = `/paths/${esc(template)}/${method.toLowerCase()}`;
  const op = (d.doc.paths as Record<string, Json>)[template]?.[method.toLowerCase()] as Json | undefined;
  const responses = (op?.responses ?? {}) as Json;
  const code = [String(status), `${String(status)[0]}XX`, 'default'].find((c) => responses[c] !== undefined);
  if (code === undefined) return { described: false, problems: [] };
  const response = deref(d.doc, responses[code], `${opPointer}/responses/${code}`);
  let pointer: string;
  let schema: unknown;
  if (response.node.schema !== undefined) {
    pointer = `${response.pointer}/schema`;
    schema = response.node.schema;
  } else {
    const content = response.node.content as Record<string, Json> | undefined;
    const type = content && Object.keys(content).find((t) => t.includes('json'));
    if (!type || content[type]!.schema === undefined) return { described: false, problems: [] };
    pointer = `${response.pointer}/content/${esc(type)}/schema`;
    schema = content[type]!.schema;
  }
  if (schema && typeof schema === 'object' && Object.keys(schema).length === 0) return { described: false, problems: [] };
  let validator: ValidateFunction;
  try {
    validator = d.validator(pointer);
  } catch (error) {
    // A description cut down to a few operations can leave a response schema pointing at one
    // it dropped (Square's payment link): that schema cannot be checked, and the caller says so.
    return { described: false, problems: [], unreadable: error instanceof Error ? error.message : String(error) };
  }
  return { described: true, problems: validate(validator, body, 'response') };
}

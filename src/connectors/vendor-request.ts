/**
 * From a vendor operation's spec and a step's fields to the parameters of an HTTP connector
 * request (method, path, query, headers, body): path templates filled and escaped, query and
 * header fields placed, the body encoded as JSON or as a form with Stripe-style nested keys,
 * and the vendor's idempotency mechanism applied. Pure: the HTTP connector sends the result.
 */
import { createHash, randomBytes } from 'node:crypto';
import { HttpFailure } from './http-failure.js';
import type { MultipartPart, OperationSpec } from './spec.js';
import { clipText } from './vendor-text.js';

/** The parameters of an `http` request, as the HTTP connector takes them. */
export interface VendorRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** The resource ID the connector derived from the idempotency key and sent (ClientId idempotency). */
  readonly derivedId?: string;
}

/** Bound on nesting of a form body: deeper structures are a mistake, not data. */
const MAX_FORM_DEPTH = 8;
/** Bounds of a multipart body: a few parts of text (metadata and a small file), not a bulk upload. */
export const MAX_MULTIPART_PARTS = 8;
export const MAX_MULTIPART_BYTES = 5 * 1024 * 1024;
/** A media type with parameters, on one line (nothing that could start another header). */
export const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+(\s*;\s*[\w!#$&^.+-]+=("[^"\r\n]*"|[\w!#$&^.+-]+))*$/;

/** Builds the request for `op` with `params` (defaults applied); throws HttpFailure for input that cannot be sent. */
export function buildVendorRequest(op: OperationSpec, params: Readonly<Record<string, unknown>>, idempotencyKey: string): VendorRequest {
  const http = op.http;
  if (!http) throw new HttpFailure('operation has no HTTP mapping', false);
  const query: Record<string, string | string[]> = {};
  const headers: Record<string, string> = {};
  const body: Record<string, unknown> = {};
  let path = http.path;
  for (const [name, spec] of Object.entries(op.fields)) {
    const value = params[name] ?? spec.default;
    if (value === undefined || value === null) continue;
    // Lint checks literal values; one computed by an expression is checked here, before sending.
    if (spec.pattern && typeof value === 'string' && !new RegExp(spec.pattern, 'u').test(value)) {
      throw new HttpFailure(`field \`${name}\` must match \`${spec.pattern}\`, not \`${clipText(value, 80)}\``, false);
    }
    const wire = spec.name ?? name;
    const where = spec.in ?? (http.method === 'GET' ? 'query' : 'body');
    if (where === 'path') {
      // `{+name}` is RFC 6570 reserved expansion (Google's resource names): the value's
      // slashes stay slashes, everything else in each segment is escaped.
      const text = scalar(value, name);
      path = path.replace(`{${wire}}`, encodeURIComponent(text)).replace(`{+${wire}}`, text.split('/').map(encodeURIComponent).join('/'));
    } else if (where === 'query') {
      const list = Array.isArray(value) ? value.map((v) => scalar(v, name)) : undefined;
      query[wire] = list ? (spec.separator !== undefined ? list.join(spec.separator) : list) : scalar(value, name);
    } else if (where === 'header') {
      headers[wire.toLowerCase()] = scalar(value, name);
    } else {
      body[http.buildBody ? name : wire] = spec.encode === 'json' ? JSON.stringify(value) : value;
    }
  }
  Object.assign(query, http.query);
  const missing = /\{([^}]+)\}/.exec(path);
  if (missing) throw new HttpFailure(`missing path parameter \`${missing[1]}\``, false);
  const payload = http.buildBody ? http.buildBody(body) : body;
  const idem = op.idempotency;
  const key = idem && !('derive' in idem) ? boundedKey(idempotencyKey, idem.maxLength) : idempotencyKey;
  let derivedId: string | undefined;
  if (idem && 'derive' in idem && !Array.isArray(payload) && payload[idem.bodyField] === undefined) payload[idem.bodyField] = derivedId = idem.derive(idempotencyKey);
  else if (idem && 'bodyField' in idem && !('derive' in idem) && !Array.isArray(payload)) payload[idem.bodyField] ??= key;
  if (op.idempotency && 'header' in op.idempotency) headers[op.idempotency.header.toLowerCase()] = key;
  if (op.idempotency && 'query' in op.idempotency) query[op.idempotency.query] ??= key;
  const derived = derivedId !== undefined ? { derivedId } : {};
  if (http.method === 'GET' || !http.body) return { method: http.method, path, query, headers, ...derived };
  if (http.body === 'json') {
    headers['content-type'] = 'application/json';
    return { method: http.method, path, query, headers, body: JSON.stringify(payload), ...derived };
  }
  if (http.body === 'multipart/related' || http.body === 'multipart/form-data') {
    if (!http.parts) throw new HttpFailure('multipart operation has no parts', false);
    const boundary = `flux-${randomBytes(16).toString('hex')}`;
    headers['content-type'] = `${http.body}; boundary=${boundary}`;
    return { method: http.method, path, query, headers, body: encodeMultipart(http.parts(body), boundary, http.body === 'multipart/form-data'), ...derived };
  }
  headers['content-type'] = 'application/x-www-form-urlencoded';
  return { method: http.method, path, query, headers, body: encodeForm(payload), ...derived };
}

/**
 * Encodes text parts as a multipart body (RFC 2046) with `boundary`: each part with its
 * Content-Type, and for form-data its Content-Disposition (field name, file name). Bounded
 * in parts and bytes; a boundary that occurs inside a part is refused rather than sent broken.
 */
export function encodeMultipart(parts: readonly MultipartPart[], boundary: string, formData: boolean): string {
  if (parts.length === 0 || parts.length > MAX_MULTIPART_PARTS) throw new HttpFailure(`a multipart body takes 1 to ${MAX_MULTIPART_PARTS} parts, not ${parts.length}`, false);
  const bytes = parts.reduce((n, p) => n + Buffer.byteLength(p.content), 0);
  if (bytes > MAX_MULTIPART_BYTES) throw new HttpFailure(`the upload is ${bytes} bytes; the limit is ${MAX_MULTIPART_BYTES} (5 MiB)`, false);
  const out: string[] = [];
  for (const part of parts) {
    if (part.content.includes(`--${boundary}`)) throw new HttpFailure('a multipart part contains the boundary', false);
    if (!MEDIA_TYPE.test(part.contentType)) throw new HttpFailure(`\`${clipText(part.contentType, 80)}\` is not a media type (type/subtype)`, false);
    out.push(`--${boundary}\r\n`);
    if (formData) out.push(`Content-Disposition: form-data; name="${quoted(part.name ?? '')}"${part.filename !== undefined ? `; filename="${quoted(part.filename)}"` : ''}\r\n`);
    out.push(`Content-Type: ${part.contentType}\r\n\r\n${part.content}\r\n`);
  }
  out.push(`--${boundary}--\r\n`);
  return out.join('');
}

/** A name or file name inside a quoted header parameter, escaped as browsers do (WHATWG). */
function quoted(text: string): string {
  return text.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}

/**
 * Encodes an object as a form the way Stripe reads one: nested objects and lists as
 * bracketed keys (`metadata[order]=42`, `line_items[0][price]=price_1`), booleans as
 * true/false, null and undefined left out.
 */
export function encodeForm(value: Readonly<Record<string, unknown>> | readonly unknown[]): string {
  const form = new URLSearchParams();
  const add = (key: string, v: unknown, depth: number): void => {
    if (v === undefined || v === null) return;
    if (depth > MAX_FORM_DEPTH) throw new HttpFailure(`form field \`${key}\` nests deeper than ${MAX_FORM_DEPTH} levels`, false);
    if (Array.isArray(v)) v.forEach((item, i) => add(`${key}[${i}]`, item, depth + 1));
    else if (typeof v === 'object') for (const [k, inner] of Object.entries(v)) add(`${key}[${k}]`, inner, depth + 1);
    else form.append(key, String(v));
  };
  for (const [k, v] of Object.entries(value)) add(k, v, 0);
  return form.toString();
}

/**
 * The idempotency key within the vendor's bound: as is when it fits, else a base64url SHA-256
 * digest cut to `max` characters, so it is still the same on every retry of the step.
 */
export function boundedKey(key: string, max: number | undefined): string {
  if (max === undefined || key.length <= max) return key;
  return createHash('sha256').update(key).digest('base64url').slice(0, max);
}

/** A value for a path, query or header slot: a string, number or boolean as text. */
function scalar(value: unknown, field: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new HttpFailure(`field \`${field}\` must be a string, number or boolean, not ${Array.isArray(value) ? 'a list' : typeof value}`, false);
}


/**
 * Building an HTTP request from a step's parameters and its connection: the URL with its
 * query, the headers (checked before anything is sent), the body and the auth.
 */
import { escapeControl } from '../text/escape.js';
import { checkHeaders, HttpFailure } from './http-failure.js';
import type { AuthConfig, CallContext, OperationCall } from './runtime.js';

/** Default cap on a response body. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The methods a request may use: the spec's enum, and the only ones the run log records. */
export const HTTP_METHODS: readonly string[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** A request ready to send. */
export interface BuiltRequest {
  /** One of HTTP_METHODS, upper-case. */
  readonly method: string;
  readonly url: URL;
  /** Lower-case names; a Map so that a header named by the workflow is never an object key. */
  readonly headers: Map<string, string>;
  readonly body: string | undefined;
  readonly maxBytes: number;
}

/** Builds the request for a call; throws an HttpFailure for input that cannot be sent. */
export function buildRequest(call: OperationCall, ctx: CallContext, userAgent: string): BuiltRequest {
  const p = call.params;
  const method = (typeof p.method === 'string' ? p.method : 'GET').toUpperCase();
  // A method rendered from an expression is outside data: only a known one is sent, so what
  // the run log records as the step's method is always one of a few words.
  if (!HTTP_METHODS.includes(method)) {
    const shown = method.length > 40 ? `${method.slice(0, 40)}…` : method;
    throw new HttpFailure(`unsupported HTTP method \`${escapeControl(shown)}\`; use one of ${HTTP_METHODS.join(', ')}`, false);
  }
  let url: URL;
  if (call.connection) {
    const base = call.connection.base_url.replace(/\/+$/, '');
    const path = typeof p.path === 'string' ? p.path : '';
    url = parseUrl(`${base}${path.startsWith('/') || path === '' ? '' : '/'}${path}`);
  } else {
    url = parseUrl(String(p.url ?? ''));
  }
  const query = p.query as Record<string, unknown> | undefined;
  if (query && typeof query === 'object') {
    for (const [k, v] of Object.entries(query)) {
      if (v === null || v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, typeof item === 'string' ? item : JSON.stringify(item));
    }
  }
  const headers = new Map<string, string>([['user-agent', userAgent], ['accept', 'application/json, */*;q=0.5']]);
  for (const source of [call.connection?.headers, p.headers as Record<string, unknown> | undefined]) {
    if (source) for (const [k, v] of Object.entries(source)) headers.set(k.toLowerCase(), String(v));
  }
  if (!IDEMPOTENT_METHODS.has(method)) headers.set('idempotency-key', ctx.idempotencyKey);
  let body: string | undefined;
  const contentType = (type: string): void => {
    if (!headers.has('content-type')) headers.set('content-type', type);
  };
  if (p.json !== undefined) {
    body = JSON.stringify(p.json);
    contentType('application/json');
  } else if (p.form !== undefined) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(p.form as Record<string, unknown>)) form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    body = form.toString();
    contentType('application/x-www-form-urlencoded');
  } else if (p.body !== undefined) {
    body = typeof p.body === 'string' ? p.body : JSON.stringify(p.body);
  }
  const auth = call.connection?.auth ?? (p.auth as AuthConfig | undefined);
  if (auth) applyAuth(auth, headers, url, ctx);
  // Before anything is sent, so a bad value fails as an input error, not as "cannot reach".
  checkHeaders(headers);
  const maxBytes = typeof p.max_response_bytes === 'number' ? p.max_response_bytes : DEFAULT_MAX_RESPONSE_BYTES;
  return { method, url, headers, body, maxBytes };
}

/** Parses an http or https URL; throws an HttpFailure naming the bad text otherwise. */
export function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HttpFailure(`invalid URL \`${escapeControl(text)}\``, false);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpFailure(`unsupported URL scheme \`${escapeControl(url.protocol)}\` in \`${escapeControl(text)}\`; use http or https`, false);
  return url;
}

function applyAuth(auth: AuthConfig, headers: Map<string, string>, url: URL, ctx: CallContext): void {
  if ('bearer' in auth) {
    headers.set('authorization', `Bearer ${auth.bearer}`);
  } else if ('basic' in auth) {
    const credential = Buffer.from(`${auth.basic.username}:${auth.basic.password ?? ''}`).toString('base64');
    ctx.masker.add(credential);
    headers.set('authorization', `Basic ${credential}`);
  } else if ('api_key' in auth) {
    if (auth.api_key.query) url.searchParams.set(auth.api_key.query, auth.api_key.value);
    else headers.set((auth.api_key.header ?? 'x-api-key').toLowerCase(), auth.api_key.value);
  }
}

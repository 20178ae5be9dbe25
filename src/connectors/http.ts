/**
 * The HTTP connector: `uses: http` for a one-off request to a full URL, and
 * `uses: <connection>.request` for a request relative to a named connection's base URL and auth.
 */
import type { Dispatcher } from 'undici';
import type { Masker } from '../secrets/masker.js';
import type { AuthConfig, CallContext, CallOutcome, ConnectorRuntime, OperationCall } from './runtime.js';
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

const common: Readonly<Record<string, FieldSpec>> = {
  method: { type: 'string', description: 'HTTP method.', enum: METHODS, default: 'GET' },
  query: { type: 'object', description: 'Query parameters, appended to the URL.', example: { status: 'open' } },
  headers: { type: 'object', description: 'Request headers.' },
  json: { type: 'any', description: 'A body sent as JSON (Content-Type: application/json).' },
  form: { type: 'object', description: 'A body sent as application/x-www-form-urlencoded.' },
  body: { type: 'string', description: 'A raw body, sent as given.' },
  ok_status: {
    type: ['array', 'string'],
    description: 'Which statuses count as success: a list of codes or ranges such as [200, "3xx"]. Default 2xx.',
    example: ['2xx', 404],
  },
  max_response_bytes: { type: 'integer', description: 'Largest response body read; a larger one fails the step. Default 10 MiB.' },
  response: { type: 'string', description: 'How to read the response body: auto (by content type, the default), json (fail unless it is JSON) or text.', enum: ['auto', 'json', 'text'] },
};

const exclusive = [['json', 'form', 'body']] as const;
const output = '`{ status, headers, body }`; body is parsed when the response is JSON.';

const standalone: OperationSpec = {
  summary: 'Send one HTTP request to a full URL.',
  fields: {
    url: { type: 'string', description: 'The full URL, e.g. https://api.example.com/v1/contacts.', required: true },
    ...common,
    auth: { type: 'object', description: 'Auth for this request: bearer, basic, api_key or oauth2, as on a connection.' },
  },
  exclusive,
  output,
};

const requestOperation: OperationSpec = {
  summary: "Send an HTTP request relative to the connection's base URL, with its auth and headers.",
  fields: {
    path: { type: 'string', description: 'Path relative to the base URL, e.g. /contacts.', required: true },
    ...common,
  },
  exclusive,
  output,
};

export const httpSpec: ConnectorSpec = {
  name: 'http',
  summary: 'HTTP requests to any JSON or form API.',
  standalone,
  operations: { request: requestOperation },
};

// ---------------------------------------------------------------------------------------------
// Runtime

/** Default cap on a response body. */
export const DEFAULT_MAX_RESPONSE_BYTES = 10 * 1024 * 1024;
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface HttpOptions {
  readonly userAgent?: string;
  /** undici dispatcher; by default one keep-alive Agent (a pool per origin) per connector. */
  readonly dispatcher?: Dispatcher;
  readonly now?: () => number;
}

interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

/** Creates the HTTP connector's runtime (undici is loaded here, not when the spec is read). */
export async function createHttp(options: HttpOptions = {}): Promise<ConnectorRuntime> {
  const { Agent, request } = await import('undici');
  const dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connections: 64 });
  const now = options.now ?? Date.now;
  const tokens = new Map<string, Token>();
  const userAgent = options.userAgent ?? 'flux';

  async function fetchToken(auth: Extract<AuthConfig, { oauth2: unknown }>['oauth2'], ctx: CallContext, force: boolean): Promise<string> {
    const key = `${auth.token_url}\u0000${auth.client_id}\u0000${auth.scope ?? ''}\u0000${auth.audience ?? ''}`;
    const cached = tokens.get(key);
    if (!force && cached && cached.expiresAt > now()) return cached.value;
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: auth.client_id, client_secret: auth.client_secret });
    if (auth.scope) form.set('scope', auth.scope);
    if (auth.audience) form.set('audience', auth.audience);
    const res = await request(auth.token_url, {
      method: 'POST', dispatcher, signal: ctx.signal,
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': userAgent },
      body: form.toString(),
    });
    const text = await res.body.text();
    if (res.statusCode < 200 || res.statusCode >= 300) {
      throw new HttpFailure(`OAuth2 token request to ${auth.token_url} answered ${res.statusCode}`, res.statusCode >= 500 || res.statusCode === 429, res.statusCode);
    }
    let body: { access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new HttpFailure(`OAuth2 token response from ${auth.token_url} is not JSON`, false);
    }
    if (typeof body.access_token !== 'string' || body.access_token === '') throw new HttpFailure(`OAuth2 token response from ${auth.token_url} has no access_token`, false);
    ctx.masker.add(body.access_token);
    const ttl = typeof body.expires_in === 'number' ? body.expires_in : 3600;
    tokens.set(key, { value: body.access_token, expiresAt: now() + Math.max(0, ttl - 30) * 1000 });
    return body.access_token;
  }

  return {
    async call(call, ctx) {
      let built: BuiltRequest;
      try {
        built = buildRequest(call, ctx, userAgent);
      } catch (error) {
        return failure(error instanceof Error ? error.message : String(error), false);
      }
      const auth = call.connection?.auth ?? (call.params.auth as AuthConfig | undefined);
      if (ctx.dryRun) {
        if (auth && 'oauth2' in auth) built.headers.authorization = 'Bearer <token from OAuth2 client credentials>';
        return { ok: true, output: { dry_run: true, request: { method: built.method, url: built.url.toString(), headers: built.headers, body: built.body ?? null } } };
      }
      const signal = ctx.timeoutMs !== undefined ? AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.timeoutMs)]) : ctx.signal;
      try {
        if (auth && 'oauth2' in auth) built.headers.authorization = `Bearer ${await fetchToken(auth.oauth2, { ...ctx, signal }, false)}`;
        let response = await send(built, signal);
        if (response.status === 401 && auth && 'oauth2' in auth) {
          // The token may have been revoked or expired early: fetch a fresh one and try once more.
          built.headers.authorization = `Bearer ${await fetchToken(auth.oauth2, { ...ctx, signal }, true)}`;
          response = await send(built, signal);
        }
        return interpret(response, call.params, ctx.masker);
      } catch (error) {
        return describeFailure(error, built.url, ctx, signal);
      }
    },
    async close() {
      await dispatcher.close();
    },
  };

  async function send(built: BuiltRequest, signal: AbortSignal): Promise<RawResponse> {
    const res = await request(built.url, { method: built.method as Dispatcher.HttpMethod, headers: built.headers, body: built.body ?? null, signal, dispatcher });
    const limit = built.maxBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) {
        res.body.destroy();
        throw new HttpFailure(`response body is larger than ${limit} bytes (max_response_bytes)`, false, res.statusCode);
      }
      chunks.push(chunk);
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    return { status: res.statusCode, headers, bytes: Buffer.concat(chunks) };
  }
}

interface BuiltRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string | undefined;
  readonly maxBytes: number;
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly bytes: Buffer;
}

class HttpFailure extends Error {
  constructor(message: string, readonly retryable: boolean, readonly status?: number) {
    super(message);
  }
}

function buildRequest(call: OperationCall, ctx: CallContext, userAgent: string): BuiltRequest {
  const p = call.params;
  const method = (typeof p.method === 'string' ? p.method : 'GET').toUpperCase();
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
  const headers: Record<string, string> = { 'user-agent': userAgent, accept: 'application/json, */*;q=0.5' };
  for (const source of [call.connection?.headers, p.headers as Record<string, unknown> | undefined]) {
    if (source) for (const [k, v] of Object.entries(source)) headers[k.toLowerCase()] = String(v);
  }
  if (!IDEMPOTENT_METHODS.has(method)) headers['idempotency-key'] = ctx.idempotencyKey;
  let body: string | undefined;
  if (p.json !== undefined) {
    body = JSON.stringify(p.json);
    headers['content-type'] ??= 'application/json';
  } else if (p.form !== undefined) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(p.form as Record<string, unknown>)) form.append(k, typeof v === 'string' ? v : JSON.stringify(v));
    body = form.toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  } else if (p.body !== undefined) {
    body = typeof p.body === 'string' ? p.body : JSON.stringify(p.body);
  }
  const auth = call.connection?.auth ?? (p.auth as AuthConfig | undefined);
  if (auth) applyAuth(auth, headers, url, ctx);
  const maxBytes = typeof p.max_response_bytes === 'number' ? p.max_response_bytes : DEFAULT_MAX_RESPONSE_BYTES;
  return { method, url, headers, body, maxBytes };
}

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`invalid URL \`${text}\``);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported URL scheme \`${url.protocol}\` in \`${text}\`; use http or https`);
  return url;
}

function applyAuth(auth: AuthConfig, headers: Record<string, string>, url: URL, ctx: CallContext): void {
  if ('bearer' in auth) {
    headers.authorization = `Bearer ${auth.bearer}`;
  } else if ('basic' in auth) {
    const credential = Buffer.from(`${auth.basic.username}:${auth.basic.password ?? ''}`).toString('base64');
    ctx.masker.add(credential);
    headers.authorization = `Basic ${credential}`;
  } else if ('api_key' in auth) {
    if (auth.api_key.query) url.searchParams.set(auth.api_key.query, auth.api_key.value);
    else headers[(auth.api_key.header ?? 'x-api-key').toLowerCase()] = auth.api_key.value;
  }
}

// Outside text is cut short with masker.clip, which masks before it cuts: a cut through a
// secret would leave its first part, which no form of the secret matches any more.
function interpret(res: RawResponse, params: Readonly<Record<string, unknown>>, masker: Masker): CallOutcome {
  const contentType = res.headers['content-type'] ?? '';
  const expect = typeof params.response === 'string' ? params.response : 'auto';
  let body: unknown;
  const text = res.bytes.toString('utf8');
  const looksJson = /[/+]json\b/i.test(contentType);
  if (expect === 'text') {
    body = text;
  } else if (looksJson || expect === 'json') {
    if (text.trim() === '') body = null;
    else {
      try {
        body = JSON.parse(text);
      } catch {
        const what = looksJson ? `declares ${contentType.split(';')[0]} but its body is not valid JSON` : `is not JSON (content-type ${contentType.split(';')[0] || 'missing'})`;
        return { ok: false, status: res.status, output: { status: res.status, headers: res.headers, body: masker.clip(text, 2000) }, error: { message: `response (HTTP ${res.status}) ${what}`, retryable: false, status: res.status } };
      }
    }
  } else if (/^text\/|xml|x-www-form-urlencoded/i.test(contentType) || isUtf8(res.bytes)) {
    body = text;
  } else {
    body = { base64: res.bytes.toString('base64') };
  }
  const output = { status: res.status, headers: res.headers, body };
  if (statusOk(res.status, params.ok_status)) return { ok: true, status: res.status, output };
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
  const detail = typeof body === 'string' ? masker.clip(body.trim(), 200) : body && typeof body === 'object' && Object.keys(body).length > 0 ? masker.clip(JSON.stringify(body), 200) : '';
  return {
    ok: false, status: res.status, output,
    error: { message: `HTTP ${res.status}${detail ? `: ${detail}` : ''}`, retryable, status: res.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
  };
}

function statusOk(status: number, okStatus: unknown): boolean {
  if (okStatus === undefined || okStatus === null) return status >= 200 && status < 300;
  const list = Array.isArray(okStatus) ? okStatus : [okStatus];
  return list.some((s) => {
    if (typeof s === 'number') return s === status;
    const m = /^([1-5])xx$/i.exec(String(s));
    if (m) return Math.floor(status / 100) === Number(m[1]);
    return Number(s) === status;
  });
}

/** Retry-After as delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return !bytes.includes(0);
  } catch {
    return false;
  }
}

function failure(message: string, retryable: boolean, status?: number): CallOutcome {
  return { ok: false, output: null, error: { message, retryable, ...(status !== undefined ? { status } : {}) } };
}

function describeFailure(error: unknown, url: URL, ctx: CallContext, signal: AbortSignal): CallOutcome {
  if (error instanceof HttpFailure) return failure(error.message, error.retryable, error.status);
  const where = `${url.protocol}//${url.host}`;
  if (ctx.signal.aborted) return failure(`request to ${where} was cancelled`, false);
  if (signal.aborted) return failure(`request to ${where} timed out after ${formatMs(ctx.timeoutMs ?? 0)}`, true);
  const e = error as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  const code = e.cause?.code ?? e.code ?? '';
  const tls = /CERT|SSL|TLS|SELF_SIGNED|ERR_TLS|UNABLE_TO_VERIFY|EPROTO/i.test(`${code} ${e.cause?.message ?? ''} ${e.message ?? ''}`);
  if (tls) return failure(`TLS error talking to ${where}: ${e.cause?.message ?? e.message ?? code}`, false);
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused', ENOTFOUND: 'host not found', EAI_AGAIN: 'DNS lookup failed', ECONNRESET: 'connection reset by the server',
    ETIMEDOUT: 'connection timed out', EHOSTUNREACH: 'host unreachable', ENETUNREACH: 'network unreachable', EPIPE: 'connection closed while sending',
    UND_ERR_SOCKET: 'connection closed by the server', UND_ERR_CONNECT_TIMEOUT: 'connect timed out', UND_ERR_HEADERS_TIMEOUT: 'no response headers in time', UND_ERR_BODY_TIMEOUT: 'response body stalled',
  };
  const what = words[code] ?? (e.cause?.message ?? e.message ?? String(error));
  return failure(`cannot reach ${where}: ${what}`, true);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

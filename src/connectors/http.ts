/**
 * The HTTP connector: `uses: http` for a one-off request to a full URL, and
 * `uses: <connection>.request` for a request relative to a named connection's base URL and auth.
 */
import type { Dispatcher } from 'undici';
import { formatDuration, startDeadline } from './deadline.js';
import { describeError, failure, HttpFailure, originOf } from './http-failure.js';
import { buildRequest, HTTP_METHODS, parseUrl, type BuiltRequest } from './http-request.js';
import { interpret, readBody, type RawResponse } from './http-response.js';
import { createTokenCache } from './oauth/token-cache.js';
import { DEFAULT_ATTEMPT_TIMEOUT_MS, type AuthConfig, type CallContext, type CallOutcome, type ConnectorRuntime, type OperationCall } from './runtime.js';
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';

const common: Readonly<Record<string, FieldSpec>> = {
  method: { type: 'string', description: 'HTTP method.', enum: HTTP_METHODS, default: 'GET' },
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

export interface HttpOptions {
  readonly userAgent?: string;
  /** undici dispatcher; by default one keep-alive Agent (a pool per origin) per connector. */
  readonly dispatcher?: Dispatcher;
  readonly now?: () => number;
}

/** Creates the HTTP connector's runtime (undici is loaded here, not when the spec is read). */
export async function createHttp(options: HttpOptions = {}): Promise<ConnectorRuntime> {
  const { Agent, request } = await import('undici');
  // undici's own headers and body timeouts are off: the attempt's deadline (see call) is the
  // one bound on a request, so a step's `timeout` means the same thing however the server stalls.
  const dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, keepAliveMaxTimeout: 60_000, connections: 64, headersTimeout: 0, bodyTimeout: 0 });
  const now = options.now ?? Date.now;
  const userAgent = options.userAgent ?? 'flux';
  const tokens = createTokenCache({ request, dispatcher, userAgent, now });

  async function send(built: BuiltRequest, signal: AbortSignal): Promise<RawResponse> {
    const headers = [...built.headers].flat();
    const res = await request(built.url, { method: built.method as Dispatcher.HttpMethod, headers, body: built.body ?? null, signal, dispatcher });
    const bytes = await readBody(res, built.maxBytes, built.url);
    // Object.fromEntries defines keys as data, so a header named `__proto__` stays a header.
    const copied = Object.fromEntries(
      Object.entries(res.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, Array.isArray(v) ? v.join(', ') : v]])),
    ) as Record<string, string>;
    return { status: res.statusCode, headers: copied, bytes };
  }

  return {
    async call(call, ctx) {
      let built: BuiltRequest;
      try {
        built = buildRequest(call, ctx, userAgent);
      } catch (error) {
        return failure(error instanceof Error ? error.message : String(error), false);
      }
      const outcome = await attempt(call, ctx, built);
      return { ...outcome, method: built.method };
    },
    async close() {
      await dispatcher.close();
    },
  };

  /** One attempt of a built request: the token (for OAuth2), the request, and its response read. */
  async function attempt(call: OperationCall, ctx: CallContext, built: BuiltRequest): Promise<CallOutcome> {
    const auth = call.connection?.auth ?? (call.params.auth as AuthConfig | undefined);
    if (ctx.dryRun) {
      if (auth && 'oauth2' in auth) built.headers.set('authorization', `Bearer <token from OAuth2 ${(auth.oauth2.grant ?? 'client_credentials').replace('_', ' ')}>`);
      return { ok: true, output: { dry_run: true, request: { method: built.method, url: built.url.toString(), headers: Object.fromEntries(built.headers), body: built.body ?? null } } };
    }
    // One deadline for the whole attempt: the token fetch, connecting, headers and body.
    const ms = ctx.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    const deadline = startDeadline(ctx.signal, ms);
    let target = built.url;
    try {
      const oauth2 = auth && 'oauth2' in auth ? auth.oauth2 : undefined;
      let token: string | undefined;
      const authorize = async (rejected?: string): Promise<void> => {
        if (!oauth2) return;
        if (oauth2.token_url) target = parseUrl(oauth2.token_url);
        token = await tokens.token(oauth2, ctx, deadline.signal, rejected);
        built.headers.set('authorization', `Bearer ${token}`);
        target = built.url;
      };
      await authorize();
      let response = await send(built, deadline.signal);
      if (response.status !== 401 || !oauth2) return interpret(response, call.params, built.url, ctx.masker);
      // The token may have been revoked or expired early: get a fresh one and try once more.
      await authorize(token);
      response = await send(built, deadline.signal);
      const outcome = interpret(response, call.params, built.url, ctx.masker);
      if (response.status !== 401 || !outcome.error) return outcome;
      const refused = `${outcome.error.message}; refused again with a freshly fetched OAuth2 access token: check the connection's scope and that the client may call this API`;
      return { ...outcome, error: { ...outcome.error, message: refused } };
    } catch (error) {
      if (error instanceof HttpFailure) return failure(error.message, error.retryable, error.status);
      if (ctx.signal.aborted) return failure(`request to ${originOf(target)} was cancelled`, false);
      if (deadline.expired) return failure(`request to ${originOf(target)} timed out after ${formatDuration(ms)}`, true);
      return describeError(error, target);
    } finally {
      deadline.dispose();
    }
  }
}

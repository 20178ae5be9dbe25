/**
 * The runtime of a vendor connector: an operation's request is built from its spec
 * (vendor-request.ts) and sent through the HTTP connector, so pooling, retries with
 * Retry-After, timeouts, auth, masking and idempotency keys are the HTTP connector's. What
 * this adds: the vendor's default base URL, headers every call carries, its error bodies as one readable message, its
 * rate-limit reset header, and `paginate: true`, which follows the vendor's cursor.
 */
import { failure, HttpFailure } from './http-failure.js';
import type { AuthConfig, CallContext, CallOutcome, ConnectionConfig, ConnectorRuntime, OperationCall } from './runtime.js';
import { connectorSpecs } from './index.js';
import { PAGINATION_FIELDS, type ConnectorSpec, type OperationSpec, type Pagination } from './spec.js';
import { buildVendorRequest } from './vendor-request.js';
import { pick } from './vendor-text.js';

/** Default and ceiling of `max_items` (from its spec); pages are bounded too, whatever a vendor's cursor does. */
const DEFAULT_MAX_ITEMS = PAGINATION_FIELDS.max_items!.default as number;
const MAX_ITEMS_CEILING = PAGINATION_FIELDS.max_items!.maximum!;
const MAX_PAGES = 100;

/** The runtimes of every vendor connector in the registry, all sending through `http`. */
export function createVendorRuntimes(http: ConnectorRuntime): Record<string, ConnectorRuntime> {
  return Object.fromEntries(Object.values(connectorSpecs).filter((s) => Object.values(s.operations).some((o) => o.http)).map((s) => [s.name, createVendorRuntime(s, http)]));
}

/** Creates the runtime of `spec`, sending through `http` (the shared HTTP connector runtime). */
export function createVendorRuntime(spec: ConnectorSpec, http: ConnectorRuntime, now: () => number = Date.now): ConnectorRuntime {
  async function once(op: OperationSpec, params: Readonly<Record<string, unknown>>, connection: ConnectionConfig, ctx: CallContext): Promise<CallOutcome> {
    let request;
    try {
      request = buildVendorRequest(op, params, ctx.idempotencyKey);
    } catch (error) {
      return failure(`${spec.vendor ?? spec.name}: ${error instanceof HttpFailure ? error.message : String(error)}`, false);
    }
    const given = new Set(Object.keys(connection.headers ?? {}).map((k) => k.toLowerCase()));
    const fixed = Object.entries(spec.headers ?? {}).filter(([k]) => !given.has(k.toLowerCase()) && !(k.toLowerCase() in request.headers));
    const headers = { ...Object.fromEntries(fixed.map(([k, v]) => [k.toLowerCase(), v])), ...request.headers };
    const outcome = await http.call({ operation: 'request', params: { ...request, headers, response: 'auto' }, connection }, ctx);
    if (ctx.dryRun) return outcome;
    const raw = outcome.output as { status?: number; headers?: Record<string, string>; body?: unknown } | null;
    // A connection-level failure (unreachable, timeout, too large) has no response to read.
    if (!raw || typeof raw !== 'object' || typeof raw.status !== 'number') return outcome;
    const body = raw.body === '' ? null : raw.body;
    const message = spec.errorOf?.(body, raw.status);
    if (outcome.ok && message === undefined) return { ...outcome, output: body };
    const error = outcome.error ?? { message: message ?? 'the call failed', retryable: false, status: raw.status };
    let retryAfterMs = error.retryAfterMs;
    const reset = spec.rateLimit?.resetEpochSeconds ? raw.headers?.[spec.rateLimit.resetEpochSeconds] : undefined;
    // Epoch seconds, whole (SendGrid) or with a fraction (Discord's 1470173023.123).
    if (retryAfterMs === undefined && raw.status === 429 && reset !== undefined && /^\d+(\.\d+)?$/.test(reset)) retryAfterMs = Math.max(0, Math.ceil(Number(reset) * 1000 - now()));
    return {
      ok: false, status: raw.status, output: body, ...(outcome.method ? { method: outcome.method } : {}),
      error: { ...error, message: message ?? error.message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
    };
  }

  async function paginate(op: OperationSpec, params: Readonly<Record<string, unknown>>, connection: ConnectionConfig, ctx: CallContext): Promise<CallOutcome> {
    const pages = op.pagination!;
    const asked = typeof params.max_items === 'number' && params.max_items > 0 ? Math.floor(params.max_items) : DEFAULT_MAX_ITEMS;
    const maxItems = Math.min(asked, MAX_ITEMS_CEILING);
    const items: unknown[] = [];
    // Page numbers start at 1, asked for explicitly: Xero answers a request without `page` unpaged.
    let cursor: unknown = params[pages.cursorField] ?? (pages.style === 'page' ? 1 : undefined);
    let last: CallOutcome | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const outcome = await once(op, { ...params, ...(cursor !== undefined ? { [pages.cursorField]: cursor } : {}) }, connection, ctx);
      if (!outcome.ok || ctx.dryRun) return outcome;
      last = outcome;
      const listed = pick(outcome.output, pages.items);
      const got = listed === undefined && pages.itemsMayBeAbsent ? [] : listed;
      if (!Array.isArray(got)) return { ...outcome, ok: false, error: { message: `${spec.vendor ?? spec.name}: response has no list at \`${pages.items}\``, retryable: false } };
      const room = maxItems - items.length;
      items.push(...got.slice(0, room));
      const { more, next } = nextPage(pages, outcome.output, cursor, got);
      // Items past max_items on this page are dropped; next_cursor continues after this page.
      if (got.length > room || (more && items.length >= maxItems)) return pageOutput(last, items, true, more ? next : null);
      if (!more) return pageOutput(last, items, false, null);
      cursor = next;
    }
    return pageOutput(last!, items, true, cursor);
  }

  return {
    async call(call: OperationCall, ctx: CallContext): Promise<CallOutcome> {
      const base = call.connection?.base_url ?? spec.baseUrl;
      if (!base) return failure(`connection for ${spec.name} needs a base_url`, false);
      const connection: ConnectionConfig = { ...(call.connection ?? {}), base_url: base, ...withTokenUrl(spec, call.connection?.auth) };
      const missing = missingHeader(spec, connection);
      if (missing) return failure(missing, false);
      if (call.operation === 'request' && !spec.operations.request) return http.call({ ...call, connection }, ctx);
      const op = spec.operations[call.operation];
      if (!op?.http) return failure(`${spec.name} has no operation \`${call.operation}\``, false);
      return op.pagination && call.params.paginate === true ? paginate(op, call.params, connection, ctx) : once(op, call.params, connection, ctx);
    },
  };
}

/** Whether another page follows this one, and the cursor (or page number) that asks for it. */
function nextPage(pages: Pagination, body: unknown, cursor: unknown, got: readonly unknown[]): { more: boolean; next: unknown } {
  if (pages.style === 'page') {
    const current = typeof cursor === 'number' && cursor >= 1 ? Math.floor(cursor) : 1;
    const count = pages.pageCount ? pick(body, pages.pageCount) : undefined;
    const more = got.length > 0 && (typeof count !== 'number' || current < count);
    return { more, next: current + 1 };
  }
  const next = pages.lastItemCursor ? pick(got.at(-1), pages.lastItemCursor) : pages.nextCursor ? pick(body, pages.nextCursor) : undefined;
  const more = typeof next === 'string' && next !== '' && (pages.hasMore === undefined || pick(body, pages.hasMore) === true);
  return { more, next };
}

/** An `oauth2` auth without a token_url takes the vendor's (spec.oauth), so users need not type it. */
function withTokenUrl(spec: ConnectorSpec, auth: AuthConfig | undefined): { auth?: AuthConfig } {
  if (!auth || !('oauth2' in auth) || auth.oauth2.token_url || !spec.oauth) return {};
  return { auth: { oauth2: { ...auth.oauth2, token_url: spec.oauth.tokenUrl } } };
}

/** Why a call on `connection` cannot be made: a header the vendor needs on every call is not set. */
function missingHeader(spec: ConnectorSpec, connection: ConnectionConfig): string | undefined {
  const given = new Set(Object.entries(connection.headers ?? {}).filter(([, v]) => v !== '').map(([k]) => k.toLowerCase()));
  for (const [name, header] of Object.entries(spec.connectionHeaders ?? {})) {
    if (!given.has(name)) return `${spec.vendor ?? spec.name}: the connection needs the \`${name}\` header (${header.description}): add \`headers: { ${name}: ... }\` to it`;
  }
  return undefined;
}

function pageOutput(last: CallOutcome, items: unknown[], hasMore: boolean, nextCursor: unknown): CallOutcome {
  return { ...last, output: { items, count: items.length, has_more: hasMore, next_cursor: nextCursor } };
}

/**
 * The runtime of a vendor connector: an operation's request is built from its spec
 * (vendor-request.ts) and sent through the HTTP connector, so pooling, retries with
 * Retry-After, timeouts, auth, masking and idempotency keys are the HTTP connector's. What
 * this adds: the vendor's default base URL, headers every call carries, its error bodies as one readable message, its
 * rate-limit reset header, and `paginate: true`, which follows the vendor's cursor (a page
 * that fails retryably is where the step's next attempt goes on from).
 */
import { failure, HttpFailure } from './http-failure.js';
import type { AuthConfig, CallContext, CallError, CallOutcome, ConnectionConfig, ConnectorRuntime, OperationCall } from './runtime.js';
import { connectorSpecs } from './index.js';
import { PAGINATION_FIELDS, type ClientId, type ConnectorSpec, type OperationSpec, type Pagination } from './spec.js';
import { buildVendorRequest } from './vendor-request.js';
import { pick } from './vendor-text.js';

/** Default and ceiling of `max_items` (from its spec); pages are bounded too, whatever a vendor's cursor does. */
const DEFAULT_MAX_ITEMS = PAGINATION_FIELDS.max_items!.default as number;
const MAX_ITEMS_CEILING = PAGINATION_FIELDS.max_items!.maximum!;
const MAX_PAGES = 100;
/** Bound on listings kept for the next attempt of their step (the oldest is forgotten first). */
const MAX_INTERRUPTED = 64;

/** Where an interrupted listing stands: the items gathered, the cursor of the page that failed, pages fetched. */
interface Listing {
  readonly items: unknown[];
  readonly cursor: unknown;
  readonly pages: number;
}

/** The flux name of the derived ID when a created resource is read back (never a spec field). */
const EXISTING_ID = '\u0000existing_id';

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
    if (raw.status === 409 && request.derivedId !== undefined && op.idempotency && 'derive' in op.idempotency) {
      return alreadyCreated(op, op.idempotency, params, request.derivedId, connection, ctx);
    }
    const message = spec.errorOf?.(body, raw.status);
    if (outcome.ok && message === undefined) return { ...outcome, output: body };
    return { ok: false, status: raw.status, output: body, ...(outcome.method ? { method: outcome.method } : {}), error: vendorError(outcome, raw.status, raw.headers, body, message) };
  }

  /**
   * The error of a failed answer in the vendor's terms: its error body as one message, its
   * own retry verdict (`retryable`), and its rate-limit reset header as the wait on a 429.
   */
  function vendorError(outcome: CallOutcome, status: number, headers: Readonly<Record<string, string>> | undefined, body: unknown, message: string | undefined): CallError {
    const reported = outcome.error ?? { message: message ?? 'the call failed', retryable: false, status };
    const retryable = spec.retryable?.(status, body);
    const error = retryable === undefined ? reported : { ...reported, retryable };
    let retryAfterMs = error.retryAfterMs;
    const reset = spec.rateLimit?.resetEpochSeconds ? headers?.[spec.rateLimit.resetEpochSeconds] : undefined;
    // Epoch seconds, whole (SendGrid) or with a fraction (Discord's 1470173023.123).
    if (retryAfterMs === undefined && status === 429 && reset !== undefined && /^\d+(\.\d+)?$/.test(reset)) retryAfterMs = Math.max(0, Math.ceil(Number(reset) * 1000 - now()));
    return { ...error, message: message ?? error.message, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  }

  /**
   * `<connection>.request`, the raw call: the HTTP connector's outcome (output `{ status,
   * headers, body }`, success by `ok_status`), with a failure's error read in the vendor's
   * terms, so "Slack: channel_not_found" rather than the body's first 200 characters.
   */
  async function rawRequest(call: OperationCall, connection: ConnectionConfig, ctx: CallContext): Promise<CallOutcome> {
    const outcome = await http.call({ ...call, connection }, ctx);
    if (outcome.ok || ctx.dryRun) return outcome;
    const response = outcome.output as { status?: number; headers?: Record<string, string>; body?: unknown } | null;
    if (!response || typeof response !== 'object' || typeof response.status !== 'number') return outcome;
    const body = response.body === '' ? null : response.body;
    return { ...outcome, error: vendorError(outcome, response.status, response.headers, body, spec.errorOf?.(body, response.status)) };
  }

  /**
   * The vendor refused to create what has the ID this step derives: an earlier attempt made it
   * (its answer lost to a timeout or a crash). The step succeeds with the resource read back.
   */
  async function alreadyCreated(op: OperationSpec, idem: ClientId, params: Readonly<Record<string, unknown>>, id: string, connection: ConnectionConfig, ctx: CallContext): Promise<CallOutcome> {
    if (!idem.existing) return { ok: true, status: 409, output: { id }, method: op.http!.method };
    const pathFields = Object.entries(op.fields).filter(([, f]) => f.in === 'path');
    const read: OperationSpec = {
      summary: 'Read back the resource an earlier attempt created.', output: '',
      fields: { ...Object.fromEntries(pathFields), [EXISTING_ID]: { type: 'string', description: 'The derived ID.', in: 'path', name: 'id' } },
      http: { method: 'GET', path: idem.existing },
    };
    const outcome = await once(read, { ...params, [EXISTING_ID]: id }, connection, ctx);
    if (outcome.ok) return outcome;
    const why = outcome.error?.message ?? 'the call failed';
    return { ...outcome, error: { ...(outcome.error ?? { retryable: false }), message: `${why} (reading back ${id}, which an earlier attempt created)` } };
  }

  /**
   * Listings a retryable failure interrupted, by step attempt (idempotency key, operation and
   * fields): the engine's next attempt of the step goes on from the failed page, keeping the
   * items gathered, instead of listing from page 1 again. In memory, bounded; a run resumed
   * by another process lists from the start.
   */
  const interrupted = new Map<string, Listing>();

  async function paginate(operation: string, op: OperationSpec, params: Readonly<Record<string, unknown>>, connection: ConnectionConfig, ctx: CallContext): Promise<CallOutcome> {
    const pages = op.pagination!;
    const asked = typeof params.max_items === 'number' && params.max_items > 0 ? Math.floor(params.max_items) : DEFAULT_MAX_ITEMS;
    const maxItems = Math.min(asked, MAX_ITEMS_CEILING);
    const key = `${ctx.idempotencyKey}\u0000${operation}\u0000${JSON.stringify(params)}`;
    const resumed = ctx.dryRun ? undefined : interrupted.get(key);
    interrupted.delete(key);
    const items: unknown[] = resumed?.items ?? [];
    // Page numbers start at 1, asked for explicitly: Xero answers a request without `page` unpaged.
    let cursor: unknown = resumed ? resumed.cursor : params[pages.cursorField] ?? (pages.style === 'page' ? 1 : undefined);
    let last: CallOutcome | undefined;
    for (let page = resumed?.pages ?? 0; page < MAX_PAGES; page++) {
      const outcome = await once(op, { ...params, ...(cursor !== undefined ? { [pages.cursorField]: cursor } : {}) }, connection, ctx);
      if (!outcome.ok && outcome.error?.retryable === true && !ctx.dryRun) {
        if (interrupted.size >= MAX_INTERRUPTED) interrupted.delete(interrupted.keys().next().value!);
        interrupted.set(key, { items, cursor, pages: page });
      }
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
      const op = spec.operations[call.operation];
      // An operation the vendor serves elsewhere (Box's uploads) has its own default base URL.
      const base = call.connection?.base_url ?? op?.http?.baseUrl ?? spec.baseUrl;
      if (!base) return failure(`connection for ${spec.name} needs a base_url`, false);
      const connection: ConnectionConfig = { ...(call.connection ?? {}), base_url: base, ...withOAuthDefaults(spec, call.connection?.auth) };
      const missing = missingHeader(spec, connection);
      if (missing) return failure(missing, false);
      if (call.operation === 'request' && !spec.operations.request) return rawRequest(call, connection, ctx);
      if (!op?.http) return failure(`${spec.name} has no operation \`${call.operation}\``, false);
      return op.pagination && call.params.paginate === true ? paginate(call.operation, op, call.params, connection, ctx) : once(op, call.params, connection, ctx);
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

/**
 * An `oauth2` auth without a token_url or client_auth takes the vendor's (spec.oauth), so users
 * need not type them.
 */
function withOAuthDefaults(spec: ConnectorSpec, auth: AuthConfig | undefined): { auth?: AuthConfig } {
  if (!auth || !('oauth2' in auth) || !spec.oauth) return {};
  const given = auth.oauth2;
  return { auth: { oauth2: { ...given, token_url: given.token_url || spec.oauth.tokenUrl, client_auth: given.client_auth ?? spec.oauth.clientAuth } } };
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

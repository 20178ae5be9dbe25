/**
 * Connector specs: what a connector is called, which operations it offers, and the typed
 * parameters each takes. One spec drives `flux lint` of `with:` blocks, the workflow schema's
 * `with` shapes, `flux connectors`, docs/connectors.md and the runtime.
 *
 * A vendor connector (Slack, Stripe, ...) adds, per operation, where each field goes in the
 * HTTP request, the vendor's idempotency mechanism, pagination, error bodies and rate-limit
 * headers; vendor-runtime.ts turns that into requests sent through the HTTP connector.
 */

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'any';

/** Where a vendor operation's field goes in the request. */
export type FieldLocation = 'path' | 'query' | 'header' | 'body';

export interface FieldSpec {
  readonly type: FieldType | readonly FieldType[];
  readonly description: string;
  readonly required?: boolean;
  readonly enum?: readonly string[];
  readonly default?: unknown;
  readonly example?: unknown;
  /** Bounds of a number, where the vendor (or flux) sets them. */
  readonly minimum?: number;
  readonly maximum?: number;
  /** What a string holds, where the vendor checks it: an email address, a URL, a UUID, an RFC 3339 date-time or date. */
  readonly format?: 'email' | 'uri' | 'uuid' | 'date-time' | 'date';
  /** A regular expression a string must match, where the vendor sets one (Discord's numeric IDs, Google's resource names). */
  readonly pattern?: string;
  /** The keys of an object field, when its shape matters (a literal is checked against them). */
  readonly properties?: Readonly<Record<string, FieldSpec>>;
  /** The shape of each item of an array field. */
  readonly items?: FieldSpec;
  /** Vendor operations: where the field goes (default body, or query for GET). */
  readonly in?: FieldLocation;
  /** Vendor operations: the vendor's name for the field, when it differs from the flux name. */
  readonly name?: string;
  /** Vendor operations: sent as a JSON string (Slack's `blocks` in a form body). */
  readonly encode?: 'json';
  /**
   * Vendor operations, query lists: sent as one value joined by this separator
   * (`Statuses=PAID,VOIDED`, OpenAPI's `explode: false`) instead of the name repeated.
   */
  readonly separator?: string;
}

export interface OperationSpec {
  readonly summary: string;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /** Sets of fields of which at most one may be given (e.g. json, form, body). */
  readonly exclusive?: ReadonlyArray<readonly string[]>;
  /** Sets of fields of which at least one must be given (e.g. text or blocks). */
  readonly oneOf?: ReadonlyArray<readonly string[]>;
  /** What `steps.<id>.output` holds after the call. */
  readonly output: string;
  /** Vendor operations: the HTTP request the operation makes. */
  readonly http?: HttpMapping;
  /** Vendor operations: how the vendor deduplicates retried writes. */
  readonly idempotency?: Idempotency;
  /** Vendor operations: how `paginate: true` follows the vendor's cursor. */
  readonly pagination?: Pagination;
}

/** How a vendor operation maps onto one HTTP request. */
export interface HttpMapping {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path template relative to the base URL, `{name}` filled from `in: path` fields (`{+name}` keeps the value's slashes). */
  readonly path: string;
  /** Query parameters the operation always sends (Box's `fields=shared_link`); fields may not override them. */
  readonly query?: Readonly<Record<string, string>>;
  /**
   * How the body is encoded: JSON, a form with Stripe-style nested keys (`a[b]=1`), or
   * multipart parts built by `parts` (Google's `multipart/related` uploads of metadata and
   * media, `multipart/form-data` uploads such as Box's).
   */
  readonly body?: 'json' | 'form' | 'multipart/related' | 'multipart/form-data';
  /** Multipart bodies: the parts, in order, from the body fields by flux name. */
  readonly parts?: (fields: Readonly<Record<string, unknown>>) => readonly MultipartPart[];
  /**
   * A base URL of its own, where the vendor serves this operation elsewhere (Box's uploads on
   * upload.box.com); used when the connection sets no `base_url`.
   */
  readonly baseUrl?: string;
  /**
   * Builds a body whose shape differs from the fields (SendGrid's personalizations): receives
   * the body fields by flux name, returns the vendor's body: an object, or a list where the
   * vendor takes one (Resend's batch send).
   */
  readonly buildBody?: (fields: Readonly<Record<string, unknown>>) => Record<string, unknown> | unknown[];
}

/** One part of a multipart body: text (JSON metadata, a small file's content), never a stream. */
export interface MultipartPart {
  /** multipart/form-data: the form field the part fills (Box's `attributes`, `file`). */
  readonly name?: string;
  /** multipart/form-data: the file name sent with a file part. */
  readonly filename?: string;
  readonly contentType: string;
  readonly content: string;
}

/**
 * The vendor's idempotency mechanism: a header (Stripe), a body field (Square) or a query
 * parameter (Google Chat's requestId). `maxLength` bounds the key where the vendor does
 * (Discord's 25-character nonce): a longer key is sent as a digest of that length, the same on
 * every retry.
 */
export type Idempotency =
  | { readonly header: string; readonly maxLength?: number }
  | { readonly bodyField: string; readonly maxLength?: number }
  | { readonly query: string; readonly maxLength?: number }
  | ClientId;

/**
 * Idempotency by a client-chosen resource ID (Google Calendar's event `id`): the connector
 * derives the ID from the run's idempotency key, the same on every attempt, and sends it in
 * the body field `bodyField` unless the step gave one. The vendor refuses a second create
 * with that ID (HTTP 409): that answer means an earlier attempt already created it, so the
 * step succeeds with the resource read back by `existing`, or with `{ id }` when there is no
 * way to read it. A 409 for an ID the step gave is an error as usual: it may be someone else's.
 */
export interface ClientId {
  readonly bodyField: string;
  /** A valid ID for the vendor, from the run's idempotency key; the same key gives the same ID. */
  readonly derive: (idempotencyKey: string) => string;
  /** GET path (relative to the base URL) that reads the resource: the operation's path fields, `{id}` the ID. */
  readonly existing?: string;
}

/**
 * How a vendor pages a list: a cursor the response hands back (the default), or page numbers
 * (`style: 'page'`, Xero), where the next page is this one plus one until a page comes back
 * empty or the response's page count is reached.
 */
export interface Pagination {
  readonly style?: 'cursor' | 'page';
  /** The request field (flux name) that carries the cursor, or the page number (from 1). */
  readonly cursorField: string;
  /** Cursor style: dotted path of the next cursor in the response body; empty or absent ends the list. */
  readonly nextCursor?: string;
  /** Cursor style, when the response names no next cursor: the cursor is this field of the page's last item (Stripe lists: `id`, into starting_after). */
  readonly lastItemCursor?: string;
  /** Page style: dotted path of the number of pages in the response body, where the vendor sends one. */
  readonly pageCount?: string;
  /** Dotted path of the page's items in the response body. */
  readonly items: string;
  /** The vendor leaves the list out of a page that has none (Square): an absent list is an empty page. */
  readonly itemsMayBeAbsent?: boolean;
  /** Dotted path of a boolean that says more pages follow (Stripe's has_more). */
  readonly hasMore?: string;
}

export type AuthScheme = 'bearer' | 'basic' | 'api_key' | 'oauth2';

/** The vendor description a connector is checked against in test/connectors, or why none. */
export type VendorCheck =
  | {
    readonly checked: true;
    /** File in schemas/vendor-specs/. */
    readonly file: string;
    /** `google-discovery`: a Google API Discovery document (not OpenAPI), read by an adapter in the tests. */
    readonly format: 'swagger-2.0' | 'openapi-3.0' | 'openapi-3.1' | 'google-discovery';
    /** Parameters the description lists that flux sends as auth instead (Slack's `token`). */
    readonly authParameters?: readonly string[];
    /**
     * Known mistakes of the description, by `METHOD template`: the exact problems the check
     * (and the sandbox) tolerate there because the vendor's real API differs, each with a
     * comment in the connector saying why.
     */
    readonly errata?: Readonly<Record<string, readonly string[]>>;
  }
  | { readonly checked: false; readonly reason: string };

/**
 * Rate-limit headers a vendor sends besides Retry-After (which every connector honours): a
 * 429 without Retry-After waits until the window resets.
 */
export interface RateLimit {
  /** Header holding when the window resets, in epoch seconds. */
  readonly resetEpochSeconds?: string;
}

/** How a vendor takes an API key, where it is not a bearer token: Discord's `Authorization: Bot <token>`. */
export interface ApiKeyStyle {
  readonly header: string;
  /** Text before the key in the header's value ("Bot "). */
  readonly prefix?: string;
}

/**
 * A vendor's OAuth 2.0 authorization-code endpoints (src/connectors/oauth/providers.ts): a
 * connection's `oauth2` block takes `token_url` from here when it gives none, and
 * `flux connect <connector>` the authorization URL and default scopes.
 */
export interface OAuthEndpoints {
  /** Where a user authorizes flux (`flux connect`); absent for a vendor that takes client credentials only. */
  readonly authorizeUrl?: string;
  readonly tokenUrl: string;
  /** How the client authenticates to the token endpoint when the connection does not say (default `body`). */
  readonly clientAuth?: 'body' | 'basic';
  /** The scopes flux's operations need; `flux connect --scope` replaces them. */
  readonly scopes: readonly string[];
  /** Extra query parameters the vendor needs on the authorization URL (Google's access_type=offline). */
  readonly authorizeParams?: Readonly<Record<string, string>>;
}

export interface ConnectorSpec {
  readonly name: string;
  readonly summary: string;
  /** chat, payments, email, crm, ... (vendor connectors). */
  readonly category?: string;
  /** Vendor connectors: the default base URL of a connection; `base_url` may override it. */
  readonly baseUrl?: string;
  /** Vendor connectors: the auth schemes the vendor accepts, first the usual one. */
  readonly auth?: readonly AuthScheme[];
  /** Vendor connectors whose users authorize flux with OAuth 2.0 (authorization code and refresh token). */
  readonly oauth?: OAuthEndpoints;
  /** Vendor connectors whose usual auth is `api_key`: the header it goes in (for examples and docs). */
  readonly apiKey?: ApiKeyStyle;
  /** Vendor connectors: the description the operations are checked against. */
  readonly vendorCheck?: VendorCheck;
  /** Vendor connectors: the vendor's display name in messages ("Slack: channel_not_found"). */
  readonly vendor?: string;
  /**
   * Vendor connectors: one readable message for an error body, or undefined when the body
   * reports no error. Called for every response: Slack answers errors with HTTP 200.
   */
  readonly errorOf?: (body: unknown, status: number) => string | undefined;
  readonly rateLimit?: RateLimit;
  /**
   * Vendor connectors: whether a failed answer is worth another attempt, where the vendor
   * says so its own way (Google's 403 `rateLimitExceeded`): true or false overrides the HTTP
   * connector's verdict (network errors, 408, 429, 5xx), undefined keeps it.
   */
  readonly retryable?: (status: number, body: unknown) => boolean | undefined;
  /**
   * Vendor connectors: headers the connector sends on every call, such as the API version it
   * was written against (Square-Version); a connection's `headers` may override them.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Vendor connectors: headers every call needs that the connection gives under `headers:`
   * (Xero's `xero-tenant-id`), by lowercase name. A call on a connection without one fails
   * before anything is sent, saying which header to add.
   */
  readonly connectionHeaders?: Readonly<Record<string, { readonly description: string; readonly example: string }>>;
  /** The operation run by `uses: <name>` on its own, without a connection. */
  readonly standalone?: OperationSpec;
  /** Operations run by `uses: <connection>.<operation>` on a connection of this type. */
  readonly operations: Readonly<Record<string, OperationSpec>>;
}

/** Fields every paginated vendor operation gains. */
export const PAGINATION_FIELDS: Readonly<Record<string, FieldSpec>> = {
  paginate: { type: 'boolean', description: "Follow the vendor's cursor and collect every page's items (up to max_items).", default: false },
  max_items: { type: 'integer', description: 'With paginate: stop after this many items.', default: 1000, minimum: 1, maximum: 10_000 },
};

/** The default media type of an uploaded text file. */
export const DEFAULT_TEXT_TYPE = 'text/plain; charset=UTF-8';

/** Fields of an upload of a small text file (Drive, Box): its content and media type. */
export const TEXT_CONTENT_FIELDS: Readonly<Record<string, FieldSpec>> = {
  content: { type: 'string', description: "The file's content, as text.", required: true, example: 'item,amount\nBoiler service,180.00\n' },
  content_type: {
    type: 'string', description: `Media type of the content. Default ${DEFAULT_TEXT_TYPE}.`, example: 'text/csv',
    pattern: '^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+( *; *[A-Za-z0-9!#$&^_.+-]+=[A-Za-z0-9!#$&^_.+-]+)*$',
  },
};

/** The fields a step may give an operation: its own, plus paginate/max_items when it pages. */
export function operationFields(op: OperationSpec): Readonly<Record<string, FieldSpec>> {
  return op.pagination ? { ...op.fields, ...PAGINATION_FIELDS } : op.fields;
}

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
  /** A regular expression a string must match, where the vendor sets one (Google's resource names). */
  readonly pattern?: string;
  /** Bounds of a number, where the vendor (or flux) sets them. */
  readonly minimum?: number;
  readonly maximum?: number;
  /** What a string holds, where the vendor checks it: an email address, a URL, an RFC 3339 date-time or date. */
  readonly format?: 'email' | 'uri' | 'date-time' | 'date';
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
  /** How the body is encoded: JSON, or a form with Stripe-style nested keys (`a[b]=1`). */
  readonly body?: 'json' | 'form';
  /**
   * Builds a body whose shape differs from the fields (SendGrid's personalizations): receives
   * the body fields by flux name, returns the vendor's body.
   */
  readonly buildBody?: (fields: Readonly<Record<string, unknown>>) => Record<string, unknown>;
}

/** The vendor's idempotency mechanism: a header (Stripe), a body field (Square) or a query parameter (Google Chat's requestId). */
export type Idempotency = { readonly header: string } | { readonly bodyField: string } | { readonly query: string };

/** A vendor cursor: the request field that takes it, and where the response has it. */
export interface Pagination {
  /** The request field (flux name) that carries the cursor. */
  readonly cursorField: string;
  /** Dotted path of the next cursor in the response body; empty or absent ends the list. */
  readonly nextCursor: string;
  /** Dotted path of the page's items in the response body. */
  readonly items: string;
  /** Dotted path of a boolean that says more pages follow (Stripe's has_more). */
  readonly hasMore?: string;
}

export type AuthScheme = 'bearer' | 'basic' | 'api_key' | 'oauth2';

/** The vendor description a connector is checked against in test/connectors, or why none. */
export type VendorCheck =
  | {
    readonly checked: true;
    /** File in test/fixtures/vendor-specs/. */
    readonly file: string;
    /** `google-discovery`: a Google API Discovery document (not OpenAPI), read by an adapter in the tests. */
    readonly format: 'swagger-2.0' | 'openapi-3.0' | 'openapi-3.1' | 'google-discovery';
    /** Parameters the description lists that flux sends as auth instead (Slack's `token`). */
    readonly authParameters?: readonly string[];
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

export interface ConnectorSpec {
  readonly name: string;
  readonly summary: string;
  /** chat, payments, email, crm, ... (vendor connectors). */
  readonly category?: string;
  /** Vendor connectors: the default base URL of a connection; `base_url` may override it. */
  readonly baseUrl?: string;
  /** Vendor connectors: the auth schemes the vendor accepts, first the usual one. */
  readonly auth?: readonly AuthScheme[];
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

/** The fields a step may give an operation: its own, plus paginate/max_items when it pages. */
export function operationFields(op: OperationSpec): Readonly<Record<string, FieldSpec>> {
  return op.pagination ? { ...op.fields, ...PAGINATION_FIELDS } : op.fields;
}

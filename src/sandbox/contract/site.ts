/**
 * What one vendor's stand-in in the contract sandbox is: the path prefix it is served at, the
 * vendor origin its descriptions name (so a request under the prefix is checked as if it had
 * gone to the vendor), the connectors whose descriptions it serves, the vendor's error shapes,
 * and one handler per operation, keyed by `METHOD template` as the description writes it.
 * Handlers keep their records in the site's store; what they throw as VendorError becomes the
 * vendor's own error body.
 */
import { randomUUID } from 'node:crypto';
import { decodeMultipart, type DecodedPart } from '../../connectors/contract/check.js';
import type { TokenEndpoint } from './oauth.js';

export type Json = Record<string, unknown>;

/** An HTTP answer. */
export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Kinds of failure every vendor has an error shape for. */
export type ErrorKind = 'invalid' | 'unauthorized' | 'not_found' | 'conflict' | 'rate_limited';

/** A failure a handler (or the sandbox) reports; the site turns it into the vendor's body. */
export class VendorError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** The request field at fault, in the vendor's naming, where one is. */
    readonly field?: string,
    /** The vendor's own code, where the handler knows a more precise one (Slack's `channel_not_found`). */
    readonly code?: string,
    /** The HTTP status, where it is not the kind's usual one. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The records of one vendor, by collection, plus an id counter. */
export interface VendorStore {
  readonly collections: Record<string, Json[]>;
  /** A fresh id: `prefix` followed by a counter, padded to look like the vendor's. */
  id(prefix?: string): string;
  /** A fresh UUID (Xero, Notion, Resend). */
  uuid(): string;
  /** The sandbox's clock, in milliseconds. */
  now(): number;
  /** The collection `name`, created empty on first use. */
  list(name: string): Json[];
}

/** One call as a handler sees it: the matched operation, its decoded inputs and the store. */
export interface VendorCall {
  readonly method: string;
  readonly template: string;
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The body: parsed JSON, or a decoded form (`a[b]=1` as nested objects), or undefined. */
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
  readonly store: VendorStore;
}

/** What a handler returns: a full reply, or just a body (HTTP 200). */
export type Handler = (call: VendorCall) => Reply | Json | unknown[];

export interface VendorSite {
  /** First path segment in the sandbox: `/slack/api/chat.postMessage`. */
  readonly prefix: string;
  /** The vendor origin the descriptions' servers are on (`https://slack.com`). */
  readonly origin: string;
  /** Other vendor origins the prefix also stands for: operations a description puts on another host (Box's uploads at upload.box.com). */
  readonly otherOrigins?: readonly string[];
  /** Connectors whose descriptions this site serves (Stripe's payments and invoicing share one API). */
  readonly connectors: readonly string[];
  /** The vendor's body (and status, headers) for a failure. */
  error(e: VendorError): Reply;
  /** Headers the vendor sends with a 429, given how many seconds to wait. */
  rateLimitHeaders?(retryAfterSeconds: number, nowMs: number): Record<string, string>;
  /** The key a retried write carries (Stripe's Idempotency-Key header, Square's idempotency_key body field), if any. */
  idempotencyKey?(call: VendorCall): string | undefined;
  /** The vendor's OAuth token endpoint, for connectors that take `oauth2` (see oauth.ts). */
  readonly oauth?: TokenEndpoint;
  /** The prefix whose token endpoint issues this vendor's tokens, when not its own (Gmail's are Google's). */
  readonly tokensFrom?: string;
  /** Operations that need no credentials (Discord's webhook, whose token is in its path). */
  readonly public?: readonly string[];
  /**
   * For a vendor with no description the sandbox may check against (HubSpot publishes its under
   * a proprietary licence): its operations as `METHOD /path/{param}` from the vendor origin. A
   * request is routed by these instead of a description, and nothing checks it but the site's
   * own handlers: the vendor is played, not checked.
   */
  readonly routes?: readonly string[];
  /** Records the site starts with: what the connectors' examples refer to. */
  seed(store: VendorStore): void;
  readonly handlers: Readonly<Record<string, Handler>>;
}

/** The route of `routes` (`METHOD /a/{b}`) that `method` and `path` match, with its path parameters. */
export function matchRoute(routes: readonly string[], method: string, path: string): { template: string; values: Record<string, string> } | undefined {
  const segments = path.split('/');
  for (const route of routes) {
    const [routeMethod, template = ''] = route.split(' ');
    const parts = template.split('/');
    if (routeMethod !== method || parts.length !== segments.length) continue;
    const values: Record<string, string> = {};
    const same = parts.every((part, i) => {
      const name = /^\{(\w+)\}$/.exec(part)?.[1];
      if (name === undefined) return part === segments[i];
      if (!segments[i]) return false;
      values[name] = decodeURIComponent(segments[i]!);
      return true;
    });
    if (same) return { template, values };
  }
  return undefined;
}

/** A store whose ids count from 1000, on `now`. */
export function createStore(now: () => number): VendorStore {
  let next = 1000;
  const collections: Record<string, Json[]> = {};
  return {
    collections,
    id: (prefix = '') => `${prefix}${next++}`,
    uuid: () => randomUUID(),
    now,
    list: (name) => (collections[name] ??= []),
  };
}

/** The record of `list` whose `key` is `value`, or a not_found VendorError naming `what`. */
export function find(list: readonly Json[], key: string, value: unknown, what: string, field?: string): Json {
  const found = list.find((x) => String(x[key]) === String(value));
  if (!found) throw new VendorError('not_found', `No such ${what}: '${String(value)}'`, field);
  return found;
}

/**
 * One page of `items` by an opaque offset cursor (what Slack, Google, Intercom and Notion hand
 * back is opaque to the caller too): the items from the cursor's offset, and the cursor of the
 * next page when more follow.
 */
export function offsetPage<T>(items: readonly T[], cursor: string | null | undefined, limit: number): { page: T[]; next?: string } {
  const offset = cursor ? decodeCursor(cursor) : 0;
  const page = items.slice(offset, offset + limit);
  const end = offset + page.length;
  return end < items.length ? { page, next: Buffer.from(`offset:${end}`).toString('base64url') } : { page };
}

function decodeCursor(cursor: string): number {
  const m = /^offset:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m) throw new VendorError('invalid', `invalid cursor '${cursor.slice(0, 40)}'`, 'cursor', 'invalid_cursor');
  return Number(m[1]);
}

/** A bounded integer from a query or body value, or `fallback` when absent. */
export function limitOf(value: unknown, fallback: number, max: number): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value !== '' ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 1 ? Math.min(Math.floor(n), max) : fallback;
}

/** The value as an object (a body), or an empty one. */
export function obj(value: unknown): Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : {};
}

/** Seconds since the epoch, whole. */
export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** RFC 3339 without milliseconds. */
export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The parts of a multipart body (Drive's multipart/related upload, Box's form-data upload),
 * read with the contract check's decoder; a body that is not one is the vendor's 400.
 */
export function multipartOf(call: VendorCall): DecodedPart[] {
  const boundary = /boundary="?([^";]+)"?/i.exec(call.headers['content-type'] ?? '')?.[1];
  if (boundary === undefined || typeof call.body !== 'string') throw new VendorError('invalid', 'The body is not multipart (no boundary in the Content-Type)');
  try {
    return decodeMultipart(call.body, boundary);
  } catch (error) {
    throw new VendorError('invalid', `The multipart body ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Webhook bodies: raw request bytes to the event a run starts with. The event is an object,
 * the same one `flux run --event` takes, and within the engine's bounds (64 levels, 1 MiB), so
 * a delivery that passes here is one the engine will run; a body that does not is answered
 * with an HTTP status and a reason instead of a rejected run.
 *
 * By content type (parameters other than `charset` ignored; only UTF-8 is read):
 * - `application/json` and any `…/…+json`: a JSON object. Malformed JSON is 400 with its line,
 *   column and offset; a list or a scalar at the top is 422.
 * - `application/x-www-form-urlencoded`: one property per key, its value a string, or a list of
 *   strings when the key repeats (as Slack's slash commands and many forms send them).
 * - `text/*`: `{ body: <the text> }`, for senders that post plain text.
 * - anything else, or no content type with a body: 415. An empty body is `{}` whatever the type.
 *
 * Keys from outside are data: JSON.parse and Object.fromEntries define own properties, so a key
 * `__proto__` is a property named `__proto__` and no prototype is ever touched.
 */
import { exceedsBounds, MAX_EVENT_BYTES, MAX_JSON_DEPTH } from '../limits/json.js';
import { escapeControl } from '../text/escape.js';
import { locateJsonError } from './json-syntax.js';

/** Why a body was refused, as a stable id for tests, logs and metrics. */
export type BodyFailure = 'malformed-body' | 'unsupported-media-type' | 'event-not-object' | 'event-too-deep' | 'event-too-large';

/** An event read from a body, or why not. */
export type BodyResult =
  | { readonly ok: true; readonly event: Readonly<Record<string, unknown>> }
  | {
      readonly ok: false;
      readonly status: 400 | 413 | 415 | 422;
      readonly code: BodyFailure;
      readonly reason: string;
      /** For malformed JSON: where, 0-based offset and 1-based line and column of the decoded text. */
      readonly at?: { readonly position: number; readonly line: number; readonly column: number };
    };

/** The content types a webhook body may have, for messages and `Accept`-style hints. */
export const ACCEPTED_MEDIA_TYPES = ['application/json', 'application/*+json', 'application/x-www-form-urlencoded', 'text/*'] as const;

type Kind = 'json' | 'form' | 'text';

const ACCEPTED = ACCEPTED_MEDIA_TYPES.join(', ');
/** One decoder for every body: a call without `stream` starts from a clean state, even after one that threw. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function fail(status: 400 | 413 | 415 | 422, code: BodyFailure, reason: string): BodyResult {
  return { ok: false, status, code, reason };
}

/** Reads the event from a request body by its `Content-Type` header. Never throws. */
export function parseWebhookBody(contentType: string | undefined, body: Uint8Array): BodyResult {
  if (body.length === 0) return { ok: true, event: {} };
  const media = mediaKind(contentType);
  if (!media.ok) return media.result;
  let text: string;
  try {
    text = UTF8.decode(body);
  } catch {
    return fail(400, 'malformed-body', 'the body is not valid UTF-8');
  }
  let event: unknown;
  if (media.kind === 'json') {
    const parsed = parseJson(text);
    if (!parsed.ok) return parsed.result;
    event = parsed.value;
  } else if (media.kind === 'form') {
    event = parseForm(text);
  } else {
    event = { body: text };
  }
  return bounded(event);
}

function mediaKind(contentType: string | undefined): { ok: true; kind: Kind } | { ok: false; result: BodyResult } {
  if (contentType === undefined || contentType.trim() === '') {
    return { ok: false, result: fail(415, 'unsupported-media-type', `the request has a body but no \`Content-Type\`; send one of ${ACCEPTED}`) };
  }
  const [essence = '', ...params] = contentType.split(';');
  const type = essence.trim().toLowerCase();
  for (const p of params) {
    const eq = p.indexOf('=');
    if (eq === -1 || p.slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    const charset = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      return { ok: false, result: fail(415, 'unsupported-media-type', `charset \`${escapeControl(charset)}\` is not supported; send UTF-8`) };
    }
  }
  if (type === 'application/json' || /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+\+json$/.test(type)) return { ok: true, kind: 'json' };
  if (type === 'application/x-www-form-urlencoded') return { ok: true, kind: 'form' };
  if (type.startsWith('text/')) return { ok: true, kind: 'text' };
  return { ok: false, result: fail(415, 'unsupported-media-type', `content type \`${escapeControl(type)}\` is not supported; send one of ${ACCEPTED}`) };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; result: BodyResult } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    const at = locateJsonError(text);
    if (!at) {
      // JSON.parse and the locator disagree (they should not); V8's own words are the best left.
      return { ok: false, result: fail(400, 'malformed-body', `malformed JSON: ${escapeControl(err instanceof Error ? err.message : String(err))}`) };
    }
    const found = at.found === undefined ? 'the end of the body' : `\`${escapeControl(at.found)}\``;
    const reason = `malformed JSON at line ${at.line}, column ${at.column} (position ${at.position}): expected ${at.expected}, found ${found}`;
    return { ok: false, result: { ok: false, status: 400, code: 'malformed-body', reason, at: { position: at.position, line: at.line, column: at.column } } };
  }
}

// Repeated keys become lists in the order sent; Object.fromEntries defines own properties.
function parseForm(text: string): Record<string, unknown> {
  const fields = new Map<string, string | string[]>();
  for (const [key, value] of new URLSearchParams(text)) {
    const earlier = fields.get(key);
    if (earlier === undefined) fields.set(key, value);
    else if (Array.isArray(earlier)) earlier.push(value);
    else fields.set(key, [earlier, value]);
  }
  return Object.fromEntries(fields);
}

function bounded(event: unknown): BodyResult {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    const got = event === null ? 'null' : Array.isArray(event) ? 'a list' : `a ${typeof event}`;
    return fail(422, 'event-not-object', `the body must be a JSON object (an event is an object); got ${got}`);
  }
  // One walk checks both bounds for the event that passes (every accepted delivery). One that
  // fails is walked again for depth alone, so the reason names depth whenever depth is passed,
  // even where the first walk stopped at the size before it reached the deep part.
  const large = exceedsBounds(event, { maxDepth: MAX_JSON_DEPTH, maxBytes: MAX_EVENT_BYTES }, 'the event read from the body');
  if (large === undefined) return { ok: true, event: event as Record<string, unknown> };
  const deep = exceedsBounds(event, { maxDepth: MAX_JSON_DEPTH, maxBytes: Number.POSITIVE_INFINITY }, 'the body');
  return deep ? fail(422, 'event-too-deep', deep) : fail(413, 'event-too-large', large);
}

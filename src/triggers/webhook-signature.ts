/**
 * Webhook signatures: is this request really from the sender the workflow trusts? Each scheme
 * follows its provider's documentation; every one is an HMAC-SHA256 keyed with the workflow's
 * secret over the raw body bytes (never a re-serialised body), compared in constant time.
 *
 * - `hmac-sha256`: the configured header (default `X-Signature`) holds the HMAC of the body,
 *   lowercase hex (or standard base64 with padding, `encoding: base64`), optionally after `sha256=`.
 * - `github`: `X-Hub-Signature-256: sha256=<hex>` of the body.
 * - `stripe`: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]` over `<t>.<body>`; any
 *   `v1` may match (Stripe sends several while a secret is rolled); `v0` and unknown keys are
 *   ignored; the timestamp must be within the tolerance of now, in either direction.
 * - `slack`: `X-Slack-Signature: v0=<hex>` over `v0:<X-Slack-Request-Timestamp>:<body>`, with
 *   the same timestamp tolerance.
 *
 * Signatures are compared as the exact text the provider sends (lowercase hex, padded base64),
 * so a signature that differs from the expected one in any byte is refused. The timestamp is
 * checked after the signature, so "stale" is only ever said of a genuine, replayed or delayed,
 * delivery. Reasons name the header and what is wrong with it; they never contain the secret
 * or the expected signature, so they may be logged and sent back to the caller.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseDuration } from '../workflow/duration.js';

/** The signing conventions flux knows (`trigger.webhook.signature.scheme`). */
export type SignatureScheme = 'stripe' | 'github' | 'slack' | 'hmac-sha256';

/** How a signature is written in its header; only `hmac-sha256` lets the workflow choose. */
export type SignatureEncoding = 'hex' | 'base64';

/** `trigger.webhook.signature` as the workflow gives it, with the secret already rendered. */
export interface SignatureConfig {
  readonly scheme: SignatureScheme;
  readonly secret: string;
  /** For hmac-sha256: the header carrying the signature. Default `X-Signature`. */
  readonly header?: string;
  /** For hmac-sha256: `hex` (default) or `base64`. */
  readonly encoding?: SignatureEncoding;
  /** For stripe and slack: a duration such as `5m`. Default 5m. */
  readonly tolerance?: string;
}

/** A signature config checked once, ready to verify requests. */
export interface SignatureCheck {
  readonly scheme: SignatureScheme;
  readonly secret: string;
  /** The header as the provider writes it, for messages; looked up lowercased. */
  readonly header: string;
  readonly encoding: SignatureEncoding;
  readonly toleranceMs: number;
}

/** Request headers with lowercased names, as node's `IncomingMessage.headers` has them. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** Why a signature was refused, as a stable id for tests, logs and metrics. */
export type SignatureFailure = 'missing-signature' | 'malformed-signature' | 'signature-mismatch' | 'stale-signature';

/** The verdict on one request. */
export type SignatureResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly status: 401; readonly code: SignatureFailure; readonly reason: string };

/** Stripe's and Slack's default replay window. */
export const DEFAULT_TOLERANCE_MS = 5 * 60_000;
const DEFAULT_HMAC_HEADER = 'X-Signature';
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEX = /^[0-9a-f]*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
// Unix seconds; 15 digits is far past any real clock and keeps the arithmetic exact.
const UNIX_SECONDS = /^\d{1,15}$/;

/**
 * Checks a signature config once (at daemon start, not per request): an empty secret would let
 * anyone sign, an unparsable tolerance or header name would fail every delivery.
 */
export function resolveSignature(config: SignatureConfig): { readonly ok: true; readonly check: SignatureCheck } | { readonly ok: false; readonly message: string } {
  if (typeof config.secret !== 'string' || config.secret === '') {
    return { ok: false, message: 'the webhook signature secret is empty; set it, e.g. `secret: ${{ secrets.WEBHOOK_SECRET }}`, and define that secret' };
  }
  let toleranceMs = DEFAULT_TOLERANCE_MS;
  if (config.tolerance !== undefined) {
    const parsed = parseDuration(config.tolerance);
    if (!parsed.ok) return { ok: false, message: `webhook signature tolerance: ${parsed.message}` };
    toleranceMs = parsed.ms;
  }
  const header = headerFor(config.scheme, config.header);
  if (!HEADER_NAME.test(header)) return { ok: false, message: `webhook signature header \`${header}\` is not a valid header name` };
  const encoding = config.scheme === 'hmac-sha256' ? (config.encoding ?? 'hex') : 'hex';
  return { ok: true, check: { scheme: config.scheme, secret: config.secret, header, encoding, toleranceMs } };
}

function headerFor(scheme: SignatureScheme, configured: string | undefined): string {
  switch (scheme) {
    case 'stripe':
      return 'Stripe-Signature';
    case 'github':
      return 'X-Hub-Signature-256';
    case 'slack':
      return 'X-Slack-Signature';
    case 'hmac-sha256':
      return configured ?? DEFAULT_HMAC_HEADER;
  }
}

/** Verifies one request's signature over its raw body; `now` is the injected clock in ms. Never throws. */
export function verifySignature(check: SignatureCheck, headers: RequestHeaders, body: Uint8Array, now: number): SignatureResult {
  switch (check.scheme) {
    case 'hmac-sha256':
    case 'github':
      return verifyBody(check, headers, body);
    case 'stripe':
      return verifyStripe(check, headers, body, now);
    case 'slack':
      return verifySlack(check, headers, body, now);
  }
}

function refuse(code: SignatureFailure, reason: string): SignatureResult {
  return { ok: false, status: 401, code, reason };
}

type HeaderValue = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly result: SignatureResult };

// Own keys only: a header named `__proto__` or `constructor` is not a lookup into Object.prototype.
function header(headers: RequestHeaders, name: string): HeaderValue {
  const key = name.toLowerCase();
  const raw = Object.hasOwn(headers, key) ? headers[key] : undefined;
  const value = Array.isArray(raw) && raw.length <= 1 ? raw[0] : raw;
  if (value === undefined || value === '') return { ok: false, result: refuse('missing-signature', `missing \`${name}\` header`) };
  if (typeof value !== 'string') {
    return { ok: false, result: refuse('malformed-signature', `\`${name}\` header is sent ${value.length} times; send it once`) };
  }
  return { ok: true, value };
}

function hmac(secret: string, ...parts: (string | Uint8Array)[]): Buffer {
  const h = createHmac('sha256', secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * Constant-time equality of two strings of ASCII. Different lengths are unequal; the
 * comparison still runs, over the expected value against itself, so the time taken does not
 * depend on where the given value goes wrong.
 */
function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'latin1');
  const b = Buffer.from(expected, 'latin1');
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

function encode(digest: Buffer, encoding: SignatureEncoding): string {
  return encoding === 'hex' ? digest.toString('hex') : digest.toString('base64');
}

function wellFormed(text: string, encoding: SignatureEncoding): boolean {
  return text !== '' && (encoding === 'hex' ? HEX : BASE64).test(text);
}

const ENCODING_WORDS: Readonly<Record<SignatureEncoding, string>> = { hex: 'lowercase hex', base64: 'base64' };

// hmac-sha256 (`sha256=` optional) and github (`sha256=` required): one signature of the body.
function verifyBody(check: SignatureCheck, headers: RequestHeaders, body: Uint8Array): SignatureResult {
  const got = header(headers, check.header);
  if (!got.ok) return got.result;
  let text = got.value;
  if (text.startsWith('sha256=')) text = text.slice('sha256='.length);
  else if (check.scheme === 'github') return refuse('malformed-signature', `\`${check.header}\` header does not start with \`sha256=\``);
  if (!wellFormed(text, check.encoding)) return refuse('malformed-signature', `\`${check.header}\` header is not ${ENCODING_WORDS[check.encoding]}`);
  const expected = encode(hmac(check.secret, body), check.encoding);
  return sameText(text, expected) ? { ok: true } : refuse('signature-mismatch', `\`${check.header}\` does not match the body`);
}

function verifyStripe(check: SignatureCheck, headers: RequestHeaders, body: Uint8Array, now: number): SignatureResult {
  const got = header(headers, check.header);
  if (!got.ok) return got.result;
  let t: string | undefined;
  const v1: string[] = [];
  for (const item of got.value.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) return refuse('malformed-signature', `\`${check.header}\` header has an item without \`key=value\``);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === 't') {
      if (t !== undefined) return refuse('malformed-signature', `\`${check.header}\` header has more than one \`t=\``);
      t = value;
    } else if (key === 'v1') {
      v1.push(value);
    }
    // v0 (test-mode scheme) and keys Stripe may add later are ignored, as Stripe documents.
  }
  if (t === undefined) return refuse('malformed-signature', `\`${check.header}\` header has no \`t=\` timestamp`);
  if (!UNIX_SECONDS.test(t)) return refuse('malformed-signature', `\`${check.header}\` timestamp is not unix seconds`);
  if (v1.length === 0) return refuse('malformed-signature', `\`${check.header}\` header has no \`v1=\` signature`);
  const expected = hmac(check.secret, `${t}.`, body).toString('hex');
  // Every candidate is compared, so the time does not say which one matched.
  let matched = false;
  for (const candidate of v1) {
    if (sameText(candidate, expected)) matched = true;
  }
  if (!matched) return refuse('signature-mismatch', `no \`v1\` signature in \`${check.header}\` matches the body`);
  return fresh(check, Number(t), now);
}

function verifySlack(check: SignatureCheck, headers: RequestHeaders, body: Uint8Array, now: number): SignatureResult {
  const got = header(headers, check.header);
  if (!got.ok) return got.result;
  const ts = header(headers, 'X-Slack-Request-Timestamp');
  if (!ts.ok) return ts.result;
  if (!UNIX_SECONDS.test(ts.value)) return refuse('malformed-signature', '`X-Slack-Request-Timestamp` is not unix seconds');
  if (!got.value.startsWith('v0=')) return refuse('malformed-signature', `\`${check.header}\` header does not start with \`v0=\``);
  const text = got.value.slice(3);
  if (!wellFormed(text, 'hex')) return refuse('malformed-signature', `\`${check.header}\` header is not lowercase hex`);
  const expected = hmac(check.secret, `v0:${ts.value}:`, body).toString('hex');
  if (!sameText(text, expected)) return refuse('signature-mismatch', `\`${check.header}\` does not match the body`);
  return fresh(check, Number(ts.value), now);
}

// A signed timestamp further than the tolerance from now, either way, is a replay or a clock
// far off; the age is said in whole seconds so the operator can tell which.
function fresh(check: SignatureCheck, unixSeconds: number, now: number): SignatureResult {
  const skewMs = now - unixSeconds * 1000;
  if (Math.abs(skewMs) <= check.toleranceMs) return { ok: true };
  const seconds = Math.ceil(Math.abs(skewMs) / 1000);
  const when = skewMs > 0 ? `${seconds} s old` : `${seconds} s in the future`;
  return refuse('stale-signature', `signature timestamp is ${when}; the tolerance is ${check.toleranceMs / 1000} s`);
}

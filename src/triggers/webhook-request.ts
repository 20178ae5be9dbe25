/**
 * One webhook request in, one decision out: accept (start a run with this event), reply
 * (answer and start nothing, as for Slack's URL verification) or refuse (an HTTP status and a
 * reason). Pure: the daemon's HTTP server reads the method, headers and raw body, calls the
 * handler with its clock's now, and writes what it is told; nothing here does I/O or throws.
 *
 * Checks run cheapest and least trusting first: the method (405), the size of the body (413,
 * before any hashing), the signature (401, before any parsing, so an unsigned body is never
 * read), then the body (400, 413, 415, 422). Reasons never contain the secret or an expected
 * signature; outside text in them is escaped, so they may be logged and sent to the caller.
 */
import { formatBytes, MAX_EVENT_BYTES } from '../limits/json.js';
import { parseWebhookBody } from './webhook-body.js';
import type { BodyFailure } from './webhook-body.js';
import { resolveSignature, verifySignature } from './webhook-signature.js';
import type { RequestHeaders, SignatureCheck, SignatureConfig, SignatureFailure } from './webhook-signature.js';

export type { RequestHeaders, SignatureConfig } from './webhook-signature.js';

/** The methods a webhook trigger may take (`trigger.webhook.method`). */
export type WebhookMethod = 'POST' | 'PUT' | 'GET';

/** `trigger.webhook` as the workflow gives it, rendered: the signature secret is a string. */
export interface WebhookConfig {
  readonly path: string;
  /** Default POST. */
  readonly method?: WebhookMethod;
  readonly signature?: SignatureConfig;
}

/** What the daemon knows of one request. */
export interface WebhookRequest {
  /** As sent; compared without regard to case. */
  readonly method: string;
  /** Lowercased names, as node's `IncomingMessage.headers`. */
  readonly headers: RequestHeaders;
  /** The raw body, exactly as received (signatures are over these bytes). */
  readonly body: Uint8Array;
  /** The injected clock's now, in ms since the epoch. */
  readonly now: number;
}

/** Why a request was refused, as a stable id for tests, logs and metrics. */
export type RefusalCode = 'method-not-allowed' | 'body-too-large' | SignatureFailure | BodyFailure;

/** The decision on one request; the server writes it out and, for `accept`, starts a run. */
export type WebhookOutcome =
  | { readonly kind: 'accept'; readonly event: Readonly<Record<string, unknown>>; readonly receivedAt: number }
  | { readonly kind: 'reply'; readonly status: 200; readonly body: string; readonly headers: Readonly<Record<string, string>> }
  | {
      readonly kind: 'refuse';
      readonly status: 400 | 401 | 405 | 413 | 415 | 422;
      readonly code: RefusalCode;
      readonly reason: string;
      /** Response headers the status calls for: `allow` with a 405. */
      readonly headers?: Readonly<Record<string, string>>;
      /** For malformed JSON: where in the body. */
      readonly at?: { readonly position: number; readonly line: number; readonly column: number };
    };

/** Settings of the daemon, not of one workflow. */
export interface WebhookRequestOptions {
  /** Largest body read, in bytes; default and most 1 MiB, the engine's bound on an event. */
  readonly maxBodyBytes?: number;
}

/** Decides one request. */
export type WebhookHandler = (request: WebhookRequest) => WebhookOutcome;

/** A handler, or why the workflow's webhook config cannot serve requests (said once, at start). */
export type WebhookSetup = { readonly ok: true; readonly handle: WebhookHandler } | { readonly ok: false; readonly message: string };

/**
 * Builds the request handler for one workflow's webhook trigger. Config problems (an empty
 * secret, a bad tolerance or body limit) are reported here, once, rather than as a 401 on every
 * delivery.
 */
export function createWebhookHandler(config: WebhookConfig, options: WebhookRequestOptions = {}): WebhookSetup {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_EVENT_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1 || maxBodyBytes > MAX_EVENT_BYTES) {
    return { ok: false, message: `webhook body limit must be a whole number of bytes from 1 to ${MAX_EVENT_BYTES} (${formatBytes(MAX_EVENT_BYTES)}); got ${maxBodyBytes}` };
  }
  let check: SignatureCheck | undefined;
  if (config.signature) {
    const resolved = resolveSignature(config.signature);
    if (!resolved.ok) return resolved;
    check = resolved.check;
  }
  const method = config.method ?? 'POST';
  return { ok: true, handle: (request) => handle(request, method, maxBodyBytes, check) };
}

function handle(request: WebhookRequest, method: WebhookMethod, maxBodyBytes: number, check: SignatureCheck | undefined): WebhookOutcome {
  if (request.method.toUpperCase() !== method) {
    const given = request.method.replace(/[^A-Za-z0-9!#$%&'*+.^_`|~-]/g, '?').slice(0, 32);
    return { kind: 'refuse', status: 405, code: 'method-not-allowed', reason: `method ${given} is not allowed; this webhook takes ${method}`, headers: { allow: method } };
  }
  if (request.body.length > maxBodyBytes) {
    return { kind: 'refuse', status: 413, code: 'body-too-large', reason: `the body is larger than ${formatBytes(maxBodyBytes)}` };
  }
  if (check) {
    const verdict = verifySignature(check, request.headers, request.body, request.now);
    if (!verdict.ok) return { kind: 'refuse', status: verdict.status, code: verdict.code, reason: verdict.reason };
  }
  const contentType = Object.hasOwn(request.headers, 'content-type') ? request.headers['content-type'] : undefined;
  const body = parseWebhookBody(typeof contentType === 'string' ? contentType : undefined, request.body);
  if (!body.ok) {
    const { ok: _, ...refusal } = body;
    return { kind: 'refuse', ...refusal };
  }
  const challenge = check?.scheme === 'slack' ? slackChallenge(body.event) : undefined;
  if (challenge !== undefined) return { kind: 'reply', status: 200, body: challenge, headers: { 'content-type': 'text/plain; charset=utf-8' } };
  return { kind: 'accept', event: body.event, receivedAt: request.now };
}

/**
 * Slack checks a new Events API URL by posting `{"type":"url_verification","challenge":"…"}`,
 * signed like any event, and expects the challenge back; it is a handshake, not an event.
 */
function slackChallenge(event: Readonly<Record<string, unknown>>): string | undefined {
  const type = Object.hasOwn(event, 'type') ? event.type : undefined;
  const challenge = Object.hasOwn(event, 'challenge') ? event.challenge : undefined;
  return type === 'url_verification' && typeof challenge === 'string' ? challenge : undefined;
}

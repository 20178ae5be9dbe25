/**
 * What went wrong with an HTTP call, in words a user can act on. A thrown error from undici or
 * the network is classified by where it happened: before any connection (a bad header), while
 * connecting (refused, DNS, unreachable: "cannot reach"), or after the host answered (reset,
 * not HTTP). Text that came from outside (error messages, headers) is escaped before it is put
 * in a message, so it can never drive a terminal.
 */
import { escapeControl } from '../text/escape.js';
import type { CallOutcome } from './runtime.js';

/** A failure the connector itself detected, with its retry advice. */
export class HttpFailure extends Error {
  constructor(message: string, readonly retryable: boolean, readonly status?: number) {
    super(message);
  }
}

/** A failed outcome with no output. */
export function failure(message: string, retryable: boolean, status?: number): CallOutcome {
  return { ok: false, output: null, error: { message, retryable, ...(status !== undefined ? { status } : {}) } };
}

/** `scheme://host:port`, the part of a URL that is safe and useful to name in a message. */
export function originOf(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

// RFC 9110 token characters for a field name, and the bytes a field value may hold (the same
// test undici applies, so anything that passes here is sent).
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Checks request headers before anything is sent. A bad value (often a secret with a stray
 * newline) is named by its header only: the value may be a credential.
 */
export function checkHeaders(headers: Iterable<readonly [string, string]>): void {
  for (const [name, value] of headers) {
    if (!HEADER_NAME.test(name)) throw new HttpFailure(`invalid header name \`${escapeControl(name)}\``, false);
    if (BAD_HEADER_VALUE.test(value)) throw new HttpFailure(`invalid header value for \`${name}\` (control characters or characters outside Latin-1)`, false);
  }
}

/** True when `value` can be sent as a header value as it is. */
export function isHeaderValue(value: string): boolean {
  return !BAD_HEADER_VALUE.test(value);
}

const CONNECT_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused', ENOTFOUND: 'host not found', EAI_AGAIN: 'DNS lookup failed', EAI_NONAME: 'host not found',
  EHOSTUNREACH: 'host unreachable', ENETUNREACH: 'network unreachable', EHOSTDOWN: 'host is down', EADDRNOTAVAIL: 'address not available',
  ETIMEDOUT: 'connect timed out', UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
};

/** Codes for a connection the host accepted and then dropped. */
const DROPPED = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** Describes an error thrown by undici or the network for a request to `url`. */
export function describeError(error: unknown, url: URL): CallOutcome {
  if (error instanceof HttpFailure) return failure(error.message, error.retryable, error.status);
  const where = originOf(url);
  const e = (error ?? {}) as { name?: string; code?: string; cause?: { code?: string; message?: string }; message?: string };
  const code = e.code ?? e.cause?.code ?? '';
  const detail = escapeControl(String(e.cause?.message ?? e.message ?? code)).slice(0, 200);
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') return failure(`invalid request to ${where}: ${detail}`, false);
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|EPROTO/i.test(`${code} ${e.cause?.message ?? ''} ${e.message ?? ''}`)) return failure(`TLS error talking to ${where}: ${detail}`, false);
  const connect = CONNECT_FAILURES[code];
  if (connect) return failure(`cannot reach ${where}: ${connect}`, true);
  if (e.name === 'HTTPParserError' || code.startsWith('HPE_')) return failure(`${where} answered with something that is not HTTP`, false);
  if (DROPPED.has(code)) return failure(`connection reset by ${where}`, true);
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return failure(`response from ${where} was cut short`, true);
  if (code === 'UND_ERR_HEADERS_OVERFLOW') return failure(`response headers from ${where} are too large`, false);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return failure(`${where} stopped answering`, true);
  return failure(`request to ${where} failed: ${detail}`, true);
}

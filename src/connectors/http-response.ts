/**
 * Reading an HTTP response: the body up to its cap, then what it means for the step (parsed
 * JSON within the nesting bound, text or base64; success or a failure that says why).
 */
import type { Dispatcher } from 'undici';
import type { Masker } from '../secrets/masker.js';
import { escapeControl } from '../text/escape.js';
import { HttpFailure, originOf } from './http-failure.js';
import { formatBytes, MAX_JSON_DEPTH, nestsDeeperThan } from '../limits/json.js';
import type { CallOutcome } from './runtime.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A response read whole: its status, headers (copied as data) and body bytes. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly bytes: Buffer;
}

/**
 * Reads a response body, failing as soon as it passes `limit` bytes (the rest is never read);
 * `setting` names what sets the limit, for the message.
 */
export async function readBody(res: Dispatcher.ResponseData, limit: number, url: URL, setting = 'max_response_bytes'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.body.destroy();
      throw new HttpFailure(`response body from ${originOf(url)} is larger than ${formatBytes(limit)} (${setting})`, false, res.statusCode);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** What a response means for the step: its output, and a failure unless its status is ok. */
export function interpret(res: RawResponse, params: Readonly<Record<string, unknown>>, url: URL, masker: Masker): CallOutcome {
  const contentType = res.headers['content-type'] ?? '';
  const mediaType = escapeControl(contentType.split(';')[0] ?? '');
  const expect = typeof params.response === 'string' ? params.response : 'auto';
  let body: unknown;
  const text = res.bytes.toString('utf8');
  const looksJson = /[/+]json\b/i.test(contentType);
  if (expect === 'text') {
    body = text;
  } else if (looksJson || expect === 'json') {
    if (text.trim() === '') body = null;
    else {
      try {
        body = JSON.parse(text);
      } catch {
        const what = looksJson ? `declares ${mediaType} but its body is not valid JSON` : `is not JSON (content-type ${mediaType || 'missing'})`;
        return { ok: false, status: res.status, output: { status: res.status, headers: res.headers, body: masker.clip(text, 2000) }, error: { message: `response (HTTP ${res.status}) ${what}`, retryable: false, status: res.status } };
      }
      if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
        const message = `response body from ${originOf(url)} nests deeper than ${MAX_JSON_DEPTH} levels`;
        return { ok: false, status: res.status, output: { status: res.status, headers: res.headers }, error: { message, retryable: false, status: res.status } };
      }
    }
  } else if (/^text\/|xml|x-www-form-urlencoded/i.test(contentType) || isUtf8(res.bytes)) {
    body = text;
  } else {
    body = { base64: res.bytes.toString('base64') };
  }
  const output = { status: res.status, headers: res.headers, body };
  if (statusOk(res.status, params.ok_status)) return { ok: true, status: res.status, output };
  const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
  const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
  return {
    ok: false, status: res.status, output,
    error: { message: statusMessage(res, body, masker), retryable, status: res.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) },
  };
}

/**
 * "HTTP 500: <the start of the body>", with the body's control characters made visible.
 * Outside text is cut with masker.clip, which masks before it cuts: a cut through a secret
 * would leave its first part, which no form of the secret matches any more.
 */
function statusMessage(res: RawResponse, body: unknown, masker: Masker): string {
  const location = res.headers.location;
  if (REDIRECTS.has(res.status) && location !== undefined) {
    return `HTTP ${res.status} redirect to ${escapeControl(masker.clip(location, 200))} (flux does not follow redirects; add ${res.status} to ok_status to accept it)`;
  }
  const detail = typeof body === 'string' ? masker.clip(body.trim(), 200) : body && typeof body === 'object' && Object.keys(body).length > 0 ? masker.clip(JSON.stringify(body), 200) : '';
  return `HTTP ${res.status}${detail ? `: ${escapeControl(detail)}` : ''}`;
}

function statusOk(status: number, okStatus: unknown): boolean {
  if (okStatus === undefined || okStatus === null) return status >= 200 && status < 300;
  const list = Array.isArray(okStatus) ? okStatus : [okStatus];
  return list.some((s) => {
    if (typeof s === 'number') return s === status;
    const m = /^([1-5])xx$/i.exec(String(s));
    if (m) return Math.floor(status / 100) === Number(m[1]);
    return Number(s) === status;
  });
}

/** Retry-After as delay-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return !bytes.includes(0);
  } catch {
    return false;
  }
}

/**
 * What Google's APIs share, for the Google connectors (Calendar, Gmail, Chat, Drive): the
 * error body `{ error: { code, message, status, errors: [{ reason }] } }` as one message, rate
 * limits answered as 403, and the `pageToken`/`nextPageToken` cursor. Not a connector itself.
 */
import type { ConnectorSpec, FieldSpec } from './spec.js';
import { clipText, pick } from './vendor-text.js';

/**
 * Reads Google's error body into "<Vendor>: <status>: <message>" ("Google Calendar:
 * NOT_FOUND: Not Found"). Older APIs (Calendar) may leave out `status`: the first error's
 * `reason` stands in for it. A body that is not Google's gives the HTTP status.
 */
export function googleErrorOf(vendor: string): NonNullable<ConnectorSpec['errorOf']> {
  return (body, status) => {
    if (status < 400) return undefined;
    const errors = pick(body, 'error.errors');
    const first = Array.isArray(errors) ? errors[0] : undefined;
    const kind = clipText(pick(body, 'error.status'), 60) ?? clipText(pick(first, 'reason'), 60);
    const message = clipText(pick(body, 'error.message'));
    if (message === undefined) return `${vendor}: ${kind ?? `HTTP ${status}`}`;
    return `${vendor}: ${kind ? `${kind}: ` : ''}${message}`;
  };
}

/** The reasons with which Google answers 403 for a rate limit, not for a refusal. */
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);

/**
 * Calendar, Gmail and Drive answer a rate limit with 403 (`rateLimitExceeded`,
 * `userRateLimitExceeded`) as well as 429: such a 403 is retried like a 429, with backoff.
 * Any other 403 (no access) is not.
 */
export function googleRetryable(status: number, body: unknown): boolean | undefined {
  if (status !== 403) return undefined;
  const errors = pick(body, 'error.errors');
  return Array.isArray(errors) && errors.some((e) => RATE_LIMIT_REASONS.has(String(pick(e, 'reason')))) ? true : undefined;
}

/** The `pageToken` field every Google list operation takes. */
export const pageToken: FieldSpec = {
  type: 'string', in: 'query', name: 'pageToken',
  description: "Continue a list from this page token (a previous call's nextPageToken); paginate: true follows it for you.",
};

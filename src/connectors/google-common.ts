/**
 * What Google's APIs share, for the Google connectors (Calendar, Gmail, Chat): the error
 * body `{ error: { code, message, status, errors: [{ reason }] } }` as one message, and the
 * `pageToken`/`nextPageToken` cursor. Not a connector itself.
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

/** The `pageToken` field every Google list operation takes. */
export const pageToken: FieldSpec = {
  type: 'string', in: 'query', name: 'pageToken',
  description: "Continue a list from this page token (a previous call's nextPageToken); paginate: true follows it for you.",
};

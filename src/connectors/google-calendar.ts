/**
 * Google Calendar API v3: insert, list, get and patch events. Checked against Google's
 * discovery document (schemas/vendor-specs/google-calendar.json), read through the
 * discovery adapter of the contract test. Times are RFC 3339 `start`/`end` (or `start_date`/
 * `end_date` for all-day events), attendees plain email addresses; flux builds Google's
 * `{ dateTime, timeZone }` / `{ date }` objects and `[{ email }]` lists. Errors read as
 * "Google Calendar: <status>: <message>"; lists page with pageToken/nextPageToken. An insert
 * sends an event ID derived from the run's idempotency key, so a retry whose first attempt
 * did create the event gets 409 and reads that event instead of making a second one.
 * Free/busy is not offered: the description kept here does not have it.
 */
import { createHash } from 'node:crypto';
import { googleErrorOf, googleRetryable, pageToken } from './google-common.js';
import { googleOAuth } from './oauth/providers.js';
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/**
 * An event ID from the run's idempotency key: the base32hex (0-9, a-v, as Calendar requires)
 * of its SHA-256, 52 characters, so every attempt of a step asks for the same ID.
 */
export function calendarEventId(idempotencyKey: string): string {
  let out = '';
  let value = 0;
  let bits = 0;
  for (const byte of createHash('sha256').update(idempotencyKey).digest()) {
    value = ((value << 8) | byte) & 0xfff;
    bits += 8;
    for (; bits >= 5; bits -= 5) out += BASE32HEX[(value >>> (bits - 5)) & 31];
  }
  return bits > 0 ? out + BASE32HEX[(value << (5 - bits)) & 31] : out;
}

const calendarId: FieldSpec = {
  type: 'string', in: 'path', name: 'calendarId', default: 'primary', example: 'primary',
  description: "Calendar ID: `primary` (the signed-in user's calendar) or a calendar's address (team@group.calendar.google.com).",
};
const eventId: FieldSpec = { type: 'string', in: 'path', name: 'eventId', required: true, example: 'g2f9p8s4c1h0r7b6e5a4d3c2b1', description: 'Event ID (the `id` of a created or listed event).' };
const sendUpdates: FieldSpec = {
  type: 'string', in: 'query', name: 'sendUpdates', enum: ['all', 'externalOnly', 'none'], example: 'all',
  description: 'Who gets an email about the change: all guests, guests outside Google Calendar only, or none.',
};

/** The event fields insert and patch share; `required` marks what insert needs. */
function eventFields(insert: boolean): Record<string, FieldSpec> {
  return {
    summary: { type: 'string', description: 'Title of the event.', example: 'Onboarding call with Acme' },
    description: { type: 'string', description: 'Description (may contain HTML).', example: 'Agenda: accounts, first invoice, questions.' },
    location: { type: 'string', description: 'Where it happens, as free text.', example: 'Google Meet' },
    start: { type: 'string', format: 'date-time', description: 'Start, RFC 3339 with an offset (2026-12-01T15:00:00+01:00).', ...(insert ? { example: '2026-12-01T15:00:00+01:00' } : {}) },
    end: { type: 'string', format: 'date-time', description: 'End, RFC 3339 with an offset.', ...(insert ? { example: '2026-12-01T15:30:00+01:00' } : {}) },
    start_date: { type: 'string', format: 'date', description: 'All-day events: first day (2026-12-01), instead of start.' },
    end_date: { type: 'string', format: 'date', description: 'All-day events: the day after the last day (exclusive), instead of end.' },
    time_zone: { type: 'string', description: 'IANA time zone of start and end (Europe/Berlin); needed for recurring events.', example: 'Europe/Berlin' },
    attendees: {
      type: 'array', description: 'Guests, by email address.', items: { type: 'string', format: 'email', description: 'A guest email address.' },
      ...(insert ? { example: ['jenny@example.com'] } : {}),
    },
    visibility: { type: 'string', enum: ['default', 'public', 'private', 'confidential'], description: 'Who can see the details.' },
    transparency: { type: 'string', enum: ['opaque', 'transparent'], description: 'opaque blocks time on the calendar (busy); transparent does not.' },
    recurrence: { type: 'array', description: 'RRULE/EXDATE lines (RFC 5545), e.g. RRULE:FREQ=WEEKLY;COUNT=4.', items: { type: 'string', description: 'A recurrence line.' } },
    color_id: { type: 'string', description: 'Event color (an ID from the colors endpoint, "1" to "11").' },
  };
}

/** Google's event body from the flux fields: start/end objects, attendees as `{ email }`. */
function eventBody(f: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const zone = f.time_zone !== undefined ? { timeZone: f.time_zone } : {};
  const when = (dateTime: unknown, date: unknown): Record<string, unknown> | undefined =>
    dateTime !== undefined ? { dateTime, ...zone } : date !== undefined ? { date, ...zone } : undefined;
  const start = when(f.start, f.start_date);
  const end = when(f.end, f.end_date);
  return {
    ...(f.event_id !== undefined ? { id: f.event_id } : {}),
    ...(f.summary !== undefined ? { summary: f.summary } : {}),
    ...(f.description !== undefined ? { description: f.description } : {}),
    ...(f.location !== undefined ? { location: f.location } : {}),
    ...(start ? { start } : {}),
    ...(end ? { end } : {}),
    ...(Array.isArray(f.attendees) ? { attendees: f.attendees.map((email) => ({ email: String(email) })) } : {}),
    ...(f.visibility !== undefined ? { visibility: f.visibility } : {}),
    ...(f.transparency !== undefined ? { transparency: f.transparency } : {}),
    ...(f.recurrence !== undefined ? { recurrence: f.recurrence } : {}),
    ...(f.color_id !== undefined ? { colorId: f.color_id } : {}),
  };
}

const EVENT_OUTPUT = 'The event as Google returns it: `id`, `htmlLink`, `status`, `summary`, `start`, `end`, `attendees`, ...';

const insertEvent: OperationSpec = {
  summary: 'Create an event.',
  http: { method: 'POST', path: '/calendar/v3/calendars/{calendarId}/events', body: 'json', buildBody: eventBody },
  fields: {
    calendar_id: calendarId,
    event_id: {
      type: 'string', pattern: '^[a-v0-9]{5,1024}$',
      description: 'The new event\'s ID (5 to 1024 of a-v and 0-9). Default: one derived from the run and step, so a retried insert cannot make a second event.',
    },
    ...eventFields(true),
    send_updates: sendUpdates,
  },
  // Calendar answers 409 to an ID it already has: a retry after a lost answer reads the event.
  idempotency: { bodyField: 'id', derive: calendarEventId, existing: '/calendar/v3/calendars/{calendarId}/events/{id}' },
  oneOf: [['start', 'start_date'], ['end', 'end_date']],
  exclusive: [['start', 'start_date'], ['end', 'end_date']],
  output: EVENT_OUTPUT,
};

export const googleCalendarSpec: ConnectorSpec = {
  name: 'google_calendar',
  vendor: 'Google Calendar',
  category: 'calendar',
  summary: 'Google Calendar: create, list, read and change events.',
  baseUrl: 'https://www.googleapis.com',
  auth: ['bearer', 'oauth2'],
  oauth: googleOAuth(['calendar.events']),
  vendorCheck: { checked: true, file: 'google-calendar.json', format: 'google-discovery' },
  errorOf: googleErrorOf('Google Calendar'),
  retryable: googleRetryable,
  operations: {
    insert_event: insertEvent,
    list_events: {
      summary: 'List events of a calendar, optionally in a time window or matching a search.',
      http: { method: 'GET', path: '/calendar/v3/calendars/{calendarId}/events' },
      fields: {
        calendar_id: calendarId,
        time_min: { type: 'string', format: 'date-time', in: 'query', name: 'timeMin', description: 'Only events ending after this time (RFC 3339 with an offset).', example: '2026-12-01T00:00:00Z' },
        time_max: { type: 'string', format: 'date-time', in: 'query', name: 'timeMax', description: 'Only events starting before this time (RFC 3339 with an offset).', example: '2026-12-08T00:00:00Z' },
        q: { type: 'string', in: 'query', description: 'Free-text search over summary, description, location and attendees.', example: 'Acme' },
        single_events: { type: 'boolean', in: 'query', name: 'singleEvents', description: 'Expand recurring events into their occurrences (needed for order_by: startTime).', example: true },
        order_by: { type: 'string', in: 'query', name: 'orderBy', enum: ['startTime', 'updated'], description: 'Order: by start (with single_events) or by last change.', example: 'startTime' },
        max_results: { type: 'integer', in: 'query', name: 'maxResults', minimum: 1, maximum: 2500, description: 'Events per page (Google: at most 2500, default 250).', example: 50 },
        show_deleted: { type: 'boolean', in: 'query', name: 'showDeleted', description: 'Include cancelled events.' },
        updated_min: { type: 'string', format: 'date-time', in: 'query', name: 'updatedMin', description: 'Only events changed after this time.' },
        time_zone: { type: 'string', in: 'query', name: 'timeZone', description: 'Time zone of the times in the answer (IANA name).' },
        page_token: pageToken,
      },
      pagination: { cursorField: 'page_token', nextCursor: 'nextPageToken', items: 'items' },
      output: 'Google\'s Events page: `items` (events), `nextPageToken`; with paginate: true, `{ items, count, has_more, next_cursor }`.',
    },
    get_event: {
      summary: 'Read one event.',
      http: { method: 'GET', path: '/calendar/v3/calendars/{calendarId}/events/{eventId}' },
      fields: {
        calendar_id: calendarId,
        event_id: eventId,
        time_zone: { type: 'string', in: 'query', name: 'timeZone', description: 'Time zone of the times in the answer (IANA name).' },
      },
      output: EVENT_OUTPUT,
    },
    patch_event: {
      summary: 'Change some fields of an event, leaving the others as they are.',
      http: { method: 'PATCH', path: '/calendar/v3/calendars/{calendarId}/events/{eventId}', body: 'json', buildBody: eventBody },
      fields: { calendar_id: calendarId, event_id: eventId, ...eventFields(false), send_updates: sendUpdates },
      exclusive: [['start', 'start_date'], ['end', 'end_date']],
      output: EVENT_OUTPUT,
    },
  },
};

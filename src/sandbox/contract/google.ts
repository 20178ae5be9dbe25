/**
 * Google in the sandbox: Calendar events (inserted, listed with a time window and
 * `nextPageToken`, fetched, patched), Drive files (drive.ts), Gmail sends and drafts, and Chat
 * messages. Google's token endpoint is `<sandbox>/google/token`. Each Google
 * host is its own prefix (`/google` for www.googleapis.com, `/gmail`, `/google-chat`), and the
 * connectors' paths carry the discovery document's servicePath (`/calendar/v3/...`). Errors
 * are `{ error: { code, message, status, errors: [{ domain, reason, message }] } }`.
 */
import { driveHandlers, seedDrive } from './drive.js';
import { find, iso, limitOf, obj, offsetPage, VendorError, type Json, type Reply, type VendorCall, type VendorError as Failure, type VendorSite } from './site.js';

const STATUS: Record<string, [number, string, string]> = {
  invalid: [400, 'INVALID_ARGUMENT', 'invalid'], unauthorized: [401, 'UNAUTHENTICATED', 'authError'], not_found: [404, 'NOT_FOUND', 'notFound'],
  conflict: [409, 'ALREADY_EXISTS', 'duplicate'], rate_limited: [429, 'RESOURCE_EXHAUSTED', 'rateLimitExceeded'],
};

function googleError(e: Failure): Reply {
  const [status, text, reason] = STATUS[e.kind]!;
  return { status: e.status ?? status, body: { error: { code: e.status ?? status, message: e.message, status: text, errors: [{ domain: 'global', reason: e.code ?? reason, message: e.message, ...(e.field ? { location: e.field, locationType: 'parameter' } : {}) }] } } };
}

/** An event's start, as a comparable instant. */
function startOf(event: Json): string {
  const s = obj(event.start);
  return String(s.dateTime ?? s.date ?? '');
}

function eventOf(call: VendorCall): Json {
  return find(call.store.list('events'), 'id', call.params.eventId, 'event', 'eventId');
}

function insertEvent(call: VendorCall): Json {
  const b = obj(call.body);
  const now = iso(call.store.now());
  const id = `sbx${call.store.id()}`;
  const event: Json = {
    kind: 'calendar#event', etag: `"${id}"`, id, status: 'confirmed', htmlLink: `https://www.google.com/calendar/event?eid=${id}`, created: now, updated: now,
    ...b, calendarId: call.params.calendarId, organizer: { email: 'sandbox@example.com', self: true }, iCalUID: `${id}@google.com`, sequence: 0,
  };
  call.store.list('events').push(event);
  return shown(event);
}

/** The event without the sandbox's own bookkeeping. */
function shown(event: Json): Json {
  const { calendarId: _calendar, ...rest } = event;
  return rest;
}

export const googleSite: VendorSite = {
  prefix: 'google',
  origin: 'https://www.googleapis.com',
  connectors: ['google_calendar', 'google_drive'],
  error: googleError,
  // oauth2.googleapis.com/token, played at `<sandbox>/google/token`; Gmail and Chat take its tokens too.
  oauth: { tokenPath: '/token', clientAuth: 'either' },
  seed(store) {
    seedDrive(store);
    const base = { kind: 'calendar#event', status: 'confirmed', created: '2026-11-01T10:00:00Z', updated: '2026-11-01T10:00:00Z', calendarId: 'primary', organizer: { email: 'sandbox@example.com', self: true }, sequence: 0 };
    store.list('events').push({
      ...base, id: 'g2f9p8s4c1h0r7b6e5a4d3c2b1', etag: '"g2f9"', htmlLink: 'https://www.google.com/calendar/event?eid=g2f9', iCalUID: 'g2f9@google.com',
      summary: 'Onboarding call with Acme', start: { dateTime: '2026-12-01T15:00:00+01:00', timeZone: 'Europe/Berlin' }, end: { dateTime: '2026-12-01T15:30:00+01:00', timeZone: 'Europe/Berlin' },
    });
  },
  handlers: {
    ...driveHandlers,
    'POST /calendar/v3/calendars/{calendarId}/events': insertEvent,
    'GET /calendar/v3/calendars/{calendarId}/events'(call) {
      const q = call.query;
      const min = q.get('timeMin');
      const max = q.get('timeMax');
      const text = q.get('q')?.toLowerCase();
      const all = call.store.list('events').filter((e) => e.calendarId === call.params.calendarId && e.status !== 'cancelled'
        && (!min || Date.parse(startOf(e)) >= Date.parse(min)) && (!max || Date.parse(startOf(e)) < Date.parse(max))
        && (!text || `${String(e.summary ?? '')} ${String(e.description ?? '')} ${String(e.location ?? '')}`.toLowerCase().includes(text)));
      if (q.get('orderBy') === 'startTime') all.sort((a, b) => Date.parse(startOf(a)) - Date.parse(startOf(b)));
      const { page, next } = offsetPage(all, q.get('pageToken'), limitOf(q.get('maxResults'), 250, 2500));
      return { kind: 'calendar#events', summary: String(call.params.calendarId), timeZone: 'UTC', updated: iso(call.store.now()), items: page.map(shown), ...(next ? { nextPageToken: next } : {}) };
    },
    'GET /calendar/v3/calendars/{calendarId}/events/{eventId}': (call) => shown(eventOf(call)),
    'PATCH /calendar/v3/calendars/{calendarId}/events/{eventId}'(call) {
      const event = eventOf(call);
      Object.assign(event, obj(call.body), { updated: iso(call.store.now()), sequence: Number(event.sequence ?? 0) + 1 });
      return shown(event);
    },
  },
};

/** The headers of an RFC 2822 message sent base64url-encoded (Gmail's `raw`). */
function headersOf(raw: unknown): Json {
  const text = Buffer.from(String(raw ?? ''), 'base64url').toString('utf8');
  const head = text.split(/\r?\n\r?\n/)[0] ?? '';
  const wanted = ['to', 'cc', 'subject', 'from', 'reply-to'];
  return Object.fromEntries(head.split(/\r?\n/).map((l) => /^([\w-]+):\s*(.*)$/.exec(l)).filter((m): m is RegExpExecArray => m !== null && wanted.includes(m[1]!.toLowerCase())).map((m) => [m[1]!.toLowerCase(), m[2]]));
}

export const gmailSite: VendorSite = {
  prefix: 'gmail',
  origin: 'https://gmail.googleapis.com',
  connectors: ['gmail'],
  error: googleError,
  tokensFrom: 'google',
  seed() {},
  handlers: {
    'POST /gmail/v1/users/{userId}/messages/send'(call) {
      const b = obj(call.body);
      const id = `18c${call.store.id()}`;
      call.store.list('messages').push({ id, threadId: b.threadId ?? id, labelIds: ['SENT'], ...headersOf(b.raw) });
      return { id, threadId: b.threadId ?? id, labelIds: ['SENT'] };
    },
    'POST /gmail/v1/users/{userId}/drafts'(call) {
      const message = obj(obj(call.body).message);
      const id = `r-${call.store.id()}`;
      const messageId = `18d${call.store.id()}`;
      call.store.list('drafts').push({ id, message: { id: messageId, ...headersOf(message.raw) } });
      return { id, message: { id: messageId, threadId: message.threadId ?? messageId, labelIds: ['DRAFT'] } };
    },
  },
};

export const googleChatSite: VendorSite = {
  prefix: 'google-chat',
  origin: 'https://chat.googleapis.com',
  connectors: ['google_chat'],
  error: googleError,
  tokensFrom: 'google',
  idempotencyKey: (call) => call.query.get('requestId') ?? undefined,
  seed(store) {
    store.list('spaces').push({ name: 'spaces/AAAAbCdEfGh', displayName: 'Orders' });
    store.list('messages').push({ name: 'spaces/AAAAbCdEfGh/messages/BBBBcDeFgHi.BBBBcDeFgHi', text: 'New order from *Acme*', createTime: '2026-11-24T09:00:00Z', thread: { name: 'spaces/AAAAbCdEfGh/threads/BBBBcDeFgHi' } });
  },
  handlers: {
    'POST /v1/{+parent}/messages'(call) {
      const space = find(call.store.list('spaces'), 'name', call.params.parent, 'space', 'parent');
      const b = obj(call.body);
      const id = call.store.id('sbx');
      const threadKey = obj(b.thread).threadKey;
      const message = { name: `${String(space.name)}/messages/${id}`, text: b.text, createTime: iso(call.store.now()), thread: { name: `${String(space.name)}/threads/${threadKey ? String(threadKey) : id}` } };
      call.store.list('messages').push(message);
      return message;
    },
    'PATCH /v1/{+name}'(call) {
      const message = find(call.store.list('messages'), 'name', call.params.name, 'message', 'name');
      const b = obj(call.body);
      for (const field of (call.query.get('updateMask') ?? '').split(',').filter(Boolean)) {
        if (field !== 'text' && field !== 'cardsV2' && field !== 'attachment') throw new VendorError('invalid', `Invalid update mask field: ${field}`, 'updateMask');
        message[field] = b[field];
      }
      message.lastUpdateTime = iso(call.store.now());
      return message;
    },
  },
};

// Google's "409 means done": Calendar inserts carry an event ID derived from the run's
// idempotency key, so when the first attempt's answer is lost (a timeout after Google created
// the event) the retry gets 409 duplicate and the step succeeds with the event read back.
// Against a small stateful Calendar on 127.0.0.1 that keeps its events by ID.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calendarEventId } from '../../src/connectors/google-calendar.js';
import { finished, HEAD, run } from '../engine/harness.js';

/** Events by ID; inserts seen; how long the next insert's answer is held back. */
const events = new Map<string, Record<string, unknown>>();
const inserts: { id: unknown }[] = [];
const reads: string[] = [];
let holdNextInsertMs = 0;
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://calendar');
      const answer = (status: number, body: unknown): void => {
        if (!res.destroyed) res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const one = /^\/calendar\/v3\/calendars\/primary\/events\/([^/]+)$/.exec(url.pathname);
      if (req.method === 'GET' && one) {
        reads.push(one[1]!);
        const event = events.get(one[1]!);
        answer(event ? 200 : 404, event ?? { error: { code: 404, message: 'Not Found', errors: [{ reason: 'notFound' }] } });
        return;
      }
      if (req.method !== 'POST' || url.pathname !== '/calendar/v3/calendars/primary/events') return answer(404, { error: { code: 404, message: 'no such route' } });
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      inserts.push({ id: body.id });
      if (typeof body.id === 'string' && events.has(body.id)) {
        answer(409, { error: { code: 409, message: 'The requested identifier already exists.', errors: [{ domain: 'global', reason: 'duplicate', message: 'The requested identifier already exists.' }] } });
        return;
      }
      const id = typeof body.id === 'string' ? body.id : `gen${events.size}`;
      // Created first, answered later (or never, when the client gave up).
      events.set(id, { ...body, id, status: 'confirmed', htmlLink: `https://calendar.google.com/event?eid=${id}` });
      const hold = holdNextInsertMs;
      holdNextInsertMs = 0;
      const timer = setTimeout(() => answer(200, events.get(id)), hold);
      res.on('close', () => clearTimeout(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const workflow = (withId = ''): string => `${HEAD}secrets: [TOKEN]
connections:
  cal: { connector: google_calendar, base_url: "${base}", auth: { bearer: "\${{ secrets.TOKEN }}" } }
steps:
  - id: book
    uses: cal.insert_event
    timeout: 300ms
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { ${withId}summary: Onboarding, start: "2026-12-01T15:00:00+01:00", end: "2026-12-01T15:30:00+01:00" }
`;

describe('a Calendar insert retried after its answer was lost', () => {
  it('gets 409 duplicate, reads the event back, and one event exists', async () => {
    events.clear();
    inserts.length = 0;
    reads.length = 0;
    holdNextInsertMs = 5_000;
    const { result, journal } = await run(workflow(), { secrets: { TOKEN: 'ya29.calendar-token' } });
    expect(result.status).toBe('succeeded');
    expect(inserts).toHaveLength(2);
    const id = inserts[0]!.id as string;
    expect(id).toMatch(/^[a-v0-9]{52}$/);
    expect(inserts[1]!.id).toBe(id);
    expect(events.size).toBe(1);
    expect(reads).toEqual([id]);
    expect(finished(journal, 'book')?.output).toMatchObject({ id, summary: 'Onboarding', status: 'confirmed' });
  });

  it('fails on a 409 for an ID the step gave itself: that event may be someone else\'s', async () => {
    events.clear();
    events.set('ourid12345', { id: 'ourid12345', summary: 'Not ours' });
    reads.length = 0;
    const { result, journal } = await run(workflow('event_id: ourid12345, '), { secrets: { TOKEN: 'ya29.calendar-token' } });
    expect(result.status).toBe('failed');
    expect(finished(journal, 'book')?.error?.message).toBe('Google Calendar: duplicate: The requested identifier already exists.');
    expect(reads).toEqual([]);
  });
});

describe('calendarEventId', () => {
  it('is base32hex of the key, 52 characters, stable per key', () => {
    const a = calendarEventId('01J9ZX3Q7K8M2N4P6R8T0V2W4Y:book');
    expect(a).toMatch(/^[a-v0-9]{52}$/);
    expect(calendarEventId('01J9ZX3Q7K8M2N4P6R8T0V2W4Y:book')).toBe(a);
    expect(calendarEventId('01J9ZX3Q7K8M2N4P6R8T0V2W4Y:book2')).not.toBe(a);
    // SHA-256 of "" is e3b0c442...: its first 5 bits 11100 are "s".
    expect(calendarEventId('')[0]).toBe('s');
  });
});

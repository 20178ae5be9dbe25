/**
 * `POST /events/NAME`: an event injected over HTTP, for event-triggered workflows and waiting
 * `wait_for` steps. It is served only when the daemon's environment sets FLUX_EVENT_TOKEN, and
 * only to a request that carries it (`Authorization: Bearer <token>`, compared in constant
 * time): an open endpoint would let anyone start workflows. The body is the event's data, a
 * JSON object (empty: `{}`), bounded like every event. The reply is 202 with the event's id
 * only once the event is durably stored: acknowledged means it will be delivered.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../engine/clock.js';
import { newRunId } from '../engine/run-id.js';
import type { Store } from '../store/store.js';
import { eventNameProblem, parseEventData } from '../triggers/event.js';
import type { Reply } from './intake.js';

/** The path prefix events are posted under. */
export const EVENTS_PATH = '/events/';

/** True when the bearer token in `authorization` is `token`; the comparison takes the same time whatever it holds. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '');
  // Digests of equal length, so neither the token's length nor its first differing byte shows in the time taken.
  const given = createHash('sha256').update(m?.[1] ?? '').digest();
  const expected = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, expected) && m !== null;
}

/** What one request to `/events/NAME` becomes; `body` is undefined when it was too large to read. */
export async function eventIntake(
  request: { method: string; path: string; authorization: string | undefined; body: () => Promise<Uint8Array | undefined> },
  options: { store: Store; clock: Clock; token: string | undefined },
): Promise<Reply> {
  if (options.token === undefined) return text(404, 'event intake is off: start the daemon with FLUX_EVENT_TOKEN set to accept POST /events/NAME');
  if (request.method !== 'POST') return { ...text(405, `${request.method} is not allowed here; POST the event's data as JSON`), headers: { 'content-type': 'text/plain; charset=utf-8', allow: 'POST' } };
  if (!bearerMatches(request.authorization, options.token)) {
    return { ...text(401, 'a valid `Authorization: Bearer <token>` header is required'), headers: { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer' } };
  }
  const name = request.path.slice(EVENTS_PATH.length);
  const problem = eventNameProblem(name);
  if (problem) return json(400, { error: problem });
  const body = await request.body();
  if (body === undefined) return json(413, { error: 'the body is larger than 1 MiB, the most an event may be' });
  let source: string;
  try {
    source = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return json(400, { error: 'the body is not valid UTF-8' });
  }
  const parsed = source.trim() === '' ? { ok: true as const, data: {} } : parseEventData(source, 'the request body');
  if (!parsed.ok) return json(parsed.tooLarge ? 413 : 400, { error: parsed.reason });
  const now = options.clock.now();
  const id = newRunId(now);
  await options.store.appendEvent({ id, name, data: parsed.data, createdAt: now });
  return json(202, { event_id: id });
}

function text(status: number, message: string): Reply {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${message}\n` };
}

function json(status: number, body: unknown): Reply {
  return { status, headers: { 'content-type': 'application/json' }, body: `${JSON.stringify(body)}\n` };
}

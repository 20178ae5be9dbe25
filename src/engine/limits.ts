/**
 * Bounds on data that comes from outside before the engine touches it. An event (from the
 * command line today, from a webhook in the daemon) is refused whole when it is deeper or
 * larger than these, so no later step can be crashed or slowed by it; the run is recorded
 * `rejected` with the reason. The walk is iterative: a value nested 100,000 levels deep is
 * measured without recursion.
 */
import { createHash } from 'node:crypto';

/** Largest event accepted, measured as its JSON text. */
export const MAX_EVENT_BYTES = 1024 * 1024;
/** Deepest nesting of objects and lists accepted in an event. */
export const MAX_EVENT_DEPTH = 64;

export interface JsonBounds {
  readonly maxDepth: number;
  readonly maxBytes: number;
}

/** Why a value is out of bounds, or undefined when it is within them. */
export function exceedsBounds(value: unknown, bounds: JsonBounds, what = 'the event'): string | undefined {
  let bytes = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v !== null && typeof v === 'object') {
      if (depth >= bounds.maxDepth) return `${what} nests deeper than ${bounds.maxDepth} levels`;
      bytes += 2;
      if (Array.isArray(v)) {
        for (const item of v) {
          bytes += 1;
          stack.push([item, depth + 1]);
        }
      } else {
        for (const [k, item] of Object.entries(v)) {
          bytes += k.length + 4;
          stack.push([item, depth + 1]);
        }
      }
    } else {
      bytes += typeof v === 'string' ? v.length + 2 : String(v).length;
    }
    if (bytes > bounds.maxBytes) return `${what} is larger than ${formatBytes(bounds.maxBytes)}`;
  }
  return undefined;
}

/**
 * SHA-256 of the event's JSON. An event nested too deeply for JSON.stringify (a RangeError) is
 * refused before any step runs; it gets the digest of the empty string, which no JSON text
 * has, so the run still starts and ends on record instead of crashing.
 */
export function eventSha256(event: unknown): string {
  let text = '';
  try {
    text = JSON.stringify(event ?? null);
  } catch {
    // too deep to serialise: the empty text's digest marks it
  }
  return createHash('sha256').update(text).digest('hex');
}

/** 1 MiB, 512 KiB, 300 bytes. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

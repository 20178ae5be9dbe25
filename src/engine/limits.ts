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
 * SHA-256 of a value's JSON text. Values within the event bounds hash `JSON.stringify`; a
 * value past them (which `JSON.stringify` may not survive) is hashed from a bounded walk, so a
 * refused event still gets a stable identifier in its `run.started` record.
 */
export function eventSha256(value: unknown, withinBounds: boolean): string {
  const hash = createHash('sha256');
  if (withinBounds) return hash.update(JSON.stringify(value ?? null)).digest('hex');
  const stack: unknown[] = [value ?? null];
  let budget = MAX_EVENT_BYTES * 4;
  while (stack.length > 0 && budget > 0) {
    const v = stack.pop();
    if (v !== null && typeof v === 'object') {
      const entries = Array.isArray(v) ? v.map((item, i) => [String(i), item] as const) : Object.entries(v);
      hash.update(Array.isArray(v) ? '[' : '{');
      for (let i = entries.length - 1; i >= 0; i--) stack.push(entries[i]![1], `\u0000${entries[i]![0]}`);
      budget -= entries.length + 1;
    } else {
      const text = typeof v === 'string' ? v : JSON.stringify(v) ?? 'null';
      hash.update(text);
      budget -= text.length;
    }
  }
  return hash.digest('hex');
}

/** 1 MiB, 512 KiB, 300 bytes. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

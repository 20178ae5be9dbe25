/**
 * JSON that comes from outside, handled safely: its bounds, and its keys kept as data. It is
 * an event (from the command line or a webhook) or a connector's response body. Everything downstream (expressions, the masker, the run
 * log) walks values recursively; checking once at the edge, iteratively, keeps those walks
 * simple and turns a hostile value into a clear refusal instead of a stack overflow or an
 * exhausted heap.
 */

/** The deepest nesting of objects and lists accepted from outside (one level each). */
export const MAX_JSON_DEPTH = 64;
/** Largest event accepted, measured as its JSON text. */
export const MAX_EVENT_BYTES = 1024 * 1024;

export interface JsonBounds {
  readonly maxDepth: number;
  /** Largest JSON text, approximately (exact for ASCII); Infinity to check depth only. */
  readonly maxBytes: number;
}

/** Why `value` is out of bounds (`<what> nests deeper than 64 levels`), or undefined; never recurses. */
export function exceedsBounds(value: unknown, bounds: JsonBounds, what: string): string | undefined {
  const sized = Number.isFinite(bounds.maxBytes);
  let bytes = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v !== null && typeof v === 'object') {
      if (depth >= bounds.maxDepth) return `${what} nests deeper than ${bounds.maxDepth} levels`;
      const entries = Array.isArray(v) ? v : Object.entries(v);
      bytes += 2 + entries.length;
      for (const entry of entries) {
        if (Array.isArray(v)) stack.push([entry, depth + 1]);
        else {
          const [k, item] = entry as [string, unknown];
          bytes += k.length + 3;
          stack.push([item, depth + 1]);
        }
      }
    } else if (sized) {
      bytes += typeof v === 'string' ? v.length + 2 : String(v).length;
    }
    if (bytes > bounds.maxBytes) return `${what} is larger than ${formatBytes(bounds.maxBytes)}`;
  }
  return undefined;
}

/** True when `value` nests objects or lists deeper than `max` levels; never recurses. */
export function nestsDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  return exceedsBounds(value, { maxDepth: max, maxBytes: Infinity }, 'value') !== undefined;
}

/**
 * Sets `key` on `target` as an own, enumerable data property, whatever its name. Assignment
 * with `=` would treat a `__proto__` key as the object's prototype (dropping the key, or
 * polluting a shared prototype); outside keys are always set through this.
 */
export function setData(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** Sizes as messages give them: 1 MiB, 512 KiB, 300 bytes. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

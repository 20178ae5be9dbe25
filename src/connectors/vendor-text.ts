/**
 * Small helpers vendor connectors share: reading a field of an outside JSON body without
 * trusting its shape, and turning it into text fit for one line of a message.
 */
import { escapeControl } from '../text/escape.js';

/** The value at a dotted path of an outside body, or undefined when any step is missing. */
export function pick(body: unknown, path: string): unknown {
  let at: unknown = body;
  for (const key of path.split('.')) {
    if (at === null || typeof at !== 'object' || Array.isArray(at) || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/** Outside text for a message: control characters escaped, at most `max` characters. */
export function clipText(value: unknown, max = 200): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const text = escapeControl(value);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * The fields of `f` that were given (not undefined), under the vendor's names: `renamed(f, {
 * mime_type: 'mimeType' })`. For the optional parts of a body a connector builds itself.
 */
export function renamed(f: Readonly<Record<string, unknown>>, names: Readonly<Record<string, string>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(names).filter(([flux]) => f[flux] !== undefined).map(([flux, vendor]) => [vendor, f[flux]]));
}

/**
 * `max(list)` and `min(list)`: the largest and smallest element of a list of numbers or of
 * strings (ISO times compare as strings), nulls left out; null for a list with nothing else.
 * A poll's `cursor` is usually the newest `updated_at` of a page: `max(items.map(i, i.updated_at))`.
 */
import type { Environment } from '@marcbachmann/cel-js';

type Kind = 'number' | 'string';

function kindOf(value: unknown): Kind | undefined {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number' || typeof value === 'bigint') return 'number';
  return undefined;
}

function extreme(list: unknown, name: string, better: (a: number | bigint | string, b: number | bigint | string) => boolean): unknown {
  if (!Array.isArray(list)) throw new Error(`${name}() takes a list`);
  let best: number | bigint | string | undefined;
  let kind: Kind | undefined;
  for (const value of list) {
    if (value === null || value === undefined) continue;
    const k = kindOf(value);
    if (k === undefined) throw new Error(`${name}() compares numbers or strings, not ${Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a map' : typeof value}`);
    if (kind !== undefined && k !== kind) throw new Error(`${name}() cannot compare a ${kind} with a ${k}`);
    kind = k;
    const v = value as number | bigint | string;
    if (best === undefined || better(v, best)) best = v;
  }
  return best ?? null;
}

/** Adds `max(list)` and `min(list)` to a CEL environment. */
export function registerListFunctions(env: Environment): void {
  env.registerFunction('max(list<dyn>): dyn', (list: unknown) => extreme(list, 'max', (a, b) => a > b));
  env.registerFunction('min(list<dyn>): dyn', (list: unknown) => extreme(list, 'min', (a, b) => a < b));
}

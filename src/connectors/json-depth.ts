/**
 * The nesting bound on a parsed response body. Everything downstream of a connector (the
 * masker, the run log's size cap, expressions) walks values recursively; a body nested
 * thousands of levels deep would overflow the stack there. Checking once, here, iteratively,
 * keeps those walks simple and turns such a body into a clear step failure.
 */

/** The deepest nesting a JSON response body may have (objects and arrays, one level each). */
export const MAX_JSON_DEPTH = 64;

/** True when `value` nests objects or arrays deeper than `max` levels; never recurses. */
export function nestsDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      // Only containers add a level; scalars need no visit.
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}

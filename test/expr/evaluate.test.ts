// The evaluator against hostile expressions and data, in-process: RE2 `matches`, the time and
// size budget, keys that are JavaScript's own (`__proto__`, `constructor`), and deep values.
import { describe, expect, it } from 'vitest';
import { EXPRESSION_TIME_LIMIT_MS, MAX_RESULT_CHARS, MAX_RESULT_ELEMENTS, needsGuard } from '../../src/expr/budget.js';
import { checkExpression, environmentFor, type Scope } from '../../src/expr/cel.js';
import { evaluateExpression, ExpressionError, fromCel, MAX_VALUE_DEPTH, renderValue, toCel, ValueTooDeep } from '../../src/expr/evaluate.js';
import { MAX_PATTERN_LENGTH } from '../../src/expr/regex.js';

const scope: Scope = { contexts: ['event', 'steps'], loopVars: [] };

function evaluate(source: string, event: unknown = {}): unknown {
  return evaluateExpression(source, scope, { event: toCel(event), steps: {} });
}

function failure(source: string, event: unknown = {}): string {
  try {
    evaluate(source, event);
  } catch (error) {
    expect(error).toBeInstanceOf(ExpressionError);
    return (error as Error).message;
  }
  throw new Error(`${source} did not fail`);
}

/** A list literal of n ints, 0..n-1. */
function list(n: number): string {
  return `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
}

/** `n` nested maps over a list of ten, innermost giving the last variable: 10^n elements. */
function nestedMaps(n: number): string {
  let source = `a${n - 1}`;
  for (let i = n - 1; i >= 0; i--) source = `${list(10)}.map(a${i}, ${source})`;
  return source;
}

function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = { next: value };
  return value;
}

describe('matches uses RE2', () => {
  // Each of these backtracks for minutes in JavaScript's RegExp against this input; RE2 is
  // linear, so the whole table runs in milliseconds (vitest's 5 s timeout fails the old code).
  const attack = `${'a'.repeat(30)}!`;
  it.each(['(a+)+$', '(a|aa)+$', '(.*a){20}$', '(a*)*b', '^(\\w+\\s?)*$'])('`%s` against an attacker string', (pattern) => {
    expect(evaluate('event.text.matches(event.pattern)', { text: attack, pattern })).toBe(false);
    expect(evaluate(`event.text.matches(${JSON.stringify(pattern)})`, { text: attack })).toBe(false);
  });

  it('searches (partial match), as CEL specifies', () => {
    expect(evaluate('"abc".matches("b")')).toBe(true);
    expect(evaluate('"abc".matches("^b")')).toBe(false);
    expect(evaluate('"ann@example.com".matches("^[^@]+@example\\\\.com$")')).toBe(true);
  });

  it.each([
    ['(a)\\\\1', 'invalid escape sequence'],
    ['(?=a)a', 'unsupported perl syntax'],
    ['(?<!a)b', 'invalid named capture'],
  ])('rejects `%s`, which RE2 does not support, naming the pattern', (pattern, why) => {
    const message = failure(`event.text.matches(event.pattern)`, { text: 'aa', pattern: pattern.replace(/\\\\/g, '\\') });
    expect(message.toLowerCase()).toContain(why);
    expect(message).toContain(`invalid regular expression \`${pattern.replace(/\\\\/g, '\\')}\``);
  });

  it('reports an invalid literal pattern when checking, at the pattern', () => {
    const source = 'event.text.matches("(a)\\\\1")';
    const checked = checkExpression(source, scope);
    expect(checked.problem?.kind).toBe('type');
    expect(checked.problem?.message).toMatch(/^invalid regular expression `\(a\)\\1`/);
    expect(source.slice(checked.problem!.start, checked.problem!.end)).toBe('"(a)\\\\1"');
  });

  it('type-checks its operands like string.matches(string)', () => {
    expect(checkExpression('1.matches("a")', scope).problem?.message).toContain("found no matching overload for 'int.matches(string)'");
    expect(checkExpression('event.text.matches("a")', scope).problem).toBeUndefined();
    expect(failure('event.n.matches("a")', { n: 1 })).toContain("found no matching overload for 'int.matches(string)'");
  });

  it('refuses a pattern longer than the limit', () => {
    expect(failure('"a".matches(event.p)', { p: 'a'.repeat(MAX_PATTERN_LENGTH + 1) })).toContain(`longer than ${MAX_PATTERN_LENGTH} characters`);
    expect(evaluate('"a".matches(event.p)', { p: 'a?'.repeat(MAX_PATTERN_LENGTH / 2) })).toBe(true);
  });
});

describe('every evaluation has a budget', () => {
  it('stops eight nested maps (10^8 elements) at the time limit, with a clear message', () => {
    const started = performance.now();
    const message = failure(nestedMaps(8));
    expect(message).toContain(`it ran longer than ${EXPRESSION_TIME_LIMIT_MS} ms, the time limit of one expression`);
    expect(message).toMatch(/^expression `\[0, 1, 2/);
    // A kill bound, not a benchmark: the unbounded evaluation takes minutes and gigabytes.
    expect(performance.now() - started).toBeLessThan(EXPRESSION_TIME_LIMIT_MS * 10);
  });

  it('refuses a result with more list elements than the limit', () => {
    // 100 × 100 × 101 = 1,010,000 ints, built well within the time limit.
    expect(failure(`${list(100)}.map(a, ${list(100)}.map(b, ${list(101)}))`)).toContain(`more than ${MAX_RESULT_ELEMENTS} list elements and map entries`);
  });

  it('refuses a result with more text than the limit', () => {
    // cel.bind doubles without any loop: 10 × 10^7 characters.
    let source = 'x7';
    for (let i = 6; i >= 0; i--) source = `cel.bind(x${i + 1}, ${Array.from({ length: 10 }, () => `x${i}`).join(' + ')}, ${source})`;
    source = `cel.bind(x0, "aaaaaaaaaa", ${source})`;
    expect(failure(source)).toContain(`more than ${MAX_RESULT_CHARS} characters of text`);
  });

  it('keeps working, with the same expression, after a budget failure', () => {
    const source = 'event.items.map(a, event.items.map(b, event.items.map(c, a + b + c))).size()';
    expect(failure(source, { items: Array.from({ length: 2000 }, (_, i) => i) })).toContain('time limit');
    expect(evaluate(source, { items: [1, 2] })).toBe(2);
  });

  it('guards only expressions whose cost can be more than linear', () => {
    const guarded = (source: string) => needsGuard(environmentFor(scope).parse(source).ast);
    expect(guarded('event.items.map(x, x * 2)')).toBe(true);
    expect(guarded('event.items.filter(x, x > 1).size() > 0')).toBe(true);
    expect(guarded('event.items.exists(x, x == 1) || event.items.all(x, x > 0)')).toBe(true);
    expect(guarded('cel.bind(a, event.s, a + a)')).toBe(true);
    expect(guarded('duration(event.d)')).toBe(true);
    expect(guarded('event.a + 1 > 2 && event.s.matches("^a") ? "x" : event.s')).toBe(false);
    expect(guarded('size(event.items) + event.m["k"]')).toBe(false);
  });
});

describe('any key is data', () => {
  it('reads `constructor` and `__proto__` keys from an event', () => {
    const event = JSON.parse('{"constructor": {"prototype": {"x": 1}}, "__proto__": {"polluted": "yes"}, "toString": 3}') as unknown;
    expect(evaluate('event.constructor.prototype.x == 1', event)).toBe(true);
    expect(evaluate('event["__proto__"].polluted == "yes"', event)).toBe(true);
    expect(evaluate('event.toString + 1', event)).toBe(4);
    expect(evaluate('"constructor" in event && "__proto__" in event && size(event) == 3', event)).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads such keys through a typed event schema too', () => {
    const typed: Scope = { contexts: ['event'], loopVars: [], eventSchema: { constructor: 'map<string, dyn>', name: 'string' } };
    const event = toCel(JSON.parse('{"constructor": {"prototype": 7}, "name": "ann"}'));
    expect(evaluateExpression('event.constructor.prototype + 1', typed, { event })).toBe(8);
    expect(evaluateExpression('event.name', typed, { event })).toBe('ann');
  });

  it('round-trips them into outputs as own keys, never as prototypes', () => {
    const event = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}}') as unknown;
    const out = renderValue(JSON.parse('{"copy": "${{ event }}", "__proto__": "${{ event[\\"__proto__\\"] }}"}'), scope, { event: toCel(event), steps: {} }) as Record<string, unknown>;
    expect(JSON.stringify(out)).toBe('{"copy":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}},"__proto__":{"polluted":"yes"}}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(out.copy)).toBe(Object.prototype);
    expect((out as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps keys CEL map literals build, and compares maps whichever way they were built', () => {
    expect(evaluate('event == {"a": 1, "b": [true]}', { a: 1, b: [true] })).toBe(true);
    expect(evaluate('{"a": event.a}', { a: 1 })).toEqual({ a: 1 });
  });
});

describe('deep values fail clearly, never with a RangeError', () => {
  const deep = nested(5000);
  it('toCel, fromCel and renderValue refuse a value deeper than the limit', () => {
    expect(() => toCel(deep)).toThrow(ValueTooDeep);
    expect(() => fromCel(deep)).toThrow(ValueTooDeep);
    expect(() => renderValue(deep, scope, {})).toThrow(ValueTooDeep);
    expect(() => toCel(nested(MAX_VALUE_DEPTH + 1))).toThrow(`nested deeper than ${MAX_VALUE_DEPTH} levels`);
  });

  it('convert a value at the limit', () => {
    const value = nested(MAX_VALUE_DEPTH - 1);
    expect(fromCel(toCel(value))).toEqual(value);
    expect(renderValue(value, scope, {})).toEqual(value);
  });

  it('an expression that reads a deep step output fails with an ExpressionError', () => {
    const steps = { s: { get output() { return toCel(deep); } } };
    expect(() => evaluateExpression('steps.s.output.next', scope, { event: toCel({}), steps })).toThrow(/expression `steps\.s\.output\.next` failed: a value is nested deeper than 256 levels/);
  });
});

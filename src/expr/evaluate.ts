/**
 * Evaluating templates at run time. A string that is exactly one `${{ … }}` keeps the
 * expression's type; any other string is interpolated. Values cross into CEL with whole JSON
 * numbers as CEL ints (so `event.count + 1` works) and objects as Maps (so every key, even
 * `__proto__` or `constructor`, is data), and come back as plain JSON: ints and doubles as
 * numbers, timestamps as ISO strings, bytes as base64. Expressions that can loop run within the
 * limits of budget.ts; values nested deeper than MAX_VALUE_DEPTH are refused, not overflowed.
 */
import { setData } from '../limits/json.js';
import { BudgetExceeded, needsGuard, runGuarded, SizeMeter } from './budget.js';
import { parseExpression, type Scope } from './cel.js';
import { hasExpression, parseTemplate, quoteSource, type Template } from './template.js';

/**
 * How deeply nested a value may be to cross into or out of CEL. The conversions recurse, and
 * data from outside (an event, a response) can be nested thousands of levels deep.
 */
export const MAX_VALUE_DEPTH = 256;

/** A value nested deeper than MAX_VALUE_DEPTH. */
export class ValueTooDeep extends Error {
  override readonly name = 'ValueTooDeep';
  constructor() {
    super(`a value is nested deeper than ${MAX_VALUE_DEPTH} levels, the limit for data that expressions read`);
  }
}

/** An expression failed while evaluating: which one and why. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(readonly expression: string, readonly reason: string) {
    super(`expression ${quoteSource(expression)} failed: ${reason}`);
  }
}

/** The values expressions read, already converted to CEL's view (see toCel). */
export type CelContext = Record<string, unknown>;

/** A compiled expression: guarded ones run under the time and size limits of budget.ts. */
interface Compiled {
  readonly guarded: boolean;
  readonly run: (context: CelContext) => unknown;
}

const compiled = new Map<string, Compiled>();
const templates = new Map<string, Template>();

function compile(source: string, scope: Scope): Compiled {
  const key = `${scope.contexts.join(',')}|${scope.loopVars.join(',')}|${source}`;
  let fn = compiled.get(key);
  if (!fn) {
    // Parsed once; type errors need no separate check here, they surface on evaluation.
    const result = parseExpression(source, scope);
    if (result.ok) {
      const parsed = result.parsed;
      fn = needsGuard(parsed.ast) ? { guarded: true, run: (context) => runGuarded(() => parsed(context)) } : { guarded: false, run: (context) => parsed(context) };
    } else {
      const reason = result.problem.message;
      fn = {
        guarded: false,
        run: () => {
          throw new ExpressionError(source, reason);
        },
      };
    }
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(key, fn);
  }
  return fn;
}

function templateOf(text: string): Template {
  let t = templates.get(text);
  if (!t) {
    t = parseTemplate(text);
    if (templates.size > 10_000) templates.clear();
    templates.set(text, t);
  }
  return t;
}

/** Evaluates one expression source in a context; the result is plain JSON. */
export function evaluateExpression(source: string, scope: Scope, context: CelContext): unknown {
  try {
    const fn = compile(source, scope);
    return toPlain(fn.run(context), 0, fn.guarded ? new SizeMeter() : undefined);
  } catch (error) {
    if (error instanceof ExpressionError) throw error;
    if (error instanceof BudgetExceeded) throw new ExpressionError(source, error.message);
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error);
    throw new ExpressionError(source, lowerFirst(message.replace(/\.$/, '')));
  }
}

/** Renders a string: a whole expression keeps its type, otherwise parts are interpolated. */
export function renderString(text: string, scope: Scope, context: CelContext): unknown {
  if (!hasExpression(text)) return text;
  const t = templateOf(text);
  if (t.error) throw new ExpressionError(text, t.error.message);
  if (t.whole) {
    const part = t.parts.find((p) => p.kind === 'expr');
    if (part?.kind === 'expr') return evaluateExpression(part.source, scope, context);
  }
  let out = '';
  for (const p of t.parts) out += p.kind === 'text' ? p.text : stringify(evaluateExpression(p.source, scope, context));
  return out;
}

/** Renders every string inside a value (objects and lists are walked; keys are kept). */
export function renderValue(value: unknown, scope: Scope, context: CelContext): unknown {
  return render(value, scope, context, 0);
}

function render(value: unknown, scope: Scope, context: CelContext, depth: number): unknown {
  if (typeof value === 'string') return renderString(value, scope, context);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_VALUE_DEPTH) throw new ValueTooDeep();
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = render(value[i], scope, context, depth + 1);
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) setData(out, k, render((value as Record<string, unknown>)[k], scope, context, depth + 1));
  return out;
}

/** Evaluates a condition: true/false literals, or an expression that must give a bool. */
export function evaluateCondition(condition: unknown, scope: Scope, context: CelContext): boolean {
  if (typeof condition === 'boolean') return condition;
  const value = renderString(String(condition), scope, context);
  if (typeof value !== 'boolean') {
    throw new ExpressionError(String(condition).replace(/^\s*\$\{\{\s*|\s*\}\}\s*$/g, ''), `a condition must give true or false, not ${describe(value)}`);
  }
  return value;
}

/**
 * Converts JSON into CEL's view: whole numbers become ints (bigint), other numbers stay doubles,
 * and objects become Maps. cel-js reads a plain object's `constructor` to type it, so data with a
 * `constructor` key would not be a map to it, and a `__proto__` key copied by assignment sets a
 * prototype instead of a key: in a Map, every key is only data.
 */
export function toCel(value: unknown): unknown {
  return celOf(value, 0);
}

function celOf(value: unknown, depth: number): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    if (depth >= MAX_VALUE_DEPTH) throw new ValueTooDeep();
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = celOf(value[i], depth + 1);
    return out;
  }
  if (isPlainObject(value)) {
    if (depth >= MAX_VALUE_DEPTH) throw new ValueTooDeep();
    const out = new Map<string, unknown>();
    for (const k of Object.keys(value)) out.set(k, celOf(value[k], depth + 1));
    return out;
  }
  return value;
}

/** Converts a CEL result back to plain JSON (objects whose keys are all data, whatever they are). */
export function fromCel(value: unknown): unknown {
  return toPlain(value, 0, undefined);
}

function toPlain(value: unknown, depth: number, meter: SizeMeter | undefined): unknown {
  if (typeof value === 'string') {
    meter?.addText(value);
    return value;
  }
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (value === undefined) return null;
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (depth >= MAX_VALUE_DEPTH) throw new ValueTooDeep();
  if (Array.isArray(value)) {
    meter?.addElements(value.length);
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = toPlain(value[i], depth + 1, meter);
    return out;
  }
  const out: Record<string, unknown> = {};
  if (value instanceof Map) {
    meter?.addElements(value.size);
    for (const [k, v] of value) {
      const key = String(k);
      meter?.addText(key);
      setData(out, key, toPlain(v, depth + 1, meter));
    }
    return out;
  }
  const keys = Object.keys(value);
  meter?.addElements(keys.length);
  for (const k of keys) {
    meter?.addText(k);
    setData(out, k, toPlain((value as Record<string, unknown>)[k], depth + 1, meter));
  }
  return out;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** How a value reads when interpolated into a string. */
export function stringify(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return `${typeof value} \`${String(value)}\``;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

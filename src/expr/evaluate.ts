/**
 * Evaluating templates at run time. A string that is exactly one `${{ … }}` keeps the
 * expression's type; any other string is interpolated. Values cross into CEL with whole JSON
 * numbers as CEL ints (so `event.count + 1` works) and come back as plain JSON: ints and
 * doubles as numbers, timestamps as ISO strings, bytes as base64.
 */
import { parseExpression, type Scope } from './cel.js';
import { hasExpression, parseTemplate, quoteSource, type Template } from './template.js';

/** An expression failed while evaluating: which one and why. */
export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(readonly expression: string, readonly reason: string) {
    super(`expression ${quoteSource(expression)} failed: ${reason}`);
  }
}

/** The values expressions read, already converted to CEL's view (see toCel). */
export type CelContext = Record<string, unknown>;

type Compiled = (context: CelContext) => unknown;

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
      fn = (context) => parsed(context);
    } else {
      const reason = result.problem.message;
      fn = () => {
        throw new ExpressionError(source, reason);
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
    return fromCel(compile(source, scope)(context));
  } catch (error) {
    if (error instanceof ExpressionError) throw error;
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
  if (typeof value === 'string') return renderString(value, scope, context);
  if (Array.isArray(value)) return value.map((v) => renderValue(v, scope, context));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderValue(v, scope, context);
    return out;
  }
  return value;
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

/** Converts JSON into CEL's view: whole numbers become ints (bigint), other numbers stay doubles. */
export function toCel(value: unknown): unknown {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCel);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toCel(v);
    return out;
  }
  return value;
}

/** Converts a CEL result back to plain JSON. */
export function fromCel(value: unknown): unknown {
  if (typeof value === 'bigint') {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : value.toString();
  }
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(fromCel);
  if (value instanceof Map) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value) out[String(k)] = fromCel(v);
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = fromCel(v);
    return out;
  }
  return value;
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

/**
 * `matches` with RE2 syntax and semantics, as CEL specifies: linear time in the input whatever
 * the pattern, so attacker-controlled text cannot stall a run (cel-js itself uses `RegExp`, which
 * backtracks: `(a+)+$` against thirty `a`s and a `!` takes minutes).
 */
import { createRequire } from 'node:module';
import type { Environment } from '@marcbachmann/cel-js';
import type * as Re2js from 're2js';

type RE2JS = Re2js.RE2JS;

// re2js takes ~100 ms to load, and most runs and lint passes never use `matches`: it is loaded
// (synchronously, from its CommonJS build) the first time a pattern is compiled.
let re2js: typeof Re2js | undefined;
function loadRe2js(): typeof Re2js {
  re2js ??= createRequire(import.meta.url)('re2js') as typeof Re2js;
  return re2js;
}

/** Longest pattern `matches` compiles; compiling is linear in the pattern, but not free. */
export const MAX_PATTERN_LENGTH = 2048;

/** How many compiled patterns are kept; patterns usually come from workflows, a few per file. */
const MAX_CACHED_PATTERNS = 500;

type Compiled = { readonly ok: true; readonly re: RE2JS } | { readonly ok: false; readonly message: string };

const cache = new Map<string, Compiled>();

/** Compiles a pattern once; an invalid one gives a message naming it. */
export function compilePattern(pattern: string): Compiled {
  let compiled = cache.get(pattern);
  if (!compiled) {
    compiled = compileUncached(pattern);
    // Patterns can come from data (`text.matches(event.pattern)`): the cache must not grow with it.
    if (cache.size >= MAX_CACHED_PATTERNS) cache.delete(cache.keys().next().value as string);
    cache.set(pattern, compiled);
  }
  return compiled;
}

/** Why a pattern is not a valid RE2 pattern, or undefined when it is. */
export function patternProblem(pattern: string): string | undefined {
  const compiled = compilePattern(pattern);
  return compiled.ok ? undefined : compiled.message;
}

function compileUncached(pattern: string): Compiled {
  const quoted = quotePattern(pattern);
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return { ok: false, message: `regular expression ${quoted} is longer than ${MAX_PATTERN_LENGTH} characters` };
  }
  const { RE2JS, RE2JSException } = loadRe2js();
  try {
    return { ok: true, re: RE2JS.compile(pattern) };
  } catch (error) {
    const why = error instanceof RE2JSException ? describe(error) : String(error);
    return { ok: false, message: `invalid regular expression ${quoted}: ${why} (patterns use RE2 syntax: no backreferences or lookaround)` };
  }
}

function describe(error: Re2js.RE2JSException): string {
  // re2js's message names the offending part: "error parsing regexp: invalid escape sequence: `\1`".
  return error.message.replace(/^error parsing regexp: /, '');
}

function quotePattern(pattern: string): string {
  return `\`${pattern.length > 60 ? `${pattern.slice(0, 59)}…` : pattern}\``;
}

/** The parts of cel-js's checker and evaluator a macro uses (its documented custom-macro API). */
interface CelType {
  readonly name: string;
  readonly kind: string;
}
interface Checker {
  check(node: unknown, ctx: unknown): CelType;
  getType(name: string): CelType;
  createError(code: string, message: string, node: unknown): Error;
}
interface Evaluator {
  run(node: unknown, ctx: unknown): unknown;
  createError(code: string, message: string, node: unknown): Error;
}
interface MatchesMacro {
  readonly ast: unknown;
  readonly target: unknown;
  readonly pattern: { readonly op?: string; readonly args?: unknown };
}

/**
 * Makes every `x.matches(p)` in the environment use RE2. cel-js will not let a function replace
 * its built-in `string.matches`, but it resolves macros by name and arity at parse time, before
 * overloads: a macro declared on a receiver type no value has (`list`, which the built-in does
 * not overlap) takes over every `.matches(…)` call, and type-checks it as `string.matches(string)`.
 */
export function registerMatches(env: Environment): void {
  env.registerFunction('list.matches(ast): bool', ({ ast, args, receiver }: { ast: unknown; args: unknown[]; receiver: unknown }) => ({
    ast,
    target: receiver,
    pattern: args[0],
    async: false,
    typeCheck(checker: Checker, macro: MatchesMacro, ctx: unknown): CelType {
      const target = checker.check(macro.target, ctx);
      const pattern = checker.check(macro.pattern, ctx);
      if (!isStringLike(target) || !isStringLike(pattern)) {
        throw checker.createError('no_matching_overload', `found no matching overload for '${target.name}.matches(${pattern.name})'`, macro.ast);
      }
      // A literal pattern is checked here, so lint reports it before any run.
      if (macro.pattern.op === 'value' && typeof macro.pattern.args === 'string') {
        const problem = patternProblem(macro.pattern.args);
        if (problem) throw checker.createError('invalid_regular_expression', problem, macro.pattern);
      }
      return checker.getType('bool');
    },
    evaluate(ev: Evaluator, macro: MatchesMacro, ctx: unknown): boolean {
      const text = ev.run(macro.target, ctx);
      const pattern = ev.run(macro.pattern, ctx);
      if (typeof text !== 'string' || typeof pattern !== 'string') {
        throw ev.createError('no_matching_overload', `found no matching overload for '${typeName(text)}.matches(${typeName(pattern)})'`, macro.ast);
      }
      const compiled = compilePattern(pattern);
      if (!compiled.ok) throw ev.createError('invalid_regular_expression', compiled.message, macro.pattern);
      // CEL's matches is a search (RE2 PartialMatch), not a whole-string match.
      return compiled.re.test(text);
    },
  }));
}

function isStringLike(type: CelType): boolean {
  return type.name === 'string' || type.kind === 'dyn';
}

function typeName(value: unknown): string {
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'number') return 'double';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'map' : typeof value;
}

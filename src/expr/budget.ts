/**
 * The bounds of one expression evaluation. CEL has no loops of its own, but its macros do:
 * `map`, `filter`, `all`, `exists` and `exists_one` iterate, and nesting them multiplies (eight
 * nested `map`s over ten items build 10^8 elements); `cel.bind` lets a value be doubled again and
 * again; cel-js's `duration()` parses with a backtracking pattern, cubic in its input. An
 * expression that uses any of these runs under a wall-clock limit that V8 enforces, and its
 * result is held to a size limit. Every other expression costs time linear in its size and its
 * input, and stays on the fast path.
 */
import { Script } from 'node:vm';

/** Wall-clock time one evaluation of a looping expression may take. */
export const EXPRESSION_TIME_LIMIT_MS = 1000;

/** List elements and map entries, counted through every level, in the result of a looping expression. */
export const MAX_RESULT_ELEMENTS = 1_000_000;

/** Characters of text (strings and map keys, in UTF-16 code units) in the result of a looping expression. */
export const MAX_RESULT_CHARS = 10 * 1024 * 1024;

/** The functions and macros that make an expression's cost more than linear in its size and input. */
const COSTLY = new Set(['map', 'filter', 'all', 'exists', 'exists_one', 'bind', 'duration']);

interface Node {
  readonly op?: unknown;
  readonly args?: unknown;
}

/** True when a parsed expression calls anything in COSTLY, and so must run guarded. */
export function needsGuard(ast: unknown): boolean {
  if (Array.isArray(ast)) return ast.some(needsGuard);
  if (ast === null || typeof ast !== 'object') return false;
  const node = ast as Node;
  if (typeof node.op !== 'string') return false;
  const args = node.args;
  if ((node.op === 'call' || node.op === 'rcall') && Array.isArray(args) && COSTLY.has(args[0] as string)) return true;
  return typeof args === 'object' && args !== null && needsGuard(args);
}

/** The evaluation ran past EXPRESSION_TIME_LIMIT_MS, or its result is too large. */
export class BudgetExceeded extends Error {}

const GUARDED = Symbol.for('flux.expr.guarded');
// The one way to bound synchronous JavaScript: V8 stops a vm script at its timeout, and also
// any function the script calls (here, cel-js evaluating in this context). The function to run
// is handed over through a global symbol, set only for the call.
const guardScript = new Script('globalThis[Symbol.for("flux.expr.guarded")]()', { filename: 'flux-expression-guard' });

/** Runs fn, stopping it with BudgetExceeded when it takes longer than EXPRESSION_TIME_LIMIT_MS. */
export function runGuarded<T>(fn: () => T): T {
  const g = globalThis as unknown as Record<symbol, unknown>;
  g[GUARDED] = fn;
  try {
    return guardScript.runInThisContext({ timeout: EXPRESSION_TIME_LIMIT_MS }) as T;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      throw new BudgetExceeded(`it ran longer than ${EXPRESSION_TIME_LIMIT_MS} ms, the time limit of one expression`);
    }
    throw error;
  } finally {
    delete g[GUARDED];
  }
}

/** Counts a result's size as it is converted; throws BudgetExceeded past the limits. */
export class SizeMeter {
  private elements = 0;
  private chars = 0;

  /** Adds n list elements or map entries. */
  addElements(n: number): void {
    this.elements += n;
    if (this.elements > MAX_RESULT_ELEMENTS) {
      throw new BudgetExceeded(`its result holds more than ${MAX_RESULT_ELEMENTS} list elements and map entries, the limit for one expression`);
    }
  }

  /** Adds the characters of one string. */
  addText(text: string): void {
    this.chars += text.length;
    if (this.chars > MAX_RESULT_CHARS) {
      throw new BudgetExceeded(`its result holds more than ${MAX_RESULT_CHARS} characters of text, the limit for one expression`);
    }
  }
}

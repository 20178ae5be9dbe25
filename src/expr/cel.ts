/**
 * CEL (the Common Expression Language) for flux: the environments expressions are checked and
 * evaluated in, and the walk that finds which steps and secrets an expression refers to.
 * CEL is safe by design: no eval, no Function, nothing that reaches Node.
 */
import { Environment } from '@marcbachmann/cel-js';
import { registerListFunctions } from './list-functions.js';
import { registerMatches } from './regex.js';

/** The context names an expression may use; which are visible depends on where it stands. */
export type ContextName = 'event' | 'steps' | 'secrets' | 'env' | 'run' | 'workflow' | 'error' | 'response' | 'index' | 'approval' | 'poll' | 'items' | 'escalation';

export interface Scope {
  readonly contexts: readonly ContextName[];
  /** Loop variables (the `as` of each enclosing foreach, default `item`). */
  readonly loopVars: readonly string[];
  /** CEL field types of `event`, derived from the workflow's `inputs` schema, when it has one. */
  readonly eventSchema?: CelSchema;
}

/** A CEL schema as cel-js takes it: field name to type name or nested schema. */
export type CelSchema = { readonly [field: string]: string | CelSchema };

const CONTEXT_TYPES: Readonly<Record<ContextName, string | CelSchema>> = {
  event: 'map<string, dyn>',
  steps: 'map<string, dyn>',
  secrets: 'map<string, string>',
  env: 'map<string, dyn>',
  run: { id: 'string', started_at: 'string', trigger: 'string', attempt: 'int' },
  workflow: { name: 'string', owner: 'string', version: 'string' },
  error: { message: 'string', step: 'string' },
  response: 'dyn',
  index: 'int',
  approval: { url: 'string', links: 'map<string, string>', title: 'string', details: 'string', choices: 'list<string>', approvers: 'list<string>', expires_at: 'string' },
  // A poll trigger's own expressions: the cursor kept from the poll before, and the items found.
  poll: { cursor: 'dyn' },
  items: 'list<dyn>',
  /** In `on_error.escalate`: its acknowledgement link (empty without one), `ack_within` and deadline. */
  escalation: { ack_url: 'string', ack_within: 'string', due_at: 'string' },
};

/** Every context name, for messages that list what is available. */
export const ALL_CONTEXTS = Object.keys(CONTEXT_TYPES) as ContextName[];

const environments = new Map<string, Environment>();

/** The (cached) CEL environment for a scope. Creating one is cheap but not free. */
export function environmentFor(scope: Scope): Environment {
  const key = scopeKey(scope);
  let env = environments.get(key);
  if (!env) {
    env = new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true, limits: { maxAstNodes: 5000, maxDepth: 100 } });
    registerMatches(env);
    registerListFunctions(env);
    for (const name of scope.contexts) {
      const type = name === 'event' && scope.eventSchema ? scope.eventSchema : CONTEXT_TYPES[name];
      if (typeof type === 'string') env.registerVariable(name, type);
      else env.registerVariable({ name, schema: type });
    }
    for (const loopVar of scope.loopVars) if (!env.hasVariable(loopVar)) env.registerVariable(loopVar, 'dyn');
    if (environments.size > 500) environments.clear();
    environments.set(key, env);
  }
  return env;
}

const scopeKeys = new WeakMap<Scope, string>();

function scopeKey(scope: Scope): string {
  let key = scopeKeys.get(scope);
  if (key === undefined) {
    key = JSON.stringify([scope.contexts, scope.loopVars, scope.eventSchema ?? null]);
    scopeKeys.set(scope, key);
  }
  return key;
}

/** A CEL problem located inside the expression source. */
export interface CelProblem {
  readonly kind: 'syntax' | 'type' | 'unknown-variable';
  readonly message: string;
  readonly start: number;
  readonly end: number;
  readonly name?: string;
}

/** A reference to `steps.<id>` or `secrets.<NAME>` inside an expression. */
export interface ContextReference {
  readonly context: 'steps' | 'secrets';
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

export interface CheckedExpression {
  readonly problem?: CelProblem;
  /** The CEL type of the result, when it type-checked. */
  readonly type?: string;
  readonly references: readonly ContextReference[];
}

interface AstNode {
  readonly op: string;
  readonly args: unknown;
  readonly pos?: number;
  readonly start?: number;
  readonly end?: number;
}

interface CelError {
  readonly code?: string;
  readonly range?: { start: number; end: number };
  readonly summary?: string;
  readonly message?: string;
}

/** Parses and type-checks an expression in a scope and lists the steps and secrets it names. */
export function checkExpression(source: string, scope: Scope): CheckedExpression {
  const key = `${scopeKey(scope)}\u0000${source}`;
  let checked = checkedCache.get(key);
  if (!checked) {
    checked = checkUncached(source, scope);
    if (checkedCache.size > 20_000) checkedCache.clear();
    checkedCache.set(key, checked);
  }
  return checked;
}

// The same expressions recur across a repository (`${{ secrets.TOKEN }}`, `${{ event.id }}`);
// their result depends only on the scope and the source, so each is checked once.
const checkedCache = new Map<string, CheckedExpression>();

/** A parsed expression ready to evaluate, or its syntax problem. */
export type ParsedExpression =
  | { readonly ok: true; readonly parsed: ReturnType<Environment['parse']> }
  | { readonly ok: false; readonly problem: CelProblem };

/** Parses an expression in a scope; syntax errors come back as a located problem. */
export function parseExpression(source: string, scope: Scope): ParsedExpression {
  try {
    return { ok: true, parsed: environmentFor(scope).parse(source) };
  } catch (error) {
    return { ok: false, problem: toProblem('syntax', error, source) };
  }
}

function checkUncached(source: string, scope: Scope): CheckedExpression {
  const parsing = parseExpression(source, scope);
  if (!parsing.ok) return { problem: parsing.problem, references: [] };
  const parsed = parsing.parsed;
  const references: ContextReference[] = [];
  collectReferences(parsed.ast as unknown as AstNode, references);
  const result = parsed.check();
  if (!result.valid) {
    const error = result.error as CelError;
    const kind = error.code === 'unknown_variable' ? 'unknown-variable' : 'type';
    const problem = toProblem(kind, error, source);
    if (kind === 'unknown-variable') {
      const name = source.slice(problem.start, problem.end);
      return { problem: { ...problem, name }, references };
    }
    return { problem, references };
  }
  return { type: String(result.type), references };
}

function toProblem(kind: CelProblem['kind'], error: unknown, source: string): CelProblem {
  const e = error as CelError;
  const raw = e.summary ?? (e.message ?? String(error)).split('\n')[0] ?? '';
  const start = Math.min(e.range?.start ?? 0, source.length);
  const end = Math.max(start, Math.min(e.range?.end ?? start, source.length));
  return { kind, message: humanize(raw), start, end };
}

function humanize(message: string): string {
  const m = message.replace(/\.$/, '');
  const token = /^Unexpected token: (\w+)/.exec(m);
  if (token) return token[1] === 'EOF' ? 'expression ends too early' : `unexpected ${token[1]!.toLowerCase().replace(/_/g, ' ')}`;
  return m.charAt(0).toLowerCase() + m.slice(1);
}

function collectReferences(node: unknown, out: ContextReference[]): void {
  if (node === null || typeof node !== 'object') return;
  if (Array.isArray(node)) {
    for (const child of node) collectReferences(child, out);
    return;
  }
  const n = node as AstNode;
  if (typeof n.op !== 'string') return;
  const args = n.args;
  if ((n.op === '.' || n.op === '.?') && Array.isArray(args)) {
    const [target, field] = args as [AstNode, unknown];
    if (isContext(target) && typeof field === 'string' && n.pos !== undefined) {
      out.push({ context: target.args as 'steps' | 'secrets', name: field, start: n.pos, end: n.pos + field.length });
      return;
    }
  }
  if ((n.op === '[]' || n.op === '[?]') && Array.isArray(args)) {
    const [target, index] = args as [AstNode, AstNode];
    if (isContext(target) && index?.op === 'value' && typeof index.args === 'string') {
      out.push({ context: target.args as 'steps' | 'secrets', name: index.args, start: index.start ?? 0, end: index.end ?? 0 });
      return;
    }
  }
  if (Array.isArray(args)) for (const child of args) collectReferences(child, out);
  else collectReferences(args, out);
}

function isContext(node: AstNode | undefined): node is AstNode {
  return node?.op === 'id' && (node.args === 'steps' || node.args === 'secrets');
}

/** Maps a JSON Schema (a workflow's `inputs`) to a CEL schema, when its shape is simple enough to type. */
export function celSchemaFromJsonSchema(schema: unknown): CelSchema | undefined {
  if (!isRecord(schema) || schema.type !== 'object' || !isRecord(schema.properties)) return undefined;
  if (schema.additionalProperties !== false) return undefined;
  const out: Record<string, string | CelSchema> = {};
  for (const [key, prop] of Object.entries(schema.properties)) out[key] = celTypeOf(prop);
  return out;
}

function celTypeOf(prop: unknown): string | CelSchema {
  if (!isRecord(prop)) return 'dyn';
  switch (prop.type) {
    case 'string': return 'string';
    case 'boolean': return 'bool';
    case 'integer': return 'int';
    case 'array': return 'list';
    case 'object': return celSchemaFromJsonSchema(prop) ?? 'map<string, dyn>';
    default: return 'dyn';
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

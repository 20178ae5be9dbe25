/**
 * One walk over a parsed workflow that every rule reads from: the steps with their nesting,
 * and every `${{ ... }}` expression with its scope, its check result and its position.
 * Rules never compute positions themselves.
 */
import { isScalar } from 'yaml';
import { connectorOf } from '../connectors/connection.js';
import { checkExpression, celSchemaFromJsonSchema, type CheckedExpression, type ContextName, type Scope } from '../expr/cel.js';
import { hasExpression, parseTemplate, type ExpressionPart } from '../expr/template.js';
import { asRecord, triggerOf, walkSteps, type StepInfo } from '../workflow/model.js';
import type { Path, SourceFile } from '../workflow/source.js';
import type { Position } from './diagnostic.js';

export interface ExpressionSite {
  readonly path: Path;
  readonly source: string;
  readonly scope: Scope;
  /** The step whose field holds the expression, if any. */
  readonly step: StepInfo | undefined;
  /** True when the field is a condition (`if`, `match`): it must give a bool. */
  readonly condition: boolean;
  /** True when the expression is the whole string, so its type is kept. */
  readonly whole: boolean;
  readonly checked: CheckedExpression;
  /** Position of a span inside the expression source. */
  at(start: number, end: number): Position;
}

export interface TemplateProblem {
  readonly path: Path;
  readonly message: string;
  readonly at: Position;
}

export interface Analysis {
  readonly source: SourceFile;
  readonly workflow: Readonly<Record<string, unknown>>;
  readonly steps: readonly StepInfo[];
  readonly stepsById: ReadonlyMap<string, readonly StepInfo[]>;
  readonly expressions: readonly ExpressionSite[];
  /** Unterminated `${{` and plain strings where a condition is required. */
  readonly templateProblems: readonly TemplateProblem[];
  readonly connections: Readonly<Record<string, { type?: string }>>;
  readonly secrets: ReadonlySet<string>;
}

const BASE: readonly ContextName[] = ['event', 'steps', 'secrets', 'env', 'run', 'workflow'];
/** Top-level keys whose strings are documentation or data, not templates. */
const NOT_TEMPLATED = new Set(['name', 'description', 'owner', 'labels', 'baseline', 'inputs', 'secrets', 'groups', '$schema']);
const CONDITION_KEYS = new Set(['if', 'match']);

/** Builds the analysis of one parsed workflow file. */
export function analyze(source: SourceFile): Analysis {
  const workflow = source.value;
  const steps = walkSteps(workflow);
  const stepsById = new Map<string, StepInfo[]>();
  for (const s of steps) if (s.id !== undefined) stepsById.set(s.id, [...(stepsById.get(s.id) ?? []), s]);
  const byPath = new Map(steps.map((s) => [s.path.join('\u0000'), s]));
  const eventSchema = celSchemaFromJsonSchema(workflow.inputs);
  const trigger = triggerOf(workflow);

  const expressions: ExpressionSite[] = [];
  const templateProblems: TemplateProblem[] = [];

  const visit = (value: unknown, path: Path, step: StepInfo | undefined) => {
    if (typeof value === 'string') {
      const condition = CONDITION_KEYS.has(String(path[path.length - 1])) && !path.includes('with');
      visitString(value, path, step, condition);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((v, i) => visitChild(v, [...path, i], step));
      return;
    }
    const rec = asRecord(value);
    if (rec) for (const [k, v] of Object.entries(rec)) visitChild(v, [...path, k], step);
  };
  const visitChild = (value: unknown, path: Path, step: StepInfo | undefined) => {
    const nested = byPath.get(path.join('\u0000'));
    visit(value, path, nested ?? step);
  };

  const visitString = (text: string, path: Path, step: StepInfo | undefined, condition: boolean) => {
    if (!hasExpression(text)) {
      if (condition) {
        templateProblems.push({ path, at: source.locate(path), message: `condition \`${text}\` is not an expression; write \`\${{ ... }}\` or true/false` });
      }
      return;
    }
    const template = parseTemplate(text);
    const locator = makeLocator(source, path);
    if (template.error) {
      templateProblems.push({ path, at: locator(template.error.offset, template.error.offset + 3), message: template.error.message });
      return;
    }
    const scope = scopeFor(path, step, trigger?.kind, eventSchema);
    for (const part of template.parts) {
      if (part.kind !== 'expr') continue;
      const checked = checkExpression(part.source, scope);
      expressions.push({
        path, source: part.source, scope, step, condition, whole: template.whole, checked,
        at: (start, end) => locator(part.offset + start, part.offset + end, part),
      });
    }
  };

  for (const [key, value] of Object.entries(workflow)) {
    if (NOT_TEMPLATED.has(key)) continue;
    visitChild(value, [key], undefined);
  }

  const connections: Record<string, { type?: string }> = {};
  for (const [name, c] of Object.entries(asRecord(workflow.connections) ?? {})) {
    const type = connectorOf(c);
    connections[name] = type === undefined ? {} : { type };
  }
  const secrets = new Set(Array.isArray(workflow.secrets) ? workflow.secrets.filter((s): s is string => typeof s === 'string') : []);
  return { source, workflow, steps, stepsById, expressions, templateProblems, connections, secrets };
}

function scopeFor(path: Path, step: StepInfo | undefined, triggerKind: string | undefined, eventSchema: Scope['eventSchema']): Scope {
  const withSchema = (scope: Scope): Scope => (eventSchema && scope.contexts.includes('event') ? { ...scope, eventSchema } : scope);
  const top = path[0];
  if (top === 'trigger') {
    if (triggerKind === 'poll') return pollScope(path);
    return withSchema({ contexts: ['event', 'secrets', 'env', 'workflow'], loopVars: [] });
  }
  if (top === 'connections') return { contexts: ['secrets', 'env', 'run', 'workflow'], loopVars: [] };
  if (top === 'env') return { contexts: ['run', 'workflow'], loopVars: [] };
  const recovery = top === 'on_error';
  const contexts: ContextName[] = recovery ? [...BASE, 'error'] : [...BASE];
  if (recovery && path[1] === 'escalate') contexts.push('escalation');
  // The loop variables of the enclosing foreach steps: a foreach's own `items` do not see its
  // `as` variable, its nested steps do (they are steps of their own, with the longer list).
  let loopVars = step ? [...step.loopVars] : [];
  if (step) {
    // In `wait_for.match`, `item` is the incoming event.
    const rel = path.slice(step.path.length);
    if (step.kind === 'wait_for' && rel[0] === 'wait_for' && rel[1] === 'match') loopVars = [...loopVars, 'item'];
    // An approval's request and texts see the request itself: its link, title, choices.
    if (step.kind === 'approval' && rel[0] === 'approval' && ['to', 'title', 'details'].includes(String(rel[1]))) contexts.push('approval');
  }
  if (loopVars.length > 0) contexts.push('index');
  return withSchema({ contexts, loopVars });
}

/**
 * What a poll trigger's expressions see (triggers/poll.ts): `with` the cursor kept from the
 * poll before; `items`, `dedupe` and `paginate.next` the page (`response`); `dedupe` each
 * `item`; `cursor` the last page and every item found.
 */
function pollScope(path: Path): Scope {
  const field = path[2];
  const base: ContextName[] = ['poll', 'secrets', 'env', 'workflow'];
  if (field === 'items' || field === 'paginate') return { contexts: ['response', ...base], loopVars: [] };
  if (field === 'dedupe') return { contexts: ['response', ...base], loopVars: ['item'] };
  if (field === 'cursor') return { contexts: ['response', 'items', ...base], loopVars: [] };
  return { contexts: base, loopVars: [] };
}

/**
 * Maps an offset inside a scalar's value to a file position. Expressions are found verbatim in the
 * scalar's source text; when escapes make that impossible the scalar's own start is used.
 */
function makeLocator(source: SourceFile, path: Path) {
  const node = source.node(path);
  const range = node?.range;
  const raw = range ? source.text.slice(range[0], range[1]) : '';
  const cache = new Map<ExpressionPart, number>();
  let searchFrom = 0;
  return (start: number, end: number, part?: ExpressionPart): Position => {
    if (!range || !isScalar(node)) return source.locate(path);
    let base: number | undefined;
    if (part) {
      base = cache.get(part);
      if (base === undefined) {
        const found = raw.indexOf(part.source, searchFrom);
        if (found !== -1) {
          base = found;
          searchFrom = found + part.source.length;
          cache.set(part, base);
        }
      }
      if (base !== undefined) {
        const s = source.position(range[0] + base + (start - part.offset));
        const e = source.position(range[0] + base + (end - part.offset));
        return { ...s, endLine: e.line, endColumn: e.column };
      }
      return source.locate(path);
    }
    // Offsets in the value: exact when the value is written as-is (plain or block on one line).
    const quoted = raw.startsWith('"') || raw.startsWith("'") ? 1 : 0;
    const s = source.position(range[0] + quoted + start);
    const e = source.position(range[0] + quoted + end);
    return { ...s, endLine: e.line, endColumn: e.column };
  };
}

/**
 * Schema errors in words a person understands, at the position of the offending key or value.
 * Ajv reports every failing branch of a oneOf/anyOf; we find the branch the author meant
 * (the one whose type matches) and report only its errors, one problem per cause.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { closest } from '../connectors/index.js';
import { isValidWorkflow, workflowSchema } from '../workflow/schema.js';
import type { Path, SourceFile } from '../workflow/source.js';
import type { Diagnostic } from './diagnostic.js';

interface Problem {
  readonly path: Path;
  readonly key: boolean;
  readonly message: string;
}

type SchemaObject = Record<string, unknown>;

/** Validates a parsed workflow against the schema and returns located diagnostics (rule id `schema`). */
export function checkSchema(source: SourceFile): Diagnostic[] {
  if (isValidWorkflow(source.value)) return [];
  const { validate } = workflowSchema();
  validate(source.value);
  topValue = source.value;
  const problems = explain(validate.errors ?? [], source.value, []);
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const p of problems) {
    const at = source.locate(p.path, { key: p.key });
    const id = `${at.line}:${at.column}:${p.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ file: source.file, ...at, severity: 'error', ruleId: 'schema', message: p.message });
  }
  return out;
}

function explain(errors: readonly ErrorObject[], root: unknown, base: Path): Problem[] {
  // Combinators first, shallowest first: each claims every error at or under its instance path.
  const combinators = errors
    .filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf')
    .sort((a, b) => depth(a.instancePath) - depth(b.instancePath));
  const claimed = new Set<ErrorObject>();
  const problems: Problem[] = [];
  for (const c of combinators) {
    if (claimed.has(c)) continue;
    for (const e of errors) {
      if (e !== c && isUnder(e.instancePath, c.instancePath) && isBranchError(e, c)) claimed.add(e);
    }
    claimed.add(c);
    problems.push(...explainCombinator(c, root, base));
  }
  for (const e of errors) {
    // An `if` error only says a then/else branch failed; that branch's own errors say how.
    if (claimed.has(e) || e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if') continue;
    const p = explainOne(e, base);
    if (p) problems.push(p);
  }
  return problems;
}

/** An error belongs to a combinator's branch unless it comes from a sibling keyword of the same schema. */
function isBranchError(e: ErrorObject, c: ErrorObject): boolean {
  if (e.instancePath !== c.instancePath) {
    // Deeper errors come from a branch unless the combinator's schema has `properties` that cover them.
    const props = (c.parentSchema as SchemaObject | undefined)?.properties as SchemaObject | undefined;
    if (!props) return true;
    const next = decode(e.instancePath.slice(c.instancePath.length).split('/')[1] ?? '');
    const branches = c.schema as SchemaObject[];
    return !(next in props) || branches.some((b) => b.properties !== undefined && next in (b.properties as SchemaObject));
  }
  return e.parentSchema !== c.parentSchema || (c.schema as unknown[]).includes(e.parentSchema);
}

function explainCombinator(c: ErrorObject, root: unknown, base: Path): Problem[] {
  const path = [...base, ...toPath(c.instancePath)];
  const data = valueAt(root, toPath(c.instancePath));
  const branches = c.schema as SchemaObject[];
  const name = subject(path);
  const passing = (c.params as { passingSchemas?: number[] | null }).passingSchemas;
  if (Array.isArray(passing) && passing.length > 1) {
    const keys = passing.flatMap((i) => (branches[i]?.required as string[] | undefined) ?? []);
    if (keys.length === passing.length) {
      return [{ path, key: false, message: `${name} has more than one of ${list(keys)}; a step does exactly one thing, so split it into steps` }];
    }
    return [{ path, key: false, message: `${name} matches more than one form` }];
  }
  // Which branches did the author mean? Those whose errors are not a mismatch at this very value.
  const candidates: { index: number; errors: ErrorObject[] }[] = [];
  for (let i = 0; i < branches.length; i++) {
    const validate = branchValidator(c, i);
    if (validate(data)) return []; // cannot happen for a failed combinator; stay quiet rather than guess
    const errs = validate.errors ?? [];
    if (!errs.some((e) => isShallowMismatch(e, branches[i]!))) candidates.push({ index: i, errors: errs });
  }
  if (candidates.length === 1) {
    return explain(candidates[0]!.errors, data, path);
  }
  const requiredOnly = branches.every((b) => Object.keys(b).every((k) => k === 'required'));
  if (requiredOnly) {
    const keys = branches.flatMap((b) => (b.required as string[] | undefined) ?? []);
    return [{ path, key: true, message: `${name} needs one of ${list(keys)}` }];
  }
  const titles = branches.map((b, i) => (typeof b.title === 'string' ? b.title : describeType(b) ?? `form ${i + 1}`));
  return [{ path, key: false, message: `${name} must be ${titles.join(' or ')}${shown(data)}` }];
}

const branchValidators = new WeakMap<object, ValidateFunction>();

function branchValidator(c: ErrorObject, index: number): ValidateFunction {
  const branch = (c.schema as SchemaObject[])[index]!;
  let v = branchValidators.get(branch);
  if (!v) {
    const { ajv, schema } = workflowSchema();
    const pointer = pointerTo(schema, branch);
    v = ajv.getSchema(`${String(schema.$id)}#${pointer}`);
    if (!v) throw new Error(`schema branch not found at ${pointer}`);
    branchValidators.set(branch, v);
  }
  return v;
}

let pointers: Map<object, string> | undefined;

function pointerTo(schema: SchemaObject, target: object): string {
  if (!pointers) {
    pointers = new Map();
    const walk = (node: unknown, pointer: string) => {
      if (node === null || typeof node !== 'object') return;
      pointers!.set(node, pointer);
      for (const [k, v] of Object.entries(node)) walk(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    };
    walk(schema, '');
  }
  const p = pointers.get(target);
  if (p === undefined) throw new Error('schema branch is not part of the workflow schema');
  return p;
}

function isShallowMismatch(e: ErrorObject, branch: SchemaObject): boolean {
  if (e.instancePath !== '') return false;
  if (e.keyword === 'type' || e.keyword === 'const' || e.keyword === 'enum' || e.keyword === 'pattern') return true;
  return e.keyword === 'required' && Object.keys(branch).every((k) => k === 'required');
}

function explainOne(e: ErrorObject, base: Path): Problem | undefined {
  const path = [...base, ...toPath(e.instancePath)];
  const name = subject(path);
  const parent = e.parentSchema as SchemaObject | undefined;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys((parent?.properties as SchemaObject | undefined) ?? {});
      const guess = closest(key, allowed);
      const hint = guess !== undefined ? `; did you mean \`${guess}\`?` : allowed.length > 0 && allowed.length <= 12 ? `; expected one of ${list(allowed)}` : '';
      const where = path.length === 0 ? '' : ` in ${name}`;
      return { path: [...path, key], key: true, message: `unknown key \`${key}\`${where}${hint}` };
    }
    case 'required': {
      const missing = String(params.missingProperty);
      if (path.length === 0 && missing === 'owner') return undefined; // reported by the `owner` rule
      const what = path.length === 0 ? 'workflow' : name;
      const desc = ((parent?.properties as SchemaObject | undefined)?.[missing] as SchemaObject | undefined)?.description;
      return { path, key: true, message: `${what} is missing required key \`${missing}\`${hintFrom(desc)}` };
    }
    case 'type': {
      const expected = Array.isArray(params.type) ? (params.type as string[]).join(' or ') : String(params.type);
      return { path, key: false, message: `${name} must be ${article(expected)}, not ${kindOf(e.data)}` };
    }
    case 'enum':
    case 'const': {
      const allowed = (e.keyword === 'enum' ? (params.allowedValues as unknown[]) : [params.allowedValue]).map(String);
      const guess = typeof e.data === 'string' ? closest(e.data, allowed) : undefined;
      return { path, key: false, message: `${name} must be ${allowed.length === 1 ? `\`${allowed[0]}\`` : `one of ${list(allowed)}`}, not ${shownValue(e.data)}${guess ? `; did you mean \`${guess}\`?` : ''}` };
    }
    case 'pattern': {
      const desc = typeof parent?.description === 'string' ? parent.description : `a string matching ${String(params.pattern)}`;
      return { path, key: false, message: `invalid ${name} ${shownValue(e.data)}: expected ${lowerFirst(desc.replace(/\.$/, ''))}` };
    }
    case 'minItems':
      return { path, key: false, message: `${name} must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}` };
    case 'minLength':
      return { path, key: false, message: `${name} must not be empty` };
    case 'minimum':
    case 'maximum':
      return { path, key: false, message: `${name} must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${String(params.limit)}, not ${String(e.data)}` };
    case 'minProperties':
    case 'maxProperties': {
      const keys = Object.keys((parent?.properties as SchemaObject | undefined) ?? {});
      if (parent?.minProperties === 1 && parent.maxProperties === 1 && keys.length > 0) {
        const present = Object.keys((e.data as SchemaObject | null) ?? {});
        return present.length > 1
          ? { path, key: true, message: `${name} has ${list(present)}; give exactly one of ${list(keys)}` }
          : { path, key: true, message: `${name} needs exactly one of ${list(keys)}` };
      }
      return e.keyword === 'minProperties'
        ? { path, key: true, message: `${name} must not be empty` }
        : { path, key: true, message: `${name} has too many keys` };
    }
    case 'uniqueItems':
      return { path: [...path, Number(params.i)], key: false, message: `${name} lists ${shownValue((e.data as unknown[])[Number(params.i)])} more than once` };
    case 'dependentRequired':
      return { path: [...path, String(params.property)], key: true, message: `\`${String(params.property)}\` needs \`${String(params.missingProperty)}\` in the same step: the connector operation these parameters are for` };
    case 'propertyNames':
      return undefined; // the nested pattern error that follows says which name is wrong
    default:
      return { path, key: false, message: `${name} ${e.message ?? 'is invalid'}` };
  }
}

let topValue: unknown;

/** Names the value at `path` for a message: "step `notify`", "`timeout` of step `notify`", "`trigger.schedule`". */
function subject(path: Path): string {
  if (path.length === 0) return 'workflow';
  let stepAt = -1;
  for (let i = path.length - 1; i > 0; i--) {
    if (typeof path[i] === 'number' && (path[i - 1] === 'steps' || path[i - 1] === 'default')) {
      stepAt = i;
      break;
    }
  }
  if (stepAt === -1) {
    const last = path[path.length - 1];
    if (typeof last === 'number') return `item ${last + 1} of \`${pathText(path.slice(0, -1))}\``;
    return `\`${pathText(path)}\``;
  }
  const id = (valueAt(topValue, path.slice(0, stepAt + 1)) as { id?: unknown } | undefined)?.id;
  const step = typeof id === 'string' ? `step \`${id}\`` : `step ${Number(path[stepAt]) + 1} of \`${pathText(path.slice(0, stepAt))}\``;
  const rest = path.slice(stepAt + 1);
  return rest.length === 0 ? step : `\`${pathText(rest)}\` of ${step}`;
}

/** `trigger.schedule.cron` style, short enough for a message: the last three segments. */
function pathText(path: Path): string {
  let out = '';
  for (const seg of path.slice(-3)) out += typeof seg === 'number' ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  return out;
}

function hintFrom(description: unknown): string {
  if (typeof description !== 'string') return '';
  // The first sentence; the dot of an abbreviation (e.g., i.e.) does not end one.
  const first = description.split(/(?<=\.)(?<!\b(?:e\.g|i\.e)\.)\s/)[0] ?? description;
  return ` (${lowerFirst(first.replace(/\.$/, ''))})`;
}

function describeType(schema: SchemaObject): string | undefined {
  if (typeof schema.type === 'string') return article(schema.type);
  if (typeof schema.$ref === 'string') return `${article(schema.$ref.split('/').pop() ?? 'value')}`;
  return undefined;
}

function article(type: string): string {
  const words: Record<string, string> = { object: 'a mapping', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', null: 'null', 'string or boolean': 'a string or true/false', 'string or array': 'a string or a list' };
  return words[type] ?? `a ${type}`;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? `the number ${value}` : `the number ${value}`;
  if (typeof value === 'boolean') return `\`${value}\``;
  return `the string ${shownValue(value)}`;
}

function shownValue(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return `\`${s.length > 60 ? `${s.slice(0, 57)}...` : s}\``;
}

function shown(value: unknown): string {
  return value === null || typeof value !== 'object' ? `, not ${kindOf(value)}` : '';
}

function list(items: readonly string[]): string {
  return items.map((i) => `\`${i}\``).join(', ');
}

function lowerFirst(s: string): string {
  return /^[A-Z][a-z]/.test(s) ? s.charAt(0).toLowerCase() + s.slice(1) : s;
}

function toPath(pointer: string): Path {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((seg) => {
    const s = decode(seg);
    return /^\d+$/.test(s) ? Number(s) : s;
  });
}

function decode(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function depth(pointer: string): number {
  return pointer === '' ? 0 : pointer.split('/').length;
}

function isUnder(pointer: string, prefix: string): boolean {
  return pointer === prefix || pointer.startsWith(`${prefix}/`);
}

function valueAt(root: unknown, path: Path): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}

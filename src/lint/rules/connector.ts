/**
 * connector: `uses` names a known connector operation, and its `with` parameters match the
 * operation's spec: no unknown parameter, every required one present, literal values of the
 * right type and from the allowed values. Values written as expressions are checked at run time.
 */
import { closest, connectorSpecs, resolveUses } from '../../connectors/index.js';
import { operationFields, type FieldSpec, type FieldType } from '../../connectors/spec.js';
import { hasExpression } from '../../expr/template.js';
import { asRecord, triggerOf } from '../../workflow/model.js';
import type { Path } from '../../workflow/source.js';
import type { Analysis } from '../analysis.js';
import type { FileRule, Report } from '../rule.js';

export const connector: FileRule = {
  id: 'connector',
  description: "`uses` must name a known connector operation and `with` must match that operation's parameters.",
  severity: 'error',
  scope: 'file',
  check(a, report) {
    for (const s of a.steps) {
      if (typeof s.step.uses === 'string') checkUse(a, s.path, s.step, report);
      const to = asRecord(asRecord(s.step.approval)?.to);
      if (to && typeof to.uses === 'string') checkUse(a, [...s.path, 'approval', 'to'], to, report);
    }
    const trigger = triggerOf(a.workflow);
    if (trigger?.kind === 'poll' && typeof trigger.body.uses === 'string') checkUse(a, ['trigger', 'poll'], trigger.body, report);
    const escalate = asRecord(asRecord(a.workflow.on_error)?.escalate);
    if (escalate && typeof escalate.uses === 'string') checkUse(a, ['on_error', 'escalate'], escalate, report);
    const then = asRecord(escalate?.then);
    if (then && typeof then.uses === 'string') checkUse(a, ['on_error', 'escalate', 'then'], then, report);
    checkConnectionHeaders(a, report);
  },
};

/** A connection of a connector that needs a header on every call (Xero's tenant) sets it. */
function checkConnectionHeaders(a: Analysis, report: (r: Report) => void): void {
  for (const [name, c] of Object.entries(a.connections)) {
    const needed = connectorSpecs[c.type ?? '']?.connectionHeaders;
    if (!needed) continue;
    const headers = asRecord(asRecord(asRecord(a.workflow.connections)?.[name])?.headers) ?? {};
    const given = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
    for (const [header, h] of Object.entries(needed)) {
      if (!given.has(header)) report({ at: a.source.locate(['connections', name], { key: true }), message: `connection \`${name}\` (${c.type}) needs header \`${header}\` (${h.description}) under \`headers:\`` });
    }
  }
}

function checkUse(a: Analysis, path: Path, holder: Readonly<Record<string, unknown>>, report: (r: Report) => void): void {
  const uses = holder.uses as string;
  const resolved = resolveUses(uses, a.connections);
  if (!resolved.ok) {
    report({ at: a.source.locate([...path, 'uses']), message: resolved.message });
    return;
  }
  const params = asRecord(holder.with) ?? {};
  const fields = operationFields(resolved.operation);
  const names = Object.keys(fields);
  for (const [key, value] of Object.entries(params)) {
    const spec = fields[key];
    if (!spec) {
      const guess = closest(key, names);
      report({
        at: a.source.locate([...path, 'with', key], { key: true }),
        message: `unknown parameter \`${key}\` for \`${uses}\`${guess ? `; did you mean \`${guess}\`?` : `; expected one of ${names.map((n) => `\`${n}\``).join(', ')}`}`,
      });
      continue;
    }
    for (const p of checkValue(value, spec, [key])) {
      report({ at: a.source.locate([...path, 'with', ...p.at], p.key ? { key: true } : undefined), message: `parameter \`${p.at.join('.')}\` of \`${uses}\` ${p.message}` });
    }
  }
  for (const [key, spec] of Object.entries(fields)) {
    if (spec.required && !(key in params)) {
      const at = holder.with === undefined ? a.source.locate([...path, 'uses']) : a.source.locate([...path, 'with'], { key: true });
      report({ at, message: `\`${uses}\` needs parameter \`${key}\` (${spec.description.replace(/\.$/, '').replace(/^./, (c) => c.toLowerCase())})` });
    }
  }
  for (const group of resolved.operation.oneOf ?? []) {
    if (!group.some((k) => k in params)) {
      const at = holder.with === undefined ? a.source.locate([...path, 'uses']) : a.source.locate([...path, 'with'], { key: true });
      report({ at, message: `\`${uses}\` needs one of ${group.map((g) => `\`${g}\``).join(', ')}` });
    }
  }
  for (const group of resolved.operation.exclusive ?? []) {
    const given = group.filter((k) => k in params);
    if (given.length > 1) {
      report({ at: a.source.locate([...path, 'with', given[1]!], { key: true }), message: `give only one of ${given.map((g) => `\`${g}\``).join(', ')} for \`${uses}\`` });
    }
  }
}

interface ValueProblem {
  /** Path below `with`. */
  readonly at: readonly (string | number)[];
  readonly message: string;
  /** Point at the key (an unknown or missing nested field) rather than the value. */
  readonly key?: boolean;
}

/** Problems of a literal value against its field spec, nested shapes included. */
function checkValue(value: unknown, spec: FieldSpec, at: readonly (string | number)[]): ValueProblem[] {
  if (typeof value === 'string' && hasExpression(value)) return [];
  const types: readonly FieldType[] = Array.isArray(spec.type) ? spec.type : [spec.type as FieldType];
  if (!types.some((t) => matches(value, t))) return [{ at, message: `must be ${types.join(' or ')}, not ${describe(value)}` }];
  if (spec.enum && typeof value === 'string' && !spec.enum.includes(value)) {
    const guess = closest(value, spec.enum);
    return [{ at, message: `must be one of ${spec.enum.map((e) => `\`${e}\``).join(', ')}, not \`${value}\`${guess ? `; did you mean \`${guess}\`?` : ''}` }];
  }
  if (spec.pattern && typeof value === 'string' && !new RegExp(spec.pattern, 'u').test(value)) {
    return [{ at, message: `must match \`${spec.pattern}\`${typeof spec.example === 'string' ? ` (like \`${spec.example}\`)` : ''}, not \`${value}\`` }];
  }
  if (typeof value === 'number' && spec.minimum !== undefined && value < spec.minimum) return [{ at, message: `must be at least ${spec.minimum}, not ${value}` }];
  if (typeof value === 'number' && spec.maximum !== undefined && value > spec.maximum) return [{ at, message: `must be at most ${spec.maximum}, not ${value}` }];
  const problems: ValueProblem[] = [];
  if (spec.items && Array.isArray(value)) value.forEach((item, i) => problems.push(...checkValue(item, spec.items!, [...at, i])));
  const record = asRecord(value);
  if (spec.properties && record) {
    const names = Object.keys(spec.properties);
    for (const [k, v] of Object.entries(record)) {
      const inner = spec.properties[k];
      if (!inner) {
        const guess = closest(k, names);
        problems.push({ at: [...at, k], key: true, message: `is unknown${guess ? `; did you mean \`${guess}\`?` : `; expected one of ${names.map((n) => `\`${n}\``).join(', ')}`}` });
      } else problems.push(...checkValue(v, inner, [...at, k]));
    }
    for (const [k, inner] of Object.entries(spec.properties)) {
      if (inner.required && !(k in record)) problems.push({ at, message: `needs field \`${k}\`` });
    }
  }
  return problems;
}

function matches(value: unknown, type: FieldType): boolean {
  switch (type) {
    case 'any': return true;
    case 'array': return Array.isArray(value);
    case 'object': return asRecord(value) !== undefined;
    case 'integer': return Number.isInteger(value);
    default: return typeof value === type;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} \`${String(value)}\``;
}

/**
 * The connector part of the workflow schema, generated from the specs at build time
 * (generate-validator.ts writes it into schemas/workflow.schema.json): the enum of connector
 * names for `connections.<name>.connector`, and each operation's `with` shape, chosen by the
 * operation name at the end of `uses`, so editors complete and describe `with` fields. The
 * shapes describe and do not forbid: the `connector` lint rule checks fields, with positions
 * and suggestions, and lets expressions through where a literal type is expected.
 */
import { connectorSpecs } from './index.js';
import { operationFields, type FieldSpec, type OperationSpec } from './spec.js';

type Json = Record<string, unknown>;

/** `$defs` entries the build writes into the workflow schema. */
export function connectorSchemaDefs(): { connectorName: Json; operationWith: Json } {
  const names = Object.keys(connectorSpecs);
  const byOperation = new Map<string, { connector: string; op: OperationSpec }[]>();
  const cases: Json[] = [];
  for (const spec of Object.values(connectorSpecs)) {
    if (spec.standalone) cases.push(withCase(`^${spec.name}$`, [{ connector: spec.name, op: spec.standalone }]));
    for (const [name, op] of Object.entries(spec.operations)) {
      byOperation.set(name, [...(byOperation.get(name) ?? []), { connector: spec.name, op }]);
    }
  }
  for (const [name, ops] of [...byOperation].sort(([a], [b]) => a.localeCompare(b))) cases.push(withCase(`\\.${name}$`, ops));
  return {
    connectorName: {
      description: `A connector: ${names.map((n) => `${n} (${connectorSpecs[n]!.summary.replace(/\.$/, '')})`).join('; ')}.`,
      enum: names,
    },
    operationWith: {
      description: 'Generated from the connector specs by the build: the `with` fields of the operation named in `uses`.',
      allOf: cases,
    },
  };
}

/** Writes the generated `$defs` into a parsed workflow schema; true when anything changed. */
export function applyConnectorDefs(schema: Json): boolean {
  const defs = (schema.$defs ?? {}) as Json;
  const generated = connectorSchemaDefs();
  const before = JSON.stringify([defs.connectorName, defs.operationWith]);
  defs.connectorName = generated.connectorName;
  defs.operationWith = generated.operationWith;
  return JSON.stringify([defs.connectorName, defs.operationWith]) !== before;
}

function withCase(pattern: string, ops: readonly { connector: string; op: OperationSpec }[]): Json {
  const shapes = ops.map(({ connector, op }) => ({
    description: `${connector}: ${op.summary}`,
    properties: Object.fromEntries(Object.entries(operationFields(op)).map(([k, f]) => [k, fieldShape(f)])),
  }));
  return {
    if: { required: ['uses'], properties: { uses: { pattern } } },
    // Connectors can share an operation name (send_email): the shape depends on the connector.
    then: { properties: { with: shapes.length === 1 ? shapes[0] : { description: `Depends on the connection's connector: ${ops.map((o) => o.connector).join(', ')}.`, anyOf: shapes } } },
  };
}

function fieldShape(f: FieldSpec): Json {
  const types = Array.isArray(f.type) ? f.type.join(' or ') : String(f.type);
  const allowed = `${f.enum ? ` One of: ${f.enum.join(', ')}.` : ''}${f.minimum !== undefined ? ` At least ${f.minimum}.` : ''}${f.maximum !== undefined ? ` At most ${f.maximum}.` : ''}`;
  return {
    description: `${f.required ? '(required) ' : ''}${f.description} (${types}).${allowed}`,
    ...(f.default !== undefined ? { default: f.default } : {}),
    ...(f.example !== undefined ? { examples: [f.example] } : {}),
  };
}

// fast-check arbitraries for a vendor operation's fields, from its spec: required fields
// always, optional ones sometimes, one field of each one-of group at least, values of the
// declared type and format (enums from their values, email addresses, URLs, RFC 3339 dates).
import fc from 'fast-check';
import type { FieldSpec, OperationSpec } from '../../src/connectors/spec.js';

const text = fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' });
const email = fc.emailAddress().filter((e) => e.length <= 200);
const instant = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });
const dateTime = instant.map((d) => d.toISOString().replace(/\.\d{3}Z$/, 'Z'));
const date = instant.map((d) => d.toISOString().slice(0, 10));
const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,11}$/);

export function fieldArbitrary(f: FieldSpec): fc.Arbitrary<unknown> {
  if (f.enum) return fc.constantFrom(...f.enum);
  if (f.pattern) return fc.stringMatching(new RegExp(f.pattern, 'u'));
  const types = Array.isArray(f.type) ? f.type : [f.type];
  return fc.oneof(...types.map((t): fc.Arbitrary<unknown> => {
    switch (t) {
      case 'integer': return fc.integer({ min: f.minimum ?? 1, max: f.maximum ?? 100_000 });
      case 'number': return fc.double({ min: 0, max: 1000, noNaN: true });
      case 'boolean': return fc.boolean();
      case 'array': {
        const item = f.items ? fieldArbitrary(f.items) : text;
        return f.items?.type === 'string' ? fc.uniqueArray(item, { minLength: 1, maxLength: 3, selector: (v) => String(v).toLowerCase() }) : fc.array(item, { minLength: 1, maxLength: 3 });
      }
      case 'object': return f.properties ? shape(f.properties) : fc.dictionary(key, text, { minKeys: 0, maxKeys: 3 });
      default: return f.pattern ? fc.stringMatching(new RegExp(f.pattern, 'u')).filter((v) => v.length > 0 && v.length <= 40) : f.format === 'email' ? email : f.format === 'uri' ? fc.webUrl() : f.format === 'uuid' ? fc.uuid() : f.format === 'date-time' ? dateTime : f.format === 'date' ? date : text;
    }
  }));
}

function shape(fields: Readonly<Record<string, FieldSpec>>, oneOf: ReadonlyArray<readonly string[]> = []): fc.Arbitrary<Record<string, unknown>> {
  const model = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, fieldArbitrary(f)]));
  const required = Object.entries(fields).filter(([, f]) => f.required).map(([k]) => k);
  return fc.record(model, { requiredKeys: required }).chain((value) => {
    const missing = oneOf.filter((group) => !group.some((k) => k in value));
    if (missing.length === 0) return fc.constant(value);
    return fc.tuple(...missing.map((group) => fieldArbitrary(fields[group[0]!]!))).map((extra) => ({ ...value, ...Object.fromEntries(missing.map((g, i) => [g[0]!, extra[i]])) }));
  });
}

/** Generated `with` blocks for an operation (without pagination fields). */
export function paramsArbitrary(op: OperationSpec): fc.Arbitrary<Record<string, unknown>> {
  return shape(op.fields, op.oneOf ?? []);
}

/** A `with` block from the spec's examples, with required fields lacking one filled in. */
export function exampleParams(op: OperationSpec): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [k, f] of Object.entries(op.fields)) {
    if (f.example !== undefined) params[k] = f.example;
    else if (f.required) params[k] = fc.sample(fieldArbitrary(f), { numRuns: 1, seed: 1 })[0];
  }
  return params;
}

// The workflow schema itself: valid 2020-12, documented for editors, strict where typos matter.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_SCHEMA_URL } from '../../src/workflow/schema.js';

const schema = JSON.parse(readFileSync(WORKFLOW_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
type Node = Record<string, unknown>;

function eachSchema(visit: (node: Node, pointer: string) => void): void {
  // `map`: a `properties` or `$defs` object, whose keys are names (a field may be called
  // `properties`), so it is not itself a schema; its values are.
  const walk = (node: unknown, pointer: string, map = false) => {
    if (node === null || typeof node !== 'object') return;
    if (!Array.isArray(node) && !map) visit(node as Node, pointer);
    for (const [k, v] of Object.entries(node)) {
      // An `if` is a condition that picks a branch, not a shape a workflow is written in;
      // examples, defaults and enums are values, not schemas.
      if (!map && ['if', 'examples', 'default', 'enum', 'const'].includes(k)) continue;
      walk(v, `${pointer}/${k}`, !map && !Array.isArray(node) && (k === 'properties' || k === '$defs'));
    }
  };
  walk(schema, '');
}

function resolve(node: Node): Node {
  const ref = node.$ref;
  return typeof ref === 'string' ? ((schema.$defs as Record<string, Node>)[ref.split('/').pop()!] ?? node) : node;
}

describe('workflow.schema.json', () => {
  it('is a valid JSON Schema 2020-12 with an $id', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(typeof schema.$id).toBe('string');
    const ajv = new Ajv2020({ strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true });
    expect(ajv.validateSchema(schema)).toBe(true);
  });
  it('describes every property, for editor hover', () => {
    const missing: string[] = [];
    eachSchema((node, pointer) => {
      for (const [key, prop] of Object.entries((node.properties as Record<string, Node> | undefined) ?? {})) {
        if (typeof prop.description !== 'string' && typeof resolve(prop).description !== 'string') missing.push(`${pointer}/properties/${key}`);
      }
    });
    expect(missing).toEqual([]);
  });
  it('closes every object that has named properties, so typos are caught', () => {
    const open: string[] = [];
    eachSchema((node, pointer) => {
      // The generated `with` shapes stay open: the connector lint rule reports unknown fields,
      // with suggestions, so a typo is not reported twice.
      if (pointer.startsWith('/$defs/operationWith/')) return;
      if (node.properties && Object.keys(node.properties).length > 0 && node.additionalProperties !== false) open.push(pointer);
    });
    expect(open).toEqual([]);
  });
  it('keeps the fixed names', () => {
    const props = schema.properties as Record<string, unknown>;
    for (const key of ['name', 'owner', 'trigger', 'steps']) expect(props).toHaveProperty(key);
    expect(schema.required).toEqual(expect.arrayContaining(['owner', 'trigger', 'steps']));
    const step = (schema.$defs as Record<string, Node>).step!.properties as Record<string, unknown>;
    for (const key of ['id', 'if', 'uses', 'with']) expect(step).toHaveProperty(key);
  });
});

describe('the validator generated at build time', () => {
  it('agrees with the compiled schema on every fixture and example', async () => {
    const { createRequire } = await import('node:module');
    const { readdirSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { parseSource } = await import('../../src/workflow/source.js');
    const { workflowSchema } = await import('../../src/workflow/schema.js');
    const require = createRequire(import.meta.url);
    const generated = require('../../dist/workflow/workflow-validator.cjs') as (v: unknown) => boolean;
    const root = new URL('../..', import.meta.url).pathname;
    const dirs = ['test/fixtures/lint/ok', 'test/fixtures/lint/err', 'test/fixtures/lint/project', 'workflows'];
    let compared = 0;
    let invalid = 0;
    for (const dir of dirs) {
      for (const f of readdirSync(join(root, dir)).filter((x) => x.endsWith('.yaml'))) {
        const parsed = parseSource(f, readFileSync(join(root, dir, f)));
        if (!parsed.ok) continue;
        const expected = workflowSchema().validate(parsed.source.value);
        expect(generated(parsed.source.value), `${dir}/${f}`).toBe(expected);
        compared++;
        if (!expected) invalid++;
      }
    }
    expect(compared).toBeGreaterThan(30);
    expect(invalid).toBeGreaterThanOrEqual(5);
  });
});

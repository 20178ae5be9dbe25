/**
 * A workflow's `inputs`: a JSON Schema the triggering event must satisfy. Compiled with its own
 * Ajv instance (formats such as email and date-time included), separate from the workflow schema.
 */
import { createRequire } from 'node:module';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';

const require = createRequire(import.meta.url);
let ajv: Ajv2020 | undefined;

/** Loaded on first use: most workflows without `inputs` never pay for Ajv. */
function inputsAjv(): Ajv2020 {
  if (!ajv) {
    const { Ajv2020: AjvClass } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    const addFormats = require('ajv-formats') as (instance: Ajv2020) => Ajv2020;
    ajv = new AjvClass({ allErrors: true, strict: 'log', addUsedSchema: false, logger: false });
    addFormats(ajv);
  }
  return ajv;
}

export type InputsCompile = { readonly ok: true; readonly validate: ValidateFunction } | { readonly ok: false; readonly message: string; readonly pointer: string };

export type InputsProblem = { readonly message: string; readonly pointer: string };

/**
 * Checks an `inputs` schema without compiling it: valid against the 2020-12 meta-schema, every
 * `format` known, every local `$ref` resolvable. This is what `flux lint` needs, at a fraction
 * of the cost of code generation; `flux run` compiles the schema for real.
 */
export function checkInputs(schema: Record<string, unknown>): InputsProblem | undefined {
  const meta = metaProblem(schema);
  if (meta) return meta;
  const instance = inputsAjv();
  let problem: InputsProblem | undefined;
  const walk = (node: unknown, pointer: string) => {
    if (problem || node === null || typeof node !== 'object') return;
    const rec = node as Record<string, unknown>;
    if (!Array.isArray(node)) {
      if (typeof rec.format === 'string' && !instance.formats[rec.format]) {
        problem = { pointer: `${pointer}/format`, message: `unknown format \`${rec.format}\`; known formats include email, uri, date, date-time, uuid` };
        return;
      }
      if (typeof rec.$ref === 'string' && rec.$ref.startsWith('#') && resolvePointer(schema, rec.$ref.slice(1)) === undefined) {
        problem = { pointer: `${pointer}/$ref`, message: `\`$ref\` \`${rec.$ref}\` does not point into this schema` };
        return;
      }
    }
    for (const [k, v] of Object.entries(rec)) {
      // `properties`, `$defs` and friends hold schemas under arbitrary names; `enum`/`const`/`examples` hold data.
      if (k === 'enum' || k === 'const' || k === 'examples' || k === 'default') continue;
      walk(v, `${pointer}/${k}`);
    }
  };
  walk(schema, '');
  return problem;
}

function resolvePointer(root: unknown, pointer: string): unknown {
  if (pointer === '') return root;
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

function metaProblem(schema: Record<string, unknown>): InputsProblem | undefined {
  const instance = inputsAjv();
  if (instance.validateSchema(schema)) return undefined;
  const e = instance.errors?.[0];
  const where = e?.instancePath ? `\`${e.instancePath.slice(1).replace(/\//g, '.')}\` ` : '';
  const allowed = (e?.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
  const detail = allowed ? `must be one of ${allowed.map((v) => `\`${String(v)}\``).join(', ')}` : (e?.message ?? 'is invalid');
  return { pointer: e?.instancePath ?? '', message: `${where}${detail}` };
}

/** Compiles an `inputs` schema, or says what is wrong with it and where (a JSON pointer into it). */
export function compileInputs(schema: Record<string, unknown>): InputsCompile {
  const instance = inputsAjv();
  const meta = metaProblem(schema);
  if (meta) return { ok: false, ...meta };
  try {
    return { ok: true, validate: instance.compile(schema) };
  } catch (error) {
    return { ok: false, pointer: '', message: error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error) };
  }
}

/**
 * A workflow's `inputs`: a JSON Schema the triggering event must satisfy. Compiled with its own
 * Ajv instance (formats such as email and date-time included), separate from the workflow schema.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM with NodeNext typing.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

let ajv: Ajv2020 | undefined;

function inputsAjv(): Ajv2020 {
  if (!ajv) {
    ajv = new Ajv2020({ allErrors: true, strict: 'log', addUsedSchema: false, logger: false });
    addFormats(ajv);
  }
  return ajv;
}

export type InputsCompile = { readonly ok: true; readonly validate: ValidateFunction } | { readonly ok: false; readonly message: string; readonly pointer: string };

/** Compiles an `inputs` schema, or says what is wrong with it and where (a JSON pointer into it). */
export function compileInputs(schema: Record<string, unknown>): InputsCompile {
  const instance = inputsAjv();
  if (!instance.validateSchema(schema)) {
    const e = instance.errors?.[0];
    const where = e?.instancePath ? `\`${e.instancePath.slice(1).replace(/\//g, '.')}\` ` : '';
    const allowed = (e?.params as { allowedValues?: unknown[] } | undefined)?.allowedValues;
    const detail = allowed ? `must be one of ${allowed.map((v) => `\`${String(v)}\``).join(', ')}` : (e?.message ?? 'is invalid');
    return { ok: false, pointer: e?.instancePath ?? '', message: `${where}${detail}` };
  }
  try {
    return { ok: true, validate: instance.compile(schema) };
  } catch (error) {
    return { ok: false, pointer: '', message: error instanceof Error ? (error.message.split('\n')[0] ?? error.message) : String(error) };
  }
}

/**
 * The workflow JSON Schema (schemas/workflow.schema.json): the one definition of the format,
 * shared by the loader, `flux lint` and editors. Compiled once per process.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

/** Where the schema file lives: `schemas/` at the package root, two levels above this module. */
export const WORKFLOW_SCHEMA_URL = new URL('../../schemas/workflow.schema.json', import.meta.url);

let cached: { schema: Record<string, unknown>; ajv: Ajv2020; validate: ValidateFunction } | undefined;

/** The parsed schema, its Ajv instance and the compiled validator. */
export function workflowSchema(): { schema: Record<string, unknown>; ajv: Ajv2020; validate: ValidateFunction } {
  if (!cached) {
    const schema = JSON.parse(readFileSync(WORKFLOW_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true });
    cached = { schema, ajv, validate: ajv.compile(schema) };
  }
  return cached;
}

/** The schema's text, as `flux schema` prints it. */
export function workflowSchemaText(): string {
  return readFileSync(WORKFLOW_SCHEMA_URL, 'utf8');
}

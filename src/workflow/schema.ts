/**
 * The workflow JSON Schema (schemas/workflow.schema.json): the one definition of the format,
 * shared by the loader, `flux lint` and editors.
 *
 * Validation of valid files takes the fast path: a validator generated from the schema at build
 * time (Ajv standalone code, dist/workflow/workflow-validator.cjs), so a command that loads one
 * workflow neither loads Ajv nor compiles the schema. Only when a file is invalid, or when the
 * generated validator is absent (tests run from source), is Ajv loaded and the schema compiled,
 * to explain the errors.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv2020 as Ajv2020Type } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';

/** Where the schema file lives: `schemas/` at the package root, two levels above this module. */
export const WORKFLOW_SCHEMA_URL = new URL('../../schemas/workflow.schema.json', import.meta.url);

/** Ajv options for the workflow schema; the build-time generator uses the same. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true } as const;

const require = createRequire(import.meta.url);
let cached: { schema: Record<string, unknown>; ajv: Ajv2020Type; validate: ValidateFunction } | undefined;
let fast: ((value: unknown) => boolean) | null | undefined;

/** The parsed schema, an Ajv instance and the compiled validator (compiled on first use). */
export function workflowSchema(): { schema: Record<string, unknown>; ajv: Ajv2020Type; validate: ValidateFunction } {
  if (!cached) {
    const schema = JSON.parse(readFileSync(WORKFLOW_SCHEMA_URL, 'utf8')) as Record<string, unknown>;
    const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    const ajv = new Ajv2020(AJV_OPTIONS);
    cached = { schema, ajv, validate: ajv.compile(schema) };
  }
  return cached;
}

/** True when the value matches the schema; uses the generated validator when there is one. */
export function isValidWorkflow(value: unknown): boolean {
  if (fast === undefined) {
    try {
      const mod = require('./workflow-validator.cjs') as { default?: (v: unknown) => boolean } | ((v: unknown) => boolean);
      fast = typeof mod === 'function' ? mod : (mod.default ?? null);
    } catch {
      fast = null;
    }
  }
  return fast ? fast(value) : workflowSchema().validate(value);
}

/** The schema's text, as `flux schema` prints it. */
export function workflowSchemaText(): string {
  return readFileSync(WORKFLOW_SCHEMA_URL, 'utf8');
}

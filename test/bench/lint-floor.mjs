// The floor for the lint benchmark: only parse each file with `yaml` and validate it with the
// same compiled Ajv schema flux uses. flux lint does this plus positions, rules and output.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';

import { createRequire } from 'node:module';

const dir = process.argv[2];
// --standalone: use the validator flux generates at build time instead of compiling at start.
const standalone = process.argv[3] === '--standalone';
let validate;
if (standalone) {
  validate = createRequire(import.meta.url)('../../dist/workflow/workflow-validator.cjs');
} else {
  const schema = JSON.parse(readFileSync(new URL('../../schemas/workflow.schema.json', import.meta.url), 'utf8'));
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, strictRequired: false, strictTypes: false, allowUnionTypes: true });
  validate = ajv.compile(schema);
}
let invalid = 0;
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
for (const f of files) {
  const doc = parseDocument(readFileSync(join(dir, f), 'utf8'));
  if (!validate(doc.toJS())) invalid++;
}
console.log(`${files.length} files, ${invalid} invalid`);

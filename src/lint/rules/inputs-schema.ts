/** inputs-schema: `inputs` must itself be a valid JSON Schema, since every event is checked against it. */
import { checkInputs } from '../../workflow/inputs.js';
import { asRecord } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

export const inputsSchema: FileRule = {
  id: 'inputs-schema',
  description: '`inputs` must be a valid JSON Schema.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    const inputs = asRecord(a.workflow.inputs);
    if (!inputs) return;
    const result = checkInputs(inputs);
    if (!result) return;
    const where = result.pointer ? result.pointer.slice(1).split('/') : [];
    report({ at: a.source.locate(['inputs', ...where]), message: `\`inputs\` is not a valid JSON Schema: ${result.message}` });
  },
};

/**
 * approval-inputs: each field of an approval's form has what its type needs and nothing it
 * ignores: `min`/`max` only on a number (and min ≤ max), `options` on a choice and only there.
 */
import { asRecord } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

export const approvalInputs: FileRule = {
  id: 'approval-inputs',
  description: "An approval's inputs must be typed consistently: min/max on numbers, options on choices.",
  severity: 'error',
  scope: 'file',
  check(a, report) {
    for (const s of a.steps) {
      const inputs = asRecord(asRecord(s.step.approval)?.inputs);
      for (const [name, raw] of Object.entries(inputs ?? {})) {
        const field = asRecord(raw);
        if (!field) continue;
        const at = (key: string) => a.source.locate([...s.path, 'approval', 'inputs', name, key], { key: true });
        for (const bound of ['min', 'max'] as const) {
          if (field[bound] !== undefined && field.type !== 'number') report({ at: at(bound), message: `input \`${name}\` is a ${String(field.type)}: \`${bound}\` applies to numbers only` });
        }
        if (typeof field.min === 'number' && typeof field.max === 'number' && field.min > field.max) report({ at: at('min'), message: `input \`${name}\`: min ${field.min} is above max ${field.max}` });
        if (field.type === 'choice' && field.options === undefined) report({ at: at('type'), message: `input \`${name}\` is a choice: list its \`options\`` });
        if (field.type !== 'choice' && field.options !== undefined) report({ at: at('options'), message: `input \`${name}\` is a ${String(field.type)}: \`options\` applies to choices only` });
      }
    }
  },
};

/** duplicate-step-id: every step id is unique in a workflow, since `steps.<id>` must name one step. */
import type { FileRule } from '../rule.js';

export const duplicateStepId: FileRule = {
  id: 'duplicate-step-id',
  description: 'Step ids must be unique within a workflow, including nested steps.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    for (const [id, steps] of a.stepsById) {
      if (steps.length < 2) continue;
      const first = a.source.locate([...steps[0]!.path, 'id']);
      for (const dup of steps.slice(1)) {
        report({ at: a.source.locate([...dup.path, 'id']), message: `step id \`${id}\` is already used; first defined at ${first.line}:${first.column}` });
      }
    }
  },
};

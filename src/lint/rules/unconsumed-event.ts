/** unconsumed-event: an emitted event that no workflow is triggered by or waits for goes nowhere. */
import type { ProjectRule } from '../rule.js';

export const unconsumedEvent: ProjectRule = {
  id: 'unconsumed-event',
  description: 'Warns when a workflow emits an event that no workflow linted with it is triggered by or waits for.',
  severity: 'warning',
  scope: 'project',
  check(files, report) {
    const consumed = new Set<string>();
    for (const f of files) {
      if (f.triggeredBy !== undefined) consumed.add(f.triggeredBy);
      for (const e of f.awaits) consumed.add(e);
    }
    for (const f of files) {
      for (const e of f.emits) {
        if (!consumed.has(e.event)) report(f, { at: e.at, message: `event \`${e.event}\` is emitted but no workflow is triggered by it or waits for it` });
      }
    }
  },
};

/** unreachable-step: steps after an unconditional `fail` in the same list can never run. */
import type { FileRule } from '../rule.js';

export const unreachableStep: FileRule = {
  id: 'unreachable-step',
  description: 'Steps after an unconditional `fail` never run.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    const byList = new Map<string, typeof a.steps[number][]>();
    for (const s of a.steps) {
      const key = s.path.slice(0, -1).join('/');
      byList.set(key, [...(byList.get(key) ?? []), s]);
    }
    for (const list of byList.values()) {
      const failing = list.find((s) => s.kind === 'fail' && s.step.if === undefined);
      if (!failing) continue;
      const next = list.find((s) => s.order > failing.order && s.parent === failing.parent);
      if (!next) continue;
      const at = a.source.locate([...failing.path, 'fail'], { key: true });
      report({ at: a.source.locate([...next.path, 'id']), message: `step \`${next.id ?? '?'}\` can never run: step \`${failing.id ?? '?'}\` always fails before it (at ${at.line}:${at.column})` });
    }
  },
};

/**
 * approval-on-timeout: an approval step's `on_timeout` is `fail`, `escalate` or one of its
 * choices (taken as the answer when nobody decided in time); a typo would otherwise only show
 * two days later, as a run that took a choice nobody offered.
 */
import { choicesOf } from '../../approvals/request.js';
import { asRecord } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

export const approvalOnTimeout: FileRule = {
  id: 'approval-on-timeout',
  description: "An approval step's `on_timeout` must be fail, escalate or one of its choices.",
  severity: 'error',
  scope: 'file',
  check(a, report) {
    for (const s of a.steps) {
      const approval = asRecord(s.step.approval);
      if (!approval || typeof approval.on_timeout !== 'string') continue;
      const choices = choicesOf(approval);
      const value = approval.on_timeout;
      if (value === 'fail' || value === 'escalate' || choices.includes(value)) continue;
      report({
        at: a.source.locate([...s.path, 'approval', 'on_timeout']),
        message: `on_timeout \`${value}\` of step \`${s.id ?? '?'}\` is not fail, escalate or one of its choices (${choices.join(', ')})`,
      });
    }
  },
};

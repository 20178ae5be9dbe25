/**
 * approval-quorum: the approvers an approval step lists can reach its quorum, and every
 * `@group` among them is defined (in the workflow's `groups`, or as its owner team). A quorum
 * of 3 among 2 people would wait until the timeout every time.
 */
import { expandApprovers } from '../../approvals/request.js';
import { asRecord } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

export const approvalQuorum: FileRule = {
  id: 'approval-quorum',
  description: 'An approval step\'s groups must be defined and its approvers must be able to reach its quorum.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    for (const s of a.steps) {
      const approval = asRecord(s.step.approval);
      if (!approval || !Array.isArray(approval.approvers)) continue;
      const { people, unknownGroups } = expandApprovers(approval.approvers, a.workflow);
      approval.approvers.forEach((entry, i) => {
        if (unknownGroups.includes(String(entry).trim())) {
          report({ at: a.source.locate([...s.path, 'approval', 'approvers', i]), message: `group \`${String(entry)}\` is not defined: add it to the workflow's \`groups\`` });
        }
      });
      const quorum = approval.quorum;
      if (unknownGroups.length === 0 && typeof quorum === 'number' && quorum > people.length) {
        report({
          at: a.source.locate([...s.path, 'approval', 'quorum']),
          message: `quorum ${quorum} of step \`${s.id ?? '?'}\` can never be reached by its ${people.length} approver${people.length === 1 ? '' : 's'}`,
        });
      }
    }
  },
};

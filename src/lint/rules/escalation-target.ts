/**
 * escalation-target: a step that escalates (`on_error: escalate`, `wait_for.on_timeout:
 * escalate`) needs a way to reach the owner: a workflow-level `on_error.escalate`.
 */
import { asRecord } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

export const escalationTarget: FileRule = {
  id: 'escalation-target',
  description: 'Steps that escalate need a workflow-level `on_error.escalate` to reach the owner.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    if (asRecord(asRecord(a.workflow.on_error)?.escalate)) return;
    for (const s of a.steps) {
      if (s.step.on_error === 'escalate') {
        report({ at: a.source.locate([...s.path, 'on_error']), message: `step \`${s.id ?? '?'}\` escalates, but the workflow has no \`on_error.escalate\` to reach its owner` });
      }
      if (asRecord(s.step.approval)?.on_timeout === 'escalate') {
        report({ at: a.source.locate([...s.path, 'approval', 'on_timeout']), message: `step \`${s.id ?? '?'}\` escalates on timeout, but the workflow has no \`on_error.escalate\` to reach its owner` });
      }
      if (asRecord(s.step.wait_for)?.on_timeout === 'escalate') {
        report({ at: a.source.locate([...s.path, 'wait_for', 'on_timeout']), message: `step \`${s.id ?? '?'}\` escalates on timeout, but the workflow has no \`on_error.escalate\` to reach its owner` });
      }
    }
  },
};

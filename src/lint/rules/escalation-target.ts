/**
 * escalation-target: a failure must reach someone. Two cases:
 * - a workflow a daemon runs unattended (a schedule, webhook, poll or event trigger) needs a
 *   workflow-level `on_error.escalate`, or it can fail with nobody told. `flux daemon` refuses
 *   to serve such a workflow unless `--allow-silent`; `flux run`, watched from a terminal, runs it;
 * - a step that escalates (`on_error: escalate`, `wait_for.on_timeout: escalate`) needs that
 *   `on_error.escalate` to reach the owner through.
 */
import type { Diagnostic } from '../diagnostic.js';
import { asRecord, isUnattended, triggerOf } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

/** How the silent-workflow case ends, so that `--allow-silent` (and `flux run`) can let it through. */
const SILENT = 'can fail with nobody told';

/** True for the diagnostic of a daemon-run workflow with no escalation (which `--allow-silent` allows). */
export function isSilentWorkflow(d: Diagnostic): boolean {
  return d.ruleId === 'escalation-target' && d.message.includes(SILENT);
}

export const escalationTarget: FileRule = {
  id: 'escalation-target',
  description: 'A workflow a daemon runs, and every step that escalates, need a workflow-level `on_error.escalate` to reach the owner.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    if (asRecord(asRecord(a.workflow.on_error)?.escalate)) return;
    const trigger = triggerOf(a.workflow);
    if (trigger && isUnattended(a.workflow)) {
      const name = typeof a.workflow.name === 'string' ? ` \`${a.workflow.name}\`` : '';
      report({
        at: a.source.locate(['trigger', trigger.kind], { key: true }),
        message: `workflow${name} runs on a ${trigger.kind} trigger with no \`on_error.escalate\`: it ${SILENT}; add one (a chat or email call that reaches the owner), or start the daemon with --allow-silent`,
      });
    }
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

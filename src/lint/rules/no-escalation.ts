/**
 * no-escalation: a workflow without `on_error.escalate` can fail with nobody told. flux
 * promises that nothing fails silently; a workflow that no one hears from when it breaks is
 * the one case lint can see ahead of time.
 */
import { asRecord, isUnattended } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

const HOW = 'a failed run tells nobody; add `on_error.escalate` with a connector call (chat, email) that reaches the owner';

export const noEscalation: FileRule = {
  id: 'no-escalation',
  description: 'A workflow should have `on_error.escalate`, so a failed run reaches its owner.',
  severity: 'warning',
  scope: 'file',
  check(a, report) {
    const onError = a.workflow.on_error;
    const record = asRecord(onError);
    if (onError !== undefined && record === undefined) return; // the schema reports the wrong type
    if (record?.escalate !== undefined && record.escalate !== null) return; // present; the schema checks its shape
    // A daemon-run workflow without it is an error of escalation-target, said there once.
    if (isUnattended(a.workflow)) return;
    if (record !== undefined) {
      // Recovery steps alone still leave the owner unaware: point at the block that needs the key.
      report({ at: a.source.locate(['on_error'], { key: true }), message: `\`on_error\` has no \`escalate\`: ${HOW}` });
      return;
    }
    const name = typeof a.workflow.name === 'string' ? ` \`${a.workflow.name}\`` : '';
    const at = 'name' in a.workflow ? a.source.locate(['name'], { key: true }) : { line: 1, column: 1 };
    report({ at, message: `workflow${name} has no \`on_error.escalate\`: ${HOW}` });
  },
};

/** duration: every duration field reads like 90s, 15m, 48h, 7d. */
import { parseDuration } from '../../workflow/duration.js';
import { asRecord, triggerOf } from '../../workflow/model.js';
import type { Path } from '../../workflow/source.js';
import type { FileRule } from '../rule.js';

export const duration: FileRule = {
  id: 'duration',
  description: 'Durations must be a number with a unit (ms, s, m, h, d, w), e.g. 90s, 15m, 48h, 7d.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    const check = (value: unknown, path: Path, allowZero = false) => {
      if (typeof value !== 'string') return;
      const r = parseDuration(value);
      if (!r.ok) report({ at: a.source.locate(path), message: r.message });
      else if (r.ms === 0 && !allowZero) report({ at: a.source.locate(path), message: `duration \`${value}\` is zero` });
    };
    for (const s of a.steps) {
      check(s.step.timeout, [...s.path, 'timeout']);
      const retry = asRecord(s.step.retry);
      check(retry?.initial, [...s.path, 'retry', 'initial']);
      check(retry?.max, [...s.path, 'retry', 'max']);
      if (typeof s.step.wait === 'string') check(s.step.wait, [...s.path, 'wait']);
      check(asRecord(s.step.wait_for)?.timeout, [...s.path, 'wait_for', 'timeout']);
    }
    check(asRecord(asRecord(a.workflow.on_error)?.escalate)?.ack_within, ['on_error', 'escalate', 'ack_within']);
    for (const [name, c] of Object.entries(asRecord(a.workflow.connections) ?? {})) check(asRecord(c)?.timeout, ['connections', name, 'timeout']);
    const t = triggerOf(a.workflow);
    if (t?.kind === 'poll') check(t.body.every, ['trigger', 'poll', 'every']);
    if (t?.kind === 'webhook') check(asRecord(t.body.signature)?.tolerance, ['trigger', 'webhook', 'signature', 'tolerance']);
  },
};

/** poll-interval: a poll trigger's `every` is not shorter than the minimum the daemon polls at. */
import { parseDuration } from '../../workflow/duration.js';
import { triggerOf } from '../../workflow/model.js';
import { MIN_POLL_INTERVAL_MS } from '../../workflow/poll-limits.js';
import type { FileRule } from '../rule.js';

export const pollInterval: FileRule = {
  id: 'poll-interval',
  description: `A poll trigger polls at most every ${MIN_POLL_INTERVAL_MS / 1000}s: a shorter \`every\` is refused, not silently stretched.`,
  severity: 'error',
  scope: 'file',
  check(a, report) {
    const t = triggerOf(a.workflow);
    if (t?.kind !== 'poll' || typeof t.body.every !== 'string') return;
    const every = parseDuration(t.body.every);
    // An unreadable or zero duration is the duration rule's to report.
    if (!every.ok || every.ms === 0 || every.ms >= MIN_POLL_INTERVAL_MS) return;
    report({
      at: a.source.locate(['trigger', 'poll', 'every']),
      message: `poll \`every: ${t.body.every}\` is shorter than the minimum of ${MIN_POLL_INTERVAL_MS / 1000}s; a system without webhooks is polled at most that often`,
    });
  },
};

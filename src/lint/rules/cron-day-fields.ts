/** cron-day-fields: day-of-month and day-of-week together mean AND here, OR in classic cron. */
import { checkCron } from '../../workflow/cron.js';
import { triggerOf } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

export const cronDayFields: FileRule = {
  id: 'cron-day-fields',
  description: 'Warns when a cron restricts both day-of-month and day-of-week: flux runs only on days matching both, while classic cron runs on days matching either.',
  severity: 'warning',
  scope: 'file',
  check(a, report) {
    const t = triggerOf(a.workflow);
    if (t?.kind !== 'schedule' || typeof t.body.cron !== 'string') return;
    const result = checkCron(t.body.cron);
    if (result.valid && result.domAndDow) {
      report({
        at: a.source.locate(['trigger', 'schedule', 'cron']),
        message: `cron \`${t.body.cron}\` restricts both day-of-month and day-of-week; flux fires only when both match (classic cron fires when either does)`,
      });
    }
  },
};

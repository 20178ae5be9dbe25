/** cron: schedule triggers need a cron expression the scheduler accepts, in a known time zone. */
import { checkCron } from '../../workflow/cron.js';
import { triggerOf } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

export const cron: FileRule = {
  id: 'cron',
  description: 'Schedule triggers need a valid cron expression.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    const t = triggerOf(a.workflow);
    if (t?.kind !== 'schedule' || typeof t.body.cron !== 'string') return;
    const result = checkCron(t.body.cron);
    const at = a.source.locate(['trigger', 'schedule', 'cron']);
    if (!result.valid) report({ at, message: result.message ?? `invalid cron \`${t.body.cron}\`` });
  },
};

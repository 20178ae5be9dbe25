/** cron: schedule triggers need a cron expression the scheduler accepts, in a known time zone. */
import { checkCron, isValidTimezone } from '../../workflow/cron.js';
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

/** cron-day-fields: day-of-month and day-of-week together mean AND here, OR in classic cron. */
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

/** timezone: a schedule's time zone must be an IANA zone name. */
export const timezone: FileRule = {
  id: 'timezone',
  description: 'Schedule time zones must be IANA names such as Europe/Berlin.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    const t = triggerOf(a.workflow);
    const zone = t?.kind === 'schedule' ? t.body.timezone : undefined;
    if (typeof zone !== 'string' || isValidTimezone(zone)) return;
    report({ at: a.source.locate(['trigger', 'schedule', 'timezone']), message: `unknown time zone \`${zone}\`; use an IANA name such as \`Europe/Berlin\` or \`America/New_York\`` });
  },
};

/** timezone: a schedule's time zone must be an IANA zone name. */
import { isValidTimezone } from '../../workflow/cron.js';
import { triggerOf } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

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

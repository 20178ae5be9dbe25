/**
 * poll-cursor: a poll's `cursor` and its use in `with` go together. A cursor that `with` never
 * sends is kept for nothing; `poll.cursor` read in `with` without a `cursor` is always null.
 */
import { triggerOf } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

const READS_CURSOR = /\bpoll\s*\.\s*cursor\b|\bpoll\s*\[\s*['"]cursor['"]\s*\]/;

export const pollCursor: FileRule = {
  id: 'poll-cursor',
  description: 'A poll trigger with a `cursor` sends it in `with` (${{ poll.cursor }}); `poll.cursor` needs a `cursor` to be set.',
  severity: 'warning',
  scope: 'file',
  check(a, report) {
    const t = triggerOf(a.workflow);
    if (t?.kind !== 'poll') return;
    const inWith = a.expressions.filter((e) => e.path[0] === 'trigger' && e.path[2] === 'with' && READS_CURSOR.test(e.source));
    if (typeof t.body.cursor === 'string' && inWith.length === 0) {
      report({ at: a.source.locate(['trigger', 'poll', 'cursor'], { key: true }), message: 'the cursor is kept between polls but `with` never sends it; use ${{ poll.cursor }} in `with` (e.g. a query parameter), or remove `cursor`' });
    }
    if (t.body.cursor === undefined) {
      for (const e of inWith) {
        const m = READS_CURSOR.exec(e.source)!;
        report({ at: e.at(m.index, m.index + m[0].length), message: '`poll.cursor` is always null here: the poll has no `cursor` expression to set it' });
      }
    }
  },
};

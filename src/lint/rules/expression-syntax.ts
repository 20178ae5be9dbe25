/** expression-syntax: `${{ ... }}` must be closed and hold valid CEL. */
import { quoteSource } from '../../expr/template.js';
import type { FileRule } from '../rule.js';

export const expressionSyntax: FileRule = {
  id: 'expression-syntax',
  description: 'Expressions must be terminated and parse as CEL.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    for (const t of a.templateProblems) if (t.message.startsWith('unterminated')) report({ at: t.at, message: t.message });
    for (const site of a.expressions) {
      const p = site.checked.problem;
      if (p?.kind !== 'syntax') continue;
      report({ at: site.at(p.start, Math.max(p.end, p.start + 1)), message: `invalid expression ${quoteSource(site.source)}: ${p.message}` });
    }
  },
};

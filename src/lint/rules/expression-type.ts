/**
 * expression-type: expressions must type-check, and conditions must give a bool.
 */
import { quoteSource } from '../../expr/template.js';
import type { FileRule } from '../rule.js';

export const expressionType: FileRule = {
  id: 'expression-type',
  description: 'Expressions must type-check; conditions (`if`, `match`) must be a single expression giving a bool.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    for (const t of a.templateProblems) if (!t.message.startsWith('unterminated')) report({ at: t.at, message: t.message });
    const conditionsSeen = new Set<string>();
    for (const site of a.expressions) {
      const p = site.checked.problem;
      if (p?.kind === 'type') {
        report({ at: site.at(p.start, p.end), message: `type error in ${quoteSource(site.source)}: ${p.message}` });
        continue;
      }
      if (!site.condition || p) continue;
      const key = site.path.join('/');
      if (!site.whole) {
        if (!conditionsSeen.has(key)) report({ at: a.source.locate(site.path), message: 'a condition must be a single `${{ ... }}` expression with no text around it' });
        conditionsSeen.add(key);
        continue;
      }
      const type = site.checked.type;
      if (type !== undefined && type !== 'bool' && type !== 'dyn') {
        report({ at: site.at(0, site.source.length), message: `condition ${quoteSource(site.source)} gives ${type}, not bool` });
      }
    }
  },
};

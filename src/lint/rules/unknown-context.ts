/** unknown-context: an expression may use only the contexts available where it stands. */
import { ALL_CONTEXTS } from '../../expr/cel.js';
import { suggest } from '../../connectors/index.js';
import type { FileRule } from '../rule.js';

export const unknownContext: FileRule = {
  id: 'unknown-context',
  description: 'Expressions may use event, steps, secrets, env, run, workflow, and loop variables where they are in scope.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    for (const site of a.expressions) {
      const p = site.checked.problem;
      if (p?.kind !== 'unknown-variable') continue;
      const name = p.name ?? '';
      const available = [...site.scope.contexts, ...site.scope.loopVars];
      const known = (ALL_CONTEXTS as readonly string[]).includes(name) || name === 'item';
      const message = known
        ? `\`${name}\` is not available here; available: ${available.map((c) => `\`${c}\``).join(', ')}`
        : `unknown name \`${name}\`${suggest(name, available) || `; available: ${available.map((c) => `\`${c}\``).join(', ')}`}`;
      report({ at: site.at(p.start, p.end), message });
    }
  },
};

/** secret-reference: `secrets.NAME` must be declared under `secrets:`, so flux can load and mask it. */
import { suggest } from '../../connectors/index.js';
import type { FileRule } from '../rule.js';

export const secretReference: FileRule = {
  id: 'secret-reference',
  description: 'Secrets used in expressions must be declared in the top-level `secrets` list.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    for (const site of a.expressions) {
      for (const ref of site.checked.references) {
        if (ref.context !== 'secrets' || a.secrets.has(ref.name)) continue;
        report({ at: site.at(ref.start, ref.end), message: `secret \`${ref.name}\` is not declared; add it to \`secrets:\`${suggest(ref.name, [...a.secrets])}` });
      }
    }
  },
};

/**
 * timeout-scope: `timeout` bounds one attempt of a connector call (`uses`). On other steps it
 * would do nothing, so say so instead of letting it be silently ignored; `wait_for` has its own.
 */
import type { FileRule } from '../rule.js';

export const timeoutScope: FileRule = {
  id: 'timeout-scope',
  description: '`timeout` applies to `uses` steps only; elsewhere it has no effect.',
  severity: 'warning',
  scope: 'file',
  check(a, report) {
    for (const s of a.steps) {
      if (s.step.timeout === undefined || s.kind === 'uses' || s.kind === undefined) continue;
      const hint = s.kind === 'wait_for' ? '; use `wait_for.timeout`' : '';
      report({ at: a.source.locate([...s.path, 'timeout'], { key: true }), message: `\`timeout\` has no effect on a \`${s.kind}\` step; it bounds connector calls (\`uses\`)${hint}` });
    }
  },
};

/**
 * response-step: `response: true` marks the one step whose success answers the triggering
 * event; `flux metrics` measures time-to-response to it. Two marks would make that time
 * ambiguous, and a step that makes no call answers nobody, so both are errors.
 */
import { responseSteps } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

export const responseStep: FileRule = {
  id: 'response-step',
  description: 'At most one step is marked `response: true`, and it is a `uses` step.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    // "First" as the reader sees it: by position in the file, wherever `on_error` stands.
    const marked = responseSteps(a.steps)
      .map((s) => ({ s, at: a.source.locate([...s.path, 'response'], { key: true }) }))
      .sort((x, y) => x.at.line - y.at.line || x.at.column - y.at.column);
    const first = marked[0];
    if (!first) return;
    for (const { s, at } of marked) {
      const name = `\`${s.id ?? '?'}\``;
      if (s !== first.s) {
        report({ at, message: `step ${name} is marked \`response: true\`, but step \`${first.s.id ?? '?'}\` already is (at ${first.at.line}:${first.at.column}); a workflow has one response step` });
      }
      // A step with no body (or two) is the schema's to report.
      if (s.kind !== undefined && s.kind !== 'uses') {
        report({ at, message: `step ${name} is a \`${s.kind}\` step and makes no call; \`response: true\` marks the \`uses\` step whose success answers the event` });
      }
    }
  },
};

/** webhook-path: webhook paths must be unique across the workflows the daemon serves. */
import type { ProjectFacts } from '../project-facts.js';
import type { ProjectRule } from '../rule.js';

export const webhookPath: ProjectRule = {
  id: 'webhook-path',
  description: 'Webhook paths must be unique across the workflows the daemon serves.',
  severity: 'error',
  scope: 'project',
  check(files, report) {
    const first = new Map<string, ProjectFacts>();
    for (const f of files) {
      if (!f.webhook) continue;
      const key = `${f.webhook.method} ${f.webhook.path.replace(/\/+$/, '') || '/'}`;
      const earlier = first.get(key);
      if (!earlier?.webhook) {
        first.set(key, f);
        continue;
      }
      const at = earlier.webhook.at;
      report(f, { at: f.webhook.at, message: `webhook path \`${f.webhook.path}\` is already used by workflow \`${earlier.name}\` (${earlier.file}:${at.line}:${at.column})` });
    }
  },
};

/** event-cycle: workflows must not trigger each other in a loop through events. */
import type { EmitFact, ProjectFacts } from '../project-facts.js';
import type { ProjectRule } from '../rule.js';

export const eventCycle: ProjectRule = {
  id: 'event-cycle',
  description: 'Workflows must not trigger each other in a cycle through events.',
  severity: 'error',
  scope: 'project',
  check(files, report) {
    // Edge: workflow A -> workflow B when A emits the event B is triggered by.
    const consumers = new Map<string, ProjectFacts[]>();
    for (const f of files) {
      if (f.triggeredBy !== undefined) consumers.set(f.triggeredBy, [...(consumers.get(f.triggeredBy) ?? []), f]);
    }
    const state = new Map<ProjectFacts, 'active' | 'done'>();
    const stack: { from: ProjectFacts; emit: EmitFact }[] = [];
    const reported = new Set<ProjectFacts>();
    const visit = (f: ProjectFacts) => {
      state.set(f, 'active');
      for (const emit of f.emits) {
        for (const to of consumers.get(emit.event) ?? []) {
          stack.push({ from: f, emit });
          const s = state.get(to);
          if (s === 'active') {
            const cycle = stack.slice(stack.findIndex((x) => x.from === to));
            const start = cycle[0]!;
            if (!reported.has(start.from)) {
              reported.add(start.from);
              const chain = [...cycle.map((x) => `\`${x.from.name}\` emits \`${x.emit.event}\``), `\`${to.name}\` again`].join(' → ');
              report(start.from, { at: start.emit.at, message: `event cycle: ${chain}` });
            }
          } else if (s === undefined) {
            visit(to);
          }
          stack.pop();
        }
      }
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
  },
};

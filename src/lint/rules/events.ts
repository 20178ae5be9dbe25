/**
 * Rules over the workflows linted together: webhook paths that collide, events emitted that
 * no workflow consumes, and chains of events that trigger each other in a cycle.
 */
import { asRecord, triggerOf } from '../../workflow/model.js';
import type { Path } from '../../workflow/source.js';
import type { Analysis } from '../analysis.js';
import type { ProjectRule } from '../rule.js';

interface Emit {
  readonly file: Analysis;
  readonly event: string;
  readonly path: Path;
}

function emitsOf(a: Analysis): Emit[] {
  const out: Emit[] = [];
  for (const s of a.steps) {
    const name = asRecord(s.step.emit)?.event;
    if (typeof name === 'string') out.push({ file: a, event: name, path: [...s.path, 'emit', 'event'] });
  }
  return out;
}

function consumedEvent(a: Analysis): string | undefined {
  const t = triggerOf(a.workflow);
  return t?.kind === 'event' && typeof t.body.name === 'string' ? t.body.name : undefined;
}

function nameOf(a: Analysis): string {
  return typeof a.workflow.name === 'string' ? a.workflow.name : a.source.file;
}

export const webhookPath: ProjectRule = {
  id: 'webhook-path',
  description: 'Webhook paths must be unique across the workflows the daemon serves.',
  severity: 'error',
  scope: 'project',
  check(files, report) {
    const first = new Map<string, Analysis>();
    for (const a of files) {
      const t = triggerOf(a.workflow);
      if (t?.kind !== 'webhook' || typeof t.body.path !== 'string') continue;
      const method = typeof t.body.method === 'string' ? t.body.method : 'POST';
      const key = `${method} ${t.body.path.replace(/\/+$/, '') || '/'}`;
      const earlier = first.get(key);
      if (!earlier) {
        first.set(key, a);
        continue;
      }
      const at = earlier.source.locate(['trigger', 'webhook', 'path']);
      report(a, { at: a.source.locate(['trigger', 'webhook', 'path']), message: `webhook path \`${t.body.path}\` is already used by workflow \`${nameOf(earlier)}\` (${earlier.source.file}:${at.line}:${at.column})` });
    }
  },
};

export const unconsumedEvent: ProjectRule = {
  id: 'unconsumed-event',
  description: 'Warns when a workflow emits an event that no workflow linted with it is triggered by.',
  severity: 'warning',
  scope: 'project',
  check(files, report) {
    const consumed = new Set(files.map(consumedEvent).filter((e): e is string => e !== undefined));
    for (const a of files) {
      for (const s of a.steps) {
        const awaited = asRecord(s.step.wait_for)?.event;
        if (typeof awaited === 'string') consumed.add(awaited);
      }
    }
    for (const a of files) {
      for (const e of emitsOf(a)) {
        if (!consumed.has(e.event)) report(a, { at: a.source.locate(e.path), message: `event \`${e.event}\` is emitted but no workflow is triggered by it or waits for it` });
      }
    }
  },
};

export const eventCycle: ProjectRule = {
  id: 'event-cycle',
  description: 'Workflows must not trigger each other in a cycle through events.',
  severity: 'error',
  scope: 'project',
  check(files, report) {
    // Edge: workflow A -> workflow B when A emits the event B is triggered by.
    const consumers = new Map<string, Analysis[]>();
    for (const a of files) {
      const e = consumedEvent(a);
      if (e) consumers.set(e, [...(consumers.get(e) ?? []), a]);
    }
    const edges = new Map<Analysis, { to: Analysis; emit: Emit }[]>();
    for (const a of files) edges.set(a, emitsOf(a).flatMap((emit) => (consumers.get(emit.event) ?? []).map((to) => ({ to, emit }))));
    const state = new Map<Analysis, 'active' | 'done'>();
    const stack: { from: Analysis; emit: Emit }[] = [];
    const reported = new Set<Analysis>();
    const visit = (a: Analysis) => {
      state.set(a, 'active');
      for (const edge of edges.get(a) ?? []) {
        stack.push({ from: a, emit: edge.emit });
        const s = state.get(edge.to);
        if (s === 'active') {
          const start = stack.findIndex((x) => x.from === edge.to);
          const cycle = stack.slice(start);
          const chain = [...cycle.map((x) => `\`${nameOf(x.from)}\` emits \`${x.emit.event}\``), `\`${nameOf(edge.to)}\` again`].join(' → ');
          const at = cycle[0]!;
          if (!reported.has(at.from)) {
            reported.add(at.from);
            report(at.from, { at: at.from.source.locate(at.emit.path), message: `event cycle: ${chain}` });
          }
        } else if (s === undefined) {
          visit(edge.to);
        }
        stack.pop();
      }
      state.set(a, 'done');
    };
    for (const a of files) if (!state.has(a)) visit(a);
  },
};

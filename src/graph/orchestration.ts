/**
 * The map of a directory: every workflow as a node with its name and owner, linked by the
 * events one emits and another is triggered by or waits for, and by webhook paths they share;
 * what starts each (a schedule, a webhook path, a poll, an event nobody here emits) drawn as a
 * source feeding it.
 */
import { asRecord, walkSteps } from '../workflow/model.js';
import { GraphBuilder, type Graph } from './model.js';
import { exprText, ownerText, triggerLines } from './workflow-graph.js';

type Rec = Readonly<Record<string, unknown>>;

interface Facts {
  readonly node: string;
  readonly name: string;
  readonly emits: readonly string[];
  readonly waitsFor: readonly string[];
  readonly trigger: { readonly kind: string; readonly body: Rec } | undefined;
}

function unique(list: readonly string[]): string[] {
  return [...new Set(list)];
}

/** Draws the workflows (their plain values, as loaded) of a directory titled `title`. */
export function orchestrationGraph(title: string, workflows: readonly Rec[]): Graph {
  const g = new GraphBuilder(title);
  const facts: Facts[] = workflows.map((w) => {
    const name = typeof w.name === 'string' ? w.name : '?';
    const owner = ownerText(w.owner);
    const steps = walkSteps(w);
    const t = w.trigger === 'manual' ? { kind: 'manual', body: {} } : Object.entries(asRecord(w.trigger) ?? {}).map(([kind, body]) => ({ kind, body: asRecord(body) ?? {} }))[0];
    return {
      node: g.node('workflow', [name, owner === '' ? undefined : `owner: ${owner}`, t === undefined || t.kind === 'manual' ? 'started by hand' : undefined]),
      name,
      emits: unique(steps.map((s) => asRecord(s.step.emit)?.event).filter((e): e is string => typeof e === 'string')),
      waitsFor: unique(steps.map((s) => asRecord(s.step.wait_for)?.event).filter((e): e is string => typeof e === 'string')),
      trigger: t,
    };
  });

  const sources = new Map<string, string>();
  const source = (key: string, label: readonly unknown[]) => {
    let id = sources.get(key);
    if (id === undefined) sources.set(key, (id = g.node('source', label)));
    return id;
  };
  const emitters = (event: string) => facts.filter((f) => f.emits.includes(event));
  const consumed = new Set<string>();

  for (const f of facts) {
    const t = f.trigger;
    if (t === undefined || t.kind === 'manual') continue;
    if (t.kind === 'event') {
      const event = String(t.body.name ?? '');
      consumed.add(event);
      const from = emitters(event);
      if (from.length === 0) g.edge(source(`event:${event}`, ['event', event, 'sent from outside']), f.node);
      const when = t.body.if === undefined ? '' : ` if ${exprText(t.body.if)}`;
      for (const e of from) g.edge(e.node, f.node, `${event}${when}`);
    } else {
      const key = t.kind === 'webhook' ? `webhook:${String(t.body.path ?? '')}` : `${t.kind}:${f.name}`;
      g.edge(source(key, triggerLines({ [t.kind]: t.body })), f.node);
    }
  }
  for (const f of facts) {
    for (const event of f.waitsFor) {
      consumed.add(event);
      const from = emitters(event);
      if (from.length === 0) g.edge(source(`event:${event}`, ['event', event, 'sent from outside']), f.node, 'waited for', 'dashed');
      for (const e of from) g.edge(e.node, f.node, `${event} (waited for)`, 'dashed');
    }
  }
  for (const f of facts) {
    for (const event of f.emits) if (!consumed.has(event)) g.edge(f.node, source(`event:${event}`, ['event', event, 'no workflow here consumes it']), 'emits');
  }
  // Workflows on one webhook path: the daemon can serve only one of them, so draw the clash.
  const byPath = new Map<string, Facts[]>();
  for (const f of facts) {
    if (f.trigger?.kind !== 'webhook') continue;
    const path = String(f.trigger.body.path ?? '');
    byPath.set(path, [...(byPath.get(path) ?? []), f]);
  }
  for (const [path, list] of byPath) {
    for (let i = 1; i < list.length; i++) g.edge(list[0]!.node, list[i]!.node, `same webhook path ${path}`, 'dotted');
  }
  return g.build();
}

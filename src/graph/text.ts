/**
 * A graph as rows of text: what a screen reader reads instead of the picture, and what a test
 * can compare. One row per node in drawing order, with where the flow goes from it.
 */
import type { Graph, NodeKind } from './model.js';

const KIND_WORDS: Readonly<Record<NodeKind, string>> = {
  trigger: 'trigger', call: 'call', set: 'set values', decision: 'decision', human: 'human decision', wait: 'wait', emit: 'emit event',
  join: 'join', end: 'end', fail: 'failure', escalation: 'escalation', workflow: 'workflow', source: 'source',
};

export interface GraphRow {
  readonly kind: string;
  readonly label: string;
  readonly group: string | undefined;
  /** "label → target" for each edge out of the node. */
  readonly next: readonly string[];
}

/** The rows of `graph`, in node order. */
export function graphRows(graph: Graph): GraphRow[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const groups = new Map(graph.groups.map((g) => [g.id, g]));
  return graph.nodes.map((n) => ({
    kind: KIND_WORDS[n.kind],
    label: n.label.join(' · '),
    group: n.group === undefined ? undefined : groups.get(n.group)?.label,
    next: graph.edges
      .filter((e) => e.from === n.id)
      .map((e) => `${e.label === undefined ? '' : `${e.label} → `}${byId.get(e.to)?.label[0] ?? e.to}`),
  }));
}

/**
 * A graph in Graphviz's DOT language, for `dot`, editors, and the SVG that `svg.ts` renders
 * from it. Every label is a double-quoted DOT string: backslashes are doubled (so Graphviz's
 * own escapes such as `\N` stay text), quotes escaped, and `&` written `&amp;` so text that
 * looks like an entity is shown as typed.
 */
import { childGroups, groupNodes, type Graph, type GraphEdge, type GraphNode, type NodeKind } from './model.js';

/** User text as a DOT double-quoted string, quotes included. */
export function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/&/g, '&amp;')}"`;
}

const FONT = 'Helvetica,Arial,sans-serif';

const STYLES: Readonly<Record<NodeKind, string>> = {
  trigger: 'shape=box, style="rounded,filled", fillcolor="#e8f1fb", color="#2b6cb0"',
  call: 'shape=box, style="filled", fillcolor="#ffffff"',
  set: 'shape=box, style="filled,dashed", fillcolor="#ffffff"',
  decision: 'shape=diamond, style="filled", fillcolor="#f7fafc"',
  human: 'shape=hexagon, style="filled,bold", fillcolor="#fff4d6", color="#b7791f"',
  wait: 'shape=parallelogram, style="filled", fillcolor="#eef2f6"',
  emit: 'shape=cds, style="filled", fillcolor="#f0e8fb"',
  join: 'shape=circle, style="filled", fillcolor="#f7fafc", fontsize=9',
  end: 'shape=box, style="rounded,filled", fillcolor="#e6f4ea", color="#2f855a"',
  fail: 'shape=octagon, style="filled", fillcolor="#fde8e8", color="#c53030"',
  escalation: 'shape=doubleoctagon, style="filled", fillcolor="#fde8e8", color="#c53030"',
  workflow: 'shape=box, style="rounded,filled,bold", fillcolor="#ffffff"',
  source: 'shape=ellipse, style="filled", fillcolor="#e8f1fb", color="#2b6cb0"',
};

function nodeLine(n: GraphNode): string {
  return `${n.id} [label=${dotString(n.label.join('\n')).replace(/\n/g, '\\n')}, ${STYLES[n.kind]}];`;
}

function edgeLine(e: GraphEdge): string {
  const attrs = [
    e.label === undefined ? undefined : `label=${dotString(e.label)}`,
    e.style === 'dashed' ? 'style=dashed' : e.style === 'dotted' ? 'style=dotted, dir=none' : undefined,
  ].filter((a) => a !== undefined);
  return `${e.from} -> ${e.to}${attrs.length > 0 ? ` [${attrs.join(', ')}]` : ''};`;
}

/** Writes `graph` as a DOT digraph, top to bottom (`LR` for left to right). */
export function toDot(graph: Graph, direction: 'TB' | 'LR' = 'TB'): string {
  const lines = [
    `digraph ${dotString(graph.title)} {`,
    `  graph [rankdir=${direction}, label=${dotString(graph.title)}, labelloc=t, fontname="${FONT}", fontsize=14, nodesep=0.5, ranksep=0.4];`,
    `  node [fontname="${FONT}", fontsize=11, margin="0.12,0.05"];`,
    `  edge [fontname="${FONT}", fontsize=10, color="#4a5568"];`,
  ];
  const draw = (group: string | undefined, indent: string) => {
    for (const n of groupNodes(graph, group)) lines.push(`${indent}${nodeLine(n)}`);
    for (const sub of childGroups(graph, group)) {
      lines.push(`${indent}subgraph cluster_${sub.id} {`, `${indent}  label=${dotString(sub.label)}; style="rounded,dashed"; color="#718096";`);
      draw(sub.id, `${indent}  `);
      lines.push(`${indent}}`);
    }
  };
  draw(undefined, '  ');
  for (const e of graph.edges) lines.push(`  ${edgeLine(e)}`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

/**
 * A graph as a Mermaid flowchart, the text GitHub and most editors render in Markdown. Node ids
 * are generated; every label is written in double quotes with each character that Mermaid,
 * Markdown or HTML could read as syntax written as a numeric entity (`#34;` for a quote), so
 * user text never closes a label, starts an edge, or becomes markup.
 */
import { childGroups, groupNodes, type Graph, type GraphEdge, type GraphNode, type NodeKind } from './model.js';

/** Characters written as they are; anything else ASCII is an entity. */
const SAFE = /[A-Za-z0-9 .,:_/@+=?!%'()*-]/;
/** Non-ASCII characters Mermaid itself uses as markers while it decodes entities. */
const MERMAID_MARKERS = new Set(['ﬂ', '°', '¶', 'ß']);

/**
 * User text as the inside of a Mermaid double-quoted string. Mermaid reads `$$…$$` as KaTeX
 * even when written as entities, so a zero-width space (U+200B) is put between two dollars.
 */
export function mermaidText(text: string): string {
  let out = '';
  let last = '';
  for (const c of text) {
    const code = c.codePointAt(0)!;
    if (c === '$' && last === '$') out += '#8203;';
    out += SAFE.test(c) || (code > 0x7f && !MERMAID_MARKERS.has(c)) ? c : `#${code};`;
    last = c;
  }
  return out;
}

const SHAPES: Readonly<Record<NodeKind, readonly [string, string]>> = {
  trigger: ['([', '])'],
  call: ['[', ']'],
  set: ['[', ']'],
  decision: ['{', '}'],
  human: ['{{', '}}'],
  wait: ['[/', '/]'],
  emit: ['>', ']'],
  join: ['((', '))'],
  end: ['([', '])'],
  fail: ['[[', ']]'],
  escalation: ['[\\', '\\]'],
  workflow: ['[', ']'],
  source: ['([', '])'],
};

const CLASSES: Readonly<Partial<Record<NodeKind, string>>> = {
  trigger: 'fill:#e8f1fb,stroke:#2b6cb0',
  human: 'fill:#fff4d6,stroke:#b7791f,stroke-width:2px',
  wait: 'fill:#eef2f6,stroke:#4a5568',
  fail: 'fill:#fde8e8,stroke:#c53030',
  escalation: 'fill:#fde8e8,stroke:#c53030,stroke-width:2px',
  end: 'fill:#e6f4ea,stroke:#2f855a',
  source: 'fill:#e8f1fb,stroke:#2b6cb0',
};

function nodeLine(n: GraphNode): string {
  const [open, close] = SHAPES[n.kind];
  return `${n.id}${open}"${n.label.map(mermaidText).join('<br>')}"${close}`;
}

function edgeLine(e: GraphEdge): string {
  const arrow = e.style === 'dashed' ? '-.->' : e.style === 'dotted' ? '-.-' : '-->';
  return e.label === undefined ? `${e.from} ${arrow} ${e.to}` : `${e.from} ${arrow}|"${mermaidText(e.label)}"| ${e.to}`;
}

/** Writes `graph` as a Mermaid flowchart, top to bottom (`LR` for left to right). */
export function toMermaid(graph: Graph, direction: 'TD' | 'LR' = 'TD'): string {
  const lines = ['---', `title: "${mermaidText(graph.title)}"`, '---', `flowchart ${direction}`];
  const draw = (group: string | undefined, indent: string) => {
    for (const n of groupNodes(graph, group)) lines.push(`${indent}${nodeLine(n)}`);
    for (const sub of childGroups(graph, group)) {
      lines.push(`${indent}subgraph ${sub.id}["${mermaidText(sub.label)}"]`);
      draw(sub.id, `${indent}  `);
      lines.push(`${indent}end`);
    }
  };
  draw(undefined, '  ');
  for (const e of graph.edges) lines.push(`  ${edgeLine(e)}`);
  for (const [kind, style] of Object.entries(CLASSES)) {
    const ids = graph.nodes.filter((n) => n.kind === kind).map((n) => n.id);
    if (ids.length === 0) continue;
    lines.push(`  classDef k_${kind} ${style}`, `  class ${ids.join(',')} k_${kind}`);
  }
  return `${lines.join('\n')}\n`;
}

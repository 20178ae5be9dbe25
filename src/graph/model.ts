/**
 * The map of a workflow (or of a directory of them) as a small graph: nodes with a kind that
 * decides their shape, labelled edges, and nested groups (foreach, parallel, on_error). The
 * builders in this folder turn workflows into it; the writers (mermaid.ts, dot.ts) turn it into
 * text. Labels hold the user's text as it is, bounded in length; each writer escapes it for
 * its own format, so a label can never break out of the diagram.
 */

/** What a node stands for; each writer gives every kind its own shape. */
export type NodeKind =
  | 'trigger' // what starts the run: manual, schedule, webhook, poll, event
  | 'call' // a `uses` step
  | 'set'
  | 'decision' // an `if` or a `switch`
  | 'human' // an approval step: a person decides
  | 'wait' // wait, wait_for
  | 'emit'
  | 'join' // where parallel branches meet again
  | 'end' // the run succeeds
  | 'fail' // the run fails
  | 'escalation' // the owner (or the next in line) is told
  | 'workflow' // a workflow, in the map of a directory
  | 'source'; // a trigger source or event shared by workflows, in the map of a directory

export interface GraphNode {
  /** A generated id (n0, n1…): never user text, so it needs no escaping. */
  readonly id: string;
  readonly kind: NodeKind;
  /** Lines of the label, each already bounded (see `bound`). */
  readonly label: readonly string[];
  /** The group the node is drawn in, if any. */
  readonly group?: string | undefined;
  /** The step id the node draws, for text equivalents and tests. */
  readonly step?: string | undefined;
}

export type EdgeStyle = 'solid' | 'dashed' | 'dotted';

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly label?: string | undefined;
  /** solid: the normal path; dashed: failure, timeout and escalation paths; dotted: an association without a direction. */
  readonly style: EdgeStyle;
}

export interface GraphGroup {
  readonly id: string;
  readonly label: string;
  readonly parent?: string | undefined;
}

export interface Graph {
  readonly title: string;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
  readonly groups: readonly GraphGroup[];
}

/** Longest label line drawn; longer user text is cut with an ellipsis. */
export const MAX_LABEL = 80;

/**
 * User text as one bounded label line: control characters and line breaks become spaces,
 * runs of spaces one, and text past `max` characters (code points) is cut with "…".
 */
export function bound(text: unknown, max = MAX_LABEL): string {
  const s = (typeof text === 'string' ? text : text === undefined || text === null ? '' : typeof text === 'object' ? JSON.stringify(text) ?? '' : String(text))
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/** Builds a graph node by node; ids are handed out in order. */
export class GraphBuilder {
  private readonly nodes: GraphNode[] = [];
  private readonly edges: GraphEdge[] = [];
  private readonly groups: GraphGroup[] = [];

  constructor(private readonly title: string) {}

  /** Adds a node; label lines are bounded and empty ones dropped. Returns its id. */
  node(kind: NodeKind, label: readonly unknown[], options: { group?: string | undefined; step?: string | undefined } = {}): string {
    const id = `n${this.nodes.length}`;
    const lines = label.map((l) => bound(l)).filter((l) => l !== '');
    this.nodes.push({ id, kind, label: lines.length > 0 ? lines : [kind], group: options.group, step: options.step });
    return id;
  }

  /** Adds an edge from node `from` to node `to`. */
  edge(from: string, to: string, label?: unknown, style: EdgeStyle = 'solid'): void {
    const text = label === undefined ? undefined : bound(label);
    this.edges.push({ from, to, label: text === '' ? undefined : text, style });
  }

  /** Adds a group (inside `parent`, when given). Returns its id. */
  group(label: unknown, parent?: string): string {
    const id = `g${this.groups.length}`;
    this.groups.push({ id, label: bound(label), parent });
    return id;
  }

  /** The graph as built so far. */
  build(): Graph {
    return { title: bound(this.title), nodes: this.nodes, edges: this.edges, groups: this.groups };
  }
}

/** The groups of `graph` whose parent is `parent` (top level for undefined). */
export function childGroups(graph: Graph, parent: string | undefined): GraphGroup[] {
  return graph.groups.filter((g) => g.parent === parent);
}

/** The nodes drawn directly in `group` (top level for undefined). */
export function groupNodes(graph: Graph, group: string | undefined): GraphNode[] {
  return graph.nodes.filter((n) => n.group === group);
}

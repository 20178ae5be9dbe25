/**
 * A workflow's map in the HTML report: the SVG `flux graph` renders (Graphviz), inlined and
 * sized to fit its column, named for screen readers by a title and description, with the map
 * as a table beside it (every node, what it is, and where the flow goes from it) as its text
 * equivalent. The SVG's ids are prefixed per workflow so several maps share a page, and
 * Graphviz's per-node tooltips (the generated ids) are dropped.
 */
import type { Graph } from '../../graph/model.js';
import { graphRows } from '../../graph/text.js';
import { esc } from './html-text.js';

/** A workflow's map: the SVG rendered from its graph, and the graph for the text equivalent. */
export interface WorkflowMap {
  readonly svg: string;
  readonly graph: Graph;
}

/** Graphviz's SVG document made an inline, named, fitting image with ids under `prefix`. */
function inlineSvg(svg: string, prefix: string, title: string, description: string): string {
  const body = svg
    .replace(/^[\s\S]*?(?=<svg[\s>])/, '') // the XML declaration, doctype and comments before the root
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<title>[^<]*<\/title>\n?/g, '')
    .replace(/ id="/g, ` id="${prefix}-`);
  return body.replace(
    /^<svg\b/,
    `<svg class="map" role="img" aria-labelledby="${prefix}-t ${prefix}-d"`,
  ).replace(/^(<svg[^>]*>)/, `$1<title id="${prefix}-t">${esc(title)}</title><desc id="${prefix}-d">${esc(description)}</desc>`);
}

/** The figure of a workflow's map for the section with id `id`. */
export function mapFigure(map: WorkflowMap, id: string, name: string): string {
  const prefix = `${id}-map`;
  const rows = graphRows(map.graph);
  const steps = map.graph.nodes.filter((n) => n.step !== undefined).length;
  const summary = `${rows.length} boxes, ${steps} of them steps, ${map.graph.edges.length} arrows; the table below lists each.`;
  const title = `Map of ${name}`;
  const body = rows
    .map((r) => `<tr><th scope="row">${esc(r.label)}</th><td>${esc(r.kind)}</td><td>${r.group === undefined ? '' : esc(r.group)}</td><td>${esc(r.next.join('; '))}</td></tr>`)
    .join('');
  const table =
    `<div class="sr-only"><table><caption>${esc(title)}, as a list</caption>` +
    `<thead><tr><th scope="col">Box</th><th scope="col">Kind</th><th scope="col">Inside</th><th scope="col">Leads to</th></tr></thead>` +
    `<tbody>${body}</tbody></table></div>`;
  return `<figure class="map">${inlineSvg(map.svg, prefix, title, summary)}<figcaption><strong>Map</strong> of the workflow as its file draws it (<code>flux graph</code>).</figcaption>${table}</figure>`;
}

/// <reference lib="dom" />
/**
 * Renders flux graph output with the real renderers and reads the drawing back: Mermaid with
 * Mermaid itself in headless Chromium, DOT with Graphviz (viz-js) parsed into a DOM in the same
 * browser. What comes back is the drawing's nodes (by the generated id and the text shown),
 * edges, edge labels and groups, and any element a label must never become (script, markup).
 */
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../metrics/html-check.js';

const MERMAID = fileURLToPath(new URL('../../node_modules/mermaid/dist/mermaid.min.js', import.meta.url));

/** What a rendered drawing holds. */
export interface Drawing {
  /** Node id (n0, n1…) → the text shown in it. */
  readonly nodes: Readonly<Record<string, string>>;
  readonly edges: number;
  readonly edgeLabels: readonly string[];
  readonly clusters: readonly string[];
  /** Elements no label may produce: script, foreign markup such as b or img, iframes. */
  readonly injected: readonly string[];
}

/** A browser with a page that has Mermaid loaded; close the browser when done. */
export async function mermaidPage(): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const context = await browser.newContext();
  await context.route('**/*', (route) => (route.request().url().startsWith('about:') || route.request().url().startsWith('data:') ? route.continue() : route.abort()));
  const page = await context.newPage();
  await page.setContent('<!doctype html><html><body><div id="out"></div></body></html>');
  await page.addScriptTag({ path: MERMAID });
  await page.evaluate(() => (window as unknown as { mermaid: { initialize(o: object): void } }).mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' }));
  return { browser, page };
}

let renders = 0;

/** Renders Mermaid text; throws with Mermaid's message when it does not parse. */
export async function renderMermaid(page: Page, text: string): Promise<Drawing> {
  const id = `graph${renders++}`;
  return page.evaluate(async ({ text, id }) => {
    const m = (window as unknown as { mermaid: { render(id: string, text: string): Promise<{ svg: string }> } }).mermaid;
    const { svg } = await m.render(id, text);
    const out = document.getElementById('out')!;
    out.innerHTML = svg;
    const nodes: Record<string, string> = {};
    for (const g of Array.from(out.querySelectorAll('g.node'))) {
      const nid = /flowchart-(n\d+)-/.exec(g.id)?.[1];
      if (nid) nodes[nid] = (g.textContent ?? '').trim();
    }
    return {
      nodes,
      edges: out.querySelectorAll('path.flowchart-link').length,
      edgeLabels: Array.from(out.querySelectorAll('g.edgeLabel'), (e) => (e.textContent ?? '').trim()).filter((t) => t !== ''),
      clusters: Array.from(out.querySelectorAll('g.cluster'), (c) => (c.querySelector('.cluster-label')?.textContent ?? '').trim()),
      injected: Array.from(out.querySelectorAll('script, iframe, img, b, object, embed'), (e) => e.tagName),
    };
  }, { text, id });
}

/** Reads an SVG from Graphviz back in the page: nodes by their DOT id, edges, edge labels and clusters. */
export async function readGraphvizSvg(page: Page, svg: string): Promise<Drawing> {
  return page.evaluate((svg) => {
    const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
    const error = doc.querySelector('parsererror');
    if (error) throw new Error(`not well-formed SVG: ${error.textContent ?? ''}`);
    const title = (g: Element) => g.querySelector(':scope > title')?.textContent ?? '';
    const texts = (g: Element) => Array.from(g.querySelectorAll(':scope > text'), (t) => t.textContent ?? '').join('');
    const nodes: Record<string, string> = {};
    for (const g of Array.from(doc.querySelectorAll('g.node'))) nodes[title(g)] = texts(g);
    return {
      nodes,
      edges: doc.querySelectorAll('g.edge').length,
      edgeLabels: Array.from(doc.querySelectorAll('g.edge'), texts).filter((t) => t !== ''),
      clusters: Array.from(doc.querySelectorAll('g.cluster'), texts),
      injected: Array.from(doc.querySelectorAll('script, iframe, img, object, embed, foreignObject'), (e) => e.tagName),
    };
  }, svg);
}

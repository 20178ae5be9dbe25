/**
 * SVG from DOT through Graphviz compiled to WebAssembly (@viz-js/viz): real Graphviz layout,
 * no browser, no native build. The instance is made once and reused.
 */
import type { Viz } from '@viz-js/viz';

let viz: Promise<Viz> | undefined;

/** Renders DOT text as a standalone SVG document. */
export async function dotToSvg(dot: string): Promise<string> {
  viz ??= import('@viz-js/viz').then((m) => m.instance());
  return (await viz).renderString(dot, { format: 'svg' });
}

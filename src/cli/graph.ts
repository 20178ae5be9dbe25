/**
 * `flux graph <file|dir>`: draw one workflow, or the workflows of a directory and how they
 * link, as Mermaid (default), DOT or SVG (src/graph/). Exit 0 when drawn; 2 when the path
 * cannot be read or a workflow does not load (its problems printed as `flux lint` prints
 * them), or on a bad flag; 3 on an internal fault (printed by main).
 */
import { statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { formatStylish } from '../lint/format/stylish.js';
import { toDot } from '../graph/dot.js';
import { loadForGraph } from '../graph/files.js';
import { toMermaid } from '../graph/mermaid.js';
import type { Graph } from '../graph/model.js';
import { orchestrationGraph } from '../graph/orchestration.js';
import { workflowGraph } from '../graph/workflow-graph.js';
import { escapeControl } from '../text/escape.js';
import { displayPath, ExitCode, UsageError, type Io } from './io.js';
import { writeAtomically } from './write-out.js';

/** The formats `--format` takes. */
export const GRAPH_FORMATS = ['mermaid', 'dot', 'svg'] as const;
/** One of the formats. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/** The options as commander hands them over (strings, checked here). */
export interface GraphOptions {
  readonly format?: string | undefined;
  readonly out?: string | undefined;
}

const EXTENSIONS: Readonly<Record<string, GraphFormat>> = { mmd: 'mermaid', mermaid: 'mermaid', dot: 'dot', gv: 'dot', svg: 'svg' };

/** The format: --format, else from --out's extension (.mmd, .mermaid, .dot, .gv, .svg), else mermaid. */
export function chooseGraphFormat(format: string | undefined, out: string | undefined): GraphFormat {
  if (format !== undefined) {
    if (!(GRAPH_FORMATS as readonly string[]).includes(format)) throw new UsageError(`--format takes ${GRAPH_FORMATS.join(', ')}, not \`${escapeControl(format)}\``);
    return format as GraphFormat;
  }
  const ext = out === undefined ? undefined : /\.([a-z]+)$/i.exec(out)?.[1]?.toLowerCase();
  if (ext === undefined) return 'mermaid';
  const chosen = EXTENSIONS[ext];
  if (chosen === undefined) throw new UsageError(`cannot tell the format from --out \`${escapeControl(out!)}\`: name it .mmd, .dot or .svg, or say --format mermaid|dot|svg`);
  return chosen;
}

/** Runs the graph command; returns the exit code. */
export async function graphCommand(path: string, options: GraphOptions, io: Io): Promise<number> {
  const format = chooseGraphFormat(options.format, options.out);
  const full = isAbsolute(path) ? path : join(io.cwd, path);
  let isDir: boolean;
  try {
    isDir = statSync(full).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code ?? String(error);
    throw new UsageError(`cannot read \`${escapeControl(displayPath(full, io.cwd))}\`: ${why}`);
  }
  const show = (p: string) => displayPath(p, io.cwd);
  const loaded = await loadForGraph([full], show);
  if (loaded.diagnostics.length > 0) {
    io.stderr.write(formatStylish(loaded.diagnostics, loaded.texts));
    const failed = new Set(loaded.diagnostics.map((d) => d.file)).size;
    io.stderr.write(`flux: nothing drawn: ${failed} ${failed === 1 ? 'file does' : 'files do'} not load (see \`flux lint\`)\n`);
    return ExitCode.usage;
  }
  if (loaded.workflows.length === 0) throw new UsageError(`no *.yaml or *.yml files found in \`${escapeControl(show(full))}\``);

  const graph: Graph = isDir
    ? orchestrationGraph(basename(resolve(full)), loaded.workflows.map((w) => w.value))
    : workflowGraph(loaded.workflows[0]!.value);
  const text = await render(graph, format, isDir);
  if (options.out !== undefined) writeAtomically(isAbsolute(options.out) ? options.out : join(io.cwd, options.out), text, io);
  else io.stdout.write(text);
  return ExitCode.ok;
}

async function render(graph: Graph, format: GraphFormat, wide: boolean): Promise<string> {
  if (format === 'mermaid') return toMermaid(graph, wide ? 'LR' : 'TD');
  const dot = toDot(graph, wide ? 'LR' : 'TB');
  if (format === 'dot') return dot;
  const { dotToSvg } = await import('../graph/svg.js');
  return dotToSvg(dot);
}

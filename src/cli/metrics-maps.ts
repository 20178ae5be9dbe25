/**
 * The workflow maps `flux metrics --format html` embeds: the workflow files under
 * `--workflows DIR` (default: workflows/ in the current directory, when there is one, as
 * `flux lint` and `flux runs show` look there), matched to the report's workflows by name and
 * drawn as `flux graph FILE --format svg` draws them. A file that does not load costs its map,
 * with a line on stderr, never the report.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { toDot } from '../graph/dot.js';
import { loadForGraph } from '../graph/files.js';
import { dotToSvg } from '../graph/svg.js';
import { workflowGraph } from '../graph/workflow-graph.js';
import type { WorkflowMap } from '../metrics/format/html-map.js';
import { escapeControl } from '../text/escape.js';
import { displayPath, UsageError, type Io } from './io.js';

/** The maps of the workflows named in `names`, by name. */
export async function workflowMaps(option: string | undefined, names: readonly string[], io: Io): Promise<Map<string, WorkflowMap>> {
  const maps = new Map<string, WorkflowMap>();
  let dir: string;
  if (option === undefined) {
    dir = join(io.cwd, 'workflows');
    if (!existsSync(dir)) return maps;
  } else {
    dir = isAbsolute(option) ? option : join(io.cwd, option);
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) throw new UsageError(`--workflows \`${escapeControl(displayPath(dir, io.cwd))}\`: no such directory`);
  }
  if (names.length === 0) return maps;
  const loaded = await loadForGraph([dir], (p) => displayPath(p, io.cwd));
  const failed = new Set(loaded.diagnostics.map((d) => d.file));
  if (failed.size > 0) {
    const list = [...failed].slice(0, 5).map((f) => `\`${escapeControl(f)}\``).join(', ');
    io.stderr.write(`flux: ${failed.size} workflow file${failed.size === 1 ? '' : 's'} did not load (${list}${failed.size > 5 ? ', …' : ''}); no map for ${failed.size === 1 ? 'it' : 'them'} (see \`flux lint\`)\n`);
  }
  const wanted = new Set(names);
  for (const w of loaded.workflows) {
    const name = String(w.value.name);
    if (!wanted.has(name) || maps.has(name)) continue;
    const graph = workflowGraph(w.value);
    maps.set(name, { graph, svg: await dotToSvg(toDot(graph)) });
  }
  return maps;
}

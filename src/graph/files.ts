/**
 * Loading workflows to draw them: one file, or every *.yaml/*.yml under a directory (the same
 * walk `flux lint` makes), each through the loader `flux run` uses, so a map is only drawn of
 * a workflow that would run.
 */
import { loadWorkflow } from '../workflow/load.js';
import { expandPaths } from '../lint/files.js';
import type { Diagnostic } from '../lint/diagnostic.js';

export interface LoadedForGraph {
  readonly file: string;
  readonly value: Readonly<Record<string, unknown>>;
}

export interface GraphInputs {
  readonly workflows: readonly LoadedForGraph[];
  /** Problems of the files that did not load, as `flux lint` reports them. */
  readonly diagnostics: readonly Diagnostic[];
  /** Each failed file's text, for the excerpts under its problems. */
  readonly texts: ReadonlyMap<string, string>;
  /** How many files were found. */
  readonly files: number;
}

/** Loads `paths` (files as given, directories walked), naming each file by `show(path)`. */
export async function loadForGraph(paths: readonly string[], show: (path: string) => string): Promise<GraphInputs> {
  const expanded = await expandPaths(paths);
  const diagnostics: Diagnostic[] = [
    ...expanded.missing.map((m): Diagnostic => ({ file: show(m), line: 1, column: 1, severity: 'error', ruleId: 'io', message: 'cannot read file: no such file or directory' })),
    ...expanded.unreadable.map((u): Diagnostic => ({ file: show(u.path), line: 1, column: 1, severity: 'error', ruleId: 'io', message: `cannot read directory: ${u.reason}` })),
  ];
  const texts = new Map<string, string>();
  const workflows: LoadedForGraph[] = [];
  for (const path of expanded.files) {
    const result = await loadWorkflow(path, show(path));
    if (result.ok) workflows.push({ file: result.workflow.file, value: result.workflow.value });
    else {
      diagnostics.push(...result.diagnostics);
      if (result.text !== undefined) texts.set(show(path), result.text);
    }
  }
  return { workflows, diagnostics, texts, files: expanded.files.length };
}

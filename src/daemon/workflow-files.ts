/**
 * Reading the daemon's workflow files, at start and at each SIGHUP: expand the paths it was
 * given, lint every file together (cross-file rules such as unique webhook paths need them
 * all), and split them into the files it can serve and the ones it cannot, each of those with
 * its first error as `file:line:col: message [rule]`. It prints nothing: the command decides
 * whether errors stop the start (they do, unless `--skip-invalid`), and a reload logs them.
 */
import type { LoadedWorkflow } from '../engine/types.js';
import type { Diagnostic } from '../lint/diagnostic.js';
import { expandPaths, type Unlisted } from '../lint/files.js';
import { lintFiles } from '../lint/linter.js';
import { allowingSilent, loadWorkflow } from '../workflow/load.js';

/** A workflow the daemon can serve, with the text its version hash is of. */
export interface ServedWorkflow {
  readonly workflow: LoadedWorkflow;
  readonly text: string;
}

/** A file the daemon cannot serve, and why. */
export interface InvalidFile {
  /** The file as messages name it (`workflow.file` of a served version of it). */
  readonly file: string;
  /** Its first error, `file:line:col: message [rule]`. */
  readonly firstError: string;
}

/** What reading the paths found. */
export interface WorkflowFiles {
  readonly valid: readonly ServedWorkflow[];
  readonly invalid: readonly InvalidFile[];
  /** Every error, and the texts of the files they are in, for `flux lint`-style output. */
  readonly errors: readonly Diagnostic[];
  readonly texts: ReadonlyMap<string, string>;
  /** Arguments that matched nothing (named as `nameOf` names them). */
  readonly missing: readonly string[];
  /** Directories that could not be listed (named as `nameOf` names them): the files in them are neither valid nor gone. */
  readonly unlisted: readonly Unlisted[];
}

/**
 * Reads absolute `paths`, naming each file as `nameOf` says (relative to the working directory).
 * A workflow that can fail with nobody told (escalation-target) is refused unless `allowSilent`.
 */
export async function readWorkflowFiles(paths: readonly string[], nameOf: (path: string) => string, options: { readonly allowSilent?: boolean } = {}): Promise<WorkflowFiles> {
  const expanded = await expandPaths(paths);
  const linted = await lintFiles(expanded.files.map((path) => ({ path, name: nameOf(path) })));
  const errors = allowingSilent(linted.diagnostics, options.allowSilent === true).filter((d) => d.severity === 'error');
  const firstByFile = new Map<string, Diagnostic>();
  for (const d of errors) if (!firstByFile.has(d.file)) firstByFile.set(d.file, d);
  const valid: ServedWorkflow[] = [];
  const invalid: InvalidFile[] = [];
  for (const path of expanded.files) {
    const name = nameOf(path);
    const first = firstByFile.get(name);
    if (first) {
      invalid.push({ file: name, firstError: describe(first) });
      continue;
    }
    // Linted clean a moment ago; loading it again stamps its version (and catches a file
    // changed in between, which is then refused like any file with an error).
    const loaded = await loadWorkflow(path, name, options);
    if (loaded.ok) valid.push({ workflow: loaded.workflow, text: loaded.text });
    else invalid.push({ file: name, firstError: loaded.ioMessage ?? (loaded.diagnostics[0] ? describe(loaded.diagnostics[0]) : `${name}: cannot be loaded`) });
  }
  return { valid, invalid, errors, texts: linted.texts, missing: expanded.missing.map(nameOf), unlisted: expanded.unreadable.map((u) => ({ path: nameOf(u.path), reason: u.reason })) };
}

/** A diagnostic on one line, as `flux lint` heads it. */
export function describe(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message} [${d.ruleId}]`;
}

/**
 * Loading a workflow to run it: parse, lint with the file rules (refusing on errors), and
 * stamp it with the content hash every run record carries as `workflow_version`.
 */
import { createHash } from 'node:crypto';
import type { LoadedWorkflow } from '../engine/types.js';
import { compareDiagnostics, type Diagnostic } from '../lint/diagnostic.js';
import { lintSources } from '../lint/linter.js';
import { isSilentWorkflow } from '../lint/rules/escalation-target.js';
import { rules } from '../lint/rules/index.js';
import { asRecord, ownerOf } from './model.js';
import { loadFile } from './source.js';

export type LoadWorkflowResult =
  | { readonly ok: true; readonly workflow: LoadedWorkflow; readonly text: string; readonly warnings: readonly Diagnostic[] }
  | {
    readonly ok: false;
    /** The file's problems; an unreadable file has one, with rule id `io`. */
    readonly diagnostics: readonly Diagnostic[];
    readonly text?: string;
    /** True when the file could not be read at all, so there is nothing in it to fix. */
    readonly unreadable: boolean;
    /** For an unreadable file, the whole story in one line: "cannot read x.yaml: no such file". */
    readonly ioMessage?: string;
  };

/**
 * Loads and lints one workflow file (file rules only: cross-file rules need the whole directory).
 * `allowSilent`: a daemon-run workflow with no escalation is let through as a warning
 * (`flux run`, watched from a terminal; `flux daemon --allow-silent`).
 */
export async function loadWorkflow(path: string, name: string = path, options: { readonly allowSilent?: boolean } = {}): Promise<LoadWorkflowResult> {
  const loaded = await loadFile(path, name);
  if (!loaded.ok) {
    if (loaded.unreadable === undefined) {
      return { ok: false, diagnostics: loaded.diagnostics, unreadable: false, ...(loaded.text !== undefined ? { text: loaded.text } : {}) };
    }
    return { ok: false, diagnostics: loaded.diagnostics, unreadable: true, ioMessage: `cannot read ${name}: ${loaded.unreadable}` };
  }
  const fileRules = rules.filter((r) => r.scope === 'file');
  const diagnostics = allowingSilent(lintSources([loaded.source], fileRules).diagnostics, options.allowSilent === true);
  const errors = diagnostics.filter((d) => d.severity === 'error').sort(compareDiagnostics);
  if (errors.length > 0) return { ok: false, diagnostics: errors, text: loaded.source.text, unreadable: false };
  const value = loaded.source.value;
  const workflow: LoadedWorkflow = {
    file: name,
    value,
    name: String(value.name),
    owner: ownerOf(value).name,
    version: `sha256:${createHash('sha256').update(loaded.source.text).digest('hex')}`,
    baseline: asRecord(value.baseline) ?? null,
  };
  return { ok: true, workflow, text: loaded.source.text, warnings: diagnostics.filter((d) => d.severity === 'warning') };
}

/** With `allow`, the silent-workflow error (escalation-target) becomes a warning; otherwise the list as it is. */
export function allowingSilent(diagnostics: readonly Diagnostic[], allow: boolean): Diagnostic[] {
  return allow ? diagnostics.map((d) => (isSilentWorkflow(d) ? { ...d, severity: 'warning' as const } : d)) : [...diagnostics];
}

/**
 * The linter: load each file once, check it against the schema, run every file rule on the
 * shared analysis, then the project rules across all files. Returns sorted diagnostics.
 */
import { loadFile, type SourceFile } from '../workflow/source.js';
import { analyze, type Analysis } from './analysis.js';
import { compareDiagnostics, type Diagnostic } from './diagnostic.js';
import type { Report, Rule } from './rule.js';
import { rules as allRules } from './rules/index.js';
import { checkSchema } from './schema-check.js';

export interface LintResult {
  readonly diagnostics: readonly Diagnostic[];
  /** Sources that parsed, with their analyses, for callers such as `flux run`. */
  readonly analyses: readonly Analysis[];
  /** Files that could not be read at all (missing, permission denied). */
  readonly unreadable: number;
}

/** A file to lint: where it is, and the name to report it under (default: the path). */
export type LintInput = string | { readonly path: string; readonly name: string };

/** Lints files on disk. */
export async function lintFiles(files: readonly LintInput[], rules: readonly Rule[] = allRules): Promise<LintResult> {
  const diagnostics: Diagnostic[] = [];
  const sources: SourceFile[] = [];
  let unreadable = 0;
  const loaded = await Promise.all(files.map((f) => (typeof f === 'string' ? loadFile(f) : loadFile(f.path, f.name))));
  for (const result of loaded) {
    if (result.ok) sources.push(result.source);
    else {
      diagnostics.push(...result.diagnostics);
      if (result.diagnostics.some((d) => d.ruleId === 'io')) unreadable++;
    }
  }
  const linted = lintSources(sources, rules);
  return { diagnostics: [...diagnostics, ...linted.diagnostics].sort(compareDiagnostics), analyses: linted.analyses, unreadable };
}

/** Lints sources already parsed. */
export function lintSources(sources: readonly SourceFile[], rules: readonly Rule[] = allRules): { diagnostics: Diagnostic[]; analyses: Analysis[] } {
  const diagnostics: Diagnostic[] = [];
  const analyses: Analysis[] = [];
  for (const source of sources) {
    diagnostics.push(...checkSchema(source));
    const a = analyze(source);
    analyses.push(a);
    for (const rule of rules) {
      if (rule.scope !== 'file') continue;
      rule.check(a, (r) => diagnostics.push(toDiagnostic(a, rule, r)));
    }
  }
  for (const rule of rules) {
    if (rule.scope !== 'project') continue;
    rule.check(analyses, (a, r) => diagnostics.push(toDiagnostic(a, rule, r)));
  }
  return { diagnostics: diagnostics.sort(compareDiagnostics), analyses };
}

function toDiagnostic(a: Analysis, rule: Rule, r: Report): Diagnostic {
  return { file: a.source.file, ...r.at, severity: r.severity ?? rule.severity, ruleId: rule.id, message: r.message };
}

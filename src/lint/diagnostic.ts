/**
 * Diagnostics: the one shape every problem takes, whether it comes from the YAML parser,
 * the JSON Schema, a lint rule, or `flux run` refusing to start. Plain data, 1-based positions.
 */

export type Severity = 'error' | 'warning';

export interface Position {
  readonly line: number;
  readonly column: number;
  readonly endLine?: number;
  readonly endColumn?: number;
}

export interface Diagnostic extends Position {
  readonly file: string;
  readonly severity: Severity;
  readonly ruleId: string;
  readonly message: string;
}

/** Orders diagnostics by file, then position, then rule id, so output is stable. */
export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}

/** Counts errors and warnings. */
export function countBySeverity(diagnostics: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  for (const d of diagnostics) if (d.severity === 'error') errors++;
  return { errors, warnings: diagnostics.length - errors };
}

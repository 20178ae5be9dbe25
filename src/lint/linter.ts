/**
 * The linter: load each file once, check it against the schema, run every file rule on the
 * shared analysis, then the project rules across all files. Returns sorted diagnostics.
 * Files are processed a few at a time and their parsed documents released, so memory stays
 * flat on large repositories.
 */
import { loadFile, type SourceFile } from '../workflow/source.js';
import { analyze, type Analysis } from './analysis.js';
import { compareDiagnostics, type Diagnostic } from './diagnostic.js';
import { factsOf, type ProjectFacts } from './project-facts.js';
import type { Report, Rule } from './rule.js';
import { rules as allRules } from './rules/index.js';
import { checkSchema } from './schema-check.js';

export interface LintResult {
  readonly diagnostics: readonly Diagnostic[];
  /** The text of every file that has a diagnostic, for excerpts. */
  readonly texts: ReadonlyMap<string, string>;
  /** Files that could not be read at all (missing, permission denied). */
  readonly unreadable: number;
}

/** A file to lint: where it is, and the name to report it under (default: the path). */
export type LintInput = string | { readonly path: string; readonly name: string };

const READ_AHEAD = 8;

/** Lints files on disk. */
export async function lintFiles(files: readonly LintInput[], rules: readonly Rule[] = allRules): Promise<LintResult> {
  const diagnostics: Diagnostic[] = [];
  const texts = new Map<string, string>();
  const facts: ProjectFacts[] = [];
  let unreadable = 0;
  const load = (f: LintInput) => (typeof f === 'string' ? loadFile(f) : loadFile(f.path, f.name));
  const pending = files.slice(0, READ_AHEAD).map(load);
  for (let i = 0; i < files.length; i++) {
    const next = files[i + READ_AHEAD];
    if (next !== undefined) pending.push(load(next));
    const result = await pending[i]!;
    pending[i] = undefined as unknown as ReturnType<typeof load>; // release the parsed document
    if (!result.ok) {
      if (result.text !== undefined) texts.set(nameOf(files[i]!), result.text);
      diagnostics.push(...result.diagnostics);
      if (result.diagnostics.some((d) => d.ruleId === 'io')) unreadable++;
      continue;
    }
    const found = lintOne(result.source, rules);
    if (found.diagnostics.length > 0) texts.set(result.source.file, result.source.text);
    diagnostics.push(...found.diagnostics);
    facts.push(factsOf(found.analysis));
  }
  const projectDiagnostics = checkProject(facts, rules);
  for (const d of projectDiagnostics) {
    if (!texts.has(d.file)) {
      const input = files.find((f) => nameOf(f) === d.file);
      const loaded = input === undefined ? undefined : await load(input);
      if (loaded?.ok) texts.set(d.file, loaded.source.text);
    }
  }
  diagnostics.push(...projectDiagnostics);
  return { diagnostics: diagnostics.sort(compareDiagnostics), texts, unreadable };
}

/** Lints sources already parsed, keeping their analyses (for `flux run`, editors and tests). */
export function lintSources(sources: readonly SourceFile[], rules: readonly Rule[] = allRules): { diagnostics: Diagnostic[]; analyses: Analysis[] } {
  const diagnostics: Diagnostic[] = [];
  const analyses: Analysis[] = [];
  for (const source of sources) {
    const found = lintOne(source, rules);
    diagnostics.push(...found.diagnostics);
    analyses.push(found.analysis);
  }
  diagnostics.push(...checkProject(analyses.map(factsOf), rules));
  return { diagnostics: diagnostics.sort(compareDiagnostics), analyses };
}

function nameOf(input: LintInput): string {
  return typeof input === 'string' ? input : input.name;
}

function lintOne(source: SourceFile, rules: readonly Rule[]): { diagnostics: Diagnostic[]; analysis: Analysis } {
  const diagnostics = checkSchema(source);
  const analysis = analyze(source);
  for (const rule of rules) {
    if (rule.scope !== 'file') continue;
    rule.check(analysis, (r) => diagnostics.push(toDiagnostic(source.file, rule, r)));
  }
  return { diagnostics, analysis };
}

function checkProject(facts: readonly ProjectFacts[], rules: readonly Rule[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const rule of rules) {
    if (rule.scope !== 'project') continue;
    rule.check(facts, (f, r) => out.push(toDiagnostic(f.file, rule, r)));
  }
  return out;
}

function toDiagnostic(file: string, rule: Rule, r: Report): Diagnostic {
  return { file, ...r.at, severity: r.severity ?? rule.severity, ruleId: rule.id, message: r.message };
}

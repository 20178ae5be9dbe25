/**
 * The lint rule contract. A rule is one small module with an id, a description and a default
 * severity; it reads the shared analysis and reports problems at positions the analysis gives it.
 */
import type { Analysis } from './analysis.js';
import type { Position, Severity } from './diagnostic.js';
import type { ProjectFacts } from './project-facts.js';

export interface Report {
  readonly at: Position;
  readonly message: string;
  /** Overrides the rule's default severity. */
  readonly severity?: Severity;
}

interface RuleMeta {
  readonly id: string;
  readonly description: string;
  readonly severity: Severity;
}

/** Checks one workflow file. */
export interface FileRule extends RuleMeta {
  readonly scope: 'file';
  check(analysis: Analysis, report: (r: Report) => void): void;
}

/** Checks the files linted together (webhook paths, events across workflows). */
export interface ProjectRule extends RuleMeta {
  readonly scope: 'project';
  check(files: readonly ProjectFacts[], report: (file: ProjectFacts, r: Report) => void): void;
}

export type Rule = FileRule | ProjectRule;

/**
 * `flux lint [paths…]`: check workflow files and print the problems in the chosen format.
 * Exit 0 when clean (warnings allowed up to --max-warnings), 1 on problems, 2 on usage errors
 * or anything that could not be read (a file, a directory, a FIFO or device in their place):
 * lint never comes out clean while some workflow went unchecked.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { compareDiagnostics, countBySeverity, type Diagnostic } from '../lint/diagnostic.js';
import { expandPaths } from '../lint/files.js';
import { formatStylish, plain, type Paint } from '../lint/format/stylish.js';
import { formatGithub, formatJson, formatSarif } from '../lint/format/machine.js';
import { lintFiles } from '../lint/linter.js';
import { rules } from '../lint/rules/index.js';
import { escapeControl } from '../text/escape.js';
import { displayPath, ExitCode, UsageError, useColor, type Io } from './io.js';
import { version } from './version.js';

export interface LintOptions {
  readonly format: 'stylish' | 'json' | 'github' | 'sarif';
  readonly maxWarnings?: number | undefined;
  readonly color?: boolean | undefined;
}

/** Runs the lint command; returns the exit code. */
export async function lintCommand(paths: readonly string[], options: LintOptions, io: Io): Promise<number> {
  let args = paths;
  if (args.length === 0) {
    if (!existsSync(join(io.cwd, 'workflows'))) throw new UsageError('no paths given and no workflows/ directory here; try `flux lint path/to/workflow.yaml`');
    args = ['workflows'];
  }
  const resolved = args.map((p) => (isAbsolute(p) ? p : join(io.cwd, p)));
  const expanded = await expandPaths(resolved);
  if (expanded.missing.length > 0) {
    throw new UsageError(`${expanded.missing.map((m) => `\`${escapeControl(displayPath(m, io.cwd))}\``).join(', ')}: no such file, directory, or glob match`);
  }
  if (expanded.files.length === 0 && expanded.unreadable.length === 0) {
    throw new UsageError(`no *.yaml or *.yml files found in ${args.map((a) => `\`${escapeControl(a)}\``).join(', ')}`);
  }
  const result = await lintFiles(expanded.files.map((path) => ({ path, name: displayPath(path, io.cwd) })));
  // A directory that could not be listed hid workflows from the check: one io problem each,
  // so the run can never come out clean (exit 2) while files went unread.
  const unlisted: Diagnostic[] = expanded.unreadable.map((u) => ({
    file: displayPath(u.path, io.cwd), line: 1, column: 1, severity: 'error', ruleId: 'io', message: `cannot read directory: ${u.reason}`,
  }));
  const diagnostics = unlisted.length === 0 ? result.diagnostics : [...unlisted, ...result.diagnostics].sort(compareDiagnostics);

  switch (options.format) {
    case 'json':
      io.stdout.write(formatJson(diagnostics));
      break;
    case 'github':
      io.stdout.write(formatGithub(diagnostics));
      break;
    case 'sarif':
      io.stdout.write(formatSarif(diagnostics, rules, version()));
      break;
    default: {
      const paint = useColor(io, 'stdout', options.color) ? await colors() : plain;
      io.stdout.write(formatStylish(diagnostics, result.texts, paint, expanded.files.length));
    }
  }
  if (result.unreadable > 0 || unlisted.length > 0) return ExitCode.usage;
  const { errors, warnings } = countBySeverity(diagnostics);
  if (errors > 0) return ExitCode.problems;
  if (options.maxWarnings !== undefined && warnings > options.maxWarnings) {
    io.stderr.write(`flux: ${warnings} warning${warnings === 1 ? '' : 's'}, more than --max-warnings ${options.maxWarnings}\n`);
    return ExitCode.problems;
  }
  return ExitCode.ok;
}

async function colors(): Promise<Paint> {
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  return { location: c.bold, error: c.red, warning: c.yellow, dim: c.dim, rule: c.dim };
}

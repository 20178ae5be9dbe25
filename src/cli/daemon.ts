/**
 * `flux daemon [paths…]`: lint the workflows (refusing to start on errors), then serve their
 * webhooks and run what the state directory's store holds until SIGTERM or SIGINT, which stop
 * intake and let running steps finish within the grace period. Exit 0 after a clean stop, 2
 * when it cannot start (lint errors, the state directory in use by another daemon).
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { createConnectors } from '../connectors/index.js';
import { StateDirLocked, startDaemon } from '../daemon/daemon.js';
import { systemClock } from '../engine/clock.js';
import type { LoadedWorkflow } from '../engine/types.js';
import { countBySeverity } from '../lint/diagnostic.js';
import { expandPaths } from '../lint/files.js';
import { formatStylish, plain } from '../lint/format/stylish.js';
import { lintFiles } from '../lint/linter.js';
import { escapeControl } from '../text/escape.js';
import { parseDuration } from '../workflow/duration.js';
import { loadWorkflow } from '../workflow/load.js';
import { displayPath, ExitCode, UsageError, type Io } from './io.js';
import { version } from './version.js';

export interface DaemonCommandOptions {
  readonly stateDir?: string | undefined;
  readonly host: string;
  readonly port: number;
  readonly concurrency: number;
  readonly lease: string;
  readonly grace: string;
}

/** Runs the daemon until it is told to stop; returns the exit code. */
export async function daemonCommand(paths: readonly string[], options: DaemonCommandOptions, io: Io): Promise<number> {
  const leaseMs = durationOption('--lease', options.lease);
  const graceMs = durationOption('--grace', options.grace);
  const args = paths.length > 0 ? paths : existsSync(join(io.cwd, 'workflows')) ? ['workflows'] : [];
  if (args.length === 0) throw new UsageError('no paths given and no workflows/ directory here; try `flux daemon path/to/workflows`');
  const expanded = await expandPaths(args.map((p) => (isAbsolute(p) ? p : join(io.cwd, p))));
  if (expanded.missing.length > 0) throw new UsageError(`${expanded.missing.map((m) => `\`${escapeControl(displayPath(m, io.cwd))}\``).join(', ')}: no such file, directory, or glob match`);
  if (expanded.unreadable.length > 0) throw new UsageError(`cannot read ${expanded.unreadable.map((u) => `${escapeControl(displayPath(u.path, io.cwd))} (${u.reason})`).join(', ')}`);
  const linted = await lintFiles(expanded.files.map((path) => ({ path, name: displayPath(path, io.cwd) })));
  if (countBySeverity(linted.diagnostics).errors > 0 || linted.unreadable > 0) {
    io.stderr.write(formatStylish(linted.diagnostics.filter((d) => d.severity === 'error'), linted.texts, plain));
    io.stderr.write('flux: the daemon does not start while workflows have errors (flux lint shows them all)\n');
    return ExitCode.usage;
  }
  const workflows: { workflow: LoadedWorkflow; text: string }[] = [];
  for (const path of expanded.files) {
    const loaded = await loadWorkflow(path, displayPath(path, io.cwd));
    if (loaded.ok) workflows.push({ workflow: loaded.workflow, text: loaded.text });
  }
  const stateDir = options.stateDir !== undefined ? (isAbsolute(options.stateDir) ? options.stateDir : join(io.cwd, options.stateDir)) : join(io.cwd, '.flux');
  const connectors = await createConnectors({ userAgent: `flux/${version()} (daemon)` });
  const log = (line: string) => io.stdout.write(`${new Date().toISOString()} ${escapeControl(line)}\n`);
  let daemon;
  try {
    daemon = await startDaemon({
      workflows, stateDir, host: options.host, port: options.port, concurrency: options.concurrency, leaseMs, env: io.env,
      clock: systemClock, connectors, logDir: join(stateDir, 'logs'), log,
    });
  } catch (error) {
    await Promise.all(Object.values(connectors).map((c) => c.close?.()));
    if (error instanceof StateDirLocked) throw new UsageError(error.message);
    throw error;
  }
  io.stdout.write(`flux daemon listening on ${daemon.url} (${workflows.length} workflow${workflows.length === 1 ? '' : 's'}, state in ${displayPath(stateDir, io.cwd)})\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.once(s, () => resolve(s));
  });
  log(`${signal}: stopping intake; running steps get ${options.grace} to finish`);
  await daemon.stop(graceMs);
  await Promise.all(Object.values(connectors).map((c) => c.close?.()));
  log('stopped');
  return ExitCode.ok;
}

function durationOption(flag: string, value: string): number {
  const d = parseDuration(value);
  if (!d.ok) throw new UsageError(`${flag} takes a duration such as 10s or 1m, not \`${value}\``);
  return d.ms;
}

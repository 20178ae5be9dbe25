/**
 * `flux run FILE`: lint the workflow, check the event and secrets, run it once now, show each
 * step as it happens, and write the run log. Exit 0 when the run succeeded, 1 when it failed,
 * escalated or was cancelled, 2 for usage or input errors (including a rejected event).
 */
import { existsSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { isAbsolute, join } from 'node:path';
import { createConnectors } from '../connectors/index.js';
import type { ConnectorRuntime } from '../connectors/runtime.js';
import { systemClock, type Clock } from '../engine/clock.js';
import { newRunId } from '../engine/run-id.js';
import { runWorkflow } from '../engine/run.js';
import type { EventSource, LoadedWorkflow, RunResult } from '../engine/types.js';
import { formatStylish, plain } from '../lint/format/stylish.js';
import { parseEnvFile } from '../secrets/env-file.js';
import { Masker } from '../secrets/masker.js';
import { FileJournal, MemoryJournal, runLogPath, type Journal } from '../store/run-log.js';
import { escapeControl } from '../text/escape.js';
import { loadWorkflow } from '../workflow/load.js';
import { displayPath, ExitCode, UsageError, useColor, type Io } from './io.js';
import { version } from './main.js';
import { ProgressPrinter } from './progress.js';

export interface RunOptions {
  readonly event?: string | undefined;
  readonly set?: readonly string[] | undefined;
  readonly envFile?: string | undefined;
  readonly logDir?: string | undefined;
  readonly dryRun?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly color?: boolean | undefined;
}

/** Everything `flux run` and `flux demo` need to run a workflow, with the parts a demo swaps. */
export interface RunSetup {
  readonly io: Io;
  readonly workflow: LoadedWorkflow;
  readonly event: unknown;
  readonly secrets: Record<string, string>;
  readonly environment: Record<string, string | undefined>;
  readonly connectors: Record<string, ConnectorRuntime>;
  readonly logDir: string;
  readonly dryRun: boolean;
  readonly clock?: Clock;
  readonly events?: EventSource;
  readonly signal?: AbortSignal;
  /** Print step progress (false for --json). */
  readonly progress: boolean;
  readonly color: boolean;
}

/**
 * For one-shot commands: compile WebAssembly (undici's HTTP parser) with the baseline compiler
 * only. The optimising tier-up would finish on a background thread that the process waits for
 * at exit, about 150 ms after the last request on this machine, and a short run never profits
 * from it. A long-running daemon should not call this.
 */
export function preferFastExit(): void {
  setFlagsFromString('--liftoff-only');
}

/** Runs the `run` command; returns the exit code. */
export async function runCommand(file: string, options: RunOptions, io: Io): Promise<number> {
  preferFastExit();
  const path = isAbsolute(file) ? file : join(io.cwd, file);
  const display = displayPath(path, io.cwd);
  const event = readEvent(options, io);
  const loaded = await loadWorkflow(path, display);
  if (!loaded.ok) {
    // A file that cannot be read has nothing to fix inside it: say why, not "has errors".
    if (loaded.ioMessage !== undefined) {
      io.stderr.write(`flux: ${escapeControl(loaded.ioMessage)}\n`);
      return ExitCode.usage;
    }
    io.stderr.write(formatStylish(loaded.diagnostics, new Map(loaded.text !== undefined ? [[display, loaded.text]] : []), plain));
    io.stderr.write(`flux: ${escapeControl(display)} has errors; fix them before running it (flux lint ${escapeControl(display)})\n`);
    return ExitCode.usage;
  }
  const fileValues = readEnvFile(options.envFile, io);
  const lookup = (name: string) => io.env[name] ?? fileValues[name];
  const declared = Array.isArray(loaded.workflow.value.secrets) ? (loaded.workflow.value.secrets as unknown[]).map(String) : [];
  const secrets: Record<string, string> = {};
  for (const name of declared) {
    const value = lookup(name);
    if (value !== undefined) secrets[name] = value;
  }
  const environment: Record<string, string | undefined> = {};
  for (const name of Object.keys((loaded.workflow.value.env as Record<string, unknown> | undefined) ?? {})) environment[name] = lookup(name);
  const logDir = options.logDir ? resolveDir(options.logDir, io) : io.env.FLUX_HOME ? join(resolveDir(io.env.FLUX_HOME, io), 'logs') : join(io.cwd, '.flux', 'logs');

  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const connectors = await createConnectors({ userAgent: `flux/${version()}` });
  try {
    const { result, logPath } = await executeRun({
      io, workflow: loaded.workflow, event, secrets, environment, connectors, logDir, dryRun: options.dryRun === true,
      signal: controller.signal, progress: options.json !== true, color: useColor(io, 'stdout', options.color),
    });
    if (options.json) io.stdout.write(`${JSON.stringify({ ...result, ...(logPath ? { log: logPath } : {}) }, null, 2)}\n`);
    return exitCodeFor(result);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await Promise.all(Object.values(connectors).map((c) => c.close?.()));
  }
}

/** Runs one workflow with live progress; returns the result and the log file it wrote. */
export async function executeRun(setup: RunSetup): Promise<{ result: RunResult; logPath?: string }> {
  // The engine registers each secret with the masker once it has accepted it.
  const masker = new Masker();
  const clock = setup.clock ?? systemClock;
  const runId = newRunId(clock.now());
  const logPath = setup.dryRun ? undefined : runLogPath(setup.logDir, setup.workflow.name, runId);
  // Records arrive masked from the engine; masking the serialized line again could break its JSON.
  const journal: Journal = logPath ? new FileJournal(logPath) : new MemoryJournal();
  const printer = setup.progress ? new ProgressPrinter(setup.io, masker, setup.color) : undefined;
  printer?.header(setup.workflow, runId, setup.dryRun);
  let result: RunResult;
  try {
    result = await runWorkflow({
      workflow: setup.workflow, event: setup.event, trigger: 'manual', secrets: setup.secrets, environment: setup.environment,
      connectors: setup.connectors, clock, journal, masker, runId, dryRun: setup.dryRun,
      ...(setup.signal ? { signal: setup.signal } : {}), ...(setup.events ? { events: setup.events } : {}),
      ...(printer ? { onRecord: (r) => printer.record(r), onProgress: (p) => printer.progress(p) } : {}),
    });
  } finally {
    await journal.close();
  }
  printer?.footer(result, logPath ? displayPath(logPath, setup.io.cwd) : undefined);
  return { result, ...(logPath ? { logPath } : {}) };
}

/** 0 succeeded, 2 rejected input, 1 anything else that did not succeed. */
export function exitCodeFor(result: RunResult): number {
  if (result.status === 'succeeded') return ExitCode.ok;
  if (result.status === 'rejected') return ExitCode.usage;
  return ExitCode.problems;
}

function readEvent(options: RunOptions, io: Io): unknown {
  let event: unknown = {};
  const raw = options.event;
  if (raw !== undefined) {
    let text: string;
    let where: string;
    if (raw === '-') {
      text = readFileSync(0, 'utf8');
      where = 'standard input';
    } else if (raw.startsWith('@')) {
      const file = raw.slice(1);
      try {
        text = readFileSync(isAbsolute(file) ? file : join(io.cwd, file), 'utf8');
      } catch {
        throw new UsageError(`--event ${raw}: cannot read ${file}`);
      }
      where = file;
    } else {
      text = raw;
      where = '--event';
    }
    try {
      event = JSON.parse(text);
    } catch (error) {
      const detail = error instanceof Error ? error.message.replace(/^JSON\.parse: /, '') : String(error);
      throw new UsageError(`the event in ${where} is not valid JSON: ${detail}`);
    }
  }
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new UsageError(`the event must be a JSON object, not ${event === null ? 'null' : Array.isArray(event) ? 'a list' : `a ${typeof event}`}; e.g. --event '{"email": "ann@example.com"}'`);
  }
  for (const assignment of options.set ?? []) {
    const eq = assignment.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set takes key=value, not \`${assignment}\``);
    const keys = assignment.slice(0, eq).split('.');
    const rawValue = assignment.slice(eq + 1);
    let value: unknown = rawValue;
    try {
      value = JSON.parse(rawValue);
    } catch {
      // not JSON: keep the text
    }
    let target = event as Record<string, unknown>;
    for (const key of keys.slice(0, -1)) {
      if (target[key] === null || typeof target[key] !== 'object') target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[keys[keys.length - 1]!] = value;
  }
  return event;
}

function readEnvFile(option: string | undefined, io: Io): Record<string, string> {
  const path = option !== undefined ? (isAbsolute(option) ? option : join(io.cwd, option)) : join(io.cwd, '.env');
  if (option === undefined && !existsSync(path)) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`--env-file ${option ?? '.env'}: cannot read the file`);
  }
  const { values, problems } = parseEnvFile(text);
  if (problems.length > 0) {
    throw new UsageError(problems.map((p) => `${option ?? '.env'}:${p.line}: ${p.message}`).join('\n'));
  }
  return values;
}

function resolveDir(dir: string, io: Io): string {
  return isAbsolute(dir) ? dir : join(io.cwd, dir);
}


/**
 * `flux run FILE`: lint the workflow, check the event and secrets, run it once now, show each
 * step as it happens, and write the run log. Exit 0 when the run succeeded, 1 when it failed,
 * escalated or was cancelled, 2 for usage or input errors (including a rejected event).
 */
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { isAbsolute, join } from 'node:path';
import { createConnectors } from '../connectors/index.js';
import type { ConnectorRuntime } from '../connectors/runtime.js';
import { SkippingClock, systemClock, type Clock } from '../engine/clock.js';
import { formatBytes, MAX_EVENT_BYTES, setData } from '../limits/json.js';
import { newRunId } from '../engine/run-id.js';
import { runWorkflow } from '../engine/run.js';
import type { EventSource, LoadedWorkflow, RunResult } from '../engine/types.js';
import { formatStylish, plain } from '../lint/format/stylish.js';
import { parseEnvFile } from '../secrets/env-file.js';
import { Masker } from '../secrets/masker.js';
import { FileJournal, JournalError, runLogPath } from '../store/run-log.js';
import type { ApprovalAnswer } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import { pollSpec } from '../triggers/poll.js';
import { loadWorkflow } from '../workflow/load.js';
import { describeIoError } from '../workflow/source.js';
import { displayPath, ExitCode, UsageError, useColor, type Io } from './io.js';
import { version } from './version.js';
import { ProgressPrinter } from './progress.js';

export interface RunOptions {
  readonly event?: string | undefined;
  readonly set?: readonly string[] | undefined;
  readonly envFile?: string | undefined;
  readonly logDir?: string | undefined;
  readonly dryRun?: boolean | undefined;
  /** `STEP=CHOICE` answers for approval steps (nobody can be asked in a one-off run). */
  readonly answer?: readonly string[] | undefined;
  readonly json?: boolean | undefined;
  readonly color?: boolean | undefined;
}

/** Everything `flux run` and `flux demo` need to run a workflow, with the parts a demo swaps. */
export interface RunSetup {
  readonly io: Io;
  readonly workflow: LoadedWorkflow;
  readonly event: unknown;
  /** Why the event is refused before it could be read whole (too large); recorded as `rejected`. */
  readonly refuse?: string | undefined;
  readonly secrets: Record<string, string>;
  readonly environment: Record<string, string | undefined>;
  readonly connectors: Record<string, ConnectorRuntime>;
  readonly logDir: string;
  readonly dryRun: boolean;
  readonly clock?: Clock;
  readonly events?: EventSource;
  /** Answers for approval steps, from --answer. */
  readonly answers?: readonly ApprovalAnswer[];
  readonly signal?: AbortSignal;
  /** Print step progress (false for --json). */
  readonly progress: boolean;
  /** How the run was started (default `manual`; `poll` for the items of a polled `flux run`). */
  readonly trigger?: string;
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
  const { event, refuse } = await readEvent(options, io);
  const answers = parseAnswers(options.answer, io);
  // Watched from a terminal: a workflow with no escalation still runs (its failure is printed).
  const loaded = await loadWorkflow(path, display, { allowSilent: true });
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
  const own = (values: Readonly<Record<string, string | undefined>>, name: string) => (Object.hasOwn(values, name) ? values[name] : undefined);
  const lookup = (name: string) => own(io.env, name) ?? own(fileValues, name);
  const declared = Array.isArray(loaded.workflow.value.secrets) ? (loaded.workflow.value.secrets as unknown[]).map(String) : [];
  const secrets: Record<string, string> = {};
  for (const name of declared) {
    const value = lookup(name);
    if (value !== undefined) setData(secrets, name, value);
  }
  const environment: Record<string, string | undefined> = {};
  for (const name of Object.keys((loaded.workflow.value.env as Record<string, unknown> | undefined) ?? {})) {
    setData(environment, name, lookup(name));
  }
  const logDir = options.logDir ? resolveDir(options.logDir, io) : io.env.FLUX_HOME ? join(resolveDir(io.env.FLUX_HOME, io), 'logs') : join(io.cwd, '.flux', 'logs');

  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  // A closed terminal (SIGHUP) ends a run as Ctrl-C and SIGTERM do: cancelled and recorded.
  for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
  const connectors = await createConnectors({ userAgent: `flux/${version()}` });
  try {
    // A poll workflow without --event: one poll, then one run per item found (run-poll.ts).
    const spec = options.event === undefined && (options.set ?? []).length === 0 ? pollSpec(loaded.workflow) : undefined;
    if (spec) {
      const { runPolled } = await import('./run-poll.js');
      return await runPolled({
        io, workflow: loaded.workflow, spec, secrets, environment, connectors, dryRun: options.dryRun === true, json: options.json === true, signal: controller.signal,
        runItem: (item) => executeRun({
          io, workflow: loaded.workflow, event: item, secrets, environment, connectors, logDir, dryRun: false, signal: controller.signal,
          progress: options.json !== true, color: useColor(io, 'stdout', options.color), trigger: 'poll',
        }),
      });
    }
    const { result, logPath } = await executeRun({
      io, workflow: loaded.workflow, event, refuse, secrets, environment, connectors, logDir, dryRun: options.dryRun === true, answers,
      signal: controller.signal, progress: options.json !== true, color: useColor(io, 'stdout', options.color),
    });
    if (options.json) io.stdout.write(`${JSON.stringify({ ...result, log: logPath }, null, 2)}\n`);
    return exitCodeFor(result);
  } finally {
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
    await Promise.all(Object.values(connectors).map((c) => c.close?.()));
  }
}

/** Runs one workflow with live progress; returns the result and the log file it wrote. */
export async function executeRun(setup: RunSetup): Promise<{ result: RunResult; logPath: string }> {
  // The engine registers each secret with the masker once it has accepted it.
  const masker = new Masker();
  const clock = setup.clock ?? systemClock;
  const runId = newRunId(clock.now());
  const logPath = runLogPath(setup.logDir, setup.workflow.name, runId);
  const shownLog = displayPath(logPath, setup.io.cwd);
  // Records arrive masked from the engine; masking the serialized line again could break its JSON.
  // Opening the log before the run is what checks its location: nothing runs unless it can be kept.
  let journal: FileJournal;
  try {
    journal = new FileJournal(logPath, undefined, shownLog);
  } catch (error) {
    if (error instanceof JournalError) throw new UsageError(`${error.message} (set another place with --log-dir or FLUX_HOME)`);
    throw error;
  }
  const skipped = clock instanceof SkippingClock ? (base => () => clock.skippedMs - base)(clock.skippedMs) : undefined;
  const printer = setup.progress ? new ProgressPrinter(setup.io, masker, setup.color, skipped) : undefined;
  printer?.header(setup.workflow, runId, setup.dryRun);
  let result: RunResult;
  try {
    result = await runWorkflow({
      workflow: setup.workflow, event: setup.event, ...(setup.refuse !== undefined ? { refuse: setup.refuse } : {}), trigger: setup.trigger ?? 'manual', secrets: setup.secrets, environment: setup.environment,
      connectors: setup.connectors, clock, journal, masker, runId, dryRun: setup.dryRun,
      ...(setup.signal ? { signal: setup.signal } : {}), ...(setup.events ? { events: setup.events } : {}),
      ...(setup.answers ? { approvals: { answers: setup.answers } } : {}),
      ...(printer ? { onRecord: (r) => printer.record(r), onProgress: (p) => printer.progress(p) } : {}),
    });
  } finally {
    await journal.close().catch((error: unknown) => {
      // The run is over; what it did is in its result. Say plainly that its log may be incomplete.
      setup.io.stderr.write(`flux: ${error instanceof Error ? error.message : String(error)}; the log may be incomplete\n`);
    });
  }
  const lost = journal.failure;
  printer?.footer(result, lost ? undefined : shownLog);
  if (lost) setup.io.stderr.write(`flux: ${lost.message}; the run was stopped there and did not succeed\n`);
  return { result, logPath };
}

/** `--answer STEP=CHOICE`: an answer given for the run, by whoever runs it. */
function parseAnswers(options: readonly string[] | undefined, io: Io): ApprovalAnswer[] {
  return (options ?? []).map((a) => {
    const at = a.indexOf('=');
    if (at <= 0 || at === a.length - 1) throw new UsageError(`--answer takes STEP=CHOICE, not \`${escapeControl(a.slice(0, 200))}\``);
    return {
      runId: '', step: a.slice(0, at), approver: io.env.USER ?? 'flux run', choice: a.slice(at + 1), inputs: {}, answeredAt: Date.now(), via: 'run', from: null,
    };
  });
}

/** 0 succeeded, 2 rejected input, 1 anything else that did not succeed. */
export function exitCodeFor(result: RunResult): number {
  if (result.status === 'succeeded') return ExitCode.ok;
  if (result.status === 'rejected') return ExitCode.usage;
  return ExitCode.problems;
}

/** Signals that stop a run: it is cancelled and recorded, never cut off mid-record. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Reads the event from --event (JSON, @file or - for standard input) and applies --set.
 * Reading is bounded: an event larger than MAX_EVENT_BYTES is not parsed but refused, and the
 * run records that refusal. Keys are data: `--set __proto__.x=1` sets a field named
 * `__proto__`, never a prototype.
 */
async function readEvent(options: RunOptions, io: Io): Promise<{ event: unknown; refuse?: string }> {
  let event: unknown = {};
  const raw = options.event;
  if (raw !== undefined) {
    let text: string | undefined;
    let where: string;
    if (raw === '-') {
      where = 'standard input';
      text = await readBounded(process.stdin, MAX_EVENT_BYTES);
    } else if (raw.startsWith('@')) {
      const file = raw.slice(1);
      where = file;
      text = await readEventFile(isAbsolute(file) ? file : join(io.cwd, file), raw);
    } else {
      where = '--event';
      text = Buffer.byteLength(raw) > MAX_EVENT_BYTES ? undefined : raw;
    }
    if (text === undefined) return { event: {}, refuse: `the event in ${where} is larger than ${formatBytes(MAX_EVENT_BYTES)}, the most an event may be` };
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
  for (const assignment of options.set ?? []) applySet(event as Record<string, unknown>, assignment);
  return { event };
}

/** Applies one `--set a.b.c=value`; every key is an own data property, whatever its name. */
function applySet(event: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set takes key=value, not \`${assignment}\``);
  const keys = assignment.slice(0, eq).split('.');
  if (keys.some((k) => k === '')) throw new UsageError(`--set: \`${assignment.slice(0, eq)}\` has an empty key`);
  const rawValue = assignment.slice(eq + 1);
  let value: unknown = rawValue;
  try {
    value = JSON.parse(rawValue);
  } catch {
    // not JSON: keep the text
  }
  let target = event;
  for (const key of keys.slice(0, -1)) {
    const current = Object.hasOwn(target, key) ? target[key] : undefined;
    if (current !== null && typeof current === 'object' && !Array.isArray(current)) target = current as Record<string, unknown>;
    else {
      const child: Record<string, unknown> = {};
      setData(target, key, child);
      target = child;
    }
  }
  setData(target, keys[keys.length - 1]!, value);
}

/** An event file: a regular file only (a FIFO or device could hang or never end), read bounded. */
async function readEventFile(path: string, option: string): Promise<string | undefined> {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    throw new UsageError(`--event ${option}: cannot read ${option.slice(1)}: ${describeIoError(error)}`);
  }
  if (!isFile) throw new UsageError(`--event ${option}: ${option.slice(1)} is not a regular file`);
  return readBounded(createReadStream(path), MAX_EVENT_BYTES);
}

/** Reads a stream to text, or gives undefined (and stops reading) once it passes `limit` bytes. */
async function readBounded(stream: NodeJS.ReadableStream, limit: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buf.length;
    if (size > limit) {
      (stream as { destroy?: () => void }).destroy?.();
      return undefined;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
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


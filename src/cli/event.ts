/**
 * `flux event NAME [--data JSON | --data @file] [--state-dir .flux | --store URL]`: inject an event. It is
 * written straight into the store (the state directory's, or a shared PostgreSQL one), durably, whether or not a daemon runs
 * (SQLite in WAL mode lets this process write beside a running daemon): a running daemon
 * delivers it at its next poll, and one started later delivers it at start. Prints the event's
 * id; exit 0 once it is stored, 2 for a bad name, bad data or a state directory it cannot use.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { newRunId } from '../engine/run-id.js';
import { clockFromEnv } from '../engine/test-clock.js';
import { MAX_EVENT_BYTES } from '../limits/json.js';
import { isPostgresSpec, isStoreOpenError, openStore, resolveStoreSpec, unsupportedScheme } from '../store/open.js';
import { escapeControl } from '../text/escape.js';
import { eventNameProblem, parseEventData } from '../triggers/event.js';
import { displayPath, ExitCode, UsageError, type Io } from './io.js';

export interface EventCommandOptions {
  readonly data?: string | undefined;
  readonly stateDir?: string | undefined;
  /** The store to write to instead of the state directory's: a postgres:// URL (default $FLUX_STORE_URL). */
  readonly store?: string | undefined;
}

/** Stores one event; returns the exit code. */
export async function eventCommand(name: string, options: EventCommandOptions, io: Io): Promise<number> {
  const problem = eventNameProblem(name);
  if (problem) throw new UsageError(problem);
  const data = readData(options.data, io);
  let clock;
  try {
    clock = clockFromEnv(io.env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const stateDir = options.stateDir !== undefined ? (isAbsolute(options.stateDir) ? options.stateDir : join(io.cwd, options.stateDir)) : join(io.cwd, '.flux');
  const spec = resolveStoreSpec({ store: options.store, stateDir, env: io.env, cwd: io.cwd });
  const scheme = unsupportedScheme(spec);
  if (scheme !== undefined) throw new UsageError(`--store takes a SQLite file or a postgres:// URL, not a ${escapeControl(scheme)}:// URL`);
  let store;
  try {
    store = await openStore(spec, { now: () => clock.now() });
  } catch (error) {
    if (isStoreOpenError(error)) throw new UsageError(isPostgresSpec(spec) ? escapeControl(error.message) : `${error.message} (check --state-dir ${escapeControl(displayPath(stateDir, io.cwd))})`);
    throw error;
  }
  const now = clock.now();
  const id = newRunId(now);
  try {
    await store.appendEvent({ id, name, data, createdAt: now });
  } finally {
    await store.close();
  }
  io.stdout.write(`${id}\n`);
  return ExitCode.ok;
}

/** The event's data from --data: JSON text or @file (a regular file, at most 1 MiB); `{}` without it. */
function readData(option: string | undefined, io: Io): Readonly<Record<string, unknown>> {
  if (option === undefined) return {};
  let text: string;
  let where: string;
  if (option.startsWith('@')) {
    const file = option.slice(1);
    const path = isAbsolute(file) ? file : join(io.cwd, file);
    where = escapeControl(file);
    let size: number;
    try {
      const stat = statSync(path);
      if (!stat.isFile()) throw new UsageError(`--data ${escapeControl(option)}: ${where} is not a regular file`);
      size = stat.size;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw new UsageError(`--data ${escapeControl(option)}: cannot read ${where}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    if (size > MAX_EVENT_BYTES) throw new UsageError(`the event data in ${where} is larger than 1 MiB, the most an event may be`);
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsageError(`--data ${escapeControl(option)}: cannot read ${where}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
  } else {
    text = option;
    where = '--data';
  }
  const parsed = parseEventData(text, where);
  if (!parsed.ok) throw new UsageError(parsed.reason);
  return parsed.data;
}

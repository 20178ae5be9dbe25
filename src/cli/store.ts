/**
 * `flux store migrate` and `flux store status`, for operators: bring a store's schema up to
 * this flux's (daemons also do it at start), or see where it stands and what it holds. The
 * store is `--store` (a SQLite file or a postgres:// URL), else $FLUX_STORE_URL, else
 * `flux.db` under `--state-dir` (default .flux). Exit 0 ok; 1 when the store cannot be reached
 * or its schema is newer than this flux; 2 for bad usage. A URL is never shown with its password.
 */
import { clockFromEnv } from '../engine/test-clock.js';
import { isStoreOpenError, migrateStore, resolveStoreSpec, storeStatus, unsupportedScheme } from '../store/open.js';
import { escapeControl } from '../text/escape.js';
import { displayPath, ExitCode, UsageError, type Io } from './io.js';

export interface StoreCommandOptions {
  readonly store?: string | undefined;
  readonly stateDir?: string | undefined;
}

/** `flux store migrate`: applies pending migrations and prints each one applied. */
export async function storeMigrateCommand(options: StoreCommandOptions, io: Io): Promise<number> {
  const spec = specOf(options, io);
  let clock;
  try {
    clock = clockFromEnv(io.env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return reporting(io, async () => {
    const { shown, applied } = await migrateStore(spec, () => clock.now());
    const where = show(shown, io);
    for (const m of applied) io.stdout.write(`applied migration ${m.version}: ${escapeControl(m.name)}\n`);
    const status = await storeStatus(spec);
    io.stdout.write(applied.length === 0 ? `${where} is up to date (schema version ${status.current})\n` : `${where} is at schema version ${status.current}\n`);
    return ExitCode.ok;
  });
}

/** `flux store status`: the schema version, pending migrations and runs by state. */
export async function storeStatusCommand(options: StoreCommandOptions, io: Io): Promise<number> {
  const spec = specOf(options, io);
  return reporting(io, async () => {
    const s = await storeStatus(spec);
    const lines = [
      `store:   ${show(s.shown, io)} (${s.backend})`,
      `schema:  version ${s.current}; this flux knows ${s.newest}`,
      `pending: ${s.pending.length === 0 ? 'none' : s.pending.map((m) => `${m.version} (${escapeControl(m.name)})`).join(', ')}`,
      `runs:    ${s.runs.length === 0 ? 'none' : s.runs.map((r) => `${r.status} ${r.count}`).join(', ')}`,
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
    if (s.current > s.newest) {
      io.stderr.write(`flux store: the schema is newer than this flux knows (${s.current} > ${s.newest}); use a newer flux\n`);
      return ExitCode.problems;
    }
    return ExitCode.ok;
  });
}

function specOf(options: StoreCommandOptions, io: Io): string {
  const spec = resolveStoreSpec({ ...options, env: io.env, cwd: io.cwd });
  const scheme = unsupportedScheme(spec);
  if (scheme !== undefined) throw new UsageError(`--store takes a SQLite file or a postgres:// URL, not a ${escapeControl(scheme)}:// URL`);
  return spec;
}

/** A store as shown: a URL as it is (its password already removed), a file relative to the working directory. */
function show(shown: string, io: Io): string {
  return escapeControl(/^[a-z]+:\/\//i.test(shown) ? shown : displayPath(shown, io.cwd));
}

/** Runs the work; a store that cannot be opened is reported on stderr with exit 1. */
async function reporting(io: Io, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (!isStoreOpenError(error)) throw error;
    io.stderr.write(`flux store: ${escapeControl(error.message.replace(io.cwd + '/', ''))}\n`);
    return ExitCode.problems;
  }
}

/**
 * How `flux runs` reaches a state directory: where it is, its store opened read-only for the
 * views (no write access needed, no lock taken, so a running daemon is neither required nor
 * held up) or read-write for retry and cancel, whether a daemon is running on it (read from
 * its lock file, never taking the lock), and the clock "now" comes from.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { Clock } from '../engine/clock.js';
import { clockFromEnv } from '../engine/test-clock.js';
import { isPostgresSpec, isStoreOpenError, openStore as openAnyStore, shownStore, unsupportedScheme } from '../store/open.js';
import type { Store } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import { displayPath, UsageError, type Io } from './io.js';

/** A state directory as the runs commands see it. */
export interface StateDir {
  /** Absolute path. */
  readonly path: string;
  /** As messages show it. */
  readonly shown: string;
  /** The store: `<state>/flux.db`, or the PostgreSQL URL of FLUX_STORE_URL / --store. */
  readonly db: string;
  /** The store as messages show it (a URL without its password). */
  readonly shownDb: string;
  /** Where the daemon writes run logs (`<state>/logs`). */
  readonly logDir: string;
}

/**
 * The state directory of `--state-dir` (default `.flux` here), which must hold a store; or the
 * store FLUX_STORE_URL (or `--store`) names: a PostgreSQL URL (`db` is then the URL, `shown` it
 * without its password; the state directory only holds this host's run logs) or a SQLite file
 * (its directory is the state directory).
 */
export function stateDirOf(option: string | undefined, io: Io): StateDir {
  const path = option === undefined ? join(io.cwd, '.flux') : isAbsolute(option) ? option : join(io.cwd, option);
  const url = io.env.FLUX_STORE_URL || undefined;
  if (url !== undefined && isPostgresSpec(url)) {
    const shown = escapeControl(shownStore(url));
    return { path, shown, db: url, shownDb: shown, logDir: join(path, 'logs') };
  }
  if (url !== undefined) {
    // A SQLite file named directly: its directory is the state directory.
    const db = isAbsolute(url) ? url : join(io.cwd, url);
    const shownDb = escapeControl(displayPath(db, io.cwd));
    if (unsupportedScheme(url) !== undefined) throw new UsageError(`--store takes a postgres:// URL or a SQLite file, not \`${escapeControl(shownStore(url).slice(0, 200))}\``);
    if (!existsSync(db)) throw new UsageError(`no runs store at ${shownDb} (--store, or FLUX_STORE_URL, names a file that does not exist)`);
    return { path: dirname(db), shown: shownDb, db, shownDb, logDir: join(dirname(db), 'logs') };
  }
  const shown = escapeControl(displayPath(path, io.cwd));
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    throw new UsageError(`no state directory at ${shown}; the daemon keeps its runs in the directory given to \`flux daemon --state-dir\` (default .flux): pass it with --state-dir`);
  }
  if (!isDir) throw new UsageError(`${shown} is not a directory; --state-dir takes the daemon's state directory`);
  const db = join(path, 'flux.db');
  if (!existsSync(db)) throw new UsageError(`no runs store in ${shown} (${shown}/flux.db does not exist): has \`flux daemon\` run with this state directory?`);
  return { path, shown, db, shownDb: `${shown}/flux.db`, logDir: join(path, 'logs') };
}

/** Opens the store: read-only for the views, read-write for retry and cancel. A store that cannot be opened is an input error. */
export async function openStore(state: StateDir, clock: Clock, mode: 'read' | 'write'): Promise<Store> {
  try {
    return await openAnyStore(state.db, { now: () => clock.now(), readOnly: mode === 'read' });
  } catch (error) {
    if (isStoreOpenError(error)) throw new UsageError(error.message.replace(state.db, state.shownDb));
    throw error;
  }
}

/** The clock for "now" (`--since`, cancel times): the test clock when FLUX_TEST_CLOCK is set. */
export function clockOf(io: Io): Clock {
  try {
    return clockFromEnv(io.env);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The pid of the daemon running on the state directory, from its lock file; undefined when none runs. */
export function runningDaemon(state: StateDir): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(state.path, 'daemon.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** A run id as given on the command line, checked before it reaches a message or a query. */
export function runIdArgument(id: string): string {
  if (!/^[0-9A-Za-z_-]{1,100}$/.test(id)) throw new UsageError(`\`${escapeControl(id.slice(0, 100))}\` is not a run id (run ids are letters and digits, e.g. 01JD6Z3K8Q4V7W2X9Y0ZABCDEF; \`flux runs\` lists them)`);
  return id;
}

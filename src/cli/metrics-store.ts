/**
 * `flux metrics --store`: which store (the flag, else $FLUX_STORE_URL; none without either),
 * opened read-only before the logs are read, so a store that cannot be reached fails at once,
 * and read after them, once the runs whose logs have no end are known. A store that cannot be
 * opened or read is an input error (exit 2, as for `flux runs`), named without its password.
 */
import { readLive, type LiveRead } from '../metrics/live.js';
import { isPostgresSpec, isStoreOpenError, openStore, resolveStoreSpec, shownStore, unsupportedScheme } from '../store/open.js';
import type { Store } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import { displayPath, UsageError, type Io } from './io.js';

/** A store opened for the report. */
export interface MetricsStore {
  readonly store: Store;
  /** As it may be shown: a URL without its password, or the file relative to where flux runs. */
  readonly shown: string;
  readonly spec: string;
}

/** The store `--store` or $FLUX_STORE_URL names, opened read-only; undefined when neither is given. */
export async function openMetricsStore(option: string | undefined, io: Io, now: number): Promise<MetricsStore | undefined> {
  const given = option ?? (io.env.FLUX_STORE_URL || undefined);
  if (given === undefined) return undefined;
  const spec = resolveStoreSpec({ store: given, env: io.env, cwd: io.cwd });
  if (unsupportedScheme(spec) !== undefined) {
    throw new UsageError(`--store takes a postgres:// URL or a SQLite file, not \`${escapeControl(shownStore(spec).slice(0, 200))}\``);
  }
  const shown = escapeControl(isPostgresSpec(spec) ? shownStore(spec) : displayPath(spec, io.cwd));
  try {
    return { store: await openStore(spec, { now: () => now, readOnly: true }), shown, spec };
  } catch (error) {
    if (isStoreOpenError(error)) throw new UsageError(scrub(error.message, spec, shown));
    throw error;
  }
}

/** Reads the live part and the verdicts on `openRuns`; a failure to read is an input error. */
export async function readMetricsStore(s: MetricsStore, at: { readonly now: number; readonly until: number }, openRuns: readonly string[]): Promise<LiveRead> {
  try {
    return await readLive(s.store, { shown: s.shown, now: at.now, until: at.until, openRuns });
  } catch (error) {
    throw new UsageError(`cannot read the store ${s.shown}: ${scrub(error instanceof Error ? error.message : String(error), s.spec, s.shown)}`);
  }
}

/** A message about the store with its spec (which may hold a password) replaced by how it may be shown. */
function scrub(message: string, spec: string, shown: string): string {
  return escapeControl(message.split(spec).join(shown));
}

/**
 * Opening the store a command names: a SQLite state file (the embedded default) or a
 * PostgreSQL URL (`postgres://…`, `postgresql://…`, several daemons on one database). Each
 * backend is loaded only when named, so a SQLite user never loads pg and the reverse.
 * Also what `flux store migrate` and `flux store status` ask of either backend.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isPostgresUrl } from './postgres/url.js';
import type { Store } from './store.js';

export { shownStore } from './postgres/url.js';

/** How to open a store. */
export interface OpenStoreOptions {
  /** The clock, read only to stamp applied migrations. */
  readonly now: () => number;
  /** Open for reading only: nothing is created or migrated; the schema must be current. */
  readonly readOnly?: boolean;
}

/** A store opened for the daemon, and a promise that resolves if it can store nothing more. */
export interface DaemonStore {
  readonly store: Store;
  /** The SQLite worker thread died; never resolves for PostgreSQL, whose pool reconnects. */
  readonly dead: Promise<Error>;
}

/** Whether a store spec is a PostgreSQL URL (otherwise it is a SQLite file). */
export const isPostgresSpec = isPostgresUrl;

/** A spec that looks like a URL of some other scheme: neither a PostgreSQL URL nor a file. */
export function unsupportedScheme(spec: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec)?.[1];
  return scheme !== undefined && !isPostgresSpec(spec) ? scheme : undefined;
}

/**
 * The store a command uses: `--store`, else $FLUX_STORE_URL, else `flux.db` in the state
 * directory (`--state-dir`, default `.flux`), resolved against `cwd`.
 */
export function resolveStoreSpec(o: { readonly store?: string | undefined; readonly stateDir?: string | undefined; readonly env: Readonly<Record<string, string | undefined>>; readonly cwd: string }): string {
  const given = o.store ?? (o.env.FLUX_STORE_URL || undefined);
  if (given !== undefined) return isPostgresSpec(given) || unsupportedScheme(given) || isAbsolute(given) ? given : join(o.cwd, given);
  const dir = o.stateDir ?? '.flux';
  return join(isAbsolute(dir) ? dir : join(o.cwd, dir), 'flux.db');
}

/** Opens the store `spec` names. Rejects with an error that `isStoreOpenError` recognises when it cannot. */
export async function openStore(spec: string, options: OpenStoreOptions): Promise<Store> {
  if (isPostgresSpec(spec)) {
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore({ url: spec, now: options.now, ...(options.readOnly ? { readOnly: true } : {}) });
  }
  const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
  return openSqliteStore({ path: spec, now: options.now, ...(options.readOnly ? { readOnly: true } : {}) });
}

/** Opens the daemon's store: SQLite in its worker thread (as before), or PostgreSQL. */
export async function openDaemonStore(spec: string, options: { readonly now: () => number }): Promise<DaemonStore> {
  if (isPostgresSpec(spec)) return { store: await openStore(spec, options), dead: new Promise<Error>(() => {}) };
  const { openWorkerStore } = await import('./sqlite/worker-store.js');
  const store = await openWorkerStore({ path: spec, now: options.now });
  return { store, dead: store.dead };
}

/** The store could not be opened (either backend): its message says what and where, without secrets. */
export function isStoreOpenError(error: unknown): error is Error {
  return error instanceof Error && (error.name === 'StoreOpenError' || error.name === 'PostgresOpenError');
}

/** Where a store's schema stands, for `flux store status`. */
export interface StoreStatus {
  /** The store as it may be shown (a URL without its password, or the file). */
  readonly shown: string;
  readonly backend: 'sqlite' | 'postgres';
  /** The highest migration applied (0: none). */
  readonly current: number;
  /** The newest this flux knows. */
  readonly newest: number;
  readonly pending: readonly { readonly version: number; readonly name: string }[];
  /** Runs by state, every state with at least one run. */
  readonly runs: readonly { readonly status: string; readonly count: number }[];
}

/** Reads a store's schema version, pending migrations and runs by state, changing nothing. */
export async function storeStatus(spec: string): Promise<StoreStatus> {
  if (isPostgresSpec(spec)) {
    const { postgresStatus } = await import('./postgres/postgres-store.js');
    const s = await postgresStatus({ url: spec });
    return { shown: s.url, backend: 'postgres', current: s.schema.current, newest: s.schema.newest, pending: s.schema.pending, runs: s.runs };
  }
  const { StoreOpenError } = await import('./sqlite/sqlite-store.js');
  const { MIGRATIONS } = await import('./sqlite/migrations.js');
  if (!existsSync(spec)) throw new StoreOpenError(spec, 'no such file');
  const { default: Database } = await import('libsql');
  let db;
  try {
    db = new Database(`${pathToFileURL(spec).href}?mode=ro`);
  } catch (error) {
    throw new StoreOpenError(spec, (error as Error).message);
  }
  try {
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name));
    const applied = tables.has('schema_migrations') ? new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => Number(r.version))) : new Set<number>();
    const runs = tables.has('runs') ? (db.prepare('SELECT status, count(*) AS n FROM runs GROUP BY status ORDER BY status').all() as { status: string; n: number }[]).map((r) => ({ status: r.status, count: Number(r.n) })) : [];
    return {
      shown: spec, backend: 'sqlite', current: Math.max(0, ...applied), newest: MIGRATIONS.at(-1)?.version ?? 0,
      pending: MIGRATIONS.filter((m) => !applied.has(m.version)).map((m) => ({ version: m.version, name: m.name })), runs,
    };
  } catch (error) {
    throw new StoreOpenError(spec, (error as Error).message);
  } finally {
    db.close();
  }
}

/** Applies the migrations a store lacks (creating it), for `flux store migrate`; resolves to those applied. */
export async function migrateStore(spec: string, now: () => number): Promise<{ readonly shown: string; readonly applied: readonly { readonly version: number; readonly name: string }[] }> {
  if (isPostgresSpec(spec)) {
    const { migratePostgres } = await import('./postgres/postgres-store.js');
    const { url, applied } = await migratePostgres({ url: spec, now });
    return { shown: url, applied };
  }
  // SQLite migrates at open, in one transaction that a second process waits for: what was
  // pending just before, and is applied now, is what this open applied (or another process
  // did at the same moment; either way it is applied).
  const before = existsSync(spec) ? (await storeStatus(spec)).pending : (await import('./sqlite/migrations.js')).MIGRATIONS;
  const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
  await (await openSqliteStore({ path: spec, now })).close();
  return { shown: spec, applied: before.map((m) => ({ version: m.version, name: m.name })) };
}

/**
 * Bringing a PostgreSQL schema up to date, from the numbered migrations in migrations.ts;
 * `schema_migrations` records each one applied and when. Every daemon migrates at open, and
 * several may start at once: the migrations run in one transaction holding an advisory lock
 * keyed by the schema, so one of them migrates and the others, once it commits, find nothing
 * left to do.
 */
import type pg from 'pg';
import { MIGRATIONS, type Migration } from './migrations.js';

/** Where a schema stands against this flux's migrations. */
export interface SchemaStatus {
  /** The highest version applied (0: none, or no flux tables at all). */
  readonly current: number;
  /** The newest version this flux knows. */
  readonly newest: number;
  readonly applied: readonly { readonly version: number; readonly name: string; readonly appliedAt: number }[];
  /** Migrations this flux has that the schema lacks, oldest first. */
  readonly pending: readonly Migration[];
}

/** The schema is newer than this flux: it must not write with statements made for an older one. */
export class SchemaTooNewError extends Error {
  override readonly name = 'SchemaTooNewError';
  constructor(readonly current: number, readonly newest: number) {
    super(`its schema is version ${current}, newer than this flux knows (${newest}); use a newer flux`);
  }
}

/**
 * Applies the migrations the schema lacks, all in one transaction under the schema's advisory
 * lock (a crash midway leaves the schema as it was; two daemons starting at once migrate once).
 * Creates the schema when it does not exist. Resolves to the migrations this call applied.
 */
export async function migrate(client: pg.ClientBase, schema: string, now: number, migrations: readonly Migration[] = MIGRATIONS): Promise<Migration[]> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', ['flux.migrate', schema]);
    // Quoted as an identifier by the server: the name is a parameter, never spliced in.
    const { rows } = await client.query<{ sql: string }>('SELECT format($1, $2::text) AS sql', ['CREATE SCHEMA IF NOT EXISTS %I', schema]);
    await client.query(rows[0]!.sql);
    await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)');
    const status = await readStatus(client, migrations);
    if (status.current > status.newest) throw new SchemaTooNewError(status.current, status.newest);
    // Every migration not applied yet, not only those above the newest applied (numbers are
    // handed out to branches ahead of their merge).
    for (const m of status.pending) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, now]);
    }
    await client.query('COMMIT');
    return [...status.pending];
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Reads where the schema stands, changing nothing (no schema_migrations table: nothing applied). */
export async function readStatus(client: pg.ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<SchemaStatus> {
  const exists = await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  const rows = exists.rows[0]?.present
    ? (await client.query<{ version: number; name: string; applied_at: string }>('SELECT version, name, applied_at FROM schema_migrations ORDER BY version')).rows
    : [];
  const applied = rows.map((r) => ({ version: Number(r.version), name: r.name, appliedAt: Number(r.applied_at) }));
  const versions = new Set(applied.map((a) => a.version));
  return {
    current: Math.max(0, ...versions),
    newest: migrations.at(-1)?.version ?? 0,
    applied,
    pending: migrations.filter((m) => !versions.has(m.version)),
  };
}

/**
 * For a store that may not migrate (read-only): the schema must be exactly the one this flux
 * knows, or its statements would not match the tables.
 */
export function checkStatus(status: SchemaStatus): void {
  if (status.applied.length === 0) throw new Error('it has no flux tables in this schema (start a daemon on it, or run flux store migrate)');
  if (status.current > status.newest) throw new SchemaTooNewError(status.current, status.newest);
  if (status.pending.length > 0) {
    throw new Error(`its schema is version ${status.current}, older than this flux's (${status.newest}; it lacks migration ${status.pending.map((m) => m.version).join(', ')}); run flux store migrate`);
  }
}

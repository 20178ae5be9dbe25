/**
 * Bringing a database's schema up to date at open, from the numbered migrations in
 * migrations.ts; `schema_migrations` records each one applied and when.
 */
import type Database from 'libsql';
import { MIGRATIONS, type Migration } from './migrations.js';
import { isoTime, type SqlRow } from './rows.js';

/**
 * Applies the migrations the file lacks, all in one transaction: an open that crashes midway
 * leaves the schema as it was. BEGIN IMMEDIATE, so two processes opening a new file at once
 * migrate it once (the second waits, then finds nothing to do). Numbers are handed out to
 * branches ahead of their merge, so a file may have a later migration and lack an earlier
 * one: each migration not applied yet is applied, whatever the highest applied one is.
 */
export function migrate(db: Database.Database, now: number, migrations: readonly Migration[] = MIGRATIONS): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
    const applied = appliedVersions(db);
    const current = Math.max(0, ...applied);
    const newest = migrations.at(-1)?.version ?? 0;
    if (current > newest) {
      throw new Error(`its schema is version ${current}, newer than this flux knows (${newest}); use a newer flux`);
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    // Every migration not yet applied, not only those above the newest applied: numbers are
    // handed out to branches ahead of their merge, so a database may have 10 and lack 9.
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      db.exec(m.sql);
      record.run(m.version, m.name, isoTime(now));
    }
    db.exec('COMMIT');
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw error;
  }
}

/**
 * For a connection that may not migrate (read-only): the schema must be exactly the one this
 * flux knows, or the statements it prepares would not match the tables.
 */
export function checkSchema(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").all();
  if (table.length === 0) throw new Error('it is not a flux state database (it has no schema_migrations table)');
  const applied = appliedVersions(db);
  const current = Math.max(0, ...applied);
  const newest = migrations.at(-1)?.version ?? 0;
  if (current > newest) throw new Error(`its schema is version ${current}, newer than this flux knows (${newest}); use a newer flux`);
  const missing = migrations.filter((m) => !applied.has(m.version)).map((m) => m.version);
  if (missing.length > 0) {
    throw new Error(`its schema is version ${current}, older than this flux's (${newest}; it lacks migration ${missing.join(', ')}); start this flux's daemon on it once to upgrade it`);
  }
}

/** The versions recorded in schema_migrations. */
function appliedVersions(db: Database.Database): Set<number> {
  return new Set((db.prepare('SELECT version FROM schema_migrations').all() as SqlRow[]).map((r) => Number(r.version)));
}

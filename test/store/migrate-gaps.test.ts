// Migration numbers are handed out to branches that merge in any order: a state file migrated
// to a higher number before a lower one was merged still gets the lower one at its next open,
// and a reader refuses a file that lacks one.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { describe, expect, it } from 'vitest';
import { checkSchema, migrate } from '../../src/store/sqlite/migrate.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');

describe('migrations merged out of order', () => {
  it('a file that skipped a lower version gets it at the next open, once', () => {
    const db = new Database(join(mkdtempSync(join(tmpdir(), 'flux-migrate-')), 'flux.db'));
    try {
      const lower = MIGRATIONS.find((m) => m.version < MIGRATIONS.at(-1)!.version && m.version > 1)!;
      migrate(db, T0, MIGRATIONS.filter((m) => m !== lower));
      expect(() => checkSchema(db)).toThrow(`and it lacks ${lower.version}`);
      migrate(db, T0 + 1);
      checkSchema(db);
      const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => Number(r.version));
      expect(versions).toEqual(MIGRATIONS.map((m) => m.version));
      migrate(db, T0 + 2); // nothing left to do
      expect(db.prepare('SELECT count(*) AS n FROM schema_migrations').all()).toEqual([expect.objectContaining({ n: MIGRATIONS.length })]);
    } finally {
      db.close();
    }
  });
});

// `flux store migrate` and `flux store status`, as a spawned flux: against a fresh PostgreSQL
// schema at $FLUX_TEST_PG_URL and a SQLite file, the exit codes, and a URL's password never shown.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS as PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import { MIGRATIONS as SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { runFlux } from '../helpers.js';
import { adminQuery, PG_URL, requirePostgres, testSchemas, urlWithSchema } from '../pg-helpers.js';

const schemas = testSchemas('flux_test_cli');
beforeAll(requirePostgres);
afterAll(() => schemas.dropAll());

/** The test URL with a password in it (trust auth ignores it): it must never be printed. */
function withPassword(schema: string): string {
  const url = new URL(urlWithSchema(schema));
  url.password = 'sekret-pw-123';
  return url.href;
}

describe('flux store (postgres)', () => {
  it('status of a new schema lists every migration as pending; migrate applies them once; status then counts runs', async () => {
    const schema = schemas.fresh();
    const url = withPassword(schema);
    const shown = urlWithSchema(schema);
    const before = await runFlux(['store', 'status', '--store', url]);
    expect(before).toMatchObject({ code: 0, stderr: '' });
    expect(before.stdout).toBe([
      `store:   ${shown} (postgres)`,
      `schema:  version 0; this flux knows ${PG_MIGRATIONS.at(-1)!.version}`,
      `pending: ${PG_MIGRATIONS.map((m) => `${m.version} (${m.name})`).join(', ')}`,
      'runs:    none',
      '',
    ].join('\n'));
    const migrated = await runFlux(['store', 'migrate', '--store', url]);
    expect(migrated).toMatchObject({ code: 0, stderr: '' });
    expect(migrated.stdout).toBe([...PG_MIGRATIONS.map((m) => `applied migration ${m.version}: ${m.name}`), `${shown} is at schema version ${PG_MIGRATIONS.at(-1)!.version}`, ''].join('\n'));
    const again = await runFlux(['store', 'migrate'], { env: { FLUX_STORE_URL: url } });
    expect(again).toMatchObject({ code: 0, stdout: `${shown} is up to date (schema version ${PG_MIGRATIONS.at(-1)!.version})\n` });
    const store = await openPostgresStore({ url: shown, now: () => 0 });
    await store.putWorkflowVersion({ hash: 'sha256:v', name: 'w', text: '', createdAt: 0 });
    for (const id of ['R1', 'R2', 'R3']) await store.enqueueRun({ id, workflow: 'w', workflowVersion: 'sha256:v', trigger: 'manual', event: {}, receivedAt: 0 }, 0);
    await store.claimRuns('d', 1, 1000, 0);
    await store.close();
    const after = await runFlux(['store', 'status', '--store', url]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('pending: none\nruns:    queued 2, running 1\n');
    for (const out of [before, migrated, again, after]) expect(out.stdout + out.stderr).not.toContain('sekret');
  });

  it('exit 1 when the store cannot be reached or is newer than this flux; 2 for a URL of another database', async () => {
    const unreachable = new URL(PG_URL);
    unreachable.port = '1';
    unreachable.password = 'sekret-pw-123';
    const down = await runFlux(['store', 'status', '--store', unreachable.href]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^flux store: cannot open the PostgreSQL store postgres:\/\/[^@]*@127\.0\.0\.1:1\/\S*: connection refused/);
    expect(down.stderr).not.toContain('sekret');
    const downMigrate = await runFlux(['store', 'migrate', '--store', unreachable.href]);
    expect(downMigrate.code).toBe(1);
    expect(downMigrate.stderr).not.toContain('sekret');

    const schema = schemas.fresh();
    await runFlux(['store', 'migrate', '--store', urlWithSchema(schema)]);
    await adminQuery(`INSERT INTO ${schema}.schema_migrations VALUES (999, 'from the future', 0)`);
    const newer = await runFlux(['store', 'status', '--store', urlWithSchema(schema)]);
    expect(newer.code).toBe(1);
    expect(newer.stdout).toContain('schema:  version 999;');
    expect(newer.stderr).toContain('newer than this flux knows');
    const newerMigrate = await runFlux(['store', 'migrate', '--store', urlWithSchema(schema)]);
    expect(newerMigrate.code).toBe(1);
    expect(newerMigrate.stderr).toMatch(/schema is version 999, newer than this flux knows/);

    const mysql = await runFlux(['store', 'status', '--store', 'mysql://root@127.0.0.1/db']);
    expect(mysql).toMatchObject({ code: 2, stderr: 'flux: --store takes a SQLite file or a postgres:// URL, not a mysql:// URL\n' });
    expect((await runFlux(['store', 'status', '--bogus'])).code).toBe(2);
  });
});

describe('flux store (sqlite)', () => {
  it('defaults to flux.db under --state-dir; status of a missing file is exit 1; migrate creates it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'flux-store-cli-'));
    const missing = await runFlux(['store', 'status', '--state-dir', 'state'], { cwd });
    expect(missing).toMatchObject({ code: 1, stdout: '', stderr: 'flux store: cannot open the state database state/flux.db: no such file\n' });
    const migrated = await runFlux(['store', 'migrate', '--state-dir', 'state'], { cwd });
    expect(migrated.code).toBe(0);
    expect(migrated.stdout.split('\n').filter((l) => l.startsWith('applied migration'))).toHaveLength(SQLITE_MIGRATIONS.length);
    const status = await runFlux(['store', 'status', '--store', 'state/flux.db'], { cwd });
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toBe([
      'store:   state/flux.db (sqlite)',
      `schema:  version ${SQLITE_MIGRATIONS.at(-1)!.version}; this flux knows ${SQLITE_MIGRATIONS.at(-1)!.version}`,
      'pending: none',
      'runs:    none',
      '',
    ].join('\n'));
    // flux runs reads the same file when --store names it.
    const runs = await runFlux(['runs', '--store', 'state/flux.db'], { cwd });
    expect(runs).toMatchObject({ code: 0, stdout: 'no runs in state/flux.db\n' });
    const none = await runFlux(['runs', '--store', 'elsewhere/flux.db'], { cwd });
    expect(none).toMatchObject({ code: 2, stderr: 'flux: no runs store at elsewhere/flux.db (--store, or FLUX_STORE_URL, names a file that does not exist)\n' });
  });
});

// The PostgreSQL store: the shared suite against the real server at $FLUX_TEST_PG_URL, each
// store in a fresh schema, then what only a shared server can show: daemons migrating at once,
// many claimers and schedulers racing on one database, a connection killed mid-call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migratePostgres, openPostgresStore, PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { PostgresOpenError } from '../../src/store/postgres/url.js';
import { MIGRATIONS } from '../../src/store/postgres/migrations.js';
import type { Store } from '../../src/store/store.js';
import { adminQuery, requirePostgres, testSchemas, urlWithSchema } from '../pg-helpers.js';
import { describeStore } from './store-suite.js';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
const now = () => T0;
const schemas = testSchemas();

beforeAll(requirePostgres);
afterAll(() => schemas.dropAll());

describeStore(
  'postgres',
  () => openPostgresStore({ url: urlWithSchema(schemas.fresh()), now }),
  (store: Store) => openPostgresStore({ url: urlWithSchema((store as PostgresStore).schema), now }),
  { commitsOnCallerThread: false },
);

const VERSION = 'sha256:v1';

/** A fresh, migrated store with one workflow version; closed by the caller. */
async function freshStore(schema = schemas.fresh(), options: { poolSize?: number } = {}): Promise<PostgresStore> {
  const store = await openPostgresStore({ url: urlWithSchema(schema), now, ...options });
  await store.putWorkflowVersion({ hash: VERSION, name: 'w', text: 'name: w\n', createdAt: T0 });
  return store;
}

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('postgres store: migrations', () => {
  it('two daemons opening a new schema at once migrate it once', async () => {
    const schema = schemas.fresh();
    const url = urlWithSchema(schema);
    const [a, b] = await Promise.all([migratePostgres({ url, now }), migratePostgres({ url, now: () => T0 + 1 })]);
    expect([a.applied.length, b.applied.length].sort()).toEqual([0, MIGRATIONS.length]);
    const rows = await adminQuery('SELECT version, name, applied_at FROM ' + schema + '.schema_migrations ORDER BY version');
    expect(rows.map((r) => [r.version, r.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
    // Two stores opening at once (as two daemons do) also agree, and both work.
    const [s1, s2] = await Promise.all([openPostgresStore({ url, now }), openPostgresStore({ url, now })]);
    await s1.putWorkflowVersion({ hash: VERSION, name: 'w', text: '', createdAt: T0 });
    expect(await s2.getWorkflowVersion(VERSION)).toMatchObject({ name: 'w' });
    await Promise.all([s1.close(), s2.close()]);
  });

  it('two stores racing to create a schema that does not exist yet both open it', async () => {
    const url = urlWithSchema(schemas.fresh());
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ url, now })));
    await Promise.all(stores.map((s) => s.close()));
  });

  it('refuses a schema newer than this flux, and a read-only open of one never migrated', async () => {
    const schema = schemas.fresh();
    await (await openPostgresStore({ url: urlWithSchema(schema), now })).close();
    await adminQuery(`INSERT INTO ${schema}.schema_migrations VALUES (999, 'from the future', 0)`);
    const opening = openPostgresStore({ url: urlWithSchema(schema), now });
    await expect(opening).rejects.toBeInstanceOf(PostgresOpenError);
    await expect(opening).rejects.toThrow(new RegExp(`schema is version 999, newer than this flux knows \\(${MIGRATIONS.at(-1)!.version}\\)`));
    await expect(openPostgresStore({ url: urlWithSchema(schemas.fresh()), now, readOnly: true })).rejects.toThrow(/no flux tables in this schema/);
  });
});

describe('postgres store: many daemons on one database', () => {
  it('5 stores claiming 1,000 runs at once hand each run out exactly once', async () => {
    const schema = schemas.fresh();
    const stores = [await freshStore(schema, { poolSize: 4 })];
    for (let i = 1; i < 5; i++) stores.push(await openPostgresStore({ url: urlWithSchema(schema), now, poolSize: 4 }));
    // 200 runs enqueued through each store, all at once.
    const ids = (await Promise.all(stores.flatMap((s, i) => Array.from({ length: 200 }, (_, j) =>
      s.enqueueRun({ id: `01R${String(i * 200 + j).padStart(6, '0')}`, workflow: 'w', workflowVersion: VERSION, trigger: 'webhook', event: { i, j }, receivedAt: T0 }, T0),
    )))).map((r) => r.id);
    expect(new Set(ids).size).toBe(1000);
    // Each store runs 3 claim loops until nothing is left.
    const loop = async (store: Store, owner: string): Promise<string[]> => {
      const got: string[] = [];
      for (;;) {
        const claimed = await store.claimRuns(owner, 7, 30_000, T0);
        if (claimed.length === 0) return got;
        got.push(...claimed.map((c) => c.run.id));
      }
    };
    const claims = await Promise.all(stores.flatMap((s, i) => [0, 1, 2].map((k) => loop(s, `d${i}.${k}`))));
    const all = claims.flat();
    expect(all).toHaveLength(1000);
    expect(new Set(all)).toEqual(new Set(ids));
    // More than one claimer got work: the claims really raced.
    expect(claims.filter((c) => c.length > 0).length).toBeGreaterThan(1);
    const counted = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM ${schema}.runs WHERE status = 'running' AND attempt = 1`);
    expect(Number(counted[0]?.n)).toBe(1000);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('1,000 schedule fires enqueued by three stores at once give exactly 1,000 runs', async () => {
    const schema = schemas.fresh();
    const stores = [await freshStore(schema, { poolSize: 4 })];
    for (let i = 1; i < 3; i++) stores.push(await openPostgresStore({ url: urlWithSchema(schema), now, poolSize: 4 }));
    const MIN = 60_000;
    const fire = (k: number, by: number) => {
      const at = T0 + k * MIN;
      return { id: `01F${by}${String(k).padStart(5, '0')}`, workflow: 'w', workflowVersion: VERSION, trigger: 'schedule', event: {}, receivedAt: at, scheduledFor: at, key: { kind: 'fire' as const, key: `w@${new Date(at).toISOString()}` } };
    };
    // Each store (a scheduler) evaluates every fire, in batches of 20, in its own order.
    const scheduler = async (store: Store, by: number) => {
      const order = Array.from({ length: 50 }, (_, b) => (by === 1 ? 49 - b : (b * 7 + by) % 50));
      const outcomes = [];
      for (const b of order) outcomes.push(...(await store.enqueueFires(Array.from({ length: 20 }, (_, k) => fire(b * 20 + k, by)), 'allow', T0)));
      return outcomes;
    };
    const outcomes = (await Promise.all(stores.map((s, i) => scheduler(s, i)))).flat();
    expect(outcomes.filter((o) => o.kind === 'created')).toHaveLength(1000);
    expect(outcomes.filter((o) => o.kind === 'duplicate')).toHaveLength(2000);
    const counted = await adminQuery<{ runs: string; fires: string }>(
      `SELECT (SELECT count(*) FROM ${schema}.runs) AS runs, (SELECT count(DISTINCT scheduled_for) FROM ${schema}.runs) AS fires`,
    );
    expect([Number(counted[0]?.runs), Number(counted[0]?.fires)]).toEqual([1000, 1000]);
    expect(await stores[0]!.lastFire('w')).toBe(T0 + 999 * MIN);
    await Promise.all(stores.map((s) => s.close()));
  });
});

describe('postgres store: connections', () => {
  it('a connection killed mid-call fails that call, and the pool serves the next one', async () => {
    const store = await freshStore(undefined, { poolSize: 2 });
    await store.enqueueRun({ id: '01KILL', workflow: 'w', workflowVersion: VERSION, trigger: 'manual', event: {}, receivedAt: T0 }, T0);
    await store.claimRuns('d', 1, 30_000, T0);
    // Hold the run's row, so the store's finishRun waits on it, mid-statement.
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: urlWithSchema(store.schema).replace(/\?.*$/, '') });
    await admin.connect();
    await admin.query('BEGIN');
    await admin.query(`SELECT 1 FROM ${store.schema}.runs WHERE id = '01KILL' FOR UPDATE`);
    const adminPid = (await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const finishing = store.finishRun('01KILL', 'd', 'succeeded', null, T0 + 1);
    finishing.catch(() => {});
    let waiter: number | undefined;
    for (let i = 0; i < 200 && waiter === undefined; i++) {
      const rows = (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [adminPid])).rows;
      waiter = rows[0]?.pid;
      if (waiter === undefined) await new Promise((r) => setTimeout(r, 10)); // polling the server for the blocked backend, not waiting on the store's clock
    }
    expect(waiter).toBeDefined();
    await admin.query('SELECT pg_terminate_backend($1)', [waiter]);
    await expect(finishing).rejects.toThrow(/terminat/i);
    await admin.query('ROLLBACK');
    await admin.end();
    // The killed connection is dropped; the next calls get a working one.
    await store.finishRun('01KILL', 'd', 'succeeded', null, T0 + 2);
    expect(await store.getRun('01KILL')).toMatchObject({ status: 'succeeded', finishedAt: T0 + 2 });
    await store.close();
  });

  it('a statement that runs past the statement timeout is cancelled, and its call rejects', async () => {
    const schema = schemas.fresh();
    await (await freshStore(schema)).close();
    const store = await openPostgresStore({ url: urlWithSchema(schema), now, statementTimeoutMs: 300, poolSize: 1 });
    await store.enqueueRun({ id: '01SLOW', workflow: 'w', workflowVersion: VERSION, trigger: 'manual', event: {}, receivedAt: T0 }, T0);
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: urlWithSchema(schema).replace(/\?.*$/, '') });
    await admin.connect();
    await admin.query('BEGIN');
    await admin.query(`SELECT 1 FROM ${schema}.runs WHERE id = '01SLOW' FOR UPDATE`);
    // The row is held: the cancel waits on it until the statement timeout ends the wait.
    await expect(store.cancelRun('01SLOW', T0 + 1)).rejects.toThrow(/statement timeout/);
    await admin.query('ROLLBACK');
    await admin.end();
    expect(await store.cancelRun('01SLOW', T0 + 2)).toBe('cancelled');
    await store.close();
  });

  it('says why it cannot connect, naming the URL without its password', async () => {
    const port = await closedPort();
    const refused = openPostgresStore({ url: `postgres://postgres:s3cret-pw@127.0.0.1:${port}/test?schema=x`, now, connectTimeoutMs: 3000 });
    await expect(refused).rejects.toBeInstanceOf(PostgresOpenError);
    const message = await refused.catch((e: Error) => e.message);
    expect(message).toBe(`cannot open the PostgreSQL store postgres://postgres@127.0.0.1:${port}/test?schema=x: connection refused at 127.0.0.1:${port} (is PostgreSQL running and listening there?)`);
    expect(message).not.toContain('s3cret');
    const server = new URL(urlWithSchema('x'));
    server.pathname = '/flux_no_such_db';
    server.password = 'hunter2-pw';
    const noDb = await openPostgresStore({ url: server.href, now }).catch((e: Error) => e.message);
    expect(noDb).toMatch(/database "flux_no_such_db" does not exist/);
    expect(noDb).not.toContain('hunter2');
    server.pathname = new URL(urlWithSchema('x')).pathname;
    server.username = 'flux_no_such_role';
    const noRole = await openPostgresStore({ url: server.href, now }).catch((e: Error) => e.message);
    expect(noRole).toMatch(/flux_no_such_role/);
    expect(noRole).not.toContain('hunter2');
    await expect(openPostgresStore({ url: urlWithSchema('bad-name; drop'), now })).rejects.toThrow(/schema name "bad-name; drop" is not a plain identifier/);
  });
});

// The SQLite store in a worker thread: the shared suite, then what only the thread hop can
// break: error classes crossing it, call order, group commit across it, close, open failures
// with the same message as the direct store, a worker that dies, and the path of the built
// worker file.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import Database from 'libsql';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore, StoreOpenError } from '../../src/store/sqlite/sqlite-store.js';
import { openWorkerStore, WorkerStore } from '../../src/store/sqlite/worker-store.js';
import { LeaseLostError, type NewRun, type Store } from '../../src/store/store.js';
import { describeStore } from './store-suite.js';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
const now = () => T0;
const VERSION = 'sha256:v';

function dbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'flux-worker-store-')), 'state', 'flux.db');
}

function run(id: string, fields: Partial<NewRun> = {}): NewRun {
  return { id, workflow: 'w', workflowVersion: VERSION, trigger: 'webhook', event: { n: id }, receivedAt: T0, ...fields };
}

async function fresh(path = dbPath()): Promise<WorkerStore> {
  const store = await openWorkerStore({ path, now });
  await store.putWorkflowVersion({ hash: VERSION, name: 'w', text: '', createdAt: T0 });
  return store;
}

/** The error a call rejects with (failing the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected a rejection, but the call resolved');
}

/** The store's thread, as a test kills it. */
function workerOf(store: WorkerStore): Worker {
  return (store as unknown as { worker: Worker }).worker;
}

describeStore(
  'sqlite in a worker thread',
  () => openWorkerStore({ path: dbPath(), now }),
  (store: Store) => openWorkerStore({ path: (store as WorkerStore).path, now }),
  { commitsOnCallerThread: false },
);

describe('worker store: errors keep their class', () => {
  it('a lost lease is a LeaseLostError naming the run and the owner', async () => {
    const store = await fresh();
    await store.enqueueRun(run('R1'), T0);
    await store.claimRuns('daemon-a', 1, 1000, T0);
    await store.claimRuns('daemon-b', 1, 1000, T0 + 5000);
    const lost = await rejection(store.finishRun('R1', 'daemon-a', 'succeeded', null, T0 + 5001));
    expect(lost).toBeInstanceOf(LeaseLostError);
    expect(lost).toMatchObject({ name: 'LeaseLostError', runId: 'R1', owner: 'daemon-a', message: 'run R1 is no longer held by daemon-a: its lease ran out and it was taken over' });
    await store.close();
  });

  it('argument errors stay TypeError and RangeError; SQLite errors keep their name and code', async () => {
    const store = await fresh();
    await expect(store.setWaiting('R1', 'o', null, null, T0)).rejects.toBeInstanceOf(TypeError);
    await expect(store.claimRuns('o', 1, 1000, T0, new Map([['w', { max: 0 }]]))).rejects.toBeInstanceOf(RangeError);
    await expect(store.claimRuns('o', 1, 1000, T0, new Map([['w', { max: 0 }]]))).rejects.toThrow('the limit of w must be a whole number of at least 1, not 0');
    const direct = await openSqliteStore({ path: dbPath(), now });
    const expected = await rejection(direct.enqueueRun(run('R2', { workflowVersion: 'sha256:unknown' }), T0));
    await direct.close();
    const got = await rejection(store.enqueueRun(run('R2', { workflowVersion: 'sha256:unknown' }), T0));
    expect(got).toBeInstanceOf(Error);
    expect({ name: got.name, message: got.message, code: got.code }).toEqual({ name: expected.name, message: expected.message, code: expected.code });
    expect(got.code).toMatch(/^SQLITE_CONSTRAINT/);
    await store.close();
  });

  it('arguments that cannot be sent fail that call alone', async () => {
    const store = await fresh();
    const calls = [
      store.enqueueRun(run('R1'), T0),
      store.enqueueRun(run('R2', { event: { notData: () => 1 } }), T0),
      store.enqueueRun(run('R3'), T0),
    ];
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((settled[1] as PromiseRejectedResult).reason)).toMatch(/^TypeError: enqueueRun: its arguments cannot be sent to the state database worker: /);
    expect((await store.listRuns({})).map((r) => r.id).sort()).toEqual(['R1', 'R3']);
    await store.close();
  });
});

describe('worker store: opening', () => {
  it('rejects a path it cannot open with the same StoreOpenError as the direct store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-worker-store-'));
    const direct = await rejection(openSqliteStore({ path: dir, now }));
    const viaWorker = await rejection(openWorkerStore({ path: dir, now }));
    expect(viaWorker).toBeInstanceOf(StoreOpenError);
    expect(viaWorker.message).toBe(direct.message);
    expect(viaWorker.message).toMatch(new RegExp(`^cannot open the state database ${dir}: `));
    expect((viaWorker as StoreOpenError).path).toBe(dir);
  });

  it('refuses a database from a newer flux, as the direct store does', async () => {
    const path = dbPath();
    await (await openWorkerStore({ path, now })).close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations VALUES (999, 'from the future', '2030-01-01T00:00:00.000Z')").run();
    db.close();
    const opening = openWorkerStore({ path, now });
    await expect(opening).rejects.toBeInstanceOf(StoreOpenError);
    await expect(opening).rejects.toThrow(new RegExp(`^cannot open the state database ${path}: .*schema is version 999, newer than this flux knows \\(${MIGRATIONS.at(-1)!.version}\\)`));
  });

  it('stamps migrations with the time of the clock it was given', async () => {
    const path = dbPath();
    await (await openWorkerStore({ path, now: () => T0 + 7 })).close();
    const db = new Database(path);
    expect(db.prepare('SELECT DISTINCT applied_at FROM schema_migrations').all()).toEqual([{ applied_at: new Date(T0 + 7).toISOString() }]);
    db.close();
  });

  it('names a worker file that is missing', async () => {
    const workerUrl = new URL('./fixtures/no-such-worker.mjs', import.meta.url);
    await expect(openWorkerStore({ path: dbPath(), now, workerUrl })).rejects.toThrow(/^cannot start the state database worker .*no-such-worker\.mjs: /);
  });

  it('finds its worker file from the built output (dist/), with no URL given', async () => {
    type Module = typeof import('../../src/store/sqlite/worker-store.js');
    const built = (await import(new URL('../../dist/store/sqlite/worker-store.js', import.meta.url).href)) as Module;
    expect(built.defaultWorkerUrl().href).toBe(new URL('../../dist/store/sqlite/store-worker.js', import.meta.url).href);
    const store = await built.openWorkerStore({ path: dbPath(), now });
    await store.putWorkflowVersion({ hash: VERSION, name: 'w', text: 'name: w\n', createdAt: T0 });
    expect((await store.getWorkflowVersion(VERSION))?.text).toBe('name: w\n');
    await store.close();
  });
});

describe('worker store: order and group commit', () => {
  it('applies calls in the order they were made, across turns, without awaiting each', async () => {
    const store = await fresh();
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      calls.push(store.enqueueRun(run(`R${String(i).padStart(3, '0')}`, { key: { kind: 'dedupe', key: 'same' } }), T0));
      if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve));
    }
    // Enqueued and cancelled in one turn: cancelling first would find no run.
    const enqueued = store.enqueueRun(run('X'), T0);
    const cancelled = store.cancelRun('X', T0);
    const results = (await Promise.all(calls)) as { id: string; created: boolean }[];
    expect(results[0]).toEqual({ id: 'R000', created: true });
    expect(results.slice(1).every((r) => r.id === 'R000' && !r.created)).toBe(true);
    expect(await enqueued).toEqual({ id: 'X', created: true });
    expect(await cancelled).toBe('cancelled');
    await store.close();
  });

  it('commits the writes of concurrent callers in one transaction', async () => {
    const store = await fresh();
    const before = await store.writeStats();
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.enqueueRun(run(`R${i}`), T0)));
    const after = await store.writeStats();
    expect(after.writes - before.writes).toBe(500);
    expect(after.transactions - before.transactions).toBe(1);
    await store.close();
  });
});

describe('worker store: close', () => {
  it('commits what was asked before it, ends the thread, and refuses later calls', async () => {
    const path = dbPath();
    const store = await fresh(path);
    const enqueued = store.enqueueRun(run('R1'), T0);
    const closing = store.close();
    await expect(store.getRun('R1')).rejects.toThrow(`the state database ${path} is closed`);
    await closing;
    expect(await enqueued).toEqual({ id: 'R1', created: true });
    // A store closed as asked is not dead.
    expect(await Promise.race([store.dead.then(() => 'dead'), new Promise((r) => setTimeout(() => r('alive'), 50))])).toBe('alive');
    expect(workerOf(store).threadId).toBe(-1);
    await store.close();
    const again = await openSqliteStore({ path, now });
    expect((await again.getRun('R1'))?.status).toBe('queued');
    await again.close();
  });
});

describe('worker store: a worker that dies', () => {
  it('rejects the calls in flight and every later call, and says why', async () => {
    const store = await fresh();
    await store.enqueueRun(run('R1'), T0);
    const inFlight = [store.enqueueRun(run('R2'), T0), store.getRun('R1'), store.claimRuns('o', 5, 1000, T0)];
    await workerOf(store).terminate();
    const settled = await Promise.allSettled(inFlight);
    const stopped = new RegExp(`^the state database worker for ${store.path} stopped \\(exit code 1\\): writes in flight may or may not be stored, and nothing more can be until flux is restarted$`);
    for (const s of settled) {
      expect(s.status).toBe('rejected');
      expect((s as PromiseRejectedResult).reason.message).toMatch(stopped);
    }
    await expect(store.countRuns()).rejects.toThrow(stopped);
    // The daemon waits on `dead` to exit and be restarted.
    expect((await store.dead).message).toMatch(stopped);
    await store.close();
    // What was committed before it died is there.
    const reopened = await openSqliteStore({ path: store.path, now });
    expect((await reopened.getRun('R1'))?.status).toBe('queued');
    await reopened.close();
  });

  it('ends itself when the WAL cannot be synced: the write is refused, and the daemon is told why', async () => {
    const path = dbPath();
    const store = await openWorkerStore({ path, now });
    // SQLite keeps its own descriptor; the store opens the WAL by name at its first sync.
    rmSync(`${path}-wal`);
    const refused = await rejection(store.putWorkflowVersion({ hash: VERSION, name: 'w', text: '', createdAt: T0 }));
    expect(refused.message).toMatch(/^the state database could not be flushed to disk \(ENOENT.*flux\.db-wal'\): what was written since the last flush may be lost/);
    expect((await store.dead).message).toMatch(/stopped \(the state database could not be flushed to disk \(ENOENT/);
    await expect(store.getRun('R1')).rejects.toThrow(/stopped/);
  });

  it('names the uncaught error that ended it', async () => {
    const path = dbPath();
    mkdirSync(dirname(path), { recursive: true });
    const store = await openWorkerStore({ path, now, workerUrl: new URL('./fixtures/crashing-store-worker.mjs', import.meta.url) });
    await expect(store.getRun('R1')).rejects.toThrow(`the state database worker for ${path} stopped (the worker fell over): writes in flight may or may not be stored`);
    await expect(store.getRun('R1')).rejects.toThrow('stopped (the worker fell over)');
  });
});

// Group commit with the fsync taken out of COMMIT (group-commit.ts, wal-sync.ts): a result is
// released only after a sync that started once its transaction had committed; the next
// transaction is written while a sync is in flight; a failed sync fails what it covered and
// everything after; a write that throws is undone alone. The sync here is a promise the test
// settles, so every step is observed, with no timing involved.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { walSync } from '../../src/store/sqlite/wal-sync.js';

/** A sync the test settles by hand: each call is one entry in `calls`. */
function manualSync() {
  const calls: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const sync = () => new Promise<void>((resolve, reject) => calls.push({ resolve, reject }));
  return { sync, calls };
}

/** Tracks a promise: `state()` is pending, fulfilled or rejected as of now. */
function track<T>(promise: Promise<T>) {
  let state: 'pending' | 'fulfilled' | 'rejected' = 'pending';
  let reason: unknown;
  promise.then(() => (state = 'fulfilled'), (error: unknown) => {
    state = 'rejected';
    reason = error;
  });
  return { promise, state: () => state, reason: () => reason };
}

/** Lets the group commit's setImmediate and the promise callbacks run. */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function table(): Database.Database {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (x TEXT PRIMARY KEY)');
  return db;
}

const rows = (db: Database.Database) => (db.prepare('SELECT x FROM t ORDER BY x').all() as { x: string }[]).map((r) => r.x);
const insert = (db: Database.Database, x: string) => () => db.prepare('INSERT INTO t VALUES (?)').run(x).changes;

describe('group commit: the sync after COMMIT', () => {
  it('releases a result only after a sync that started after its commit, and writes the next transaction meanwhile', async () => {
    const db = table();
    const { sync, calls } = manualSync();
    const commits = new GroupCommit(db, 1000, sync);
    const a = track(commits.submit(insert(db, 'a')));
    await turn();
    expect(rows(db)).toEqual(['a']);
    expect(calls.length).toBe(1);
    expect(a.state()).toBe('pending');

    // Committed while the first sync is in flight: not covered by it, so it waits for the next.
    const b = track(commits.submit(insert(db, 'b')));
    await turn();
    expect(rows(db)).toEqual(['a', 'b']);
    expect(calls.length).toBe(1);
    calls[0]!.resolve();
    await turn();
    expect(a.state()).toBe('fulfilled');
    expect(b.state()).toBe('pending');
    expect(calls.length).toBe(2);
    calls[1]!.resolve();
    await turn();
    expect(b.state()).toBe('fulfilled');
    expect(commits.stats).toEqual({ transactions: 2, writes: 2, syncs: 2 });
  });

  it('drained() waits for the sync covering the last commit', async () => {
    const db = table();
    const { sync, calls } = manualSync();
    const commits = new GroupCommit(db, 1000, sync);
    await commits.drained();
    void commits.submit(insert(db, 'a'));
    await turn();
    const drained = track(commits.drained());
    await turn();
    expect(drained.state()).toBe('pending');
    calls[0]!.resolve();
    await drained.promise;
    expect(commits.stats.syncs).toBe(1);
  });

  it('a failed sync fails the writes it covered, those committed during it, and every write after', async () => {
    const db = table();
    const { sync, calls } = manualSync();
    const broken: Error[] = [];
    const commits = new GroupCommit(db, 1000, sync, (error) => broken.push(error));
    const a = track(commits.submit(insert(db, 'a')));
    await turn();
    const b = track(commits.submit(insert(db, 'b')));
    await turn();
    calls[0]!.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    await turn();
    expect(a.state()).toBe('rejected');
    expect(b.state()).toBe('rejected');
    expect(String(a.reason())).toMatch(/could not be flushed to disk \(EIO: i\/o error, fdatasync\).*nothing more is stored until flux is restarted/);
    // An fsync that succeeds after one failed proves nothing: the store stays failed.
    await expect(commits.submit(insert(db, 'c'))).rejects.toThrow(/could not be flushed to disk/);
    expect(calls.length).toBe(1);
    expect(broken.map((e) => e.message)).toEqual([String(a.reason()).replace(/^Error: /, '')]);
    await commits.drained();
  });

  it('a write that throws is undone alone: the batch runs again with savepoints, each other write counts once', async () => {
    const db = table();
    const { sync, calls } = manualSync();
    const commits = new GroupCommit(db, 1000, sync);
    let firstRuns = 0;
    const results = Promise.allSettled([
      commits.submit(() => {
        firstRuns += 1;
        return insert(db, 'a')();
      }),
      commits.submit(() => {
        insert(db, 'half-done')();
        throw new Error('lease lost');
      }),
      commits.submit(insert(db, 'b')),
    ]);
    await turn();
    calls[0]!.resolve();
    expect((await results).map((r) => (r.status === 'fulfilled' ? r.value : String(r.reason)))).toEqual([1, 'Error: lease lost', 1]);
    expect(rows(db)).toEqual(['a', 'b']);
    // Run once without savepoints (rolled back when the second write threw), once with.
    expect(firstRuns).toBe(2);
    expect(commits.stats).toEqual({ transactions: 1, writes: 3, syncs: 1 });
  });

  it('without a sync (synchronous=FULL, or in memory), results settle right after COMMIT', async () => {
    const db = table();
    const commits = new GroupCommit(db);
    expect(await commits.submit(insert(db, 'a'))).toBe(1);
    expect(commits.stats).toEqual({ transactions: 1, writes: 1, syncs: 0 });
  });
});

describe('wal sync', () => {
  it('syncs the WAL file beside the database, and fails with the reason when there is none', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-wal-sync-'));
    try {
      const path = join(dir, 'flux.db');
      const missing = walSync(path);
      await expect(missing.sync()).rejects.toThrow(/ENOENT.*flux\.db-wal/);
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (x)');
      const wal = walSync(path);
      await wal.sync();
      await wal.sync();
      await wal.close();
      await missing.close();
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with checkpointEveryMs, checkpoints the WAL on its thread after a sync', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-wal-sync-'));
    try {
      const path = join(dir, 'spool.db');
      const db = new Database(path);
      db.pragma('journal_mode = WAL');
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE t (x)');
      const insert = db.prepare('INSERT INTO t VALUES (?)');
      db.exec('BEGIN');
      for (let i = 0; i < 2000; i++) insert.run('x'.repeat(500));
      db.exec('COMMIT');
      // Everything is in the WAL: the database file holds nothing of it yet.
      const before = statSync(path).size;
      expect(before).toBeLessThan(100_000);
      const wal = walSync(path, { checkpointEveryMs: 0 });
      await wal.sync();
      await wal.close();
      expect(statSync(path).size).toBeGreaterThan(1_000_000);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

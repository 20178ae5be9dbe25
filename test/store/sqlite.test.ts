// The SQLite store: the shared suite on a real file, then what only a real file can show:
// the pragmas, migrations, group commit, a writer killed with SIGKILL, and several processes
// racing to claim the same runs.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'libsql';
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/store/sqlite/group-commit.js';
import { migrate } from '../../src/store/sqlite/migrate.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { openSqliteStore, SqliteStore, StoreOpenError } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { describeStore } from './store-suite.js';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
const now = () => T0;
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

function dbPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'flux-store-')), 'state', 'flux.db');
}

describeStore(
  'sqlite',
  () => openSqliteStore({ path: dbPath(), now }),
  (store: Store) => openSqliteStore({ path: (store as SqliteStore).path, now }),
  { commitsOnCallerThread: true },
);

describe('sqlite store: the file', () => {
  it('is in WAL mode, fsyncs every commit and records its migrations', async () => {
    const path = dbPath();
    await (await openSqliteStore({ path, now })).close();
    await (await openSqliteStore({ path, now: () => T0 + 1 })).close();
    const db = new Database(path);
    expect(db.prepare('PRAGMA journal_mode').all()).toEqual([{ journal_mode: 'wal' }]);
    expect(db.prepare('SELECT version, name, applied_at FROM schema_migrations').all()).toEqual(
      MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: new Date(T0).toISOString() })),
    );
    db.close();
    const store = await openSqliteStore({ path, now });
    // synchronous is per connection: read it from the store's own. NORMAL (1): the fsync that
    // FULL makes in each COMMIT, the store makes itself (wal-sync.ts), counted in writeStats.
    expect((store as unknown as { db: Database.Database }).db.prepare('PRAGMA synchronous').all()).toEqual([{ synchronous: 1 }]);
    await store.putWorkflowVersion({ hash: 'sha256:v', name: 'w', text: '', createdAt: T0 });
    for (let i = 0; i < 3; i++) await store.enqueueRun({ id: `R${i}`, workflow: 'w', workflowVersion: 'sha256:v', trigger: 'webhook', event: {}, receivedAt: T0 }, T0);
    // Each write awaited alone needed a sync of its own before it resolved.
    expect(store.writeStats).toEqual({ transactions: 4, writes: 4, syncs: 4 });
    await store.close();
    await expect(store.getRun('x')).rejects.toThrow(/closed/);
  });

  it('refuses a database whose schema is newer than this flux', async () => {
    const path = dbPath();
    await (await openSqliteStore({ path, now })).close();
    const db = new Database(path);
    db.prepare("INSERT INTO schema_migrations VALUES (999, 'from the future', '2030-01-01T00:00:00.000Z')").run();
    db.close();
    const opening = openSqliteStore({ path, now });
    await expect(opening).rejects.toBeInstanceOf(StoreOpenError);
    await expect(opening).rejects.toThrow(new RegExp(`schema is version 999, newer than this flux knows \\(${MIGRATIONS.at(-1)!.version}\\)`));
  });

  it('claims queued runs through their own index, not by walking past every finished run', async () => {
    const path = dbPath();
    await (await openSqliteStore({ path, now })).close();
    const db = new Database(path);
    const { SQL } = await import('../../src/store/sqlite/queries.js');
    const plan = (name: 'claimStart' | 'claimWake' | 'claimRescue'): string =>
      (db.prepare(`EXPLAIN QUERY PLAN ${SQL[name]}`).all({ owner: 'o', now: 'x', until: 'y', limit: 1 }) as { detail: string }[]).map((p) => p.detail).join('\n');
    expect(plan('claimStart')).toContain('USING INDEX runs_queued_by_id');
    expect(plan('claimStart')).not.toContain('TEMP B-TREE');
    expect(plan('claimWake')).toContain('INDEX runs_waking_in_order');
    expect(plan('claimWake')).not.toContain('TEMP B-TREE');
    expect(plan('claimRescue')).toContain('USING INDEX runs_leased');
    db.close();
  });

  it('names the file it cannot open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flux-store-'));
    await expect(openSqliteStore({ path: dir, now })).rejects.toThrow(`cannot open the state database ${dir}`);
  });
});

describe('sqlite store: group commit', () => {
  it('commits the writes of concurrent callers in a few transactions', async () => {
    const store = await openSqliteStore({ path: dbPath(), now });
    await store.putWorkflowVersion({ hash: 'sha256:v', name: 'w', text: '', createdAt: T0 });
    const before = store.writeStats;
    await Promise.all(Array.from({ length: 500 }, (_, i) => store.enqueueRun({ id: `R${i}`, workflow: 'w', workflowVersion: 'sha256:v', trigger: 'webhook', event: {}, receivedAt: T0 }, T0)));
    const after = store.writeStats;
    expect(after.writes - before.writes).toBe(500);
    expect(after.transactions - before.transactions).toBe(1);
    await store.close();
  });

  it('rejects every write of a transaction whose COMMIT fails, and keeps none of them', async () => {
    const db = new Database(':memory:');
    db.exec('PRAGMA foreign_keys = ON; CREATE TABLE parent (id TEXT PRIMARY KEY); CREATE TABLE child (id TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)');
    const commits = new GroupCommit(db);
    const results = await Promise.allSettled([
      commits.submit(() => db.prepare("INSERT INTO parent VALUES ('a')").run().changes),
      // A deferred foreign key is checked at COMMIT: this write makes the whole transaction fail.
      commits.submit(() => db.prepare("INSERT INTO child VALUES ('missing')").run().changes),
      commits.submit(() => db.prepare("INSERT INTO parent VALUES ('b')").run().changes),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(db.prepare('SELECT count(*) AS n FROM parent').all()).toEqual([{ n: 0 }]);
    expect(db.inTransaction).toBe(false);
    expect(await commits.submit(() => db.prepare("INSERT INTO parent VALUES ('c')").run().changes)).toBe(1);
  });

  it('holding writes while a sync is in flight: they commit together once it returns, and settle after the next sync', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (v INTEGER)');
    const syncs: (() => void)[] = [];
    const sync = () => new Promise<void>((resolve) => syncs.push(resolve));
    const commits = new GroupCommit(db, 1000, sync, undefined, true);
    const insert = (v: number) => commits.submit(() => db.prepare('INSERT INTO t VALUES (?)').run(v).changes);
    const settled: number[] = [];
    void insert(1).then(() => settled.push(1));
    await new Promise((resolve) => setImmediate(resolve));
    expect(commits.stats).toEqual({ transactions: 1, writes: 1, syncs: 0 });
    expect(syncs).toHaveLength(1);
    // While the first sync is in flight nothing more is committed, however many turns pass.
    const later = [2, 3, 4].map((v) => insert(v).then(() => settled.push(v)));
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(db.prepare('SELECT count(*) AS n FROM t').all()).toEqual([{ n: 1 }]);
    syncs[0]!();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toEqual([1]);
    expect(commits.stats).toEqual({ transactions: 2, writes: 4, syncs: 1 });
    expect(db.prepare('SELECT count(*) AS n FROM t').all()).toEqual([{ n: 4 }]);
    expect(syncs).toHaveLength(2);
    syncs[1]!();
    await Promise.all(later);
    expect(settled).toEqual([1, 2, 3, 4]);
    await commits.drained();
  });

  it('with maxBatch 1, each write is its own transaction', async () => {
    const store = await openSqliteStore({ path: dbPath(), now, maxBatch: 1 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.putWorkflowVersion({ hash: `sha256:${i}`, name: 'w', text: '', createdAt: T0 })));
    expect(store.writeStats).toEqual({ transactions: 20, writes: 20, syncs: 1 });
    await store.close();
  });
});

/** Spawns `node fixture args…` and gives its stdout lines as they come. */
function spawnFixture(fixture: string, args: string[]) {
  const child = spawn(process.execPath, [join(FIXTURES, fixture), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const l of listeners) l();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  /** Resolves once `count` lines have come (rejects if the child exits first). */
  const until = (count: number) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (lines.length >= count) {
          listeners.delete(check);
          resolve();
        }
      };
      listeners.add(check);
      check();
      void exited.then(({ code }) => {
        if (lines.length < count) reject(new Error(`${fixture} exited (${code}) after ${lines.length} lines: ${stderr}`));
      });
    });
  return { child, lines, until, exited, stderr: () => stderr };
}

describe('sqlite store: crashes and other processes', () => {
  it('keeps every acknowledged enqueue of a writer killed with SIGKILL', async () => {
    const path = dbPath();
    const writer = spawnFixture('enqueue-loop.mjs', [path]);
    await writer.until(3200); // ids and a few `# stats` lines
    writer.child.kill('SIGKILL');
    const { signal } = await writer.exited;
    expect(signal).toBe('SIGKILL');
    // Lines read after the kill were written before it: they count as acknowledged too.
    const acknowledged = writer.lines.filter((l) => !l.startsWith('#'));
    expect(acknowledged.length).toBeGreaterThanOrEqual(3000);
    // Transactions were committed while an earlier one was still being synced.
    const stats = writer.lines.filter((l) => l.startsWith('# stats ')).map((l) => JSON.parse(l.slice('# stats '.length)) as { transactions: number; syncs: number });
    expect(stats.some((s) => s.transactions > s.syncs + 1)).toBe(true);
    const store = await openSqliteStore({ path, now });
    const stored = new Set((await store.listRuns({ limit: 1_000_000 })).map((r) => r.id));
    const lost = acknowledged.filter((id) => !stored.has(id));
    expect(lost).toEqual([]);
    await store.close();
  }, 60_000);

  it('processes racing to claim the same runs never both get one', async () => {
    const path = dbPath();
    const store = await openSqliteStore({ path, now: Date.now });
    await store.putWorkflowVersion({ hash: 'sha256:v', name: 'w', text: '', createdAt: T0 });
    const ids = Array.from({ length: 3000 }, (_, i) => `R${String(i).padStart(5, '0')}`);
    await Promise.all(ids.map((id) => store.enqueueRun({ id, workflow: 'w', workflowVersion: 'sha256:v', trigger: 'manual', event: {}, receivedAt: T0 }, T0)));
    await store.close();

    const claimers = Array.from({ length: 4 }, (_, i) => spawnFixture('claim-loop.mjs', [path, `daemon-${i}`]));
    await Promise.all(claimers.map((c) => c.until(1)));
    for (const c of claimers) c.child.stdin.write('go\n');
    const exits = await Promise.all(claimers.map((c) => c.exited));
    expect(exits.map((e) => e.code), claimers.map((c) => c.stderr()).join('\n')).toEqual([0, 0, 0, 0]);
    const claimed = claimers.flatMap((c) => c.lines.slice(1));
    expect(claimed.length).toBe(ids.length);
    expect(new Set(claimed).size).toBe(ids.length);
    // Several processes claimed runs, so the race was real (a loaded machine may leave one out).
    expect(claimers.filter((c) => c.lines.length > 1).length).toBeGreaterThanOrEqual(2);
    const check = await openSqliteStore({ path, now });
    expect(await check.listRuns({ status: 'queued' })).toEqual([]);
    await check.close();
  }, 60_000);
});

describe('sqlite store: read-only', () => {
  it('reads what another connection wrote, while it holds the write lock, and refuses to write', async () => {
    const path = dbPath();
    const writer = await openSqliteStore({ path, now });
    await writer.putWorkflowVersion({ hash: 'sha256:v', name: 'w', text: '', createdAt: T0 });
    await writer.enqueueRun({ id: 'R1', workflow: 'w', workflowVersion: 'sha256:v', trigger: 'manual', event: {}, receivedAt: T0 }, T0);
    const reader = await openSqliteStore({ path, now, readOnly: true });
    expect(reader.readOnly).toBe(true);
    // A writer mid-transaction (the daemon) does not stop a read-only reader.
    const raw = (writer as unknown as { db: Database.Database }).db;
    raw.exec('BEGIN IMMEDIATE');
    raw.prepare("UPDATE runs SET status = 'cancelled' WHERE id = 'R1'").run();
    expect((await reader.getRun('R1'))?.status).toBe('queued');
    raw.exec('COMMIT');
    expect((await reader.getRun('R1'))?.status).toBe('cancelled');
    await expect(reader.cancelRun('R1', T0)).rejects.toThrow(`the state database ${path} is open for reading only`);
    await reader.close();
    await writer.close();
  });

  it('needs the file to exist and creates nothing', async () => {
    const path = dbPath();
    await expect(openSqliteStore({ path, now, readOnly: true })).rejects.toThrow(`cannot open the state database ${path}: no such file`);
    expect(existsSync(dirname(path))).toBe(false);
  });

  it('applies a migration numbered below the newest one applied (numbers are given to branches before they merge)', async () => {
    const path = dbPath();
    mkdirSync(dirname(path), { recursive: true });
    const raw = new Database(path);
    const skipped = MIGRATIONS.at(-2)!;
    migrate(raw, T0, MIGRATIONS.filter((m) => m !== skipped));
    raw.close();
    await expect(openSqliteStore({ path, now, readOnly: true })).rejects.toThrow(new RegExp(`lacks migration ${skipped.version}\\)`));
    await (await openSqliteStore({ path, now })).close();
    const check = new Database(path);
    expect((check.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
    check.close();
  });

  it('refuses a file that is not a flux store, or one of another schema version', async () => {
    const path = dbPath();
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.exec('CREATE TABLE unrelated (x)');
    db.close();
    await expect(openSqliteStore({ path, now, readOnly: true })).rejects.toThrow(/it is not a flux state database/);
    const old = dbPath();
    await (await openSqliteStore({ path: old, now })).close();
    const raw = new Database(old);
    raw.prepare('DELETE FROM schema_migrations WHERE version = ?').run(MIGRATIONS.at(-1)!.version);
    raw.close();
    await expect(openSqliteStore({ path: old, now, readOnly: true })).rejects.toThrow(/older than this flux's .*start this flux's daemon on it once/);
  });
});

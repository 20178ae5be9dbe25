// The intake spool (src/store/sqlite/intake-spool.ts) on real files: what is spooled is on disk
// when append resolves and survives a reopen; hand-over takes the oldest durable rows once and
// never reuses a sequence number; the SQLite store adopts spooled rows exactly once, shows the
// ones it has not adopted yet as queued runs, and cancels one still spooled.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { afterEach, describe, expect, it } from 'vitest';
import { IntakeSpool, spoolPathOf } from '../../src/store/sqlite/intake-spool.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { NewRun } from '../../src/store/store.js';

const T0 = Date.parse('2026-11-24T09:00:00.123Z');
const VERSION = 'sha256:intake';
const opened: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const o of opened.splice(0).reverse()) await o.close();
});

function storePath(): string {
  return join(mkdtempSync(join(tmpdir(), 'flux-spool-')), 'flux.db');
}

function spoolAt(store: string): IntakeSpool {
  const spool = IntakeSpool.open(spoolPathOf(store));
  opened.push(spool);
  return spool;
}

async function storeAt(path: string, readOnly = false): Promise<SqliteStore> {
  const store = await openSqliteStore({ path, now: () => T0, ...(readOnly ? { readOnly } : {}) });
  opened.push(store);
  if (!readOnly) await store.putWorkflowVersion({ hash: VERSION, name: 'leads', text: 'name: leads\n', createdAt: T0 });
  return store;
}

let next = 0;
function delivery(fields: Partial<NewRun> = {}): NewRun {
  next += 1;
  return { id: `01RUN${String(next).padStart(21, '0')}`, workflow: 'leads', workflowVersion: VERSION, trigger: 'webhook', event: { n: next, name: 'Zoë' }, receivedAt: T0 - 5, ...fields };
}

function rowsIn(store: string): { seq: number; id: string }[] {
  const db = new Database(spoolPathOf(store), { readonly: true });
  try {
    return db.prepare('SELECT seq, id FROM intake ORDER BY seq').all() as { seq: number; id: string }[];
  } finally {
    db.close();
  }
}

describe('intake spool', () => {
  it('is on disk when append resolves: a fresh connection reads every row, and a reopen hands them over', async () => {
    const path = storePath();
    const spool = IntakeSpool.open(spoolPathOf(path));
    // 150 in one turn: one batch, three multi-row INSERTs (64 rows each at most).
    const runs = Array.from({ length: 150 }, () => delivery());
    const answers = await Promise.all(runs.map((r) => spool.append(r, T0)));
    expect(answers).toEqual(runs.map((r) => ({ id: r.id, created: true })));
    expect(rowsIn(path).map((r) => r.id)).toEqual(runs.map((r) => r.id));
    expect(spool.depth).toBe(150);
    await spool.close();

    const again = spoolAt(path);
    expect(again.depth).toBe(150);
    const { rows } = again.take(1000);
    expect(rows.map((r) => r.id)).toEqual(runs.map((r) => r.id));
    expect(JSON.parse(rows[0]!.run)).toEqual({ workflow: 'leads', version: VERSION, trigger: 'webhook', received_at: T0 - 5, created_at: T0, event: runs[0]!.event });
  });

  it('hands over the oldest rows once; a failed hand-over is taken again; released rows leave the file', async () => {
    const path = storePath();
    const spool = spoolAt(path);
    const runs = [delivery(), delivery(), delivery()];
    await Promise.all(runs.map((r) => spool.append(r, T0)));

    const first = spool.take(2);
    expect(first.rows.map((r) => r.id)).toEqual([runs[0]!.id, runs[1]!.id]);
    expect(spool.take(5).rows.map((r) => r.id)).toEqual([runs[2]!.id]);
    spool.giveBack();
    const again = spool.take(2);
    expect(again.rows.map((r) => r.id)).toEqual([runs[0]!.id, runs[1]!.id]);
    await spool.release(again.upTo, again.rows.length);
    expect(spool.depth).toBe(1);
    expect(rowsIn(path).map((r) => r.id)).toEqual([runs[2]!.id]);
    expect(spool.take(5).rows.map((r) => r.id)).toEqual([runs[2]!.id]);
  });

  it('never reuses a sequence number once emptied, so a row spooled after a release is handed over', async () => {
    const path = storePath();
    const spool = spoolAt(path);
    await spool.append(delivery(), T0);
    const taken = spool.take(10);
    await spool.release(taken.upTo, taken.rows.length);
    expect(rowsIn(path)).toEqual([]);
    const later = delivery();
    await spool.append(later, T0);
    expect(rowsIn(path)[0]!.seq).toBeGreaterThan(taken.upTo);
    expect(spool.take(10).rows.map((r) => r.id)).toEqual([later.id]);
  });

  it('refuses appends once closed, naming the file', async () => {
    const path = storePath();
    const spool = IntakeSpool.open(spoolPathOf(path));
    await spool.close();
    await expect(spool.append(delivery(), T0)).rejects.toThrow(`the intake spool ${spoolPathOf(path)} is closed`);
  });
});

describe('sqlite store with an intake spool', () => {
  it('adopts spooled rows as queued runs with their times, once however often they are handed over', async () => {
    const path = storePath();
    const store = await storeAt(path);
    const spool = spoolAt(path);
    const run = delivery();
    await spool.append(run, T0);
    const { rows } = spool.take(10);
    expect(await store.adoptRuns(rows)).toEqual({ unreadable: [] });
    // A crash between the store's commit and the spool's delete hands them over again.
    expect(await store.adoptRuns(rows)).toEqual({ unreadable: [] });
    const stored = await store.listRuns({});
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: run.id, workflow: 'leads', workflowVersion: VERSION, status: 'queued', trigger: 'webhook', event: run.event, receivedAt: T0 - 5, createdAt: T0, attempt: 0 });
    const claimed = await store.claimRuns('d1', 5, 10_000, T0);
    expect(claimed.map((c) => c.run.id)).toEqual([run.id]);
  });

  it('reports a damaged row as unreadable and adopts the rest', async () => {
    const path = storePath();
    const store = await storeAt(path);
    const good = delivery();
    const outcome = await store.adoptRuns([
      { id: 'BROKEN', run: '{"workflow": "leads", "version": ' },
      { id: good.id, run: JSON.stringify({ workflow: 'leads', version: VERSION, trigger: 'webhook', received_at: T0, created_at: T0, event: {} }) },
    ]);
    expect(outcome.unreadable.map((u) => u.id)).toEqual(['BROKEN']);
    expect(outcome.unreadable[0]!.reason).toMatch(/JSON/i);
    expect((await store.listRuns({})).map((r) => r.id)).toEqual([good.id]);
  });

  it('shows spooled deliveries as queued runs to any reader, once each, before and after adoption', async () => {
    const path = storePath();
    const store = await storeAt(path);
    const spool = spoolAt(path);
    const adopted = delivery();
    const waiting = delivery({ workflow: 'leads' });
    await store.enqueueRun(delivery({ id: '01AAAAAAAAAAAAAAAAAAAAAAAA' }), T0 - 60_000);
    await Promise.all([spool.append(adopted, T0), spool.append(waiting, T0 + 1)]);
    // Adopted by the store, not yet deleted from the spool: in both files, shown once.
    const first = spool.take(1);
    await store.adoptRuns(first.rows);

    const reader = await storeAt(path, true);
    expect(await reader.getRun(waiting.id)).toMatchObject({ id: waiting.id, status: 'queued', createdAt: T0 + 1, receivedAt: T0 - 5, event: waiting.event });
    expect((await reader.listRuns({})).map((r) => r.id)).toEqual([waiting.id, adopted.id, '01AAAAAAAAAAAAAAAAAAAAAAAA']);
    expect((await reader.listRuns({ status: 'queued', limit: 1 })).map((r) => r.id)).toEqual([waiting.id]);
    expect(await reader.listRuns({ status: 'running' })).toEqual([]);
    expect(await reader.listRuns({ workflow: 'other' })).toEqual([]);
    expect(await reader.countRuns()).toEqual([{ workflow: 'leads', status: 'queued', count: 3 }]);

    await spool.release(first.upTo, 1);
    expect(await reader.countRuns()).toEqual([{ workflow: 'leads', status: 'queued', count: 3 }]);
  });

  it('cancels a delivery still spooled; adopting it later does not bring it back', async () => {
    const path = storePath();
    const store = await storeAt(path);
    const spool = spoolAt(path);
    const run = delivery();
    await spool.append(run, T0);
    expect(await store.cancelRun(run.id, T0 + 10)).toBe('cancelled');
    expect(await store.getRun(run.id)).toMatchObject({ status: 'cancelled' });
    const { rows } = spool.take(10);
    await store.adoptRuns(rows);
    expect(await store.getRun(run.id)).toMatchObject({ status: 'cancelled' });
    expect(await store.countRuns()).toEqual([]);
    expect(await store.claimRuns('d1', 5, 10_000, T0 + 20)).toEqual([]);
  });
});

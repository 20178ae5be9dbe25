// How long one claim takes as the runs table grows: 100,000 finished runs in the store, then
// 200 queued runs claimed one per call (as the daemon does when a run ends and a slot frees),
// and 2,000 waiting runs due at the same instant claimed 50 per call (as after a clock move
// or one event waking many). A claim runs inside the group commit, on the event loop, so its
// cost is a stall of intake and timers. Real file, WAL, synchronous=FULL.
// Run: npm run build && node test/bench/claim.mjs [finished=100000]
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './processes.mjs';

const finished = Number(process.argv[2] ?? 100_000);
const { openSqliteStore } = await import(join(ROOT, 'dist/store/sqlite/sqlite-store.js'));
const { newRunId } = await import(join(ROOT, 'dist/engine/run-id.js'));
const Database = createRequire(join(ROOT, 'package.json'))('libsql');
const dir = mkdtempSync(join(tmpdir(), 'flux-bench-claim-'));
mkdirSync(join(dir, 'state'));
const path = join(dir, 'state', 'flux.db');
try {
  await (await openSqliteStore({ path, now: Date.now })).close();
  const db = new Database(path);
  db.exec("INSERT INTO workflow_versions VALUES ('v', 'w', 'name: w', '2026-01-01T00:00:00.000Z')");
  db.exec('BEGIN');
  const insert = db.prepare("INSERT INTO runs (id, workflow, workflow_version, status, trigger, event, received_at, created_at, updated_at) VALUES (?, 'w', 'v', 'succeeded', 'manual', '{}', 'x', 'x', 'x')");
  const t0 = Date.now() - 1e8;
  for (let i = 0; i < finished; i++) insert.run(newRunId(t0 + i));
  const wake = new Date(Date.now() - 1000).toISOString();
  const waiting = db.prepare("INSERT INTO runs (id, workflow, workflow_version, status, trigger, event, received_at, created_at, updated_at, wake_at) VALUES (?, 'w', 'v', 'waiting', 'manual', '{}', 'x', 'x', 'x', ?)");
  for (let i = 0; i < 2000; i++) waiting.run(newRunId(t0 + finished + i), wake);
  db.exec('COMMIT');
  db.close();

  const store = await openSqliteStore({ path, now: Date.now });
  const now = Date.now();
  let t = performance.now();
  let woken = 0;
  for (let i = 0; i < 40; i++) woken += (await store.claimRuns('bench', 50, 60_000, now)).length;
  const wakeMs = (performance.now() - t) / 40;
  for (let i = 0; i < 200; i++) await store.enqueueRun({ id: newRunId(now), workflow: 'w', workflowVersion: 'v', trigger: 'manual', event: {}, receivedAt: now }, now);
  t = performance.now();
  let started = 0;
  for (let i = 0; i < 100; i++) started += (await store.claimRuns('bench', 1, 60_000, now)).length;
  const startMs = (performance.now() - t) / 100;
  await store.close();
  console.log(`${finished} finished runs in the store, Node ${process.version}`);
  console.log(`claim 1 queued run:              ${startMs.toFixed(2)} ms per claim (${started} claimed)`);
  console.log(`claim 50 of 2,000 due together:  ${wakeMs.toFixed(2)} ms per claim (${woken} claimed)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

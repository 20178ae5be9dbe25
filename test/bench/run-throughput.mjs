// Benchmark 4 of issue 7: throughput of runs. 10,000 runs of a 3-step workflow (three HTTP
// calls to a local server, the second and third using the previous step's output) are queued
// in the store before the daemon starts; a real `flux daemon` is then started with
// --concurrency 10 and 50, and the time from its "listening" line to the last run succeeded
// gives runs/s (the store is polled from this process every 20 ms). Every run is journaled,
// leased and logged as in production (group commit, fsync). Compared with n8n's published
// figure, "up to 220 executions per second on a single instance", as a ratio.
// Run: npm run build && node test/bench/run-throughput.mjs [runs=10000]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, spawnDaemon, spawnServer, threeStepWorkflow } from './processes.mjs';

const total = Number(process.argv[2] ?? 10_000);
const N8N = 220;
const { openSqliteStore } = await import(join(ROOT, 'dist/store/sqlite/sqlite-store.js'));
const { newRunId } = await import(join(ROOT, 'dist/engine/run-id.js'));
const Database = createRequire(join(ROOT, 'package.json'))('libsql');
const dir = mkdtempSync(join(tmpdir(), 'flux-bench-runs-'));
const downstream = await spawnServer('downstream.mjs');
mkdirSync(join(dir, 'flows'));
const text = threeStepWorkflow(downstream.url);
writeFileSync(join(dir, 'flows', 'sync.yaml'), text);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Queues `total` runs straight into a fresh state directory's store. */
async function queue(state) {
  const store = await openSqliteStore({ path: join(state, 'flux.db'), now: Date.now });
  const version = 'sha256:bench-sync';
  await store.putWorkflowVersion({ hash: version, name: 'sync', text, createdAt: Date.now() });
  const now = Date.now();
  const pending = [];
  for (let i = 0; i < total; i++) {
    pending.push(store.enqueueRun({ id: newRunId(now), workflow: 'sync', workflowVersion: version, trigger: 'manual', event: { n: i }, receivedAt: now }, now));
  }
  await Promise.all(pending);
  await store.close();
}

async function measure(concurrency) {
  const state = join(dir, `state-${concurrency}`);
  await queue(state);
  const d = await spawnDaemon(dir, ['flows', '--state-dir', state, '--port', '0', '--concurrency', String(concurrency), '--grace', '5s']);
  const t = performance.now();
  const db = new Database(join(state, 'flux.db'));
  const done = () => Number(db.prepare("SELECT count(*) AS n FROM runs WHERE status IN ('succeeded', 'failed', 'escalated')").all()[0].n);
  try {
    while (done() < total) {
      if (performance.now() - t > 600_000) throw new Error(`only ${done()} of ${total} runs finished in 10 minutes`);
      await sleep(20);
    }
    const ms = performance.now() - t;
    const ok = Number(db.prepare("SELECT count(*) AS n FROM runs WHERE status = 'succeeded'").all()[0].n);
    const rss = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${d.child.pid}/status`, 'utf8'))?.[1]) / 1024;
    return { concurrency, ms, ok, perSecond: total / (ms / 1000), rss };
  } finally {
    db.close();
    await d.stop();
  }
}

console.log(`${total} queued runs of a 3-step HTTP workflow (local server), Node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
const rows = [];
try {
  for (const c of [10, 50]) rows.push(await measure(c));
} finally {
  await downstream.stop();
  rmSync(dir, { recursive: true, force: true });
}
for (const r of rows) {
  console.log(`--concurrency ${String(r.concurrency).padStart(2)}: ${Math.round(r.perSecond)} runs/s (${r.ok} succeeded in ${(r.ms / 1000).toFixed(1)} s, ${3 * r.ok} HTTP calls; peak RSS ${r.rss.toFixed(0)} MB) = ${(r.perSecond / N8N).toFixed(2)}x n8n's published ${N8N} executions/s`);
}

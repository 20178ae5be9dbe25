// Group commit against one transaction per write: 10,000 enqueues from 50 concurrent callers
// (as many webhook intakes at once), each awaited until durable, on a real SQLite file in WAL
// mode with synchronous=FULL. Prints enqueues/s for both, the transactions each needed, and
// the ratio. Run: npm run build && node test/bench/store.mjs [enqueues=10000] [callers=50]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { openSqliteStore } = await import(join(ROOT, 'dist/store/sqlite/sqlite-store.js'));
const total = Number(process.argv[2] ?? 10_000);
const callers = Number(process.argv[3] ?? 50);

async function measure(label, maxBatch) {
  const dir = mkdtempSync(join(tmpdir(), 'flux-bench-store-'));
  const store = await openSqliteStore({ path: join(dir, 'flux.db'), now: Date.now, maxBatch });
  await store.putWorkflowVersion({ hash: 'sha256:bench', name: 'bench', text: 'name: bench\n', createdAt: Date.now() });
  const before = store.writeStats;
  let next = 0;
  const event = { lead: { email: 'ada@example.com', name: 'Ada', source: 'web', score: 42 } };
  async function caller() {
    while (next < total) {
      const i = next++;
      const now = Date.now();
      await store.enqueueRun({
        id: `R${String(i).padStart(8, '0')}`, workflow: 'bench', workflowVersion: 'sha256:bench', trigger: 'webhook', event, receivedAt: now,
        key: { kind: 'dedupe', key: `delivery-${i}` },
      }, now);
    }
  }
  const t = performance.now();
  await Promise.all(Array.from({ length: callers }, caller));
  const ms = performance.now() - t;
  const stats = store.writeStats;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const rate = total / (ms / 1000);
  console.log(`${label.padEnd(28)} ${String(Math.round(rate)).padStart(7)} enqueues/s  ${ms.toFixed(0).padStart(6)} ms  ${stats.transactions - before.transactions} transactions`);
  return rate;
}

console.log(`${total} enqueues (each with a dedupe key), ${callers} concurrent callers, WAL + synchronous=FULL, Node ${process.version}`);
const single = await measure('one transaction per write', 1);
const grouped = await measure('group commit', undefined);
console.log(`group commit is ${(grouped / single).toFixed(1)}x one transaction per write`);

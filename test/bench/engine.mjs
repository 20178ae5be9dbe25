// Benchmarks 2 and 3, in-process:
//  2. engine overhead: a workflow of 1,000 `set` steps, each reading the previous one (goal: under
//     0.2 ms per step, run log written to disk as in production);
//  3. `foreach` over N items (default 100,000) with concurrency 50: peak RSS, against the same
//     loop over a tenth of the items, to show whether memory grows with the item count.
// Run: npm run build && node test/bench/engine.mjs [items=100000]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const mode = process.argv[2];

async function engine() {
  const { runWorkflow } = await import(join(ROOT, 'dist/engine/run.js'));
  const { systemClock } = await import(join(ROOT, 'dist/engine/clock.js'));
  const { Masker } = await import(join(ROOT, 'dist/secrets/masker.js'));
  const { FileJournal } = await import(join(ROOT, 'dist/store/run-log.js'));
  return { runWorkflow, systemClock, Masker, FileJournal };
}

function workflow(steps) {
  return { file: 'bench.yaml', value: { name: 'bench', owner: 'ops@example.com', trigger: 'manual', steps }, name: 'bench', owner: 'ops@example.com', version: 'sha256:bench', baseline: null };
}

async function runOnce(e, wf, dir, event = {}) {
  const masker = new e.Masker();
  masker.add('a-secret-value'); // masking is always on in real runs
  const journal = new e.FileJournal(join(dir, `${Math.random()}.jsonl`), (l) => masker.mask(l));
  const t = performance.now();
  const result = await e.runWorkflow({ workflow: wf, event, trigger: 'manual', secrets: {}, environment: {}, connectors: {}, clock: e.systemClock, journal, masker, runId: 'BENCH' });
  await journal.close();
  if (result.status !== 'succeeded') throw new Error(JSON.stringify(result.error));
  return performance.now() - t;
}

if (mode === 'foreach') {
  // Child process: one foreach run, then report peak RSS.
  const items = Number(process.argv[3]);
  const dir = mkdtempSync(join(tmpdir(), 'flux-bench-fe-'));
  const e = await engine();
  const wf = workflow([{ id: 'each', foreach: { items: '${{ event.items }}', concurrency: 50, steps: [{ id: 'work', set: { doubled: '${{ item * 2 }}', label: 'item ${{ string(index) }}' } }] } }]);
  const ms = await runOnce(e, wf, dir, { items: Array.from({ length: items }, (_, i) => i) });
  const logBytes = statSync(join(dir, (await import('node:fs')).readdirSync(dir)[0])).size;
  console.log(JSON.stringify({ items, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, logMiB: logBytes / 1048576 }));
  rmSync(dir, { recursive: true, force: true });
} else {
  const items = Number(process.argv[2] ?? 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'flux-bench-engine-'));
  const e = await engine();
  const steps = Array.from({ length: 1000 }, (_, i) => ({ id: `s${i}`, set: { v: i === 0 ? 1 : `\${{ steps.s${i - 1}.output.v + 1 }}`, note: `step ${i}` } }));
  const wf = workflow(steps);
  await runOnce(e, wf, dir); // warm-up: compiles every expression once
  const samples = [];
  for (let r = 0; r < 5; r++) samples.push(await runOnce(e, wf, dir));
  samples.sort((a, b) => a - b);
  const median = samples[2];
  console.log(`1,000 set steps: ${median.toFixed(1)} ms median of 5 -> ${(median / 1000).toFixed(3)} ms per step (goal < 0.2 ms)`);
  rmSync(dir, { recursive: true, force: true });
  const self = fileURLToPath(import.meta.url);
  for (const [n, flags] of [[Math.round(items / 10), []], [items, []], [items, ['--max-old-space-size=64']]]) {
    const r = spawnSync(process.execPath, [...flags, self, 'foreach', String(n)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const m = JSON.parse(r.stdout);
    console.log(`foreach ${m.items} items, concurrency 50${flags.length ? ` (${flags.join(' ')})` : ''}: ${(m.ms / 1000).toFixed(1)} s, peak RSS ${m.maxRssMiB.toFixed(0)} MiB, run log ${m.logMiB.toFixed(0)} MiB`);
  }
}

// Benchmark 3 of issue 7: 10,000 waiting runs. A real `flux daemon` on a test clock
// (FLUX_TEST_CLOCK, a file; time stands still until this script rewrites it) takes 10,000
// webhooks (autocannon, its own process) for a workflow that waits 48 hours and then calls a
// local server. Measured once all 10,000 are waiting: the daemon's RSS (goal < 300 MB); a
// restart, SIGTERM then a new process, to GET /healthz 200 (goal < 2 s); then the clock file
// is moved past their wake time, and the time from that move to the first and to the last run
// leaving `waiting`, and to all 10,000 finished (goal: the due ones resume within 1 s of their
// time). The store is read from this process (a second SQLite reader) every 10 ms.
// All 10,000 come due in the same instant here, so the time to the last one is the daemon's
// throughput; waiting-runs-spread.mjs measures each run's lateness with wake times spread
// out and the clock running at real speed, which is how the goal reads.
// Run: npm run build && node test/bench/waiting-runs.mjs [runs=10000] [concurrency=50]
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autocannon, ROOT, spawnDaemon, spawnServer, statusCount } from './processes.mjs';

const total = Number(process.argv[2] ?? 10_000);
const concurrency = Number(process.argv[3] ?? 50);
const Database = createRequire(join(ROOT, 'package.json'))('libsql');
const dir = mkdtempSync(join(tmpdir(), 'flux-bench-waiting-'));
const clockFile = join(dir, 'clock');
const T0 = Date.parse('2026-03-02T09:00:00Z');
writeFileSync(clockFile, String(T0));
const HOUR = 3_600_000;

const downstream = await spawnServer('downstream.mjs');
mkdirSync(join(dir, 'flows'));
writeFileSync(join(dir, 'flows', 'reminder.yaml'), `name: reminder
owner: ops@example.com
trigger:
  webhook: { path: /hooks/booking }
steps:
  - id: reply
    wait: 48h
  - id: chase
    uses: http
    with: { url: "${downstream.url}/chase", method: POST, json: { booking: "\${{ event.booking }}" } }
`);
const args = ['flows', '--state-dir', 'state', '--port', '0', '--concurrency', String(concurrency), '--grace', '5s'];
const env = { FLUX_TEST_CLOCK: clockFile };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

let db;
const counts = () => Object.fromEntries(db.prepare('SELECT status, count(*) AS n FROM runs GROUP BY status').all().map((r) => [r.status, Number(r.n)]));
async function until(what, test, limitMs) {
  const t = performance.now();
  for (;;) {
    const c = counts();
    if (test(c)) return performance.now() - t;
    if (performance.now() - t > limitMs) throw new Error(`${what}: not within ${limitMs} ms; runs by status: ${JSON.stringify(c)}`);
    await sleep(10);
  }
}

const figures = {};
let daemon;
try {
  daemon = await spawnDaemon(dir, args, env);
  db = new Database(join(dir, 'state', 'flux.db'));
  const rssIdle = rssMb(daemon.child.pid);
  const t = performance.now();
  const load = await autocannon(`${daemon.url}/hooks/booking`, { connections: 50, amount: total, body: '{"booking":"b-1"}', headers: { 'content-type': 'application/json' } });
  figures.accepted = statusCount(load, 202);
  if (figures.accepted !== total) throw new Error(`${figures.accepted} of ${total} webhooks got 202`);
  await until(`${total} runs waiting`, (c) => c.waiting === total, 300_000);
  figures.toWaitingMs = performance.now() - t;
  await sleep(1000); // let the heap settle after the burst
  figures.rss = rssMb(daemon.child.pid);
  figures.rssIdle = rssIdle;

  await daemon.stop();
  const restart = performance.now();
  daemon = await spawnDaemon(dir, args, env);
  figures.listeningMs = performance.now() - restart;
  for (;;) {
    const ok = await fetch(`${daemon.url}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await sleep(5);
  }
  figures.healthyMs = performance.now() - restart;
  await sleep(500);
  figures.rssAfterRestart = rssMb(daemon.child.pid);
  if (counts().waiting !== total) throw new Error(`after the restart, ${counts().waiting} runs wait instead of ${total}`);

  writeFileSync(clockFile, String(T0 + 48 * HOUR + 1000));
  const moved = performance.now();
  await until('the first run resumed', (c) => (c.waiting ?? 0) < total, 30_000);
  figures.firstResumedMs = performance.now() - moved;
  await until('every run resumed', (c) => (c.waiting ?? 0) === 0, 300_000);
  figures.allResumedMs = performance.now() - moved;
  await until('every run finished', (c) => c.succeeded === total, 300_000);
  figures.allFinishedMs = performance.now() - moved;
  figures.final = counts();
} finally {
  db?.close();
  await daemon?.stop();
  await downstream.stop();
  rmSync(dir, { recursive: true, force: true });
}

const f = (ms) => `${Math.round(ms)} ms`;
console.log(`${total} waiting runs (wait: 48h), daemon --concurrency ${concurrency}, Node ${process.version}`);
console.log(`webhooks to all waiting:         ${f(figures.toWaitingMs)} (${Math.round(total / (figures.toWaitingMs / 1000))} runs/s to their wait)`);
console.log(`daemon RSS with ${total} waiting: ${figures.rss.rss.toFixed(0)} MB (peak ${figures.rss.peak.toFixed(0)} MB; idle at start ${figures.rssIdle.rss.toFixed(0)} MB)  goal < 300 MB: ${figures.rss.peak < 300 ? 'ok' : 'MISSED'}`);
console.log(`restart (SIGTERM, new process):  listening after ${f(figures.listeningMs)}, /healthz 200 after ${f(figures.healthyMs)}  goal < 2 s: ${figures.healthyMs < 2000 ? 'ok' : 'MISSED'}; RSS after restart ${figures.rssAfterRestart.rss.toFixed(0)} MB`);
console.log(`clock moved 48h+1s on:           first run resumed after ${f(figures.firstResumedMs)}, all ${total} resumed after ${f(figures.allResumedMs)}, all finished after ${f(figures.allFinishedMs)}`);
console.log(`goal, the due ones resume within 1 s of their time: first ${figures.firstResumedMs < 1000 ? 'ok' : 'MISSED'}, all ${figures.allResumedMs < 1000 ? 'ok' : 'MISSED'} (all due in one instant; per-run lateness: waiting-runs-spread.mjs)`);
console.log(`final: ${JSON.stringify(figures.final)}`);

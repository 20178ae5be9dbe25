// Benchmark 3 of issue 7, its last goal measured the way it reads: "the due ones resume within
// 1 s of their time". waiting-runs.mjs moves the test clock past every wake time at once, so
// all 10,000 runs come due in one instant and the figure it gives is the daemon's throughput.
// Here the wake times are spread: each run waits `until` its own time, evenly over 60 to 120 s
// of test-clock time, and the clock then runs at real speed (this process rewrites the
// FLUX_TEST_CLOCK file every few ms to `start + real time elapsed`, from 1 s before the first
// wake), so runs come due at a steady rate, as they would in production.
//
// For each run: its resume lateness, the real time from the moment the test clock reached its
// wake time (the clock write that first said so) to the moment its `run.resumed` record was
// written. That record's `ts` is the daemon's test-clock time, which is the value of one clock
// write: the record was written after that write and before the next one (plus the daemon's
// 5 ms re-read of the file), so the lateness is known within one clock tick; both bounds are
// printed, and the upper one is what the goal is checked against.
//
// The runs are enqueued with webhooks from this process (each carries its own wake time, which
// autocannon cannot send), with the clock standing still before the wakes. With --restart the
// daemon is stopped and started again once they all wait, so the runs are woken by a process
// that did not park them (it knows no wake times: its poll finds them).
// Run: npm run build && node test/bench/waiting-runs-spread.mjs [runs=10000] [concurrency=10] [spreadSeconds=60] [tickMs=10] [--restart]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, spawnDaemon, spawnServer } from './processes.mjs';

const restart = process.argv.includes('--restart');
const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const total = Number(positional[0] ?? 10_000);
const concurrency = Number(positional[1] ?? 10);
const spreadMs = Number(positional[2] ?? 60) * 1000;
const tickMs = Number(positional[3] ?? 10);
const REREAD_MS = 5; // the daemon's file clock reads the file at most this often (src/engine/test-clock.ts)
const Database = createRequire(join(ROOT, 'package.json'))('libsql');
const dir = mkdtempSync(join(tmpdir(), 'flux-bench-spread-'));
const clockFile = join(dir, 'clock');
const T0 = Date.parse('2026-03-02T09:00:00Z');
const FIRST_WAKE = T0 + 60_000;
writeFileSync(clockFile, String(T0));
const wakeOf = (i) => FIRST_WAKE + Math.floor((i * spreadMs) / total);

const downstream = await spawnServer('downstream.mjs');
mkdirSync(join(dir, 'flows'));
writeFileSync(join(dir, 'flows', 'reminder.yaml'), `name: reminder
owner: ops@example.com
trigger:
  webhook: { path: /hooks/booking }
steps:
  - id: reply
    wait: { until: "\${{ event.wake }}" }
  - id: chase
    uses: http
    with: { url: "${downstream.url}/chase", method: POST, json: { booking: "\${{ event.booking }}" } }
`);
const args = ['flows', '--state-dir', 'state', '--port', '0', '--concurrency', String(concurrency), '--grace', '5s'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let db;
const counts = () => Object.fromEntries(db.prepare('SELECT status, count(*) AS n FROM runs GROUP BY status').all().map((r) => [r.status, Number(r.n)]));
async function until(what, test, limitMs, everyMs) {
  const t = performance.now();
  for (;;) {
    const c = counts();
    if (test(c)) return performance.now() - t;
    if (performance.now() - t > limitMs) throw new Error(`${what}: not within ${limitMs} ms; runs by status: ${JSON.stringify(c)}`);
    await sleep(everyMs);
  }
}

/** Sends the webhooks, `connections` at a time; each run waits until its own time. */
async function enqueue(url, connections) {
  let next = 0;
  const refused = [];
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ booking: `b-${i}`, wake: new Date(wakeOf(i)).toISOString() }) });
      await res.arrayBuffer();
      if (res.status !== 202) refused.push(res.status);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  if (refused.length > 0) throw new Error(`${refused.length} of ${total} webhooks were not accepted (statuses ${[...new Set(refused)].join(', ')})`);
}

/**
 * Moves the test clock at real speed from `start`: every `tickMs` the file gets `start + real
 * time elapsed` (written beside it and renamed, so the daemon never reads half a number). Each
 * write's real time and value are kept, to turn the daemon's test-clock times into real ones.
 */
function runClock(start) {
  const writes = [];
  const wallStart = performance.now();
  const tmp = `${clockFile}.next`;
  const write = () => {
    const value = start + Math.round(performance.now() - wallStart);
    if (writes.length > 0 && writes.at(-1).value === value) return;
    writeFileSync(tmp, String(value));
    renameSync(tmp, clockFile);
    writes.push({ wall: performance.now(), value });
  };
  write();
  const timer = setInterval(write, tickMs);
  return { writes, stop: () => clearInterval(timer) };
}

/** The index of the last write whose value is at most `v`, by binary search. */
function lastAtMost(writes, v) {
  let lo = 0;
  let hi = writes.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (writes[mid].value <= v) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Each run's wake time and the test-clock time of its run.resumed record, from its run log. */
function resumes(logDir) {
  const found = [];
  const problems = [];
  for (const name of readdirSync(logDir)) {
    const records = readFileSync(join(logDir, name), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const waiting = records.find((r) => r.type === 'run.waiting');
    const resumed = records.filter((r) => r.type === 'run.resumed');
    if (!waiting || resumed.length !== 1) problems.push(`${name}: ${waiting ? '' : 'no run.waiting, '}${resumed.length} run.resumed`);
    else found.push({ wakeAt: Date.parse(waiting.wake_at), resumedAt: Date.parse(resumed[0].ts) });
  }
  return { found, problems };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];

const figures = {};
let daemon;
let clock;
try {
  daemon = await spawnDaemon(dir, args, { FLUX_TEST_CLOCK: clockFile });
  db = new Database(join(dir, 'state', 'flux.db'));
  const t = performance.now();
  await enqueue(`${daemon.url}/hooks/booking`, 50);
  await until(`${total} runs waiting`, (c) => c.waiting === total, 300_000, 50);
  figures.toWaitingMs = performance.now() - t;
  if (restart) {
    await daemon.stop();
    daemon = await spawnDaemon(dir, args, { FLUX_TEST_CLOCK: clockFile });
    while (!(await fetch(`${daemon.url}/healthz`).then((r) => r.status === 200, () => false))) await sleep(5);
    if (counts().waiting !== total) throw new Error(`after the restart, ${counts().waiting} runs wait instead of ${total}`);
  }
  await sleep(1000);

  figures.loadBefore = loadavg();
  clock = runClock(FIRST_WAKE - 1000);
  const last = wakeOf(total - 1);
  await until('every run resumed', (c) => (c.waiting ?? 0) === 0, spreadMs + 60_000, 500);
  await until('every run finished', (c) => c.succeeded === total, 60_000, 500);
  clock.stop();
  figures.loadAfter = loadavg();
  figures.final = counts();
  figures.clockPastLastWakeMs = clock.writes.at(-1).value - last;

  const { writes } = clock;
  const { found, problems } = resumes(join(dir, 'state', 'logs', 'reminder'));
  if (problems.length > 0) throw new Error(`run logs without one wait and one resume: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` and ${problems.length - 5} more` : ''}`);
  if (found.length !== total) throw new Error(`${found.length} run logs, not ${total}`);
  const lo = [];
  const hi = [];
  const onClock = [];
  const lateBySecond = new Map();
  for (const { wakeAt, resumedAt } of found) {
    const due = firstAtLeast(writes, wakeAt);
    const i = lastAtMost(writes, resumedAt);
    if (writes[i].value !== resumedAt) throw new Error(`a run resumed at test-clock ${resumedAt}, a time this clock never wrote`);
    lo.push(writes[i].wall - writes[due].wall);
    hi.push((writes[i + 1]?.wall ?? writes[i].wall + tickMs) + REREAD_MS - writes[due].wall);
    onClock.push(resumedAt - wakeAt);
    // Where the late ones fell: spread over the minute (the poll), or bunched (a stall).
    if (hi.at(-1) > 250) lateBySecond.set(Math.floor((wakeAt - FIRST_WAKE) / 1000), (lateBySecond.get(Math.floor((wakeAt - FIRST_WAKE) / 1000)) ?? 0) + 1);
  }
  figures.lateBySecond = [...lateBySecond].sort((a, b) => b[1] - a[1]);
  for (const a of [lo, hi, onClock]) a.sort((x, y) => x - y);
  figures.lo = lo;
  figures.hi = hi;
  figures.onClock = onClock;
  const gaps = writes.slice(1).map((w, k) => w.wall - writes[k].wall).sort((x, y) => x - y);
  figures.tick = { p50: quantile(gaps, 0.5), p99: quantile(gaps, 0.99), max: gaps.at(-1) };
} finally {
  clock?.stop();
  db?.close();
  await daemon?.stop();
  await downstream.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** The index of the first write whose value is at least `v`: when the test clock reached `v`. */
function firstAtLeast(writes, v) {
  const i = lastAtMost(writes, v);
  return writes[i].value >= v ? i : i + 1;
}

const f = (ms) => `${Math.round(ms)} ms`;
const within = (a, ms) => a.filter((x) => x <= ms).length;
const row = (name, a) => `${name.padEnd(34)} p50 ${f(quantile(a, 0.5)).padStart(7)}  p99 ${f(quantile(a, 0.99)).padStart(7)}  max ${f(a.at(-1)).padStart(7)}  within 1 s: ${within(a, 1000)} of ${a.length}`;
const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`${total} waiting runs, wait until times spread evenly over ${spreadMs / 1000} s of test-clock time; the test clock runs at real speed (rewritten every ${tickMs} ms); daemon --concurrency ${concurrency}${restart ? ', restarted after parking them' : ''}; Node ${process.version}`);
console.log(`webhooks to all waiting: ${f(figures.toWaitingMs)}; clock ticks p50 ${figures.tick.p50.toFixed(1)} ms, p99 ${figures.tick.p99.toFixed(1)} ms, max ${figures.tick.max.toFixed(1)} ms`);
console.log('resume lateness, real time from the test clock reaching a run\'s wake time to its run.resumed record:');
console.log(row('  upper bound (goal checked on it)', figures.hi));
console.log(row('  lower bound', figures.lo));
console.log(row('  on the test clock (ts - wake_at)', figures.onClock));
const worst = figures.lateBySecond.slice(0, 3).map(([second, n]) => `${n} in second ${second}`).join(', ');
console.log(`resumed over 250 ms late (upper bound): ${figures.hi.filter((x) => x > 250).length}, in ${figures.lateBySecond.length} of the ${Math.ceil(spreadMs / 1000)} seconds of wakes${worst ? `; most: ${worst}` : ''}`);
console.log(`goal, the due ones resume within 1 s of their time: ${within(figures.hi, 1000) === total ? 'ok' : 'MISSED'} (${within(figures.hi, 1000)} of ${total})`);
console.log(`load average before ${load(figures.loadBefore)}, after ${load(figures.loadAfter)} (${(await import('node:os')).cpus().length} CPUs)`);
console.log(`final: ${JSON.stringify(figures.final)}`);

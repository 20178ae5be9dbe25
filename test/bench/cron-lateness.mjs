// Benchmark 2 of issue 7: 1,000 cron schedules in one real `flux daemon`, on the real clock,
// with webhook load at the same time. Each schedule is a 6-field (seconds) cron, spread so
// that fires land on every second of the period; the daemon runs each fire (one cheap step)
// and the webhook deliveries that a load generator in this process keeps sending. Lateness of
// a fire is its run log's `run.started` ts minus its `scheduled_for`: wall time from the
// scheduled instant to the run actually starting (planning, the durable enqueue, the claim,
// loading the workflow version). Every expected fire is checked to have run exactly once.
//
// Run: npm run build && node test/bench/cron-lateness.mjs
// Knobs (env): SCHEDULES=1000 PERIOD=60 (seconds between fires of one schedule; divides 60)
//   DURATION=60 (seconds measured) WEBHOOK_RATE=100 (signed-off deliveries per second, sent
//   open-loop at that rate, at most 50 in flight; 0: no webhook load) CONCURRENCY=50
//   WARMUP=5 (seconds of load before fires are measured)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/flux.js');
const SCHEDULES = Number(process.env.SCHEDULES ?? 1000);
const PERIOD = Number(process.env.PERIOD ?? 60);
const DURATION = Number(process.env.DURATION ?? 60);
const RATE = Number(process.env.WEBHOOK_RATE ?? 100);
const MAX_IN_FLIGHT = 50;
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 50);
if (60 % PERIOD !== 0) throw new Error(`PERIOD must divide 60, not ${PERIOD}`);

const dir = mkdtempSync(join(tmpdir(), 'flux-bench-cron-'));
mkdirSync(join(dir, 'flows'));
for (let i = 0; i < SCHEDULES; i++) {
  // The seconds as a list (`1,11,21,...`): node-cron's parser, which flux lints with, refuses `1/10`.
  const cron = `${Array.from({ length: 60 / PERIOD }, (_, k) => (i % PERIOD) + k * PERIOD).join(',')} * * * * *`;
  writeFileSync(join(dir, 'flows', `cron-${i}.yaml`), `name: cron-${i}
owner: ops@example.com
trigger:
  schedule: { cron: "${cron}", overlap: allow }
steps:
  - id: note
    set: { at: "\${{ event.scheduled_for }}" }
on_error:
  escalate: { uses: http, with: { url: "http://127.0.0.1:9/alerts", method: POST } }
`);
}
writeFileSync(join(dir, 'flows', 'hook.yaml'), `name: hook
owner: ops@example.com
trigger:
  webhook: { path: /hooks/load }
steps:
  - id: note
    set: { lead: "\${{ event.email }}" }
on_error:
  escalate: { uses: http, with: { url: "http://127.0.0.1:9/alerts", method: POST } }
`);

console.log(`cron lateness: ${SCHEDULES} schedules firing every ${PERIOD} s (${(SCHEDULES / PERIOD).toFixed(0)} fires/s), webhooks at ${RATE}/s, --concurrency ${CONCURRENCY}, ${DURATION} s on node ${process.version}`);
const child = spawn(process.execPath, [BIN, 'daemon', 'flows', '--state-dir', 'state', '--port', '0', '--concurrency', String(CONCURRENCY), '--allow-silent'], {
  cwd: dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'],
});
let stdout = '';
const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
const url = await new Promise((resolve, reject) => {
  child.stdout.on('data', (d) => {
    stdout += d.toString();
    const m = /listening on (http:\/\/\S+)/.exec(stdout);
    if (m) resolve(m[1]);
  });
  void exited.then(({ code }) => reject(new Error(`the daemon exited ${code}:\n${stdout}`)));
});

// Steady state: the webhook load starts now, and fires are measured from WARMUP seconds on
// (the first seconds pay for JIT compilation and lazy loading of the intake and run paths).
const WARMUP = Number(process.env.WARMUP ?? 5);
const from = Math.ceil((Date.now() + WARMUP * 1000) / 1000) * 1000;
const until = from + DURATION * 1000;

// Open loop: deliveries go out at RATE per second whatever the daemon's answers take (a
// closed loop would send as fast as intake answers and pile up runs faster than they run).
let accepted = 0;
let refused = 0;
let sent = 0;
let dropped = 0;
let inFlight = 0;
const pending = new Set();
const deliver = () => {
  if (inFlight >= MAX_IN_FLIGHT) {
    dropped++;
    return;
  }
  inFlight++;
  const n = sent++;
  const p = fetch(`${url}/hooks/load`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `lead-${n}@example.com` }) })
    .then(async (res) => {
      await res.arrayBuffer();
      if (res.status === 202) accepted++;
      else refused++;
    }, () => refused++)
    .finally(() => {
      inFlight--;
      pending.delete(p);
    });
  pending.add(p);
};
const loadStart = Date.now();
const loader = RATE > 0
  ? setInterval(() => {
    const due = Math.floor(((Date.now() - loadStart) / 1000) * RATE) - sent - dropped;
    for (let i = 0; i < due; i++) deliver();
  }, 5)
  : undefined;
await new Promise((r) => setTimeout(r, until + 1500 - Date.now()));
clearInterval(loader);
await Promise.all([...pending]);
const loadSeconds = (Date.now() - loadStart) / 1000;
// Let the runs of the last fires start, then stop the daemon cleanly.
await new Promise((r) => setTimeout(r, 2000));
child.kill('SIGTERM');
const exit = await exited;

const fires = new Map();
let files = 0;
for (let i = 0; i < SCHEDULES; i++) {
  const logDir = join(dir, 'state', 'logs', `cron-${i}`);
  let names = [];
  try {
    names = readdirSync(logDir);
  } catch {
    // no run of this schedule at all: every one of its fires counts as missing below
  }
  for (const f of names) {
    files++;
    const first = JSON.parse(readFileSync(join(logDir, f), 'utf8').split('\n', 1)[0]);
    if (first.type !== 'run.started' || first.trigger !== 'schedule') throw new Error(`unexpected first record in ${f}`);
    const key = `cron-${i}@${first.scheduled_for}`;
    if (fires.has(key)) throw new Error(`fire ${key} ran twice`);
    fires.set(key, Date.parse(first.ts) - Date.parse(first.scheduled_for));
  }
}
const lateness = [];
let missing = 0;
for (let i = 0; i < SCHEDULES; i++) {
  for (let t = from; t < until; t += 1000) {
    if ((t / 1000) % PERIOD !== i % PERIOD) continue;
    const late = fires.get(`cron-${i}@${new Date(t).toISOString()}`);
    if (late === undefined) missing++;
    else lateness.push(late);
  }
}
lateness.sort((a, b) => a - b);
const q = (p) => lateness[Math.min(lateness.length - 1, Math.floor(p * lateness.length))];
console.log(`daemon exit: ${JSON.stringify(exit)}; schedule runs logged: ${files}`);
console.log(`fires measured: ${lateness.length} in ${DURATION} s; missing: ${missing}; duplicates: 0`);
console.log(`lateness (run.started ts - scheduled_for): p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${lateness.at(-1)} ms (goal: p99 < 50 ms)`);
if (RATE > 0) console.log(`webhook load: ${accepted} accepted (202), ${refused} other, ${dropped} not sent (${MAX_IN_FLIGHT} in flight), ${(accepted / loadSeconds).toFixed(0)}/s over ${loadSeconds.toFixed(1)} s`);
console.log(`state: ${dir}`);
if (missing > 0 || exit.code !== 0) process.exitCode = 1;

// Benchmark 1 of issue 7: webhook intake with a durable 202. A real `flux daemon` (spawned,
// port 0) serves a webhook workflow whose one step calls a cheap local server; autocannon, in
// its own process, posts JSON deliveries with -c 10 and -c 50 for a number of seconds each.
// Measured: accepted/s (202s only) and p99 latency, and the daemon's event-loop delay p99
// (FLUX_DEBUG_LOOP_DELAY=1). The floor, measured in the same run with the same node flags, is
// intake-floor.mjs: a bare node:http server that appends each body to a file and answers 202
// after a group-committed fsync. Two daemon setups:
//   with runs:   --concurrency 10, each delivery's run executes while intake goes on (realistic);
//   intake only: --concurrency 1 and a step that hangs for a minute, so the claim loop is idle.
// Every 202 is checked against the store afterwards (runs stored = 202s received).
// Goals: >= 0.7x the floor and >= 3,000 accepted/s at -c 50, p99 < 50 ms.
// Run: npm run build && node test/bench/webhook-intake.mjs [seconds=10] [rounds=3]
// Each round measures the floor and then the daemon; the summary gives medians over rounds,
// each ratio against its own round's floor, with the range.
// Profile the daemon: BENCH_PROF=dir node test/bench/webhook-intake.mjs (adds --cpu-prof there,
// one profile per thread, and stops every daemon with SIGTERM so that the profiles are written).
// The daemon's and the floor's CPU time per accepted request (µs, all threads; Linux) is printed
// beside the rates: the machine's other load moves the rates, much less the CPU per request.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autocannon, cpuMs, intakeWorkflow, loopDelays, ROOT, spawnDaemon, spawnServer, statusCount } from './processes.mjs';

const seconds = Number(process.argv[2] ?? 10);
const rounds = Number(process.argv[3] ?? 3);
const profileDir = process.env.BENCH_PROF;
const Database = createRequire(join(ROOT, 'package.json'))('libsql');
const dir = mkdtempSync(join(tmpdir(), 'flux-bench-intake-'));
const body = JSON.stringify({ id: 'evt_1', type: 'lead.created', lead: { email: 'ada@example.com', name: 'Ada Lovelace', source: 'web', score: 42 } });
const headers = { 'content-type': 'application/json' };

const downstream = await spawnServer('downstream.mjs');
function workflowDir(name, stepPath) {
  const flows = join(dir, name);
  mkdirSync(flows);
  writeFileSync(join(flows, 'intake.yaml'), intakeWorkflow(downstream.url, stepPath));
  return flows;
}
const setups = {
  'with runs': { flows: workflowDir('with-runs', '/ok'), concurrency: 10 },
  'intake only': { flows: workflowDir('intake-only', '/slow'), concurrency: 1 },
};

let round = 0;
async function floor(connections) {
  const server = await spawnServer('intake-floor.mjs', [join(dir, `floor-${++round}.log`)]);
  try {
    const cpu = cpuMs(server.child.pid);
    const result = summarize(await autocannon(`${server.url}/hooks/intake`, { connections, seconds, body, headers }));
    result.cpuPerRequest = ((cpuMs(server.child.pid) - cpu) * 1000) / result.accepted;
    return result;
  } finally {
    await server.stop();
  }
}

async function daemon(setup, connections) {
  const state = join(dir, `state-${++round}`);
  const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const d = await spawnDaemon(dir, [setup.flows, '--state-dir', state, '--port', '0', '--concurrency', String(setup.concurrency), '--grace', '1s'], { FLUX_DEBUG_LOOP_DELAY: '1' }, flags);
  try {
    const from = d.lines.length;
    const cpu = cpuMs(d.child.pid);
    const result = summarize(await autocannon(`${d.url}/hooks/intake`, { connections, seconds, body, headers }));
    result.cpuPerRequest = ((cpuMs(d.child.pid) - cpu) * 1000) / result.accepted;
    const delays = loopDelays(d.lines, from);
    result.loopP99 = delays.length > 0 ? Math.max(...delays) : NaN;
    result.loopMedianOfP99 = delays.length > 0 ? delays.sort((a, b) => a - b)[Math.floor(delays.length / 2)] : NaN;
    // The intake-only run hangs on its step for a minute, and SIGTERM waits for it; the store
    // is durable, so a SIGKILL loses nothing that was acknowledged. Profiling needs the clean exit.
    if (setup.concurrency === 1 && !profileDir) d.child.kill('SIGKILL');
    await d.stop();
    const db = new Database(join(state, 'flux.db'));
    // Deliveries still in the intake spool (no runner was free to adopt them) are stored too.
    db.prepare('ATTACH ? AS spool').run(join(state, 'flux.db-intake'));
    result.spooled = Number(db.prepare('SELECT count(*) AS n FROM spool.intake s WHERE NOT EXISTS (SELECT 1 FROM runs r WHERE r.id = s.id)').all()[0].n);
    result.stored = Number(db.prepare('SELECT count(*) AS n FROM runs').all()[0].n) + result.spooled;
    result.finished = Number(db.prepare("SELECT count(*) AS n FROM runs WHERE status = 'succeeded'").all()[0].n);
    db.close();
    // autocannon stops at its deadline with one request in flight per connection: those may be
    // stored without their 202 being counted, but no 202 may lack its run.
    if (result.stored < result.accepted || result.stored > result.accepted + connections) {
      throw new Error(`${result.accepted} deliveries got 202 (with ${connections} in flight at the end) but the store holds ${result.stored} runs`);
    }
    return result;
  } finally {
    await d.stop();
  }
}

function summarize(r) {
  const accepted = statusCount(r, 202);
  return { accepted, perSecond: accepted / r.duration, p99: r.latency.p99, p50: r.latency.p50, errors: r.errors + r.timeouts, other: r.non2xx };
}

console.log(`webhook intake, durable 202: autocannon -c 10 and -c 50, ${seconds} s each, ${rounds} rounds, Node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
const rows = [];
try {
  // Rounds interleave floor and daemon, so that a slow spell of the machine falls on both; each
  // ratio is against the floor of its own round.
  for (let round = 1; round <= rounds; round++) {
    for (const connections of [10, 50]) {
      const f = await floor(connections);
      rows.push({ round, label: `floor (node:http + fsync)`, connections, ...f });
      for (const [label, setup] of Object.entries(setups)) {
        const r = await daemon(setup, connections);
        rows.push({ round, label: `flux daemon, ${label}`, connections, ...r, ratio: r.perSecond / f.perSecond });
      }
    }
  }
} finally {
  await downstream.stop();
  rmSync(dir, { recursive: true, force: true });
}

const pad = (v, n) => String(v).padStart(n);
console.log(`${'round'.padEnd(5)} ${'setup'.padEnd(28)} ${pad('-c', 3)} ${pad('accepted/s', 10)} ${pad('p50 ms', 7)} ${pad('p99 ms', 7)} ${pad('vs floor', 8)} ${pad('cpu µs/req', 10)} ${pad('loop p99 ms (max/median of 1 s windows)', 40)} ${pad('runs done', 9)}`);
for (const r of rows) {
  console.log(`${String(r.round).padEnd(5)} ${r.label.padEnd(28)} ${pad(r.connections, 3)} ${pad(Math.round(r.perSecond), 10)} ${pad(r.p50, 7)} ${pad(r.p99, 7)} ${pad(r.ratio ? `${r.ratio.toFixed(2)}x` : '', 8)} ${pad(Number.isFinite(r.cpuPerRequest) ? Math.round(r.cpuPerRequest) : 'n/a', 10)} ${pad(r.loopP99 !== undefined ? `${r.loopP99} / ${r.loopMedianOfP99}` : '', 40)} ${pad(r.finished ?? '', 9)}${r.errors || r.other ? `  (errors ${r.errors}, non-2xx ${r.other})` : ''}`);
}
console.log(`load average at the end: ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`);

const median = (values) => {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
console.log(`\nover ${rounds} rounds (median; ratio range; worst p99):`);
const groups = new Map();
for (const r of rows) {
  const key = `${r.label} -c ${r.connections}`;
  groups.set(key, [...(groups.get(key) ?? []), r]);
}
for (const [key, group] of groups) {
  const ratios = group.map((r) => r.ratio).filter((x) => x !== undefined);
  const summary = {
    perSecond: median(group.map((r) => r.perSecond)), worstP99: Math.max(...group.map((r) => r.p99)), cpu: median(group.map((r) => r.cpuPerRequest)),
    ratio: ratios.length > 0 ? median(ratios) : undefined, low: Math.min(...ratios), high: Math.max(...ratios),
  };
  console.log(`${key.padEnd(38)} ${pad(Math.round(summary.perSecond), 7)}/s  worst p99 ${pad(summary.worstP99, 3)} ms  cpu ${pad(Math.round(summary.cpu), 4)} µs/req${summary.ratio !== undefined ? `  ${summary.ratio.toFixed(2)}x (${summary.low.toFixed(2)}-${summary.high.toFixed(2)})` : ''}`);
  if (group[0].connections === 50 && summary.ratio !== undefined) {
    const goals = [summary.ratio >= 0.7 ? 'median ratio ok' : 'median ratio BELOW 0.7x', summary.perSecond >= 3000 ? '>= 3,000/s ok' : 'BELOW 3,000/s', summary.worstP99 < 50 ? 'p99 < 50 ms ok' : 'p99 NOT < 50 ms'];
    console.log(`  goals: ${goals.join(', ')}`);
  }
}

// Benchmark of issue 11: several `flux daemon`s on one PostgreSQL, on this machine.
//   1. Webhook intake (durable 202) with 1, 2 and 3 daemons: autocannon, one process per daemon,
//      -c 48 in all split evenly, for `seconds`; accepted/s and p99. The daemons run intake
//      only (--concurrency 1, a step that hangs), as benchmark 1 of issue 7 does.
//   2. Runs/s with 1, 2 and 3 daemons: `runs` queued runs of a 3-step HTTP workflow (a local
//      server), every daemon --concurrency 20; from the start to the last run succeeded.
//   3. Failover after `kill -9`: three daemons, --lease 10s (the default), runs held in a slow
//      step; one daemon is killed and the time until a survivor calls the step again for one of
//      its runs is measured.
// Where the time goes comes from PostgreSQL's own statistics, read before and after each phase:
// pg_stat_database (commits, rows), pg_stat_wal (records, bytes, syncs), and pg_stat_activity
// sampled every 20 ms (what the store's backends wait on), beside the CPU time each process
// used (/proc): the daemons, the PostgreSQL backends, and autocannon.
// Run: npm run build && node test/bench/cluster.mjs [seconds=10] [runs=3000]
// Needs PostgreSQL at $FLUX_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { autocannon, cpuMs, intakeWorkflow, ROOT, spawnDaemon, spawnServer, statusCount, threeStepWorkflow } from './processes.mjs';

const seconds = Number(process.argv[2] ?? 10);
const totalRuns = Number(process.argv[3] ?? 3000);
const base = process.env.FLUX_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const pg = createRequire(join(ROOT, 'package.json'))('pg');
const { openStore } = await import(join(ROOT, 'dist/store/open.js'));
const { newRunId } = await import(join(ROOT, 'dist/engine/run-id.js'));
const admin = new pg.Client({ connectionString: base });
await admin.connect();
const dir = mkdtempSync(join(tmpdir(), 'flux-bench-cluster-'));
const downstream = await spawnServer('downstream.mjs');
const schemas = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function storeUrl(schema, app) {
  const u = new URL(base);
  u.searchParams.set('schema', schema);
  u.searchParams.set('application_name', app);
  return u.toString();
}

async function freshSchema(label) {
  const schema = `flux_bench_${label}_${process.pid}`;
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  schemas.push(schema);
  return schema;
}

function flows(name, yaml) {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, 'flow.yaml'), yaml);
  return d;
}

const intakeFlows = flows('intake', intakeWorkflow(downstream.url, '/slow'));
const syncText = threeStepWorkflow(downstream.url);
const syncFlows = flows('sync', syncText);
const slowFlows = flows('failover', `name: failover
owner: ops@example.com
trigger:
  webhook: { path: /hooks/failover }
steps:
  - id: first
    uses: http
    with: { url: "${downstream.url}/first", method: POST, json: { n: "\${{ event.n }}" } }
  - id: hold
    uses: http
    with: { url: "${downstream.url}/slow?ms=2000", method: POST, json: { n: "\${{ event.n }}" } }
`);

/** CPU ms used so far by the PostgreSQL server processes (every `postgres` process on the machine). */
function postgresCpuMs() {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(postgres)')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return total;
}

async function pgStats() {
  const db = (await admin.query('SELECT xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, blks_read, blks_hit FROM pg_stat_database WHERE datname = current_database()')).rows[0];
  const wal = (await admin.query('SELECT wal_records, wal_bytes, wal_sync, wal_write FROM pg_stat_wal')).rows[0];
  return { ...Object.fromEntries(Object.entries(db).map(([k, v]) => [k, Number(v)])), ...Object.fromEntries(Object.entries(wal).map(([k, v]) => [k, Number(v)])) };
}

/** Samples what the store's backends are doing every 20 ms until stopped: counts of state/wait event. */
function sampleWaits(app) {
  const counts = new Map();
  let samples = 0;
  let on = true;
  const done = (async () => {
    while (on) {
      const rows = (await admin.query("SELECT state, coalesce(wait_event_type || ':' || wait_event, 'CPU') AS wait FROM pg_stat_activity WHERE application_name LIKE $1", [`${app}%`])).rows;
      samples += 1;
      for (const r of rows) {
        const key = r.state === 'active' ? `active ${r.wait}` : r.state;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      await sleep(20);
    }
  })();
  return async () => {
    on = false;
    await done;
    return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${(v / samples).toFixed(1)}`).join(', ');
  };
}

function diff(a, b) {
  return Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));
}

async function startDaemons(n, schema, flowsDir, extra) {
  const ds = [];
  for (let i = 1; i <= n; i++) {
    ds.push(await spawnDaemon(dir, [flowsDir, '--store', storeUrl(schema, `flux-bench-${i}`), '--state-dir', join(dir, `${schema}-state-${i}`), '--log-dir', join(dir, `${schema}-logs-${i}`), '--port', '0', '--grace', '1s', ...extra]));
  }
  return ds;
}

async function intake(n) {
  const schema = await freshSchema(`intake${n}`);
  const ds = await startDaemons(n, schema, intakeFlows, ['--concurrency', '1']);
  const body = JSON.stringify({ id: 'evt_1', type: 'lead.created', lead: { email: 'ada@example.com', name: 'Ada Lovelace', source: 'web', score: 42 } });
  try {
    const before = await pgStats();
    const cpu0 = { daemons: ds.map((d) => cpuMs(d.child.pid)), postgres: postgresCpuMs() };
    const stopSampling = sampleWaits('flux-bench-');
    const results = await Promise.all(ds.map((d) => autocannon(`${d.url}/hooks/intake`, { connections: Math.floor(48 / n), seconds, body, headers: { 'content-type': 'application/json' } })));
    const waits = await stopSampling();
    const after = await pgStats();
    const accepted = results.reduce((s, r) => s + statusCount(r, 202), 0);
    const duration = Math.max(...results.map((r) => r.duration));
    const daemonCpu = ds.reduce((s, d, i) => s + cpuMs(d.child.pid) - cpu0.daemons[i], 0);
    const stats = diff(before, after);
    return {
      n, perSecond: accepted / duration, p99: Math.max(...results.map((r) => r.latency.p99)), errors: results.reduce((s, r) => s + r.errors + r.timeouts + r.non2xx, 0),
      daemonUs: (daemonCpu * 1000) / accepted, postgresUs: ((postgresCpuMs() - cpu0.postgres) * 1000) / accepted,
      commitsPerRequest: stats.xact_commit / accepted, walSyncsPerSecond: stats.wal_sync / duration, walBytesPerRequest: stats.wal_bytes / accepted, waits,
    };
  } finally {
    for (const d of ds) d.child.kill('SIGKILL');
    await Promise.all(ds.map((d) => d.exited));
  }
}

async function runs(n) {
  const schema = await freshSchema(`runs${n}`);
  const store = await openStore(storeUrl(schema, 'flux-bench-queue'), { now: Date.now });
  const version = 'sha256:bench-sync';
  await store.putWorkflowVersion({ hash: version, name: 'sync', text: syncText, createdAt: Date.now() });
  const now = Date.now();
  for (let i = 0; i < totalRuns; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, totalRuns - i) }, (_, j) => store.enqueueRun({ id: newRunId(now), workflow: 'sync', workflowVersion: version, trigger: 'manual', event: { n: i + j }, receivedAt: now }, now)));
  }
  const before = await pgStats();
  const pg0 = postgresCpuMs();
  const t = performance.now();
  const ds = await startDaemons(n, schema, syncFlows, ['--concurrency', '20']);
  const stopSampling = sampleWaits('flux-bench-');
  try {
    for (;;) {
      const done = Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.runs WHERE status = 'succeeded'`)).rows[0].n);
      if (done >= totalRuns) break;
      if (performance.now() - t > 600_000) throw new Error(`only ${done} of ${totalRuns} runs finished in 10 minutes`);
      await sleep(50);
    }
    const ms = performance.now() - t;
    const waits = await stopSampling();
    const stats = diff(before, await pgStats());
    // What each run leaves on disk: its row, its journal entries, their indexes (and TOAST).
    const size = (await admin.query(`SELECT pg_total_relation_size($1::regclass) AS runs, pg_total_relation_size($2::regclass) AS journal`, [`${schema}.runs`, `${schema}.journal`])).rows[0];
    return {
      n, perSecond: totalRuns / (ms / 1000), commitsPerRun: stats.xact_commit / totalRuns, walBytesPerRun: stats.wal_bytes / totalRuns,
      postgresUs: ((postgresCpuMs() - pg0) * 1000) / totalRuns, diskBytesPerRun: (Number(size.runs) + Number(size.journal)) / totalRuns, waits,
    };
  } finally {
    await store.close();
    for (const d of ds) d.child.kill('SIGKILL');
    await Promise.all(ds.map((d) => d.exited));
  }
}

/** One failover: 30 runs held in a 2 s step across three daemons; one is killed; seconds until a survivor resumes one of its runs. */
async function failover(round) {
  const schema = await freshSchema(`failover${round}`);
  const ds = await startDaemons(3, schema, slowFlows, ['--concurrency', '20']);
  try {
    for (let i = 0; i < 30; i++) await fetch(`${ds[i % 3].url}/hooks/failover`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n: i }) });
    // Wait until the victim holds runs that are in their slow step.
    const victim = ds[0];
    const owner = `%:${victim.child.pid}:%`;
    for (;;) {
      const held = Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.runs WHERE status = 'running' AND lease_owner LIKE $1`, [owner])).rows[0].n);
      if (held > 0) break;
      await sleep(10);
    }
    const held = (await admin.query(`SELECT id FROM ${schema}.runs WHERE status = 'running' AND lease_owner LIKE $1`, [owner])).rows.map((r) => r.id);
    victim.child.kill('SIGKILL');
    const killed = performance.now();
    for (;;) {
      const resumed = Number((await admin.query(`SELECT count(*) AS n FROM ${schema}.runs WHERE id = ANY($1) AND attempt >= 2 AND status IN ('running', 'succeeded')`, [held])).rows[0].n);
      if (resumed > 0) return (performance.now() - killed) / 1000;
      if (performance.now() - killed > 60_000) throw new Error('no run of the killed daemon was resumed within 60 s');
      await sleep(5);
    }
  } finally {
    for (const d of ds) d.child.kill('SIGKILL');
    await Promise.all(ds.map((d) => d.exited));
  }
}

console.log(`flux daemons on one PostgreSQL (${(await admin.query('SHOW server_version')).rows[0].server_version}), Node ${process.version}, ${cpus().length} cores; intake ${seconds} s per setup, ${totalRuns} runs per setup`);
try {
  const intakeRows = [];
  for (const n of [1, 2, 3]) intakeRows.push(await intake(n));
  const runRows = [];
  for (const n of [1, 2, 3]) runRows.push(await runs(n));
  const failovers = [];
  for (let i = 0; i < 3; i++) failovers.push(await failover(i));

  console.log('\nwebhook intake, durable 202, -c 48 in all:');
  for (const r of intakeRows) {
    console.log(`  ${r.n} daemon${r.n > 1 ? 's' : ' '}: ${Math.round(r.perSecond)} accepted/s (${(r.perSecond / intakeRows[0].perSecond).toFixed(2)}x one daemon), p99 ${r.p99} ms, errors ${r.errors}; CPU µs/request: daemons ${r.daemonUs.toFixed(0)}, PostgreSQL ${r.postgresUs.toFixed(0)}; commits/request ${r.commitsPerRequest.toFixed(2)}, WAL syncs/s ${Math.round(r.walSyncsPerSecond)}, WAL bytes/request ${Math.round(r.walBytesPerRequest)}`);
    console.log(`    store backends (mean count per sample): ${r.waits}`);
  }
  console.log(`\nruns of a 3-step HTTP workflow, --concurrency 20 per daemon:`);
  for (const r of runRows) {
    console.log(`  ${r.n} daemon${r.n > 1 ? 's' : ' '}: ${Math.round(r.perSecond)} runs/s (${(r.perSecond / runRows[0].perSecond).toFixed(2)}x one daemon); commits/run ${r.commitsPerRun.toFixed(1)}, WAL bytes/run ${Math.round(r.walBytesPerRun)}, PostgreSQL CPU µs/run ${r.postgresUs.toFixed(0)}, on disk (runs + journal, with indexes) ${Math.round(r.diskBytesPerRun)} bytes/run`);
    console.log(`    store backends (mean count per sample): ${r.waits}`);
  }
  console.log(`\nfailover after kill -9 (lease 10 s): ${failovers.map((s) => `${s.toFixed(1)} s`).join(', ')} (goal < 10 s)`);
} finally {
  await downstream.stop();
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
}

// Measures parseLine with and without the fast path, and a JSON.parse-only floor, on
// generated records in the proportions flux writes (a 3-step run: started, 3 x step.started,
// 3 x step.finished with an output of ~1 KiB, finished). Run: node test/metrics/parse-bench.mjs
import { parseLine } from '../../dist/metrics/parse.js';

const base = (type, ts, run) => `{"v":1,"type":"${type}","ts":"${ts}","run_id":"${run}","workflow":"lead-intake","workflow_version":"sha256:${'a'.repeat(64)}","owner":"ops@example.com","baseline":{"minutes_per_run":6,"response_minutes":240,"hourly_cost":45,"currency":"USD"}`;
const output = JSON.stringify({ status: 200, headers: { 'content-type': 'application/json' }, body: { items: Array.from({ length: 12 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'] })) } });
const lines = [];
for (let r = 0; lines.length < Number(process.argv[2] ?? 2_000_000); r++) {
  const run = `01JDX${String(r).padStart(21, '0')}`;
  const ts = new Date(Date.UTC(2026, 10, 1) + r * 1000).toISOString();
  lines.push(`${base('run.started', ts, run)},"trigger":"webhook","event_sha256":"${'b'.repeat(64)}","file":"w.yaml","dry_run":false}`);
  for (const s of ['lookup', 'create', 'notify']) {
    lines.push(`${base('step.started', ts, run)},"step":"${s}","path":"${s}","attempt":1,"idempotency_key":"${run}:${s}"}`);
    lines.push(`${base('step.finished', ts, run)},"step":"${s}","path":"${s}","status":"succeeded","duration_ms":120,"attempt":1,"http_status":200,"method":"POST","output":${output}}`);
  }
  lines.push(`${base('run.finished', ts, run)},"status":"succeeded","duration_ms":400}`);
}
const bytes = lines.reduce((n, l) => n + l.length + 1, 0);
function time(name, fn) {
  const t = performance.now();
  let n = 0;
  for (const l of lines) if (fn(l)) n++;
  const ms = performance.now() - t;
  console.log(`${name.padEnd(28)} ${ms.toFixed(0).padStart(6)} ms  ${((bytes / 1e6) / (ms / 1000)).toFixed(0)} MB/s (${n} records)`);
}
for (let round = 0; round < 2; round++) {
  time('JSON.parse only', (l) => JSON.parse(l) !== null);
  time('parseLine, no fast path', (l) => parseLine(l, false).kind === 'record');
  time('parseLine, fast path', (l) => parseLine(l, true).kind === 'record');
}
console.log(`${lines.length} lines, ${(bytes / 1e6).toFixed(0)} MB`);

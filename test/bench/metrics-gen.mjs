// Generates realistic flux run logs for the `flux metrics` benchmark: 50 workflows over 90 days,
// deterministic from a seed, about --size bytes. Layout as a user who rotates logs has it: older
// runs in per-workflow per-day archives `<dir>/<workflow>/<YYYY-MM-DD>.jsonl` (a run parked at a
// durable wait across midnight continues in the archive of the day it resumed), the newest
// days still one file per run `<dir>/<workflow>/<run_id>.jsonl` as flux writes them, and with
// --gz-share a share of the archives gzipped. Writes `<dir>/metrics-bench.json`: what it made,
// and the true figures per workflow (counts by status, mean duration, exact cycle quantiles),
// for the harness to check answers against.
// Run: node test/bench/metrics-gen.mjs [dir=/tmp/flux-metrics-bench] [--size 1GB] [--seed 1]
//        [--days 90] [--end 2026-11-20] [--recent-days 2] [--gz-share 0] [--check] [--check-only]
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { checkSample } from './metrics-gen-check.mjs';
import { outputPools, prng, workflows } from './metrics-gen-model.mjs';
import { simulateRun } from './metrics-gen-run.mjs';

const DAY = 86_400_000;
/** Hours of the day (UTC) weighted as office traffic is: low at night, a peak late morning. */
const HOURS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 10, 12, 13, 12, 10, 8, 6, 4, 3, 2, 2, 1];
const HOUR_SUM = HOURS.reduce((a, b) => a + b, 0);
/** Schedule intervals a workflow author would write, in minutes. */
const LADDER = [5, 10, 15, 30, 60, 120, 240, 360, 720, 1440, 10080];
/** Days at the start written before flux recorded received_at, response_step and method. */
const LEGACY_DAYS = 15;

/** Parses "1GB", "50MB", "200k" (decimal units) into bytes. */
export function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb?|mb?|gb?)?$/i.exec(String(text).trim());
  if (!m) throw new Error(`--size: expected a size such as 50MB or 1GB, not "${text}"`);
  const unit = { b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9 }[(m[2] ?? 'b').toLowerCase()];
  return Math.round(Number(m[1]) * unit);
}

function options(argv) {
  const o = { dir: '/tmp/flux-metrics-bench', size: 1e9, seed: 1, days: 90, end: '2026-11-20', recentDays: 2, gzShare: 0, check: false, checkOnly: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--size') o.size = parseSize(value());
    else if (a === '--seed') o.seed = Number(value());
    else if (a === '--days') o.days = Number(value());
    else if (a === '--end') o.end = value();
    else if (a === '--recent-days') o.recentDays = Number(value());
    else if (a === '--gz-share') o.gzShare = Number(value());
    else if (a === '--check') o.check = true;
    else if (a === '--check-only') o.checkOnly = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else o.dir = a;
  }
  if (!Number.isInteger(o.seed) || !(o.days >= 7) || !(o.gzShare >= 0 && o.gzShare <= 1) || Number.isNaN(Date.parse(`${o.end}T00:00:00Z`))) {
    throw new Error('bad --seed (integer), --days (>= 7), --gz-share (0..1) or --end (YYYY-MM-DD)');
  }
  return o;
}

/**
 * The exact quantile as DDSketch ranks it (getValueAtQuantile: the value at index
 * floor(q * (n - 1)) of the sorted values), so that flux's figures, taken from a sketch, can be
 * compared with it for the sketch's own error and not for a choice between rank conventions.
 */
function quantile(sorted, q) {
  return sorted.length === 0 ? null : sorted[Math.floor(q * (sorted.length - 1))];
}

/** Writes the data set; returns what it wrote and the true figures. */
export function generate(o) {
  const t = performance.now();
  const endMs = Date.parse(`${o.end}T00:00:00Z`);
  const startMs = endMs - o.days * DAY;
  const cutoff = endMs - o.recentDays * DAY;
  const wfs = workflows(o.seed, startMs, o.days);
  const pools = outputPools(o.seed, startMs, o.days);
  const growth = (d) => 0.8 + (0.4 * d) / (o.days - 1);
  const weekend = (d) => [0, 6].includes(new Date(startMs + d * DAY).getUTCDay());

  // Calibrate: the mean bytes of a run of each workflow, from 100 runs not written, so the
  // volume of each can be set to reach --size.
  for (const wf of wfs) {
    const r = prng(o.seed ^ (0xca11 + wf.index));
    let bytes = 0;
    for (let k = 0; k < 100; k++) for (const line of simulateRun(wf, startMs + 40 * DAY + k * 60000, r, pools, { legacy: false, scheduledFor: startMs }).lines) bytes += line.length + 1;
    wf.runBytes = bytes / 100;
  }
  const scheduled = wfs.filter((w) => w.trigger === 'schedule');
  const others = wfs.filter((w) => w.trigger !== 'schedule');
  const weight = (list) => list.reduce((s, w) => s + w.weight, 0);
  const all = weight(wfs);
  let fixed = 0;
  for (const wf of scheduled) {
    const wanted = (o.size * wf.weight) / all / wf.runBytes;
    const minutes = (o.days * 1440) / Math.max(wanted, 1);
    wf.interval ??= LADDER.reduce((best, m) => (Math.abs(Math.log(m / minutes)) < Math.abs(Math.log(best / minutes)) ? m : best));
    fixed += ((o.days * 1440) / wf.interval) * wf.runBytes;
  }
  const rest = Math.max(o.size - fixed, o.size * 0.2);
  for (const wf of others) {
    let factors = 0;
    for (let d = 0; d < o.days; d++) factors += growth(d) * (weekend(d) ? wf.weekend : 1);
    wf.perDay = (rest * wf.weight) / weight(others) / wf.runBytes / factors;
  }

  const gz = prng(o.seed ^ 0x62);
  const stats = { files: 0, archives: 0, singles: 0, gz: 0, bytes: 0, records: 0, runs: 0 };
  const truth = {};
  const write = (path, text, zip) => {
    stats.files++;
    stats.bytes += Buffer.byteLength(text);
    if (zip) {
      stats.gz++;
      writeFileSync(`${path}.gz`, gzipSync(text));
    } else writeFileSync(path, text);
  };
  for (const wf of wfs) {
    const r = prng(o.seed * 7919 + wf.index);
    const dir = join(o.dir, wf.name);
    mkdirSync(dir, { recursive: true });
    const tally = { owner: wf.owner, trigger: wf.trigger, started: 0, succeeded: 0, failed: 0, escalated: 0, cancelled: 0, rejected: 0, unfinished: 0, duration_ms_sum: 0 };
    const cycles = [];
    const pending = new Map(); // day -> blocks resumed that day, of runs archived earlier
    for (let d = 0; d < o.days; d++) {
      const day0 = startMs + d * DAY;
      const starts = [];
      if (wf.interval !== undefined) {
        const first = wf.interval === 10080 ? (new Date(day0).getUTCDay() === 1 ? 7 * 60 : -1) : wf.interval === 1440 ? 5 * 60 + wf.index : 0;
        for (let m = first; m >= 0 && m < 1440; m += wf.interval) starts.push([day0 + m * 60000, day0 + m * 60000]);
      } else {
        for (let n = r.poisson(wf.perDay * growth(d) * (weekend(d) ? wf.weekend : 1)); n > 0; n--) {
          let h = 0;
          for (let x = r.next() * HOUR_SUM; x >= HOURS[h]; h++) x -= HOURS[h];
          starts.push([day0 + h * 3600000 + Math.floor(r.next() * 3600000)]);
        }
        starts.sort((a, b) => a[0] - b[0]);
      }
      const blocks = pending.get(d) ?? [];
      pending.delete(d);
      for (const [at, scheduledFor] of starts) {
        const t0 = scheduledFor === undefined ? at : at + Math.round(r.chance(0.01) ? r.lognormal(60000, 1) : r.lognormal(150, 1));
        const run = simulateRun(wf, t0, r, pools, { legacy: d < LEGACY_DAYS, scheduledFor });
        let kept = run.ts.length;
        while (kept > 0 && run.ts[kept - 1] >= endMs) kept--;
        const ended = run.status !== null && run.finishedAt < endMs;
        tally.started++;
        stats.runs++;
        stats.records += kept;
        if (!ended) tally.unfinished++;
        else {
          tally[run.status]++;
          tally.duration_ms_sum += run.durationMs;
          if (run.cycleMs !== null) cycles.push(run.cycleMs / 1000);
        }
        const text = (from, to) => `${run.lines.slice(from, to).join('\n')}\n`;
        if (run.ts[kept - 1] >= cutoff) {
          write(join(dir, `${run.id}.jsonl`), text(0, kept), false);
          stats.singles++;
          continue;
        }
        const later = run.resumedAt > 0 && run.resumedAt < kept ? Math.floor((run.ts[run.resumedAt] - startMs) / DAY) : d;
        if (later === d) blocks.push([t0, text(0, kept)]);
        else {
          blocks.push([t0, text(0, run.resumedAt)]);
          if (!pending.has(later)) pending.set(later, []);
          pending.get(later).push([run.ts[run.resumedAt], text(run.resumedAt, kept)]);
        }
      }
      if (blocks.length === 0) continue;
      blocks.sort((a, b) => a[0] - b[0]);
      write(join(dir, `${new Date(day0).toISOString().slice(0, 10)}.jsonl`), blocks.map((b) => b[1]).join(''), gz.chance(o.gzShare));
      stats.archives++;
    }
    const finished = tally.succeeded + tally.failed + tally.escalated + tally.cancelled + tally.rejected;
    cycles.sort((a, b) => a - b);
    truth[wf.name] = {
      ...tally, finished, mean_duration_ms: finished > 0 ? tally.duration_ms_sum / finished : null,
      cycle_seconds: { p50: quantile(cycles, 0.5), p90: quantile(cycles, 0.9), p99: quantile(cycles, 0.99) },
      baselines: new Set(wf.versions.map((v) => v.base)).size, response_step: wf.responseStep ?? null, schedule_minutes: wf.interval ?? null,
    };
  }
  const seconds = (performance.now() - t) / 1000;
  const manifest = {
    generator: 'test/bench/metrics-gen.mjs', seed: o.seed, size_target: o.size, days: o.days, start: new Date(startMs).toISOString(), end: new Date(endMs).toISOString(),
    recent_days: o.recentDays, legacy_days: LEGACY_DAYS, gz_share: o.gzShare, ...stats, seconds, workflows: truth,
  };
  writeFileSync(join(o.dir, 'metrics-bench.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  return manifest;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let o;
  try {
    o = options(process.argv.slice(2));
  } catch (e) {
    console.error(`metrics-gen: ${e.message}`);
    process.exit(2);
  }
  if (!o.checkOnly) {
    if (existsSync(o.dir) && readdirSync(o.dir).length > 0) {
      console.error(`metrics-gen: ${o.dir} is not empty; remove it first or use --check-only`);
      process.exit(2);
    }
    const m = generate(o);
    const mb = m.bytes / 1e6;
    console.log(`generated ${mb.toFixed(1)} MB in ${m.seconds.toFixed(1)} s (${(mb / m.seconds).toFixed(0)} MB/s) under ${o.dir}: ${m.records.toLocaleString('en')} records, ${m.runs.toLocaleString('en')} runs, `
      + `50 workflows, ${o.days} days to ${o.end}; ${m.files.toLocaleString('en')} files: ${m.archives.toLocaleString('en')} per-day archives (${m.gz} gzipped), ${m.singles.toLocaleString('en')} single-run files`);
  }
  if (o.check || o.checkOnly) {
    const result = checkSample(o.dir);
    console.log(result.summary);
    if (!result.ok) process.exit(1);
  }
}

// Benchmark of `flux metrics` on about 1 GB of realistic run logs (test/bench/metrics-gen.mjs),
// against two references on the same files in the same run: the floor (metrics-floor.mjs: read
// and split lines, no JSON) and jq computing per-workflow run counts and mean duration. Each is
// run as a whole process, in interleaved rounds (a change in machine load hits all alike), after
// the page cache was warmed by reading every file once. Wall time is the harness's clock around
// the process; peak RSS is GNU time's %M: the largest resident set of the process (all its
// threads, so flux's workers count), from the kernel's rusage for the waited child. Then the
// answers are checked (metrics-answers.mjs). Goals: flux at most 3x the floor, faster than jq,
// peak RSS under 256 MiB.
// Run: npm run build && node test/bench/metrics.mjs [dir=/tmp/flux-metrics-bench] [--size 1GB]
//        [--seed 1] [--runs 3] [--flux bin/flux.js] [--node-flags "..."] [--strict]
// --size and --seed apply when dir holds no logs yet and is generated; otherwise its data is used
// as it is. Exit: 0 measured and the answers agree (missed goals are printed; with --strict they
// exit 1), 1 answers disagree or a measured program failed, 2 bad usage or a missing tool.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareAnswers } from './metrics-answers.mjs';
import { logFiles } from './metrics-gen-check.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TIME = '/usr/bin/time';
const JQ_FILTER = 'reduce inputs as $r ({}; if $r.type == "run.finished" then .[$r.workflow].runs += 1 | .[$r.workflow].ms += $r.duration_ms else . end) | map_values(.mean_ms = .ms / .runs)';
const GOAL_FLOOR_RATIO = 3;
const GOAL_RSS_MIB = 256;

function options(argv) {
  const o = { dir: '/tmp/flux-metrics-bench', size: '1GB', seed: '1', runs: 3, flux: join(ROOT, 'bin/flux.js'), nodeFlags: [], strict: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => argv[++i] ?? fail(`${a} needs a value`);
    if (a === '--size') o.size = value();
    else if (a === '--seed') o.seed = value();
    else if (a === '--runs') o.runs = Number(value());
    else if (a === '--flux') o.flux = resolve(value());
    else if (a === '--node-flags') o.nodeFlags = value().split(/\s+/).filter(Boolean);
    else if (a === '--strict') o.strict = true;
    else if (a.startsWith('--')) fail(`unknown option ${a}`);
    else o.dir = resolve(a);
  }
  if (!Number.isInteger(o.runs) || o.runs < 3) fail('--runs must be an integer of at least 3');
  return o;
}

/** Stops with a message: exit 2 for bad usage or a missing tool, 1 when a measured program failed. */
function fail(message, code = 2) {
  console.error(`metrics bench: ${message}`);
  process.exit(code);
}

const o = options(process.argv.slice(2));
if (!existsSync(TIME) || spawnSync(TIME, ['-f', '%M', 'true'], { encoding: 'utf8' }).status !== 0) fail(`${TIME} (GNU time) is needed to measure peak RSS: apt-get install time`);
if (spawnSync('jq', ['--version']).status !== 0) fail('jq is needed: apt-get install jq');
if (!existsSync(o.flux)) fail(`${o.flux} does not exist: run npm run build, or give --flux`);

if (!existsSync(o.dir) || logFiles(o.dir).length === 0) {
  console.log(`no run logs under ${o.dir}: generating ${o.size} (seed ${o.seed})`);
  const gen = spawnSync(process.execPath, [join(ROOT, 'test/bench/metrics-gen.mjs'), o.dir, '--size', o.size, '--seed', o.seed, '--check'], { stdio: 'inherit' });
  if (gen.status !== 0) fail('the generator failed', 1);
}
const manifestPath = join(o.dir, 'metrics-bench.json');
const manifest = existsSync(manifestPath) ? JSON.parse(readFileSync(manifestPath, 'utf8')) : null;
const files = logFiles(o.dir);
const gz = files.filter((f) => f.endsWith('.gz'));
const plain = files.filter((f) => !f.endsWith('.gz'));
let bytes = 0;
for (const f of files) bytes += statSync(join(o.dir, f)).size;

const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...opts });
const fluxRepo = dirname(dirname(o.flux));
const fluxCommit = run('git', ['-C', fluxRepo, 'log', '-1', '--format=%h %s']).stdout.trim() || 'not a git checkout';
const cpu = cpus();
console.log(`flux metrics benchmark, ${new Date().toISOString()}`);
console.log(`machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}, Node ${process.version}, ${run('jq', ['--version']).stdout.trim()}, load average ${loadavg()[0].toFixed(2)} at start`);
console.log(`flux: ${o.flux} (${fluxCommit})`);
console.log(`data: ${o.dir}: ${(bytes / 1e6).toFixed(1)} MB on disk in ${files.length.toLocaleString('en')} files (${plain.length.toLocaleString('en')} .jsonl, ${gz.length} .jsonl.gz)${
  manifest ? `, ${manifest.records.toLocaleString('en')} records, ${manifest.runs.toLocaleString('en')} runs of ${Object.keys(manifest.workflows).length} workflows over ${manifest.days} days (seed ${manifest.seed})` : ''}`);

// Warm the page cache: every leg then reads from memory, none pays for the disk first.
const warm = performance.now();
for (const f of files) readFileSync(join(o.dir, f));
console.log(`page cache: warmed by reading every file once before timing (${(bytes / 1e6).toFixed(0)} MB in ${((performance.now() - warm) / 1000).toFixed(1)} s)`);

const out = mkdtempSync(join(tmpdir(), 'flux-metrics-bench-'));
const node = [process.execPath, ...o.nodeFlags];
const legs = [
  { name: 'floor', cmd: node[0], args: [...node.slice(1), join(ROOT, 'test/bench/metrics-floor.mjs'), o.dir], cwd: ROOT },
  { name: 'jq', cmd: 'jq', args: ['-n', JQ_FILTER, ...plain], cwd: o.dir },
  { name: 'flux', cmd: node[0], args: [...node.slice(1), o.flux, 'metrics', o.dir, '--format', 'json', '--out', join(out, 'report.json')], cwd: ROOT },
];
// jq reads every file named on its command line as one stream of inputs, so one process sees
// them all (xargs would split them over several, each with its own reduce). Relative paths keep
// the command line short; it must fit in ARG_MAX.
const argBytes = legs[1].args.reduce((s, a) => s + a.length + 1, 0);
if (gz.length > 0) {
  console.log(`jq: left out, it cannot read the ${gz.length} gzipped files (generate with --gz-share 0 for the comparison with jq); the floor gunzips them as flux must`);
  legs.splice(1, 1);
} else if (argBytes > 1_500_000) fail(`the ${plain.length} file names (${argBytes} bytes) do not fit on one jq command line`);
console.log(`method: ${o.runs} interleaved rounds of ${legs.map((l) => l.name).join(', ')}; each a fresh process under ${TIME} -f '%e %U %S %M'; node flags: ${o.nodeFlags.join(' ') || '(none)'}, the same for floor and flux`);

for (const leg of legs) leg.samples = [];
for (let round = 1; round <= o.runs; round++) {
  for (const leg of legs) {
    const timeFile = join(out, 'time.txt');
    const t = performance.now();
    const res = run(TIME, ['-f', '%e %U %S %M', '-o', timeFile, leg.cmd, ...leg.args], { cwd: leg.cwd, env: { ...process.env, NO_COLOR: '1' } });
    const wall = (performance.now() - t) / 1000;
    if (res.status !== 0) {
      const said = `${res.stderr ?? ''}`.replace(/[^\x20-\x7e\n]/g, '?').slice(0, 2000);
      fail(`${leg.name} exited ${res.status ?? res.signal} in round ${round}:\n${said}`, 1);
    }
    const [, user, sys, rss] = readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    leg.samples.push({ wall, cpu: user + sys, rssKiB: rss });
    leg.stdout = res.stdout;
    process.stdout.write(`  round ${round} ${leg.name.padEnd(5)} ${wall.toFixed(2).padStart(7)} s  ${(rss / 1024).toFixed(0).padStart(5)} MiB\n`);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
for (const leg of legs) {
  const walls = leg.samples.map((s) => s.wall);
  leg.wall = median(walls);
  leg.min = Math.min(...walls);
  leg.max = Math.max(...walls);
  leg.cpu = median(leg.samples.map((s) => s.cpu));
  leg.rssMiB = Math.max(...leg.samples.map((s) => s.rssKiB)) / 1024;
}
const by = Object.fromEntries(legs.map((l) => [l.name, l]));
const mbps = (leg) => (bytes / 1e6 / leg.wall).toFixed(0);
console.log(`load average ${loadavg()[0].toFixed(2)} at the end of timing (${cpu.length} cores): other work on the machine slows every leg, and widens the spread`);
console.log('');
console.log('leg    wall median  spread (min-max)         cpu (user+sys)  peak RSS   throughput');
for (const l of legs) {
  const spread = `${l.min.toFixed(2)}-${l.max.toFixed(2)} s (${((100 * (l.max - l.min)) / l.wall).toFixed(0)}%)`;
  console.log(`${l.name.padEnd(5)} ${`${l.wall.toFixed(2)} s`.padStart(11)}  ${spread.padEnd(24)} ${`${l.cpu.toFixed(2)} s`.padStart(14)}  ${`${l.rssMiB.toFixed(0)} MiB`.padStart(8)}  ${mbps(l).padStart(6)} MB/s`);
}
const goals = [
  ['flux / floor', by.flux.wall / by.floor.wall, `${(by.flux.wall / by.floor.wall).toFixed(2)}x`, `<= ${GOAL_FLOOR_RATIO}x`, by.flux.wall <= GOAL_FLOOR_RATIO * by.floor.wall],
  ...(by.jq ? [['flux / jq', by.flux.wall / by.jq.wall, `${(by.flux.wall / by.jq.wall).toFixed(3)}x (jq ${(by.jq.wall / by.flux.wall).toFixed(1)}x slower)`, '< 1x', by.flux.wall < by.jq.wall]] : []),
  ['flux peak RSS', by.flux.rssMiB, `${by.flux.rssMiB.toFixed(0)} MiB`, `< ${GOAL_RSS_MIB} MiB`, by.flux.rssMiB < GOAL_RSS_MIB],
];
console.log('');
for (const [what, , shown, goal, met] of goals) console.log(`${what.padEnd(14)} ${shown.padEnd(30)} goal ${goal.padEnd(10)} ${met ? 'met' : 'MISSED'}`);
// CPU time is less disturbed by other load than wall time; flux may use several cores, the
// floor and jq one, so this ratio is no goal, only a second view of the cost.
console.log(`cpu time       flux / floor ${(by.flux.cpu / by.floor.cpu).toFixed(2)}x${by.jq ? `, flux / jq ${(by.flux.cpu / by.jq.cpu).toFixed(3)}x` : ''} (for information)`);

let report = null;
try {
  report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
} catch (e) {
  console.log(`flux's report could not be read: ${e.message}`);
}
let floorOut = null;
try {
  floorOut = JSON.parse(by.floor.stdout);
} catch {
  // reported below as a missing comparison
}
const answers = compareAnswers({ manifest, floorOut, jqOut: by.jq ? JSON.parse(by.jq.stdout) : null, fluxReport: report });
console.log('');
console.log('answers (last round):');
for (const line of answers.lines) console.log(`  ${line}`);
rmSync(out, { recursive: true, force: true });
if (!answers.ok || !report || (o.strict && goals.some((g) => !g[4]))) process.exitCode = 1;

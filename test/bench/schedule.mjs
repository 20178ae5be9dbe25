// Benchmark of the schedule planner: 1,000 random schedules (5- and 6-field crons and macros,
// across 8 time zones) × the next 100 fires each, in µs per nextFire. The first pass pays for
// sampling each zone-year's offsets from Intl and each cron's day masks (once per process); the
// warm passes are what a daemon recomputing its schedules every tick pays.
// Run: npm run build && node test/bench/schedule.mjs
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const { compileSchedule } = await import(process.env.SCHEDULE ?? join(ROOT, 'dist/triggers/schedule.js'));
const { checkCron } = await import(join(ROOT, 'dist/workflow/cron.js'));

// A small seeded generator, so every run benchmarks the same schedules.
let seed = 42;
const rand = (n) => {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  return seed % n;
};
const pick = (list) => list[rand(list.length)];
const field = (lo, hi) => {
  switch (rand(6)) {
    case 0: return '*';
    case 1: return `*/${1 + rand(Math.min(20, hi))}`;
    case 2: return String(lo + rand(hi - lo + 1));
    case 3: { const a = lo + rand(hi - lo + 1); return `${a}-${a + rand(hi - a + 1)}`; }
    case 4: return `${lo + rand(hi - lo + 1)},${lo + rand(hi - lo + 1)}`;
    default: return String(lo + rand(hi - lo + 1));
  }
};
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Sao_Paulo', 'Pacific/Auckland', 'Asia/Tokyo'];
const MACROS = ['@hourly', '@daily', '@weekly', '@monthly', '@yearly'];

const crons = [];
while (crons.length < 1000) {
  const kind = rand(10);
  const cron = kind === 0 ? pick(MACROS)
    : `${kind === 1 ? `${field(0, 59)} ` : ''}${field(0, 59)} ${field(0, 23)} ${rand(4) ? '*' : field(1, 31)} ${rand(4) ? '*' : field(1, 12)} ${rand(4) ? '*' : field(0, 6)}`;
  if (checkCron(cron).valid) crons.push(cron);
}
const start = Date.UTC(2026, 0, 1);
const afters = crons.map(() => start + rand(365 * 24 * 3600) * 1000);

const schedules = crons.map((cron, i) => compileSchedule(cron, ZONES[i % ZONES.length]));

function pass() {
  let calls = 0;
  const t0 = performance.now();
  for (let i = 0; i < schedules.length; i++) {
    let t = afters[i];
    for (let k = 0; k < 100 && t !== undefined; k++) {
      t = schedules[i].next(t);
      calls++;
    }
  }
  return { us: ((performance.now() - t0) * 1000) / calls, calls };
}

const cold = pass();
const warm = [];
for (let r = 0; r < 7; r++) warm.push(pass().us);
warm.sort((a, b) => a - b);
console.log(`schedules: 1000 (${ZONES.length} zones), fires each: 100, nextFire calls per pass: ${cold.calls}`);
console.log(`first pass (zone tables built): ${cold.us.toFixed(2)} µs per nextFire`);
console.log(`warm, median of 7 passes:      ${warm[3].toFixed(2)} µs per nextFire`);

// Benchmark: `flux lint` over 1,000 generated workflows of realistic size, against the floor
// (parse + schema validation only: test/bench/lint-floor.mjs), and `flux --version` against
// `node -e 0`. Every side runs as a whole process, in interleaved rounds; medians are compared.
// Run: npm run build && node test/bench/lint.mjs [files=1000] [runs=7]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const count = Number(process.argv[2] ?? 1000);
const runs = Number(process.argv[3] ?? 7);
const examples = ['lead-intake', 'appointment-reminders', 'invoice-follow-up', 'sales-handoff', 'weekly-status-report', 'crm-accounting-sync']
  .map((n) => readFileSync(join(ROOT, 'workflows', `${n}.yaml`), 'utf8'));

const dir = mkdtempSync(join(tmpdir(), 'flux-bench-'));
let bytes = 0;
for (let i = 0; i < count; i++) {
  // Unique names, webhook paths, owners and inputs, as in a real repository of workflows.
  const text = examples[i % examples.length]
    .replace(/^name: (.*)$/m, `name: $1-${i}`)
    .replace(/path: \/hooks\/([\w/-]+)/, `path: /hooks/$1-${i}`)
    .replace(/^owner: .*$/m, `owner: team-${i % 17}@example.com`)
    .replace(/^inputs:\n  type: object\n/m, `inputs:\n  type: object\n  description: variant ${i}\n`);
  bytes += text.length;
  writeFileSync(join(dir, `wf-${String(i).padStart(4, '0')}.yaml`), text);
}

/** Times each command once per round, rounds interleaved so a change in machine load hits all alike. */
function interleaved(commands, rounds) {
  const samples = commands.map(() => []);
  const outs = [];
  for (let r = 0; r < rounds; r++) {
    commands.forEach((args, i) => {
      const t = process.hrtime.bigint();
      const res = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      samples[i].push(Number(process.hrtime.bigint() - t) / 1e6);
      outs[i] = (res.stdout ?? '').trim().split('\n').pop();
    });
  }
  return samples.map((s, i) => ({ ms: s.sort((a, b) => a - b)[Math.floor(s.length / 2)], out: outs[i] }));
}

const flux = join(ROOT, 'bin/flux.js');
const floorScript = join(ROOT, 'test/bench/lint-floor.mjs');
interleaved([[flux, 'lint', dir]], 1); // warm the file cache
const [lint, floor, floorStandalone] = interleaved([[flux, 'lint', dir], [floorScript, dir], [floorScript, dir, '--standalone']], runs);
console.log(`files: ${count} (${(bytes / count / 1024).toFixed(1)} KiB average), ${runs} interleaved rounds, medians`);
console.log(`flux lint: ${lint.ms.toFixed(0)} ms (${lint.out})`);
console.log(`floor, yaml parse + ajv validate: ${floor.ms.toFixed(0)} ms (${floor.out})`);
console.log(`ratio lint/floor: ${(lint.ms / floor.ms).toFixed(2)}x (goal <= 2x)`);
console.log(`floor with the build-time validator flux uses: ${floorStandalone.ms.toFixed(0)} ms -> ratio ${(lint.ms / floorStandalone.ms).toFixed(2)}x`);

const [version, bare] = interleaved([[flux, '--version'], ['-e', '0']], Math.max(runs, 21));
console.log(`flux --version: ${version.ms.toFixed(1)} ms, node -e 0: ${bare.ms.toFixed(1)} ms, ratio ${(version.ms / bare.ms).toFixed(2)}x (goal <= 1.5x)`);
rmSync(dir, { recursive: true, force: true });

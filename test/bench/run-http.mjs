// Benchmark 1: a workflow of 20 sequential HTTP steps against a loopback server. `flux run` as a
// whole process versus the floor: a plain Node script making the same 20 requests with undici.
// Both are timed as whole processes (median of several runs); the server is a third process.
// Run: npm run build && node test/bench/run-http.mjs [runs=15]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const runs = Number(process.argv[2] ?? 15);
const dir = mkdtempSync(join(tmpdir(), 'flux-bench-http-'));

writeFileSync(join(dir, 'server.mjs'), `
import { createServer } from 'node:http';
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const text = JSON.stringify({ ok: true, path: req.url, received: body.length });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`);
const server = spawn(process.execPath, [join(dir, 'server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(String(d).trim())));
const base = `http://127.0.0.1:${port}`;

const steps = Array.from({ length: 20 }, (_, i) => i % 2 === 0
  ? `  - id: s${i}\n    uses: http\n    with: { url: "${base}/items/${i}" }\n`
  : `  - id: s${i}\n    uses: http\n    with: { method: POST, url: "${base}/items", json: { n: ${i}, prev: "\${{ steps.s${i - 1}.output.body.path }}" } }\n`).join('');
writeFileSync(join(dir, 'bench.yaml'), `name: bench\nowner: ops@example.com\ntrigger: manual\nsteps:\n${steps}`);
writeFileSync(join(dir, 'floor.mjs'), `
import { Agent, request } from ${JSON.stringify(join(ROOT, 'node_modules/undici/index.js'))};
const agent = new Agent({ keepAliveTimeout: 10000 });
let prev = '';
for (let i = 0; i < 20; i++) {
  const res = i % 2 === 0
    ? await request('${base}/items/' + i, { dispatcher: agent })
    : await request('${base}/items', { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', 'idempotency-key': 'k' + i }, body: JSON.stringify({ n: i, prev }) });
  prev = (await res.body.json()).path;
}
await agent.close();
`);

/** Times each command once per round, rounds interleaved so a change in machine load hits all alike. */
function interleaved(commands, rounds) {
  const samples = commands.map(() => []);
  for (let r = 0; r < rounds; r++) {
    commands.forEach((args, i) => {
      const t = process.hrtime.bigint();
      const res = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      if (res.status !== 0) throw new Error(`${args.join(' ')} failed: ${res.stdout}${res.stderr}`);
      samples[i].push(Number(process.hrtime.bigint() - t) / 1e6);
    });
  }
  return samples.map((s) => s.sort((a, b) => a - b)[Math.floor(s.length / 2)]);
}

const fluxArgs = [join(ROOT, 'bin/flux.js'), 'run', 'bench.yaml', '--log-dir', join(dir, 'logs')];
const floorArgs = [join(dir, 'floor.mjs')];
// flux run compiles undici's WebAssembly parser with the baseline compiler only (it exits
// ~150 ms sooner); the same setting on the floor shows flux's own overhead.
const liftoffArgs = ['--liftoff-only', join(dir, 'floor.mjs')];
interleaved([fluxArgs, floorArgs], 1); // warm-up
const [flux, floor, floorLiftoff] = interleaved([fluxArgs, floorArgs, liftoffArgs], runs);
console.log(`20 sequential HTTP steps, ${runs} interleaved rounds, medians of whole processes`);
console.log(`flux run: ${flux.toFixed(0)} ms`);
console.log(`floor, plain undici script: ${floor.toFixed(0)} ms -> ratio ${(flux / floor).toFixed(2)}x (goal <= 1.3x)`);
console.log(`floor with --liftoff-only, as flux runs: ${floorLiftoff.toFixed(0)} ms -> ratio ${(flux / floorLiftoff).toFixed(2)}x`);
server.kill();
rmSync(dir, { recursive: true, force: true });

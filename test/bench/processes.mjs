// What the daemon benchmarks share: spawning a real `flux daemon` (port 0, its printed URL),
// a helper server script as its own process (its printed port), autocannon from its own
// process (its JSON result), and reading the daemon's store from outside.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin/flux.js');
const AUTOCANNON = join(ROOT, 'node_modules/autocannon/autocannon.js');

/** Spawns `node script ...args`; resolves with the port it prints first. */
export async function spawnServer(script, args = [], nodeFlags = []) {
  const child = spawn(process.execPath, [...nodeFlags, join(ROOT, 'test/bench', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(\d+)\n/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before listening`)));
  });
  const lines = [];
  child.stdout.on('data', (d) => lines.push(...String(d).split('\n').filter(Boolean)));
  return { child, port, url: `http://127.0.0.1:${port}`, lines, stop: () => stop(child) };
}

/**
 * Spawns `flux daemon` in `cwd`; resolves once it prints its URL. Every line it prints is
 * kept (its stdout must be drained, or it would block on a full pipe). The benchmarks'
 * workflows have no escalation connection, so the daemon is told to serve them anyway.
 */
export async function spawnDaemon(cwd, args, env = {}, nodeFlags = []) {
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeFlags, BIN, 'daemon', ...args, '--allow-silent'], {
    cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    const text = partial + d;
    const parts = text.split('\n');
    partial = parts.pop();
    lines.push(...parts);
  });
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise((resolve, reject) => {
    const check = setInterval(() => {
      const m = lines.map((l) => /listening on (http:\/\/\S+)/.exec(l)).find(Boolean);
      if (m) {
        clearInterval(check);
        resolve(m[1]);
      }
    }, 2);
    void exited.then(({ code }) => {
      clearInterval(check);
      reject(new Error(`flux daemon exited (${code}) before listening:\n${lines.join('\n')}\n${stderr}`));
    });
  });
  return { child, url, lines, exited, startedMs: performance.now() - started, stop: () => stop(child) };
}

/** SIGTERM, then the exit. */
export async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Runs autocannon in its own process against `url` for `seconds` or `amount` requests; resolves with its JSON result. */
export function autocannon(url, { connections, seconds, amount, body, headers = {} }) {
  const args = [AUTOCANNON, '-c', String(connections), ...(amount ? ['-a', String(amount)] : ['-d', String(seconds)]), '-m', 'POST', '-b', body, '--json', '-t', '30'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  args.push(url);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => child.once('exit', (code) => {
    if (code !== 0) reject(new Error(`autocannon exited ${code}: ${err}`));
    else resolve(JSON.parse(out));
  }));
}

/** The count of answers with `status` in an autocannon result. */
export function statusCount(result, status) {
  return result.statusCodeStats?.[String(status)]?.count ?? 0;
}

/** The p99 of a list of numbers. */
export function p99(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
}

/** The loop-delay p99s the daemon logged (FLUX_DEBUG_LOOP_DELAY=1) between line indexes. */
export function loopDelays(lines, from, to = lines.length) {
  return lines.slice(from, to).map((l) => /event loop delay over \d+ ms: p50 [\d.]+ ms, p99 ([\d.]+) ms/.exec(l)).filter(Boolean).map((m) => Number(m[1]));
}

/**
 * CPU time (user + system, all threads) a process has used so far, in ms, from /proc (Linux;
 * NaN elsewhere). Per request it shows where a setup spends, whatever else the machine runs.
 */
export function cpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks of 10 ms (USER_HZ 100 on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** The benchmarks' run workload: a manual workflow of three HTTP steps against `downstream`, each using the previous step's output. */
export function threeStepWorkflow(downstream) {
  return `name: sync
owner: ops@example.com
trigger: manual
steps:
  - id: fetch
    uses: http
    with: { url: "${downstream}/customers/42" }
  - id: transform
    uses: http
    with: { url: "${downstream}/transform", method: POST, json: { ok: "\${{ steps.fetch.output.body.ok }}", n: "\${{ event.n }}" } }
  - id: push
    uses: http
    with: { url: "${downstream}/push", method: POST, json: { ok: "\${{ steps.transform.output.body.ok }}" } }
`;
}

/** The benchmarks' intake workload: a webhook workflow at /hooks/intake whose one step posts to `downstream` + `stepPath`. */
export function intakeWorkflow(downstream, stepPath) {
  return `name: intake
owner: ops@example.com
trigger:
  webhook: { path: /hooks/intake }
steps:
  - id: notify
    uses: http
    with: { url: "${downstream}${stepPath}", method: POST, json: { email: "\${{ event.lead.email }}" } }
`;
}

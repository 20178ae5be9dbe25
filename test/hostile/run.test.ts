// `flux run` against hostile events, command lines, log locations, signals and servers: each
// row is held to the whole contract (bounded time, the exit code, no stack trace, whole run
// logs with one run.started and one run.finished, no secret shown) plus its own outcome.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-server.js';
import { expectContract, head, readLogs, unprivilegedUser, workspace } from './harness.js';
import { startHostileServer, TERMINAL_ATTACK, type HostileServer } from './hostile-server.js';

let hostile: HostileServer;
let server: TestServer;
const w = workspace();
const LOGS = join(w.dir, '.flux/logs');

beforeAll(async () => {
  hostile = await startHostileServer();
  server = await startTestServer();
  w.write('echo.yaml', `${head('echo')}steps:\n  - id: keep\n    set: { event: "\${{ event }}" }\n`);
  w.write('wait.yaml', `${head('waiting')}steps:\n  - id: first\n    set: { ok: true }\n  - id: nap\n    wait: 30s\n`);
});
afterAll(async () => {
  await hostile.close();
  await server.close();
});

function records(o: { logs: ReadonlyMap<string, readonly Record<string, unknown>[]> }): Record<string, unknown>[] {
  return [...o.logs.values()].flat();
}

function finishedStatus(o: { logs: ReadonlyMap<string, readonly Record<string, unknown>[]> }): unknown[] {
  return records(o).filter((r) => r.type === 'run.finished').map((r) => r.status);
}

describe('hostile events and command lines', () => {
  const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

  it.each([
    { name: 'an event nested 5,000 levels deep', args: ['--event', deep(5000)], message: 'the event nests deeper than 64 levels' },
    { name: 'an event nested 100,000 levels deep, from a file', file: deep(100_000), message: 'the event nests deeper than 64 levels' },
    { name: 'an event of 2 MiB, from a file', file: JSON.stringify({ blob: 'x'.repeat(2 * 1024 * 1024) }), message: 'is larger than 1 MiB' },
    { name: 'an event of 2 MiB on standard input', args: ['--event', '-'], input: JSON.stringify({ blob: 'x'.repeat(2 * 1024 * 1024) }), message: 'the event in standard input is larger than 1 MiB' },
    { name: 'an event of 300,000 small fields', file: JSON.stringify(Object.fromEntries(Array.from({ length: 300_000 }, (_, i) => [`k${i}`, i]))), message: 'is larger than 1 MiB' },
    { name: 'a list nested 65 levels deep inside a field', args: ['--set', `list=${'['.repeat(65)}${']'.repeat(65)}`], message: 'the event nests deeper than 64 levels' },
  ])('refuses $name: exit 2, recorded rejected', async ({ args, file, input, message }) => {
    const eventArgs = file !== undefined ? ['--event', `@${w.write(`event-${file.length}.json`, file)}`] : args!;
    const o = await expectContract({ args: ['run', 'echo.yaml', ...eventArgs], cwd: w.dir, input, exit: 2, withinMs: 15_000, logDir: LOGS });
    expect(o.stdout + o.stderr).toContain(message);
    expect(finishedStatus(o).at(-1)).toBe('rejected');
  });

  it('keeps __proto__ and constructor keys from --set as plain data', async () => {
    for (const set of ['__proto__.polluted=yes', 'constructor.prototype.x=1', 'prototype=2']) {
      const o = await expectContract({ args: ['run', 'echo.yaml', '--set', set, '--json'], cwd: w.dir, exit: 0, withinMs: 10_000, logDir: LOGS });
      const result = JSON.parse(o.stdout) as { status: string };
      expect(result.status).toBe('succeeded');
      expect(o.stderr).not.toContain('NOT SUPPORTED');
      const kept = records(o).filter((r) => r.type === 'step.finished').at(-1)?.output as Record<string, unknown>;
      const [path, value] = set.split('=') as [string, string];
      let at: unknown = kept.event;
      for (const key of path.split('.')) {
        expect(Object.hasOwn(at as object, key), `${set}: ${JSON.stringify(kept)}`).toBe(true);
        at = (at as Record<string, unknown>)[key];
      }
      expect(String(at)).toBe(value);
    }
  });

  it('reads steps, secrets and settings named constructor or __proto__ as plain names', async () => {
    w.write('names.yaml', `${head('names')}secrets: [constructor, __proto__]\nenv: { toString: "t", hasOwnProperty: "h" }\nsteps:\n  - id: constructor\n    set: { a: 1 }\n  - id: b\n    set: { x: "\${{ steps.constructor.output.a }}", s: "\${{ secrets.constructor + secrets.__proto__ }}", e: "\${{ env.toString + env.hasOwnProperty }}" }\n`);
    const o = await expectContract({ args: ['run', 'names.yaml', '--json'], cwd: w.dir, env: { constructor: 'first-secret', ['__proto__']: 'second-secret' }, exit: 0, withinMs: 10_000, logDir: LOGS, secrets: ['first-secret', 'second-secret'] });
    const b = records(o).find((r) => r.type === 'step.finished' && r.step === 'b')?.output;
    expect(b).toEqual({ x: 1, s: '***', e: 'th' });
  });

  it.each([
    { name: 'a FIFO', make: (p: string) => execFileSync('mkfifo', [p]), message: 'is not a regular file' },
    { name: 'a symlink to /dev/zero', make: (p: string) => symlinkSync('/dev/zero', p), message: 'is not a regular file' },
    { name: 'a symlink loop', make: (p: string) => symlinkSync(p, p), message: 'symlink loop (ELOOP)' },
    { name: 'a missing file', make: () => {}, message: 'no such file' },
  ])('refuses an --event @file that is $name, without hanging', async ({ make, message }) => {
    const name = `event-${Math.random().toString(36).slice(2)}.json`;
    make(join(w.dir, name));
    const o = await expectContract({ args: ['run', 'echo.yaml', '--event', `@${name}`], cwd: w.dir, exit: 2, withinMs: 10_000 });
    expect(o.stderr).toContain(message);
  });

  it('flux with no arguments is a usage error: help on stderr, exit 2', async () => {
    const o = await expectContract({ args: [], cwd: w.dir, exit: 2, withinMs: 10_000 });
    expect(o.stderr).toContain('Usage: flux');
    expect(o.stdout).toBe('');
  });
});

describe('hostile log locations', () => {
  it('refuses a --log-dir that is a file before any step runs (exit 2)', async () => {
    const file = w.write('not-a-dir', 'x');
    const before = hostile.seen.length;
    w.write('call.yaml', `${head('call')}steps:\n  - id: get\n    uses: http\n    with: { url: "${hostile.url}/status" }\n`);
    const o = await expectContract({ args: ['run', 'call.yaml', '--log-dir', file], cwd: w.dir, exit: 2, withinMs: 10_000 });
    expect(o.stderr).toMatch(/cannot write the run log not-a-dir\/call\/\w+\.jsonl: a part of the path is a file, not a directory/);
    expect(hostile.seen.length).toBe(before);
  });

  it('refuses a --log-dir it may not write (exit 2), as an unprivileged user', async () => {
    const user = unprivilegedUser();
    const ws = workspace();
    chmodSync(ws.dir, 0o755);
    ws.write('call.yaml', `${head('call')}steps:\n  - id: s\n    set: { ok: true }\n`);
    mkdirSync(join(ws.dir, 'locked'), { mode: 0o555 });
    chmodSync(join(ws.dir, 'locked'), 0o555);
    const o = await expectContract({ args: ['run', 'call.yaml', '--log-dir', 'locked'], cwd: ws.dir, exit: 2, withinMs: 10_000, user });
    expect(o.stderr).toMatch(/cannot write the run log locked\/call\/\w+\.jsonl: permission denied/);
  });

  it('on a full disk: the run stops, fails, tells its owner, says where, and leaves only whole records', async () => {
    if (process.getuid?.() !== 0) throw new Error('the full-disk case mounts a small tmpfs and needs root');
    const ws = workspace();
    const mount = join(ws.dir, 'small');
    mkdirSync(mount);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount]);
    try {
      server.script('POST /hook', { status: 200, body: { ok: true } });
      ws.write('fill.yaml', `${head('fill')}connections:\n  chat: { base_url: "${server.url}" }\non_error:\n  escalate: { uses: chat.request, with: { path: /hook, method: POST } }\nsteps:\n  - id: each\n    foreach:\n      items: \${{ event.items }}\n      steps:\n        - id: pad\n          set: { text: "\${{ event.pad }}" }\n  - id: after\n    uses: chat.request\n    with: { path: /after, method: POST }\n`);
      const event = JSON.stringify({ items: Array.from({ length: 300 }, (_, i) => i), pad: 'p'.repeat(1000) });
      const o = await expectContract({ args: ['run', 'fill.yaml', '--log-dir', 'small', '--event', `@${ws.write('fill.json', event)}`], cwd: ws.dir, exit: 1, withinMs: 20_000 });
      expect(o.stderr).toMatch(/cannot write the run log small\/fill\/\w+\.jsonl: no space left on the device/);
      expect(o.stdout).toMatch(/owner was notified through chat\.request/);
      const hook = server.received.filter((r) => r.path === '/hook');
      expect(hook).toHaveLength(1);
      expect(hook[0]!.body).toContain('no space left on the device');
      expect(server.received.some((r) => r.path === '/after')).toBe(false);
      const text = readFileSync(join(mount, 'fill', readdirSync(join(mount, 'fill'))[0]!), 'utf8');
      expect(text.endsWith('\n')).toBe(true);
      for (const line of text.split('\n').slice(0, -1)) expect(() => JSON.parse(line) as unknown).not.toThrow();
    } finally {
      execFileSync('umount', [mount]);
    }
  });
});

describe('signals', () => {
  it.each(['SIGHUP', 'SIGTERM', 'SIGINT'] as const)('%s mid-run ends the run cancelled and recorded (exit 1)', async (send) => {
    const logDir = join(w.dir, `.flux/logs-${send}`);
    const o = await expectContract({ args: ['run', 'wait.yaml', '--log-dir', logDir], cwd: w.dir, exit: 1, withinMs: 15_000, logDir, signal: { when: 'nap started', send } });
    expect(finishedStatus(o)).toEqual(['cancelled']);
  });
});

describe('a server that attacks the terminal', () => {
  it('shows its error body with control characters escaped, piped or not', async () => {
    w.write('ansi.yaml', `${head('ansi')}steps:\n  - id: get\n    uses: http\n    with: { url: "${hostile.url}/ansi?status=500" }\n`);
    for (const env of [{}, { FORCE_COLOR: '1', NO_COLOR: '' }] as Record<string, string>[]) {
      const o = await expectContract({ args: ['run', 'ansi.yaml'], cwd: w.dir, env, exit: 1, withinMs: 10_000, logDir: LOGS });
      const shown = o.stdout + o.stderr;
      expect(shown).not.toContain('\u0007');
      expect(shown).not.toContain('\u001b]');
      expect(shown).not.toContain('\u001b[2J');
      expect(shown).toContain('\\e]0;pwned\\x07');
    }
    expect(TERMINAL_ATTACK).toContain('\u001b[2J');
  });
});

describe('dry runs', () => {
  it('write a run log whose run.started says dry_run, and send nothing', async () => {
    const before = hostile.seen.length;
    w.write('dry.yaml', `${head('dry')}steps:\n  - id: post\n    uses: http\n    with: { url: "${hostile.url}/status", method: POST, json: { a: 1 } }\n`);
    const logDir = join(w.dir, '.flux/logs-dry');
    const o = await expectContract({ args: ['run', 'dry.yaml', '--dry-run', '--log-dir', '.flux/logs-dry'], cwd: w.dir, exit: 0, withinMs: 10_000, logDir });
    expect(records(o).find((r) => r.type === 'run.started')?.dry_run).toBe(true);
    expect(o.stdout).toMatch(/log: \.flux\/logs-dry\/dry\/\w+\.jsonl/);
    expect(hostile.seen.length).toBe(before);
    expect(readLogs(logDir).logs.size).toBe(1);
  });
});

// Hostile expressions and data against the real `flux run`: each row is one input an attacker
// controls (the event) or a workflow author might write by mistake, held to the contract of
// harness.ts (bounded time, exit code, no stack trace, one whole run per log) and to its own
// outcome. Before the fixes these stalled for minutes, exhausted memory, crashed with a stack
// overflow or "unsupported type", or recorded a cancelled run as succeeded.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../helpers.js';
import { expectContract, head, readLogs, workspace, type Outcome } from './harness.js';

type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

interface Row {
  readonly name: string;
  /** The workflow's steps; YAML is a superset of JSON, so they are written as JSON. */
  readonly steps: readonly Json[];
  /** The event, written to a file and passed with `--event @file`: raw text, so keys such as `__proto__` survive. */
  readonly event: string;
  readonly exit: number;
  readonly withinMs?: number;
  /** Whether the run writes a log (a workflow that fails lint never starts). */
  readonly logs?: boolean;
  readonly check: (o: Outcome, records: readonly Record<string, unknown>[]) => void;
}

const ATTACK = `${'a'.repeat(30)}!`;

function list(n: number): string {
  return `[${Array.from({ length: n }, (_, i) => i).join(', ')}]`;
}

function nestedMaps(depth: number): string {
  let source = `a${depth - 1}`;
  for (let i = depth - 1; i >= 0; i--) source = `${list(10)}.map(a${i}, ${source})`;
  return source;
}

function bindBomb(): string {
  // Each level concatenates the one before ten times: 10^8 characters without any loop.
  let source = 'x7';
  for (let i = 6; i >= 0; i--) source = `cel.bind(x${i + 1}, ${Array.from({ length: 10 }, () => `x${i}`).join(' + ')}, ${source})`;
  return `cel.bind(x0, "aaaaaaaaaa", ${source})`;
}

function deepEvent(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

function output(records: readonly Record<string, unknown>[], step: string): unknown {
  return records.find((r) => r.type === 'step.finished' && r.step === step)?.output;
}

function runFinished(records: readonly Record<string, unknown>[]): Record<string, unknown> | undefined {
  return records.find((r) => r.type === 'run.finished');
}

/** The run failed, and its recorded error (as the terminal shows it) says `text`. */
function failedWith(text: string) {
  return (o: Outcome, records: readonly Record<string, unknown>[]) => {
    const finished = runFinished(records);
    expect(finished?.status).toBe('failed');
    expect(String((finished?.error as { message?: unknown } | undefined)?.message)).toContain(text);
    expect(o.stdout + o.stderr).toContain(text);
  };
}

const redos = (pattern: string, text: string): Row => ({
  name: `ReDoS pattern \`${pattern}\` against attacker input, literal and from the event`,
  steps: [{ id: 'probe', set: { literal: `\${{ event.text.matches(${JSON.stringify(pattern)}) }}`, dynamic: '${{ event.text.matches(event.pattern) }}' } }],
  event: JSON.stringify({ text, pattern }),
  exit: 0,
  check: (_o, records) => expect(output(records, 'probe')).toEqual({ literal: false, dynamic: false }),
});

const ROWS: readonly Row[] = [
  redos('(a+)+$', ATTACK),
  redos('(a|aa)+$', ATTACK),
  redos('(.*a){20}$', `${'a'.repeat(19)}!`),
  {
    name: 'a literal pattern RE2 does not support: refused before the run, naming the pattern',
    steps: [{ id: 'probe', set: { m: '${{ event.text.matches("(a)\\\\1") }}' } }],
    event: '{"text": "aa"}',
    exit: 2,
    logs: false,
    check: (o) => expect(o.stderr).toContain('invalid regular expression `(a)\\1`: invalid escape sequence'),
  },
  {
    name: 'a pattern from the event that RE2 does not support (lookahead): the step fails, naming it',
    steps: [{ id: 'probe', set: { m: '${{ event.text.matches(event.pattern) }}' } }],
    event: '{"text": "aa", "pattern": "a(?=a)"}',
    exit: 1,
    check: failedWith('invalid regular expression `a(?=a)`'),
  },
  {
    name: 'eight nested maps (10^8 elements): stopped at the time limit',
    steps: [{ id: 'bomb', set: { v: `\${{ ${nestedMaps(8)} }}` } }],
    event: '{}',
    exit: 1,
    check: failedWith('ran longer than 1000 ms, the time limit of one expression'),
  },
  {
    name: 'duration() of a long attacker string (cel-js parses it in cubic time): stopped at the time limit',
    steps: [{ id: 'parse', set: { s: '${{ duration(event.d).getSeconds() }}' } }],
    event: JSON.stringify({ d: '1'.repeat(5000) }),
    exit: 1,
    check: failedWith('ran longer than 1000 ms, the time limit of one expression'),
  },
  {
    name: 'a list grown from the event past the size limit',
    steps: [{ id: 'grow', set: { v: '${{ event.items.map(a, event.items.map(b, event.items)) }}' } }],
    event: JSON.stringify({ items: Array.from({ length: 101 }, (_, i) => i) }),
    exit: 1,
    check: failedWith('more than 1000000 list elements and map entries'),
  },
  {
    name: 'a string doubled with cel.bind past the size limit',
    steps: [{ id: 'grow', set: { v: `\${{ ${bindBomb()} }}` } }],
    event: '{}',
    exit: 1,
    check: failedWith('more than 10485760 characters of text'),
  },
  {
    name: '`__proto__` and `constructor` keys in the event are data',
    steps: [
      { id: 'read', if: '${{ event.constructor.prototype.x == 1 && event["__proto__"].polluted == "yes" }}', set: { copy: '${{ event }}', proto: '${{ event["__proto__"] }}' } },
      { id: 'again', set: { x: '${{ steps.read.output.copy.constructor.prototype.x + 1 }}' } },
    ],
    event: '{"constructor": {"prototype": {"x": 1}}, "__proto__": {"polluted": "yes"}}',
    exit: 0,
    check: (_o, records) => {
      const read = output(records, 'read');
      expect(JSON.stringify(read)).toBe('{"copy":{"constructor":{"prototype":{"x":1}},"__proto__":{"polluted":"yes"}},"proto":{"polluted":"yes"}}');
      expect(output(records, 'again')).toEqual({ x: 2 });
    },
  },
];

describe('hostile expressions through flux run', () => {
  it.each(ROWS)('$name', async (row) => {
    const ws = workspace();
    ws.write('wf.yaml', `${head('hostile')}steps: ${JSON.stringify(row.steps)}\n`);
    ws.write('event.json', row.event);
    const logDir = join(ws.dir, 'logs');
    const o = await expectContract({
      args: ['run', 'wf.yaml', '--event', '@event.json', '--log-dir', logDir],
      cwd: ws.dir, exit: row.exit, withinMs: row.withinMs ?? 20_000, ...(row.logs === false ? {} : { logDir }),
    });
    if (row.logs === false) expect(o.logs.size).toBe(0);
    row.check(o, [...o.logs.values()][0] ?? []);
  }, 30_000);

  it('an event nested 5,000 levels deep is refused with a message, not a stack overflow', async () => {
    const ws = workspace();
    ws.write('wf.yaml', `${head('hostile')}steps: [{"id": "read", "set": {"v": "\${{ event }}"}}]\n`);
    ws.write('event.json', deepEvent(5000));
    const logDir = join(ws.dir, 'logs');
    // Refused before the run starts (exit 2). Whether a run log is written depends on which
    // layer refuses it (the CLI refuses deep events before starting a run); the contract still
    // checks any log there is for whole runs.
    const o = await expectContract({ args: ['run', 'wf.yaml', '--event', '@event.json', '--log-dir', logDir], cwd: ws.dir, exit: 2, withinMs: 20_000 });
    expect(o.stdout + o.stderr).toMatch(/nested|deep/i);
    const { logs } = readLogs(logDir);
    for (const records of logs.values()) expect(runFinished(records)?.status).toBe('rejected');
  }, 30_000);
});

describe('cancellation reaches a run whatever it is doing', () => {
  it('SIGINT during a long loop of synchronous steps: exit 1, recorded cancelled', async () => {
    const ws = workspace();
    ws.write('wf.yaml', `${head('hostile')}steps: ${JSON.stringify([
      { id: 'loop', foreach: { items: '${{ event.items }}', steps: [{ id: 'work', set: { n: '${{ item * 2 }}', ok: '${{ string(item).matches("^[0-9]+$") }}' } }] } },
    ])}\n`);
    ws.write('event.json', JSON.stringify({ items: Array.from({ length: 150_000 }, (_, i) => i) })); // under the 1 MiB event bound
    const logDir = join(ws.dir, 'logs');
    const child = spawn(process.execPath, [BIN, 'run', 'wf.yaml', '--event', '@event.json', '--log-dir', logDir], {
      cwd: ws.dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interruptedAt: number | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      // Interrupt once the loop has started, as a user pressing Ctrl-C would.
      if (interruptedAt === undefined && stdout.includes('loop started')) {
        interruptedAt = performance.now();
        child.kill('SIGINT');
      }
    });
    // A kill bound, not a benchmark: without the fix the run goes on through all 150,000 items.
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    clearTimeout(killer);
    const context = `--- stdout\n${stdout.slice(-2000)}\n--- stderr\n${stderr}`;
    expect(interruptedAt, context).toBeDefined();
    expect(signal, context).toBeNull();
    expect(code, context).toBe(1);
    expect(performance.now() - interruptedAt!, 'time from SIGINT to exit').toBeLessThan(10_000);
    expect(stdout + stderr).not.toMatch(/\n\s+at .+[:(].*\d+:\d+\)?/);
    const { logs } = readLogs(logDir);
    expect(logs.size).toBe(1);
    const records = [...logs.values()][0]!;
    expect(records.filter((r) => r.type === 'run.finished')).toEqual([expect.objectContaining({ status: 'cancelled' })]);
    expect(records.filter((r) => r.type === 'step.finished' && r.step === 'work').length).toBeLessThan(200_000);
  }, 70_000);
});

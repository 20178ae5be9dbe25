// The contract every hostile case is held to: the real `flux` binary, spawned, finishes within
// a bound (it is killed and the case fails otherwise), exits with the code the contract names
// (never 3, the internal-fault code), prints no stack trace, leaves a run log whose every run
// has exactly one `run.started` and one `run.finished`, and shows no secret anywhere.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect, vi } from 'vitest';
import { BIN } from '../helpers.js';

// Each case carries its own, tighter wall-clock bound (`withinMs`, enforced by a kill); the
// runner's default of 5 s must not cut a case short first and hide which bound was broken.
vi.setConfig({ testTimeout: 60_000 });

export interface HostileCase {
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  /** The exit code (or codes) the contract gives this input. */
  readonly exit: number | readonly number[];
  /** Wall-clock bound for the whole process; it is killed past this. */
  readonly withinMs: number;
  /** Values that must appear in no output and no log file. */
  readonly secrets?: readonly string[];
  /** The log directory to check for whole runs; omit for commands that write no run log. */
  readonly logDir?: string;
  /** Send a signal once stdout shows a text (e.g. a step has started). */
  readonly signal?: { readonly when: string; readonly send: NodeJS.Signals };
  /** Run as this user (root drops to `nobody`, see unprivilegedUser), for permission cases root would pass. */
  readonly user?: { readonly uid: number; readonly gid: number } | undefined;
}

export interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly killed: boolean;
  readonly signalled: boolean;
  /** Every record of every run log under logDir, by file. */
  readonly logs: ReadonlyMap<string, readonly Record<string, unknown>[]>;
  /** The raw text of those files, for secret checks. */
  readonly logText: string;
}

/** Spawns flux for a case and returns what happened; never hangs past `withinMs` (+ a kill). */
export function spawnFlux(c: HostileCase): Promise<Outcome> {
  const started = performance.now();
  const child = spawn(process.execPath, [BIN, ...c.args], {
    cwd: c.cwd,
    env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...c.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(c.user ? { uid: c.user.uid, gid: c.user.gid } : {}),
  });
  let stdout = '';
  let stderr = '';
  let killed = false;
  let signalled = false;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (c.signal && !signalled && stdout.includes(c.signal.when)) {
      signalled = true;
      child.kill(c.signal.send);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => {});
  child.stdin.end(c.input ?? '');
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, c.withinMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const { logs, logText } = c.logDir ? readLogs(c.logDir) : { logs: new Map(), logText: '' };
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, ms: performance.now() - started, killed, signalled, logs, logText });
    });
  });
}

/** Runs a case and asserts the whole contract; returns the outcome for case-specific checks. */
export async function expectContract(c: HostileCase): Promise<Outcome> {
  const o = await spawnFlux(c);
  const context = `flux ${c.args.join(' ')}\n--- stdout\n${o.stdout}\n--- stderr\n${o.stderr}`;
  expect(o.killed, `did not finish within ${c.withinMs} ms: ${context}`).toBe(false);
  if (c.signal) expect(o.signalled, `never saw ${JSON.stringify(c.signal.when)} to send ${c.signal.send}: ${context}`).toBe(true);
  expect(o.code, `internal fault: ${context}`).not.toBe(3);
  const allowed = typeof c.exit === 'number' ? [c.exit] : c.exit;
  expect(allowed, `exit code ${o.code}: ${context}`).toContain(o.code);
  expect(`${o.stdout}${o.stderr}`, 'a stack trace').not.toMatch(/\n\s+at .+[:(].*\d+:\d+\)?/);
  expect(o.stderr, 'an internal error').not.toMatch(/internal error|report it as a bug/);
  if (c.logDir) {
    expect(o.logs.size, `no run log under ${c.logDir}: ${context}`).toBeGreaterThan(0);
    for (const [file, records] of o.logs) {
      const types = records.map((r) => r.type);
      expect(types.filter((t) => t === 'run.started'), `${file}: run.started`).toHaveLength(1);
      expect(types.filter((t) => t === 'run.finished'), `${file}: run.finished`).toHaveLength(1);
      expect(types.at(-1), `${file}: last record`).toBe('run.finished');
    }
  }
  for (const secret of c.secrets ?? []) {
    for (const [name, text] of [['stdout', o.stdout], ['stderr', o.stderr], ['run log', o.logText]] as const) {
      expect(text.includes(secret), `secret ${JSON.stringify(secret)} appears in ${name}:\n${text}`).toBe(false);
    }
  }
  return o;
}

/** The records of one run log; a cut or corrupt line fails the case. */
export function readLogs(dir: string): { logs: Map<string, Record<string, unknown>[]>; logText: string } {
  const logs = new Map<string, Record<string, unknown>[]>();
  let logText = '';
  if (!existsSync(dir)) return { logs, logText };
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.jsonl')) {
        const text = readFileSync(p, 'utf8');
        logText += text;
        const lines = text.split('\n');
        expect(lines.at(-1), `${p} ends with a cut line`).toBe('');
        logs.set(p, lines.slice(0, -1).map((l) => JSON.parse(l) as Record<string, unknown>));
      }
    }
  };
  walk(dir);
  return { logs, logText };
}

/**
 * Who can really not read or write a mode-000 entry. Tests run as root here, and permissions
 * do not apply to root, so permission cases run flux as `nobody` (a non-root test run runs it
 * as itself). Without such a user, or when that user cannot read the checkout, the case
 * cannot be tested honestly and fails, loudly, saying why.
 */
export function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || uid === 0) throw new Error(`nobody is uid ${uid}`);
    // The checkout itself must be readable by that user, or every case fails for the wrong reason.
    execFileSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(BIN)}, require('fs').constants.R_OK)`], { uid, gid, stdio: 'pipe' });
    return { uid, gid };
  } catch (error) {
    throw new Error(`permission cases run flux as an unprivileged user, and none can run it here (as root, mode 000 is readable and writable; \`nobody\` must exist and be able to read ${BIN}): ${String(error)}`);
  }
}

/** A scratch directory with a helper to write files into it. */
export function workspace(prefix = 'flux-hostile-'): { dir: string; write(name: string, text: string | Buffer): string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    write(name, text) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return name;
    },
  };
}

/** The head of a workflow file with its required keys. */
export function head(name: string, extra = ''): string {
  return `name: ${name}\nowner: ops@example.com\ntrigger: manual\n${extra}`;
}

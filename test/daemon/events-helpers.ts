// What the event tests share: a scratch directory with workflow files, a real `flux daemon`
// spawned on port 0 with a test clock, `flux event` spawned, and the state store read from the
// test process (SQLite readers do not block the daemon's writes).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { createConnectors } from '../../src/connectors/index.js';
import { startDaemon as startDaemonService, type Daemon, type DaemonOptions } from '../../src/daemon/daemon.js';
import { createDaemonLog } from '../../src/daemon/log.js';
import { fileClock } from '../../src/engine/test-clock.js';
import { Masker } from '../../src/secrets/masker.js';
import { loadWorkflow } from '../../src/workflow/load.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { BIN } from '../helpers.js';
import { spawnDaemon, type RunningDaemon } from './spawn-daemon.js';

/** The time the test clock starts at. */
export const T0 = Date.parse('2026-11-24T09:00:00.000Z');

export interface Scratch {
  readonly dir: string;
  readonly clockFile: string;
  workflow(name: string, text: string): void;
  setClock(ms: number): void;
}

export function scratch(): Scratch {
  const dir = mkdtempSync(join(tmpdir(), 'flux-events-'));
  mkdirSync(join(dir, 'flows'));
  const clockFile = join(dir, 'clock');
  writeFileSync(clockFile, String(T0));
  return {
    dir,
    clockFile,
    workflow: (name, text) => writeFileSync(join(dir, 'flows', `${name}.yaml`), text),
    setClock: (ms) => writeFileSync(clockFile, String(ms)),
  };
}

export type Running = RunningDaemon;

const children: ChildProcessWithoutNullStreams[] = [];

/** Kills whatever a test left running. */
export function killAll(): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** Starts `flux daemon flows` on a free port; resolves once it listens, or fails with its output. */
export function startDaemon(s: Scratch, env: Record<string, string> = {}, ...extra: string[]): Promise<Running> {
  return spawnDaemon({
    cwd: s.dir, children, args: ['flows', '--state-dir', 'state', '--port', '0', '--lease', '1s', '--grace', '2s', ...extra],
    env: { FLUX_TEST_CLOCK: s.clockFile, ...env },
  });
}

/** Runs `flux event …` in the scratch directory. */
export function fluxEvent(s: Scratch, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return fluxCommand(s, 'event', ...args);
}

/** Runs `flux …` in the scratch directory, on its test clock. */
export function fluxCommand(s: Scratch, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: s.dir, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', FLUX_TEST_CLOCK: s.clockFile },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Opens the scratch directory's state store for reading (close it after). */
export function openState(s: Scratch): Promise<SqliteStore> {
  return openSqliteStore({ path: join(s.dir, 'state', 'flux.db'), now: () => T0 });
}

/**
 * Polls until `read` gives a value `done` accepts, and returns it; after ~10 s it returns the
 * last value read, for the assertion that follows to fail on and show. The daemon is another
 * process: polling the store is how the test sees what it did, not a measure of its speed.
 */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 400 && !done(value); i++) {
    await new Promise((r) => setTimeout(r, 25));
    value = await read();
  }
  return value;
}

/** Rows of a plain SQL query on the state database (or another file of the state directory), as an operator would read it. */
export function sql(s: Scratch, query: string, file = 'flux.db'): Record<string, unknown>[] {
  const db = new Database(join(s.dir, 'state', file), { readonly: true });
  try {
    return db.prepare(query).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

/**
 * Starts the daemon service in this process on `flows/<name>.yaml` of the scratch directory,
 * past the CLI's lint gate, on the scratch test clock. `lines` collects its text log (without
 * the time); `options` overrides the defaults (e.g. maxChainDepth, pollMs).
 */
export async function startServiceOn(s: Scratch, name: string, lines: string[] | null, options: Partial<DaemonOptions> = {}): Promise<Daemon> {
  // The service is handed the workflow directly, as `flux daemon --allow-silent` would serve it.
  const loaded = await loadWorkflow(join(s.dir, 'flows', `${name}.yaml`), `flows/${name}.yaml`, { allowSilent: true });
  if (!loaded.ok) throw new Error(`the ${name} workflow does not load`);
  const clock = fileClock(s.clockFile);
  const write = (line: string): void => void lines?.push(line.replace(/^\S+ /, '').trimEnd());
  return startDaemonService({
    workflows: [{ workflow: loaded.workflow, text: loaded.text }], stateDir: join(s.dir, 'state'), host: '127.0.0.1', port: 0, concurrency: 4, leaseMs: 10_000,
    env: {}, clock, connectors: await createConnectors({ userAgent: 'flux-test' }), logDir: join(s.dir, 'state', 'logs'),
    log: createDaemonLog({ format: 'text', write, now: () => clock.now(), masker: new Masker() }),
    ...options,
  });
}

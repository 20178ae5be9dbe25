// Spawning a real `flux daemon` for tests: on a free port, resolved once it prints where it
// listens, rejected with everything it printed if it exits first. Every spawned child is kept
// in `children`, so a suite's afterEach can kill what a failed test left running.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { BIN } from '../helpers.js';

export interface RunningDaemon {
  readonly child: ChildProcessWithoutNullStreams;
  /** `http://127.0.0.1:PORT`, as the daemon printed it. */
  readonly url: string;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** What it printed on stdout so far (its log, in text format). */
  output(): string;
  stdout(): string;
  stderr(): string;
}

export interface SpawnDaemonOptions {
  readonly cwd: string;
  /** Arguments after `flux daemon`. */
  readonly args: readonly string[];
  /** The whole environment (PATH and NO_COLOR are added). */
  readonly env?: Readonly<Record<string, string>>;
  /** Where the child is kept for cleanup. */
  readonly children: ChildProcessWithoutNullStreams[];
  /**
   * Adds `--allow-silent` (default true): most fixtures are about other things than who hears
   * of a failure, and have no `on_error.escalate`. Tests of escalation set it false.
   */
  readonly allowSilent?: boolean;
}

/** Starts `flux daemon ARGS…`; resolves once it listens. */
export function spawnDaemon(o: SpawnDaemonOptions): Promise<RunningDaemon> {
  const child = spawn(process.execPath, [BIN, 'daemon', ...o.args, ...(o.allowSilent === false ? [] : ['--allow-silent'])], { cwd: o.cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...o.env } });
  o.children.push(child);
  let stdout = '';
  let stderr = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(stdout);
      if (m) resolve({ child, url: m[1]!, exit, output: () => stdout, stdout: () => stdout, stderr: () => stderr });
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    void exit.then(({ code, signal }) => reject(new Error(`the daemon exited (${code ?? signal}) before it listened:\n${stdout}${stderr}`)));
  });
}

/** Kills (SIGKILL) every child still running; for afterEach. */
export function killChildren(children: ChildProcessWithoutNullStreams[]): void {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

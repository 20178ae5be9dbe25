/**
 * What a command may touch of the outside world, injected so tests can run commands in-process.
 */
import { isAbsolute, relative } from 'node:path';

export interface Io {
  readonly stdout: { write(s: string): unknown; isTTY?: boolean };
  readonly stderr: { write(s: string): unknown; isTTY?: boolean };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** One exit-code contract for every command. */
export const ExitCode = {
  ok: 0,
  problems: 1,
  usage: 2,
  internal: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake in how flux was called or in the input it was given: printed without a stack, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * The process's own I/O. A closed pipe (`flux run … | head`) must not crash a run half way:
 * output is for people, the run log is the record, so errors writing to the terminal are
 * ignored and the run finishes and records its outcome.
 */
export function processIo(): Io {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listenerCount('error') === 0) stream.on('error', () => {});
  }
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** A path as messages show it: relative to the working directory when inside it, else absolute. */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** True when output should be coloured: a TTY, and neither NO_COLOR nor --no-color. */
export function useColor(io: Io, stream: 'stdout' | 'stderr', flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0') return true;
  return io[stream].isTTY === true;
}

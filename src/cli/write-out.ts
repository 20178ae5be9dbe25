/**
 * Writing a command's `--out` file: through a temporary file in the same directory and a
 * rename, so a reader never sees half a report and a failed write leaves the old file whole.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { escapeControl } from '../text/escape.js';
import { displayPath, UsageError, type Io } from './io.js';

/** Writes `text` to `path` atomically; a failure is a usage error naming the path. */
export function writeAtomically(path: string, text: string, io: Io): void {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(temp, text, { mode: 0o644 });
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot write --out \`${escapeControl(displayPath(path, io.cwd))}\`: ${code === 'ENOENT' ? 'no such directory' : code === 'EACCES' ? 'permission denied' : code ?? String(error)}`);
  }
}

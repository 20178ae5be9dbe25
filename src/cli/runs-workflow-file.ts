/**
 * Whether the workflow version a run uses is the file on disk now: a run goes on with the
 * version it started with (the store keeps its text by content hash), so after an edit the
 * operator needs to know which one a waiting run will resume on. The store does not know where
 * the daemon read its files from, so the workflows directory is looked in (`--workflows`,
 * default `workflows/` here, as `flux daemon` defaults to), for the file with the run's
 * workflow name; its content hash is compared with the run's.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { expandPaths } from '../lint/files.js';
import { escapeControl } from '../text/escape.js';
import { loadFile } from '../workflow/source.js';
import { displayPath, UsageError, type Io } from './io.js';

/** How the run's version compares with the file on disk. */
export type OnDisk =
  | { readonly kind: 'same' | 'changed'; readonly file: string; readonly hash: string }
  | { readonly kind: 'not-found'; readonly where: string }
  | { readonly kind: 'not-looked'; readonly reason: string };

/** At most this many files are read looking for the workflow. */
const MAX_FILES = 1000;

/** Finds the file of workflow `name` under the workflows directory and compares it with `version`. */
export async function compareWithDisk(name: string, version: string, option: string | undefined, io: Io): Promise<OnDisk> {
  const dir = option === undefined ? join(io.cwd, 'workflows') : isAbsolute(option) ? option : join(io.cwd, option);
  const shown = escapeControl(displayPath(dir, io.cwd));
  if (!existsSync(dir)) {
    if (option !== undefined) throw new UsageError(`--workflows ${shown}: no such file or directory`);
    return { kind: 'not-looked', reason: 'no workflows/ directory here to compare with; pass --workflows' };
  }
  const { files } = await expandPaths([dir]);
  // The file named after the workflow first: it is usually the one.
  const named = files.filter((f) => /\.ya?ml$/i.test(f) && f.replace(/^.*[\\/]/, '').replace(/\.ya?ml$/i, '') === name);
  const candidates = [...named, ...files.filter((f) => !named.includes(f))].slice(0, MAX_FILES);
  for (const file of candidates) {
    const loaded = await loadFile(file);
    if (!loaded.ok || loaded.source.value.name !== name) continue;
    const hash = `sha256:${createHash('sha256').update(loaded.source.text).digest('hex')}`;
    return { kind: hash === version ? 'same' : 'changed', file: escapeControl(displayPath(file, io.cwd)), hash };
  }
  return { kind: 'not-found', where: shown };
}

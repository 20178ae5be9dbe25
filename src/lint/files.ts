/**
 * Which files `flux lint` reads: files as given, directories searched recursively for
 * *.yaml and *.yml, and glob patterns (*, **, ?) for shells that do not expand them.
 */
import { lstat, readdir, stat } from 'node:fs/promises';
import type { Dirent } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describeIoError } from '../workflow/source.js';

const SKIP_DIRS = new Set(['node_modules', '.git', '.flux', 'dist']);
const WORKFLOW_FILE = /\.ya?ml$/i;

/** A directory that could not be listed, so the workflows in it were not checked. */
export interface Unlisted {
  readonly path: string;
  readonly reason: string;
}

export interface Expanded {
  readonly files: string[];
  /** Arguments that matched nothing. */
  readonly missing: string[];
  /** Directories that could not be read: they count as problems, never as "nothing to check". */
  readonly unreadable: Unlisted[];
}

/**
 * Expands paths, directories and globs into a sorted, de-duplicated list of files.
 * Only names are gathered here: whether each file can be read (a FIFO, a socket, a device, a
 * symlink loop) is the loader's call, which stats before it opens, so every such file gets
 * its own diagnostic instead of being skipped.
 */
export async function expandPaths(args: readonly string[]): Promise<Expanded> {
  const files = new Set<string>();
  const missing: string[] = [];
  const unreadable: Unlisted[] = [];
  for (const arg of args) {
    if (/[*?[]/.test(arg)) {
      const before = unreadable.length;
      const matches = await expandGlob(arg, unreadable);
      if (matches.length === 0 && unreadable.length === before) missing.push(arg);
      for (const m of matches) files.add(m);
      continue;
    }
    let info;
    try {
      info = await stat(arg);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Only a name that is not there is "missing"; a loop or a denied parent is the file's own problem.
      if (code === 'ENOENT' || code === 'ENOTDIR') missing.push(arg);
      else files.add(arg);
      continue;
    }
    if (info.isDirectory()) for (const f of await walk(arg, unreadable)) files.add(f);
    else files.add(arg);
  }
  return { files: [...files].sort(), missing, unreadable: unreadable.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)) };
}

async function list(dir: string, unreadable: Unlisted[]): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    // A directory that is gone has nothing to check (a glob's base that does not exist is
    // "no match"); any other failure means workflows went unchecked.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') unreadable.push({ path: dir, reason: describeIoError(error) });
    return [];
  }
}

/** True for a directory entry; asks the file system when readdir did not say (some file systems do not). */
async function isDirectory(e: Dirent, path: string): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (e.isFile() || e.isSymbolicLink() || e.isFIFO() || e.isSocket() || e.isCharacterDevice() || e.isBlockDevice()) return false;
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function walk(dir: string, unreadable: Unlisted[]): Promise<string[]> {
  const out: string[] = [];
  for (const e of await list(dir, unreadable)) {
    const path = join(dir, e.name);
    if (await isDirectory(e, path)) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) out.push(...(await walk(path, unreadable)));
    } else if (WORKFLOW_FILE.test(e.name)) {
      // Links (dangling ones, loops), FIFOs and devices are listed too, so each is reported
      // rather than silently skipped; links to directories are not followed, so no walk loops.
      out.push(path);
    }
  }
  return out;
}

async function expandGlob(pattern: string, unreadable: Unlisted[]): Promise<string[]> {
  const normalized = pattern.split(sep).join('/');
  const segments = normalized.split('/');
  const firstGlob = segments.findIndex((s) => /[*?[]/.test(s));
  const base = segments.slice(0, firstGlob).join('/') || '.';
  const regex = globToRegExp(segments.slice(firstGlob).join('/'));
  const candidates = await walkAll(base, unreadable);
  return candidates.filter((f) => regex.test(relative(base, f).split(sep).join('/')));
}

async function walkAll(dir: string, unreadable: Unlisted[]): Promise<string[]> {
  const out: string[] = [];
  for (const e of await list(dir, unreadable)) {
    const path = join(dir, e.name);
    if (await isDirectory(e, path)) {
      if (!SKIP_DIRS.has(e.name)) out.push(...(await walkAll(path, unreadable)));
    } else out.push(path);
  }
  return out;
}

/** Converts a glob (`**` across folders, `*` and `?` within one, `[abc]` classes) to a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        re += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i);
      if (end === -1) re += '\\[';
      else {
        re += `[${glob.slice(i + 1, end).replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Which files `flux lint` reads: files as given, directories searched recursively for
 * *.yaml and *.yml, and glob patterns (*, **, ?) for shells that do not expand them.
 */
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

const SKIP_DIRS = new Set(['node_modules', '.git', '.flux', 'dist']);
const WORKFLOW_FILE = /\.ya?ml$/i;

export interface Expanded {
  readonly files: string[];
  /** Arguments that matched nothing. */
  readonly missing: string[];
}

/** Expands paths, directories and globs into a sorted, de-duplicated list of files. */
export async function expandPaths(args: readonly string[]): Promise<Expanded> {
  const files = new Set<string>();
  const missing: string[] = [];
  for (const arg of args) {
    if (/[*?[]/.test(arg)) {
      const matches = await expandGlob(arg);
      if (matches.length === 0) missing.push(arg);
      for (const m of matches) files.add(m);
      continue;
    }
    let info;
    try {
      info = await stat(arg);
    } catch {
      missing.push(arg);
      continue;
    }
    if (info.isDirectory()) for (const f of await walk(arg)) files.add(f);
    else files.add(arg);
  }
  return { files: [...files].sort(), missing };
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name) && !e.name.startsWith('.')) out.push(...(await walk(path)));
    } else if ((e.isFile() || e.isSymbolicLink()) && WORKFLOW_FILE.test(e.name)) {
      // Links are listed too, so a dangling one is reported rather than silently skipped.
      out.push(path);
    }
  }
  return out;
}

async function expandGlob(pattern: string): Promise<string[]> {
  const normalized = pattern.split(sep).join('/');
  const segments = normalized.split('/');
  const firstGlob = segments.findIndex((s) => /[*?[]/.test(s));
  const base = segments.slice(0, firstGlob).join('/') || '.';
  const regex = globToRegExp(segments.slice(firstGlob).join('/'));
  const candidates = await walkAll(base);
  return candidates.filter((f) => regex.test(relative(base, f).split(sep).join('/')));
}

async function walkAll(dir: string): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...(await walkAll(path)));
    } else if (e.isFile()) out.push(path);
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

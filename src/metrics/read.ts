/**
 * Reading log files into an aggregator: lines to records to figures, every line that cannot be
 * used counted as a warning with its file and line. A record of a newer format version is
 * counted and warned about once per file (the first line and how many), not once per line.
 */
import type { Aggregator } from './aggregate.js';
import { readLines, readLinesSync, type LineSink } from './lines.js';
import { fastRecord } from './fast-parse.js';
import { KNOWN_VERSION, parseLine } from './parse.js';

/** A file to read, its size, and the name warnings give it (relative to where flux was started). */
export interface FileToRead {
  readonly path: string;
  readonly size: number;
  readonly shown: string;
}

/** Reads `files` into `agg`, in order. */
export async function readFilesInto(agg: Aggregator, files: readonly FileToRead[], fast = true): Promise<void> {
  for (const file of files) await readFileInto(agg, file, fast);
}

/**
 * How a thread of a pool picks its files: the next one not yet claimed from a counter shared
 * by all threads (one Int32 on a SharedArrayBuffer), or, for tests that must know every
 * thread reads some files, a fixed stripe: indices `stripe`, `stripe + of`, ….
 */
export type Claim = { readonly counter: Int32Array } | { readonly stripe: number; readonly of: number };

/**
 * Reads the files of `files` this thread claims into `agg`. With a counter, a thread that is
 * slowed down (another process on its core, a late start) simply reads fewer files, and no
 * thread waits for another at the end. Indices only grow, so each thread reads its files in
 * path order, as one reader does.
 */
export async function readClaimedInto(agg: Aggregator, files: readonly FileToRead[], claim: Claim, fast = true): Promise<void> {
  if ('counter' in claim) {
    const counter = claim.counter;
    for (let i = Atomics.add(counter, 0, 1); i < files.length; i = Atomics.add(counter, 0, 1)) await readFileInto(agg, files[i]!, fast);
  } else {
    for (let i = claim.stripe; i < files.length; i += claim.of) await readFileInto(agg, files[i]!, fast);
  }
}

/** Reads one file into `agg`. A file that cannot be read is a warning, not a failure. */
export async function readFileInto(agg: Aggregator, file: FileToRead, fast = true): Promise<void> {
  const shown = file.shown;
  let newer = 0;
  let newerLine = 0;
  let newest = 0;
  agg.input.files++;
  try {
    const sink: LineSink = {
      line(text, number, unterminated) {
        if (text.length === 0 || (text.charCodeAt(0) !== 123 /* { */ && text.trim() === '')) return;
        // Most lines take the fast path: straight to the aggregator, without a Parsed around it.
        const rec = fast ? fastRecord(text) : null;
        if (rec !== null) {
          agg.record(rec, shown);
          return;
        }
        const parsed = parseLine(text, false);
        if (parsed.kind === 'record') agg.record(parsed.rec, shown);
        else if (parsed.kind === 'newer') {
          if (newer === 0) newerLine = number;
          newer++;
          newest = Math.max(newest, parsed.version);
        } else if (unterminated) {
          agg.warn(shown, number, `a truncated last line (no newline at the end, ${parsed.message}): a write cut short, skipped`);
        } else {
          agg.warn(shown, number, parsed.message);
        }
      },
      problem(number, message) {
        agg.warn(shown, number, message);
      },
    };
    const stats = readLinesSync(file.path, file.size, sink) ?? (await readLines(file.path, sink));
    agg.input.lines += stats.lines;
    agg.input.bytes += stats.bytes;
  } catch (error) {
    agg.warn(shown, null, `cannot read: ${reason(error)}`);
  }
  if (newer > 0) {
    agg.warn(shown, newerLine, `${newer} record${newer === 1 ? '' : 's'} of format version ${newest}, newer than this flux reads (${KNOWN_VERSION}): skipped; upgrade flux to count them`);
  }
  agg.endFile();
}

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e.code === 'Z_DATA_ERROR' || e.code === 'Z_BUF_ERROR') return 'not a valid gzip file, or cut short';
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'ENOENT') return 'the file was removed while reading';
  if (e.code === 'EISDIR') return 'it is a directory';
  return e.code ?? (error instanceof Error ? error.message : String(error));
}

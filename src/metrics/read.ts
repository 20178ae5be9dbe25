/**
 * Reading log files into an aggregator: lines to records to figures, every line that cannot be
 * used counted as a warning with its file and line. A record of a newer format version is
 * counted and warned about once per file (the first line and how many), not once per line.
 */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { Aggregator } from './aggregate.js';
import { readLines, splitLines, type LineSink, type LineStats } from './lines.js';
import { KNOWN_VERSION, parseLine } from './parse.js';

const gunzipAsync = promisify(gunzip);

/** A file to read, its size, and the name warnings give it (relative to where flux was started). */
export interface FileToRead {
  readonly path: string;
  readonly size: number;
  readonly shown: string;
}

/**
 * Files up to this size are read whole (gzipped ones up to a tenth of it), larger ones are
 * streamed. Logs are mostly many small files (one per run), and opening a stream per file
 * cost more than reading it: on 4,439 files (200 MB) reading was idle 1.9 s of 4.7 s waiting
 * for one file at a time.
 */
const WHOLE_MAX = 4 * 1024 * 1024;
/** Small files read ahead while the current one is parsed: at most this many in memory. */
const READ_AHEAD = 8;

type Loaded = { readonly content: Buffer } | { readonly error: unknown } | 'stream';

function load(file: FileToRead): Promise<Loaded> {
  const gz = file.path.endsWith('.gz');
  if (file.size > (gz ? WHOLE_MAX / 10 : WHOLE_MAX)) return Promise.resolve('stream');
  return readFile(file.path)
    .then((raw) => (gz ? gunzipAsync(raw) : raw))
    .then((content) => ({ content }), (error: unknown) => ({ error }));
}

/** Reads `files` into `agg` in order, reading small files ahead while earlier ones are parsed. */
export async function readFilesInto(agg: Aggregator, files: readonly FileToRead[], fast = true): Promise<void> {
  const ahead: Promise<Loaded>[] = [];
  let next = 0;
  for (let i = 0; i < files.length; i++) {
    while (next < files.length && next < i + READ_AHEAD) ahead.push(load(files[next++]!));
    const loaded = await ahead.shift()!;
    await readFileInto(agg, files[i]!, fast, loaded);
  }
}

/** Reads one file into `agg`. A file that cannot be read is a warning, not a failure. */
export async function readFileInto(agg: Aggregator, file: FileToRead, fast = true, loaded: Loaded = 'stream'): Promise<void> {
  const shown = file.shown;
  let newer = 0;
  let newerLine = 0;
  let newest = 0;
  agg.input.files++;
  try {
    const read = (sink: LineSink): Promise<LineStats> | LineStats => {
      if (loaded === 'stream') return readLines(file.path, sink);
      if ('error' in loaded) throw loaded.error;
      return splitLines(loaded.content, sink);
    };
    const stats = await read({
      line(text, number, unterminated) {
        if (text.length === 0 || (text.charCodeAt(0) !== 123 /* { */ && text.trim() === '')) return;
        const parsed = parseLine(text, fast);
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
    });
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

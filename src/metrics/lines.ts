/**
 * Reading a run log line by line, streaming: a plain `.jsonl` or a gzipped `.jsonl.gz`, in
 * chunks, so memory stays flat however large the file. A line longer than the bound is
 * reported and skipped without ever being held whole; a last line without its newline is
 * handed on marked `unterminated`, so the parser can tell a write cut short by a crash.
 */
import { closeSync, createReadStream, openSync, readFileSync, readSync } from 'node:fs';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { Readable } from 'node:stream';

/** Longer lines are skipped with a warning. Records are small: outputs are capped at 16 KiB. */
export const MAX_LINE_BYTES = 1024 * 1024;

/** What the reader tells its caller besides lines. */
export interface LineSink {
  /** One line, without its newline; `unterminated` for a last line that had none. */
  line(text: string, number: number, unterminated: boolean): void;
  /** A line that could not be read (too long). */
  problem(number: number, message: string): void;
}

/** What reading a file came to. */
export interface LineStats {
  readonly lines: number;
  readonly bytes: number;
}

const NEWLINE = 10;

/**
 * Splits bytes into lines as they come, chunk by chunk. Shared by the streaming reader and
 * the whole-file one, so both treat long lines and a missing last newline the same way.
 */
export class LineSplitter {
  private number = 0;
  private bytes = 0;
  // The start of a line that spans chunks; `skipping` once it has passed the bound.
  private carry: Buffer[] = [];
  private carryLength = 0;
  private skipping = false;

  constructor(private readonly sink: LineSink, private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** Feeds the next chunk of the file. */
  push(chunk: Buffer): void {
    const { sink, maxLineBytes } = this;
    this.bytes += chunk.length;
    let start = 0;
    let nl = chunk.indexOf(NEWLINE, start);
    while (nl !== -1) {
      this.number++;
      if (this.skipping) {
        sink.problem(this.number, `line longer than ${maxLineBytes} bytes: skipped`);
        this.skipping = false;
      } else if (this.carryLength > 0) {
        const length = this.carryLength + (nl - start);
        if (length > maxLineBytes) sink.problem(this.number, `line longer than ${maxLineBytes} bytes: skipped`);
        else sink.line(Buffer.concat([...this.carry, chunk.subarray(start, nl)]).toString('utf8'), this.number, false);
      } else if (nl - start > maxLineBytes) {
        sink.problem(this.number, `line longer than ${maxLineBytes} bytes: skipped`);
      } else {
        sink.line(chunk.toString('utf8', start, nl), this.number, false);
      }
      this.carry = [];
      this.carryLength = 0;
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length && !this.skipping) {
      this.carryLength += chunk.length - start;
      if (this.carryLength > maxLineBytes) {
        // Past the bound: drop what is held and skip to the next newline.
        this.skipping = true;
        this.carry = [];
        this.carryLength = 0;
      } else {
        // Copied: a subarray would keep the whole chunk alive.
        this.carry.push(Buffer.from(chunk.subarray(start)));
      }
    }
  }

  /** Ends the file: a last line without a newline is handed on marked unterminated. */
  end(): LineStats {
    if (this.skipping) {
      this.number++;
      this.sink.problem(this.number, `line longer than ${this.maxLineBytes} bytes: skipped (and no newline at the end of the file)`);
    } else if (this.carryLength > 0) {
      this.number++;
      this.sink.line(Buffer.concat(this.carry).toString('utf8'), this.number, true);
    }
    this.skipping = false;
    this.carry = [];
    this.carryLength = 0;
    return { lines: this.number, bytes: this.bytes };
  }
}

/**
 * Streams the lines of `path` to `sink`; resolves when the file is read. Rejects only when the
 * file cannot be opened or decompressed (the caller turns that into a warning).
 */
export async function readLines(path: string, sink: LineSink, maxLineBytes = MAX_LINE_BYTES): Promise<LineStats> {
  const file = createReadStream(path, { highWaterMark: 256 * 1024 });
  let source: Readable = file;
  if (path.endsWith('.gz')) {
    const gunzip = createGunzip();
    file.on('error', (e) => gunzip.destroy(e));
    source = file.pipe(gunzip);
  }
  const splitter = new LineSplitter(sink, maxLineBytes);
  for await (const chunk of source as AsyncIterable<Buffer>) splitter.push(chunk);
  return splitter.end();
}

/** Gzipped files up to this size are decompressed whole (JSON shrinks about 10x); larger ones stream. */
export const GZ_WHOLE_MAX = 2 * 1024 * 1024;
const CHUNK = 256 * 1024;
/** One read buffer for the synchronous reader: lines are copied out of it before the next read. */
let shared: Buffer | undefined;

/**
 * Reads the lines of `path` synchronously, in 256 KiB chunks into one reused buffer; a gzipped
 * file is decompressed whole. For many small files this is several times faster than streams:
 * on 4,439 files an async reader spent longer opening, stat-ing and closing through the event
 * loop than parsing (the benchmark's floor reads the same way). Returns null for a gzipped
 * file over GZ_WHOLE_MAX, which the caller streams with readLines. Throws as readLines rejects.
 */
export function readLinesSync(path: string, size: number, sink: LineSink, maxLineBytes = MAX_LINE_BYTES): LineStats | null {
  const splitter = new LineSplitter(sink, maxLineBytes);
  if (path.endsWith('.gz')) {
    if (size > GZ_WHOLE_MAX) return null;
    splitter.push(gunzipSync(readFileSync(path)));
    return splitter.end();
  }
  shared ??= Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  try {
    for (let n = readSync(fd, shared, 0, CHUNK, null); n > 0; n = readSync(fd, shared, 0, CHUNK, null)) splitter.push(shared.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return splitter.end();
}

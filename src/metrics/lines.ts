/**
 * Reading a run log line by line, streaming: a plain `.jsonl` or a gzipped `.jsonl.gz`, in
 * chunks, so memory stays flat however large the file. A line longer than the bound is
 * reported and skipped without ever being held whole; a last line without its newline is
 * handed on marked `unterminated`, so the parser can tell a write cut short by a crash.
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
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
  let number = 0;
  let bytes = 0;
  // The start of a line that spans chunks; `skipping` once it has passed the bound.
  let carry: Buffer[] = [];
  let carryLength = 0;
  let skipping = false;

  for await (const chunk of source as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    let start = 0;
    let nl = chunk.indexOf(NEWLINE, start);
    while (nl !== -1) {
      number++;
      if (skipping) {
        sink.problem(number, `line longer than ${maxLineBytes} bytes: skipped`);
        skipping = false;
      } else if (carryLength > 0) {
        const length = carryLength + (nl - start);
        if (length > maxLineBytes) sink.problem(number, `line longer than ${maxLineBytes} bytes: skipped`);
        else sink.line(Buffer.concat([...carry, chunk.subarray(start, nl)]).toString('utf8'), number, false);
      } else if (nl - start > maxLineBytes) {
        sink.problem(number, `line longer than ${maxLineBytes} bytes: skipped`);
      } else {
        sink.line(chunk.toString('utf8', start, nl), number, false);
      }
      carry = [];
      carryLength = 0;
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length && !skipping) {
      carryLength += chunk.length - start;
      if (carryLength > maxLineBytes) {
        // Past the bound: drop what is held and skip to the next newline.
        skipping = true;
        carry = [];
        carryLength = 0;
      } else {
        // Copied: a subarray would keep the whole 256 KiB chunk alive.
        carry.push(Buffer.from(chunk.subarray(start)));
      }
    }
  }
  if (skipping) {
    number++;
    sink.problem(number, `line longer than ${maxLineBytes} bytes: skipped (and no newline at the end of the file)`);
  } else if (carryLength > 0) {
    number++;
    sink.line(Buffer.concat(carry).toString('utf8'), number, true);
  }
  return { lines: number, bytes };
}

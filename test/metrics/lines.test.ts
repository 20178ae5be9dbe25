// Streaming lines: plain and gzipped files, chunk boundaries, a line over the bound skipped
// without being held, a last line without a newline, and a file that is not gzip.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { GZ_WHOLE_MAX, readLines, readLinesSync, type LineSink, type LineStats } from '../../src/metrics/lines.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flux-lines-'));
});

/** Reads `path` with the streaming and the synchronous reader; both must see the same. */
async function collect(path: string, max?: number) {
  const run = async (read: (sink: LineSink) => LineStats | null | Promise<LineStats>) => {
    const lines: [number, string, boolean][] = [];
    const problems: [number, string][] = [];
    const stats = await read({ line: (t, n, u) => lines.push([n, t, u]), problem: (n, m) => problems.push([n, m]) });
    return { lines, problems, stats };
  };
  const streamed = await run((sink) => readLines(path, sink, max));
  const read = await run((sink) => readLinesSync(path, statSync(path).size, sink, max));
  expect(read).toEqual(streamed);
  return streamed;
}

describe('readLines', () => {
  it('numbers lines from 1, across chunk boundaries, and marks an unterminated last line', async () => {
    // Lines of 100 KB cross the 256 KiB read chunks.
    const long = 'x'.repeat(100_000);
    const text = `a\n${long}\n\nb${long}\nlast`;
    writeFileSync(join(dir, 'plain.jsonl'), text);
    const r = await collect(join(dir, 'plain.jsonl'));
    expect(r.lines).toEqual([[1, 'a', false], [2, long, false], [3, '', false], [4, `b${long}`, false], [5, 'last', true]]);
    expect(r.problems).toEqual([]);
    expect(r.stats).toEqual({ lines: 5, bytes: Buffer.byteLength(text) });
  });

  it('reads gzip, and multi-byte characters split across chunks', async () => {
    const text = `${'é'.repeat(200_000)}\nzwei ✓\n`;
    writeFileSync(join(dir, 'z.jsonl.gz'), gzipSync(text));
    const r = await collect(join(dir, 'z.jsonl.gz'));
    expect(r.lines).toEqual([[1, 'é'.repeat(200_000), false], [2, 'zwei ✓', false]]);
    expect(r.stats?.bytes).toBe(Buffer.byteLength(text));
  });

  it('skips a line over the bound with a problem, within a chunk, across chunks, and at the end', async () => {
    const text = `ok\n${'y'.repeat(50)}\nfine\n${'z'.repeat(600_000)}\nafter\n${'w'.repeat(300_000)}`;
    writeFileSync(join(dir, 'long.jsonl'), text);
    const r = await collect(join(dir, 'long.jsonl'), 40);
    expect(r.lines).toEqual([[1, 'ok', false], [3, 'fine', false], [5, 'after', false]]);
    expect(r.problems).toEqual([
      [2, 'line longer than 40 bytes: skipped'],
      [4, 'line longer than 40 bytes: skipped'],
      [6, 'line longer than 40 bytes: skipped (and no newline at the end of the file)'],
    ]);
  });

  it('rejects a file that is not gzip, so the caller can warn', async () => {
    const path = join(dir, 'bad.jsonl.gz');
    writeFileSync(path, 'not gzip at all\n');
    const sink: LineSink = { line: () => {}, problem: () => {} };
    await expect(readLines(path, sink)).rejects.toMatchObject({ code: 'Z_DATA_ERROR' });
    expect(() => readLinesSync(path, 16, sink)).toThrow(expect.objectContaining({ code: 'Z_DATA_ERROR' }));
  });

  it('leaves a large gzipped file to the streaming reader', () => {
    expect(readLinesSync(join(dir, 'z.jsonl.gz'), GZ_WHOLE_MAX + 1, { line: () => {}, problem: () => {} })).toBeNull();
  });
});

// The run log on disk: whole lines only, readers tolerate a cut last line and count bad lines.
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capOutput, FileJournal, readRunLog, RUN_LOG_VERSION, type RunRecord } from '../../src/store/run-log.js';

const base = { v: RUN_LOG_VERSION, ts: '2026-11-24T09:00:00.000Z', run_id: 'R1', workflow: 'w', workflow_version: 'sha256:x', owner: 'o@x.io', baseline: null } as const;
const started = { ...base, type: 'run.started', trigger: 'manual', event_sha256: '0'.repeat(64), file: 'w.yaml', dry_run: false } as RunRecord;
const finished = { ...base, type: 'run.finished', status: 'succeeded', duration_ms: 5 } as RunRecord;

describe('run log', () => {
  it('writes one line per record and masks each line', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'flux-log-')), 'w', 'R1.jsonl');
    const journal = new FileJournal(path, (line) => line.replace('manual', 'MASKED'));
    journal.append(started);
    journal.append(finished);
    await journal.close();
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')).toHaveLength(3);
    expect(text.endsWith('\n')).toBe(true);
    expect(text).toContain('"trigger":"MASKED"');
    expect(() => journal.append(finished)).toThrow(/closed/);
  });

  it('reads a log whose last line was cut by a crash', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'flux-log-')), 'cut.jsonl');
    writeFileSync(path, `${JSON.stringify(started)}\n`);
    appendFileSync(path, JSON.stringify(finished).slice(0, 40));
    const log = readRunLog(path);
    expect(log.records).toHaveLength(1);
    expect(log.truncatedTail).toBe(true);
    expect(log.problems).toEqual([]);
  });

  it('counts corrupt lines in the middle instead of skipping them quietly', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'flux-log-')), 'bad.jsonl');
    writeFileSync(path, `${JSON.stringify(started)}\nnot json\n{"no":"type"}\n${JSON.stringify(finished)}\n`);
    const log = readRunLog(path);
    expect(log.records.map((r) => r.type)).toEqual(['run.started', 'run.finished']);
    expect(log.problems.map((p) => p.line)).toEqual([2, 3]);
    expect(log.truncatedTail).toBe(false);
  });

  it('caps large outputs with a preview, without serializing them whole', () => {
    expect(capOutput({ a: 1 })).toEqual({ output: { a: 1 }, truncated: false });
    const big = Array.from({ length: 100_000 }, (_, i) => ({ i }));
    const capped = capOutput(big, 1000);
    expect(capped.truncated).toBe(true);
    expect(typeof capped.output).toBe('string');
    expect((capped.output as string).length).toBeLessThanOrEqual(1001);
    expect((capped.output as string).startsWith('[{"i":0},{"i":1}')).toBe(true);
  });
});

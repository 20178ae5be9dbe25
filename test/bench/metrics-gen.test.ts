// The metrics benchmark's generator and floor, run as real processes on small data sets: the
// same seed gives the same bytes, the records pass its own schema check, the true figures it
// writes to metrics-bench.json equal a recount from the files, the layout is what a user who
// rotates logs has, and the floor counts every line, gzipped archives included.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';

const GEN = join(ROOT, 'test/bench/metrics-gen.mjs');
const FLOOR = join(ROOT, 'test/bench/metrics-floor.mjs');
const STATUSES = ['succeeded', 'failed', 'escalated', 'cancelled', 'rejected'] as const;

interface Truth {
  readonly started: number;
  readonly finished: number;
  readonly unfinished: number;
  readonly mean_duration_ms: number | null;
  readonly [status: string]: unknown;
}
interface Manifest {
  readonly records: number;
  readonly runs: number;
  readonly files: number;
  readonly archives: number;
  readonly singles: number;
  readonly gz: number;
  readonly bytes: number;
  readonly start: string;
  readonly legacy_days: number;
  readonly workflows: Readonly<Record<string, Truth>>;
}
interface Rec {
  readonly type: string;
  readonly ts: string;
  readonly run_id: string;
  readonly workflow: string;
  readonly status?: string;
  readonly duration_ms?: number;
  readonly index?: number[];
  readonly delivered?: boolean;
  readonly received_at?: string;
  readonly method?: string;
  readonly output_truncated?: boolean;
}

function generate(dir: string, size: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [GEN, dir, '--size', size, '--days', '30', ...args], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

/** Every log file under dir (relative path) with its text, gunzipped. */
function files(dir: string): { path: string; text: string }[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.jsonl') || f.endsWith('.jsonl.gz'))
    .sort()
    .map((path) => {
      const raw = readFileSync(join(dir, path));
      return { path, text: (path.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8') };
    });
}

function digest(dir: string): string {
  const h = createHash('sha256');
  for (const f of files(dir)) h.update(`${f.path}\n${f.text}`);
  return h.digest('hex');
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'metrics-bench.json'), 'utf8')) as Manifest;
const temp = () => mkdtempSync(join(tmpdir(), 'flux-metrics-gen-'));

describe('metrics benchmark generator', () => {
  it('gives the same bytes for the same seed, other bytes for another, and passes its own check', () => {
    const [a, b, c] = [temp(), temp(), temp()];
    const out = generate(join(a, 'logs'), '4MB', '--check');
    generate(join(b, 'logs'), '4MB');
    generate(join(c, 'logs'), '4MB', '--seed', '2');
    expect(out).toMatch(/^check: [\d,]+ records in \d+ of \d+ files valid against schemas\/run-log\.schema\.json, keys in flux's order/m);
    expect(digest(join(a, 'logs'))).toBe(digest(join(b, 'logs')));
    expect(digest(join(a, 'logs'))).not.toBe(digest(join(c, 'logs')));
  }, 60_000);

  it('writes true figures that a recount of its files confirms, in the layout of rotated logs', () => {
    // 15 MB is about the least in which every feature below shows up (seed 1).
    const dir = join(temp(), 'logs');
    generate(dir, '15MB');
    const m = manifestOf(dir);
    const all = files(dir);
    const recs = all.flatMap((f) => f.text.trimEnd().split('\n').map((line) => ({ file: f.path, rec: JSON.parse(line) as Rec })));
    expect(recs.length).toBe(m.records);
    expect(all.length).toBe(m.files);
    expect(all.reduce((s, f) => s + Buffer.byteLength(f.text), 0)).toBe(m.bytes);
    expect(m.bytes).toBeGreaterThan(13e6);
    expect(m.bytes).toBeLessThan(17e6);

    const runFiles = all.filter((f) => /\/[0-9A-Z]{26}\.jsonl$/.test(f.path));
    const archives = all.filter((f) => /\/\d{4}-\d{2}-\d{2}\.jsonl$/.test(f.path));
    expect(runFiles.length).toBe(m.singles);
    expect(archives.length).toBe(m.archives);
    expect(runFiles.length + archives.length).toBe(all.length);
    expect(Object.keys(m.workflows)).toHaveLength(50);

    // Recount per workflow, independently of the generator's own tally.
    const count = new Map<string, { started: number; ends: Record<string, number>; ms: number }>();
    const filesOfRun = new Map<string, Set<string>>();
    for (const { file, rec } of recs) {
      expect(file.startsWith(`${rec.workflow}/`)).toBe(true);
      const c = count.get(rec.workflow) ?? { started: 0, ends: {}, ms: 0 };
      count.set(rec.workflow, c);
      if (rec.type === 'run.started') c.started++;
      if (rec.type === 'run.finished') {
        c.ends[rec.status ?? ''] = (c.ends[rec.status ?? ''] ?? 0) + 1;
        c.ms += rec.duration_ms ?? 0;
      }
      const set = filesOfRun.get(rec.run_id) ?? new Set();
      filesOfRun.set(rec.run_id, set.add(file));
    }
    for (const [name, t] of Object.entries(m.workflows)) {
      const c = count.get(name);
      expect(c?.started ?? 0, name).toBe(t.started);
      for (const s of STATUSES) expect(c?.ends[s] ?? 0, `${name} ${s}`).toBe(t[s]);
      expect(t.finished + t.unfinished).toBe(t.started);
      if (t.finished > 0) expect(c?.ms ?? 0).toBeCloseTo((t.mean_duration_ms ?? 0) * t.finished, 3);
    }
    expect(filesOfRun.size).toBe(m.runs);
    // A run is in one file, or in two when its durable wait resumed on a later day.
    for (const [run, set] of filesOfRun) {
      expect(set.size, run).toBeLessThanOrEqual(2);
      if (set.size === 2) {
        const second = [...set].sort()[1] ?? '';
        expect(recs.find((x) => x.file === second && x.rec.run_id === run)?.rec.type).toBe('run.resumed');
      }
    }

    // The features flux metrics must handle are all there.
    const types = new Set(recs.map((x) => x.rec.type));
    expect([...types].sort()).toEqual(['escalation', 'event.emitted', 'run.finished', 'run.resumed', 'run.started', 'run.waiting', 'step.finished', 'step.retry', 'step.started']);
    expect(recs.some((x) => x.rec.delivered === true) && recs.some((x) => x.rec.delivered === false)).toBe(true);
    expect(recs.some((x) => Array.isArray(x.rec.index))).toBe(true);
    expect(recs.some((x) => x.rec.output_truncated === true)).toBe(true);
    // Logs older than the legacy days lack received_at and method; newer ones have them.
    const legacyEnd = new Date(Date.parse(m.start) + m.legacy_days * 86_400_000).toISOString();
    const startedRecs = recs.filter((x) => x.rec.type === 'run.started').map((x) => x.rec);
    expect(startedRecs.filter((r) => r.ts < legacyEnd).every((r) => r.received_at === undefined)).toBe(true);
    expect(startedRecs.filter((r) => r.ts >= legacyEnd).every((r) => typeof r.received_at === 'string')).toBe(true);
    expect(recs.some((x) => x.rec.type === 'step.finished' && x.rec.method === 'POST')).toBe(true);
  }, 60_000);

  it('gzips the share of archives asked for, and the floor counts every line of every file', () => {
    const dir = join(temp(), 'logs');
    generate(dir, '4MB', '--gz-share', '0.5');
    const m = manifestOf(dir);
    const gz = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jsonl.gz'));
    expect(gz.length).toBe(m.gz);
    expect(m.gz).toBeGreaterThan(m.archives * 0.4);
    expect(m.gz).toBeLessThan(m.archives * 0.6);
    const chars = files(dir).reduce((s, f) => s + f.text.length, 0);
    for (const mode of [[], ['--async']]) {
      const r = spawnSync(process.execPath, [FLOOR, dir, ...mode], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ files: m.files, lines: m.records, chars: chars - m.records });
    }
  }, 60_000);

  it('refuses a directory that holds something, and a size it cannot read', () => {
    const dir = temp();
    mkdirSync(join(dir, 'logs'));
    writeFileSync(join(dir, 'logs', 'mine.txt'), 'keep me');
    const full = spawnSync(process.execPath, [GEN, join(dir, 'logs'), '--size', '1MB'], { encoding: 'utf8' });
    expect(full.status).toBe(2);
    expect(full.stderr).toContain('is not empty');
    expect(readFileSync(join(dir, 'logs', 'mine.txt'), 'utf8')).toBe('keep me');
    const bad = spawnSync(process.execPath, [GEN, join(dir, 'other'), '--size', 'lots'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--size: expected a size such as 50MB or 1GB, not "lots"');
  });
});

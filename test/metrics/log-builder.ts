/**
 * Hand-made run logs for metrics tests: records with the fields and key order flux writes
 * (src/store/run-log.ts), built from a compact description, so each test says what happened
 * and can assert every figure that follows from it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** A baseline as records carry it. */
export interface TestBaseline {
  readonly minutes_per_run?: number;
  readonly response_minutes?: number;
  readonly hourly_cost?: number;
  readonly currency?: string;
}

/** The run a record belongs to. */
export interface RunHead {
  readonly run: string;
  readonly workflow: string;
  readonly owner?: string;
  readonly baseline?: TestBaseline | null;
}

/** Minutes after 2026-11-16T00:00:00Z (a Monday), as an ISO time. */
export function at(minutes: number): string {
  return new Date(Date.UTC(2026, 10, 16) + minutes * 60_000).toISOString();
}

/** One record as a JSON line, in flux's key order. */
export function record(head: RunHead, type: string, minute: number, fields: Record<string, unknown> = {}): string {
  return JSON.stringify({
    v: 1, type, ts: at(minute), run_id: head.run, workflow: head.workflow, workflow_version: `sha256:${'0'.repeat(64)}`,
    owner: head.owner ?? 'ops@example.com', baseline: head.baseline === undefined ? null : head.baseline, ...fields,
  });
}

/** A run.started record's usual fields. */
export function started(head: RunHead, minute: number, extra: Record<string, unknown> = {}): string {
  return record(head, 'run.started', minute, { trigger: 'webhook', event_sha256: 'a'.repeat(64), file: `${head.workflow}.yaml`, dry_run: false, ...extra });
}

/** A step's started and finished records. */
export function step(head: RunHead, id: string, minute: number, fields: { status?: string; duration_ms?: number; method?: string; error?: string; attempt?: number } = {}): string[] {
  const status = fields.status ?? 'succeeded';
  return [
    record(head, 'step.started', minute, { step: id, path: id, attempt: 1, idempotency_key: `${head.run}:${id}` }),
    record(head, 'step.finished', minute, {
      step: id, path: id, status, duration_ms: fields.duration_ms ?? 100, attempt: fields.attempt ?? 1,
      ...(fields.method ? { http_status: 200, method: fields.method } : {}),
      ...(status === 'succeeded' ? { output: { body: { ok: true, error: { message: 'inside the output, not an error' } } } } : {}),
      ...(fields.error ? { error: { message: fields.error, step: id } } : {}),
    }),
  ];
}

/** A run.finished record. */
export function finished(head: RunHead, minute: number, status: string): string {
  return record(head, 'run.finished', minute, { status, duration_ms: 1000, ...(status === 'failed' || status === 'escalated' ? { error: { message: 'it broke' } } : {}) });
}

/** Writes lines as a log file (gzipped for .gz), each ending in a newline unless `cut`. */
export function writeLog(dir: string, rel: string, lines: readonly string[], cut = false): string {
  const path = join(dir, rel);
  mkdirSync(dirname(path), { recursive: true });
  const text = lines.join('\n') + (cut ? '' : '\n');
  writeFileSync(path, rel.endsWith('.gz') ? gzipSync(text) : text);
  return path;
}

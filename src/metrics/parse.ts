/**
 * One log line to the few fields metrics needs. Lines are outside data: anything may be in
 * them, so every field is checked for its type and strings are bounded before they are kept.
 * flux's own lines mostly take the fast path (fast-parse.ts: anchored regular expressions,
 * the same fields); the rest, and any line the fast path is unsure of, go through JSON.parse.
 * Measured on a fifth of the benchmark's lines (test/bench/metrics.mjs data: 319,299 lines,
 * each a flat string as the reader makes them, in memory, a busy 2-core machine): JSON.parse
 * for every line 807-854 ms; the fast path for step records only, with Date.parse, 303-341
 * ms; the fast path as it is now (run records too, times read by iso-time.ts) 230-274 ms.
 */
import { toBaseline, type BaselineValue } from './baseline.js';
import { fastRecord } from './fast-parse.js';
import { parseTime } from './iso-time.js';

export type { BaselineValue } from './baseline.js';

/** The newest record format this reader knows. */
export const KNOWN_VERSION = 1;

/** Kept strings are cut to this many characters: names and messages are shown, not stored whole. */
export const MAX_TEXT = 200;

/** The fields of one record that metrics uses. */
export interface Rec {
  readonly type: string;
  readonly ts: number;
  readonly run: string;
  readonly workflow: string;
  readonly owner: string | null;
  readonly baseline: BaselineValue | null;
  readonly step: string | null;
  readonly status: string | null;
  readonly durationMs: number | null;
  readonly method: string | null;
  readonly receivedAt: number | null;
  readonly responseStep: string | null;
  readonly wakeAt: number | null;
  readonly delivered: boolean | null;
  readonly error: string | null;
  /** An `escalation`'s acknowledgement deadline (`ack_due_at`). */
  readonly ackDueAt: number | null;
  /** An `escalation.acked`'s `escalated_at`: time to acknowledgement is `ts` minus it. */
  readonly escalatedAt: number | null;
  /** A `run.resumed` whose previous turn is in another part of the run's log (`previous_elsewhere`). */
  readonly elsewhere: boolean;
}

/** A line read: a record, a record of a newer format, or a line that is not a record. */
export type Parsed =
  | { readonly kind: 'record'; readonly rec: Rec }
  | { readonly kind: 'newer'; readonly version: number }
  | { readonly kind: 'bad'; readonly message: string };

/** Parses one line. `fast` turns the fast path on (the default). */
export function parseLine(line: string, fast = true): Parsed {
  if (fast) {
    const rec = fastRecord(line);
    if (rec !== null) return { kind: 'record', rec };
  }
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { kind: 'bad', message: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  return fromObject(value);
}

/** A parsed JSON value to a record, or why it is not one. */
export function fromObject(value: unknown): Parsed {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'bad', message: 'not a run record: not a JSON object' };
  const o = value as Record<string, unknown>;
  if (typeof o.v === 'number' && o.v > KNOWN_VERSION) return { kind: 'newer', version: o.v };
  if (o.v !== KNOWN_VERSION) return { kind: 'bad', message: 'not a run record: no format version `v`' };
  if (typeof o.type !== 'string') return { kind: 'bad', message: 'not a run record: no `type`' };
  if (typeof o.run_id !== 'string' || o.run_id === '') return { kind: 'bad', message: 'not a run record: no `run_id`' };
  if (typeof o.workflow !== 'string') return { kind: 'bad', message: 'not a run record: no `workflow`' };
  const ts = typeof o.ts === 'string' ? parseTime(o.ts) : NaN;
  if (!Number.isFinite(ts)) return { kind: 'bad', message: 'not a run record: `ts` is not a time' };
  const err = o.error;
  return {
    kind: 'record',
    rec: {
      type: cut(o.type),
      ts,
      run: cut(o.run_id),
      workflow: cut(o.workflow),
      owner: typeof o.owner === 'string' ? cut(o.owner) : null,
      baseline: toBaseline(o.baseline),
      step: typeof o.step === 'string' ? cut(o.step) : null,
      status: typeof o.status === 'string' ? cut(o.status) : null,
      durationMs: typeof o.duration_ms === 'number' && Number.isFinite(o.duration_ms) ? o.duration_ms : null,
      method: typeof o.method === 'string' ? cut(o.method.toUpperCase()) : null,
      receivedAt: time(o.received_at),
      responseStep: typeof o.response_step === 'string' ? cut(o.response_step) : null,
      wakeAt: time(o.wake_at),
      delivered: typeof o.delivered === 'boolean' ? o.delivered : null,
      error: typeof err === 'object' && err !== null && typeof (err as { message?: unknown }).message === 'string' ? cut((err as { message: string }).message) : null,
      ackDueAt: time(o.ack_due_at),
      escalatedAt: time(o.escalated_at),
      elsewhere: o.previous_elsewhere === true,
    },
  };
}

function cut(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

function time(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const t = parseTime(value);
  return Number.isFinite(t) ? t : null;
}


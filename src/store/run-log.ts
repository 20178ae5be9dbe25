/**
 * The run log: one JSONL file per run, one record per line, format version 1 (documented by
 * schemas/run-log.schema.json). Each record is written with one `write` of one complete line to
 * a file opened for append, and the file is fsynced when the run ends, so a crash never leaves
 * a half record in the middle of a file; readers tolerate a truncated last line.
 */
import { close, fstatSync, fsync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';

export const RUN_LOG_VERSION = 1;

const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);

/** Fields every record carries, so metrics never need the workflow file to still exist. */
export interface RecordBase {
  readonly v: typeof RUN_LOG_VERSION;
  readonly type: string;
  readonly ts: string;
  readonly run_id: string;
  readonly workflow: string;
  readonly workflow_version: string;
  readonly owner: string;
  readonly baseline: Readonly<Record<string, unknown>> | null;
}

export type RunStatus = 'succeeded' | 'failed' | 'escalated' | 'rejected' | 'cancelled';
/** Why a run was resumed: its wait was over (`wake`), or the daemon running it died (`rescue`). */
export type ResumeReason = 'wake' | 'rescue';
export type StepStatus = 'succeeded' | 'failed' | 'skipped';

export interface ErrorInfo {
  readonly message: string;
  readonly step?: string;
  readonly http_status?: number;
}

export type RunRecord = RecordBase & (
  | {
      readonly type: 'run.started'; readonly trigger: string; readonly event_sha256: string; readonly file: string; readonly dry_run: boolean; readonly scheduled_for?: string;
      /** When the triggering event was received; always written since it was added, absent from older logs. */
      readonly received_at?: string;
      /** The id of the step marked `response: true`, when the workflow marks one. */
      readonly response_step?: string;
      /** Under `flux daemon`: the daemon that started the run, and the attempt (1). */
      readonly daemon?: string; readonly attempt?: number;
    }
  | { readonly type: 'step.started'; readonly step: string; readonly path: string; readonly index?: readonly number[]; readonly attempt: number; readonly idempotency_key: string }
  | { readonly type: 'step.retry'; readonly step: string; readonly path: string; readonly index?: readonly number[]; readonly attempt: number; readonly delay_ms: number; readonly error: ErrorInfo }
  | {
      readonly type: 'step.finished'; readonly step: string; readonly path: string; readonly index?: readonly number[]; readonly status: StepStatus;
      readonly duration_ms: number; readonly attempt: number; readonly http_status?: number; readonly method?: string; readonly output?: unknown;
      readonly output_truncated?: boolean; readonly error?: ErrorInfo; readonly continued?: boolean;
    }
  /** Something about a call the user should act on, though the call went ahead (a rotated OAuth2 refresh token). */
  | { readonly type: 'step.warning'; readonly step: string; readonly path: string; readonly index?: readonly number[]; readonly attempt: number; readonly message: string }
  | { readonly type: 'event.emitted'; readonly step: string; readonly path: string; readonly event: string; readonly data: unknown }
  | {
      readonly type: 'escalation'; readonly step?: string; readonly via: string; readonly delivered: boolean; readonly error: ErrorInfo; readonly delivery_error?: string;
      /** With `ack_within`: the duration, and the deadline and acknowledgement id (the run id) when one was opened, or why none was. */
      readonly ack_within?: string; readonly ack_due_at?: string; readonly ack_id?: string; readonly ack_unavailable?: string;
    }
  /** The escalation was acknowledged (after the run finished): by whom, through what (`link`, `cli`). */
  | { readonly type: 'escalation.acked'; readonly by: string; readonly via: string; readonly escalated_at: string }
  /** The `then` call made when the escalation went unacknowledged past its deadline: one record per attempt. */
  | { readonly type: 'escalation.then'; readonly via: string; readonly delivered: boolean; readonly attempt: number; readonly delivery_error?: string; readonly retry_at?: string }
  /**
   * A turn of the run after the first: woken from a wait, or rescued from a daemon that died.
   * Under `flux daemon`, it says which daemon took it and why; a daemon that had not written
   * this run before begins a new part of its log with it, in its own log directory.
   */
  | {
      readonly type: 'run.resumed'; readonly attempt: number; readonly replayable: number; readonly daemon?: string; readonly reason?: ResumeReason;
      /** The turn before this one is not in this file: the run's log has another part, in another daemon's log directory. */
      readonly previous_elsewhere?: boolean;
    }
  | { readonly type: 'run.waiting'; readonly step: string; readonly path: string; readonly wake_at: string; readonly event?: string }
  | {
      readonly type: 'approval.requested'; readonly step: string; readonly path: string; readonly index?: readonly number[]; readonly approvers: readonly string[];
      readonly choices: readonly string[]; readonly quorum: number; readonly expires_at: string; readonly link_id: string; readonly via: string; readonly delivered: boolean;
    }
  | {
      readonly type: 'approval.answered'; readonly step: string; readonly path: string; readonly index?: readonly number[]; readonly by: string; readonly choice: string;
      readonly inputs: Readonly<Record<string, unknown>>; readonly answered_at: string; readonly via: string; readonly from: string | null;
    }
  | { readonly type: 'approval.reminded'; readonly step: string; readonly path: string; readonly index?: readonly number[]; readonly reminder: number; readonly delivered: boolean }
  | { readonly type: 'approval.timed_out'; readonly step: string; readonly path: string; readonly index?: readonly number[]; readonly on_timeout: string }
  | { readonly type: 'run.finished'; readonly status: RunStatus; readonly duration_ms: number; readonly error?: ErrorInfo }
);

/** Where a run's records go. The engine appends as things happen; `close` makes them durable. */
export interface Journal {
  append(record: RunRecord): void;
  close(): Promise<void>;
}

/** A run log could not be opened or written: says which file and why, in words. */
export class JournalError extends Error {
  override readonly name = 'JournalError';
  constructor(readonly path: string, readonly code: string | undefined, reason: string) {
    super(`cannot write the run log ${path}: ${reason}`);
  }
}

/**
 * A journal writing one JSONL file. `transform` masks each line before it is written.
 * Opening creates the directory and the file, so a log location that cannot be written is
 * found before the run starts. A write that fails or is cut short (a full disk) is undone back
 * to the last whole record and throws a JournalError; the journal then refuses further writes,
 * so the file always ends with a whole record.
 */
export class FileJournal implements Journal {
  private fd: number | undefined;
  private size: number;
  private failed: JournalError | undefined;

  /**
   * `shown` is the path as messages give it (relative to where flux was started).
   */
  constructor(readonly path: string, private readonly transform: (line: string) => string = (l) => l, private readonly shown = path) {
    try {
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, 'a', 0o600);
      this.size = fstatSync(this.fd).size;
    } catch (error) {
      throw journalError(this.shown, error);
    }
  }

  append(record: RunRecord): void {
    if (this.failed) throw this.failed;
    if (this.fd === undefined) throw new JournalError(this.shown, undefined, 'the log is closed');
    const line = Buffer.from(`${this.transform(JSON.stringify(record))}\n`);
    try {
      const written = writeSync(this.fd, line);
      if (written < line.length) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      this.size += written;
    } catch (error) {
      this.failed = journalError(this.shown, error);
      try {
        ftruncateSync(this.fd, this.size);
      } catch {
        // The file keeps a cut last line, which readers detect and report.
      }
      throw this.failed;
    }
  }

  /** The error that stopped this journal writing, if one did. */
  get failure(): JournalError | undefined {
    return this.failed;
  }

  /**
   * Fsyncs and closes the file. The fsync runs on libuv's thread pool, not the event loop: a
   * daemon closes a log for every run, and a synchronous fsync per run stalled its loop (under
   * webhook load, a second of every six went to fsyncSync here).
   */
  async close(): Promise<void> {
    const fd = this.fd;
    if (fd === undefined) return;
    this.fd = undefined;
    try {
      await fsyncAsync(fd);
    } catch (error) {
      throw journalError(this.shown, error);
    } finally {
      await closeAsync(fd).catch(() => {});
    }
  }
}

const REASONS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'the path is a directory',
  EEXIST: 'a part of the path is a file, not a directory',
  ENOENT: 'the directory was removed',
  EIO: 'an input/output error on the device',
  EFBIG: 'the file is too large',
};

function journalError(path: string, error: unknown): JournalError {
  const code = (error as { code?: string }).code;
  return new JournalError(path, code, (code && REASONS[code]) ?? (error instanceof Error ? error.message : String(error)));
}

/** A journal in memory, for tests and dry runs. */
export class MemoryJournal implements Journal {
  readonly records: RunRecord[] = [];
  readonly lines: string[] = [];
  constructor(private readonly transform: (line: string) => string = (l) => l) {}
  append(record: RunRecord): void {
    const line = this.transform(JSON.stringify(record));
    this.lines.push(line);
    this.records.push(JSON.parse(line) as RunRecord);
  }
  async close(): Promise<void> {}
}

/**
 * A record written to a run's log from outside its run (an operator's cancel, an escalation's
 * acknowledgement), with the fields every record carries copied from the log's first record.
 */
export function recordAfter(first: RunRecord, fields: Record<string, unknown> & { readonly type: RunRecord['type'] }, now: number): RunRecord {
  const { type, ...rest } = fields;
  return {
    v: first.v, type, ts: new Date(now).toISOString(), run_id: first.run_id, workflow: first.workflow, workflow_version: first.workflow_version,
    owner: first.owner, baseline: first.baseline, ...rest,
  } as RunRecord;
}

/** The log file of a run: `<dir>/<workflow>/<run-id>.jsonl`. */
export function runLogPath(dir: string, workflow: string, runId: string): string {
  return join(dir, workflow, `${runId}.jsonl`);
}

export interface ReadResult {
  readonly records: RunRecord[];
  /** Lines that are not records (corrupt or foreign), by 1-based line number. */
  readonly problems: { readonly line: number; readonly message: string }[];
  /** The last line had no newline and did not parse: a write cut short by a crash. */
  readonly truncatedTail: boolean;
}

/** Reads a run log, counting lines it cannot read rather than skipping them quietly. */
export function readRunLog(path: string): ReadResult {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const endsClean = text.endsWith('\n');
  if (endsClean) lines.pop();
  const records: RunRecord[] = [];
  const problems: { line: number; message: string }[] = [];
  let truncatedTail = false;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const r = JSON.parse(line) as RunRecord;
      if (typeof r !== 'object' || r === null || typeof r.type !== 'string' || typeof r.run_id !== 'string') throw new Error('not a run record');
      records.push(r);
    } catch (error) {
      if (!endsClean && i === lines.length - 1) truncatedTail = true;
      else problems.push({ line: i + 1, message: error instanceof Error ? error.message : String(error) });
    }
  });
  return { records, problems, truncatedTail };
}

/**
 * Caps a value's serialized size for the log; returns the value or a truncated preview. The
 * size is measured by a walk that stops as soon as the cap is passed, so a huge output (a
 * 100,000-item foreach) is never serialized whole just to be cut. `mask` is applied to the
 * preview's text before it is cut: a cut through a secret would leave its first part, which
 * no form of the secret matches any more.
 */
export function capOutput(value: unknown, maxBytes = 16 * 1024, mask: (text: string) => string = (t) => t): { output: unknown; truncated: boolean } {
  if (value === undefined) return { output: null, truncated: false };
  if (fitsWithin(value, maxBytes)) return { output: value, truncated: false };
  return { output: `${previewJson(value, maxBytes, mask)}…`, truncated: true };
}

function fitsWithin(value: unknown, budget: number): boolean {
  let left = budget;
  const walk = (v: unknown): boolean => {
    if (v === null || typeof v !== 'object') {
      left -= typeof v === 'string' ? v.length + 2 : 8;
      return left >= 0;
    }
    const entries = Array.isArray(v) ? v : Object.entries(v);
    left -= 2;
    for (const e of entries) {
      if (Array.isArray(v)) {
        if (!walk(e)) return false;
      } else {
        const [k, val] = e as [string, unknown];
        left -= k.length + 4;
        if (!walk(val)) return false;
      }
    }
    return left >= 0;
  };
  return walk(value) && (JSON.stringify(value)?.length ?? 0) <= budget;
}

function previewJson(value: unknown, maxBytes: number, mask: (text: string) => string): string {
  if (Array.isArray(value)) {
    let out = '[';
    for (const item of value) {
      const next = mask(JSON.stringify(item) ?? 'null');
      if (out.length + next.length + 1 > maxBytes) break;
      out += `${out.length > 1 ? ',' : ''}${next}`;
    }
    return out;
  }
  const text = mask(JSON.stringify(value) ?? '');
  return text.slice(0, maxBytes);
}

/**
 * A turn of a run: from its `run.started` or `run.resumed` to the last record that daemon wrote
 * for it (its `run.waiting` or `run.finished`, or nothing when it died or handed the run back).
 * Under several daemons a run's turns are in several parts of its log, one per log directory.
 */
export interface RunTurn {
  /** The run's attempt (starts: +1 per rescue); null in a log written before it was recorded. */
  readonly attempt: number | null;
  /** `start`, `wake` or `rescue`; null for a `run.resumed` written before the reason was. */
  readonly reason: 'start' | ResumeReason | null;
  /** The daemon that ran it, null in logs of `flux run` or written before daemons were named. */
  readonly daemon: string | null;
  readonly startedAt: number;
  /** The last record of the turn. */
  readonly lastAt: number;
  /** How it ended: `finished` (the run ended), `waiting`, or null: no end recorded (its daemon died, was stopped, or still runs it). */
  readonly end: 'finished' | 'waiting' | null;
  /** The part (file) it was read from. */
  readonly part: string;
}

/** The turns in the parts of one run's log, in the order they began. */
export function turnsOf(parts: readonly { readonly path: string; readonly records: readonly RunRecord[] }[]): RunTurn[] {
  const turns: RunTurn[] = [];
  for (const { path, records } of parts) {
    let turn: { -readonly [K in keyof RunTurn]: RunTurn[K] } | undefined;
    for (const r of records) {
      const ts = Date.parse(r.ts);
      if (!Number.isFinite(ts)) continue;
      if (r.type === 'run.started' || r.type === 'run.resumed') {
        if (turn) turns.push(turn);
        const reason = r.type === 'run.started' ? 'start' : r.reason ?? null;
        const attempt = r.type === 'run.started' ? r.attempt ?? null : r.attempt;
        turn = { attempt, reason, daemon: typeof r.daemon === 'string' ? r.daemon : null, startedAt: ts, lastAt: ts, end: null, part: path };
      } else if (turn && r.type !== 'escalation.acked' && r.type !== 'escalation.then') {
        // Acknowledgements and `then` calls are written after the run ended, by whichever daemon: not part of a turn.
        turn.lastAt = Math.max(turn.lastAt, ts);
        if (r.type === 'run.finished') turn.end = 'finished';
        else if (r.type === 'run.waiting') turn.end = 'waiting';
      }
    }
    if (turn) turns.push(turn);
  }
  return turns.sort((a, b) => a.startedAt - b.startedAt || (a.attempt ?? 0) - (b.attempt ?? 0));
}

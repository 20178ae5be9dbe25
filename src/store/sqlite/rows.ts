/**
 * Converting between SQLite rows (snake_case, ISO-8601 text times, JSON text) and the store's
 * row types (camelCase, milliseconds, parsed values).
 */
import type { ErrorInfo } from '../run-log.js';
import type { ApprovalAnswer, EscalationRow, EventRow, JournalEntry, JournalKind, PollState, RunRow, RunState, WaitingFor, WorkflowVersion } from '../store.js';

/** A row as the driver returns it. */
export type SqlRow = Readonly<Record<string, unknown>>;

const LATEST = Date.parse('9999-12-31T23:59:59.999Z');
const EARLIEST = Date.parse('0000-01-01T00:00:00.000Z');

let lastMs = NaN;
let lastIso = '';

/**
 * A time for the database: ISO-8601 UTC with milliseconds, which sorts in time order as text.
 * Clamped to years 0000–9999: past them JavaScript writes `+010000-…`, which would sort before
 * today and wake a run waiting "until year 10000" at once.
 */
export function isoTime(ms: number): string {
  // A group commit stamps its writes with a handful of distinct times: the last one is kept.
  if (ms === lastMs) return lastIso;
  if (Number.isNaN(ms)) throw new RangeError(`not a time: ${ms}`);
  const iso = new Date(Math.min(LATEST, Math.max(EARLIEST, ms))).toISOString();
  lastMs = ms;
  lastIso = iso;
  return iso;
}

/** `isoTime` of a time that may be absent. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : isoTime(ms);
}

function ms(value: unknown): number {
  return Date.parse(String(value));
}

function msOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : ms(value);
}

function json(value: unknown): unknown {
  return value === null || value === undefined ? null : JSON.parse(String(value));
}

function str(value: unknown): string {
  return String(value);
}

function strOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** JSON text for a column; `undefined` is stored as JSON null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

export function toRun(r: SqlRow): RunRow {
  return {
    id: str(r.id),
    workflow: str(r.workflow),
    workflowVersion: str(r.workflow_version),
    status: str(r.status) as RunState,
    trigger: str(r.trigger),
    event: json(r.event),
    receivedAt: ms(r.received_at),
    scheduledFor: msOrNull(r.scheduled_for),
    startedAt: msOrNull(r.started_at),
    attempt: Number(r.attempt),
    leaseOwner: strOrNull(r.lease_owner),
    leaseUntil: msOrNull(r.lease_until),
    wakeAt: msOrNull(r.wake_at),
    waitingFor: json(r.waiting_for) as WaitingFor | null,
    cancelRequested: Number(r.cancel_requested) === 1,
    parentRunId: strOrNull(r.parent_run_id),
    retryOf: strOrNull(r.retry_of),
    chainDepth: Number(r.chain_depth),
    error: json(r.error) as ErrorInfo | null,
    createdAt: ms(r.created_at),
    updatedAt: ms(r.updated_at),
    finishedAt: msOrNull(r.finished_at),
  };
}

export function toJournalEntry(r: SqlRow): JournalEntry {
  return {
    runId: str(r.run_id),
    key: str(r.key),
    kind: str(r.kind) as JournalKind,
    status: str(r.status),
    output: json(r.output),
    error: json(r.error) as ErrorInfo | null,
    attempt: Number(r.attempt),
    startedAt: ms(r.started_at),
    finishedAt: ms(r.finished_at),
  };
}

export function toEvent(r: SqlRow): EventRow {
  return {
    id: str(r.id),
    name: str(r.name),
    data: json(r.data),
    sourceRunId: strOrNull(r.source_run_id),
    chainDepth: Number(r.chain_depth),
    createdAt: ms(r.created_at),
    deliveredAt: msOrNull(r.delivered_at),
  };
}

export function toWorkflowVersion(r: SqlRow): WorkflowVersion {
  return { hash: str(r.hash), name: str(r.name), text: str(r.text), createdAt: ms(r.created_at) };
}

/** An approval_answers row as the store's ApprovalAnswer. */
export function toApprovalAnswer(r: SqlRow): ApprovalAnswer {
  return {
    runId: String(r.run_id), step: String(r.step), approver: String(r.approver), choice: String(r.choice),
    inputs: JSON.parse(String(r.inputs)) as Record<string, unknown>, answeredAt: ms(r.answered_at), via: String(r.via) as ApprovalAnswer['via'],
    from: r.from_address === null || r.from_address === undefined ? null : String(r.from_address),
  };
}

/** A poll_state row (with its count of seen keys) as the store's PollState. */
export function toPollState(r: SqlRow): PollState {
  return {
    workflow: str(r.workflow), cursor: json(r.cursor), polled: Number(r.polled) === 1, failures: Number(r.failures), lastError: strOrNull(r.last_error),
    escalatedAt: msOrNull(r.escalated_at), nextPollAt: ms(r.next_poll_at), seen: Number(r.seen ?? 0),
  };
}

/** An escalations row as the store's EscalationRow. */
export function toEscalation(r: SqlRow): EscalationRow {
  return {
    runId: str(r.run_id),
    workflow: str(r.workflow),
    workflowVersion: str(r.workflow_version),
    owner: str(r.owner),
    members: json(r.members) as string[],
    error: json(r.error) as ErrorInfo,
    escalatedAt: ms(r.escalated_at),
    ackDueAt: ms(r.ack_due_at),
    hasThen: Number(r.has_then) === 1,
    ackedBy: strOrNull(r.acked_by),
    ackedAt: msOrNull(r.acked_at),
    ackedVia: strOrNull(r.acked_via),
    thenNextAt: msOrNull(r.then_next_at),
    thenAttempts: Number(r.then_attempts),
    thenSentAt: msOrNull(r.then_sent_at),
    thenError: strOrNull(r.then_error),
  };
}

/**
 * Converting between PostgreSQL rows and the store's row types. pg returns bigint as a string
 * (it may not fit a double; a time in milliseconds always does), json and jsonb already parsed,
 * booleans as booleans.
 */
import type { ErrorInfo } from '../run-log.js';
import type { ApprovalAnswer, EscalationRow, EventRow, JournalEntry, JournalKind, PollState, RunRow, RunState, WaitingFor, WorkflowVersion } from '../store.js';

/** A row as pg returns it. */
export type PgRow = Readonly<Record<string, unknown>>;

/**
 * A time (or count) for a bigint parameter: a whole number within what a double holds exactly,
 * so that it is written in digits, not as `1e+21`.
 */
export function int(value: number): number {
  if (Number.isNaN(value)) throw new RangeError(`not a time: ${value}`);
  return Math.trunc(Math.min(Number.MAX_SAFE_INTEGER, Math.max(-Number.MAX_SAFE_INTEGER, value)));
}

/** `int` of a value that may be absent. */
export function intOrNull(value: number | null | undefined): number | null {
  return value === null || value === undefined ? null : int(value);
}

/** JSON text for a json parameter; `undefined` is stored as JSON null. */
export function toJson(value: unknown): string {
  return JSON.stringify(value) ?? 'null';
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => String(v);
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const jsonOrNull = (v: unknown): unknown => (v === undefined ? null : v);

export function toRun(r: PgRow): RunRow {
  return {
    id: str(r.id), workflow: str(r.workflow), workflowVersion: str(r.workflow_version), status: str(r.status) as RunState, trigger: str(r.trigger),
    event: jsonOrNull(r.event), receivedAt: num(r.received_at), scheduledFor: numOrNull(r.scheduled_for), startedAt: numOrNull(r.started_at),
    attempt: num(r.attempt), leaseOwner: strOrNull(r.lease_owner), leaseUntil: numOrNull(r.lease_until), wakeAt: numOrNull(r.wake_at),
    waitingFor: jsonOrNull(r.waiting_for) as WaitingFor | null, cancelRequested: r.cancel_requested === true, parentRunId: strOrNull(r.parent_run_id),
    retryOf: strOrNull(r.retry_of), chainDepth: num(r.chain_depth), error: jsonOrNull(r.error) as ErrorInfo | null, createdAt: num(r.created_at),
    updatedAt: num(r.updated_at), finishedAt: numOrNull(r.finished_at),
  };
}

export function toJournalEntry(r: PgRow): JournalEntry {
  return {
    runId: str(r.run_id), key: str(r.key), kind: str(r.kind) as JournalKind, status: str(r.status), output: jsonOrNull(r.output),
    error: jsonOrNull(r.error) as ErrorInfo | null, attempt: num(r.attempt), startedAt: num(r.started_at), finishedAt: num(r.finished_at),
  };
}

export function toEvent(r: PgRow): EventRow {
  return {
    id: str(r.id), name: str(r.name), data: jsonOrNull(r.data), sourceRunId: strOrNull(r.source_run_id), chainDepth: num(r.chain_depth),
    createdAt: num(r.created_at), deliveredAt: numOrNull(r.delivered_at),
  };
}

export function toWorkflowVersion(r: PgRow): WorkflowVersion {
  return { hash: str(r.hash), name: str(r.name), text: str(r.text), createdAt: num(r.created_at) };
}

export function toApprovalAnswer(r: PgRow): ApprovalAnswer {
  return {
    runId: str(r.run_id), step: str(r.step), approver: str(r.approver), choice: str(r.choice), inputs: r.inputs as Record<string, unknown>,
    answeredAt: num(r.answered_at), via: str(r.via) as ApprovalAnswer['via'], from: strOrNull(r.from_address),
  };
}

export function toPollState(r: PgRow): PollState {
  return {
    workflow: str(r.workflow), cursor: jsonOrNull(r.cursor), polled: r.polled === true, failures: num(r.failures), lastError: strOrNull(r.last_error),
    escalatedAt: numOrNull(r.escalated_at), nextPollAt: num(r.next_poll_at), seen: num(r.seen ?? 0),
  };
}

export function toEscalation(r: PgRow): EscalationRow {
  return {
    runId: str(r.run_id), workflow: str(r.workflow), workflowVersion: str(r.workflow_version), owner: str(r.owner), members: r.members as string[],
    error: r.error as ErrorInfo, escalatedAt: num(r.escalated_at), ackDueAt: num(r.ack_due_at), hasThen: r.has_then === true, ackedBy: strOrNull(r.acked_by),
    ackedAt: numOrNull(r.acked_at), ackedVia: strOrNull(r.acked_via), thenNextAt: numOrNull(r.then_next_at), thenAttempts: num(r.then_attempts),
    thenSentAt: numOrNull(r.then_sent_at), thenError: strOrNull(r.then_error),
  };
}

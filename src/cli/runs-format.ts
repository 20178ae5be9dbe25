/**
 * How `flux runs` prints: aligned tables, times in UTC, durations for people, one-line previews
 * of outside values, and JSON that is safe on a terminal. Every value that came from outside
 * flux (workflow names, event payloads, outputs, error texts) passes through `escapeControl`
 * or `safeJson` here before it is printed.
 */
import { waitingStep } from '../daemon/journal-keys.js';
import type { EscalationRow, RunRow } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import { formatMs } from './progress.js';

/** A time as the tables show it: `2026-11-24 09:00:01Z` (UTC, to the second). */
export function shortTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** A workflow version for people: `sha256:` and the first 12 hex digits (JSON has it whole). */
export function shortHash(hash: string): string {
  return escapeControl(hash.startsWith('sha256:') ? hash.slice(0, 'sha256:'.length + 12) : hash);
}

/** A time for JSON: ISO-8601 UTC, or null. */
export function isoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString();
}

/** A duration for people (120ms, 1.4s, 2m05s, 48h); `-` when unknown. */
export function duration(ms: number | null | undefined): string {
  return ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0 ? '-' : formatMs(ms);
}

// Characters a terminal obeys that JSON.stringify leaves raw: C1 controls (0x9B is a one-byte
// CSI) and the bidirectional embedding, override and isolate characters.
const RAW_IN_JSON = /[\u0080-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Pretty JSON in which every terminal control is a \u escape: the same data, safe to print. */
export function safeJson(value: unknown): string {
  return (JSON.stringify(value, null, 2) ?? 'null').replace(RAW_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * An outside value on one line, escaped and cut to `max` characters (`…` marks the cut):
 * strings as they are, anything else as compact JSON.
 */
export function preview(value: unknown, max = 60): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
  // Cut before escaping, so an escape sequence is never cut in half; the cut is measured again after.
  const cut = text.length > max ? `${text.slice(0, max)}` : text;
  const escaped = escapeControl(cut);
  return text.length > max || escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

/** Left-aligned columns, two spaces apart; the last column is not padded. Cells must already be escaped. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/**
 * When the run could start: its schedule time for a fire, else when it was queued. Durations
 * run from here to the end, waits included: a run that waited 48 hours took 48 hours.
 */
export function startOf(run: RunRow): number {
  return Math.max(run.createdAt, run.scheduledFor ?? 0);
}

/** The run's duration when it ended, else where it stands: waiting until when, running how long. */
export function progressOf(run: RunRow, now: number): string {
  switch (run.status) {
    case 'waiting': {
      const event = run.waitingFor ? `event \`${escapeControl(run.waitingFor.event)}\`` : '';
      if (run.wakeAt !== null && event) return `waiting for ${event} until ${shortTime(run.wakeAt)}`;
      return event ? `waiting for ${event}` : `waiting until ${shortTime(run.wakeAt)}`;
    }
    case 'running':
      return run.cancelRequested ? `running ${duration(now - startOf(run))}, cancel requested` : `running ${duration(now - startOf(run))}`;
    case 'queued':
      return run.scheduledFor !== null && run.scheduledFor > now ? `scheduled for ${shortTime(run.scheduledFor)}` : 'queued';
    default:
      return duration(run.finishedAt === null ? null : run.finishedAt - startOf(run));
  }
}

/** A run as `--json` gives it (the event payload only in `flux runs show --json`). */
export function runJson(run: RunRow): Record<string, unknown> {
  return {
    id: run.id, workflow: run.workflow, workflow_version: run.workflowVersion, status: run.status, trigger: run.trigger, attempt: run.attempt,
    received_at: isoOrNull(run.receivedAt), scheduled_for: isoOrNull(run.scheduledFor), created_at: isoOrNull(run.createdAt), finished_at: isoOrNull(run.finishedAt),
    duration_ms: run.finishedAt === null ? null : run.finishedAt - startOf(run), wake_at: isoOrNull(run.wakeAt), waiting_for: run.waitingFor && { ...run.waitingFor, step: waitingStep(run.waitingFor.step) },
    cancel_requested: run.cancelRequested, parent_run_id: run.parentRunId, retry_of: run.retryOf, chain_depth: run.chainDepth, error: run.error,
  };
}

/** A duration in whole minutes or hours and minutes: `45m`, `3h 5m`. */
export function minutes(ms: number): string {
  const m = Math.max(0, Math.round(ms / 60_000));
  return m < 60 ? `${m}m` : `${Math.floor(m / 60)}h${m % 60 === 0 ? '' : ` ${m % 60}m`}`;
}

/** Where an escalation's acknowledgement stands, for the table: who and when, or how long it has waited. */
export function ackState(e: EscalationRow | undefined, now: number): string {
  if (!e) return '-';
  const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
  if (e.ackedAt !== null) return `acked by ${escapeControl(e.ackedBy ?? '?')} after ${minutes(e.ackedAt - e.escalatedAt)} (${e.ackedVia ?? '?'})`;
  const then = e.thenSentAt !== null ? `, then sent ${hhmm(e.thenSentAt)}` : e.thenError !== null ? `, then failing (attempt ${e.thenAttempts})` : '';
  return `unacknowledged for ${minutes(now - e.escalatedAt)} (due ${hhmm(e.ackDueAt)}${now >= e.ackDueAt ? ', overdue' : ''})${then}`;
}

/** An escalation's acknowledgement, for `--json`. */
export function escalationJson(e: EscalationRow | undefined): Record<string, unknown> {
  if (!e) return {};
  return {
    escalation: {
      owner: e.owner, escalated_at: isoOrNull(e.escalatedAt), ack_due_at: isoOrNull(e.ackDueAt), acked_by: e.ackedBy, acked_at: isoOrNull(e.ackedAt), acked_via: e.ackedVia,
      then: e.hasThen, then_sent_at: isoOrNull(e.thenSentAt), then_attempts: e.thenAttempts, then_error: e.thenError,
    },
  };
}

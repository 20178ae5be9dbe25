/**
 * Acknowledging an escalation, however it comes (the `/ack/<token>` page, `flux runs ack`):
 * who may (the owner, or a member or the backup of the owner team), the one conditional write
 * that records it (of two answers racing, one wins and the other is told who and when), and
 * the `escalation.acked` record appended to the run's log, which ended long before.
 */
import { existsSync } from 'node:fs';
import { FileJournal, readRunLog, recordAfter, runLogPath, type RunRecord } from '../store/run-log.js';
import type { EscalationRow, Store } from '../store/store.js';

/** How an acknowledgement went. */
export type AckResult =
  | { readonly kind: 'acked'; readonly escalation: EscalationRow; readonly logProblem?: string }
  | { readonly kind: 'already'; readonly escalation: EscalationRow }
  | { readonly kind: 'not-member'; readonly escalation: EscalationRow }
  | { readonly kind: 'not-found' };

/** The longest name an acknowledgement is recorded under. */
export const MAX_ACK_NAME = 200;

/** Whether `name` may acknowledge `e`: one of its members, compared without case or surrounding space. */
export function mayAcknowledge(e: EscalationRow, name: string): boolean {
  const n = name.trim().toLowerCase();
  return n !== '' && e.members.some((m) => m.trim().toLowerCase() === n);
}

/** Records `by`'s acknowledgement of `runId`'s escalation, if they may and nobody did first. */
export async function acknowledge(store: Store, logDir: string, runId: string, by: string, via: 'link' | 'cli', now: number): Promise<AckResult> {
  const escalation = await store.getEscalation(runId);
  if (!escalation) return { kind: 'not-found' };
  if (escalation.ackedAt !== null) return { kind: 'already', escalation };
  if (!mayAcknowledge(escalation, by)) return { kind: 'not-member', escalation };
  const member = escalation.members.find((m) => m.trim().toLowerCase() === by.trim().toLowerCase()) ?? by.trim();
  const outcome = await store.ackEscalation(runId, member, via, now);
  if (outcome.outcome === 'not-found') return { kind: 'not-found' };
  if (outcome.outcome === 'already') return { kind: 'already', escalation: outcome.escalation };
  const logProblem = await appendToRunLog(logDir, outcome.escalation, { type: 'escalation.acked', by: member, via, escalated_at: new Date(escalation.escalatedAt).toISOString() }, now);
  return { kind: 'acked', escalation: outcome.escalation, ...(logProblem !== undefined ? { logProblem } : {}) };
}

/**
 * Appends a record to a finished run's log, with the fields every record carries copied from
 * its first record. Returns a problem to report when the log cannot be written (the
 * acknowledgement itself is in the store either way); a run without a log is left alone.
 */
export async function appendToRunLog(logDir: string, e: Pick<EscalationRow, 'workflow' | 'runId'>, fields: Record<string, unknown> & { type: RunRecord['type'] }, now: number): Promise<string | undefined> {
  const path = runLogPath(logDir, e.workflow, e.runId);
  if (!existsSync(path)) return undefined;
  try {
    const first = readRunLog(path).records[0];
    if (!first) return undefined;
    const log = new FileJournal(path);
    log.append(recordAfter(first, fields, now));
    await log.close();
    return undefined;
  } catch (error) {
    return `the run log ${path} could not be appended to: ${error instanceof Error ? error.message : String(error)}`;
  }
}

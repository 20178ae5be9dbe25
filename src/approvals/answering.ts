/**
 * Taking an answer to an approval step, the same way from every door (the page and
 * `POST /approvals/<token>` in the daemon, `flux approve` on the command line): find what the
 * step asked in the run's journal, check the answer against it, and record it in the store,
 * whose conditional write makes it count once. Also the links a request carries.
 */
import { signedLink } from './token.js';
import type { ApprovalAnswer, Store } from '../store/store.js';
import { checkAnswer, requestKey, type ApprovalRequest, type GivenAnswer } from './request.js';

/** The path prefix the daemon serves approval pages under. */
export const APPROVALS_PATH = '/approvals/';

/**
 * The link a request carries: `<base>/approvals/<token>`, signed for the step until it
 * expires, and for one approver when `approver` is given (the page then answers as them).
 */
export function approvalLink(base: string, key: Buffer, runId: string, stepKey: string, expiresAt: number, approver?: string): string {
  const claims = { kind: 'approval' as const, runId, step: stepKey, expiresAt, ...(approver !== undefined ? { approver } : {}) };
  return signedLink(base, APPROVALS_PATH, key, claims);
}

/** A step's request, if it is still open for answers; otherwise why not. */
export type OpenRequest =
  | { readonly ok: true; readonly request: ApprovalRequest; readonly answered: readonly ApprovalAnswer[] }
  | { readonly ok: false; readonly status: 404 | 410; readonly reason: string };

/** What the step at `stepKey` of `runId` asked, and whether it still takes answers at `now`. */
export async function openRequest(store: Store, runId: string, stepKey: string, now: number): Promise<OpenRequest> {
  const run = await store.getRun(runId);
  if (!run) return { ok: false, status: 404, reason: `no run ${runId}` };
  const journal = await store.journalFor(runId);
  const entry = journal.find((e) => e.key === requestKey(stepKey, runId));
  if (!entry) return { ok: false, status: 404, reason: `run ${runId} has not asked for an approval at step ${stepKey}` };
  const request = (entry.output as { output?: ApprovalRequest } | null)?.output;
  if (!request || typeof request !== 'object') return { ok: false, status: 404, reason: `run ${runId} has no readable request at step ${stepKey}` };
  if (journal.some((e) => e.key === stepKey)) return { ok: false, status: 410, reason: 'this approval is closed: it was decided or timed out' };
  if (['succeeded', 'failed', 'escalated', 'cancelled', 'rejected'].includes(run.status)) return { ok: false, status: 410, reason: `this approval is closed: the run ended (${run.status})` };
  if (now >= request.expires_at) return { ok: false, status: 410, reason: 'this approval has expired' };
  const answered = (await store.approvalAnswers(runId)).filter((a) => a.step === stepKey);
  return { ok: true, request, answered };
}

/** The outcome of an answer: recorded, or refused with an HTTP status, a reason and the field at fault. */
export type AnswerResult =
  | { readonly ok: true; readonly answer: ApprovalAnswer; readonly request: ApprovalRequest }
  | { readonly ok: false; readonly status: 400 | 403 | 404 | 410; readonly reason: string; readonly field?: string; readonly request?: ApprovalRequest };

/** Checks and records one answer; `via` and `from` say how it came. */
export async function answerApproval(
  store: Store, runId: string, stepKey: string, given: GivenAnswer, via: ApprovalAnswer['via'], from: string | null, now: number,
): Promise<AnswerResult> {
  const open = await openRequest(store, runId, stepKey, now);
  if (!open.ok) return open;
  const checked = checkAnswer(open.request, given);
  if (!checked.ok) return { ...checked, request: open.request };
  const answer: ApprovalAnswer = { runId, step: stepKey, approver: checked.approver, choice: checked.choice, inputs: checked.inputs, answeredAt: now, via, from };
  const outcome = await store.recordAnswer(answer, requestKey(stepKey, runId), now);
  if (outcome === 'recorded') return { ok: true, answer, request: open.request };
  if (outcome === 'duplicate') return { ok: false, status: 410, reason: `${checked.approver} has answered this approval already`, request: open.request };
  if (outcome === 'not-found') return { ok: false, status: 404, reason: `no run ${runId}` };
  return { ok: false, status: 410, reason: 'this approval is closed: it was decided, timed out or expired', request: open.request };
}

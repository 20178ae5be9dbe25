/**
 * What `flux runs show` says of a run's open approval steps: who is asked, when the link
 * expires, and the answers so far. Read from the journal (the request each step journaled)
 * and the store's answers; nothing here writes.
 */
import { requestStepKey, type ApprovalRequest } from '../approvals/request.js';
import type { RunRow, Store } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import { shortTime } from './runs-format.js';

/** One open approval step of a run. */
export interface OpenApproval {
  readonly step: string;
  readonly approvers: readonly string[];
  readonly quorum: number;
  readonly expiresAt: number;
  readonly answers: readonly { readonly by: string; readonly choice: string; readonly at: number; readonly via: string }[];
}

/** The approval steps of a run that asked and are not closed. */
export async function openApprovals(store: Store, run: RunRow): Promise<OpenApproval[]> {
  const journal = await store.journalFor(run.id);
  const keys = new Set(journal.map((e) => e.key));
  const answers = await store.approvalAnswers(run.id);
  const open: OpenApproval[] = [];
  for (const e of journal) {
    const step = requestStepKey(e.key, run.id);
    if (step === undefined || keys.has(step)) continue;
    const request = (e.output as { output?: ApprovalRequest } | null)?.output;
    if (!request) continue;
    open.push({
      step, approvers: request.approvers, quorum: request.quorum, expiresAt: request.expires_at,
      answers: answers.filter((a) => a.step === step).map((a) => ({ by: a.approver, choice: a.choice, at: a.answeredAt, via: a.via })),
    });
  }
  return open;
}

/** The `asks` line of `flux runs show` for one open approval. */
export function approvalText(a: OpenApproval): string {
  const who = a.approvers.length > 0 ? a.approvers.map((p) => escapeControl(p)).join(', ') : 'anyone holding the link';
  const answered = a.answers.length === 0 ? 'no answer yet' : a.answers.map((x) => `${escapeControl(x.by)}: ${escapeControl(x.choice)} (${x.via}, ${shortTime(x.at)})`).join('; ');
  return `step \`${escapeControl(a.step)}\` asks ${who}${a.quorum > 1 ? ` (${a.quorum} must agree)` : ''}; the link expires ${shortTime(a.expiresAt)}; ${answered}`;
}

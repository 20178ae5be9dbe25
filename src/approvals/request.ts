/**
 * What an approval step asks and how an answer is judged, as plain data: the request as the
 * engine journals it (title, details, choices, form, who may answer, quorum, expiry), the
 * checks every way of answering shares (the page, POST /approvals/<token>, `flux approve`,
 * `flux run --answer`), and the decision a list of answers makes. Nothing here does I/O.
 */
import { createHash } from 'node:crypto';
import type { ApprovalAnswer } from '../store/store.js';

/** The choices offered when a step lists none. */
export const DEFAULT_CHOICES: readonly string[] = ['approve', 'reject'];

/** The choices an approval step offers: its `choices`, or the default pair. */
export function choicesOf(spec: Readonly<Record<string, unknown>>): string[] {
  return Array.isArray(spec.choices) && spec.choices.length > 0 ? spec.choices.map(String) : [...DEFAULT_CHOICES];
}

/** The longest text input, identity and choice accepted: outside data is bounded. */
export const MAX_TEXT_INPUT = 2000;
export const MAX_IDENTITY = 200;

/** One field of an approval's form. */
export interface InputSpec {
  readonly type: 'number' | 'text' | 'choice';
  readonly label?: string;
  readonly min?: number;
  readonly max?: number;
  readonly options?: readonly string[];
  readonly required?: boolean;
}

/** What an approval step asked, as journaled under its request key (see `requestKey`). */
export interface ApprovalRequest {
  readonly title: string;
  readonly details: string;
  readonly choices: readonly string[];
  readonly inputs: Readonly<Record<string, InputSpec>>;
  /** Who may answer, groups expanded, lowercased; empty: anyone holding the link. */
  readonly approvers: readonly string[];
  readonly quorum: number;
  /** When the link expires and the step times out (ms since the epoch). */
  readonly expires_at: number;
  /** When the request was sent (ms). */
  readonly sent_at: number;
  /** A short digest of the link's token (never the token). */
  readonly link_id: string;
  readonly delivered: boolean;
}

/*
 * The journal keys of an approval step's bookkeeping name the run: `flux runs retry` starts a
 * run with a copy of the original's journal, and a retried approval asks again (a new request,
 * its own reminders and answers) instead of finding the original's, long expired.
 */

/** The journal key of an approval step's request entry. */
export function requestKey(stepKey: string, runId: string): string {
  return `${stepKey}#request@${runId}`;
}

/** The step key of a request entry's key, when it is this run's request; otherwise undefined. */
export function requestStepKey(key: string, runId: string): string | undefined {
  const m = /^(.*)#request@([0-9A-Za-z_-]+)$/s.exec(key);
  return m && m[2] === runId ? m[1] : undefined;
}

/** The journal key of the n-th reminder of an approval step. */
export function reminderKey(stepKey: string, runId: string, n: number): string {
  return `${stepKey}#remind:${n}@${runId}`;
}

/**
 * The journal key marking that an answer was written to the run log (once per person). The
 * person is named by a digest: a name is outside text, and must not spell another kind of key.
 */
export function answerLoggedKey(stepKey: string, runId: string, approver: string): string {
  return `${stepKey}#answer:${createHash('sha256').update(approver).digest('hex').slice(0, 16)}@${runId}`;
}

/** The step key an approval bookkeeping key belongs to, or undefined for any other key. */
export function approvalStepKey(key: string): string | undefined {
  const m = /^(.*)#(request|remind:\d+|answer:[0-9a-f]{16})@[0-9A-Za-z_-]+$/s.exec(key);
  return m?.[1];
}

/**
 * The people `approvers` lists: identities as given (lowercased), `@group` expanded from the
 * workflow's `groups`, or from its owner when the owner is that team (`owner: { team, members }`).
 * Returns the unknown groups too, so the step can fail saying which.
 */
export function expandApprovers(approvers: unknown, workflow: Readonly<Record<string, unknown>>): { readonly people: string[]; readonly unknownGroups: string[] } {
  const people = new Set<string>();
  const unknownGroups: string[] = [];
  const groups = (workflow.groups !== null && typeof workflow.groups === 'object' ? workflow.groups : {}) as Record<string, unknown>;
  const owner = (workflow.owner !== null && typeof workflow.owner === 'object' ? workflow.owner : {}) as Record<string, unknown>;
  for (const a of Array.isArray(approvers) ? approvers : []) {
    const name = String(a).trim();
    if (!name.startsWith('@')) {
      people.add(name.toLowerCase());
      continue;
    }
    const group = name.slice(1);
    const members = Object.hasOwn(groups, group) ? groups[group] : owner.team === group ? owner.members : undefined;
    if (!Array.isArray(members)) unknownGroups.push(name);
    else for (const m of members) people.add(String(m).trim().toLowerCase());
  }
  return { people: [...people], unknownGroups };
}

/** An answer as given, before it is checked: from a form, JSON, or the command line. */
export interface GivenAnswer {
  readonly choice: unknown;
  readonly inputs: unknown;
  readonly as: unknown;
}

/** A checked answer, or why it is refused and with which HTTP status. */
export type CheckedAnswer =
  | { readonly ok: true; readonly approver: string; readonly choice: string; readonly inputs: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly status: 400 | 403; readonly reason: string; readonly field?: string };

/**
 * Checks an answer against the request: the person is listed (403 otherwise), the choice is
 * offered, and every form value has its type and bounds (400 otherwise). Values given as text
 * (a form, `--input k=v`) are converted: a number field takes a decimal number.
 */
export function checkAnswer(request: Pick<ApprovalRequest, 'choices' | 'inputs' | 'approvers'>, given: GivenAnswer): CheckedAnswer {
  const as = typeof given.as === 'string' ? given.as.trim().toLowerCase() : '';
  if (as === '') return { ok: false, status: 400, reason: 'say who answers (`as`)', field: 'as' };
  if (as.length > MAX_IDENTITY) return { ok: false, status: 400, reason: `\`as\` is longer than ${MAX_IDENTITY} characters`, field: 'as' };
  if (request.approvers.length > 0 && !request.approvers.includes(as)) return { ok: false, status: 403, reason: `${as} is not among the approvers of this step`, field: 'as' };
  if (typeof given.choice !== 'string' || !request.choices.includes(given.choice)) {
    return { ok: false, status: 400, reason: `the choice must be one of ${request.choices.join(', ')}`, field: 'choice' };
  }
  const raw = given.inputs ?? {};
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, status: 400, reason: 'inputs must be an object of field values', field: 'inputs' };
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(raw)) {
    if (!Object.hasOwn(request.inputs, name)) return { ok: false, status: 400, reason: `this approval has no input \`${name.slice(0, 60)}\``, field: name.slice(0, 60) };
  }
  for (const [name, spec] of Object.entries(request.inputs)) {
    const value = (raw as Record<string, unknown>)[name];
    if (value === undefined || value === '' || value === null) {
      if (spec.required) return { ok: false, status: 400, reason: `${spec.label ?? name} is required`, field: name };
      continue;
    }
    const checked = checkInput(name, spec, value);
    if (!checked.ok) return { ok: false, status: 400, reason: checked.reason, field: name };
    values[name] = checked.value;
  }
  return { ok: true, approver: as, choice: given.choice, inputs: values };
}

function checkInput(name: string, spec: InputSpec, value: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  const label = spec.label ?? name;
  if (spec.type === 'number') {
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isFinite(n)) return { ok: false, reason: `${label} must be a number` };
    if (spec.min !== undefined && n < spec.min) return { ok: false, reason: `${label} must be at least ${spec.min}` };
    if (spec.max !== undefined && n > spec.max) return { ok: false, reason: `${label} must be at most ${spec.max}` };
    return { ok: true, value: n };
  }
  if (typeof value !== 'string') return { ok: false, reason: `${label} must be text` };
  if (spec.type === 'choice') {
    if (!(spec.options ?? []).includes(value)) return { ok: false, reason: `${label} must be one of ${(spec.options ?? []).join(', ')}` };
    return { ok: true, value };
  }
  if (value.length > MAX_TEXT_INPUT) return { ok: false, reason: `${label} is longer than ${MAX_TEXT_INPUT} characters` };
  return { ok: true, value };
}

/** What a step's answers decide: the choice that reached the quorum first, and the answer that completed it. */
export function decide(answers: readonly ApprovalAnswer[], quorum: number): { readonly choice: string; readonly deciding: ApprovalAnswer } | undefined {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const n = (counts.get(a.choice) ?? 0) + 1;
    counts.set(a.choice, n);
    if (n >= quorum) return { choice: a.choice, deciding: a };
  }
  return undefined;
}

/** The step's output for a decision (or a timeout that took a choice). */
export function approvalOutput(answers: readonly ApprovalAnswer[], decided: { choice: string; deciding?: ApprovalAnswer }, timedOut: boolean): Record<string, unknown> {
  const d = decided.deciding;
  return {
    choice: decided.choice,
    inputs: d?.inputs ?? {},
    answered_by: d?.approver ?? null,
    answered_at: d ? new Date(d.answeredAt).toISOString() : null,
    via: d?.via ?? null,
    answers: answers.map((a) => ({ by: a.approver, choice: a.choice, inputs: a.inputs, at: new Date(a.answeredAt).toISOString(), via: a.via })),
    timed_out: timedOut,
  };
}

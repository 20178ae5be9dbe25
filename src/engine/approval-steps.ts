/**
 * The `approval` step: ask people to decide, and go on with their answer. Built like the
 * durable `wait_for` (waits.ts): on first reach the request is sent through `to` and journaled
 * under its own key (`<step>#request@<run>`, see approvals/request.ts), so a replay never sends it
 * twice; the attempt then ends waiting (Suspended) until the timeout or the next reminder,
 * whichever is first. Answers are recorded in the store by whoever takes them (the daemon's
 * page, `flux approve`), which makes the run due; the next attempt replays up to here, finds
 * them (RunRequest.approvals.answers) and either decides (the quorum reached) or waits again.
 * Reminders are journaled once each; at the timeout `on_timeout` decides.
 *
 * Without durable waits (`flux run`) nobody could answer, so the step takes its answer from
 * `flux run --answer STEP=CHOICE`, or fails saying it needs the daemon: it never hangs and
 * never passes silently.
 */
import { createHash } from 'node:crypto';
import { NOTIFY_TIMEOUT_MS } from '../connectors/deadline.js';
import type { Scope } from '../expr/cel.js';
import { renderString, renderValue, toCel, type CelContext } from '../expr/evaluate.js';
import type { ApprovalAnswer } from '../store/store.js';
import { asRecord } from '../workflow/model.js';
import {
  answerLoggedKey, approvalOutput, choicesOf, decide, expandApprovers, reminderKey, requestKey, type ApprovalRequest, type InputSpec,
} from '../approvals/request.js';
import { callConnector } from './calls.js';
import type { Frame, RunState } from './run-state.js';
import { journal } from './step-records.js';
import { durationMs, StepFailure, Suspended } from './step-state.js';
import { stepKey, type JournaledStep } from './types.js';

/** Where the step runs: what every part of it needs. */
interface At {
  readonly run: RunState;
  readonly spec: Readonly<Record<string, unknown>>;
  readonly id: string;
  readonly key: string;
  readonly path: string;
  readonly frame: Frame;
  readonly scope: Scope;
  readonly ctx: CelContext;
}

/** Runs an `approval` step; `started` is when it began (from the journal when an earlier attempt began it). */
export async function runApproval(run: RunState, raw: unknown, id: string, path: string, frame: Frame, started: number, scope: Scope, ctx: CelContext): Promise<unknown> {
  const at: At = { run, spec: asRecord(raw) ?? {}, id, key: stepKey(id, frame.index), path, frame, scope, ctx };
  if (!run.req.durableWaits) return answerInProcess(at);
  const history = run.req.history;
  const now = run.req.clock.now();
  const request = (history?.get(requestKey(at.key, run.req.runId))?.output as ApprovalRequest | undefined) ?? (await sendRequest(at));
  const answers = (run.req.approvals?.answers ?? []).filter((a) => a.runId === run.req.runId && a.step === at.key);
  logAnswers(at, answers, history);
  const decided = decide(answers, request.quorum);
  if (decided) return approvalOutput(answers, decided, false);
  if (now >= request.expires_at) return timedOut(at, answers);
  const everyMs = typeof at.spec.remind_every === 'string' ? durationMs(at.spec.remind_every) : undefined;
  let wakeAt = request.expires_at;
  if (everyMs !== undefined && everyMs > 0) {
    const due = Math.floor((now - request.sent_at) / everyMs);
    if (due >= 1 && !history?.has(reminderKey(at.key, run.req.runId, due))) await remind(at, request, due);
    wakeAt = Math.min(wakeAt, request.sent_at + (due + 1) * everyMs);
  }
  const waiting = history?.get(at.key);
  if (waiting === undefined) {
    journal(run, {
      key: at.key, step: id, path, ...(frame.index.length > 0 ? { index: frame.index } : {}), status: 'waiting', output: null, attempts: 1, duration_ms: 0,
      wake_at: wakeAt, started_at: started,
    });
  }
  throw new Suspended(id, at.key, path, wakeAt);
}

/** `flux run`: the answer given on the command line, or a failure that says how to give one. */
function answerInProcess(at: At): unknown {
  const { run, id } = at;
  if (run.req.dryRun) return { dry_run: true, choice: null, timed_out: false };
  const given = (run.req.approvals?.answers ?? []).filter((a) => a.step === at.key || a.step === id);
  const choices = choicesOf(at.spec);
  if (given.length === 0) {
    throw new StepFailure(`step \`${id}\` asks people to decide: that needs \`flux daemon\`, which waits for their answer durably; for a one-off run, give the answer with \`--answer ${id}=${choices[0] ?? 'CHOICE'}\``, id);
  }
  const answer = given[0]!;
  if (!choices.includes(answer.choice)) throw new StepFailure(`--answer ${id}=${answer.choice}: the choice must be one of ${choices.join(', ')}`, id);
  const answers = [{ ...answer, runId: run.req.runId, step: at.key }];
  logAnswers(at, answers, undefined);
  return approvalOutput(answers, { choice: answer.choice, deciding: answers[0]! }, false);
}

/**
 * Sends the request through `to` and journals what was asked; a request nobody received fails
 * the step. Its timeout counts from now, when it is sent (for a retried run too).
 */
async function sendRequest(at: At): Promise<ApprovalRequest> {
  const { run, spec, id } = at;
  const wf = run.req.workflow.value;
  const { people, unknownGroups } = expandApprovers(spec.approvers, wf);
  if (unknownGroups.length > 0) throw new StepFailure(`approvers ${unknownGroups.join(', ')}: no such group in the workflow's \`groups\` (or its owner team)`, id);
  const quorum = typeof spec.quorum === 'number' ? spec.quorum : 1;
  if (people.length > 0 && quorum > people.length) throw new StepFailure(`quorum ${quorum} can never be reached by ${people.length} approver${people.length === 1 ? '' : 's'}`, id);
  const started = run.req.clock.now();
  const expiresAt = started + durationMs(String(spec.timeout ?? '0s'));
  const choices = choicesOf(spec);
  const link = run.req.approvals?.link?.(at.key, expiresAt) ?? '';
  const base = { url: link, links: linksFor(at, people, expiresAt), choices, approvers: people, expires_at: new Date(expiresAt).toISOString(), title: '', details: '' };
  // Masked before they go anywhere: the page, the journal and the message show what a log would.
  const masker = run.req.masker;
  const title = masker.mask(String(renderString(String(spec.title ?? ''), at.scope, { ...at.ctx, approval: toCel(base) })));
  const details = spec.details === undefined ? '' : masker.mask(String(renderString(String(spec.details), at.scope, { ...at.ctx, approval: toCel({ ...base, title }) })));
  const partial = { title, details, choices, inputs: inputsOf(spec), approvers: people, quorum, expires_at: expiresAt, sent_at: started };
  const delivery = await deliver(at, partial, link, 'request');
  const request: ApprovalRequest = { ...partial, link_id: linkId(link), delivered: delivery.ok };
  run.record({
    type: 'approval.requested', step: id, path: at.path, ...indexOf(at), approvers: people, choices, quorum, expires_at: new Date(expiresAt).toISOString(),
    link_id: request.link_id, via: String(asRecord(spec.to)?.uses ?? ''), delivered: delivery.ok,
  });
  if (!delivery.ok) throw new StepFailure(`the approval request could not be delivered: ${delivery.error}`, id);
  journal(run, bookkeeping(at, requestKey(at.key, run.req.runId), request));
  return request;
}

/** Sends reminder `n` (a fresh link to the same step, expiring with it); a failed one is recorded and the wait goes on. */
async function remind(at: At, request: ApprovalRequest, n: number): Promise<void> {
  const link = at.run.req.approvals?.link?.(at.key, request.expires_at) ?? '';
  const delivery = await deliver(at, request, link, `remind:${n}`);
  at.run.record({ type: 'approval.reminded', step: at.id, path: at.path, ...indexOf(at), reminder: n, delivered: delivery.ok });
  journal(at.run, bookkeeping(at, reminderKey(at.key, at.run.req.runId, n), { reminder: n, delivered: delivery.ok }));
}

type Asked = Pick<ApprovalRequest, 'title' | 'details' | 'choices' | 'approvers' | 'expires_at'>;

/** Calls `to` with the request: its own `with`, or flux's body with the title, details, choices and link. */
async function deliver(at: At, asked: Asked, link: string, what: string): Promise<{ ok: true } | { ok: false; error: string }> {
  const { run, spec } = at;
  const to = asRecord(spec.to) ?? {};
  const approval = {
    url: link, links: linksFor(at, asked.approvers, asked.expires_at), title: asked.title, details: asked.details, choices: asked.choices, approvers: asked.approvers,
    expires_at: new Date(asked.expires_at).toISOString(),
  };
  try {
    const params = asRecord(renderValue(to.with ?? {}, at.scope, { ...at.ctx, approval: toCel(approval) })) ?? {};
    const withBody = params.json !== undefined || params.form !== undefined || params.body !== undefined ? params : {
      ...params,
      json: {
        text: `${asked.title}${asked.details ? `\n${asked.details}` : ''}\nChoices: ${asked.choices.join(', ')}\nAnswer: ${link}`,
        ...approval, run_id: run.req.runId, workflow: run.req.workflow.name, step: at.key,
      },
    };
    const outcome = await callConnector(run, String(to.uses ?? ''), withBody, `${run.req.runId}:${at.key}:${what}`, undefined, run.signal, NOTIFY_TIMEOUT_MS);
    return outcome.ok ? { ok: true } : { ok: false, error: run.req.masker.mask(outcome.error?.message ?? 'the call failed') };
  } catch (e) {
    if (e instanceof StepFailure) throw e;
    return { ok: false, error: run.req.masker.mask(e instanceof Error ? e.message : String(e)) };
  }
}

/** A link for each listed approver, answered as that person only (`approval.links`). */
function linksFor(at: At, people: readonly string[], expiresAt: number): Record<string, string> {
  const link = at.run.req.approvals?.link;
  return link ? Object.fromEntries(people.map((p) => [p, link(at.key, expiresAt, p)])) : {};
}

/** Nobody decided in time: on_timeout fails, escalates, or takes one of the choices. */
function timedOut(at: At, answers: readonly ApprovalAnswer[]): unknown {
  const onTimeout = typeof at.spec.on_timeout === 'string' ? at.spec.on_timeout : 'fail';
  at.run.record({ type: 'approval.timed_out', step: at.id, path: at.path, ...indexOf(at), on_timeout: onTimeout });
  const message = `nobody decided within ${String(at.spec.timeout)}`;
  if (onTimeout === 'fail') throw new StepFailure(message, at.id);
  if (onTimeout === 'escalate') throw new StepFailure(message, at.id, 'escalate');
  return approvalOutput(answers, { choice: onTimeout }, true);
}

/** Writes each answer to the run log once (a journal entry per person marks it written). */
function logAnswers(at: At, answers: readonly ApprovalAnswer[], history: ReadonlyMap<string, JournaledStep> | undefined): void {
  for (const a of answers) {
    const key = answerLoggedKey(at.key, at.run.req.runId, a.approver);
    if (history?.has(key)) continue;
    at.run.record({
      type: 'approval.answered', step: at.id, path: at.path, ...indexOf(at), by: a.approver, choice: a.choice, inputs: a.inputs,
      answered_at: new Date(a.answeredAt).toISOString(), via: a.via, from: a.from,
    });
    if (history !== undefined) journal(at.run, bookkeeping(at, key, { by: a.approver }));
  }
}

function bookkeeping(at: At, key: string, output: unknown): JournaledStep {
  return { key, step: at.id, path: at.path, ...indexOf(at), status: 'succeeded', output, attempts: 1, duration_ms: 0 };
}

function indexOf(at: At): { index?: readonly number[] } {
  return at.frame.index.length > 0 ? { index: at.frame.index } : {};
}

function inputsOf(spec: Readonly<Record<string, unknown>>): Record<string, InputSpec> {
  return (asRecord(spec.inputs) ?? {}) as Record<string, InputSpec>;
}

/** A short digest naming a link in logs; the link itself is a credential and is never logged. */
function linkId(link: string): string {
  return link === '' ? '' : createHash('sha256').update(link).digest('hex').slice(0, 12);
}

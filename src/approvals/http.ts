/**
 * `/approvals/<token>` in the daemon: GET shows the page, POST answers, from the page's form
 * (form-encoded, answered with HTML) or from a chat button (JSON `{ choice, inputs, as }`,
 * answered with JSON). The token is checked before anything else is read; the body is bounded.
 * Status codes: 200 shown or recorded; 400 a choice not offered or a bad input; 403 a forged
 * token or an approver not listed; 404 no such approval; 405 another method; 410 expired,
 * already answered by that person, or closed; 413 a body too large.
 */
import { exceedsBounds, MAX_JSON_DEPTH } from '../limits/json.js';
import type { Store } from '../store/store.js';
import { answerApproval, openRequest, APPROVALS_PATH } from './answering.js';
import { confirmationPage, formPage, messagePage, PAGE_HEADERS } from './page.js';
import { verifyToken } from './token.js';

/** The largest answer body accepted. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export interface ApprovalHttpRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType: string | undefined;
  /** The client address, recorded with the answer. */
  readonly from: string | null;
  /** Reads the body, or undefined when it is larger than MAX_ANSWER_BYTES. */
  body(): Promise<Uint8Array | undefined>;
}

export interface ApprovalHttpDeps {
  readonly store: Store;
  readonly key: Buffer;
  readonly now: () => number;
  /** Told once an answer is recorded (the daemon claims the woken run at once). */
  readonly onAnswered?: () => void;
}

export interface ApprovalReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Answers one request under /approvals/. */
export async function serveApprovalRequest(req: ApprovalHttpRequest, deps: ApprovalHttpDeps): Promise<ApprovalReply> {
  const json = (req.contentType ?? '').toLowerCase().startsWith('application/json');
  const reply = (status: number, heading: string, reason: string): ApprovalReply =>
    json ? jsonReply(status, { ok: false, error: reason }) : { status, headers: PAGE_HEADERS, body: messagePage(heading, reason) };
  if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') return { ...reply(405, 'Not allowed', 'use GET to see the approval, POST to answer it'), headers: { ...(json ? JSON_HEADERS : PAGE_HEADERS), allow: 'GET, POST' } };
  const token = req.path.slice(APPROVALS_PATH.length);
  const now = deps.now();
  const verified = verifyToken(deps.key, token, now);
  if (!verified.ok) {
    if (verified.refusal === 'expired') return reply(410, 'Expired', 'this approval link has expired');
    if (verified.refusal === 'forged') return reply(403, 'Not a valid link', 'this link was not made by flux');
    return reply(404, 'Not found', 'there is no approval at this address');
  }
  const { runId, step, kind, approver } = verified.claims;
  if (kind !== 'approval') return reply(403, 'Not a valid link', 'this link does not answer an approval');
  const refill = approver !== undefined ? { boundTo: approver } : {};
  if (req.method !== 'POST') {
    const open = await openRequest(deps.store, runId, step, now);
    if (!open.ok) return reply(open.status, open.status === 410 ? 'Closed' : 'Not found', open.reason);
    return json ? jsonReply(200, { ok: true, title: open.request.title, choices: open.request.choices, expires_at: new Date(open.request.expires_at).toISOString() })
      : { status: 200, headers: PAGE_HEADERS, body: formPage(open.request, open.answered, refill) };
  }
  const body = await req.body();
  if (body === undefined) return { ...reply(413, 'Too large', `the answer is larger than ${MAX_ANSWER_BYTES / 1024} KiB`), headers: { ...(json ? JSON_HEADERS : PAGE_HEADERS), connection: 'close' } };
  const given = json ? parseJson(body) : parseForm(body);
  if (!given.ok) return reply(400, 'Bad answer', given.reason);
  // A link sent to one approver answers as them: `as` may be left out, and may not name another.
  if (approver !== undefined) {
    const as = typeof given.value.as === 'string' ? given.value.as.trim().toLowerCase() : '';
    if (as !== '' && as !== approver) return reply(403, 'Not your link', `this link is for ${approver}`);
    given.value = { ...given.value, as: approver };
  }
  const result = await answerApproval(deps.store, runId, step, given.value, json ? 'api' : 'page', req.from, now);
  if (result.ok) {
    deps.onAnswered?.();
    return json ? jsonReply(200, { ok: true, recorded: { by: result.answer.approver, choice: result.answer.choice, inputs: result.answer.inputs, at: new Date(now).toISOString() } })
      : { status: 200, headers: PAGE_HEADERS, body: confirmationPage(result.request, result.answer) };
  }
  if (json) return jsonReply(result.status, { ok: false, error: result.reason, ...(result.field !== undefined ? { field: result.field } : {}) });
  // A refused form is shown again with the problem, and with what was typed, unless nothing more can be answered.
  if ((result.status === 400 || result.status === 403) && result.request) {
    const asGiven = typeof given.value.as === 'string' ? given.value.as : '';
    const inputs = (given.value.inputs ?? {}) as Record<string, unknown>;
    return { status: result.status, headers: PAGE_HEADERS, body: formPage(result.request, [], { ...refill, as: asGiven, inputs, problem: result.reason }) };
  }
  return reply(result.status, result.status === 410 ? 'Closed' : 'Not found', result.reason);
}

const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

function jsonReply(status: number, value: unknown): ApprovalReply {
  return { status, headers: JSON_HEADERS, body: `${JSON.stringify(value)}\n` };
}

type Parsed = { ok: true; value: { choice: unknown; inputs: unknown; as: unknown } } | { ok: false; reason: string };

/** `choice`, `as` and `input.NAME` fields of the page's form. */
function parseForm(body: Uint8Array): Parsed {
  const params = new URLSearchParams(Buffer.from(body).toString('utf8'));
  const inputs: Record<string, string> = {};
  let count = 0;
  for (const [k, v] of params) {
    if (++count > 100) return { ok: false, reason: 'the form has too many fields' };
    if (k.startsWith('input.')) inputs[k.slice('input.'.length)] = v;
  }
  return { ok: true, value: { choice: params.get('choice') ?? undefined, as: params.get('as') ?? undefined, inputs } };
}

/** `{ choice, inputs, as }` from a chat button or a script. */
function parseJson(body: Uint8Array): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
  const problem = exceedsBounds(value, { maxDepth: MAX_JSON_DEPTH, maxBytes: MAX_ANSWER_BYTES }, 'the answer');
  if (problem !== undefined) return { ok: false, reason: problem };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'the body must be an object: { "choice": …, "as": …, "inputs": { … } }' };
  const v = value as Record<string, unknown>;
  return { ok: true, value: { choice: v.choice, inputs: v.inputs, as: v.as } };
}

/**
 * `GET /ack/<token>` and `POST /ack/<token>`: the page an escalation's owner acknowledges it
 * through, from a phone as well as a desk. Server-rendered, no JavaScript, under a CSP that
 * allows nothing but its own inline style (by hash) and posting the form back to itself;
 * every outside string (the error, names) is HTML-escaped and bounded.
 *
 * Refusals: a token that is malformed or not signed by this store's key 403; an expired one
 * 410; an escalation already acknowledged 409, saying who and when; a name that is not the
 * owner, a member or the backup 403; a run with no escalation 404.
 */
import { createHash } from 'node:crypto';
import { verifyToken } from '../approvals/token.js';
import type { Clock } from '../engine/clock.js';
import { MAX_MESSAGE, text } from '../metrics/format/html-text.js';
import type { EscalationRow, Store } from '../store/store.js';
import { acknowledge, MAX_ACK_NAME } from './ack.js';
import { ACK_PATH } from './ack-links.js';
import type { Reply } from './intake.js';

/** The largest form body read: one name. */
export const MAX_ACK_FORM_BYTES = 4096;

export interface AckPageDeps {
  readonly store: Store;
  /** The key links are signed with (the daemons' shared key, read once at start). */
  readonly key: Buffer;
  readonly clock: Clock;
  readonly logDir: string;
  /** Told of each acknowledgement recorded (for the daemon's log), and of a run log that could not be appended to. */
  readonly onAcked?: (e: EscalationRow, logProblem?: string) => void;
}

const STYLE = [
  'body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:36rem;color:#1b1b1b}',
  'h1{font-size:1.3rem}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}dt{color:#555}dd{margin:0;overflow-wrap:anywhere}',
  'select,button{font:inherit;padding:.6rem;width:100%;margin-top:.5rem}button{background:#0b5;color:#fff;border:0;border-radius:.3rem}',
  '.refused{color:#a00}',
].join('');
const CSP = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

/** Answers one request to `/ack/<token>`. `body` reads the request body (undefined past the limit). */
export async function ackPage(req: { readonly method: string; readonly path: string; readonly body: () => Promise<Uint8Array | undefined> }, deps: AckPageDeps): Promise<Reply> {
  if (req.method !== 'GET' && req.method !== 'POST') return { status: 405, headers: { 'content-type': 'text/plain', allow: 'GET, POST' }, body: 'acknowledgement links take GET and POST\n' };
  const now = deps.clock.now();
  const verified = verifyToken(deps.key, req.path.slice(ACK_PATH.length), now);
  if (!verified.ok) {
    return verified.refusal === 'expired'
      ? page(410, 'Link expired', '<p class="refused">This acknowledgement link has expired. Acknowledge with <code>flux runs ack RUN_ID --as NAME</code> instead.</p>')
      : page(403, 'Link not valid', '<p class="refused">This is not a valid acknowledgement link.</p>');
  }
  if (verified.claims.kind !== 'ack') return page(403, 'Link not valid', '<p class="refused">This is not an acknowledgement link.</p>');
  const runId = verified.claims.runId;
  const escalation = await deps.store.getEscalation(runId);
  if (!escalation) return page(404, 'No such escalation', `<p class="refused">Run ${text(runId)} has no escalation to acknowledge.</p>`);
  if (escalation.ackedAt !== null) return alreadyAcked(escalation);
  if (req.method === 'GET') return page(200, 'Acknowledge escalation', `${summary(escalation, now)}${form(escalation)}`);
  const body = await req.body();
  if (body === undefined) return page(413, 'Too large', '<p class="refused">The form is too large.</p>');
  const name = (new URLSearchParams(Buffer.from(body).toString('utf8')).get('as') ?? '').trim();
  if (name === '' || name.length > MAX_ACK_NAME) return page(400, 'Who are you?', `<p class="refused">Choose who acknowledges.</p>${form(escalation)}`);
  const result = await acknowledge(deps.store, deps.logDir, runId, name, 'link', now);
  switch (result.kind) {
    case 'acked':
      deps.onAcked?.(result.escalation, result.logProblem);
      return page(200, 'Acknowledged', `<p>Thank you, ${text(name)}: the escalation of ${text(escalation.workflow)} (run ${text(runId)}) is acknowledged at ${text(iso(now))}.${escalation.hasThen ? ' Nobody else will be called.' : ''}</p>`);
    case 'already':
      return alreadyAcked(result.escalation);
    case 'not-member':
      return page(403, 'Not on the team', `<p class="refused">${text(name)} is not ${escalation.members.length > 1 ? `on the ${text(escalation.owner)} team` : 'the owner'} and cannot acknowledge this escalation.</p>`);
    case 'not-found':
      return page(404, 'No such escalation', `<p class="refused">Run ${text(runId)} has no escalation to acknowledge.</p>`);
  }
}

function alreadyAcked(e: EscalationRow): Reply {
  return page(409, 'Already acknowledged', `<p>This escalation was already acknowledged by ${text(e.ackedBy ?? '?')} at ${text(iso(e.ackedAt ?? 0))}.</p>`);
}

function summary(e: EscalationRow, now: number): string {
  const overdue = now >= e.ackDueAt ? ' (overdue)' : '';
  return `<dl><dt>Workflow</dt><dd>${text(e.workflow)}</dd><dt>Run</dt><dd>${text(e.runId)}</dd><dt>Owner</dt><dd>${text(e.owner)}</dd>`
    + `${e.error.step !== undefined ? `<dt>Failed step</dt><dd>${text(e.error.step)}</dd>` : ''}<dt>Error</dt><dd>${text(e.error.message, MAX_MESSAGE)}</dd>`
    + `<dt>Escalated</dt><dd>${text(iso(e.escalatedAt))}</dd><dt>Acknowledge by</dt><dd>${text(iso(e.ackDueAt))}${overdue}</dd></dl>`;
}

function form(e: EscalationRow): string {
  const options = e.members.map((m) => `<option>${text(m)}</option>`).join('');
  return `<form method="post"><label for="as">Acknowledge as</label><select id="as" name="as" required>${options}</select><button type="submit">Acknowledge</button></form>`;
}

function page(status: number, title: string, body: string): Reply {
  return {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
    },
    body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
      + `<title>flux: ${title}</title><style>${STYLE}</style></head><body><h1>${title}</h1>${body}</body></html>\n`,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

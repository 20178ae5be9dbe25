/**
 * The page a person answers an approval on: server-rendered HTML with no JavaScript, one form
 * that works on a phone (the title, the details, who answers, the typed inputs, a button per
 * choice), the same page again with the problem shown when an answer is refused, and a
 * confirmation. Everything from outside (titles, details, names, values, reasons) is bounded,
 * control characters made visible and HTML-escaped; the Content-Security-Policy allows nothing
 * but this page's own stylesheet and posting the form back to itself.
 */
import { createHash } from 'node:crypto';
import { esc } from '../metrics/format/html-text.js';
import { escapeControl } from '../text/escape.js';
import type { ApprovalAnswer } from '../store/store.js';
import type { ApprovalRequest } from './request.js';

const STYLE = [
  'body{font:16px/1.45 system-ui,sans-serif;margin:0;padding:1rem;background:#f6f7f9;color:#1d2330}',
  'main{max-width:36rem;margin:0 auto;background:#fff;border-radius:.6rem;padding:1.2rem;box-shadow:0 1px 3px #0002}',
  'h1{font-size:1.3rem;margin:0 0 .6rem}.details{white-space:pre-wrap;background:#f1f3f6;padding:.7rem;border-radius:.4rem}',
  'label{display:block;margin:.8rem 0 .2rem;font-weight:600}input,select{width:100%;box-sizing:border-box;font-size:1rem;padding:.55rem;border:1px solid #aab;border-radius:.35rem}',
  '.choices{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:1.2rem}button{flex:1 1 8rem;font-size:1.05rem;padding:.75rem;border:0;border-radius:.4rem;background:#2450c8;color:#fff}',
  '.problem{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:.4rem}.meta{color:#556;font-size:.9rem}.done{font-size:1.15rem}',
].join('');

/** The response headers every approval page carries: no script, no framing, no referrer (the URL is a credential), no caching. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
};

/** An outside text, bounded, control characters made visible (newlines kept), HTML-escaped. */
function t(value: unknown, max = 500): string {
  const s = String(value ?? '');
  return esc(escapeControl(s.length > max ? `${s.slice(0, max)}…` : s, { keepLines: true }));
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`
    + `<meta name="referrer" content="no-referrer"><title>${t(title, 120)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>\n`;
}

/** What the form held when it was refused, to show it again. */
export interface Refill {
  /** The link is one approver's: the page answers as them and does not ask. */
  readonly boundTo?: string;
  readonly as?: string;
  readonly inputs?: Readonly<Record<string, unknown>>;
  readonly problem?: string;
}

/** The form: the request and a button per choice. */
export function formPage(request: ApprovalRequest, answered: readonly ApprovalAnswer[], refill: Refill = {}): string {
  const who = request.approvers.length > 0 ? `Asked of ${request.approvers.map((a) => t(a, 200)).join(', ')}` : 'Anyone holding this link may answer';
  const quorum = request.quorum > 1 ? ` · ${request.quorum} matching answers decide (${answered.length} so far)` : '';
  const fields = Object.entries(request.inputs).map(([name, spec]) => {
    const value = refill.inputs?.[name];
    const label = `<label for="in-${t(name, 60)}">${t(spec.label ?? name, 200)}${spec.required ? ' *' : ''}</label>`;
    const attrs = `id="in-${t(name, 60)}" name="input.${t(name, 60)}"${spec.required ? ' required' : ''}`;
    if (spec.type === 'choice') {
      const options = (spec.options ?? []).map((o) => `<option${value === o ? ' selected' : ''}>${t(o, 200)}</option>`).join('');
      return `${label}<select ${attrs}><option value=""></option>${options}</select>`;
    }
    if (spec.type === 'number') {
      const bounds = `${spec.min !== undefined ? ` min="${t(spec.min)}"` : ''}${spec.max !== undefined ? ` max="${t(spec.max)}"` : ''}`;
      return `${label}<input type="number" step="any" inputmode="decimal" ${attrs}${bounds} value="${t(value ?? '')}">`;
    }
    return `${label}<input type="text" maxlength="2000" ${attrs} value="${t(value ?? '', 2000)}">`;
  }).join('');
  const buttons = request.choices.map((c) => `<button type="submit" name="choice" value="${t(c, 100)}">${t(c, 100)}</button>`).join('');
  return page(request.title, `<h1>${t(request.title, 300)}</h1>`
    + (refill.problem ? `<p class="problem" role="alert">${t(refill.problem)}</p>` : '')
    + (request.details ? `<div class="details">${t(request.details, 8000)}</div>` : '')
    + `<p class="meta">${who}${quorum} · expires ${t(new Date(request.expires_at).toISOString())}</p>`
    + (refill.boundTo !== undefined
      ? `<form method="post"><p class="meta">Answering as <strong id="as-bound">${t(refill.boundTo, 200)}</strong></p>`
      : `<form method="post"><label for="as">Your name or email</label><input id="as" name="as" type="text" required maxlength="200" autocomplete="email" value="${t(refill.as ?? '', 200)}">`)
    + `${fields}<div class="choices">${buttons}</div></form>`);
}

/** The confirmation after an answer was recorded. */
export function confirmationPage(request: ApprovalRequest, answer: ApprovalAnswer): string {
  return page('Answer recorded', `<h1>${t(request.title, 300)}</h1><p class="done" role="status">Recorded: <strong>${t(answer.choice, 100)}</strong> by ${t(answer.approver, 200)}.</p>`
    + `<p class="meta">At ${t(new Date(answer.answeredAt).toISOString())}. You can close this page.</p>`);
}

/** A page that only says why nothing can be answered here (expired, closed, forged). */
export function messagePage(heading: string, reason: string): string {
  return page(heading, `<h1>${t(heading, 200)}</h1><p>${t(reason)}</p>`);
}

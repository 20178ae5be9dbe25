// The checks every way of answering shares (checkAnswer), the quorum's decision, groups, and
// the page's handling of outside text: plain functions, tested as tables.
import { describe, expect, it } from 'vitest';
import { confirmationPage, formPage, PAGE_HEADERS } from '../../src/approvals/page.js';
import { checkAnswer, decide, expandApprovers, type ApprovalRequest } from '../../src/approvals/request.js';
import type { ApprovalAnswer } from '../../src/store/store.js';

const request: ApprovalRequest = {
  title: 'Discount', details: '', choices: ['approve', 'reject'], approvers: ['maria@example.com', 'tom@example.com'], quorum: 1,
  inputs: {
    discount: { type: 'number', label: 'Discount %', min: 0, max: 50, required: true },
    note: { type: 'text' },
    tier: { type: 'choice', options: ['gold', 'silver'] },
  },
  expires_at: Date.UTC(2026, 10, 26, 9), sent_at: Date.UTC(2026, 10, 24, 9), link_id: 'abc', delivered: true,
};

describe('checkAnswer', () => {
  const ok = { choice: 'approve', as: 'Maria@Example.com ', inputs: { discount: '12.5', note: 'fine', tier: 'gold' } };
  it('accepts a listed person (any case), an offered choice and typed inputs, converting numbers given as text', () => {
    expect(checkAnswer(request, ok)).toEqual({ ok: true, approver: 'maria@example.com', choice: 'approve', inputs: { discount: 12.5, note: 'fine', tier: 'gold' } });
    expect(checkAnswer(request, { ...ok, inputs: { discount: 0 } })).toMatchObject({ ok: true, inputs: { discount: 0 } });
    expect(checkAnswer({ ...request, approvers: [] }, { ...ok, as: 'anyone' })).toMatchObject({ ok: true, approver: 'anyone' });
  });
  it.each([
    ['no one named', { ...ok, as: '' }, 400, 'as'],
    ['a name too long', { ...ok, as: 'x'.repeat(201) }, 400, 'as'],
    ['not an approver', { ...ok, as: 'eve@example.com' }, 403, 'as'],
    ['a choice not offered', { ...ok, choice: 'maybe' }, 400, 'choice'],
    ['a choice that is not text', { ...ok, choice: ['approve'] }, 400, 'choice'],
    ['inputs that are a list', { ...ok, inputs: [1] }, 400, 'inputs'],
    ['an unknown input', { ...ok, inputs: { ...ok.inputs, bonus: 1 } }, 400, 'bonus'],
    ['a required input left out', { ...ok, inputs: { note: 'x' } }, 400, 'discount'],
    ['a number that is not one', { ...ok, inputs: { discount: '12abc' } }, 400, 'discount'],
    ['a number past max', { ...ok, inputs: { discount: 51 } }, 400, 'discount'],
    ['a number below min', { ...ok, inputs: { discount: -1 } }, 400, 'discount'],
    ['text too long', { ...ok, inputs: { discount: 1, note: 'x'.repeat(2001) } }, 400, 'note'],
    ['text that is not text', { ...ok, inputs: { discount: 1, note: { a: 1 } } }, 400, 'note'],
    ['a choice input not among its options', { ...ok, inputs: { discount: 1, tier: 'bronze' } }, 400, 'tier'],
  ])('refuses %s', (_what, given, status, field) => {
    expect(checkAnswer(request, given)).toMatchObject({ ok: false, status, field });
  });
});

describe('decide', () => {
  const a = (approver: string, choice: string): ApprovalAnswer => ({ runId: 'r', step: 'approve', approver, choice, inputs: {}, answeredAt: 0, via: 'page', from: null });
  it('takes the first choice to reach the quorum, and the answer that completed it', () => {
    expect(decide([], 1)).toBeUndefined();
    expect(decide([a('m', 'reject')], 1)).toMatchObject({ choice: 'reject', deciding: { approver: 'm' } });
    expect(decide([a('m', 'approve'), a('t', 'reject')], 2)).toBeUndefined();
    expect(decide([a('m', 'approve'), a('t', 'reject'), a('x', 'approve')], 2)).toMatchObject({ choice: 'approve', deciding: { approver: 'x' } });
  });
});

describe('expandApprovers', () => {
  it('expands groups from `groups` or the owner team, lowercases, drops repeats, and names unknown groups', () => {
    const wf = { groups: { managers: ['Maria@Example.com', 'tom@example.com'] }, owner: { team: 'finance', members: ['ann@example.com'] } };
    expect(expandApprovers(['@managers', 'tom@example.com', '@finance', '@nobody', '@constructor'], wf)).toEqual({
      people: ['maria@example.com', 'tom@example.com', 'ann@example.com'], unknownGroups: ['@nobody', '@constructor'],
    });
  });
});

describe('the page', () => {
  it('HTML-escapes and bounds outside text, shows control characters, and allows no script', () => {
    const hostile = { ...request, title: '<script>alert(1)</script>\u202e', details: `"><img src=x onerror=alert(1)>\n${'d'.repeat(10_000)}`, choices: ['<b>ok</b>'] };
    const html = formPage(hostile, [], { as: '"><script>', inputs: { note: '</textarea><script>' }, problem: '<i>bad</i>' });
    expect(html).not.toMatch(/<script|<img|<b>|<i>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('\u202e');
    expect(html.length).toBeLessThan(20_000);
    expect(PAGE_HEADERS['content-security-policy']).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'; frame-ancestors 'none'/);
    expect(PAGE_HEADERS['referrer-policy']).toBe('no-referrer');
    const done = confirmationPage(hostile, { runId: 'r', step: 's', approver: '<u>x</u>', choice: '<b>ok</b>', inputs: {}, answeredAt: 0, via: 'page', from: null });
    expect(done).not.toMatch(/<u>|<b>ok/);
  });
});

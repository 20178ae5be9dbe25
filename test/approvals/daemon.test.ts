// Approval steps under a real `flux daemon` (spawned, killed with kill -9, restarted), answered
// through the page (real headless Chromium clicks a choice), POST /approvals/<token> with JSON,
// and a spawned `flux approve`; every refusal with its status code or exit code. Time is the
// test clock (FLUX_TEST_CLOCK): nothing here sleeps for the daemon.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Browser } from 'playwright-core';
import { readRunLog, type RunRecord } from '../../src/store/run-log.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRow } from '../../src/store/store.js';
import { validateRecord } from '../engine/harness.js';
import { ROOT, runFlux } from '../helpers.js';
import { launchChromium } from '../metrics/html-check.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { killChildren, spawnDaemon, type RunningDaemon } from '../daemon/spawn-daemon.js';

vi.setConfig({ testTimeout: 60_000 });

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const HOUR = 3_600_000;

let chat: TestServer;
let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(async () => {
  chat = await startTestServer();
  chat.script('POST /messages', { status: 200, body: { ok: true } });
  chat.script('POST /done', { status: 200, body: { ok: true } });
  dir = mkdtempSync(join(tmpdir(), 'flux-approval-'));
  mkdirSync(join(dir, 'flows'));
  setClock(T0);
  writeFileSync(join(dir, 'flows', 'discount.yaml'), flow());
});
afterEach(async () => {
  killChildren(children);
  await chat.close();
});

function setClock(ms: number): void {
  writeFileSync(join(dir, 'clock'), String(ms));
}

function flow(quorum = 1, remind = '', onTimeout = 'reject'): string {
  return `name: discount
owner: ops@example.com
trigger:
  webhook: { path: /hooks/deal }
connections:
  chat: { base_url: "${chat.url}" }
groups:
  managers: [maria@example.com, tom@example.com]
steps:
  - id: approve
    approval:
      to: { uses: chat.request, with: { method: POST, path: /messages } }
      title: "Discount of \${{ string(event.discount) }}% for \${{ event.customer }}"
      details: "Customer <b>\${{ event.customer }}</b> asks for more."
      inputs:
        discount: { type: number, label: "Discount %", min: 0, max: 50 }
        note: { type: text }
      approvers: ["@managers"]
      quorum: ${quorum}
      timeout: 48h${remind}
      on_timeout: ${onTimeout}
  - id: after
    uses: chat.request
    with:
      method: POST
      path: /done
      json:
        choice: "\${{ steps.approve.output.choice }}"
        by: "\${{ steps.approve.output.timed_out ? 'nobody' : steps.approve.output.answered_by }}"
        discount: "\${{ 'discount' in steps.approve.output.inputs ? string(steps.approve.output.inputs.discount) : '' }}"
`;
}

function daemon(): Promise<RunningDaemon> {
  return spawnDaemon({
    cwd: dir, children, args: ['flows', '--state-dir', 'state', '--port', '0', '--lease', '1s', '--grace', '2s'],
    env: { FLUX_TEST_CLOCK: join(dir, 'clock') },
  });
}

async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

async function runRow(id: string): Promise<RunRow | undefined> {
  const store = await openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: () => T0, readOnly: true });
  try {
    return await store.getRun(id);
  } finally {
    await store.close();
  }
}

/** Starts a run through the webhook and waits until it waits, with its request sent; returns its id and the link. */
async function asked(d: RunningDaemon, event: unknown = { customer: 'ACME', discount: 20 }): Promise<{ id: string; link: string; links: Record<string, string> }> {
  const res = await fetch(`${d.url}/hooks/deal`, { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json' } });
  expect(res.status).toBe(202);
  const id = ((await res.json()) as { run_id: string }).run_id;
  await until(async () => (await runRow(id))?.status === 'waiting', 'the run waits');
  const sent = chat.received.filter((r) => r.path === '/messages').map((r) => JSON.parse(r.body) as { run_id: string; url: string; links: Record<string, string> });
  const mine = sent.find((m) => m.run_id === id)!;
  return { id, link: mine.url, links: mine.links };
}

/** The same link on another daemon (a restarted one listens on another port). */
function on(d: RunningDaemon, link: string): string {
  return `${d.url}${new URL(link).pathname}`;
}

const post = (url: string, body: unknown) => fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

async function finished(id: string): Promise<RunRow> {
  await until(async () => ['succeeded', 'failed', 'escalated'].includes((await runRow(id))?.status ?? ''), 'the run finishes');
  return (await runRow(id))!;
}

function logOf(id: string): RunRecord[] {
  const records = readRunLog(join(dir, 'state', 'logs', 'discount', `${id}.jsonl`)).records;
  for (const r of records) expect(validateRecord(r), JSON.stringify(validateRecord.errors)).toBe(true);
  return records;
}

describe('approval steps in the daemon', () => {
  it('a daemon killed (kill -9) while the run waits: restarted, answered, the run completes with the answer', async () => {
    const first = await daemon();
    const { id, link } = await asked(first);
    expect(link).toMatch(new RegExp(`^${first.url}/approvals/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$`));
    first.child.kill('SIGKILL');
    expect((await first.exit).signal).toBe('SIGKILL');

    const second = await daemon();
    setClock(T0 + HOUR);
    const page = await fetch(on(second, link));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('Discount of 20% for ACME');
    expect(html).toContain('Customer &lt;b&gt;ACME&lt;/b&gt; asks for more.');
    const res = await post(on(second, link), { choice: 'approve', as: 'Tom@Example.com', inputs: { discount: 15, note: 'ok' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, recorded: { by: 'tom@example.com', choice: 'approve', inputs: { discount: 15, note: 'ok' } } });
    expect((await finished(id)).status).toBe('succeeded');
    expect(JSON.parse(chat.received.find((r) => r.path === '/done')!.body)).toEqual({ choice: 'approve', by: 'tom@example.com', discount: '15' });
    // The request went out once, across the crash.
    expect(chat.received.filter((r) => r.path === '/messages')).toHaveLength(1);
    const log = logOf(id);
    expect(log.filter((r) => r.type === 'approval.requested')).toHaveLength(1);
    expect(log.find((r) => r.type === 'approval.answered')).toMatchObject({ by: 'tom@example.com', choice: 'approve', via: 'api', inputs: { discount: 15, note: 'ok' } });
    expect(JSON.stringify(log)).not.toContain(new URL(link).pathname.split('/').pop()!);
    // Closed now: the link answers 410.
    expect((await post(on(second, link), { choice: 'reject', as: 'maria@example.com' })).status).toBe(410);
    const show = await runFlux(['runs', 'show', id, '--state-dir', 'state'], { cwd: dir, env: { FLUX_TEST_CLOCK: join(dir, 'clock') } });
    expect(show.stdout).not.toContain('#request');
  });

  it('kill -9 between two answers of a quorum, and while a reminder comes due: one reminder, and the second answer completes it', async () => {
    writeFileSync(join(dir, 'flows', 'discount.yaml'), flow(2, '\n      remind_every: 8h'));
    const first = await daemon();
    const { id, link, links } = await asked(first);
    // Each approver got a link of their own: it answers as them, and as nobody else.
    expect(Object.keys(links)).toEqual(['maria@example.com', 'tom@example.com']);
    const maria = links['maria@example.com']!;
    expect(await (await post(maria, { choice: 'approve', as: 'tom@example.com' })).json()).toEqual({ ok: false, error: 'this link is for maria@example.com' });
    expect(await (await fetch(maria)).text()).toContain('Answering as <strong id="as-bound">maria@example.com</strong>');
    const viaOwnLink = await post(maria, { choice: 'approve', inputs: { discount: 10 } });
    expect(viaOwnLink.status).toBe(200);
    expect(await viaOwnLink.json()).toMatchObject({ recorded: { by: 'maria@example.com' } });
    expect((await post(link, { choice: 'reject', as: 'maria@example.com' })).status).toBe(410); // the shared link: maria has answered
    await until(async () => (await runRow(id))?.status === 'waiting' && (await runRow(id))?.wakeAt === T0 + 8 * HOUR, 'the run waits again, for the first reminder');
    first.child.kill('SIGKILL');
    await first.exit;
    setClock(T0 + 9 * HOUR); // the first reminder came due while no daemon ran
    const second = await daemon();
    await until(() => chat.received.filter((r) => r.path === '/messages').length === 2, 'the reminder is sent');
    await until(async () => (await runRow(id))?.wakeAt === T0 + 16 * HOUR, 'the run waits for the next reminder');
    second.child.kill('SIGKILL');
    await second.exit;
    const third = await daemon();
    const answered = await runFlux(['approve', id, '--choice', 'approve', '--as', 'tom@example.com', '--input', 'discount=12', '--state-dir', 'state'], { cwd: dir, env: { FLUX_TEST_CLOCK: join(dir, 'clock') } });
    expect(answered.code, answered.stderr).toBe(0);
    expect((await finished(id)).status).toBe('succeeded');
    expect(chat.received.filter((r) => r.path === '/messages')).toHaveLength(2); // one request, one reminder, across two crashes
    expect(JSON.parse(chat.received.find((r) => r.path === '/done')!.body)).toEqual({ choice: 'approve', by: 'tom@example.com', discount: '12' });
    const log = logOf(id);
    expect(log.filter((r) => r.type === 'approval.reminded')).toEqual([expect.objectContaining({ reminder: 1, delivered: true })]);
    expect(log.filter((r) => r.type === 'approval.answered').map((r) => (r as { by: string }).by)).toEqual(['maria@example.com', 'tom@example.com']);
    expect(third.child.exitCode).toBeNull();
  });

  it('an approval that timed out and failed asks again when the run is retried, and the retry goes on with the answer', async () => {
    writeFileSync(join(dir, 'flows', 'discount.yaml'), flow(1, '', 'fail'));
    const d = await daemon();
    const { id } = await asked(d);
    setClock(T0 + 49 * HOUR);
    expect(await finished(id)).toMatchObject({ status: 'failed', error: { message: 'nobody decided within 48h', step: 'approve' } });
    const env = { FLUX_TEST_CLOCK: join(dir, 'clock') };
    const retried = await runFlux(['runs', 'retry', id, '--state-dir', 'state'], { cwd: dir, env });
    expect(retried.code, retried.stderr).toBe(0);
    const retry = /\b(01[0-9A-Z]{24})\b/.exec(retried.stdout.replace(id, ''))![1]!;
    await until(() => chat.received.some((r) => r.path === '/messages' && (JSON.parse(r.body) as { run_id: string }).run_id === retry), 'the retry asks again');
    await until(async () => (await runRow(retry))?.status === 'waiting', 'the retry waits');
    const ask = chat.received.map((r) => (r.path === '/messages' ? JSON.parse(r.body) as { run_id: string; url: string; expires_at: string } : undefined)).find((m) => m?.run_id === retry)!;
    expect(ask.expires_at).toBe(new Date(T0 + 97 * HOUR).toISOString()); // 48h from when it asked again
    expect((await post(ask.url, { choice: 'approve', as: 'tom@example.com' })).status).toBe(200);
    expect((await finished(retry)).status).toBe('succeeded');
  });

  it('refuses: forged 403, unknown 404, unlisted approver 403, choice not offered 400, bad input 400, too large 413, second answer 410, expired 410', async () => {
    writeFileSync(join(dir, 'flows', 'discount.yaml'), flow(2));
    const d = await daemon();
    const { id, link } = await asked(d);
    const [payload, signature] = new URL(link).pathname.split('/').pop()!.split('.');
    const forged = `${d.url}/approvals/${payload}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`;
    expect((await fetch(forged)).status).toBe(403);
    expect((await post(forged, { choice: 'approve', as: 'tom@example.com' })).status).toBe(403);
    expect((await fetch(`${d.url}/approvals/not-a-token`)).status).toBe(404);
    const unlisted = await post(link, { choice: 'approve', as: 'mallory@example.com' });
    expect(unlisted.status).toBe(403);
    expect(await unlisted.json()).toEqual({ ok: false, error: 'mallory@example.com is not among the approvers of this step', field: 'as' });
    expect((await post(link, { choice: 'maybe', as: 'tom@example.com' })).status).toBe(400);
    const bad = await post(link, { choice: 'approve', as: 'tom@example.com', inputs: { discount: 80 } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'Discount % must be at most 50', field: 'discount' });
    expect((await post(link, { choice: 'approve', as: 'tom@example.com', inputs: { nope: 1 } })).status).toBe(400);
    expect((await fetch(link, { method: 'POST', body: 'x'.repeat(70_000), headers: { 'content-type': 'application/json' } })).status).toBe(413);
    expect((await post(link, { choice: 'approve', as: 'tom@example.com' })).status).toBe(200);
    const again = await post(link, { choice: 'reject', as: 'tom@example.com' });
    expect(again.status).toBe(410);
    expect(await again.json()).toEqual({ ok: false, error: 'tom@example.com has answered this approval already' });
    // The form, refused, comes back with the problem on it (HTML-escaped).
    const form = await fetch(link, { method: 'POST', body: 'as=%3Cscript%3E&choice=approve', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(form.status).toBe(403);
    const formHtml = await form.text();
    expect(formHtml).toContain('&lt;script&gt; is not among the approvers of this step');
    expect(formHtml).not.toContain('<script>');
    await until(async () => (await runRow(id))?.status === 'waiting', 'the run waits again: one answer of the two the quorum needs');
    const show = await runFlux(['runs', 'show', id, '--state-dir', 'state'], { cwd: dir, env: { FLUX_TEST_CLOCK: join(dir, 'clock') } });
    expect(show.stdout).toContain('  asks       step `approve` asks maria@example.com, tom@example.com (2 must agree); the link expires 2026-11-26 09:00:00Z; tom@example.com: approve (api, 2026-11-24 09:00:00Z)\n');
    setClock(T0 + 49 * HOUR);
    expect((await fetch(link)).status).toBe(410);
    expect((await post(link, { choice: 'approve', as: 'maria@example.com' })).status).toBe(410);
    expect((await finished(id)).status).toBe('succeeded'); // on_timeout: reject
    expect(JSON.parse(chat.received.find((r) => r.path === '/done')!.body)).toEqual({ choice: 'reject', by: 'nobody', discount: '' });
  });

  it('flux approve: 0 recorded, 1 refused with the reason, 2 for an unknown run or usage', async () => {
    const d = await daemon();
    const { id } = await asked(d);
    const env = { FLUX_TEST_CLOCK: join(dir, 'clock') };
    const approve = (...args: string[]) => runFlux(['approve', ...args, '--state-dir', 'state'], { cwd: dir, env });
    expect(await approve('01NOSUCHRUN', '--choice', 'approve', '--as', 'tom@example.com')).toMatchObject({ code: 2, stderr: expect.stringContaining('no run 01NOSUCHRUN') });
    expect((await approve(id, '--as', 'tom@example.com')).code).toBe(2); // --choice is required
    expect(await approve(id, '--choice', 'approve', '--as', 'eve@example.com')).toMatchObject({ code: 1, stderr: `flux approve: refused (run ${id} step approve): eve@example.com is not among the approvers of this step\n` });
    expect(await approve(id, '--choice', 'yes', '--as', 'tom@example.com')).toMatchObject({ code: 1, stderr: expect.stringContaining('the choice must be one of approve, reject') });
    expect(await approve(id, 'approve', '--choice', 'approve', '--input', 'discount=12', '--as', 'maria@example.com')).toMatchObject({ code: 0, stdout: `recorded: approve by maria@example.com for run ${id} step approve\n` });
    // Decided (the quorum of 1 is reached), whether or not the run has woken to see it yet.
    expect(await approve(id, '--choice', 'reject', '--as', 'tom@example.com')).toMatchObject({ code: 1, stderr: expect.stringContaining('this approval is closed') });
    expect((await finished(id)).status).toBe('succeeded');
    expect(JSON.parse(chat.received.find((r) => r.path === '/done')!.body)).toEqual({ choice: 'approve', by: 'maria@example.com', discount: '12' });
    expect(logOf(id).find((r) => r.type === 'approval.answered')).toMatchObject({ via: 'cli', by: 'maria@example.com', from: null });
  });
});

describe('the approval page in a real browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the request on a phone-sized screen; a typed value out of range is refused on the page; clicking a choice records it', async () => {
    const d = await daemon();
    const { id, link } = await asked(d);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const problems: string[] = [];
    // The refused form's 400 is logged by the browser as a failed load; anything else (a CSP
    // violation, a script error) is a problem.
    page.on('console', (m) => {
      if (!/status of 400/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(link);
    expect(await page.locator('h1').textContent()).toBe('Discount of 20% for ACME');
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-artifacts', 'approval-form.png'), fullPage: true });
    await page.fill('#as', 'maria@example.com');
    // The browser's own check stops an out-of-range number; bypass it to see the server's.
    await page.$eval('form', (f) => f.setAttribute('novalidate', ''));
    await page.fill('#in-discount', '75');
    await page.click('button[value="approve"]');
    expect(await page.locator('.problem').textContent()).toBe('Discount % must be at most 50');
    expect(await page.inputValue('#as')).toBe('maria@example.com');
    await page.fill('#in-discount', '18');
    await page.click('button[value="approve"]');
    expect(await page.locator('.done').textContent()).toBe('Recorded: approve by maria@example.com.');
    await page.screenshot({ path: join(ROOT, 'test-artifacts', 'approval-page.png'), fullPage: true });
    expect(problems).toEqual([]); // no CSP violation, no script error
    await page.close();
    expect((await finished(id)).status).toBe('succeeded');
    expect(logOf(id).find((r) => r.type === 'approval.answered')).toMatchObject({ via: 'page', by: 'maria@example.com', inputs: { discount: 18 }, from: '127.0.0.1' });
  });
});

// Acknowledging an escalation through its link (GET shows the page, POST records who) and
// with `flux runs ack`, against a real daemon: every refusal (forged, expired, already
// acknowledged, not on the team, unknown run, no escalation), the escalation.acked record in
// the run's log, and what `flux runs` shows.
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { HOUR, T0, hook, linkOf, payWorkflow, perTest, sent, until } from './helpers.js';

vi.setConfig({ testTimeout: 60_000 });

const t = perTest();
beforeEach(() => {
  t.server.script('POST /page', { status: 200, body: {} });
});

const post = (link: string, as: string) => fetch(link, { method: 'POST', body: new URLSearchParams({ as }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

describe('acknowledging through the link', () => {
  it('shows the escalation escaped, takes one acknowledgement from a team member, and refuses the rest', async () => {
    t.s.flow('pay', payWorkflow(t.server.url, { error: 'invoice <script>alert(1)</script> ${{ event.n }}' }));
    const d = await t.s.daemon();
    const id = await hook(d.url, { n: 7 });
    await until(async () => (await t.s.status(id)) === 'escalated', 'the run ends escalated');
    const link = linkOf(t.server);
    expect(sent(t.server, '/chat')[0]).toMatchObject({ text: 'invoice <script>alert(1)</script> 7', due: '2026-11-24T13:00:00.000Z' });
    expect(link.startsWith(`${d.url}/ack/`)).toBe(true);

    const page = await fetch(link);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; form-action 'self'/);
    expect(html).toContain('invoice &lt;script&gt;alert(1)&lt;/script&gt; 7');
    expect(html).not.toContain('<script>');
    expect(html).toContain('<option>maria@example.com</option><option>li@example.com</option><option>boss@example.com</option>');

    // Forged: the same payload with another signature; and a token cut short.
    const [payload] = link.split('/ack/')[1]!.split('.');
    expect((await fetch(`${d.url}/ack/${payload}.${'A'.repeat(43)}`)).status).toBe(403);
    expect((await fetch(`${d.url}/ack/${payload}`)).status).toBe(403);
    // Not on the team.
    const stranger = await post(link, 'mallory@example.com');
    expect(stranger.status).toBe(403);
    expect(await stranger.text()).toContain('mallory@example.com is not on the finance team');
    expect((await t.s.escalation(id))?.ackedAt).toBeNull();

    t.s.setClock(T0 + HOUR);
    const ok = await post(link, 'LI@example.com');
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('is acknowledged at 2026-11-24T10:00:00.000Z');
    expect(await t.s.escalation(id)).toMatchObject({ ackedBy: 'li@example.com', ackedAt: T0 + HOUR, ackedVia: 'link' });

    const again = await post(link, 'maria@example.com');
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('already acknowledged by li@example.com at 2026-11-24T10:00:00.000Z');
    expect((await fetch(link)).status).toBe(409);

    const log = t.s.log(id);
    expect(log.map((r) => r.type)).toEqual(['run.started', 'step.started', 'step.finished', 'escalation', 'run.finished', 'escalation.acked']);
    expect(log[3]).toMatchObject({ type: 'escalation', owner: 'finance', ack_within: '4h', ack_due_at: '2026-11-24T13:00:00.000Z', ack_id: id, delivered: true });
    expect(log[5]).toMatchObject({ type: 'escalation.acked', by: 'li@example.com', via: 'link', escalated_at: '2026-11-24T09:00:00.000Z', ts: '2026-11-24T10:00:00.000Z' });

    // Acknowledged in time: the deadline passes and nobody is paged.
    t.s.setClock(T0 + 10 * HOUR);
    await new Promise((r) => setTimeout(r, 600));
    expect(sent(t.server, '/page')).toEqual([]);
    const listed = await t.s.flux('runs', '--status', 'escalated', '--state-dir', 'state');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/ACKNOWLEDGEMENT\n.*escalated .* acked by li@example.com after 1h \(link\)\n$/);
    const shown = await t.s.flux('runs', 'show', id, '--state-dir', 'state');
    expect(shown.stdout).toContain('  escalation to finance: acked by li@example.com after 1h (link)\n');
    const shownJson = JSON.parse((await t.s.flux('runs', 'show', id, '--json', '--state-dir', 'state')).stdout) as { escalation: Record<string, unknown> };
    expect(shownJson.escalation).toMatchObject({ owner: 'finance', acked_by: 'li@example.com', acked_via: 'link' });
    expect(d.output()).toContain(`run ${id} pay: escalation acknowledged by li@example.com (link)`);
  });

  it('an expired link answers 410; flux runs ack still works', async () => {
    t.s.flow('pay', payWorkflow(t.server.url, { then: false }));
    const d = await t.s.daemon();
    const id = await hook(d.url, { n: 1 });
    await until(async () => (await t.s.status(id)) === 'escalated', 'the run ends escalated');
    const link = linkOf(t.server);
    // Honoured up to 7 days past the 4h deadline.
    t.s.setClock(T0 + 4 * HOUR + 7 * 24 * HOUR - 1);
    expect((await fetch(link)).status).toBe(200);
    t.s.setClock(T0 + 4 * HOUR + 7 * 24 * HOUR);
    const expired = await post(link, 'maria@example.com');
    expect(expired.status).toBe(410);
    expect(await expired.text()).toContain('flux runs ack');
    const cli = await t.s.flux('runs', 'ack', id, '--as', 'boss@example.com', '--state-dir', 'state');
    expect(cli).toMatchObject({ code: 0, stderr: '' });
    expect(cli.stdout).toBe(`run ${id} (pay): escalation acknowledged by boss@example.com at 2026-12-01T13:00:00.000Z, 172h after it was escalated, 168h after its deadline\n`);
  });
});

describe('flux runs ack', () => {
  it('acknowledges as a member (exit 0), refuses others (exit 1), and says who was first', async () => {
    t.s.flow('pay', payWorkflow(t.server.url));
    const d = await t.s.daemon();
    const id = await hook(d.url, { n: 2 });
    await until(async () => (await t.s.status(id)) === 'escalated', 'the run ends escalated');

    const listed = await t.s.flux('runs', '--state-dir', 'state');
    expect(listed.stdout).toMatch(/unacknowledged for 0m \(due 13:00\)\n$/);
    const json = JSON.parse((await t.s.flux('runs', '--json', '--state-dir', 'state')).stdout) as { runs: { escalation: Record<string, unknown> }[] };
    expect(json.runs[0]?.escalation).toMatchObject({ owner: 'finance', ack_due_at: '2026-11-24T13:00:00.000Z', acked_by: null, then: true, then_sent_at: null });

    const stranger = await t.s.flux('runs', 'ack', id, '--as', 'mallory@example.com', '--state-dir', 'state');
    expect(stranger).toMatchObject({ code: 1, stdout: '' });
    expect(stranger.stderr).toBe(`flux: mallory@example.com may not acknowledge run ${id}'s escalation: it is for finance (maria@example.com, li@example.com, boss@example.com)\n`);

    t.s.setClock(T0 + 30 * 60_000);
    const first = await t.s.flux('runs', 'ack', id, '--as', 'maria@example.com', '--state-dir', 'state');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(`run ${id} (pay): escalation acknowledged by maria@example.com at 2026-11-24T09:30:00.000Z, 30m after it was escalated; the \`then\` call will not be made\n`);
    const same = await t.s.flux('runs', 'ack', id, '--as', 'maria@example.com', '--state-dir', 'state');
    expect(same.code).toBe(0);
    const second = await t.s.flux('runs', 'ack', id, '--as', 'li@example.com', '--state-dir', 'state');
    expect(second).toMatchObject({ code: 1, stdout: '' });
    expect(second.stderr).toContain('already acknowledged by maria@example.com at 2026-11-24T09:30:00.000Z (via cli)');
    expect(t.s.log(id).filter((r) => r.type === 'escalation.acked')).toEqual([expect.objectContaining({ by: 'maria@example.com', via: 'cli' })]);
  });

  it('an unknown run or a bad name is a usage error (exit 2); a run with nothing to acknowledge is refused (exit 1)', async () => {
    t.s.flow('pay', payWorkflow(t.server.url));
    t.s.flow('fine', `name: fine\nowner: ops@example.com\ntrigger:\n  webhook: { path: /fine }\nsteps:\n  - id: a\n    set: { x: 1 }\non_error:\n  escalate: { uses: http, with: { url: "${t.server.url}/chat", method: POST } }\n`);
    const d = await t.s.daemon();
    const res = await fetch(`${d.url}/fine`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const fine = (JSON.parse(await res.text()) as { run_id: string }).run_id;
    await until(async () => (await t.s.flux('runs', '--status', 'succeeded', '--state-dir', 'state')).stdout.includes(fine), 'the run succeeds');

    const unknown = await t.s.flux('runs', 'ack', '01NOSUCHRUN', '--as', 'maria@example.com', '--state-dir', 'state');
    expect(unknown).toMatchObject({ code: 2, stderr: "flux: no run `01NOSUCHRUN` in state (`flux runs` lists the runs there)\n" });
    const nothing = await t.s.flux('runs', 'ack', fine, '--as', 'ops@example.com', '--state-dir', 'state');
    expect(nothing).toMatchObject({ code: 1, stderr: `flux: run ${fine} (fine) has no escalation to acknowledge: it succeeded, nothing was escalated\n` });
    const noName = await t.s.flux('runs', 'ack', fine, '--as', ' ', '--state-dir', 'state');
    expect(noName.code).toBe(2);
    const missing = await t.s.flux('runs', 'ack', fine, '--state-dir', 'state');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--as <name>'");
  });
});

// The approval step in the engine, attempt by attempt as the daemon drives it (durable waits,
// a journal carried from one attempt to the next, answers handed in as the store would) on a
// skipping clock: the request is sent once, reminders once each, the quorum decides, the
// timeout does what on_timeout says; and in a one-off run (`flux run`) it needs --answer.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHttp } from '../../src/connectors/http.js';
import { SkippingClock } from '../../src/engine/clock.js';
import { runWorkflow } from '../../src/engine/run.js';
import type { JournaledStep, RunResult } from '../../src/engine/types.js';
import { Masker } from '../../src/secrets/masker.js';
import { MemoryJournal, type RunRecord } from '../../src/store/run-log.js';
import type { ApprovalAnswer } from '../../src/store/store.js';
import { parseSource } from '../../src/workflow/source.js';
import { lintSources } from '../../src/lint/linter.js';
import { validateRecord } from '../engine/harness.js';
import { startTestServer, type TestServer } from '../test-server.js';

const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
const HOUR = 3_600_000;

let chat: TestServer;
beforeEach(async () => {
  chat = await startTestServer();
  chat.script('POST /messages', { status: 200, body: { ok: true } });
  chat.script('POST /done', { status: 200, body: { ok: true } });
});
afterEach(async () => {
  await chat.close();
});

function flow(approval: string, extra = ''): string {
  return `name: t
owner: ops@example.com
trigger: manual
connections:
  chat: { base_url: "${chat.url}" }
groups:
  managers: [maria@example.com, tom@example.com]
${extra}steps:
  - id: approve
    approval:
      to: { uses: chat.request, with: { method: POST, path: /messages } }
      title: "Discount for \${{ event.customer }}"
${approval}
  - id: after
    uses: chat.request
    with: { method: POST, path: /done, json: { choice: "\${{ steps.approve.output.choice }}", timed_out: "\${{ string(steps.approve.output.timed_out) }}" } }
on_error:
  escalate: { uses: chat.request, with: { method: POST, path: /messages, json: { text: "failed: \${{ error.message }}" } } }
`;
}

/** A run attempted again and again as the daemon would: each attempt replays the journal the earlier ones wrote. */
class Run {
  readonly clock = new SkippingClock(() => this.now);
  readonly journal = new Map<string, JournaledStep>();
  readonly log: RunRecord[] = [];
  readonly answers: ApprovalAnswer[] = [];
  secrets: Record<string, string> = {};
  now = T0;
  private attempts = 0;
  constructor(private readonly yaml: string, private readonly durable = true) {}

  async attempt(): Promise<RunResult> {
    const parsed = parseSource('t.yaml', this.yaml);
    if (!parsed.ok) throw new Error('does not parse');
    const lint = lintSources([parsed.source]).diagnostics.filter((d) => d.severity === 'error');
    expect(lint.map((d) => `${d.line}:${d.column} ${d.message}`)).toEqual([]);
    const value = parsed.source.value;
    const http = await createHttp({ userAgent: 'flux-test' });
    this.attempts++;
    try {
      return await runWorkflow({
        workflow: { file: 't.yaml', value, name: 't', owner: 'ops@example.com', version: 'sha256:test', baseline: null },
        event: { customer: 'ACME' }, trigger: 'manual', secrets: this.secrets, environment: {}, connectors: { http }, clock: this.clock, journal: new MemoryJournal(),
        masker: new Masker(), runId: 'RUN1', attempt: 1, resume: this.attempts > 1, history: new Map(this.journal),
        onStepCompleted: (j) => void this.journal.set(j.key, j), onRecord: (r) => {
          if (!validateRecord(r)) throw new Error(`record does not match the run-log schema: ${JSON.stringify(r)} ${JSON.stringify(validateRecord.errors)}`);
          this.log.push(r);
        },
        ...(this.durable ? { durableWaits: true } : {}),
        approvals: { answers: [...this.answers], link: (key, expiresAt) => `http://flux.test/approvals/${key}-${expiresAt}` },
      });
    } finally {
      await http.close?.();
    }
  }

  answer(approver: string, choice: string, inputs: Record<string, unknown> = {}): void {
    this.answers.push({ runId: 'RUN1', step: 'approve', approver, choice, inputs, answeredAt: this.now, via: 'page', from: '127.0.0.1' });
  }

  records(type: string): RunRecord[] {
    return this.log.filter((r) => r.type === type);
  }
}

const messages = () => chat.received.filter((r) => r.path === '/messages').map((r) => JSON.parse(r.body) as Record<string, unknown>);

describe('approval step, durably', () => {
  it('sends the request once with flux\'s body, waits, and goes on with the answer as its output', async () => {
    const run = new Run(flow(`      details: "Asked by \${{ event.customer }}; link \${{ approval.url }}"
      approvers: ["@managers"]
      inputs: { discount: { type: number, min: 0, max: 50 } }
      timeout: 48h`));
    const first = await run.attempt();
    expect(first.status).toBe('waiting');
    expect(first.waiting).toMatchObject({ step: 'approve', wake_at: new Date(T0 + 48 * HOUR).toISOString() });
    expect(messages()).toHaveLength(1);
    const sent = messages()[0]!;
    expect(sent).toMatchObject({ title: 'Discount for ACME', choices: ['approve', 'reject'], approvers: ['maria@example.com', 'tom@example.com'], run_id: 'RUN1', step: 'approve' });
    expect(String(sent.url)).toBe(`http://flux.test/approvals/approve-${T0 + 48 * HOUR}`);
    expect(Object.keys(sent.links as object)).toEqual(['maria@example.com', 'tom@example.com']);
    expect(String(sent.details)).toContain(`link http://flux.test/approvals/approve-`);
    expect(run.records('approval.requested')[0]).toMatchObject({ approvers: ['maria@example.com', 'tom@example.com'], delivered: true, expires_at: new Date(T0 + 48 * HOUR).toISOString() });
    // The link is a credential: the run log names it by a digest only.
    expect(JSON.stringify(run.log)).not.toContain('flux.test/approvals');

    run.now += HOUR;
    const again = await run.attempt(); // woken early (e.g. a restart) without an answer: waits again, sends nothing
    expect(again.status).toBe('waiting');
    expect(messages()).toHaveLength(1);

    run.answer('tom@example.com', 'approve', { discount: 12 });
    const done = await run.attempt();
    expect(done.status).toBe('succeeded');
    expect(messages()).toHaveLength(1);
    const out = run.journal.get('approve')?.output as Record<string, unknown>;
    expect(out).toMatchObject({ choice: 'approve', inputs: { discount: 12 }, answered_by: 'tom@example.com', via: 'page', timed_out: false });
    expect(out.answers).toHaveLength(1);
    expect(JSON.parse(chat.received.find((r) => r.path === '/done')!.body)).toEqual({ choice: 'approve', timed_out: 'false' });
    expect(run.records('approval.answered')).toEqual([expect.objectContaining({ by: 'tom@example.com', choice: 'approve', inputs: { discount: 12 }, via: 'page', from: '127.0.0.1' })]);
  });

  it('with quorum 2, one answer waits and the second matching one decides', async () => {
    const run = new Run(flow(`      approvers: ["@managers"]
      quorum: 2
      timeout: 48h`));
    expect((await run.attempt()).status).toBe('waiting');
    run.answer('maria@example.com', 'approve');
    expect((await run.attempt()).status).toBe('waiting');
    run.answer('tom@example.com', 'approve');
    expect((await run.attempt()).status).toBe('succeeded');
    expect(run.journal.get('approve')?.output).toMatchObject({ choice: 'approve', answered_by: 'tom@example.com' });
    // Each answer is logged once, however many attempts saw it.
    expect(run.records('approval.answered').map((r) => (r as { by: string }).by)).toEqual(['maria@example.com', 'tom@example.com']);
  });

  it('reminds every remind_every, once each, and wakes for the next reminder before the timeout', async () => {
    const run = new Run(flow(`      remind_every: 8h
      timeout: 20h
      on_timeout: reject`));
    const first = await run.attempt();
    expect(first.waiting?.wake_at).toBe(new Date(T0 + 8 * HOUR).toISOString());
    run.now = T0 + 8 * HOUR;
    const second = await run.attempt();
    expect(second.waiting?.wake_at).toBe(new Date(T0 + 16 * HOUR).toISOString());
    expect(messages()).toHaveLength(2);
    expect(await run.attempt()).toMatchObject({ status: 'waiting' }); // the same reminder is not sent twice
    expect(messages()).toHaveLength(2);
    run.now = T0 + 16 * HOUR;
    expect((await run.attempt()).waiting?.wake_at).toBe(new Date(T0 + 20 * HOUR).toISOString());
    expect(run.records('approval.reminded').map((r) => (r as { reminder: number }).reminder)).toEqual([1, 2]);
    run.now = T0 + 20 * HOUR;
    const done = await run.attempt();
    expect(done.status).toBe('succeeded');
    expect(run.journal.get('approve')?.output).toMatchObject({ choice: 'reject', timed_out: true, answered_by: null });
    expect(run.records('approval.timed_out')).toEqual([expect.objectContaining({ on_timeout: 'reject' })]);
  });

  it('on_timeout: fail fails the run at the step', async () => {
    const run = new Run(flow('      timeout: 1h'));
    await run.attempt();
    run.now = T0 + HOUR;
    const done = await run.attempt();
    expect(done.status).toBe('escalated'); // the workflow escalates every failure
    expect(done.error).toMatchObject({ step: 'approve', message: 'nobody decided within 1h' });
  });

  it('on_timeout: escalate escalates to the owner', async () => {
    const run = new Run(flow(`      timeout: 1h
      on_timeout: escalate`));
    await run.attempt();
    run.now = T0 + 2 * HOUR;
    const done = await run.attempt();
    expect(done.status).toBe('escalated');
    expect(done.escalation).toMatchObject({ delivered: true });
    expect(messages().at(-1)).toEqual({ text: 'failed: nobody decided within 1h' });
  });

  it('a request that cannot be delivered fails the step instead of waiting for nobody', async () => {
    chat.script('POST /messages', { status: 500, body: { error: 'down' } });
    const run = new Run(flow('      timeout: 1h'));
    const done = await run.attempt();
    expect(done.status).toBe('failed'); // the escalation goes through the same broken chat
    expect(done.error?.message).toMatch(/^the approval request could not be delivered: /);
    expect(run.records('approval.requested')[0]).toMatchObject({ delivered: false });
  });

  it('a secret in the title or in an answer\'s inputs is masked in the request, what the journal keeps of it, and the log', async () => {
    const run = new Run(flow(`      inputs: { note: { type: text } }
      timeout: 1h`).replace('title: "Discount for \${{ event.customer }}"', 'title: "Token \${{ secrets.CHAT_TOKEN }}"').replace('owner: ops@example.com\n', 'owner: ops@example.com\nsecrets: [CHAT_TOKEN]\n'));
    run.secrets = { CHAT_TOKEN: 'sekrit-value-123' };
    await run.attempt();
    run.answer('me@example.com', 'approve', { note: 'it is sekrit-value-123' });
    expect((await run.attempt()).status).toBe('succeeded');
    expect(messages()[0]).toMatchObject({ title: 'Token ***' });
    // The journal keeps step outputs whole for replay, as for every step; what was asked is masked.
    expect(JSON.stringify(run.journal.get('approve#request@RUN1'))).not.toContain('sekrit-value-123');
    expect(JSON.stringify(run.log)).not.toContain('sekrit-value-123');
  });

  it('expressions in `to.with` read the request: approval.url, title and choices', async () => {
    const run = new Run(flow(`      choices: [book, decline, call back]
      timeout: 1h`).replace('with: { method: POST, path: /messages } }', 'with: { method: POST, path: /messages, json: { t: "${{ approval.title }}", u: "${{ approval.url }}", c: "${{ approval.choices.join(\'|\') }}" } } }'));
    await run.attempt();
    expect(messages()[0]).toEqual({ t: 'Discount for ACME', u: `http://flux.test/approvals/approve-${T0 + HOUR}`, c: 'book|decline|call back' });
  });
});

describe('approval step in a one-off run (flux run)', () => {
  it('fails saying it needs the daemon or --answer, and sends nothing', async () => {
    const run = new Run(flow('      timeout: 1h'), false);
    const done = await run.attempt();
    expect(done.error?.message).toBe('step `approve` asks people to decide: that needs `flux daemon`, which waits for their answer durably; for a one-off run, give the answer with `--answer approve=approve`');
    expect(chat.received.filter((r) => r.path === '/messages' && !r.body.includes('failed'))).toEqual([]);
  });

  it('takes the answer given with --answer, and refuses a choice not offered', async () => {
    const run = new Run(flow('      timeout: 1h'), false);
    run.answer('me', 'reject');
    expect((await run.attempt()).status).toBe('succeeded');
    expect(JSON.parse(chat.received.find((r) => r.path === '/done')!.body)).toEqual({ choice: 'reject', timed_out: 'false' });
    const bad = new Run(flow('      timeout: 1h'), false);
    bad.answer('me', 'maybe');
    expect((await bad.attempt()).error?.message).toBe('--answer approve=maybe: the choice must be one of approve, reject');
  });
});

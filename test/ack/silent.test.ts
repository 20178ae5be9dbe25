// No silent workflows: `flux daemon` refuses a workflow it would run unattended (schedule,
// webhook, poll, event) with no `on_error.escalate`, naming it and the way out, unless
// `--allow-silent`; a SIGHUP reload does not add one either. `flux run`, watched from a
// terminal, runs it. An escalation with ack_within under `flux run` says there is no daemon
// to take the acknowledgement.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { hook, payWorkflow, perTest, until } from './helpers.js';

vi.setConfig({ testTimeout: 60_000 });

const t = perTest();

const SILENT = 'name: quiet\nowner: ops@example.com\ntrigger:\n  webhook: { path: /quiet }\nsteps:\n  - id: a\n    set: { x: 1 }\n';

describe('silent workflows', () => {
  it('flux lint and flux daemon refuse one (exit 1, exit 2); --allow-silent serves it', async () => {
    t.s.flow('quiet', SILENT);
    const lint = await t.s.flux('lint', 'flows');
    expect(lint.code).toBe(1);
    expect(lint.stdout).toContain('flows/quiet.yaml:4:3: workflow `quiet` runs on a webhook trigger with no `on_error.escalate`: it can fail with nobody told; add one (a chat or email call that reaches the owner), or start the daemon with --allow-silent [escalation-target]');
    const refused = await t.s.flux('daemon', 'flows', '--state-dir', 'state', '--port', '0');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('can fail with nobody told');
    expect(refused.stderr).toContain('flux: the daemon does not start while workflows have errors');
    const d = await t.s.daemon('--allow-silent');
    expect(d.stdout()).toContain('(1 workflow, state in state)');
  });

  it('a reload does not add a silent workflow to a daemon that refuses them', async () => {
    t.s.flow('pay', payWorkflow(t.server.url));
    const d = await t.s.daemon();
    writeFileSync(join(t.s.dir, 'flows', 'quiet.yaml'), SILENT);
    d.child.kill('SIGHUP');
    await until(() => /reload: flows\/quiet\.yaml:4:3: .*can fail with nobody told.*; not served/.test(d.output()), 'the reload refuses it');
    expect((await fetch(`${d.url}/quiet`, { method: 'POST', body: '{}' })).status).toBe(404);
    await hook(d.url, { n: 1 });
  });

  it('flux run runs it, and an escalation with ack_within says no daemon takes the acknowledgement', async () => {
    t.s.flow('quiet', SILENT);
    const ran = await t.s.flux('run', 'flows/quiet.yaml', '--event', '{}', '--log-dir', 'logs');
    expect(ran.code).toBe(0);
    t.s.flow('pay', payWorkflow(t.server.url));
    const failed = await t.s.flux('run', 'flows/pay.yaml', '--event', '{"n":9}', '--log-dir', 'logs', '--json');
    expect(failed.code).toBe(1);
    const chat = JSON.parse(t.server.received.find((r) => r.path === '/chat')!.body) as Record<string, unknown>;
    // flux run keeps the system clock: the deadline is 4h from now, and there is no link.
    expect(chat).toEqual({ text: 'invoice 9 is stuck', link: '', due: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) });
    const result = JSON.parse(failed.stdout) as { run_id: string; status: string };
    expect(result.status).toBe('escalated');
    const escalation = t.s.log(result.run_id, 'pay', 'logs').find((r) => r.type === 'escalation');
    expect(escalation).toMatchObject({ ack_within: '4h', ack_unavailable: 'flux run has no daemon to take an acknowledgement or make the `then` call; run the workflow under flux daemon for both' });
  });
});

// Messages the probe found wrong or missing, held to the contract with the real binary: cron
// expressions that used to pass or be misdescribed, a workflow that could fail telling nobody,
// and the demo's account of waits it skipped.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers.js';
import { expectContract, head, workspace } from './harness.js';

const ESCALATE = 'on_error:\n  escalate: { uses: http, with: { method: POST, url: "https://chat.example.com/alerts" } }\n';

describe('cron expressions say what is wrong with them', () => {
  const w = workspace();
  it.each([
    { cron: '*/0 * * * *', message: 'minute field `*/0` has the step `/0`; a step must be at least 1' },
    { cron: '5-1 * * * *', message: 'minute field `5-1` has the backwards range `5-1`' },
    { cron: '@reboot', message: 'cron `@reboot` is not supported; use one of @yearly (or @annually), @monthly, @weekly, @daily (or @midnight), @hourly' },
  ])('$cron', async ({ cron, message }) => {
    const file = w.write(`cron-${cron.replace(/\W/g, '_')}.yaml`, `name: c\nowner: ops@example.com\ntrigger:\n  schedule: { cron: "${cron}" }\nsteps:\n  - id: a\n    set: { x: 1 }\n${ESCALATE}`);
    const o = await expectContract({ args: ['lint', file], cwd: w.dir, exit: 1, withinMs: 10_000 });
    expect(o.stdout).toContain(message);
    expect(o.stdout).toContain('[cron]');
  });
});

describe('a workflow that could fail telling nobody', () => {
  it('is a no-escalation warning, which --max-warnings 0 turns into a failure', async () => {
    const w = workspace();
    const file = w.write('silent.yaml', `${head('silent')}steps:\n  - id: a\n    set: { x: 1 }\n`);
    const warned = await expectContract({ args: ['lint', file], cwd: w.dir, exit: 0, withinMs: 10_000 });
    expect(warned.stdout).toMatch(/silent\.yaml:1:1: warning: workflow `silent` has no `on_error.escalate`: a failed run tells nobody; .* \[no-escalation\]/);
    await expectContract({ args: ['lint', '--max-warnings', '0', file], cwd: w.dir, exit: 1, withinMs: 10_000 });
  });
});

describe('flux demo', () => {
  it('shows a skipped wait as skipped, with real durations', async () => {
    const logs = join(workspace().dir, 'logs');
    const o = await expectContract({ args: ['demo', '--log-dir', logs], cwd: ROOT, exit: 0, withinMs: 30_000, logDir: logs });
    expect(o.stdout).toMatch(/✓ reply \d+ms \(skipped a 48h wait\)/);
    expect(o.stdout).not.toMatch(/✓ reply 48h/);
    expect(o.stdout).toMatch(/succeeded in \d+ms \(skipped \d+h\d*m? of waits\)/);
    expect(o.stdout).not.toMatch(/succeeded in \d+h/);
  });
});

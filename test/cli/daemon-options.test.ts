// `flux daemon --daemon-id/--log-dir` as a real process: the id names the daemon in its
// listening line (JSON log) and in the run logs it writes, under --log-dir; the systemd unit
// carries both flags and says what the unit needs for a log directory outside the state one.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readRunLog } from '../../src/store/run-log.js';
import { runFlux } from '../helpers.js';
import { killChildren, spawnDaemon } from '../daemon/spawn-daemon.js';

let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flux-daemon-id-'));
  mkdirSync(join(dir, 'flows'));
  writeFileSync(join(dir, 'flows', 'note.yaml'), 'name: note\nowner: ops@example.com\ntrigger:\n  webhook: { path: /hooks/note }\nsteps:\n  - id: keep\n    set: { n: "${{ event.n }}" }\n');
});
afterEach(() => killChildren(children));

describe('flux daemon --daemon-id and --log-dir', () => {
  it('names the daemon in its JSON listening line and in the run.started it writes under --log-dir', async () => {
    const d = await spawnDaemon({ cwd: dir, children, args: ['flows', '--state-dir', 'state', '--port', '0', '--log-format', 'json', '--daemon-id', 'web-1:eu', '--log-dir', 'runs'] });
    const listening = d.stdout().split('\n').map((l) => (l.startsWith('{') ? JSON.parse(l) as Record<string, unknown> : null)).find((l) => l?.kind === 'daemon.listening');
    expect(listening).toMatchObject({ daemon: 'web-1:eu' });
    const res = await fetch(`${d.url}/hooks/note`, { method: 'POST', body: '{"n":1}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { run_id: string }).run_id;
    const path = join(dir, 'runs', 'note', `${id}.jsonl`);
    for (let i = 0; i < 400; i++) {
      try {
        if (readRunLog(path).records.some((r) => r.type === 'run.finished')) break;
      } catch {
        // not written yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    const records = readRunLog(path).records;
    expect(records[0]).toMatchObject({ type: 'run.started', daemon: 'web-1:eu', attempt: 1 });
    expect(records.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
    d.child.kill('SIGTERM');
    expect((await d.exit).code).toBe(0);
  });

  it('--print-systemd carries both flags, and says the unit must be let write a log directory outside the state directory', async () => {
    const outside = await runFlux(['daemon', 'flows', '--print-systemd', '--state-dir', '/var/lib/flux', '--daemon-id', 'web-1', '--log-dir', '/var/log/flux/runs', '--allow-silent'], { cwd: dir });
    expect(outside.code).toBe(0);
    expect(outside.stdout).toMatch(/^ExecStart=.* --daemon-id web-1 --log-dir \/var\/log\/flux\/runs$/m);
    expect(outside.stderr).toBe('flux: the unit lets the service write only its state directory (ProtectSystem=strict): add ReadWritePaths=/var/log/flux/runs under [Service] for --log-dir\n');
    const inside = await runFlux(['daemon', 'flows', '--print-systemd', '--state-dir', '/var/lib/flux', '--log-dir', '/var/lib/flux/runs', '--allow-silent'], { cwd: dir });
    expect(inside.code).toBe(0);
    expect(inside.stdout).toMatch(/ --log-dir \/var\/lib\/flux\/runs$/m);
    expect(inside.stderr).toBe('');
  });

  it('--print-systemd keeps a PostgreSQL store URL (and its password) out of the unit and says where it goes', async () => {
    const out = await runFlux(['daemon', 'flows', '--print-systemd', '--state-dir', '/var/lib/flux', '--store', 'postgres://flux:s3cret-pw@db.internal:5432/flux?schema=ops', '--allow-silent'], { cwd: dir });
    expect(out.code).toBe(0);
    expect(out.stdout).not.toContain('postgres://');
    expect(out.stdout + out.stderr).not.toContain('s3cret-pw');
    expect(out.stderr).toBe('flux: the store URL is not written into the unit (it may hold a password): put FLUX_STORE_URL=postgres://flux@db.internal:5432/flux?schema=ops (with its password) in /etc/flux/flux.env\n');
    const file = await runFlux(['daemon', 'flows', '--print-systemd', '--state-dir', '/var/lib/flux', '--store', '/srv/flux/state.db', '--allow-silent'], { cwd: dir });
    expect(file.code).toBe(0);
    expect(file.stdout).toMatch(/^ExecStart=.* --store \/srv\/flux\/state\.db$/m);
    const other = await runFlux(['daemon', 'flows', '--print-systemd', '--store', 'redis://cache:6379', '--allow-silent'], { cwd: dir });
    expect([other.code, other.stdout, other.stderr]).toEqual([2, '', 'flux: --store takes a SQLite file or a postgres:// URL, not a redis:// URL\n']);
  });
});

// `flux runs` as real processes against real state directories: filled through the store API
// where exact times matter (lists and filters), and by a real daemon where the runs must be
// real (a waiting run, a failed run, a retry that the daemon runs, a cancel it obeys). Time
// comes from FLUX_TEST_CLOCK files, never from sleeps; a counting HTTP server on 127.0.0.1
// tells which steps were called.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRow, RunState } from '../../src/store/store.js';
import { runFlux, type Captured } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { spawnDaemon, type RunningDaemon } from '../daemon/spawn-daemon.js';

const T0 = Date.parse('2026-11-24T09:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HOOK_SECRET = 'gh-webhook-secret-1';
const API_TOKEN = 'tok_live_5up3r53cr3t';

let dir: string;
let clockFile: string;
let downstream: TestServer;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flux-runs-'));
  clockFile = join(dir, 'clock');
  setClock(T0);
  downstream = await startTestServer();
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await downstream.close();
});

function setClock(ms: number): void {
  writeFileSync(clockFile, String(ms));
}

/** `flux runs …` in `dir`, on the test clock. */
function runs(args: string[], env: Record<string, string> = {}): Promise<Captured> {
  return runFlux(['runs', ...args], { cwd: dir, env: { FLUX_TEST_CLOCK: clockFile, ...env } });
}

function store(readOnly = false): Promise<SqliteStore> {
  return openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: () => T0, readOnly });
}

// ---- a state directory filled through the store API ----

let serial = 0;
/** Adds a run of `workflow` created at `at` and brings it to `status`. */
async function addRun(s: SqliteStore, workflow: string, at: number, status: RunState, fields: { wakeAt?: number; error?: string; scheduledFor?: number } = {}): Promise<string> {
  serial += 1;
  const id = `01TEST${String(at).padStart(14, '0')}${String(serial).padStart(4, '0')}`;
  await s.putWorkflowVersion({ hash: `sha256:${workflow}-v1`, name: workflow, text: `name: ${workflow}\nowner: ops@example.com\n`, createdAt: at });
  await s.enqueueRun({ id, workflow, workflowVersion: `sha256:${workflow}-v1`, trigger: 'webhook', event: { n: serial }, receivedAt: at, ...(fields.scheduledFor !== undefined ? { scheduledFor: fields.scheduledFor } : {}) }, at);
  if (status === 'queued') return id;
  const claimed = await s.claimRuns('test', 1, 60_000, Math.max(at, fields.scheduledFor ?? at));
  expect(claimed.map((c) => c.run.id)).toEqual([id]);
  if (status === 'running') return id;
  if (status === 'waiting') {
    await s.setWaiting(id, 'test', fields.wakeAt ?? at + DAY, null, at + 1000);
    return id;
  }
  await s.finishRun(id, 'test', status as 'succeeded', fields.error ? { message: fields.error, step: 'charge' } : null, at + 1500);
  return id;
}

/** Four runs: two workflows, over ten days, in four states. */
async function fourRuns(): Promise<{ old: string; failed: string; waiting: string; queued: string }> {
  const s = await store();
  try {
    const old = await addRun(s, 'leads', T0 - 10 * DAY, 'succeeded');
    const failed = await addRun(s, 'billing', T0 - 2 * DAY, 'failed', { error: 'HTTP 500 from the ledger' });
    const waiting = await addRun(s, 'leads', T0 - HOUR, 'waiting', { wakeAt: T0 + 47 * HOUR });
    const queued = await addRun(s, 'billing', T0, 'queued');
    return { old, failed, waiting, queued };
  } finally {
    await s.close();
  }
}

/** The data rows of a table, each split on runs of two or more spaces. */
function rows(table: string): string[][] {
  return table.trim().split('\n').slice(1).map((l) => l.split(/ {2,}/));
}

// ---- a real daemon ----

type Running = RunningDaemon;

/** Starts `flux daemon flows` on the test clock and a free port; resolves once it listens. */
function daemon(): Promise<Running> {
  return spawnDaemon({
    cwd: dir, children, args: ['flows', '--state-dir', 'state', '--port', '0', '--lease', '2s', '--grace', '2s'],
    env: { GH_SECRET: HOOK_SECRET, API_TOKEN, FLUX_TEST_CLOCK: clockFile },
  });
}

async function stop(d: Running): Promise<void> {
  d.child.kill('SIGTERM');
  expect((await d.exit).code).toBe(0);
}

function flow(name: string, steps: string): void {
  mkdirSync(join(dir, 'flows'), { recursive: true });
  writeFileSync(join(dir, 'flows', `${name}.yaml`), `name: ${name}
owner: ops@example.com
trigger:
  webhook:
    path: /hooks/${name}
    signature: { scheme: github, secret: "\${{ secrets.GH_SECRET }}" }
secrets: [GH_SECRET, API_TOKEN]
steps:
${steps}`);
}

/** Delivers a signed webhook; resolves to the run id of the 202. */
async function deliver(d: Running, name: string, event: unknown): Promise<string> {
  const body = JSON.stringify(event);
  const res = await fetch(`${d.url}/hooks/${name}`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', HOOK_SECRET).update(body).digest('hex')}` },
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { run_id: string }).run_id;
}

/** The run once `done` holds (polled through a read-only connection: the daemon is another process). */
async function runWhen(id: string, done: (run: RunRow | undefined) => boolean): Promise<RunRow | undefined> {
  const s = await store(true);
  try {
    for (let i = 0; i < 400; i++) {
      const run = await s.getRun(id);
      if (done(run)) return run;
      await new Promise((r) => setTimeout(r, 25));
    }
    return s.getRun(id);
  } finally {
    await s.close();
  }
}

const calls = (path: string) => downstream.received.filter((r) => r.path === path);

const TWO_CALLS = (url: string) => `  - id: reserve
    uses: http
    with: { url: "${url}/reserve", method: POST, headers: { authorization: "Bearer \${{ secrets.API_TOKEN }}" } }
  - id: charge
    uses: http
    with: { url: "${url}/charge", method: POST, json: { reservation: "\${{ steps.reserve.output.body.id }}" } }
`;

describe('flux runs (list)', () => {
  it('lists runs newest first, with where each stands', async () => {
    const { old, failed, waiting, queued } = await fourRuns();
    const r = await runs(['--state-dir', 'state']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^ID +WORKFLOW +STATUS +TRIGGER +ATTEMPT +CREATED +DURATION$/);
    expect(rows(r.stdout)).toEqual([
      [queued, 'billing', 'queued', 'webhook', '0', '2026-11-24 09:00:00Z', 'queued'],
      [waiting, 'leads', 'waiting', 'webhook', '1', '2026-11-24 08:00:00Z', 'waiting until 2026-11-26 08:00:00Z'],
      [failed, 'billing', 'failed', 'webhook', '1', '2026-11-22 09:00:00Z', '1.5s'],
      [old, 'leads', 'succeeded', 'webhook', '1', '2026-11-14 09:00:00Z', '1.5s'],
    ]);
  });

  it('escapes what came from outside before the terminal', async () => {
    const s = await store();
    const name = 'evil\u001b]0;title\u0007\u202ename';
    const id = await addRun(s, name, T0, 'failed', { error: 'boom \u001b[2J' });
    await s.close();
    const r = await runs(['--state-dir', 'state']);
    expect(r.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
    expect(rows(r.stdout)[0]?.slice(0, 3)).toEqual([id, 'evil\\e]0;title\\x07\\u202ename', 'failed']);
    const shown = await runs(['show', id, '--state-dir', 'state']);
    expect(shown.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
    expect(shown.stdout).toContain('  error      step `charge`: boom \\e[2J\n');
    const json = await runs(['show', id, '--state-dir', 'state', '--json']);
    expect(json.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
    expect(JSON.parse(json.stdout).run).toMatchObject({ workflow: name, error: { message: 'boom \u001b[2J' } });
  });

  it('filters by workflow, status and time, and limits', async () => {
    const { old, failed, waiting, queued } = await fourRuns();
    const ids = async (...args: string[]) => {
      const r = await runs(['--state-dir', 'state', ...args]);
      expect(r.code, r.stderr).toBe(0);
      return rows(r.stdout).map((row) => row[0]);
    };
    expect(await ids('--workflow', 'billing')).toEqual([queued, failed]);
    expect(await ids('--status', 'failed')).toEqual([failed]);
    expect(await ids('--status', 'waiting,succeeded')).toEqual([waiting, old]);
    expect(await ids('--since', '7d')).toEqual([queued, waiting, failed]);
    expect(await ids('--since', '1d')).toEqual([queued, waiting]);
    expect(await ids('--since', '2026-11-22')).toEqual([queued, waiting, failed]);
    expect(await ids('--since', '2026-11-24T08:30Z')).toEqual([queued]);
    expect(await ids('--workflow', 'leads', '--status', 'succeeded', '--since', '30d')).toEqual([old]);
    const limited = await runs(['--state-dir', 'state', '--limit', '2']);
    expect(rows(limited.stdout).map((row) => row[0])).toEqual([queued, waiting]);
    expect(limited.stderr).toBe('flux: showing the newest 2; more runs match (raise --limit, or narrow with --since, --status or --workflow)\n');
    const none = await runs(['--state-dir', 'state', '--workflow', 'nothing-here']);
    expect(none).toMatchObject({ code: 0, stdout: 'no runs match --workflow nothing-here in state\n' });
  });

  it('--since counts back from the test clock', async () => {
    const { failed, waiting, queued } = await fourRuns();
    setClock(T0 + 3 * DAY);
    const r = await runs(['--state-dir', 'state', '--since', '4d']);
    expect(rows(r.stdout).map((row) => row[0])).toEqual([queued, waiting]);
    setClock(T0 - DAY);
    expect(rows((await runs(['--state-dir', 'state', '--since', '2d'])).stdout).map((row) => row[0])).toEqual([queued, waiting, failed]);
  });

  it('--json prints one document with every run', async () => {
    const { old, failed, waiting, queued } = await fourRuns();
    const r = await runs(['--state-dir', 'state', '--json', '--limit', '3']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: Record<string, unknown>[]; more: boolean };
    expect(doc.more).toBe(true);
    expect(doc.runs.map((x) => x.id)).toEqual([queued, waiting, failed]);
    expect(doc.runs[1]).toEqual({
      id: waiting, workflow: 'leads', workflow_version: 'sha256:leads-v1', status: 'waiting', trigger: 'webhook', attempt: 1,
      received_at: '2026-11-24T08:00:00.000Z', scheduled_for: null, created_at: '2026-11-24T08:00:00.000Z', finished_at: null, duration_ms: null,
      wake_at: '2026-11-26T08:00:00.000Z', waiting_for: null, cancel_requested: false, parent_run_id: null, retry_of: null, chain_depth: 0, error: null,
    });
    expect(doc.runs[2]).toMatchObject({ status: 'failed', duration_ms: 1500, error: { message: 'HTTP 500 from the ledger', step: 'charge' } });
    const all = JSON.parse((await runs(['--state-dir', 'state', '--json'])).stdout) as { runs: { id: string }[]; more: boolean };
    expect(all).toMatchObject({ more: false });
    expect(all.runs.map((x) => x.id)).toEqual([queued, waiting, failed, old]);
  });

  it('refuses bad options, a missing state directory and a directory without a store, with exit 2', async () => {
    await fourRuns();
    const cases: [string[], string][] = [
      [['--state-dir', 'state', '--status', 'done'], 'flux: --status takes queued, running, waiting, succeeded, failed, escalated, cancelled, rejected (or several, comma-separated), not `done`\n'],
      [['--state-dir', 'state', '--since', 'last week'], 'flux: --since takes a duration back from now (7d, 12h, 30m) or a date (2026-11-01, 2026-11-01T09:00Z), not `last week`\n'],
      [['--state-dir', 'state', '--limit', '0'], 'flux: --limit takes a whole number from 1 to 9999999, not `0`\n'],
      [[], 'flux: no state directory at .flux; the daemon keeps its runs in the directory given to `flux daemon --state-dir` (default .flux): pass it with --state-dir\n'],
      [['--state-dir', 'flows-x'], 'flux: no state directory at flows-x; the daemon keeps its runs in the directory given to `flux daemon --state-dir` (default .flux): pass it with --state-dir\n'],
    ];
    mkdirSync(join(dir, 'empty'));
    cases.push([['--state-dir', 'empty'], 'flux: no runs store in empty (empty/flux.db does not exist): has `flux daemon` run with this state directory?\n']);
    for (const [args, message] of cases) {
      const r = await runs(args);
      expect([r.code, r.stderr, r.stdout], args.join(' ')).toEqual([2, message, '']);
    }
    writeFileSync(join(dir, 'empty', 'flux.db'), 'not a database at all, just text that is long enough to be looked at by sqlite');
    const notDb = await runs(['--state-dir', 'empty']);
    expect(notDb.code).toBe(2);
    expect(notDb.stderr).toMatch(/^flux: cannot open the state database empty\/flux\.db: /);
    expect(notDb.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads the store without write access', async () => {
    const { queued } = await fourRuns();
    const state = join(dir, 'state');
    // The daemon stopped: everything checkpointed into the file, no -wal or -shm beside it. A
    // reader cannot create the -shm it would use in a directory it cannot write.
    const db = new Database(join(state, 'flux.db'));
    db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').all();
    db.close();
    for (const f of ['flux.db-wal', 'flux.db-shm']) rmSync(join(state, f), { force: true });
    expect(readdirSync(state).sort()).toEqual(['flux.db']);
    // Root may write anywhere: it runs flux as nobody instead; anyone else loses write access.
    const asRoot = process.getuid?.() === 0;
    chmodSync(dir, 0o755);
    chmodSync(state, 0o555);
    chmodSync(join(state, 'flux.db'), 0o444);
    try {
      const r = await runFlux(['runs', '--state-dir', 'state'], { cwd: dir, ...(asRoot ? { user: { uid: 65534, gid: 65534 } } : {}) });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(rows(r.stdout)[0]?.[0]).toBe(queued);
      expect(readdirSync(state).sort()).toEqual(['flux.db']);
    } finally {
      chmodSync(state, 0o755);
      chmodSync(join(state, 'flux.db'), 0o644);
    }
  });

  it('is not held up by a writer holding the write lock, and takes no lock of its own', async () => {
    const { queued } = await fourRuns();
    // A daemon mid-commit: the write lock held, and a write not yet committed.
    const writer = new Database(join(dir, 'state', 'flux.db'));
    writer.exec('BEGIN IMMEDIATE');
    writer.prepare("UPDATE runs SET status = 'cancelled' WHERE id = ?").run(queued);
    try {
      const r = await runs(['--state-dir', 'state', '--status', 'queued']);
      expect(r.stderr).toBe('');
      expect(rows(r.stdout).map((row) => [row[0], row[2]])).toEqual([[queued, 'queued']]);
      const shown = await runs(['show', queued, '--state-dir', 'state']);
      expect(shown.code, shown.stderr).toBe(0);
    } finally {
      writer.exec('COMMIT');
      writer.close();
    }
    expect(existsSync(join(dir, 'state', 'daemon.pid'))).toBe(false);
    expect(rows((await runs(['--state-dir', 'state', '--status', 'queued'])).stdout)).toEqual([]);
  });
});

describe('flux runs with a daemon', () => {
  it('lists runs while the daemon runs, and the daemon goes on taking and running webhooks', async () => {
    flow('leads', TWO_CALLS(downstream.url));
    downstream.script('POST /reserve', { status: 201, body: { id: 'r-1' } });
    downstream.script('POST /charge', { status: 200, body: { ok: true } });
    const d = await daemon();
    const pid = readFileSync(join(dir, 'state', 'daemon.pid'), 'utf8');
    const first = await deliver(d, 'leads', { n: 1 });
    expect((await runWhen(first, (r) => r?.status === 'succeeded'))?.status).toBe('succeeded');
    const listed = await runs(['--state-dir', 'state']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(rows(listed.stdout).map((row) => row.slice(0, 5))).toEqual([[first, 'leads', 'succeeded', 'webhook', '1']]);
    setClock(T0 + 60_000);
    const second = await deliver(d, 'leads', { n: 2 });
    expect((await runWhen(second, (r) => r?.status === 'succeeded'))?.status).toBe('succeeded');
    expect(rows((await runs(['--state-dir', 'state'])).stdout).map((row) => row[0])).toEqual([second, first]);
    expect(readFileSync(join(dir, 'state', 'daemon.pid'), 'utf8')).toBe(pid);
    await stop(d);
  });

  it('show of a waiting run says what it waits for and until when, and which version it runs', async () => {
    flow('remind', `  - id: book
    uses: http
    with: { url: "${downstream.url}/book", method: POST }
  - id: reply
    wait_for: { event: appointment.confirmed, timeout: 48h }
  - id: nudge
    uses: http
    with: { url: "${downstream.url}/nudge", method: POST }
`);
    downstream.script('POST /book', { status: 201, body: { id: 'bk-7', start: '2026-11-30T10:00:00Z' } });
    const d = await daemon();
    const id = await deliver(d, 'remind', { email: 'ann@example.com' });
    expect((await runWhen(id, (r) => r?.status === 'waiting'))?.wakeAt).toBe(T0 + 48 * HOUR);

    const r = await runs(['show', id, '--state-dir', 'state', '--workflows', 'flows'], { GH_SECRET: HOOK_SECRET, API_TOKEN });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`run ${id}  remind  waiting\n`);
    expect(r.stdout).toMatch(/\n {2}workflow {3}remind, version sha256:[0-9a-f]{12} \(the same as flows\/remind\.yaml\)\n/);
    expect(r.stdout).toContain('\n  waits      for event `appointment.confirmed` at step `reply`, until 2026-11-26 09:00:00Z (then it goes on timed out)\n');
    expect(r.stdout).not.toContain('\n  now ');
    expect(r.stdout).toContain('\n  event      {"email":"ann@example.com"}\n');
    const table = r.stdout.slice(r.stdout.indexOf('STEP'));
    expect(rows(table)).toEqual([
      ['book', 'succeeded', '1', '0ms', '201 {"id":"bk-7","start":"2026-11-30T10:00:00Z"}'],
      ['reply', 'waiting', '-', '-', 'until 2026-11-26 09:00:00Z for event `appointment.confirmed`'],
    ]);

    const json = JSON.parse((await runs(['show', id, '--state-dir', 'state', '--json', '--workflows', 'flows'], { GH_SECRET: HOOK_SECRET, API_TOKEN })).stdout) as Record<string, any>;
    expect(json.run).toMatchObject({ id, status: 'waiting', wake_at: '2026-11-26T09:00:00.000Z', waiting_for: { event: 'appointment.confirmed', step: 'reply' }, event: { email: 'ann@example.com' } });
    expect(json.workflow_file).toMatchObject({ file: 'flows/remind.yaml', same: true });
    expect(json.steps.map((s: any) => [s.key, s.status])).toEqual([['book', 'succeeded'], ['reply', 'waiting']]);
    expect(json.steps[0].output).toMatchObject({ status: 201, body: { id: 'bk-7', start: '2026-11-30T10:00:00Z' } });
    expect(json.steps[1]).toMatchObject({ wake_at: '2026-11-26T09:00:00.000Z', event: 'appointment.confirmed' });

    // The file is edited while the run waits: the run goes on with its own version, and show says so.
    writeFileSync(join(dir, 'flows', 'remind.yaml'), `${readFileSync(join(dir, 'flows', 'remind.yaml'), 'utf8')}# edited\n`);
    const edited = await runs(['show', id, '--state-dir', 'state', '--workflows', 'flows']);
    expect(edited.stdout).toMatch(/version sha256:[0-9a-f]{12} \(flows\/remind\.yaml has changed since: it is sha256:[0-9a-f]{12} now; this run goes on with its own version\)/);
    await stop(d);
  });

  it('show of a failed run: its error, the failed step, earlier outputs, escaped and with secrets masked', async () => {
    flow('billing', TWO_CALLS(downstream.url));
    // The reserve call's answer echoes the token back, as a careless API might; the charge fails
    // with a body that would drive a terminal.
    downstream.script('POST /reserve', { status: 201, body: { id: 'r-1', token_seen: API_TOKEN, pad: 'x'.repeat(40_000) } });
    downstream.script('POST /charge', { status: 500, raw: 'ledger down \u001b]0;pwned\u0007 \u202e' });
    const d = await daemon();
    const id = await deliver(d, 'billing', { invoice: 'inv-\u001b[31m9' });
    const run = await runWhen(id, (x) => x?.status === 'failed');
    expect(run).toMatchObject({ status: 'failed', error: { step: 'charge' } });
    await stop(d);

    for (const env of [{}, { API_TOKEN, GH_SECRET: HOOK_SECRET }] as Record<string, string>[]) {
      const r = await runs(['show', id, '--state-dir', 'state'], env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(`run ${id}  billing  failed\n`);
      expect(r.stdout).toMatch(/\n {2}error {6}step `charge`: HTTP 500/);
      expect(r.stdout).toContain('  event      {"invoice":"inv-\\u001b[31m9"}\n');
      const table = rows(r.stdout.slice(r.stdout.indexOf('STEP')).split('\n\n')[0]!);
      expect(table.map((row) => row.slice(0, 3))).toEqual([['reserve', 'succeeded', '1'], ['charge', 'failed', '1']]);
      if (Object.keys(env).length > 0) expect(table[0]![4]).toMatch(/^201 \{"id":"r-1","token_seen":"\*\*\*","pad":"x+…$/);
      else expect(table[0]![4]).toMatch(/^\{"status":201,"headers":.*… \(cut\)$/);
      expect(table[1]![4]).toMatch(/^HTTP 500: /);
      expect(r.stdout).not.toContain(API_TOKEN);
      expect(r.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
      const note = 'some outputs are cut (the run log keeps 16 KiB of each) or not shown: their whole copy is the journal\'s, unmasked, and the secret values of `GH_SECRET`, `API_TOKEN` are not in this environment to mask it with; set them, or pass --env-file, to see them whole\n';
      if (Object.keys(env).length === 0) expect(r.stdout).toContain(note);
      else expect(r.stdout).not.toContain('some outputs are cut');
    }
    // The secrets in the environment, in an env file, or not known here at all.
    writeFileSync(join(dir, 'secrets.env'), `API_TOKEN=${API_TOKEN}\nGH_SECRET=${HOOK_SECRET}\n`);
    const ways: [string[], Record<string, string>, 'journal' | 'run-log'][] = [
      [[], {}, 'run-log'], [[], { API_TOKEN, GH_SECRET: HOOK_SECRET }, 'journal'], [['--env-file', 'secrets.env'], {}, 'journal'],
    ];
    for (const [args, env, from] of ways) {
      const r = await runs(['show', id, '--state-dir', 'state', '--json', ...args], env);
      expect(r.stdout).not.toContain(API_TOKEN);
      expect(r.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
      const doc = JSON.parse(r.stdout) as Record<string, any>;
      expect(doc.steps.map((st: any) => st.output_from)).toEqual([from, 'run-log']);
      expect(doc.secrets_missing).toEqual(from === 'journal' ? [] : ['GH_SECRET', 'API_TOKEN']);
      expect(doc.run).toMatchObject({ status: 'failed', attempt: 1, error: { step: 'charge', http_status: 500 }, event: { invoice: 'inv-\u001b[31m9' } });
      expect(doc.steps.map((s: any) => [s.key, s.status, s.attempts])).toEqual([['reserve', 'succeeded', 1], ['charge', 'failed', 1]]);
      if (from === 'journal') {
        // Whole, from the journal, masked.
        expect(doc.steps[0].output.body).toEqual({ id: 'r-1', token_seen: '***', pad: 'x'.repeat(40_000) });
        expect(doc.steps[0].output_truncated).toBeUndefined();
      } else {
        // The run log's copy: masked when it was written, and cut at 16 KiB.
        expect(doc.steps[0]).toMatchObject({ output_truncated: true });
        expect(doc.steps[0].output).toMatch(/^\{"status":201,.*"token_seen":"\*\*\*"/);
        expect(doc.steps[0].output.length).toBeLessThan(17 * 1024);
      }
      expect(doc.steps[1].error).toContain('ledger down');
    }
    const unknown = await runs(['show', '01NOSUCHRUN', '--state-dir', 'state']);
    expect(unknown).toMatchObject({ code: 2, stdout: '', stderr: 'flux: no run `01NOSUCHRUN` in state (`flux runs` lists the runs there)\n' });
  });

  it('retry runs a failed run again from its failed step, with the earlier outputs and no second call of the steps that completed', async () => {
    flow('billing', TWO_CALLS(downstream.url));
    downstream.script('POST /reserve', { status: 201, body: { id: 'r-1' } });
    downstream.script('POST /charge', { status: 503, body: { error: 'ledger down' } }, { status: 200, body: { charged: true } });
    const d = await daemon();
    const id = await deliver(d, 'billing', { invoice: 9 });
    expect((await runWhen(id, (x) => x?.status === 'failed'))?.status).toBe('failed');
    expect([calls('/reserve').length, calls('/charge').length]).toEqual([1, 1]);

    setClock(T0 + 10 * 60_000);
    const r = await runs(['retry', id, '--state-dir', 'state']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const retryId = /retried as (\S+) /.exec(r.stdout)?.[1];
    expect(retryId).toMatch(/^[0-9A-Z]{26}$/);
    expect(r.stdout).toMatch(new RegExp(`^run ${id} retried as ${retryId} \\(queued, on workflow version sha256:[0-9a-f]{12}, the one ${id} ran\\)\n`));
    expect(r.stdout).toContain('  it replays 1 completed step without calling it again and runs again from step `charge`\n');
    expect(r.stdout).toContain(`  the daemon running on state (pid ${d.child.pid}) picks it up\n`);

    const retried = await runWhen(retryId!, (x) => x?.status === 'succeeded');
    expect(retried).toMatchObject({ status: 'succeeded', retryOf: id, attempt: 1, createdAt: T0 + 10 * 60_000 });
    // Counted at the server: reserve was not called again; charge was, with reserve's output.
    expect(calls('/reserve')).toHaveLength(1);
    expect(calls('/charge')).toHaveLength(2);
    expect(JSON.parse(calls('/charge')[1]!.body)).toEqual({ reservation: 'r-1' });
    expect((await runWhen(id, () => true))?.status).toBe('failed');

    const shown = await runs(['show', retryId!, '--state-dir', 'state']);
    expect(shown.stdout).toContain(`  retry of   ${id}\n`);
    expect(rows(shown.stdout.slice(shown.stdout.indexOf('STEP')).split('\n\n')[0]!).map((row) => row.slice(0, 3))).toEqual([
      ['reserve', 'succeeded, replayed', '1'], ['charge', 'succeeded', '1'],
    ]);
    expect((await runs(['show', id, '--state-dir', 'state'])).stdout).toContain(`  retried as ${retryId} (succeeded)\n`);
    // Each run has one log with one end: the retry's own.
    const log = readFileSync(join(dir, 'state', 'logs', 'billing', `${retryId}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string });
    expect(log.filter((x) => x.type === 'run.finished')).toEqual([expect.objectContaining({ status: 'succeeded' })]);

    const again = await runs(['retry', id, '--state-dir', 'state']);
    expect(again).toMatchObject({ code: 0, stdout: `run ${id} was already retried as ${retryId} (succeeded)\n` });
    const notFailed = await runs(['retry', retryId!, '--state-dir', 'state']);
    expect(notFailed).toMatchObject({ code: 1, stdout: '', stderr: `flux: run ${retryId} succeeded; only failed or escalated runs can be retried\n` });
    expect(await runs(['retry', '01NOSUCHRUN', '--state-dir', 'state'])).toMatchObject({ code: 2, stderr: 'flux: no run `01NOSUCHRUN` in state (`flux runs` lists the runs there)\n' });
    await stop(d);
  });

  it('a retry made while no daemon runs is queued, and the next daemon runs it', async () => {
    flow('billing', TWO_CALLS(downstream.url));
    downstream.script('POST /reserve', { status: 201, body: { id: 'r-2' } });
    downstream.script('POST /charge', { status: 500, body: {} }, { status: 200, body: {} });
    const first = await daemon();
    const id = await deliver(first, 'billing', {});
    await runWhen(id, (x) => x?.status === 'failed');
    await stop(first);
    const r = await runs(['retry', id, '--state-dir', 'state']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  no daemon is running on state: it runs when `flux daemon --state-dir state` starts\n');
    const retryId = /retried as (\S+) /.exec(r.stdout)![1]!;
    expect(rows((await runs(['--state-dir', 'state', '--status', 'queued'])).stdout).map((row) => row[0])).toEqual([retryId]);
    const second = await daemon();
    expect((await runWhen(retryId, (x) => x?.status === 'succeeded'))?.status).toBe('succeeded');
    expect([calls('/reserve').length, calls('/charge').length]).toEqual([1, 2]);
    await stop(second);
  });

  it('cancel ends a waiting run at once: it never resumes, and its log says how it ended', async () => {
    flow('remind', `  - id: book
    uses: http
    with: { url: "${downstream.url}/book", method: POST }
  - id: pause
    wait: 48h
  - id: nudge
    uses: http
    with: { url: "${downstream.url}/nudge", method: POST }
`);
    downstream.script('POST /book', { status: 201, body: {} });
    downstream.script('POST /nudge', { status: 200, body: {} });
    const d = await daemon();
    const id = await deliver(d, 'remind', {});
    expect((await runWhen(id, (x) => x?.status === 'waiting'))?.wakeAt).toBe(T0 + 48 * HOUR);
    setClock(T0 + HOUR);
    const r = await runs(['cancel', id, '--state-dir', 'state']);
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: `run ${id} (remind) cancelled: it was waiting and will not resume\n` });
    expect(await runWhen(id, () => true)).toMatchObject({ status: 'cancelled', finishedAt: T0 + HOUR, wakeAt: null });
    // Past its wake time, with a daemon polling: still cancelled, and the next step never called.
    setClock(T0 + 49 * HOUR);
    const other = await deliver(d, 'remind', {});
    await runWhen(other, (x) => x?.status === 'waiting');
    expect((await runWhen(id, () => true))?.status).toBe('cancelled');
    expect(calls('/nudge')).toHaveLength(0);
    const log = readFileSync(join(dir, 'state', 'logs', 'remind', `${id}.jsonl`), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(log.map((x) => x.type)).toEqual(['run.started', 'step.started', 'step.finished', 'step.started', 'run.waiting', 'run.finished']);
    expect(log.at(-1)).toMatchObject({ run_id: id, workflow: 'remind', status: 'cancelled', duration_ms: HOUR, ts: new Date(T0 + HOUR).toISOString(), error: { message: 'the run was cancelled' } });

    expect(await runs(['cancel', id, '--state-dir', 'state'])).toMatchObject({ code: 0, stdout: `run ${id} (remind) was already cancelled\n` });
    const shown = await runs(['show', id, '--state-dir', 'state']);
    expect(shown.stdout).toContain(`run ${id}  remind  cancelled\n`);
    expect(shown.stdout).toContain('  error      the run was cancelled\n');
    expect(rows(shown.stdout.slice(shown.stdout.indexOf('STEP')).split('\n\n')[0]!).map((row) => row.slice(0, 2).concat(row.slice(4)))).toEqual([
      ['book', 'succeeded', '201 {}'], ['pause', 'stopped', 'the run ended while this step waited (until 2026-11-26 09:00:00Z)'],
    ]);
    await stop(d);
  });
  it('show names the step a running run is in; cancel flags the run and the daemon stops it before its next step', async () => {
    flow('billing', TWO_CALLS(downstream.url));
    downstream.script('POST /reserve', { status: 201, body: { id: 'r-3' }, delayMs: 60_000 });
    downstream.script('POST /charge', { status: 200, body: {} });
    const d = await daemon();
    const id = await deliver(d, 'billing', {});
    for (let i = 0; i < 400 && calls('/reserve').length === 0; i++) await new Promise((r) => setTimeout(r, 25));
    const shown = await runs(['show', id, '--state-dir', 'state']);
    expect(shown.stdout).toContain(`run ${id}  billing  running\n`);
    expect(rows(shown.stdout.slice(shown.stdout.indexOf('STEP')).split('\n\n')[0]!).map((row) => row.slice(0, 2))).toEqual([['reserve', 'running']]);
    const r = await runs(['cancel', id, '--state-dir', 'state']);
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: `run ${id} (billing) is running: cancel requested; it stops before its next step\n` });
    expect((await runWhen(id, (x) => x?.status === 'cancelled'))?.status).toBe('cancelled');
    expect(calls('/charge')).toHaveLength(0);
    await stop(d);
  });
});

describe('flux runs cancel (store)', () => {
  it('cancels a queued run at once; refuses a finished one (exit 1) and an unknown id (exit 2)', async () => {
    const { queued, old } = await fourRuns();
    const r = await runs(['cancel', queued, '--state-dir', 'state']);
    expect(r).toMatchObject({ code: 0, stderr: '', stdout: `run ${queued} (billing) cancelled: it was queued and will not start\n` });
    const s = await store(true);
    expect(await s.getRun(queued)).toMatchObject({ status: 'cancelled', finishedAt: T0 });
    await s.close();
    expect(existsSync(join(dir, 'state', 'logs'))).toBe(false);
    expect(await runs(['cancel', old, '--state-dir', 'state'])).toMatchObject({ code: 1, stdout: '', stderr: `flux: run ${old} (leads) already ended succeeded; there is nothing to cancel\n` });
    expect(await runs(['cancel', '01NOSUCHRUN', '--state-dir', 'state'])).toMatchObject({ code: 2, stderr: 'flux: no run `01NOSUCHRUN` in state (`flux runs` lists the runs there)\n' });
  });

  it('flags a running run, which stops at its next step', async () => {
    const s = await store();
    const id = await addRun(s, 'leads', T0, 'running');
    await s.close();
    const r = await runs(['cancel', id, '--state-dir', 'state']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(`run ${id} (leads) is running: cancel requested; it stops before its next step\n  no daemon is running on state now: when its lease lapses the run is cancelled, not resumed\n`);
    const listed = await runs(['--state-dir', 'state']);
    expect(rows(listed.stdout)[0]?.[6]).toBe('running 0ms, cancel requested');
    expect(statSync(join(dir, 'state', 'flux.db')).isFile()).toBe(true);
  });
});

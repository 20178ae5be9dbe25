// Operating `flux daemon`, on real spawned daemons: /metrics parses as Prometheus text and
// counts what happened; --log-format json writes one JSON object per line and no secret;
// --skip-invalid serves the valid workflows and names the others; SIGHUP serves a changed
// file's new version and keeps the old one when the change does not lint; /healthz turns 503
// while another process holds the store's write lock; --print-systemd prints a unit that
// parses (and that systemd-analyze accepts, where it is installed).
import { spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'libsql';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Health } from '../../src/daemon/health.js';
import { createDaemonLog } from '../../src/daemon/log.js';
import { createPrometheusMetrics, MAX_LABEL_VALUES } from '../../src/daemon/metrics.js';
import { reportEventDelivered, reportFireSkipped } from '../../src/daemon/report.js';
import { planReload } from '../../src/daemon/reload.js';
import type { ServedWorkflow, WorkflowFiles } from '../../src/daemon/workflow-files.js';
import { Masker } from '../../src/secrets/masker.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { RunRow } from '../../src/store/store.js';
import { BIN, runFlux } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { spawnDaemon, type RunningDaemon } from './spawn-daemon.js';

vi.setConfig({ testTimeout: 60_000 });

const SECRET = 'gh-webhook-secret-ops-1';
let downstream: TestServer;
let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

function leads(first = 'a'): string {
  return `name: leads
owner: ops@example.com
trigger:
  webhook:
    path: /hooks/leads
    signature: { scheme: github, secret: "\${{ secrets.GH_SECRET }}" }
secrets: [GH_SECRET]
steps:
  - id: first
    uses: http
    with: { url: "${downstream.url}/${first}", method: POST }
  - id: second
    uses: http
    with: { url: "${downstream.url}/b", method: POST, json: { email: "\${{ event.email }}" } }
on_error:
  escalate: { uses: http, with: { url: "${downstream.url}/alerts", method: POST } }
`;
}

const REMIND = `name: remind
owner: ops@example.com
trigger:
  webhook:
    path: /hooks/remind
steps:
  - id: later
    wait: 48h
`;

beforeEach(async () => {
  downstream = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-ops-'));
  mkdirSync(join(dir, 'flows'));
  writeFileSync(join(dir, 'flows', 'leads.yaml'), leads());
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await downstream.close();
});

type Running = RunningDaemon;

/** Starts a daemon on a free port; resolves once it says where it listens, or fails with its output. */
async function daemon(...extra: string[]): Promise<Running> {
  return spawnDaemon({
    cwd: dir, children, args: ['flows', '--state-dir', 'state', '--port', '0', '--lease', '1s', '--grace', '2s', ...extra],
    env: { GH_SECRET: SECRET },
  });
}

async function stop(d: Running): Promise<void> {
  d.child.kill('SIGTERM');
  expect(await d.exit).toEqual({ code: 0, signal: null });
}

function sign(body: string): string {
  return `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
}

async function deliver(url: string, event: unknown, path = '/hooks/leads', signature?: string): Promise<{ status: number; runId?: string }> {
  const body = JSON.stringify(event);
  const res = await fetch(`${url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature ?? sign(body) } });
  const text = await res.text();
  return { status: res.status, ...(res.status === 202 ? { runId: (JSON.parse(text) as { run_id: string }).run_id } : {}) };
}

/** Polls until `check` holds (the daemon is another process); returns whether it did. */
async function until(check: () => boolean | Promise<boolean>, tries = 400): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

async function runs(ids: readonly string[]): Promise<(RunRow | undefined)[]> {
  const store = await openSqliteStore({ path: join(dir, 'state', 'flux.db'), now: Date.now });
  try {
    return await Promise.all(ids.map((id) => store.getRun(id)));
  } finally {
    await store.close();
  }
}

async function finished(ids: readonly string[]): Promise<RunRow[]> {
  const done = (r: RunRow | undefined) => r !== undefined && ['succeeded', 'failed', 'escalated'].includes(r.status);
  await until(async () => (await runs(ids)).every(done));
  return (await runs(ids)) as RunRow[];
}

/** A Prometheus text exposition as samples; throws on a line that is not one. */
function parseExposition(text: string): { samples: { name: string; labels: Record<string, string>; value: number }[]; types: Map<string, string> } {
  const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[+-]?Inf|NaN)$/i.exec(line); // Prometheus reads NaN and Inf in any case
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

async function scrape(url: string): Promise<ReturnType<typeof parseExposition> & { value(name: string, labels?: Record<string, string>): number | undefined }> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const parsed = parseExposition(await res.text());
  return {
    ...parsed,
    value: (name, labels = {}) => parsed.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value,
  };
}

describe('flux daemon: /metrics', () => {
  it('serves Prometheus text that counts runs, steps, webhook answers, escalations and waiting runs', async () => {
    writeFileSync(join(dir, 'flows', 'remind.yaml'), REMIND);
    downstream.script('POST /a', { status: 200, body: {} }, { status: 200, body: {} }, { status: 500, body: { error: 'down' } });
    downstream.script('POST /b', { status: 200, body: {} });
    downstream.script('POST /alerts', { status: 200, body: {} });
    const d = await daemon();
    const before = await scrape(d.url);
    expect(before.value('flux_runs', { workflow: 'leads', status: 'queued' })).toBe(0);
    expect(before.value('flux_runs_started_total')).toBeUndefined();

    const ids: string[] = [];
    for (const email of ['a@example.com', 'b@example.com', 'c@example.com']) {
      const r = await deliver(d.url, { email });
      expect(r.status).toBe(202);
      ids.push(r.runId!);
    }
    expect((await deliver(d.url, { email: 'x' }, '/hooks/leads', 'sha256=00')).status).toBe(401);
    expect((await fetch(`${d.url}/hooks/nowhere`, { method: 'POST', body: '{}' })).status).toBe(404);
    const waiting = await deliver(d.url, {}, '/hooks/remind', '');
    expect(waiting.status).toBe(202);
    const rows = await finished(ids);
    expect(rows.map((r) => r.status).sort()).toEqual(['escalated', 'succeeded', 'succeeded']);
    expect(await until(async () => (await runs([waiting.runId!]))[0]?.status === 'waiting')).toBe(true);

    // The last turn's report can trail the store's row by a moment: scrape until it is counted.
    let m = await scrape(d.url);
    await until(async () => {
      m = await scrape(d.url);
      return m.value('flux_runs_finished_total', { workflow: 'leads', status: 'escalated' }) === 1 && m.value('flux_runs_finished_total', { workflow: 'leads', status: 'succeeded' }) === 2;
    });
    expect(m.types.get('flux_runs_started_total')).toBe('counter');
    expect(m.types.get('flux_step_duration_seconds')).toBe('histogram');
    expect(m.types.get('flux_runs')).toBe('gauge');
    expect(m.value('flux_runs_started_total', { workflow: 'leads', trigger: 'webhook' })).toBe(3);
    expect(m.value('flux_runs_started_total', { workflow: 'remind', trigger: 'webhook' })).toBe(1);
    expect(m.value('flux_runs_finished_total', { workflow: 'leads', status: 'succeeded' })).toBe(2);
    expect(m.value('flux_runs_finished_total', { workflow: 'leads', status: 'escalated' })).toBe(1);
    expect(m.value('flux_escalations_total', { workflow: 'leads', delivered: 'true' })).toBe(1);
    // Two steps in each succeeded run; the escalated one failed at its first.
    expect(m.value('flux_step_duration_seconds_count', { workflow: 'leads', status: 'succeeded' })).toBe(4);
    expect(m.value('flux_step_duration_seconds_count', { workflow: 'leads', status: 'failed' })).toBe(1);
    expect(m.value('flux_webhook_requests_total', { path: '/hooks/leads', status: '202' })).toBe(3);
    expect(m.value('flux_webhook_requests_total', { path: '/hooks/leads', status: '401' })).toBe(1);
    expect(m.value('flux_webhook_requests_total', { path: '(unrouted)', status: '404' })).toBe(1);
    expect(m.value('flux_runs', { workflow: 'remind', status: 'waiting' })).toBe(1);
    expect(m.value('flux_runs', { workflow: 'leads', status: 'running' })).toBe(0);
    expect(m.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    await stop(d);
  });
});

describe('flux daemon: logs', () => {
  it('--log-format json writes one JSON object per line, with the facts as fields and no secret', async () => {
    // A secret pasted where a key goes: the linter quotes the key, and the log must not show it.
    writeFileSync(join(dir, 'flows', 'broken.yaml'), `name: broken\nowner: ops@example.com\ntrigger: manual\nsteps:\n  - id: x\n    set: { a: 1 }\n    ${SECRET}: 1\n`);
    downstream.script('POST /a', { status: 200, body: {} }, { status: 500, body: { error: `rejected token ${SECRET}` } });
    downstream.script('POST /b', { status: 200, body: {} });
    downstream.script('POST /alerts', { status: 200, body: {} });
    const d = await daemon('--log-format', 'json', '--skip-invalid');
    const ok = await deliver(d.url, { email: 'ann@example.com' });
    await finished([ok.runId!]);
    const failing = await deliver(d.url, { email: 'bob@example.com' });
    expect((await deliver(d.url, { email: 'x' }, '/hooks/leads', 'sha256=abc')).status).toBe(401);
    await finished([ok.runId!, failing.runId!]);
    await until(() => (d.stdout().match(/"kind":"run\.finished"/g) ?? []).length === 2);
    await stop(d);

    const lines = d.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const line of lines) {
      expect(Object.keys(line).slice(0, 3)).toEqual(['time', 'level', 'msg']);
      expect(new Date(String(line.time)).toISOString()).toBe(line.time);
      expect(['info', 'warn', 'error']).toContain(line.level);
    }
    const kind = (k: string) => lines.filter((l) => l.kind === k);
    expect(kind('daemon.listening')).toHaveLength(1);
    expect(kind('workflow.invalid')).toEqual([expect.objectContaining({ level: 'error', file: 'flows/broken.yaml', error: expect.stringMatching(/^flows\/broken\.yaml:7:5: unknown key `\*\*\*`/) })]);
    expect(kind('run.started')).toEqual(expect.arrayContaining([expect.objectContaining({ run: ok.runId, workflow: 'leads', trigger: 'webhook', attempt: 1 })]));
    expect(kind('run.finished')).toEqual(expect.arrayContaining([
      expect.objectContaining({ run: ok.runId, status: 'succeeded', duration_ms: expect.any(Number) }),
      expect.objectContaining({ run: failing.runId, status: 'escalated', level: 'warn', step: 'first' }),
    ]));
    expect(kind('escalation')).toEqual([expect.objectContaining({ run: failing.runId, delivered: true, via: 'http' })]);
    expect(kind('webhook.signature_rejected')).toEqual([expect.objectContaining({ level: 'warn', path: '/hooks/leads', status: 401, reason: '`X-Hub-Signature-256` does not match the body' })]);
    expect(kind('daemon.stopped')).toHaveLength(1);
    expect(d.stdout()).not.toContain(SECRET);
    expect(d.stderr()).not.toContain(SECRET);
    expect(d.stderr()).toMatch(/^flux: not serving flows\/broken\.yaml:7:5: unknown key `\*\*\*`/);
  });

  it('text lines are `<iso time> <message>` with control characters escaped', async () => {
    // A file name is outside text: one that holds an escape sequence must not reach the terminal raw.
    writeFileSync(join(dir, 'flows', 'bad\u001b[2J.yaml'), 'name: bad\nowner: ops@example.com\ntrigger: manual\nsteps:\n  - id: x\n    set: { a: 1 }\n    sett: 1\n');
    const d = await daemon('--skip-invalid');
    await stop(d);
    const lines = d.stdout().trim().split('\n');
    expect(lines[0]).toMatch(/^\S+Z not serving flows\/bad\\e\[2J\.yaml: flows\/bad\\e\[2J\.yaml:7:5: unknown key `sett`[^\\]*\[schema\]$/);
    expect(lines[1]).toMatch(/^flux daemon listening on http:\/\/127\.0\.0\.1:\d+ \(1 workflow, state in state\)$/);
    for (const line of [lines[0]!, ...lines.slice(2)]) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S/);
    expect(d.stdout()).not.toContain('\u001b');
    expect(d.stderr()).toMatch(/^flux: not serving flows\/bad\\e\[2J\.yaml:7:5: unknown key `sett`.*\[schema\]\n$/);
  });
});

describe('flux daemon: a resume after a crash', () => {
  it('is logged with its attempt and counted as a rescue', async () => {
    downstream.script('POST /a', { status: 200, body: {} });
    downstream.script('POST /b', { status: 200, body: {}, delayMs: 60_000 }, { status: 200, body: {} });
    const first = await daemon();
    const r = await deliver(first.url, { email: 'bob@example.com' });
    expect(await until(() => downstream.received.some((x) => x.path === '/b'))).toBe(true);
    first.child.kill('SIGKILL');
    await first.exit;
    const second = await daemon('--log-format', 'json');
    expect((await finished([r.runId!]))[0]).toMatchObject({ status: 'succeeded', attempt: 2 });
    await until(() => second.stdout().includes('"kind":"run.finished"'));
    const m = await scrape(second.url);
    expect(m.value('flux_runs_resumed_total', { workflow: 'leads', reason: 'rescue' })).toBe(1);
    expect(m.value('flux_runs_started_total')).toBeUndefined();
    await stop(second);
    const resumed = second.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.kind === 'run.resumed');
    expect(resumed).toEqual([expect.objectContaining({ level: 'warn', msg: `run ${r.runId} leads resumed after its daemon stopped (attempt 2)`, reason: 'rescue', attempt: 2 })]);
  });
});

describe('flux daemon: --skip-invalid', () => {
  it('serves the workflows that lint clean and names each other file with its first error', async () => {
    writeFileSync(join(dir, 'flows', 'broken.yaml'), 'name: broken\nowner: ops@example.com\ntrigger:\n  webhook: { path: /hooks/broken }\nsteps:\n  - id: x\n    set: { a: 1 }\n    sett: 1\n');
    const refused = await runFlux(['daemon', 'flows', '--state-dir', 'state', '--port', '0', '--allow-silent'], { cwd: dir, env: { GH_SECRET: SECRET } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--skip-invalid serves the others');

    downstream.script('POST /a', { status: 200, body: {} });
    downstream.script('POST /b', { status: 200, body: {} });
    const d = await daemon('--skip-invalid');
    expect(d.stderr()).toMatch(/^flux: not serving flows\/broken\.yaml:8:5: unknown key `sett`.*\[schema\]\n$/);
    expect(d.stdout()).toMatch(/\(1 workflow, state in state\)/);
    expect(d.stdout()).toMatch(/^\S+Z not serving flows\/broken\.yaml: flows\/broken\.yaml:8:5: unknown key `sett`.*\[schema\]$/m);
    const r = await deliver(d.url, { email: 'ann@example.com' });
    expect(r.status).toBe(202);
    expect((await deliver(d.url, {}, '/hooks/broken')).status).toBe(404);
    expect((await finished([r.runId!]))[0]?.status).toBe('succeeded');
    await stop(d);
  });
});

describe('flux daemon: SIGHUP', () => {
  it('serves a changed file that lints clean to new runs, and keeps the old version when a change does not', async () => {
    writeFileSync(join(dir, 'flows', 'remind.yaml'), REMIND);
    for (const p of ['/a', '/c', '/b']) downstream.script(`POST ${p}`, { status: 200, body: {} });
    const d = await daemon();
    const calls = (path: string) => downstream.received.filter((r) => r.path === path).length;
    const reloaded = async (n: number) => expect(await until(() => (d.stdout().match(/ reloaded: /g) ?? []).length === n)).toBe(true);

    const v1 = await deliver(d.url, { email: 'one@example.com' });
    await finished([v1.runId!]);
    expect([calls('/a'), calls('/c')]).toEqual([1, 0]);

    // A clean change: new runs call /c; the run that started before stays on its version.
    writeFileSync(join(dir, 'flows', 'leads.yaml'), leads('c'));
    rmSync(join(dir, 'flows', 'remind.yaml'));
    d.child.kill('SIGHUP');
    await reloaded(1);
    expect(d.stdout()).toMatch(/reload: flows\/leads\.yaml: new runs of leads use sha256:[0-9a-f]{12}/);
    expect(d.stdout()).toMatch(/reload: flows\/remind\.yaml: gone; remind is no longer served/);
    expect(d.stdout()).toMatch(/reloaded: 0 added, 1 changed, 1 removed, 0 unchanged\n/);
    const v2 = await deliver(d.url, { email: 'two@example.com' });
    await finished([v2.runId!]);
    expect([calls('/a'), calls('/c')]).toEqual([1, 1]);
    const [row1, row2] = await runs([v1.runId!, v2.runId!]);
    expect(row1?.workflowVersion).not.toBe(row2?.workflowVersion);
    expect((await deliver(d.url, {}, '/hooks/remind', '')).status).toBe(404);

    // A change that does not lint: the log names the file, line and column; v2 goes on serving.
    writeFileSync(join(dir, 'flows', 'leads.yaml'), leads('a').replace('  - id: second\n', '  - id: second\n    sett: 1\n'));
    d.child.kill('SIGHUP');
    await reloaded(2);
    expect(d.stdout()).toMatch(/reload: flows\/leads\.yaml:13:5: unknown key `sett`[^\n]*\[schema\]; keeping the version served before \(sha256:[0-9a-f]{12}\)/);
    expect(d.stdout()).toMatch(/reloaded: 0 added, 0 changed, 0 removed, 0 unchanged, 1 with errors\n/);
    const v3 = await deliver(d.url, { email: 'three@example.com' });
    await finished([v3.runId!]);
    expect([calls('/a'), calls('/c')]).toEqual([1, 2]);
    expect((await runs([v3.runId!]))[0]?.workflowVersion).toBe(row2?.workflowVersion);

    const m = await scrape(d.url);
    expect(m.value('flux_reloads_total', { outcome: 'ok' })).toBe(1);
    expect(m.value('flux_reloads_total', { outcome: 'partial' })).toBe(1);
    await stop(d);
  });
});

describe('flux daemon: /healthz', () => {
  it('is 503 with the reason while another process holds the store\'s write lock, and 200 again after', async () => {
    const d = await daemon();
    const health = async () => {
      const res = await fetch(`${d.url}/healthz`);
      return { status: res.status, body: await res.text() };
    };
    expect(await health()).toEqual({ status: 200, body: '{"ok":true}\n' });
    // An operator's sqlite3 shell left inside a write transaction: the daemon's claims wait out
    // the busy timeout (5 s) and fail. The store's worker thread waits, not the event loop, so
    // /healthz answers meanwhile (503 "no beat" once the wait passes 5 s), then names the lock.
    const db = new Database(join(dir, 'state', 'flux.db'));
    // The daemon may be mid-commit at this moment: wait for it, as a sqlite3 shell would.
    db.exec('PRAGMA busy_timeout = 10000');
    db.exec('BEGIN IMMEDIATE');
    let seen = { status: 0, body: '' };
    try {
      expect(await until(async () => (seen = await health()).status === 503 && /locked/i.test(seen.body), 600)).toBe(true);
    } finally {
      db.exec('ROLLBACK');
      db.close();
    }
    expect(JSON.parse(seen.body)).toEqual({ ok: false, problems: [expect.stringMatching(/^claim loop: claiming runs failed: .*locked/i)] });
    expect(await until(async () => (await health()).status === 200, 600)).toBe(true);
    expect(d.stdout()).toMatch(/claiming runs failed: .*locked/i);
    await stop(d);
  });
});

describe('flux daemon --print-systemd', () => {
  /** The unit as sections of key → values (a key may repeat). */
  function parseUnit(text: string): Map<string, Map<string, string[]>> {
    const sections = new Map<string, Map<string, string[]>>();
    let current: Map<string, string[]> | undefined;
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
      const section = /^\[([A-Za-z]+)\]$/.exec(line);
      if (section) {
        current = new Map();
        sections.set(section[1]!, current);
        continue;
      }
      const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
      if (!kv || !current) throw new Error(`not a unit line: ${line}`);
      current.set(kv[1]!, [...(current.get(kv[1]!) ?? []), kv[2]!]);
    }
    return sections;
  }

  it('prints a unit that runs this daemon under systemd, and exits 0', async () => {
    const r = await runFlux(['daemon', 'flows', '--print-systemd', '--user', 'flux', '--grace', '40s', '--port', '9000', '--log-format', 'json'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const unit = parseUnit(r.stdout);
    expect([...unit.keys()]).toEqual(['Unit', 'Service', 'Install']);
    const service = unit.get('Service')!;
    const one = (key: string) => {
      expect(service.get(key), key).toHaveLength(1);
      return service.get(key)![0]!;
    };
    expect(one('ExecStart')).toBe(`${process.execPath} ${BIN} daemon ${join(dir, 'flows')} --state-dir /var/lib/flux --host 127.0.0.1 --port 9000 --concurrency 10 --lease 10s --grace 40s --log-format json`);
    expect(one('Restart')).toBe('on-failure');
    expect(one('KillSignal')).toBe('SIGTERM');
    expect(Number(/^(\d+)s$/.exec(one('TimeoutStopSec'))?.[1])).toBeGreaterThan(40);
    expect(one('StateDirectory')).toBe('flux');
    expect(one('WorkingDirectory')).toBe('/var/lib/flux');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('EnvironmentFile')).toBe('/etc/flux/flux.env');
    expect(one('User')).toBe('flux');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);

    const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (analyze.error === undefined && analyze.status === 0) {
      const verify = (text: string) => {
        const file = join(dir, 'flux.service');
        writeFileSync(file, text);
        return spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
      };
      const checked = verify(r.stdout);
      expect(checked.status, checked.stderr).toBe(0);
      expect(checked.stderr).not.toMatch(/flux\.service:\d+/);
      // The check can fail here: the same unit with a signal systemd does not know is reported.
      expect(verify(r.stdout.replace('KillSignal=SIGTERM', 'KillSignal=SIGNOPE')).stderr).toMatch(/flux\.service:\d+: .*signal/i);
    }
  });

  it('quotes paths with spaces and specifiers, and refuses --user without --print-systemd', async () => {
    mkdirSync(join(dir, 'my flows%1'));
    writeFileSync(join(dir, 'my flows%1', 'leads.yaml'), leads());
    const r = await runFlux(['daemon', 'my flows%1', '--print-systemd', '--state-dir', '/var/lib/flux-ops', '--user', 'ops'], { cwd: dir });
    expect(r.code).toBe(0);
    const execStart = /^ExecStart=(.*)$/m.exec(r.stdout)?.[1];
    expect(execStart).toContain(` daemon "${join(dir, 'my flows%%1')}" --state-dir /var/lib/flux-ops `);
    expect(r.stdout).toMatch(/^StateDirectory=flux-ops$/m);
    const bad = await runFlux(['daemon', 'flows', '--user', 'ops'], { cwd: dir });
    expect(bad).toMatchObject({ code: 2, stderr: 'flux: --user goes with --print-systemd (it names the user the service runs as)\n' });
  });
});

describe('daemon parts', () => {
  const served = (file: string, version: string): ServedWorkflow => ({
    workflow: { file, value: {}, name: file.replace(/^.*\/|\.yaml$/g, ''), owner: 'ops@example.com', version, baseline: null }, text: version,
  });
  const files = (f: Partial<WorkflowFiles>): WorkflowFiles => ({ valid: [], invalid: [], errors: [], texts: new Map(), missing: [], unlisted: [], ...f });

  it('a reload adds, changes and removes files, keeps a broken or unlistable one, and refuses a new broken one', () => {
    const before = [served('flows/a.yaml', 'v1'), served('flows/b.yaml', 'v1'), served('flows/c.yaml', 'v1'), served('flows/sub/d.yaml', 'v1'), served('flows/e.yaml', 'v1')];
    const plan = planReload(before, files({
      valid: [served('flows/a.yaml', 'v1'), served('flows/b.yaml', 'v2'), served('flows/n.yaml', 'v1')],
      invalid: [{ file: 'flows/c.yaml', firstError: 'flows/c.yaml:3:1: bad [schema]' }, { file: 'flows/x.yaml', firstError: 'flows/x.yaml:1:1: worse [schema]' }],
      unlisted: [{ path: 'flows/sub', reason: 'permission denied' }],
    }));
    expect(plan.added.map((w) => w.workflow.file)).toEqual(['flows/n.yaml']);
    expect(plan.changed.map((w) => [w.workflow.file, w.workflow.version])).toEqual([['flows/b.yaml', 'v2']]);
    expect(plan.removed.map((w) => w.workflow.file)).toEqual(['flows/e.yaml']);
    expect(plan.kept.map((k) => [k.previous.workflow.file, k.problem])).toEqual([
      ['flows/c.yaml', 'flows/c.yaml:3:1: bad [schema]'],
      ['flows/sub/d.yaml', 'flows/sub: cannot read directory: permission denied'],
    ]);
    expect(plan.refused).toEqual([{ file: 'flows/x.yaml', problem: 'flows/x.yaml:1:1: worse [schema]' }]);
    expect(plan.unchanged).toBe(1);
    expect(plan.next.map((w) => `${w.workflow.file}@${w.workflow.version}`)).toEqual(['flows/a.yaml@v1', 'flows/b.yaml@v2', 'flows/c.yaml@v1', 'flows/n.yaml@v1', 'flows/sub/d.yaml@v1']);
  });

  it('health reports a loop that stopped beating, and a failure until the next beat', () => {
    let now = 0;
    const health = new Health(5000, () => now);
    const loop = health.heartbeat('claim loop');
    expect(health.check()).toEqual({ ok: true });
    now = 5001;
    expect(health.check()).toEqual({ ok: false, problems: ['claim loop: no beat for 5 s'] });
    loop.beat();
    loop.fail('claiming runs failed: disk I/O error');
    expect(health.check()).toEqual({ ok: false, problems: ['claim loop: claiming runs failed: disk I/O error'] });
    loop.beat();
    expect(health.check()).toEqual({ ok: true });
  });

  it('json log lines escape what JSON leaves raw but a terminal obeys, and mask secrets in fields', () => {
    const masker = new Masker();
    masker.add('s3cr3t-value');
    let out = '';
    const log = createDaemonLog({ format: 'json', write: (l) => (out += l), now: () => 0, masker });
    log.warn('odd \u202e\u0085 text', { reason: 'token s3cr3t-value', msg: 'not mine', n: 1 });
    expect(out).toBe('{"time":"1970-01-01T00:00:00.000Z","level":"warn","msg":"odd \\u202e\\u0085 text","reason":"token ***","n":1}\n');
    expect(JSON.parse(out)).toMatchObject({ msg: 'odd \u202e\u0085 text' });
  });

  it('a skipped fire and an event delivery are logged and counted, event names bounded', async () => {
    const metrics = createPrometheusMetrics({ countRuns: async () => [{ workflow: 'nightly', status: 'queued', count: 2 }], workflows: () => ['nightly', 'idle'] });
    let out = '';
    const log = createDaemonLog({ format: 'text', write: (l) => (out += l), now: () => Date.parse('2026-11-24T09:00:00.010Z'), masker: new Masker() });
    reportFireSkipped('nightly', Date.parse('2026-11-24T09:00:00Z'), 'overlap', { log, metrics });
    for (let i = 0; i <= MAX_LABEL_VALUES; i++) reportEventDelivered({ id: `e${i}`, name: `evt.${i}` }, i === 0 ? ['r1'] : [], ['r2', 'r3'], { log, metrics });
    expect(out.split('\n')[0]).toBe('2026-11-24T09:00:00.010Z schedule nightly: fire for 2026-11-24T09:00:00.000Z skipped (overlap)');
    expect(out.split('\n')[1]).toBe('2026-11-24T09:00:00.010Z event evt.0 e0 delivered: 1 woken, 2 started');
    const m = parseExposition((await metrics.render()).body);
    const value = (name: string, labels: Record<string, string>) => m.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))?.value;
    expect(value('flux_schedule_fires_skipped_total', { workflow: 'nightly', reason: 'overlap' })).toBe(1);
    expect(value('flux_event_runs_total', { event: 'evt.0', effect: 'woke' })).toBe(1);
    expect(value('flux_event_runs_total', { event: 'evt.0', effect: 'started' })).toBe(2);
    expect(value('flux_events_delivered_total', { event: `evt.${MAX_LABEL_VALUES}` })).toBeUndefined();
    expect(value('flux_events_delivered_total', { event: '(other)' })).toBe(1);
    expect(value('flux_runs', { workflow: 'nightly', status: 'queued' })).toBe(2);
    expect(value('flux_runs', { workflow: 'idle', status: 'waiting' })).toBe(0);
  });
});

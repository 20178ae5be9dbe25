// What the acknowledgement tests share: a scratch directory with a workflow that escalates with
// acknowledgement, real daemons on the test clock, a chat and a pager (a real HTTP server)
// that record what they were sent, and readers of the run log and the store.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { readRunLog, type RunRecord } from '../../src/store/run-log.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { EscalationRow } from '../../src/store/store.js';
import { validateRecord } from '../engine/harness.js';
import { runFlux, type Captured } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { spawnDaemon, type RunningDaemon } from '../daemon/spawn-daemon.js';

export const T0 = Date.UTC(2026, 10, 24, 9, 0, 0);
export const HOUR = 3_600_000;

/** A workflow whose one step fails, escalating to the finance team with acknowledgement within 4h. */
export function payWorkflow(server: string, options: { then?: boolean; error?: string } = {}): string {
  return `name: pay
owner: { team: finance, members: [maria@example.com, li@example.com], backup: boss@example.com }
trigger:
  webhook: { path: /pay }
connections:
  chat: { base_url: "${server}" }
  pager: { base_url: "${server}" }
steps:
  - id: charge
    fail: "${options.error ?? 'invoice ${{ event.n }} is stuck'}"
on_error:
  escalate:
    uses: chat.request
    with: { method: POST, path: /chat, json: { text: "\${{ error.message }}", link: "\${{ escalation.ack_url }}", due: "\${{ escalation.due_at }}" } }
    ack_within: 4h
${options.then === false ? '' : '    then: { uses: pager.request, with: { method: POST, path: /page } }\n'}`;
}

/** A scratch directory for one test. */
export class Scratch {
  readonly dir = mkdtempSync(join(tmpdir(), 'flux-ack-'));
  readonly children: ChildProcessWithoutNullStreams[] = [];
  /** More environment for the daemons (secrets, env overrides). */
  env: Record<string, string> = {};

  constructor() {
    mkdirSync(join(this.dir, 'flows'));
    this.setClock(T0);
  }

  setClock(ms: number): void {
    writeFileSync(join(this.dir, 'clock'), String(ms));
  }

  flow(name: string, text: string): void {
    writeFileSync(join(this.dir, 'flows', `${name}.yaml`), text);
  }

  /** A real `flux daemon` on the test clock (no --allow-silent: these workflows escalate). */
  daemon(...extra: string[]): Promise<RunningDaemon> {
    return spawnDaemon({
      cwd: this.dir, children: this.children, allowSilent: false, args: ['flows', '--state-dir', 'state', '--port', '0', '--lease', '1s', '--grace', '2s', ...extra],
      env: { ...this.env, FLUX_TEST_CLOCK: join(this.dir, 'clock') },
    });
  }

  /** `flux ARGS` as a real process in the scratch directory, on the test clock. */
  flux(...args: string[]): Promise<Captured> {
    return runFlux(args, { cwd: this.dir, env: { FLUX_TEST_CLOCK: join(this.dir, 'clock') } });
  }

  /** The run's escalation, read with a second connection. */
  async escalation(runId: string): Promise<EscalationRow | undefined> {
    const store = await openSqliteStore({ path: join(this.dir, 'state', 'flux.db'), now: Date.now, readOnly: true });
    try {
      return await store.getEscalation(runId);
    } finally {
      await store.close();
    }
  }

  /** The run's state in the store. */
  async status(runId: string): Promise<string | undefined> {
    const store = await openSqliteStore({ path: join(this.dir, 'state', 'flux.db'), now: Date.now, readOnly: true });
    try {
      return (await store.getRun(runId))?.status;
    } finally {
      await store.close();
    }
  }

  /** A run's log, each record checked against the run-log schema. */
  log(runId: string, workflow = 'pay', logDir = 'state/logs'): RunRecord[] {
    const log = readRunLog(join(this.dir, logDir, workflow, `${runId}.jsonl`));
    expect(log.problems).toEqual([]);
    for (const r of log.records) expect(validateRecord(r), `${JSON.stringify(r)}: ${JSON.stringify(validateRecord.errors)}`).toBe(true);
    return log.records;
  }

  kill(): void {
    for (const c of this.children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

/** Delivers the webhook that starts a run; returns its id. */
export async function hook(url: string, event: unknown): Promise<string> {
  const res = await fetch(`${url}/pay`, { method: 'POST', body: JSON.stringify(event), headers: { 'content-type': 'application/json' } });
  const body = await res.text();
  expect(res.status, body).toBe(202);
  return (JSON.parse(body) as { run_id: string }).run_id;
}

/** Polls (real time, bounded) until `done` holds: the daemon is another process. */
export async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

/** The requests the server got on `path`, bodies parsed. */
export function sent(server: TestServer, path: string): Record<string, unknown>[] {
  return server.received.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

/** The acknowledgement link the chat message carried. */
export function linkOf(server: TestServer): string {
  const link = sent(server, '/chat')[0]?.link;
  expect(typeof link === 'string' && link.includes('/ack/'), `the chat message carries an ack link: ${String(link)}`).toBe(true);
  return link as string;
}

/** A test's own server and scratch directory, fresh for each test (read them inside the test). */
export interface PerTest {
  readonly server: TestServer;
  readonly s: Scratch;
}

/** Registers a fresh test server (chat answering 200) and scratch directory for each test, and their cleanup. */
export function perTest(): PerTest {
  const t = {} as { server: TestServer; s: Scratch };
  beforeEach(async () => {
    t.server = await startTestServer();
    t.server.script('POST /chat', { status: 200, body: {} });
    t.s = new Scratch();
  });
  afterEach(async () => {
    t.s.kill();
    await t.server.close();
  });
  return t;
}

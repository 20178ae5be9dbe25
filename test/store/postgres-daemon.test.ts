// `flux daemon --store postgres://…` as a real process on the server at $FLUX_TEST_PG_URL, in a
// fresh schema: it answers a signed webhook 202 and runs it; `flux runs --store` lists the run
// and `flux event --store` stores an event, from other processes; a database it cannot reach
// stops it with exit 1, and a password in the URL is never printed.
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { RunRow } from '../../src/store/store.js';
import { killChildren, spawnDaemon } from '../daemon/spawn-daemon.js';
import { runFlux } from '../helpers.js';
import { PG_URL, requirePostgres, testSchemas, urlWithSchema } from '../pg-helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';

const SECRET = 'gh-webhook-secret-pg';
const PASSWORD = 'pg-sekret-77';
const schemas = testSchemas('flux_test_daemon');
const children: ChildProcessWithoutNullStreams[] = [];
let downstream: TestServer;
let dir: string;

beforeAll(requirePostgres);
afterAll(() => schemas.dropAll());
beforeEach(async () => {
  downstream = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-pg-daemon-'));
  mkdirSync(join(dir, 'flows'));
  const notify = { id: 'notify', uses: 'http', with: { url: `${downstream.url}/notify`, method: 'POST', json: { email: '${{ event.email }}' } } };
  const webhook = { path: '/hooks/leads', signature: { scheme: 'github', secret: '${{ secrets.GH_SECRET }}' } };
  // JSON is YAML: the workflow written as data.
  writeFileSync(join(dir, 'flows', 'leads.yaml'), JSON.stringify({ name: 'leads', owner: 'ops@example.com', trigger: { webhook }, secrets: ['GH_SECRET'], steps: [notify] }));
});
afterEach(async () => {
  killChildren(children);
  await downstream.close();
});

/** The test URL for `schema`, with a password (trust auth ignores it) that must never be printed. */
function secretUrl(schema: string): string {
  const url = new URL(urlWithSchema(schema));
  url.password = PASSWORD;
  return url.href;
}

async function deliver(url: string, event: unknown): Promise<{ status: number; body: string }> {
  const body = JSON.stringify(event);
  const res = await fetch(`${url}/hooks/leads`, {
    method: 'POST', body, headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` },
  });
  return { status: res.status, body: await res.text() };
}

/** The run as PostgreSQL has it, once `done` holds (polled: the daemon is another process). */
async function runWhen(url: string, id: string, done: (run: RunRow | undefined) => boolean): Promise<RunRow | undefined> {
  const store = await openPostgresStore({ url, now: Date.now, poolSize: 1 });
  try {
    for (let i = 0; i < 400; i++) {
      const run = await store.getRun(id);
      if (done(run)) return run;
      await new Promise((r) => setTimeout(r, 25));
    }
    return await store.getRun(id);
  } finally {
    await store.close();
  }
}

describe('flux daemon --store postgres://', () => {
  it('runs a webhook from PostgreSQL; flux runs and flux event reach the same store', async () => {
    downstream.script('POST /notify', { status: 200, body: {} });
    const schema = schemas.fresh();
    const url = secretUrl(schema);
    const d = await spawnDaemon({ cwd: dir, args: ['flows', '--state-dir', 'state', '--port', '0', '--store', url], env: { GH_SECRET: SECRET }, children });
    expect(d.stdout()).toContain(`store ${urlWithSchema(schema)})`);
    const res = await deliver(d.url, { email: 'ann@example.com' });
    expect(res.status).toBe(202);
    const { run_id: id } = JSON.parse(res.body) as { run_id: string };
    expect(await runWhen(urlWithSchema(schema), id, (r) => r?.status === 'succeeded')).toMatchObject({ status: 'succeeded', attempt: 1, trigger: 'webhook' });
    expect(JSON.parse(downstream.received.find((r) => r.path === '/notify')!.body)).toEqual({ email: 'ann@example.com' });

    // Another process, another directory: the run is in the shared store, not in a state dir.
    const elsewhere = mkdtempSync(join(tmpdir(), 'flux-pg-runs-'));
    const listed = await runFlux(['runs', '--store', url, '--json'], { cwd: elsewhere });
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.stdout) as { runs: { id: string; status: string }[] }).runs.map((r) => [r.id, r.status])).toEqual([[id, 'succeeded']]);
    const fromEnv = await runFlux(['runs'], { cwd: elsewhere, env: { FLUX_STORE_URL: url } });
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain(id);

    const sent = await runFlux(['event', 'lead.checked', '--data', '{"ok":true}', '--store', url], { cwd: elsewhere });
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    const store = await openPostgresStore({ url: urlWithSchema(schema), now: Date.now, poolSize: 1 });
    expect(await store.getEvent(sent.stdout.trim())).toMatchObject({ name: 'lead.checked', data: { ok: true } });
    await store.close();

    d.child.kill('SIGTERM');
    expect(await d.exit).toEqual({ code: 0, signal: null });
    for (const out of [d.stdout(), d.stderr(), listed.stdout, listed.stderr, fromEnv.stdout, sent.stdout]) expect(out).not.toContain(PASSWORD);
  });

  it('exits 1 when the database cannot be reached, naming it without the password', async () => {
    const down = new URL(PG_URL);
    down.port = '1';
    down.password = PASSWORD;
    const started = spawnDaemon({ cwd: dir, args: ['flows', '--state-dir', 'state', '--port', '0', '--store', down.href], env: { GH_SECRET: SECRET }, children });
    await expect(started).rejects.toThrow(/the daemon exited \(1\) before it listened/);
    const failure = await started.catch((e: Error) => e.message);
    expect(failure).toMatch(/flux: cannot open the PostgreSQL store postgres:\/\/[^@\s]*@127\.0\.0\.1:1\/\S*: connection refused/);
    expect(failure).not.toContain(PASSWORD);
    const runs = await runFlux(['runs', '--store', down.href], { cwd: dir });
    expect(runs.code).toBe(2);
    expect(runs.stderr).toMatch(/connection refused/);
    expect(runs.stderr).not.toContain(PASSWORD);
  });
});

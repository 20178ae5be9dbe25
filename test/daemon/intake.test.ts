// Webhook intake through a real HTTP server on 127.0.0.1 and a real SQLite store: a signed
// delivery is acknowledged 202 only once its run is stored, a redelivery returns the first
// run, and everything the sender got wrong is refused with no run started.
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createConnectors } from '../../src/connectors/index.js';
import { SkippingClock } from '../../src/engine/clock.js';
import type { LoadedWorkflow } from '../../src/engine/types.js';
import { startDaemonServer, type DaemonServer } from '../../src/daemon/http-server.js';
import { webhookRoutes } from '../../src/daemon/intake.js';
import { runClaimed } from '../../src/daemon/runner.js';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { loadWorkflow } from '../../src/workflow/load.js';
import { startTestServer, type TestServer } from '../test-server.js';

const SECRET = 'gh-webhook-secret-1';
let downstream: TestServer;
let dir: string;
let store: SqliteStore;
let daemon: DaemonServer;
let workflow: LoadedWorkflow;

async function load(text: string): Promise<LoadedWorkflow> {
  writeFileSync(join(dir, 'leads.yaml'), text);
  const loaded = await loadWorkflow(join(dir, 'leads.yaml'), 'leads.yaml');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  await store.putWorkflowVersion({ hash: loaded.workflow.version, name: loaded.workflow.name, text, createdAt: Date.now() });
  return loaded.workflow;
}

beforeEach(async () => {
  downstream = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-intake-'));
  store = await openSqliteStore({ path: join(dir, 'flux.db'), now: Date.now });
  workflow = await load(`name: leads
owner: ops@example.com
trigger:
  webhook:
    path: /hooks/leads
    signature: { scheme: github, secret: "\${{ secrets.GH_SECRET }}" }
    dedupe: \${{ event.delivery }}
secrets: [GH_SECRET]
steps:
  - id: tell
    uses: http
    with: { url: "${downstream.url}/crm", method: POST, json: { email: "\${{ event.email }}" } }
on_error:
  escalate: { uses: http, with: { url: "${downstream.url}/alerts", method: POST } }
`);
  const { routes, problems } = webhookRoutes([workflow], { GH_SECRET: SECRET });
  expect(problems).toEqual([]);
  daemon = await startDaemonServer({ routes, store, clock: new SkippingClock() });
});
afterEach(async () => {
  await daemon.close();
  await store.close();
  await downstream.close();
});

function post(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${daemon.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const signed = (body: string, secret = SECRET) => ({ 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` });

describe('webhook intake', () => {
  it('acknowledges a signed delivery with 202 once its run is stored, and the run then runs', async () => {
    downstream.script('POST /crm', { status: 201, body: { id: 'c-1' } });
    const body = JSON.stringify({ delivery: 'd-1', email: 'ann@example.com' });
    const res = await post('/hooks/leads', body, signed(body));
    expect(res.status).toBe(202);
    const { run_id: id } = JSON.parse(res.body) as { run_id: string };
    expect(await store.getRun(id)).toMatchObject({ status: 'queued', trigger: 'webhook', event: { delivery: 'd-1', email: 'ann@example.com' } });

    const [claim] = await store.claimRuns('daemon-a', 1, 60_000, Date.now());
    const outcome = await runClaimed(claim!, {
      store, owner: 'daemon-a', leaseMs: 60_000, clock: new SkippingClock(), connectors: await createConnectors({ userAgent: 'flux-test' }),
      logDir: join(dir, 'logs'), secrets: { GH_SECRET: SECRET }, environment: {},
    });
    expect(outcome).toMatchObject({ kind: 'ran', result: { status: 'succeeded' } });
    expect(downstream.received.map((r) => [r.path, JSON.parse(r.body)])).toEqual([['/crm', { email: 'ann@example.com' }]]);
  });

  it('answers a redelivery with the first run, and starts no second one', async () => {
    const body = JSON.stringify({ delivery: 'd-2', email: 'bob@example.com' });
    const first = await post('/hooks/leads', body, signed(body));
    const again = await post('/hooks/leads', body, signed(body));
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(JSON.parse(again.body)).toEqual({ run_id: JSON.parse(first.body).run_id, duplicate: true });
    expect(await store.listRuns({})).toHaveLength(1);
  });

  it.each([
    { name: 'a wrong signature', send: () => post('/hooks/leads', '{"delivery":"x"}', signed('{"delivery":"x"}', 'another-secret')), status: 401 },
    { name: 'no signature', send: () => post('/hooks/leads', '{"delivery":"x"}'), status: 401 },
    { name: 'an unknown path', send: () => post('/hooks/nope', '{}'), status: 404 },
    { name: 'a declared body over 1 MiB', send: () => post('/hooks/leads', 'x'.repeat(1024 * 1024 + 1)), status: 413 },
    { name: 'a malformed body, signed', send: () => post('/hooks/leads', '{"delivery":', signed('{"delivery":')), status: 400 },
  ])('refuses $name and starts nothing', async ({ send, status }) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(await store.listRuns({})).toEqual([]);
  });

  it('stops reading a chunked body once it passes 1 MiB, and refuses it', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${daemon.url}/hooks/leads`, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? undefined : reject(error)));
      const chunk = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 40; i++) req.write(chunk); // 2.5 MiB, never announced
      req.end();
    });
    expect(status).toBe(413);
    expect(await store.listRuns({})).toEqual([]);
  });

  it('answers 503, never 202, when the delivery cannot be stored', async () => {
    await store.close();
    const body = JSON.stringify({ delivery: 'd-3' });
    const res = await post('/hooks/leads', body, signed(body));
    expect(res.status).toBe(503);
    store = await openSqliteStore({ path: join(dir, 'flux.db'), now: Date.now });
    expect(await store.listRuns({})).toEqual([]);
  });

  it('serves no route for a webhook whose signing secret is not set, and says why', () => {
    const { routes, problems } = webhookRoutes([workflow], {});
    expect(routes.size).toBe(0);
    expect(problems).toEqual(['leads.yaml: webhook /hooks/leads: its signing secret is not set (`GH_SECRET`)']);
  });

  it('answers /healthz', async () => {
    const res = await new Promise<number>((resolve) => request(`${daemon.url}/healthz`, (r) => resolve(r.statusCode ?? 0)).end());
    expect(res).toBe(200);
  });
});

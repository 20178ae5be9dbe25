// One poll (triggers/poll.ts) against a real HTTP server on 127.0.0.1 with paged responses:
// pages followed by path, link and `with` mapping up to max_pages; items, dedupe keys and the
// cursor; and every way a poll fails says where, without leaking a secret.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createConnectors } from '../../src/connectors/index.js';
import type { ConnectorRuntime } from '../../src/connectors/runtime.js';
import type { LoadedWorkflow } from '../../src/engine/types.js';
import { Masker } from '../../src/secrets/masker.js';
import { MAX_ITEMS_PER_POLL, pollOnce, pollSpec, type PollResult } from '../../src/triggers/poll.js';
import { escalatePollFailures } from '../../src/triggers/poll-escalation.js';
import { loadWorkflow } from '../../src/workflow/load.js';
import { startTestServer, type TestServer } from '../test-server.js';

const TOKEN = 'desk-token-0123456789';
let server: TestServer;
let connectors: Record<string, ConnectorRuntime>;
let dir: string;

beforeAll(async () => {
  connectors = await createConnectors({ userAgent: 'flux-test' });
});
afterAll(async () => {
  await Promise.all(Object.values(connectors).map((c) => c.close?.()));
});
beforeEach(async () => {
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-poll-'));
});
afterEach(async () => {
  await server.close();
});

async function load(poll: string, onError = '  escalate: { uses: desk.request, with: { method: POST, path: /alerts } }\n'): Promise<LoadedWorkflow> {
  const path = join(dir, 'w.yaml');
  writeFileSync(path, `name: desk-poll
owner: ops@example.com
trigger:
  poll:
    every: 5m
    uses: desk.request
${poll}secrets: [DESK_TOKEN]
connections:
  desk: { base_url: "${server.url}/api", auth: { bearer: "\${{ secrets.DESK_TOKEN }}" } }
steps:
  - id: a
    set: { x: 1 }
on_error:
${onError}`);
  const loaded = await loadWorkflow(path, 'w.yaml');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics ?? loaded));
  return loaded.workflow;
}

async function poll(workflow: LoadedWorkflow, cursor: unknown = null): Promise<PollResult> {
  return pollOnce({
    workflow, spec: pollSpec(workflow)!, connectors, secrets: { DESK_TOKEN: TOKEN }, environment: {}, masker: new Masker(), cursor, signal: new AbortController().signal,
  });
}

const items = (r: PollResult) => (r.ok ? r.items.map((i) => i.key) : r.message);

describe('one poll', () => {
  it('follows next links (paths and links under base_url) up to max_pages, with the credentials', async () => {
    server.script('GET /api/tickets', { body: { tickets: [{ id: 1 }, { id: 2 }], next: '/tickets/2' } });
    server.script('GET /api/tickets/2', { body: { tickets: [{ id: 3 }], next: `${server.url}/api/tickets/3` } });
    server.script('GET /api/tickets/3', { body: { tickets: [{ id: 4 }], next: '/tickets/4' } });
    server.script('GET /api/tickets/4', { body: { tickets: [{ id: 5 }], next: null } });
    const w = await load(`    with: { path: /tickets, query: { q: open } }
    items: \${{ response.body.tickets }}
    dedupe: \${{ item.id }}
    paginate: { next: "\${{ response.body.next }}", max_pages: 3 }
`);
    const r = await poll(w);
    expect(r).toMatchObject({ ok: true, pages: 3, morePages: true, dropped: 0, cursor: null });
    expect(items(r)).toEqual(['1', '2', '3', '4']);
    expect(server.received.map((x) => x.path)).toEqual(['/api/tickets', '/api/tickets/2', '/api/tickets/3']);
    expect(server.received[0]!.query).toEqual({ q: 'open' });
    // The next link carries its own query: the first page's is not sent again.
    expect(server.received[1]!.query).toEqual({});
    expect(server.received.every((x) => x.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
  });

  it('merges a mapping from paginate.next into with, stops on an empty next, and keeps each key once', async () => {
    server.script('GET /api/list',
      { body: { data: [{ id: 'a', at: '2026-11-24T09:00:00Z' }, { id: 'b', at: '2026-11-24T09:05:00Z' }], page: 1, more: true } },
      { body: { data: [{ id: 'b', at: '2026-11-24T09:05:00Z' }, { id: 'c', at: '2026-11-24T09:02:00Z' }], page: 2, more: false } });
    const w = await load(`    with: { path: /list, query: { since: "\${{ string(poll.cursor) }}", size: 2 } }
    items: \${{ response.body.data }}
    dedupe: \${{ item.id }}
    cursor: \${{ max(items.map(i, i.at)) }}
    paginate: { next: "\${{ response.body.more ? dyn({'query': {'page': response.body.page + 1}}) : dyn(null) }}" }
`);
    const r = await poll(w, '2026-11-24T08:00:00Z');
    expect(r).toMatchObject({ ok: true, pages: 2, morePages: false, cursor: '2026-11-24T09:05:00Z' });
    expect(items(r)).toEqual(['a', 'b', 'c']);
    expect(server.received.map((x) => x.query)).toEqual([
      { since: '2026-11-24T08:00:00Z', size: '2' },
      { since: '2026-11-24T08:00:00Z', size: '2', page: '2' },
    ]);
  });

  it('keeps the cursor it had when a poll finds nothing, and takes the body as the items by default', async () => {
    server.script('GET /api/list', { body: [] });
    const w = await load(`    with: { path: /list }
    dedupe: \${{ item.id }}
    cursor: \${{ max(items.map(i, i.at)) }}
`);
    expect(await poll(w, 'c-7')).toMatchObject({ ok: true, items: [], cursor: 'c-7', pages: 1 });
  });

  it(`takes at most ${MAX_ITEMS_PER_POLL} items; the cursor covers only those taken`, async () => {
    const many = Array.from({ length: MAX_ITEMS_PER_POLL + 5 }, (_, i) => ({ id: i, n: i }));
    server.script('GET /api/list', { body: many });
    const w = await load(`    with: { path: /list }
    dedupe: \${{ item.id }}
    cursor: \${{ max(items.map(i, i.n)) }}
`);
    const r = await poll(w);
    expect(r).toMatchObject({ ok: true, dropped: 5, cursor: MAX_ITEMS_PER_POLL - 1 });
    expect(r.ok && r.items).toHaveLength(MAX_ITEMS_PER_POLL);
  });

  it('fails, saying where, on an item without a key, items that are no list, a failed page, or a link to another host', async () => {
    const w = await load(`    with: { path: /list }
    items: \${{ response.body.items }}
    dedupe: \${{ item.id }}
    paginate: { next: "\${{ response.body.next }}" }
`);
    server.script('GET /api/list', { body: { items: [{ id: 1 }, { name: 'no id' }] } });
    expect(await poll(w)).toEqual({ ok: false, pages: 1, message: expect.stringMatching(/^trigger\.poll\.dedupe: page 1, item 2: /) });
    server.script('GET /api/list', { body: { items: [{ id: 1 }, { id: null }] } });
    expect(await poll(w)).toMatchObject({ ok: false, message: 'trigger.poll.dedupe: page 1, item 2 has no key (the expression gave null); every item needs one' });
    server.script('GET /api/list', { body: { items: { id: 1 } } });
    expect(await poll(w)).toMatchObject({ ok: false, message: 'page 1: `items` gave a map, not a list' });
    server.script('GET /api/list', { body: { items: [{ id: 1 }], next: '/list/2' } });
    server.script('GET /api/list/2', { status: 500, body: { error: `boom ${TOKEN}` } });
    const failed = await poll(w);
    expect(failed).toMatchObject({ ok: false, pages: 2, message: expect.stringMatching(/^desk\.request: .*500/) });
    expect(JSON.stringify(failed)).not.toContain(TOKEN);
    server.script('GET /api/list', { body: { items: [{ id: 1 }], next: 'https://elsewhere.example/steal' } });
    expect(await poll(w)).toMatchObject({ ok: false, message: expect.stringContaining("is not under the connection's base_url") });
    expect(server.received.some((x) => x.path === '/steal')).toBe(false);
  });

  it('fails when a declared secret has no value, before any call', async () => {
    const w = await load('    with: { path: /list }\n    dedupe: ${{ item.id }}\n');
    const r = await pollOnce({ workflow: w, spec: pollSpec(w)!, connectors, secrets: {}, environment: {}, masker: new Masker(), cursor: null, signal: new AbortController().signal });
    expect(r).toMatchObject({ ok: false, message: 'secret `DESK_TOKEN` not set' });
    expect(server.received).toHaveLength(0);
  });
});

describe('telling the owner of failing polls', () => {
  const deps = (workflow: LoadedWorkflow) => ({ workflow, connectors, secrets: { DESK_TOKEN: TOKEN }, environment: {}, masker: new Masker() });

  it('sends flux\'s own message through on_error.escalate when its with has no body', async () => {
    server.script('POST /api/alerts', { status: 200, body: {} });
    const w = await load('    with: { path: /list }\n    dedupe: ${{ item.id }}\n');
    expect(await escalatePollFailures(deps(w), 3, 'desk.request: HTTP 503')).toEqual({ via: 'desk.request', delivered: true });
    expect(JSON.parse(server.received[0]!.body)).toEqual({
      text: 'flux: polling for workflow desk-poll failed 3 times in a row: desk.request: HTTP 503', workflow: 'desk-poll', owner: 'ops@example.com', failures: 3, error: 'desk.request: HTTP 503',
    });
  });

  it('renders a body that reads error, and falls back to flux\'s own message when it reads the event a poll has not', async () => {
    server.script('POST /api/alerts', { status: 200, body: {} });
    const own = await load('    with: { path: /list }\n    dedupe: ${{ item.id }}\n', '  escalate: { uses: desk.request, with: { method: POST, path: /alerts, json: { t: "${{ error.message }}" } } }\n');
    expect((await escalatePollFailures(deps(own), 3, 'boom')).delivered).toBe(true);
    expect(JSON.parse(server.received[0]!.body)).toEqual({ t: '3 polls in a row failed: boom' });
    const runOnly = await load('    with: { path: /list }\n    dedupe: ${{ item.id }}\n', '  escalate: { uses: desk.request, with: { method: POST, path: /alerts, json: { t: "deal ${{ string(event.id) }}" } } }\n');
    expect((await escalatePollFailures(deps(runOnly), 3, 'boom')).delivered).toBe(true);
    expect(JSON.parse(server.received[1]!.body)).toMatchObject({ failures: 3, error: 'boom' });
  });

  it('says so when nobody can be told', async () => {
    server.script('POST /api/alerts', { status: 500, body: {} });
    const w = await load('    with: { path: /list }\n    dedupe: ${{ item.id }}\n');
    expect(await escalatePollFailures(deps(w), 3, 'boom')).toMatchObject({ via: 'desk.request', delivered: false, error: expect.stringContaining('500') });
  });
});

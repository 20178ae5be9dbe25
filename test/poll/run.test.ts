// `flux run` of a poll workflow, as a spawned process against a real HTTP server: one poll,
// then each item as its own run; exit 1 when a run or the poll failed; --event runs once
// without polling; --dry-run shows the poll's request and sends nothing; --json sums it up.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runFlux } from '../helpers.js';
import { startTestServer, type TestServer } from '../test-server.js';

let server: TestServer;
let dir: string;

beforeEach(async () => {
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'flux-poll-run-'));
  writeFileSync(join(dir, 'poll.yaml'), `name: desk
owner: ops@example.com
trigger:
  poll:
    every: 5m
    uses: desk.request
    with: { path: /tickets }
    items: \${{ response.body.tickets }}
    dedupe: \${{ string(item.id) }}
    paginate: { next: "\${{ response.body.next }}" }
connections:
  desk: { base_url: "${server.url}" }
steps:
  - id: handle
    uses: desk.request
    with: { method: POST, path: "/handled/\${{ string(event.id) }}" }
on_error:
  escalate: { uses: desk.request, with: { method: POST, path: /alerts } }
`);
  server.script('GET /tickets', { body: { tickets: [{ id: 1 }, { id: 2 }], next: '/tickets/2' } });
  server.script('GET /tickets/2', { body: { tickets: [{ id: 3 }], next: null } });
  for (const id of [1, 2, 3]) server.script(`POST /handled/${id}`, { status: 200, body: {} });
  server.script('POST /alerts', { status: 200, body: {} });
});
afterEach(async () => {
  await server.close();
});

const run = (...args: string[]) => runFlux(['run', 'poll.yaml', '--log-dir', 'logs', ...args], { cwd: dir });
const handled = () => server.received.filter((r) => r.path.startsWith('/handled/')).map((r) => r.path);

describe('flux run: a poll workflow', () => {
  it('polls once and runs each item found as its own run', async () => {
    const r = await run();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('poll desk: desk.request, 2 pages, 3 items; running each (flux run keeps no poll state: every item is new)');
    expect(r.stdout.match(/^flux run desk run /gm)).toHaveLength(3);
    expect(r.stdout).toContain('poll desk: 3 runs: 3 succeeded');
    expect(handled()).toEqual(['/handled/1', '/handled/2', '/handled/3']);
  });

  it('exits 1 when a run failed, and names its item', async () => {
    server.script('POST /handled/2', { status: 422, body: { error: 'bad ticket' } });
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('poll desk: 3 runs: 2 succeeded, 1 escalated');
    expect(r.stdout).toMatch(/ {2}escalated: item "2": .*422/);
  });

  it('exits 1 with a message, not a stack, when the poll fails; nothing runs', async () => {
    server.script('GET /tickets/2', { status: 503, body: { error: 'down' } });
    const r = await run();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^flux: the poll of desk failed at page 2: desk\.request: .*503.*\n$/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(handled()).toEqual([]);
  });

  it('prints nothing to run when the poll finds no items', async () => {
    server.script('GET /tickets', { body: { tickets: [], next: null } });
    const r = await run();
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('poll desk: desk.request, 1 page, 0 items; nothing to run\n');
  });

  it('--event runs once with that event and does not poll', async () => {
    server.script('POST /handled/9', { status: 200, body: {} });
    const r = await run('--event', '{"id": 9}');
    expect(r.code).toBe(0);
    expect(handled()).toEqual(['/handled/9']);
    expect(server.received.filter((x) => x.path.startsWith('/tickets'))).toEqual([]);
    expect(r.stdout.match(/^flux run desk run /gm)).toHaveLength(1);
  });

  it('--dry-run shows the poll request and sends nothing; --json gives the poll and every run', async () => {
    const dry = await run('--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`poll desk (dry run, nothing is sent): {"method":"GET","url":"${server.url}/tickets"`);
    expect(server.received).toEqual([]);
    const r = await run('--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { poll: unknown; runs: { key: string; status: string; log: string }[] };
    expect(out.poll).toEqual({ ok: true, items: 3, pages: 2, cursor: null, more_pages: false });
    expect(out.runs.map((x) => [x.key, x.status])).toEqual([['1', 'succeeded'], ['2', 'succeeded'], ['3', 'succeeded']]);
  });
});

// What the run log records for time-to-response in `flux metrics`: when the event was received
// and which step answers it (on run.started), and the HTTP method of every call (on
// step.finished), so metrics need nothing but the log. Real connector, real test server.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/store/run-log.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { finished, HEAD, run } from './harness.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

type Started = Extract<RunRecord, { type: 'run.started' }>;

function startedOf(records: readonly RunRecord[]): Started {
  const first = records[0];
  if (first?.type !== 'run.started') throw new Error(`the log does not begin with run.started: ${JSON.stringify(first)}`);
  return first;
}

describe('run.started', () => {
  it('received_at is the run start when the caller gives no receipt time, and there is no response_step unless one is marked', async () => {
    const { journal } = await run(`${HEAD}steps:\n  - id: a\n    set: { x: 1 }\n`);
    const started = startedOf(journal.records);
    expect(started.received_at).toBe('2026-11-24T09:00:00.000Z');
    expect(started.ts).toBe('2026-11-24T09:00:00.000Z');
    expect('response_step' in started).toBe(false);
  });

  it('received_at is the time the caller received the event, earlier than the start', async () => {
    const receivedAt = Date.UTC(2026, 10, 24, 8, 15, 30, 250);
    const { journal } = await run(`${HEAD}steps:\n  - id: a\n    set: { x: 1 }\n`, { receivedAt });
    const started = startedOf(journal.records);
    expect(started.received_at).toBe('2026-11-24T08:15:30.250Z');
    expect(started.ts).toBe('2026-11-24T09:00:00.000Z');
  });

  it('response_step names the marked step, even nested in a switch case', async () => {
    server.script('POST /reply', { status: 201, body: { id: 7 } });
    const { result, journal } = await run(`${HEAD}steps:
  - id: route
    switch:
      cases:
        - if: \${{ true }}
          steps:
            - id: reply
              response: true
              uses: http
              with: { url: "${server.url}/reply", method: POST }
`);
    expect(result.status).toBe('succeeded');
    expect(startedOf(journal.records).response_step).toBe('reply');
    expect(finished(journal, 'reply')).toMatchObject({ status: 'succeeded', http_status: 201, method: 'POST' });
  });

  it('a run rejected before any step still records when its event was received', async () => {
    const { result, journal } = await run(`${HEAD}secrets: [TOKEN]\nsteps:\n  - id: a\n    response: true\n    uses: http\n    with: { url: "${server.url}/x", method: POST }\n`, { receivedAt: Date.UTC(2026, 10, 24, 8, 0, 0) });
    expect(result.status).toBe('rejected');
    expect(startedOf(journal.records)).toMatchObject({ received_at: '2026-11-24T08:00:00.000Z', response_step: 'a' });
  });
});

describe('step.finished method', () => {
  it('is the method each call used: the default GET, a write, and a failed one', async () => {
    server.script('GET /list', { status: 200, body: [] });
    server.script('PATCH /item', { status: 200, body: {} });
    server.script('PUT /broken', { status: 422, body: { error: 'no' } });
    const { result, journal } = await run(`${HEAD}steps:
  - id: list
    uses: http
    with: { url: "${server.url}/list" }
  - id: update
    uses: http
    with: { url: "${server.url}/item", method: "\${{ 'pat' + 'ch' }}" }
  - id: broken
    uses: http
    on_error: continue
    with: { url: "${server.url}/broken", method: PUT }
  - id: computed
    set: { x: 1 }
`);
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'list')).toMatchObject({ status: 'succeeded', method: 'GET', http_status: 200 });
    // A method rendered in lower case is sent, and recorded, upper case.
    expect(finished(journal, 'update')).toMatchObject({ status: 'succeeded', method: 'PATCH', http_status: 200 });
    expect(finished(journal, 'broken')).toMatchObject({ status: 'failed', method: 'PUT', http_status: 422, continued: true });
    expect(finished(journal, 'computed')?.status).toBe('succeeded');
    expect('method' in finished(journal, 'computed')!).toBe(false);
    expect(server.received.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /list', 'PATCH /item', 'PUT /broken']);
  });

  it('a method from outside data that HTTP does not know fails the step unsent, and is not recorded', async () => {
    const { result, journal } = await run(`${HEAD}steps:
  - id: odd
    uses: http
    with: { url: "${server.url}/x", method: "\${{ event.verb }}" }
`, { event: { verb: `PROPFIND\u001b[2J${'X'.repeat(100)}` } });
    expect(result.status).toBe('failed');
    const record = finished(journal, 'odd');
    expect(record?.status).toBe('failed');
    expect('method' in record!).toBe(false);
    // Its first 40 characters (12 before the padding), the escape shown, not obeyed.
    expect(record?.error?.message).toBe(`unsupported HTTP method \`PROPFIND\\e[2J${'X'.repeat(28)}…\`; use one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS`);
    expect(server.received).toEqual([]);
  });

  it('a dry run records the method it would have used', async () => {
    const { journal } = await run(`${HEAD}steps:\n  - id: post\n    uses: http\n    with: { url: "${server.url}/x", method: DELETE }\n`, { dryRun: true });
    expect(finished(journal, 'post')).toMatchObject({ status: 'succeeded', method: 'DELETE' });
    expect(server.received).toEqual([]);
  });
});

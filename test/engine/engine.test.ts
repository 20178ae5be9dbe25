// The engine against a real HTTP server: control flow, types, retries, timeouts, idempotency,
// errors and escalation. Time is skipped, never slept.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-server.js';
import { finished, HEAD, run } from './harness.js';

let server: TestServer;
beforeEach(async () => {
  server = await startTestServer();
});
afterEach(async () => {
  await server.close();
});

describe('control flow', () => {
  it('runs steps in order, skips on a false if, and keeps expression types', async () => {
    const { result, journal } = await run(`${HEAD}steps:
  - id: a
    set: { n: "\${{ event.count + 1 }}", list: "\${{ [1, 2, 3] }}", ratio: "\${{ 1.5 * 2.0 }}", text: "n=\${{ event.count }}", flag: "\${{ event.count > 1 }}" }
  - id: skipped
    if: \${{ steps.a.output.n > 100 }}
    set: { x: 1 }
  - id: b
    set: { doubled: "\${{ steps.a.output.n * 2 }}", size: "\${{ size(steps.a.output.list) }}" }
`, { event: { count: 2 } });
    expect(result.status).toBe('succeeded');
    expect(result.steps.map((s) => [s.step, s.status])).toEqual([['a', 'succeeded'], ['skipped', 'skipped'], ['b', 'succeeded']]);
    expect(finished(journal, 'a')?.output).toEqual({ n: 3, list: [1, 2, 3], ratio: 3, text: 'n=2', flag: true });
    expect(finished(journal, 'b')?.output).toEqual({ doubled: 6, size: 3 });
    expect(journal.records[0]?.type).toBe('run.started');
    expect(journal.records.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
  });

  it('switch takes the first matching case, else the default', async () => {
    const yaml = `${HEAD}steps:
  - id: route
    switch:
      cases:
        - if: \${{ event.n > 10 }}
          steps: [{ id: big, set: { v: big } }]
        - if: \${{ event.n > 5 }}
          steps: [{ id: medium, set: { v: medium } }]
      default: [{ id: small, set: { v: small } }]
`;
    const medium = await run(yaml, { event: { n: 7 } });
    expect(finished(medium.journal, 'route')?.output).toEqual({ case: 1 });
    expect(finished(medium.journal, 'medium')?.status).toBe('succeeded');
    expect(finished(medium.journal, 'big')).toBeUndefined();
    const small = await run(yaml, { event: { n: 1 } });
    expect(finished(small.journal, 'route')?.output).toEqual({ case: 'default' });
  });

  it('foreach respects its concurrency limit and collects outputs in order', async () => {
    server.script('POST /work', { status: 200, body: { ok: true }, delayMs: 30 });
    const { result, journal } = await run(`${HEAD}steps:
  - id: each
    foreach:
      items: \${{ event.items }}
      concurrency: 3
      steps:
        - id: call
          uses: http
          with: { method: POST, url: "${server.url}/work", json: { n: "\${{ item }}", i: "\${{ index }}" } }
        - id: label
          set: { v: "item \${{ string(item) }}" }
`, { event: { items: [1, 2, 3, 4, 5, 6, 7] } });
    expect(result.status).toBe('succeeded');
    const out = finished(journal, 'each')?.output as { label: { v: string } }[];
    expect(out.map((o) => o.label.v)).toEqual(['item 1', 'item 2', 'item 3', 'item 4', 'item 5', 'item 6', 'item 7']);
    // Concurrency: at most 3 requests in flight. Reconstruct from started/finished records.
    let inFlight = 0;
    let peak = 0;
    for (const r of journal.records) {
      if (r.type === 'step.started' && r.step === 'call') peak = Math.max(peak, ++inFlight);
      if (r.type === 'step.finished' && r.step === 'call') inFlight--;
    }
    expect(peak).toBe(3);
    const keys = server.received.map((r) => r.headers['idempotency-key']).sort();
    expect(keys).toEqual(['RUN1:call:0', 'RUN1:call:1', 'RUN1:call:2', 'RUN1:call:3', 'RUN1:call:4', 'RUN1:call:5', 'RUN1:call:6']);
  });

  it('parallel runs branches at the same time and waits for all', async () => {
    server.script('GET /slow', { status: 200, body: { which: 'slow' }, delayMs: 80 });
    server.script('GET /fast', { status: 200, body: { which: 'fast' }, delayMs: 10 });
    const { result, journal } = await run(`${HEAD}steps:
  - id: both
    parallel:
      branches:
        - steps: [{ id: slow, uses: http, with: { url: "${server.url}/slow" } }]
        - steps: [{ id: fast, uses: http, with: { url: "${server.url}/fast" } }]
  - id: after
    set: { got: "\${{ steps.slow.output.body.which + '+' + steps.fast.output.body.which }}" }
`);
    expect(result.status).toBe('succeeded');
    const order = journal.records.filter((r) => r.type === 'step.started' || r.type === 'step.finished').map((r) => `${r.type === 'step.started' ? '>' : '<'}${'step' in r ? r.step : ''}`);
    expect(order.indexOf('>fast')).toBeLessThan(order.indexOf('<slow'));
    expect(order.indexOf('>slow')).toBeLessThan(order.indexOf('<fast'));
    expect(finished(journal, 'after')?.output).toEqual({ got: 'slow+fast' });
  });

  it('emit records the event; fail ends the run with its message', async () => {
    const { result, journal } = await run(`${HEAD}steps:
  - id: tell
    emit: { event: order.done, data: { id: "\${{ event.id }}" } }
  - id: stop
    if: \${{ event.id == "bad" }}
    fail: "order \${{ event.id }} is bad"
  - id: never
    set: { x: 1 }
`, { event: { id: 'bad' } });
    expect(result.emitted).toEqual([{ event: 'order.done', data: { id: 'bad' } }]);
    expect(journal.records.find((r) => r.type === 'event.emitted')).toMatchObject({ event: 'order.done', data: { id: 'bad' } });
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({ message: 'order bad is bad', step: 'stop' });
    expect(finished(journal, 'never')).toBeUndefined();
  });

  it('waits use the injected clock, and wait_for times out into its output', async () => {
    const { result, clock, journal } = await run(`${HEAD}steps:
  - id: pause
    wait: 48h
  - id: reply
    wait_for: { event: customer.replied, timeout: 2h }
  - id: chase
    if: \${{ steps.reply.output.timed_out }}
    set: { chased: true }
`);
    expect(result.status).toBe('succeeded');
    expect(clock.sleeps).toEqual([48 * 3_600_000, 2 * 3_600_000]);
    expect(finished(journal, 'chase')?.status).toBe('succeeded');
  });

  it('wait_for receives a matching event from an event source', async () => {
    const { result, journal } = await run(`${HEAD}steps:
  - id: reply
    wait_for: { event: customer.replied, match: "\${{ item.ticket == event.ticket }}", timeout: 2h }
`, {
      event: { ticket: 7 },
      events: {
        async waitFor(name, match) {
          expect(name).toBe('customer.replied');
          const candidates = [{ ticket: 6, text: 'no' }, { ticket: 7, text: 'yes' }];
          const hit = candidates.find(match);
          return hit ? { payload: hit } : { timedOut: true };
        },
      },
    });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'reply')?.output).toEqual({ timed_out: false, event: { ticket: 7, text: 'yes' } });
  });
});

describe('HTTP steps', () => {
  it('returns { status, headers, body } with the body parsed as JSON', async () => {
    server.script('GET /contacts/1', { status: 200, body: { id: 1, tags: ['a'] }, headers: { 'x-request-id': 'abc' } });
    const { journal } = await run(`${HEAD}steps:
  - id: get
    uses: http
    with: { url: "${server.url}/contacts/1", query: { expand: owner } }
`);
    const out = finished(journal, 'get')?.output as { status: number; headers: Record<string, string>; body: unknown };
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ id: 1, tags: ['a'] });
    expect(out.headers['x-request-id']).toBe('abc');
    expect(server.received[0]?.query).toEqual({ expand: 'owner' });
  });

  it('retries 5xx with backoff and the same Idempotency-Key on every attempt', async () => {
    server.script('POST /invoices', { status: 503 }, { status: 502 }, { status: 201, body: { id: 'INV-9' } });
    const { result, journal, clock } = await run(`${HEAD}steps:
  - id: create
    uses: http
    retry: { attempts: 4, initial: 1s, max: 30s }
    with: { method: POST, url: "${server.url}/invoices", json: { amount: 10 } }
`, { random: () => 0.5 });
    expect(result.status).toBe('succeeded');
    expect(server.received).toHaveLength(3);
    expect(new Set(server.received.map((r) => r.headers['idempotency-key']))).toEqual(new Set(['RUN1:create']));
    // full jitter with random()=0.5: half of 1s, then half of 2s
    expect(clock.sleeps).toEqual([500, 1000]);
    expect(journal.records.filter((r) => r.type === 'step.retry')).toHaveLength(2);
    expect(finished(journal, 'create')).toMatchObject({ status: 'succeeded', attempt: 3, http_status: 201 });
  });

  it('honours Retry-After on 429', async () => {
    server.script('GET /limited', { status: 429, headers: { 'retry-after': '7' } }, { status: 200, body: {} });
    const { result, clock } = await run(`${HEAD}steps:
  - id: get
    uses: http
    retry: { attempts: 2, initial: 1s, max: 1m }
    with: { url: "${server.url}/limited" }
`);
    expect(result.status).toBe('succeeded');
    expect(clock.sleeps).toEqual([7000]);
  });

  it('fails at once on a 4xx other than 408 and 429', async () => {
    server.script('POST /contacts', { status: 422, body: { error: 'email is invalid' } });
    const { result, journal } = await run(`${HEAD}steps:
  - id: create
    uses: http
    retry: { attempts: 5 }
    with: { method: POST, url: "${server.url}/contacts", json: {} }
`);
    expect(server.received).toHaveLength(1);
    expect(result.status).toBe('failed');
    expect(result.error).toMatchObject({ step: 'create', http_status: 422 });
    expect(result.error?.message).toContain('HTTP 422');
    expect(finished(journal, 'create')?.output).toMatchObject({ status: 422, body: { error: 'email is invalid' } });
  });

  it('retries an extra status when the step says so', async () => {
    server.script('PUT /lock', { status: 409 }, { status: 200, body: {} });
    const { result } = await run(`${HEAD}steps:
  - id: put
    uses: http
    retry: { attempts: 2, on: [409] }
    with: { method: PUT, url: "${server.url}/lock" }
`);
    expect(result.status).toBe('succeeded');
    expect(server.received).toHaveLength(2);
  });

  it('retries a reset connection', async () => {
    server.script('GET /flaky', { reset: true }, { status: 200, body: { ok: 1 } });
    const { result } = await run(`${HEAD}steps:
  - id: get
    uses: http
    retry: { attempts: 2 }
    with: { url: "${server.url}/flaky" }
`);
    expect(result.status).toBe('succeeded');
    expect(server.received).toHaveLength(2);
  });

  it('a timeout aborts the HTTP call itself', async () => {
    server.script('GET /slow', { status: 200, body: {}, delayMs: 10_000 });
    const { result } = await run(`${HEAD}steps:
  - id: get
    uses: http
    timeout: 100ms
    with: { url: "${server.url}/slow" }
`);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toMatch(/timed out after 100ms/);
    // The server sees the connection go: the call was aborted, not merely abandoned.
    for (let i = 0; i < 100 && !server.received[0]?.aborted; i++) await new Promise((r) => setTimeout(r, 20));
    expect(server.received[0]?.aborted).toBe(true);
  });

  it('on_error: continue records the failure and goes on', async () => {
    server.script('GET /down', { status: 500 });
    const { result, journal } = await run(`${HEAD}steps:
  - id: optional
    uses: http
    on_error: continue
    with: { url: "${server.url}/down" }
  - id: next
    set: { saw: "\${{ steps.optional.output.status }}" }
`);
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'optional')).toMatchObject({ status: 'failed', continued: true });
    expect(finished(journal, 'next')?.output).toEqual({ saw: 500 });
  });

  it('says clearly when a host is unreachable or speaks no TLS', async () => {
    const closed = await startTestServer();
    const port = new URL(closed.url).port;
    await closed.close();
    const refused = await run(`${HEAD}steps:
  - id: get
    uses: http
    with: { url: "http://127.0.0.1:${port}/x" }
`);
    expect(refused.result.error?.message).toBe(`cannot reach http://127.0.0.1:${port}: connection refused`);
    const tls = await run(`${HEAD}steps:
  - id: get
    uses: http
    with: { url: "${server.url.replace('http:', 'https:')}/x" }
`);
    expect(tls.result.status).toBe('failed');
    expect(tls.result.error?.message).toMatch(/^TLS error talking to https:\/\/127\.0\.0\.1:\d+/);
  });

  it('fails when JSON was expected and the response is not JSON', async () => {
    server.script('GET /html', { status: 200, raw: '<html>maintenance</html>' });
    const { result } = await run(`${HEAD}steps:
  - id: get
    uses: http
    with: { url: "${server.url}/html", response: json }
`);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toBe('response (HTTP 200) is not JSON (content-type text/plain)');
  });

  it('caps response bodies', async () => {
    server.script('GET /big', { status: 200, raw: 'x'.repeat(5000) });
    const { result } = await run(`${HEAD}steps:
  - id: get
    uses: http
    with: { url: "${server.url}/big", max_response_bytes: 1000 }
`);
    expect(result.error?.message).toBe(`response body from ${server.url} is larger than 1000 bytes (max_response_bytes)`);
  });

  it('OAuth2 client credentials: one token for many calls, refreshed once on 401', async () => {
    server.script('POST /token', { status: 200, body: { access_token: 'tok-1', expires_in: 3600 } }, { status: 200, body: { access_token: 'tok-2', expires_in: 3600 } });
    server.script('GET /a', { status: 200, body: {} });
    server.script('GET /b', { status: 401 }, { status: 200, body: {} });
    const { result } = await run(`${HEAD}secrets: [CLIENT_SECRET]
connections:
  api:
    base_url: ${server.url}
    auth: { oauth2: { token_url: "${server.url}/token", client_id: flux, client_secret: "\${{ secrets.CLIENT_SECRET }}" } }
steps:
  - id: first
    uses: api.request
    with: { path: /a }
  - id: second
    uses: api.request
    with: { path: /a }
  - id: third
    uses: api.request
    with: { path: /b }
`, { secrets: { CLIENT_SECRET: 'cs-value-123' } });
    expect(result.status).toBe('succeeded');
    const seen = server.received.map((r) => `${r.method} ${r.path} ${r.headers.authorization ?? ''}`);
    expect(seen).toEqual(['POST /token ', 'GET /a Bearer tok-1', 'GET /a Bearer tok-1', 'GET /b Bearer tok-1', 'POST /token ', 'GET /b Bearer tok-2']);
    expect(server.received[0]?.body).toContain('client_secret=cs-value-123');
  });
});

describe('errors and escalation', () => {
  const chat = (url: string) => `connections:
  chat: { base_url: "${url}", auth: { bearer: "\${{ secrets.CHAT }}" } }
secrets: [CHAT]
`;

  it('escalates a failure to the owner with the run, step, error and event', async () => {
    server.script('POST /orders', { status: 500, body: { error: 'db down' } });
    server.script('POST /messages', { status: 201, body: {} });
    const { result, journal } = await run(`${HEAD}${chat(server.url)}steps:
  - id: order
    uses: http
    with: { method: POST, url: "${server.url}/orders", json: {} }
on_error:
  escalate:
    uses: chat.request
    with: { method: POST, path: /messages }
`, { event: { customer: 'acme' }, secrets: { CHAT: 'chat-token' } });
    expect(result.status).toBe('escalated');
    expect(result.escalation).toEqual({ via: 'chat.request', delivered: true });
    const sent = JSON.parse(server.received.find((r) => r.path === '/messages')!.body) as Record<string, unknown>;
    expect(sent).toMatchObject({ run_id: 'RUN1', step: 'order', workflow: 't', owner: 'ops@example.com', event: { customer: 'acme' } });
    expect(String(sent.error)).toContain('HTTP 500');
    expect(journal.records.find((r) => r.type === 'escalation')).toMatchObject({ delivered: true, via: 'chat.request', step: 'order' });
    expect(journal.records.at(-1)).toMatchObject({ type: 'run.finished', status: 'escalated' });
  });

  it('records an escalation that cannot be delivered, and the run ends failed', async () => {
    server.script('POST /orders', { status: 500 });
    server.script('POST /messages', { status: 503 });
    const { result, journal } = await run(`${HEAD}${chat(server.url)}steps:
  - id: order
    uses: http
    with: { method: POST, url: "${server.url}/orders", json: {} }
on_error:
  escalate:
    uses: chat.request
    with: { method: POST, path: /messages, json: { text: "failed: \${{ error.message }}" } }
`, { secrets: { CHAT: 'chat-token' } });
    expect(result.status).toBe('failed');
    expect(result.escalation).toMatchObject({ delivered: false, delivery_error: 'HTTP 503' });
    expect(journal.records.find((r) => r.type === 'escalation')).toMatchObject({ delivered: false });
    expect(journal.records.at(-1)).toMatchObject({ type: 'run.finished', status: 'failed' });
  });

  it('runs recovery steps after a failure, with the error in context', async () => {
    const { result, journal } = await run(`${HEAD}steps:
  - id: boom
    fail: it broke
on_error:
  steps:
    - id: note
      set: { what: "\${{ error.step + ': ' + error.message }}" }
`);
    expect(result.status).toBe('failed');
    expect(finished(journal, 'note')?.output).toEqual({ what: 'boom: it broke' });
  });

  it('a runtime expression error names the step and the expression', async () => {
    const { result } = await run(`${HEAD}steps:
  - id: read
    set: { v: "\${{ event.customer.name }}" }
`, { event: {} });
    expect(result.status).toBe('failed');
    expect(result.error).toEqual({ step: 'read', message: 'expression `event.customer.name` failed: no such key: customer' });
  });

  it('rejects an event that does not match inputs, before any step', async () => {
    server.script('POST /x', { status: 200 });
    const { result, journal } = await run(`${HEAD}inputs:
  type: object
  required: [email]
  properties: { email: { type: string, format: email } }
steps:
  - id: call
    uses: http
    with: { method: POST, url: "${server.url}/x" }
`, { event: { email: 'not-an-email' } });
    expect(result.status).toBe('rejected');
    expect(result.error?.message).toBe("the event does not match the workflow's inputs: event.email must match format \"email\"");
    expect(server.received).toHaveLength(0);
    expect(journal.records.map((r) => r.type)).toEqual(['run.started', 'run.finished']);
  });

  it('rejects secrets too short to mask, and keeps record keys readable whatever is masked', async () => {
    const short = await run(`${HEAD}secrets: [PIN]\nsteps:\n  - id: a\n    set: { k: "\${{ secrets.PIN }}" }\n`, { secrets: { PIN: 'ab' } });
    expect(short.result.status).toBe('rejected');
    expect(short.result.error?.message).toContain('`PIN` is shorter than 4 characters');
    // A secret that happens to be one of flux's field names masks values and outside data, never record keys.
    const { result, journal } = await run(`${HEAD}secrets: [WORD]\nsteps:\n  - id: a\n    set: { status: "\${{ secrets.WORD }}", note: "path and status" }\n`, { secrets: { WORD: 'status' } });
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'a')).toMatchObject({ status: 'succeeded', path: 'a', output: { '***': '***', note: 'path and ***' } });
  });

  it('rejects a run whose secrets are missing, before any step', async () => {
    const { result } = await run(`${HEAD}secrets: [API_KEY]\nsteps:\n  - id: a\n    set: { k: "\${{ secrets.API_KEY }}" }\n`);
    expect(result.status).toBe('rejected');
    expect(result.error?.message).toContain('`API_KEY` not set');
  });

  it('dry run renders requests and sends nothing', async () => {
    const { result, journal } = await run(`${HEAD}secrets: [TOKEN]\nsteps:
  - id: post
    uses: http
    with: { method: POST, url: "${server.url}/x?k=\${{ secrets.TOKEN }}", json: { t: "\${{ secrets.TOKEN }}" }, auth: { bearer: "\${{ secrets.TOKEN }}" } }
  - id: later
    if: \${{ steps.post.output.body.ok }}
    set: { x: 1 }
  - id: reads_response
    set: { id: "\${{ steps.post.output.body.id }}" }
`, { dryRun: true, secrets: { TOKEN: 'tok-secret-value' } });
    expect(server.received).toHaveLength(0);
    expect(result.status).toBe('succeeded');
    expect(finished(journal, 'reads_response')?.output).toEqual({ dry_run: true, unresolved: 'expression `steps.post.output.body.id` failed: no such key: body' });
    const out = finished(journal, 'post')?.output as { request: { url: string; headers: Record<string, string>; body: string } };
    expect(out.request.url).toBe(`${server.url}/x?k=***`);
    expect(out.request.headers.authorization).toBe('Bearer ***');
    expect(out.request.body).toBe('{"t":"***"}');
    expect(JSON.stringify(journal.lines)).not.toContain('tok-secret-value');
  });
});

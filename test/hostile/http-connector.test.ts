// The HTTP connector in-process against the hostile server: every attempt is bounded as a
// whole, each way a server can misbehave is a failed outcome with a message that says what
// happened and where, text from outside is escaped, and keys from outside stay plain data.
import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DeadlineExpired, startDeadline } from '../../src/connectors/deadline.js';
import { createHttp } from '../../src/connectors/http.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../src/limits/json.js';
import type { CallContext, CallOutcome, ConnectorRuntime } from '../../src/connectors/runtime.js';
import { Masker } from '../../src/secrets/masker.js';
import { startHostileServer, type HostileServer } from './hostile-server.js';

let server: HostileServer;
let http: ConnectorRuntime;
beforeAll(async () => {
  server = await startHostileServer();
  http = await createHttp({ userAgent: 'flux-test' });
});
afterAll(async () => {
  await http.close?.();
  await server.close();
});

function context(overrides: Partial<CallContext> = {}): CallContext {
  return { signal: new AbortController().signal, idempotencyKey: 'RUN1:x', masker: new Masker(), dryRun: false, ...overrides };
}

/** `uses: http` against a hostile route. */
function call(path: string, params: Record<string, unknown> = {}, ctx: Partial<CallContext> = {}): Promise<CallOutcome> {
  return http.call({ operation: 'http', params: { url: `${server.url}${path}`, ...params } }, context(ctx));
}

function seen(route: string): number {
  return server.seen.filter((s) => s.split(' ')[1]?.split('?')[0] === route).length;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe('the attempt deadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts when its time is up, and says so', () => {
    vi.useFakeTimers();
    const parent = new AbortController();
    const deadline = startDeadline(parent.signal, 1000);
    vi.advanceTimersByTime(999);
    expect(deadline.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.expired).toBe(true);
    expect(deadline.signal.reason).toBeInstanceOf(DeadlineExpired);
    deadline.dispose();
  });

  it('follows its parent, and is not counted as expired then', () => {
    vi.useFakeTimers();
    const parent = new AbortController();
    const deadline = startDeadline(parent.signal, 1000);
    parent.abort(new Error('interrupted'));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.expired).toBe(false);
    deadline.dispose();
  });

  it('holds a bound longer than a timer can (30 days) instead of firing at once', () => {
    vi.useFakeTimers();
    const day = 86_400_000;
    const deadline = startDeadline(new AbortController().signal, 30 * day);
    vi.advanceTimersByTime(29 * day);
    expect(deadline.signal.aborted).toBe(false);
    vi.advanceTimersByTime(day);
    expect(deadline.expired).toBe(true);
    deadline.dispose();
  });

  it('leaves nothing behind once disposed: no timer, no listener on the run signal', () => {
    vi.useFakeTimers();
    const parent = new AbortController();
    const deadline = startDeadline(parent.signal, 1000);
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(1);
    deadline.dispose();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    parent.abort();
    expect(deadline.signal.aborted).toBe(false);
  });
});

describe('a timeout bounds the whole attempt', () => {
  it('a server that never answers', async () => {
    const out = await call('/hang', {}, { timeoutMs: 300 });
    expect(out.error).toEqual({ message: `request to ${server.url} timed out after 300ms`, retryable: true });
  });

  it('a server that sends headers and then drips its body', async () => {
    const out = await call('/drip', {}, { timeoutMs: 300 });
    expect(out.error).toEqual({ message: `request to ${server.url} timed out after 300ms`, retryable: true });
  });

  it('the OAuth2 token fetch is inside the bound', async () => {
    const before = seen('/status');
    const auth = { oauth2: { token_url: `${server.url}/hang`, client_id: 'id', client_secret: 'client-secret' } };
    const out = await call('/status', { auth }, { timeoutMs: 300 });
    expect(out.error?.message).toBe(`request to ${server.url} timed out after 300ms`);
    expect(seen('/status')).toBe(before);
  });

  it('cancelling the run ends the attempt at once, however long its bound', async () => {
    const controller = new AbortController();
    const pending = call('/hang', {}, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort(new Error('interrupted'));
    expect((await pending).error).toEqual({ message: `request to ${server.url} was cancelled`, retryable: false });
  });
});

describe('deep, huge and prototype-laden responses', () => {
  it('measures nesting without recursion, even a million levels deep', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = [deep];
    expect(nestsDeeperThan(deep, MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan(JSON.parse('{"a":'.repeat(64) + '1' + '}'.repeat(64)), 64)).toBe(false);
    expect(nestsDeeperThan(JSON.parse('['.repeat(65) + ']'.repeat(65)), 64)).toBe(true);
  });

  it.each([65, 100_000])('fails a body nested %i levels deep, naming the origin', async (depth) => {
    const out = await call(`/deep?depth=${depth}`);
    expect(out.ok).toBe(false);
    expect(out.error).toMatchObject({ message: `response body from ${server.url} nests deeper than 64 levels`, retryable: false });
  });

  it('accepts a body exactly 64 levels deep', async () => {
    expect((await call('/deep?depth=64')).ok).toBe(true);
  });

  it('stops reading a 256 MiB body at max_response_bytes', async () => {
    const started = performance.now();
    const out = await call('/huge');
    expect(out.error?.message).toBe(`response body from ${server.url} is larger than 10 MiB (max_response_bytes)`);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('keeps `__proto__` and `constructor` in a body as plain data', async () => {
    const out = await call('/proto');
    const body = (out.output as { body: Record<string, unknown> }).body;
    expect(Object.getPrototypeOf(body)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(body, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(Object.getOwnPropertyDescriptor(body, 'constructor')?.value).toEqual({ prototype: { x: 1 } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('keeps a response header named `__proto__` as a header', async () => {
    const out = await call('/proto-header');
    const headers = (out.output as { headers: Record<string, string> }).headers;
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value).toBe('kept');
  });

  it('sends a request header named `__proto__` like any other', async () => {
    const headers = JSON.parse('{"__proto__":"sent-as-header"}') as Record<string, unknown>;
    const out = await call('/raw-headers', { headers });
    expect((out.output as { body: unknown }).body).toContainEqual(['__proto__', 'sent-as-header']);
  });
});

describe('messages say what happened, once, and carry no control characters', () => {
  it('a bad header value is an input error naming the header, not the value, and nothing is sent', async () => {
    const before = server.seen.length;
    const out = await call('/status', { headers: { 'x-foo': 'hunter2\r\nx-evil: 1' } });
    expect(out.error).toEqual({ message: 'invalid header value for `x-foo` (control characters or characters outside Latin-1)', retryable: false });
    const bearer = await call('/status', { auth: { bearer: 'tok-with-newline\n' } });
    expect(bearer.error?.message).toMatch(/^invalid header value for `authorization`/);
    const name = await call('/status', { headers: { 'bad name': 'x' } });
    expect(name.error).toEqual({ message: 'invalid header name `bad name`', retryable: false });
    expect(server.seen.length).toBe(before);
  });

  it('a host that answers with something that is not HTTP', async () => {
    expect((await call('/garbage')).error).toEqual({ message: `${server.url} answered with something that is not HTTP`, retryable: false });
  });

  it('a host that accepts the request and drops the connection', async () => {
    expect((await call('/reset')).error).toEqual({ message: `connection reset by ${server.url}`, retryable: true });
  });

  it('"cannot reach" only for a host that cannot be connected to', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    const out = await http.call({ operation: 'http', params: { url: `http://127.0.0.1:${port}/x` } }, context());
    expect(out.error).toEqual({ message: `cannot reach http://127.0.0.1:${port}: connection refused`, retryable: true });
  });

  it('an error body with terminal escapes is shown escaped', async () => {
    const out = await call('/ansi');
    expect(out.error?.message).not.toMatch(CONTROL);
    expect(out.error?.message).toBe('HTTP 500: \\e]0;pwned\\x07\\e[2J\\e[Hall good: 0 problems');
  });

  it('a redirect fails at once, saying where it pointed and how to accept it', async () => {
    const before = seen('/redirect');
    const out = await call('/redirect?n=1');
    expect(out.error).toMatchObject({
      message: 'HTTP 302 redirect to /redirect?n=1 (flux does not follow redirects; add 302 to ok_status to accept it)', retryable: false, status: 302,
    });
    expect(seen('/redirect')).toBe(before + 1);
    expect((await call('/redirect', { ok_status: [302] })).ok).toBe(true);
  });
});

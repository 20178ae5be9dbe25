// `flux run` against a hostile HTTP server, one row per way a service can misbehave. Every row
// holds the real binary to the whole contract (bounded time, the right exit code, no stack
// trace, one start and one end per run log, no secret shown) and to the message that says
// what happened: the failure recorded as the run's end and shown on stdout.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectContract, head, workspace, type Outcome } from './harness.js';
import { startHostileServer, type HostileServer } from './hostile-server.js';

let server: HostileServer;
let closedPort: number;
beforeAll(async () => {
  server = await startHostileServer();
  // A port nothing listens on: the one "cannot reach" case.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
});
afterAll(async () => {
  await server.close();
});

interface Row {
  readonly name: string;
  /** The workflow's connections, steps and on_error, given the server's URL. */
  readonly body: (url: string) => string;
  readonly exit: number;
  readonly withinMs: number;
  /** What the run's end records as its error (and stdout shows); undefined for a run that succeeds. */
  readonly error?: RegExp;
  readonly env?: Readonly<Record<string, string>>;
  readonly secrets?: readonly string[];
  readonly check?: (o: Outcome, records: readonly Record<string, unknown>[]) => void;
}

/** One step that calls `path` on the hostile server. */
const step = (path: string, extra = '') => (url: string) => `steps:\n  - id: call\n    uses: http\n    with: { url: "${url}${path}"${extra} }\n`;
const timed = (path: string, timeout: string) => (url: string) => `${step(path)(url)}    timeout: ${timeout}\n`;
const ORIGIN = String.raw`http://127\.0\.0\.1:\d+`;

const rows: readonly Row[] = [
  {
    name: 'a server that never answers, with timeout: 1s',
    body: timed('/hang', '1s'), exit: 1, withinMs: 5000,
    error: new RegExp(`^request to ${ORIGIN} timed out after 1s$`),
  },
  {
    name: 'a server that sends headers and then drips its body, with timeout: 1s',
    body: timed('/drip', '1s'), exit: 1, withinMs: 5000,
    error: new RegExp(`^request to ${ORIGIN} timed out after 1s$`),
  },
  {
    name: 'an escalation connection that never answers, with its connection timeout: 1s',
    body: (url) => `connections:\n  chat: { base_url: "${url}", timeout: 1s }\n${step('/status?code=500')(url)}on_error:\n  escalate: { uses: chat.request, with: { method: POST, path: /hang } }\n`,
    exit: 1, withinMs: 5000, error: /^HTTP 500/,
    check: (o, records) => {
      const escalation = records.find((r) => r.type === 'escalation');
      expect(escalation).toMatchObject({ delivered: false, via: 'chat.request' });
      expect(String(escalation?.delivery_error)).toMatch(new RegExp(`^request to ${ORIGIN} timed out after 1s$`));
      expect(records.at(-1)).toMatchObject({ status: 'failed' });
      expect(o.stdout).toMatch(/the owner could NOT be notified \(chat\.request\): request to .* timed out after 1s/);
    },
  },
  {
    name: 'a host that drops the connection after accepting the request',
    body: step('/reset'), exit: 1, withinMs: 5000, error: new RegExp(`^connection reset by ${ORIGIN}$`),
  },
  {
    name: 'a host that answers with something that is not HTTP',
    body: step('/garbage'), exit: 1, withinMs: 5000, error: new RegExp(`^${ORIGIN} answered with something that is not HTTP$`),
  },
  {
    name: 'a port nothing listens on',
    body: () => `steps:\n  - id: call\n    uses: http\n    with: { url: "http://127.0.0.1:${closedPort}/x" }\n`,
    exit: 1, withinMs: 5000, error: /^cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused$/,
  },
  {
    name: 'a redirect loop',
    body: step('/redirect'), exit: 1, withinMs: 5000,
    error: /^HTTP 302 redirect to \/redirect \(flux does not follow redirects; add 302 to ok_status to accept it\)$/,
  },
  {
    name: 'a 256 MiB body',
    body: step('/huge'), exit: 1, withinMs: 10_000, error: new RegExp(`^response body from ${ORIGIN} is larger than 10 MiB \\(max_response_bytes\\)$`),
  },
  {
    name: 'a body nested 5000 levels deep',
    body: step('/deep?depth=5000'), exit: 1, withinMs: 5000, error: new RegExp(`^response body from ${ORIGIN} nests deeper than 64 levels$`),
  },
  {
    name: 'a body with `__proto__` and `constructor` keys',
    body: step('/proto'), exit: 0, withinMs: 5000,
    check: (_o, records) => {
      const finished = records.find((r) => r.type === 'step.finished') as { output: { body: Record<string, unknown> } };
      expect(Object.getOwnPropertyDescriptor(finished.output.body, '__proto__')?.value).toEqual({ polluted: 'yes' });
      expect(Object.getOwnPropertyDescriptor(finished.output.body, 'constructor')?.value).toEqual({ prototype: { x: 1 } });
    },
  },
  {
    name: 'an error body that drives the terminal',
    body: step('/ansi'), exit: 1, withinMs: 5000, error: /^HTTP 500: \\e\]0;pwned\\x07\\e\[2J\\e\[Hall good: 0 problems$/,
    check: (o) => expect(o.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/),
  },
  {
    name: 'a 401 with a JSON error body, said once',
    body: step('/status?code=401&body=%7B%22error%22%3A%22bad%20token%22%7D'), exit: 1, withinMs: 5000, error: /^HTTP 401: \{"error":"bad token"\}$/,
    check: (o) => {
      expect(o.stdout).not.toContain('HTTP 401: HTTP 401');
      expect(o.stdout).toMatch(/✗ call \d+ms: HTTP 401: \{"error":"bad token"\}/);
    },
  },
  {
    name: 'a secret with a newline in a header',
    body: (url) => `secrets: [TOKEN]\n${step('/echo', ', headers: { authorization: "Bearer ${{ secrets.TOKEN }}" }')(url)}`,
    env: { TOKEN: 'tok-3f9a1c\r\nx-injected: yes' }, secrets: ['tok-3f9a1c'],
    exit: 1, withinMs: 5000, error: /^invalid header value for `authorization` \(control characters or characters outside Latin-1\)$/,
  },
];

describe('flux run against a hostile HTTP server', () => {
  it.each(rows)('$name', async (row) => {
    const ws = workspace();
    const file = ws.write('wf.yaml', `${head('hostile')}${row.body(server.url)}`);
    const logDir = join(ws.dir, 'logs');
    const echoed = server.seen.filter((s) => s.startsWith('GET /echo')).length;
    const o = await expectContract({
      args: ['run', file, '--log-dir', logDir], cwd: ws.dir, exit: row.exit, withinMs: row.withinMs, logDir,
      ...(row.env ? { env: row.env } : {}), ...(row.secrets ? { secrets: row.secrets } : {}),
    });
    const records = [...o.logs.values()][0] ?? [];
    const finished = records.at(-1) as { error?: { message: string } };
    if (row.error) {
      expect(finished.error?.message).toMatch(row.error);
      expect(o.stdout).toContain(finished.error?.message);
    } else {
      expect(finished.error).toBeUndefined();
    }
    expect(`${o.stdout}${o.stderr}`).not.toContain('Maximum call stack');
    // A request that failed before it was sent was never sent.
    if (row.env) expect(server.seen.filter((s) => s.startsWith('GET /echo')).length).toBe(echoed);
    row.check?.(o, records);
  });
});

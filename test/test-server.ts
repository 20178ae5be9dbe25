// A real HTTP server on 127.0.0.1 (port 0) that tests script: per route, a queue of responses
// that can fail, delay, answer 429 with Retry-After, or reset the connection. It records every
// request it receives, including ones the client aborted.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Scripted {
  readonly status?: number;
  readonly body?: unknown;
  /** Raw body text, sent as given. */
  readonly raw?: string;
  readonly headers?: Record<string, string>;
  readonly delayMs?: number;
  /** Destroy the socket instead of answering. */
  readonly reset?: boolean;
  /** Answer with the request itself: method, url, headers and body. */
  readonly echo?: boolean;
}

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  aborted: boolean;
}

export interface TestServer {
  readonly url: string;
  readonly received: Received[];
  /** Responses for `METHOD /path`, used in order; the last one repeats. */
  script(route: string, ...responses: Scripted[]): void;
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const scripts = new Map<string, Scripted[]>();
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://test');
      const entry: Received = {
        method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams),
        headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), aborted: false,
      };
      received.push(entry);
      res.on('close', () => {
        if (!res.writableFinished) entry.aborted = true;
      });
      const key = `${entry.method} ${entry.path}`;
      const queue = scripts.get(key) ?? scripts.get(`* ${entry.path}`);
      const next: Scripted = queue && queue.length > 0 ? (queue.length > 1 ? queue.shift()! : queue[0]!) : { status: 404, body: { error: `no script for ${key}` } };
      const answer = () => {
        if (next.reset) {
          req.socket.destroy();
          return;
        }
        const echoed = next.echo ? { method: entry.method, url: req.url, headers: req.headers, body: entry.body } : undefined;
        const text = next.raw ?? JSON.stringify(echoed ?? next.body ?? {});
        res.writeHead(next.status ?? 200, { 'content-type': next.raw !== undefined ? 'text/plain' : 'application/json', ...next.headers });
        res.end(text);
      };
      if (next.delayMs) {
        const timer = setTimeout(answer, next.delayMs);
        res.on('close', () => clearTimeout(timer));
      } else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    script: (route, ...responses) => scripts.set(route, [...responses]),
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

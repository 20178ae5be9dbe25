/**
 * The daemon's HTTP server: webhook paths, and `GET /healthz`. It reads a body only up to the
 * intake limit (a larger Content-Length is refused before reading; a body that grows past it
 * is cut off), routes by path, and never acknowledges what it could not store: a store failure
 * is a 503 the sender retries, never a 202.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../engine/clock.js';
import { formatBytes, MAX_EVENT_BYTES } from '../limits/json.js';
import type { Store } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import { intake, type Reply, type WebhookRoute } from './intake.js';

export interface DaemonServerOptions {
  readonly routes: ReadonlyMap<string, WebhookRoute>;
  readonly store: Store;
  readonly clock: Clock;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly maxBodyBytes?: number;
  /** Called after a run was enqueued, to wake the runner at once instead of at its next poll. */
  readonly onEnqueued?: () => void;
  /** Told of every refused or failed request, for the daemon's log. */
  readonly onProblem?: (line: string) => void;
}

export interface DaemonServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts listening; resolves once the port is bound. */
export async function startDaemonServer(options: DaemonServerOptions): Promise<DaemonServer> {
  const maxBytes = options.maxBodyBytes ?? MAX_EVENT_BYTES;
  const server: Server = createServer((req, res) => {
    void serve(req, res, options, maxBytes).catch((error: unknown) => {
      options.onProblem?.(`request ${escapeControl(req.url ?? '')}: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) send(res, { status: 500, headers: { 'content-type': 'text/plain' }, body: 'internal error\n' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port, address } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

async function serve(req: IncomingMessage, res: ServerResponse, options: DaemonServerOptions, maxBytes: number): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path === '/healthz') return send(res, { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}\n' });
  const route = options.routes.get(path);
  if (!route) return send(res, { status: 404, headers: { 'content-type': 'text/plain' }, body: `no webhook at ${escapeControl(path)}\n` });
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes) return refuseTooLarge(res, maxBytes);
  const body = await readBody(req, maxBytes);
  if (body === undefined) return refuseTooLarge(res, maxBytes);
  let reply: Reply;
  try {
    reply = await intake(route, { method: req.method ?? 'GET', headers: req.headers, body }, options.store, options.clock);
  } catch (error) {
    options.onProblem?.(`webhook ${path}: the delivery could not be stored: ${error instanceof Error ? error.message : String(error)}`);
    return send(res, { status: 503, headers: { 'content-type': 'text/plain', 'retry-after': '5' }, body: 'the delivery could not be stored; send it again\n' });
  }
  if (reply.status >= 400) options.onProblem?.(`webhook ${path}: ${reply.status} ${reply.body.trim()}`);
  send(res, reply);
  if (reply.status === 202) options.onEnqueued?.();
}

/** The body, or undefined once it grows past `max` bytes (reading stops there). */
function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners('data');
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function refuseTooLarge(res: ServerResponse, max: number): void {
  send(res, { status: 413, headers: { 'content-type': 'text/plain', connection: 'close' }, body: `the body is larger than ${formatBytes(max)}\n` });
}

function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body);
}

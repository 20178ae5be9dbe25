/**
 * The daemon's HTTP server: webhook paths, `POST /events/NAME` (event-intake.ts), `GET /healthz`,
 * `GET /metrics` and the escalation acknowledgement pages `/ack/<token>` (ack-page.ts). It reads a body only up to the intake limit (a larger Content-Length is
 * refused before reading; a body that grows past it is cut off), routes by path, and never
 * acknowledges what it could not store: a store failure is a 503 the sender retries, never a
 * 202.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../engine/clock.js';
import { formatBytes, MAX_EVENT_BYTES } from '../limits/json.js';
import type { Store } from '../store/store.js';
import { escapeControl } from '../text/escape.js';
import type { HealthVerdict } from './health.js';
import { ACK_PATH } from './ack-links.js';
import { ackPage, MAX_ACK_FORM_BYTES, type AckPageDeps } from './ack-page.js';
import { EVENTS_PATH, eventIntake } from './event-intake.js';
import { intake, type Reply, type Spool, type WebhookRoute } from './intake.js';
import { APPROVALS_PATH } from '../approvals/answering.js';
import { MAX_ANSWER_BYTES, serveApprovalRequest, type ApprovalHttpDeps } from '../approvals/http.js';

export interface DaemonServerOptions {
  /** The webhook routes, or where to read the current ones on each request (they change on reload). */
  readonly routes: ReadonlyMap<string, WebhookRoute> | (() => ReadonlyMap<string, WebhookRoute>);
  readonly store: Store;
  /** Where webhook deliveries without a dedupe key go first (intake.ts); without it, the store. */
  readonly spool?: Spool;
  readonly clock: Clock;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly maxBodyBytes?: number;
  /** Called after a run was enqueued, to wake the runner at once instead of at its next poll. */
  readonly onEnqueued?: () => void;
  /** Told of a request that failed inside the daemon (a store failure, a bug), for the daemon's log. */
  readonly onProblem?: (line: string) => void;
  /**
   * Told of every answer to a webhook request: `route` is undefined for a path no workflow
   * serves; `reason` is what a refusal (4xx, 5xx) told the sender.
   */
  readonly onWebhook?: (answer: { readonly path: string; readonly route: WebhookRoute | undefined; readonly method: string; readonly status: number; readonly reason?: string }) => void;
  /** `GET /healthz`: 200 when healthy, 503 with the problems otherwise. Without it, always 200. */
  readonly health?: () => HealthVerdict;
  /** `GET /metrics`: the Prometheus exposition. Without it, /metrics is 404. */
  readonly metrics?: () => Promise<{ readonly contentType: string; readonly body: string }>;
  /** The bearer token `POST /events/NAME` requires; without one, events are not accepted over HTTP. */
  readonly eventToken?: string;
  /** Called after an event was stored, to deliver it at once instead of at the next poll. */
  readonly onEvent?: () => void;
  /** `/approvals/<token>` (approvals/http.ts): the signing key and what to do once an answer is recorded. Without it, 404. */
  readonly approvals?: Omit<ApprovalHttpDeps, 'store' | 'now'>;
  /** `GET/POST /ack/<token>`: escalation acknowledgement pages (ack-page.ts). Without it, 404. */
  readonly ack?: AckPageDeps;
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
  if (path === '/healthz') return send(res, healthReply(options.health?.() ?? { ok: true }));
  if (path === '/metrics' && options.metrics) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, { status: 405, headers: { 'content-type': 'text/plain', allow: 'GET' }, body: '/metrics takes GET\n' });
    const { contentType, body } = await options.metrics();
    return send(res, { status: 200, headers: { 'content-type': contentType }, body });
  }
  if (path.startsWith(EVENTS_PATH)) return serveEvent(req, res, path, options, maxBytes);
  if (path.startsWith(APPROVALS_PATH) && options.approvals) {
    return send(res, await serveApprovalRequest(
      { method: req.method ?? 'GET', path, contentType: req.headers['content-type'], from: req.socket.remoteAddress ?? null, body: () => readBody(req, MAX_ANSWER_BYTES) },
      { ...options.approvals, store: options.store, now: () => options.clock.now() },
    ));
  }
  if (path.startsWith(ACK_PATH) && options.ack) {
    return send(res, await ackPage({ method: req.method ?? 'GET', path, body: () => readBody(req, MAX_ACK_FORM_BYTES) }, options.ack));
  }
  const routes = typeof options.routes === 'function' ? options.routes() : options.routes;
  const route = routes.get(path);
  const answer = (reply: Reply): void => {
    options.onWebhook?.({ path, route, method: req.method ?? 'GET', status: reply.status, ...(reply.status >= 400 ? { reason: reply.body.trim() } : {}) });
    send(res, reply);
  };
  if (!route) return answer({ status: 404, headers: { 'content-type': 'text/plain' }, body: `no webhook at ${escapeControl(path)}\n` });
  const body = await readBody(req, maxBytes);
  if (body === undefined) return answer(tooLarge(maxBytes));
  let reply: Reply;
  try {
    reply = await intake(route, { method: req.method ?? 'GET', headers: req.headers, body }, options.store, options.clock, options.spool);
  } catch (error) {
    options.onProblem?.(`webhook ${path}: the delivery could not be stored: ${error instanceof Error ? error.message : String(error)}`);
    return answer({ status: 503, headers: { 'content-type': 'text/plain', 'retry-after': '5' }, body: 'the delivery could not be stored; send it again\n' });
  }
  answer(reply);
  if (reply.status === 202) options.onEnqueued?.();
}

function healthReply(verdict: HealthVerdict): Reply {
  return verdict.ok
    ? { status: 200, headers: { 'content-type': 'application/json' }, body: '{"ok":true}\n' }
    : { status: 503, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: `${JSON.stringify({ ok: false, problems: verdict.problems })}\n` };
}

/** `POST /events/NAME` (event-intake.ts); a store failure is a 503, never a 202. */
async function serveEvent(req: IncomingMessage, res: ServerResponse, path: string, options: DaemonServerOptions, maxBytes: number): Promise<void> {
  let reply: Reply;
  try {
    reply = await eventIntake(
      { method: req.method ?? 'GET', path, authorization: req.headers.authorization, body: () => readBody(req, maxBytes) },
      { store: options.store, clock: options.clock, token: options.eventToken },
    );
  } catch (error) {
    options.onProblem?.(`event ${path}: it could not be stored: ${error instanceof Error ? error.message : String(error)}`);
    return send(res, { status: 503, headers: { 'content-type': 'text/plain', 'retry-after': '5' }, body: 'the event could not be stored; send it again\n' });
  }
  if (reply.status === 413) reply = { ...reply, headers: { ...reply.headers, connection: 'close' } };
  if (reply.status >= 400) options.onProblem?.(`event ${escapeControl(path.slice(0, 240))}: ${reply.status} ${reply.body.trim()}`);
  send(res, reply);
  if (reply.status === 202) options.onEvent?.();
}

/**
 * The body, or undefined when it is larger than `max` bytes: at once when its Content-Length
 * says so (nothing is read), else as soon as it grows past `max` (reading stops there).
 */
function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | undefined> {
  if (Number(req.headers['content-length'] ?? '0') > max) return Promise.resolve(undefined);
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

function tooLarge(max: number): Reply {
  return { status: 413, headers: { 'content-type': 'text/plain', connection: 'close' }, body: `the body is larger than ${formatBytes(max)}\n` };
}

/**
 * Sends a whole reply with its Content-Length: without one, writeHead commits to chunked
 * encoding and the answer leaves in several writes (headers, chunk, terminator) instead of one.
 */
function send(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
  res.end(reply.body);
}

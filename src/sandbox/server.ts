/**
 * The sandbox: a small HTTP service on 127.0.0.1 that plays the systems the example workflows
 * talk to, keeps its state in memory and shows what it received (`GET /_sandbox/state`).
 *
 * The contract sandbox (contract/) plays each named connector's vendor at its own prefix
 * (`/slack/api/...`, `/stripe/v1/...`), checked against the vendor's API description; HubSpot,
 * whose description is not openly licensed, is played at `/hubspot` without one (contract/hubspot.ts).
 * `POST /_sandbox/fail` queues failures (a 429 with the vendor's rate-limit headers) for a
 * vendor's next calls, so retries can be tested against it; `POST /_sandbox/expire-tokens`
 * expires every OAuth access token the vendors' token endpoints issued, so a refresh can be. Beside the vendors, a generic help
 * desk without webhooks (`/helpdesk`), which flux polls over plain HTTP; it checks that
 * requests carry credentials and honours Idempotency-Key.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createContractSandbox, type ContractSandbox } from './contract/serve.js';
import { vendorBaseUrl } from './contract/sites.js';

type Json = Record<string, unknown>;

export interface SandboxState {
  /** Help-desk conversations, listed newest-updated last and paged (`updated_since`, `page`). */
  conversations: Json[];
  /** The contract sandbox's vendors: records by vendor prefix, then collection (`vendors.intercom.contacts`). */
  vendors: Record<string, Record<string, Json[]>>;
  /** The OAuth token endpoints: token requests by vendor, tokens issued and live (counts only, never a token). */
  readonly oauth: Json;
  /** Every request received, newest last: method, path, status (and for a vendor, which operation: `oauth token` for a token request). */
  requests: { method: string; path: string; status: number; idempotency_key?: string; vendor?: string; operation?: string }[];
}

export interface Sandbox {
  readonly url: string;
  readonly state: SandboxState;
  close(): Promise<void>;
}

/** Base URLs of each system, as the example workflows' env settings name them. */
export function sandboxEnvironment(url: string): Record<string, string> {
  return {
    HELPDESK_URL: `${url}/helpdesk`, REPORT_TO: 'team@example.com',
    ...Object.fromEntries(SANDBOX_CONNECTORS.map(([name, connector]) => [name, vendorBaseUrl(url, connector)])),
  };
}

/** The env setting of each named connector's base URL in the examples, and the connector. */
const SANDBOX_CONNECTORS: readonly [string, string][] = [
  ['GOOGLE_CALENDAR_URL', 'google_calendar'], ['INTERCOM_URL', 'intercom'], ['NOTION_URL', 'notion'], ['RESEND_URL', 'resend'], ['SENDGRID_URL', 'sendgrid'],
  ['SLACK_URL', 'slack'], ['SQUARE_URL', 'square'], ['STRIPE_URL', 'stripe'], ['XERO_URL', 'xero'],
  ['PAYPAL_URL', 'paypal_invoicing'], ['GOOGLE_DRIVE_URL', 'google_drive'], ['BOX_URL', 'box'], ['HUBSPOT_URL', 'hubspot'],
];

function seed(contract: ContractSandbox): SandboxState {
  return {
    conversations: [
      { id: 501, subject: 'Invoice PDF is blank', customer: 'Globex', priority: 'normal', updated_at: '2026-11-24T08:05:00Z', tags: [] },
      { id: 502, subject: 'Checkout returns error 500', customer: 'Acme', priority: 'urgent', updated_at: '2026-11-24T08:40:00Z', tags: [] },
      { id: 503, subject: 'Add a second admin', customer: 'Initech', priority: 'normal', updated_at: '2026-11-24T08:55:00Z', tags: [] },
    ],
    vendors: contract.state(),
    get oauth() {
      return contract.tokens.summary();
    },
    requests: [],
  };
}

/** Starts the sandbox; port 0 picks a free port. */
export async function startSandbox(options: { port?: number; host?: string; now?: () => number } = {}): Promise<Sandbox> {
  const contract = createContractSandbox(options.now ? { now: options.now } : {});
  const state = seed(contract);
  const replays = new Map<string, { status: number; body: unknown }>();
  let nextId = 1000;
  const id = () => nextId++;

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => send(res, 500, { error: error instanceof Error ? error.message : String(error) }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    const text = await readText(req);
    if (text === undefined) {
      send(res, 413, { error: `request body over ${MAX_BODY_BYTES} bytes` });
      return;
    }
    const body = parseBody(text, req.headers['content-type']);
    const key = req.headers['idempotency-key'];
    const log = (status: number, vendor?: { vendor: string; operation?: string }) => state.requests.push({
      method, path: url.pathname, status, ...(typeof key === 'string' ? { idempotency_key: key } : {}), ...(vendor ? { vendor: vendor.vendor, ...(vendor.operation ? { operation: vendor.operation } : {}) } : {}),
    });
    const reply = (status: number, payload: unknown) => {
      log(status);
      send(res, status, payload);
    };
    if (url.pathname === '/' || url.pathname === '/_sandbox/state') {
      reply(200, state);
      return;
    }
    if (url.pathname === '/_sandbox/expire-tokens') {
      if (method !== 'POST') reply(405, { error: 'POST to expire every access token the sandbox issued' });
      else reply(200, { expired: contract.tokens.expireAll() });
      return;
    }
    if (url.pathname === '/_sandbox/fail') {
      // JSON whatever the content type says (`curl -d` labels it a form).
      const [status, payload] = queueFailure(method, parseBody(text, 'application/json'));
      reply(status, payload);
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'));
    const served = contract.handle({ method, url: req.url ?? '/', headers, body: text });
    if (served) {
      log(served.reply.status, served);
      send(res, served.reply.status, served.reply.body, served.reply.headers);
      return;
    }
    if (!req.headers.authorization && !req.headers['x-api-key']) {
      reply(401, { error: 'missing credentials' });
      return;
    }
    const replayKey = typeof key === 'string' ? `${method} ${url.pathname} ${key}` : undefined;
    if (replayKey && replays.has(replayKey)) {
      const previous = replays.get(replayKey)!;
      reply(previous.status, previous.body);
      return;
    }
    const [status, payload] = route(method, url, body);
    if (replayKey && status < 500) replays.set(replayKey, { status, body: payload });
    reply(status, payload);
  }

  /** `POST /_sandbox/fail {"vendor":"slack","status":429,"count":1,"retry_after":1}`: the vendor's next calls fail. */
  function queueFailure(method: string, body: Json): [number, unknown] {
    if (method !== 'POST') return [405, { error: 'POST a failure: {"vendor": "slack", "status": 429, "count": 1, "retry_after": 1}' }];
    const status = body.status ?? 429;
    const count = body.count ?? 1;
    const retryAfter = body.retry_after ?? 1;
    if (typeof body.vendor !== 'string' || !contract.prefixes.includes(body.vendor)) return [400, { error: `vendor must be one of ${contract.prefixes.join(', ')}` }];
    if (status !== 429 && status !== 503) return [400, { error: 'status must be 429 or 503' }];
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 100) return [400, { error: 'count must be a whole number from 1 to 100' }];
    if (typeof retryAfter !== 'number' || !Number.isInteger(retryAfter) || retryAfter < 0 || retryAfter > 3600) return [400, { error: 'retry_after must be whole seconds from 0 to 3600' }];
    contract.fail(body.vendor, { status, count, retryAfterSeconds: retryAfter });
    return [200, { queued: { vendor: body.vendor, status, count, retry_after: retryAfter } }];
  }

  function route(method: string, url: URL, body: Json): [number, unknown] {
    const p = url.pathname.replace(/\/+$/, '');
    const q = url.searchParams;
    const m = (re: RegExp) => re.exec(p);
    const insert = (list: Json[], extra: Json = {}): [number, unknown] => {
      const record = { id: id(), ...extra, ...body };
      list.push(record);
      return [201, record];
    };
    let match: RegExpExecArray | null;
    if (method === 'GET' && p === '/helpdesk/conversations') return conversationPage(q);
    if (method === 'POST' && p === '/helpdesk/conversations') return insert(state.conversations, { priority: 'normal', tags: [], updated_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
    if (method === 'POST' && (match = m(/^\/helpdesk\/conversations\/([^/]+)\/tags$/))) {
      const found = state.conversations.find((c) => String(c.id) === match![1]);
      if (!found) return [404, { error: 'not found' }];
      (found.tags as unknown[]).push(body.tag);
      return [200, found];
    }
    return [404, { error: `no route for ${method} ${p}` }];
  }

  /** A help desk's list API: updated since a time, oldest first, `per_page` at a time, with a link to the next page. */
  function conversationPage(q: URLSearchParams): [number, unknown] {
    const since = q.get('updated_since') ?? '';
    const perPage = Math.min(50, Math.max(1, Number(q.get('per_page') ?? 2) || 2));
    const page = Math.max(1, Number(q.get('page') ?? 1) || 1);
    const all = state.conversations.filter((c) => String(c.updated_at) > since).sort((a, b) => String(a.updated_at).localeCompare(String(b.updated_at)));
    const slice = all.slice((page - 1) * perPage, page * perPage);
    const more = page * perPage < all.length;
    const next = more ? `/conversations?${new URLSearchParams({ updated_since: since, per_page: String(perPage), page: String(page + 1) })}` : null;
    return [200, { conversations: slice, next_page: next }];
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address}:${address.port}`,
    state,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** Bound on a request body: the sandbox plays APIs whose bodies are small. */
const MAX_BODY_BYTES = 1024 * 1024;

/** The body as text, or undefined when it is over MAX_BODY_BYTES. */
async function readText(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string, type = ''): Json {
  if (text === '') return {};
  if (type.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : { value: parsed };
  } catch {
    return { text };
  }
}

function send(res: ServerResponse, status: number, payload: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (payload === undefined || status === 204) {
    res.writeHead(status, { ...headers, 'content-length': 0 });
    res.end();
    return;
  }
  const text = JSON.stringify(payload);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

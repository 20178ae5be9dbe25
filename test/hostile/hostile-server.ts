// A hostile HTTP server on 127.0.0.1 (port 0): each path is one way a real service can hurt a
// client. Nothing here answers politely unless asked to; every behaviour stops by itself when
// the client goes away or the server is closed.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HostileServer {
  readonly url: string;
  /** Requests seen, as `METHOD /path?query`. */
  readonly seen: string[];
  close(): Promise<void>;
}

/** Bytes a terminal would obey: retitle, clear the screen, then a fake success line. */
export const TERMINAL_ATTACK = '\u001b]0;pwned\u0007\u001b[2J\u001b[Hall good: 0 problems\r\n';

/** Every encoding of `secret` a careless service might echo back. */
export function encodings(secret: string): Record<string, string> {
  const bytes = Buffer.from(secret, 'utf8');
  return {
    raw: secret,
    url: encodeURIComponent(secret),
    json: JSON.stringify(secret).slice(1, -1),
    base64: bytes.toString('base64'),
    base64url: bytes.toString('base64url'),
    hex: bytes.toString('hex'),
    HEX: bytes.toString('hex').toUpperCase(),
    lower: secret.toLowerCase(),
    upper: secret.toUpperCase(),
  };
}

function nested(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, body: string) => void;

const routes: Record<string, Handler> = {
  // Accepts the connection and never answers.
  '/hang': () => {},
  // Sends headers, then one byte at a time, forever.
  '/drip': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[');
    const timer = setInterval(() => res.write(' '), 100);
    res.on('close', () => clearInterval(timer));
  },
  '/reset': (req) => req.socket.destroy(),
  // Answers with something that is not HTTP at all: the host answered, it was not reached in vain.
  '/garbage': (req) => {
    req.socket.end('SSH-2.0-OpenSSH_9.6\r\nthis is not http\r\n\r\n');
  },
  '/redirect': (_req, res, url) => {
    res.writeHead(302, { location: url.pathname + url.search });
    res.end();
  },
  // A body far larger than any step should read; streamed so the server does not hold it.
  '/huge': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < 256 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end('1');
    };
    res.on('close', () => (sent = Infinity));
    pump();
  },
  '/deep': (_req, res, url) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(nested(Number(url.searchParams.get('depth') ?? '5000')));
  },
  '/proto': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"x":1}},"ok":true}');
  },
  // A header named `__proto__`: a client that copies headers with `out[k] = v` loses it.
  '/proto-header': (_req, res) => {
    res.setHeader('__proto__', 'kept');
    res.setHeader('content-type', 'application/json');
    res.end('{}');
  },
  // The request's headers as sent, as [name, value] pairs: Node's req.headers drops some
  // names (`__proto__` among them), so a client's handling of them is seen only here.
  '/raw-headers': (req, res) => {
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(pairs));
  },
  '/ansi': (_req, res, url) => {
    res.writeHead(Number(url.searchParams.get('status') ?? '500'), { 'content-type': 'text/plain' });
    res.end(TERMINAL_ATTACK);
  },
  // Echoes every secret-looking thing it was sent (headers, query, body) in every encoding.
  '/echo': (req, res, url, body) => {
    const sent = [...Object.values(req.headers).flat(), ...url.searchParams.values(), body].filter((v): v is string => typeof v === 'string');
    const words = sent.flatMap((v) => [v, ...v.split(/[\s:=&,"{}]+/)]).filter((w) => w.length >= 4);
    const echoed = words.map((w) => encodings(w));
    res.writeHead(Number(url.searchParams.get('status') ?? '200'), { 'content-type': 'application/json' });
    res.end(JSON.stringify({ echoed, text: echoed.map((e) => Object.values(e).join(' ')).join('\n') }));
  },
  '/status': (_req, res, url) => {
    res.writeHead(Number(url.searchParams.get('code') ?? '200'), { 'content-type': 'application/json' });
    res.end(url.searchParams.get('body') ?? '{}');
  },
};

/** Starts the hostile server; unknown paths answer 404. */
export async function startHostileServer(): Promise<HostileServer> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://hostile');
      seen.push(`${req.method ?? 'GET'} ${url.pathname}${url.search}`);
      const handler = routes[url.pathname];
      if (handler) handler(req, res, url, Buffer.concat(chunks).toString('utf8'));
      else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"no such route"}');
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

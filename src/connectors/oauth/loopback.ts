/**
 * The loopback half of the OAuth 2.0 authorization-code flow for native apps (RFC 8252 §7.3):
 * PKCE (RFC 7636, S256), the authorization URL, and a one-shot HTTP server on 127.0.0.1 that
 * waits for the browser's redirect and checks its `state`. It prints nothing: `flux connect`
 * says what happened.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { escapeControl } from '../../text/escape.js';

/** The path the vendor redirects to on the loopback server. */
export const CALLBACK_PATH = '/callback';

/** Longest text from a redirect (an error description) put in a message. */
const MAX_REDIRECT_TEXT = 300;

/** A PKCE pair and a state value, fresh for one authorization. */
export interface Pkce {
  readonly verifier: string;
  readonly challenge: string;
  readonly state: string;
}

/** A new code verifier (43 characters of base64url, 256 bits), its S256 challenge, and a state. */
export function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), state: randomBytes(16).toString('base64url') };
}

export interface AuthorizeRequest {
  readonly authorizeUrl: URL;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly pkce: Pkce;
  /** The vendor's extra parameters (Google's access_type=offline). */
  readonly extra?: Readonly<Record<string, string>>;
}

/** The URL the user opens to authorize: the vendor's authorization endpoint with the request in its query. */
export function authorizationUrl(req: AuthorizeRequest): URL {
  const url = new URL(req.authorizeUrl);
  const q = url.searchParams;
  q.set('response_type', 'code');
  q.set('client_id', req.clientId);
  q.set('redirect_uri', req.redirectUri);
  if (req.scopes.length > 0) q.set('scope', req.scopes.join(' '));
  q.set('state', req.pkce.state);
  q.set('code_challenge', req.pkce.challenge);
  q.set('code_challenge_method', 'S256');
  for (const [k, v] of Object.entries(req.extra ?? {})) if (!q.has(k)) q.set(k, v);
  return url;
}

/** What the redirect brought: a code, or why there is none. */
export type Redirect =
  | { readonly ok: true; readonly code: string }
  | { readonly ok: false; readonly message: string };

export interface Loopback {
  /** `http://127.0.0.1:<port>/callback`. */
  readonly redirectUri: string;
  /** Resolves with the first redirect to the callback path (later ones are refused). */
  readonly redirect: Promise<Redirect>;
  close(): Promise<void>;
}

const page = (title: string, text: string): string =>
  `<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:sans-serif;margin:3em"><h1>${title}</h1><p>${text}</p></body>`;

/**
 * Starts the loopback server on 127.0.0.1 (`port` 0: any free port). Only a GET to the
 * callback path counts; it must carry `state`, and then either `code` or `error`.
 */
export async function startLoopback(port: number, state: string): Promise<Loopback> {
  let settle: (r: Redirect) => void = () => {};
  const redirect = new Promise<Redirect>((resolve) => {
    settle = resolve;
  });
  let done = false;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const answer = (status: number, title: string, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
      res.end(page(title, text));
    };
    if (req.method !== 'GET' || url.pathname !== CALLBACK_PATH) return answer(404, 'Not found', 'This is flux connect waiting for an OAuth redirect.');
    if (done) return answer(409, 'Already answered', 'flux connect has already had its redirect; go back to the terminal.');
    done = true;
    const q = url.searchParams;
    if (q.get('state') !== state) {
      answer(400, 'Authorization failed', 'The redirect does not belong to this flux connect (state mismatch). Go back to the terminal.');
      return settle({ ok: false, message: "the redirect's state does not match this authorization request (a stale or forged redirect); nothing was exchanged" });
    }
    const error = q.get('error');
    if (error !== null) {
      const description = q.get('error_description');
      answer(400, 'Authorization refused', 'flux was not authorized. Go back to the terminal.');
      const text = `${clip(error, 80)}${description ? `: ${clip(description, MAX_REDIRECT_TEXT)}` : ''}`;
      return settle({ ok: false, message: `authorization refused: ${text}` });
    }
    const code = q.get('code');
    if (!code) {
      answer(400, 'Authorization failed', 'The redirect carries no code. Go back to the terminal.');
      return settle({ ok: false, message: 'the redirect carries neither a code nor an error' });
    }
    answer(200, 'flux is authorized', 'You can close this tab and go back to the terminal.');
    settle({ ok: true, code });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    redirectUri: `http://127.0.0.1:${bound}${CALLBACK_PATH}`,
    redirect,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function clip(text: string, max: number): string {
  const escaped = escapeControl(text);
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}

// A local OAuth 2.0 authorization server and protected API on 127.0.0.1 (port 0), for the
// tests of connection tokens and `flux connect`. /authorize checks the PKCE challenge and
// redirects to the loopback redirect_uri with a code and the state; /token checks the
// code_verifier against the challenge and serves the authorization_code, refresh_token and
// client_credentials grants, issuing access tokens that expire by the server's clock (which
// the test sets); /api/* answers 200 only to a live access token. Everything it saw is recorded.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Client {
  readonly secret?: string;
}

interface Grant {
  readonly clientId: string;
  readonly scope: string;
}

interface CodeGrant extends Grant {
  readonly challenge: string;
  readonly redirectUri: string;
}

export interface TokenRequestSeen {
  readonly form: Record<string, string>;
  readonly authorization?: string;
}

export interface AuthServer {
  readonly url: string;
  readonly clients: Map<string, Client>;
  /** The server's clock for token expiry, in ms; tests move it. */
  now: number;
  /** Lifetime of issued access tokens, in seconds. */
  expiresIn: number;
  /** Issue a new refresh token on every refresh, and revoke the one used. */
  rotate: boolean;
  /** How /authorize answers: with a code, with error=access_denied, or with another state. */
  authorizeMode: 'grant' | 'deny' | 'wrong-state';
  /** Delay before /token answers, to let concurrent calls pile up. */
  tokenDelayMs: number;
  readonly tokenRequests: TokenRequestSeen[];
  /** The query of every /authorize request. */
  readonly authorizeRequests: Record<string, string>[];
  readonly apiCalls: { readonly path: string; readonly authorization?: string; readonly status: number }[];
  /** Every token the server ever issued (access and refresh), to check none leaks. */
  readonly issued: string[];
  /** Refresh tokens that are valid now. */
  readonly refreshTokens: Map<string, Grant>;
  /** Issues a refresh token directly, as if a user had authorized `clientId` earlier. */
  grantRefreshToken(clientId: string, scope?: string): string;
  /** Revokes an access token before it expires (the API then answers 401 to it). */
  revokeAccess(token: string): void;
  close(): Promise<void>;
}

const token = (prefix: string): string => `${prefix}-${randomBytes(18).toString('base64url')}`;

export async function startAuthServer(): Promise<AuthServer> {
  const codes = new Map<string, CodeGrant>();
  const access = new Map<string, { expiresAt: number }>();
  const state: AuthServer = {
    url: '',
    clients: new Map([['flux-cli', {}], ['flux-app', { secret: 'app-secret-value' }]]),
    now: Date.UTC(2026, 10, 24, 9, 0, 0),
    expiresIn: 3600,
    rotate: false,
    authorizeMode: 'grant',
    tokenDelayMs: 0,
    tokenRequests: [],
    authorizeRequests: [],
    apiCalls: [],
    issued: [],
    refreshTokens: new Map(),
    grantRefreshToken(clientId, scope = 'read') {
      const refresh = token('rt');
      state.issued.push(refresh);
      state.refreshTokens.set(refresh, { clientId, scope });
      return refresh;
    },
    revokeAccess(t) {
      access.delete(t);
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const refuse = (res: ServerResponse, error: string, description: string, status = 400): void => json(res, status, { error, error_description: description });

  const issue = (res: ServerResponse, grant: Grant, withRefresh: string | undefined): void => {
    const at = token('at');
    access.set(at, { expiresAt: state.now + state.expiresIn * 1000 });
    state.issued.push(at);
    json(res, 200, { access_token: at, token_type: 'Bearer', expires_in: state.expiresIn, scope: grant.scope, ...(withRefresh ? { refresh_token: withRefresh } : {}) });
  };

  /** The client's credentials, from the form (client_secret_post) or a Basic header. */
  const clientOf = (req: IncomingMessage, form: URLSearchParams): { id: string; ok: boolean } => {
    let id = form.get('client_id') ?? '';
    let secret = form.get('client_secret') ?? undefined;
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (basic) [id, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':') as [string, string];
    const client = state.clients.get(id);
    return { id, ok: client !== undefined && client.secret === secret };
  };

  const tokenEndpoint = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const form = new URLSearchParams(body);
    state.tokenRequests.push({ form: Object.fromEntries(form), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const client = clientOf(req, form);
    if (!client.ok) return refuse(res, 'invalid_client', 'Client authentication failed.', 401);
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') {
      const code = codes.get(form.get('code') ?? '');
      codes.delete(form.get('code') ?? '');
      if (!code || code.clientId !== client.id) return refuse(res, 'invalid_grant', 'The authorization code is invalid or was already used.');
      if (form.get('redirect_uri') !== code.redirectUri) return refuse(res, 'invalid_grant', 'redirect_uri does not match the authorization request.');
      const verifier = form.get('code_verifier') ?? '';
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return refuse(res, 'invalid_request', 'code_verifier is missing or malformed.');
      if (createHash('sha256').update(verifier).digest('base64url') !== code.challenge) return refuse(res, 'invalid_grant', 'PKCE verification failed.');
      return issue(res, code, state.grantRefreshToken(client.id, code.scope));
    }
    if (grantType === 'refresh_token') {
      const old = form.get('refresh_token') ?? '';
      const grant = state.refreshTokens.get(old);
      if (!grant || grant.clientId !== client.id) return refuse(res, 'invalid_grant', 'Token has been expired or revoked.');
      let next: string | undefined;
      if (state.rotate) {
        state.refreshTokens.delete(old);
        next = state.grantRefreshToken(client.id, grant.scope);
      }
      return issue(res, grant, next);
    }
    if (grantType === 'client_credentials') return issue(res, { clientId: client.id, scope: form.get('scope') ?? '' }, undefined);
    return refuse(res, 'unsupported_grant_type', `grant_type ${grantType ?? '(none)'} is not supported.`);
  };

  const authorize = (url: URL, res: ServerResponse): void => {
    const q = url.searchParams;
    state.authorizeRequests.push(Object.fromEntries(q));
    const redirect = q.get('redirect_uri') ?? '';
    if (!/^http:\/\/127\.0\.0\.1:\d+\/[^?#]*$/.test(redirect)) return json(res, 400, { error: 'redirect_uri must be a loopback http URL' });
    if (q.get('response_type') !== 'code' || !state.clients.has(q.get('client_id') ?? '')) return json(res, 400, { error: 'bad response_type or client_id' });
    const challenge = q.get('code_challenge') ?? '';
    if (q.get('code_challenge_method') !== 'S256' || !/^[A-Za-z0-9_-]{43}$/.test(challenge)) return json(res, 400, { error: 'PKCE S256 code_challenge required' });
    const target = new URL(redirect);
    if (state.authorizeMode === 'deny') {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'The user denied access.');
      target.searchParams.set('state', q.get('state') ?? '');
    } else {
      const code = token('code');
      codes.set(code, { clientId: q.get('client_id')!, scope: q.get('scope') ?? '', challenge, redirectUri: redirect });
      target.searchParams.set('code', code);
      target.searchParams.set('state', state.authorizeMode === 'wrong-state' ? 'forged-state' : q.get('state') ?? '');
    }
    res.writeHead(302, { location: target.toString() });
    res.end();
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://auth.test');
      const body = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'GET' && url.pathname === '/authorize') return authorize(url, res);
      if (req.method === 'POST' && url.pathname === '/token') {
        setTimeout(() => tokenEndpoint(req, res, body), state.tokenDelayMs);
        return;
      }
      if (url.pathname.startsWith('/api/')) {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const live = bearer !== undefined && (access.get(bearer)?.expiresAt ?? 0) > state.now;
        state.apiCalls.push({ path: url.pathname, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}), status: live ? 200 : 401 });
        if (!live) return json(res, 401, { error: 'invalid_token' });
        return json(res, 200, { ok: true, path: url.pathname });
      }
      json(res, 404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (state as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}

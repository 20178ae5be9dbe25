/**
 * OAuth 2.0 access tokens for connections, one code path for both grants a connection can use
 * (client credentials, refresh token). A token is cached in memory per client and credential
 * until shortly before it expires; calls that need one while it is being fetched wait for that
 * one request instead of each sending their own; a token an API refused with 401 is replaced
 * once. Every token is added to the run's masker before it is handed out, so no log, message or
 * output can show it, whichever run fetched it.
 */
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { HttpFailure, originOf } from '../http-failure.js';
import { parseUrl } from '../http-request.js';
import type { CallContext, OAuth2Config } from '../runtime.js';
import { basicClientAuth, requestTokens, type GrantedTokens, type RequestFn } from './token-endpoint.js';

/** Lifetime assumed when a token response gives no expires_in. */
const DEFAULT_TTL_S = 3600;
/** A token is replaced this long before it expires (or a tenth of its life, if that is shorter). */
const EARLY_S = 30;

export interface TokenCacheOptions {
  readonly request: RequestFn;
  readonly dispatcher?: Dispatcher;
  readonly userAgent: string;
  readonly now: () => number;
}

/** Access tokens for OAuth2 connections: cached, shared while in flight, replaced once on 401. */
export interface TokenCache {
  /**
   * The access token for `auth`. `rejected` is a token the API just answered 401 to: if the
   * cache already holds another (a concurrent call replaced it), that one is used; else a new
   * one is fetched. Throws HttpFailure with a readable message when none can be had.
   */
  token(auth: OAuth2Config, ctx: CallContext, signal: AbortSignal, rejected?: string): Promise<string>;
}

interface Cached {
  readonly value: string;
  readonly expiresAt: number;
}

/** A token request in flight, and what it brings: the token, and a warning for the run that uses it. */
interface Flight {
  readonly promise: Promise<Fetched>;
  readonly controller: AbortController;
  waiting: number;
  /** The warning went to a run already (the first waiter that got the token). */
  warned: boolean;
}

interface Fetched {
  readonly token: Cached;
  readonly warning?: string;
}

/** Creates an empty cache; one per HTTP connector runtime (so per `flux run`, or per daemon). */
export function createTokenCache(options: TokenCacheOptions): TokenCache {
  const tokens = new Map<string, Cached>();
  const flights = new Map<string, Flight>();
  /** Refresh tokens the endpoint rotated, by cache key: later refreshes in this process use them. */
  const rotated = new Map<string, string>();

  async function fetchToken(auth: OAuth2Config, key: string, url: URL, ctx: CallContext, signal: AbortSignal): Promise<Fetched> {
    const grant = auth.grant ?? 'client_credentials';
    const basic = auth.client_auth === 'basic';
    const form = new URLSearchParams({ grant_type: grant });
    if (!basic) form.set('client_id', auth.client_id);
    if (auth.client_secret && !basic) form.set('client_secret', auth.client_secret);
    const authorization = basic ? basicClientAuth(auth.client_id, auth.client_secret ?? '') : undefined;
    const refreshToken = rotated.get(key) ?? auth.refresh_token;
    if (grant === 'refresh_token' && refreshToken) form.set('refresh_token', refreshToken);
    if (auth.scope) form.set('scope', auth.scope);
    if (auth.audience) form.set('audience', auth.audience);
    let granted: GrantedTokens;
    try {
      granted = await requestTokens(options.request, {
        url, form, signal, userAgent: options.userAgent, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}), ...(authorization ? { authorization } : {}),
      });
    } catch (error) {
      // A refresh token the user revoked, or one that expired unused, only `flux connect` replaces.
      if (grant === 'refresh_token' && error instanceof HttpFailure && error.message.startsWith('OAuth2: invalid_grant')) {
        throw new HttpFailure(`${error.message}; get a new refresh token with \`flux connect\` and update the secret`, false, error.status);
      }
      throw error;
    }
    ctx.masker.add(granted.accessToken);
    let warning: string | undefined;
    if (grant === 'refresh_token' && granted.refreshToken && granted.refreshToken !== refreshToken) {
      ctx.masker.add(granted.refreshToken);
      rotated.set(key, granted.refreshToken);
      warning = `OAuth2: the token endpoint ${originOf(url)} issued a new refresh token for client \`${auth.client_id}\` (it rotates them); `
        + 'flux uses it until this process ends but does not save it, and the one in your secret may stop working: '
        + 'run `flux connect` again and store the refresh token it prints in that secret';
    }
    const ttl = granted.expiresIn ?? DEFAULT_TTL_S;
    const value = { value: granted.accessToken, expiresAt: options.now() + (ttl - Math.min(EARLY_S, ttl / 10)) * 1000 };
    tokens.set(key, value);
    return { token: value, ...(warning ? { warning } : {}) };
  }

  return {
    async token(auth, ctx, signal, rejected) {
      const problem = configProblem(auth);
      if (problem) throw new HttpFailure(problem, false);
      for (const secret of [auth.client_secret, auth.refresh_token]) if (secret) ctx.masker.add(secret);
      const url = parseUrl(auth.token_url!);
      const key = cacheKey(auth);
      // The cache outlives a run (a daemon runs many): each run's masker learns the tokens it uses.
      const handOut = (token: Cached): string => {
        ctx.masker.add(token.value);
        const newer = rotated.get(key);
        if (newer) ctx.masker.add(newer);
        return token.value;
      };
      const cached = tokens.get(key);
      if (cached && cached.value !== rejected && cached.expiresAt > options.now()) return handOut(cached);
      let flight = flights.get(key);
      if (!flight) {
        // The request is not bound to the caller that started it: it is aborted only when
        // every call waiting for it has given up, so one call's timeout does not fail the rest.
        const controller = new AbortController();
        const promise = fetchToken(auth, key, url, ctx, controller.signal).finally(() => flights.delete(key));
        flight = { promise, controller, waiting: 0, warned: false };
        flights.set(key, flight);
      }
      const fetched = await join(flight, signal);
      // Told once, to a run that got the token: the one that started the request may have gone.
      if (fetched.warning && !flight.warned) {
        flight.warned = true;
        ctx.warn?.(fetched.warning);
      }
      return handOut(fetched.token);
    },
  };
}

/** Waits for `flight` unless `signal` aborts first; the last waiter to give up aborts the request. */
function join(flight: Flight, signal: AbortSignal): Promise<Fetched> {
  flight.waiting++;
  return new Promise<Fetched>((resolve, reject) => {
    let done = false;
    const leave = (): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      if (--flight.waiting === 0) flight.controller.abort();
    };
    const onAbort = (): void => {
      leave();
      reject(signal.reason);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    flight.promise.then(
      (value) => {
        leave();
        resolve(value);
      },
      (error: unknown) => {
        leave();
        reject(error);
      },
    );
  });
}

/** What is missing from an oauth2 block for its grant, in words; undefined when nothing is. */
export function configProblem(auth: OAuth2Config): string | undefined {
  const grant = auth.grant ?? 'client_credentials';
  if (grant !== 'client_credentials' && grant !== 'refresh_token') return `OAuth2: unknown grant \`${String(grant)}\` (use client_credentials or refresh_token)`;
  if (!auth.token_url) return 'OAuth2: the connection gives no `token_url` and its connector has no default one';
  if (!auth.client_id) return 'OAuth2: the connection gives no `client_id`';
  if (grant === 'refresh_token' && !auth.refresh_token) return 'OAuth2: the refresh_token grant needs `refresh_token` (get one with `flux connect`)';
  if (grant === 'client_credentials' && !auth.client_secret) return 'OAuth2: the client_credentials grant needs `client_secret`';
  return undefined;
}

/**
 * One cache entry per endpoint, client, grant, scope and credential. The credential (refresh
 * token or client secret) is keyed by its digest, so the map never holds it as a key.
 */
function cacheKey(auth: OAuth2Config): string {
  const grant = auth.grant ?? 'client_credentials';
  const credential = grant === 'refresh_token' ? auth.refresh_token : auth.client_secret;
  const digest = createHash('sha256').update(credential ?? '').digest('base64url');
  return [grant, auth.token_url, auth.client_id, auth.scope ?? '', auth.audience ?? '', digest].join('\u0000');
}

/**
 * Talking to an OAuth 2.0 token endpoint (RFC 6749 §5): one form POST, its answer read within a
 * size bound, and either the tokens or one readable message ("OAuth2: invalid_grant: Token has
 * been expired or revoked"). Used by connections (client-credentials and refresh-token grants)
 * and by `flux connect` (the authorization-code exchange), so both read answers the same way.
 * Nothing here logs, and no message ever holds a token.
 */
import type { Dispatcher, request as undiciRequest } from 'undici';
import { escapeControl } from '../../text/escape.js';
import { HttpFailure, isHeaderValue, originOf } from '../http-failure.js';
import { readBody } from '../http-response.js';

/** Cap on a token response: a token is a few kilobytes, never megabytes. */
export const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;

/** Longest error description from a token endpoint put in a message. */
const MAX_ERROR_TEXT = 300;

/** What a token endpoint granted. */
export interface GrantedTokens {
  readonly accessToken: string;
  /** Seconds, when the endpoint said. */
  readonly expiresIn?: number;
  /** A refresh token, when the endpoint issued one (the code exchange; a rotation on refresh). */
  readonly refreshToken?: string;
  readonly scope?: string;
}

/** undici's `request`, passed in so this module loads nothing itself. */
export type RequestFn = typeof undiciRequest;

export interface TokenRequest {
  readonly url: URL;
  readonly form: URLSearchParams;
  readonly signal: AbortSignal;
  readonly userAgent: string;
  readonly dispatcher?: Dispatcher;
  /** An `authorization` header value: the client's credentials, when they go in a Basic header. */
  readonly authorization?: string;
}

/**
 * POSTs `form` to the token endpoint and returns what it granted. Throws HttpFailure with a
 * readable message otherwise: retryable for 429 and 5xx, not for a refused grant.
 */
export async function requestTokens(request: RequestFn, req: TokenRequest): Promise<GrantedTokens> {
  const res = await request(req.url, {
    method: 'POST', signal: req.signal, ...(req.dispatcher ? { dispatcher: req.dispatcher } : {}),
    headers: {
      'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', 'user-agent': req.userAgent,
      ...(req.authorization ? { authorization: req.authorization } : {}),
    },
    body: req.form.toString(),
  });
  const text = (await readBody(res, MAX_TOKEN_RESPONSE_BYTES, req.url, 'the cap on OAuth2 token responses')).toString('utf8');
  return readTokenResponse(res.statusCode, text, req.url);
}

/** The tokens in a token endpoint's answer, or a HttpFailure saying why there are none. */
export function readTokenResponse(status: number, text: string, url: URL): GrantedTokens {
  const where = originOf(url);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const fields = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  const retryable = status >= 500 || status === 429;
  // Some providers answer a refused grant with HTTP 200 and an `error` member (GitHub does).
  if (typeof fields?.error === 'string') throw new HttpFailure(`${oauthError(fields)} (token endpoint ${where}, HTTP ${status})`, retryable, status);
  if (status < 200 || status >= 300) throw new HttpFailure(`OAuth2 token request to ${where} answered HTTP ${status}`, retryable, status);
  if (!fields) throw new HttpFailure(`OAuth2 token response from ${where} is not a JSON object`, false);
  const accessToken = fields.access_token;
  if (typeof accessToken !== 'string' || accessToken === '') throw new HttpFailure(`OAuth2 token response from ${where} has no access_token`, false);
  if (!isHeaderValue(accessToken)) throw new HttpFailure(`OAuth2 token response from ${where} has an access_token that cannot be sent in a header`, false);
  // expires_in is a number per RFC 6749, but some providers send it as a string of digits.
  const expires = typeof fields.expires_in === 'string' && /^\d{1,10}$/.test(fields.expires_in) ? Number(fields.expires_in) : fields.expires_in;
  const refresh = fields.refresh_token;
  return {
    accessToken,
    ...(typeof expires === 'number' && Number.isFinite(expires) && expires >= 0 ? { expiresIn: expires } : {}),
    ...(typeof refresh === 'string' && refresh !== '' ? { refreshToken: refresh } : {}),
    ...(typeof fields.scope === 'string' ? { scope: fields.scope } : {}),
  };
}

/**
 * The HTTP Basic header of a client (RFC 6749 §2.3.1): id and secret form-encoded, then joined
 * by a colon and base64-encoded.
 */
export function basicClientAuth(clientId: string, clientSecret: string): string {
  const encode = (v: string) => new URLSearchParams({ v }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

/** `OAuth2: invalid_grant: Token has been expired or revoked.`, escaped and bounded. */
function oauthError(fields: Readonly<Record<string, unknown>>): string {
  const code = escapeControl(String(fields.error)).slice(0, 80);
  const description = typeof fields.error_description === 'string' ? escapeControl(fields.error_description).slice(0, MAX_ERROR_TEXT) : '';
  return description ? `OAuth2: ${code}: ${description}` : `OAuth2: ${code}`;
}

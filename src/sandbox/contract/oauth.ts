/**
 * OAuth 2.0 in the contract sandbox: the token endpoints of the vendors whose connectors take
 * `oauth2` (Google, Xero, Box, PayPal), issuing access tokens that expire (after `expires_in`
 * on the sandbox clock, or at once through `POST /_sandbox/expire-tokens`), and the check the
 * vendors' prefixes make of a bearer token. Issued tokens start with `sbx_at_`; a bearer token
 * that does not (the examples' `sandbox-token-0123`) is still accepted as a plain test token,
 * so workflows without OAuth keep working. A token the sandbox never issued, one issued by
 * another vendor, or one expired gets the vendor's 401.
 *
 * Grants: `refresh_token` (any non-empty refresh token: the sandbox plays a provider the user
 * already authorized) and `client_credentials` (any non-empty client id and secret). Client
 * authentication is as each provider takes it: PayPal only in an HTTP Basic header, the others
 * in the form body or a Basic header. Refusals are RFC 6749 `{ error, error_description }`.
 */
import { randomBytes } from 'node:crypto';
import { decodeForm } from '../../connectors/contract/check.js';
import type { Json, Reply } from './site.js';

/** A vendor's token endpoint, at a path under its prefix. */
export interface TokenEndpoint {
  /** The path under the vendor's prefix: `/v1/oauth2/token` is `<sandbox>/paypal/v1/oauth2/token`. */
  readonly tokenPath: string;
  /** Where the client's id and secret may be: only an HTTP Basic header (PayPal), or either. */
  readonly clientAuth: 'basic' | 'either';
}

/** What a vendor prefix makes of a request's Authorization header. */
export type BearerVerdict = 'ok' | 'expired' | 'unknown';

export interface TokenIssuer {
  /** The answer to a token request at the endpoint of the vendor at `issuer` (a prefix). */
  token(issuer: string, endpoint: TokenEndpoint, method: string, headers: Readonly<Record<string, string>>, body: string): Reply;
  /** Whether the bearer token in `authorization` may call the vendor whose tokens `issuer` issues. */
  check(issuer: string, authorization: string | undefined): BearerVerdict;
  /** Expires every access token issued so far; how many were live. */
  expireAll(): number;
  /** Counts, never the tokens: how many were issued, by vendor, and how many are live. */
  summary(): Json;
}

/** Access tokens live this long unless expired through the control endpoint. */
export const ACCESS_TOKEN_SECONDS = 3600;
const ISSUED_PREFIX = 'sbx_at_';

interface Issued {
  readonly issuer: string;
  expiresAt: number;
}

/** The sandbox's token issuer, on the sandbox clock `now`. */
export function createTokenIssuer(now: () => number): TokenIssuer {
  const issued = new Map<string, Issued>();
  const requests: Record<string, number> = {};

  function refuse(status: number, error: string, description: string, extra: Record<string, string> = {}): Reply {
    return { status, body: { error, error_description: description }, headers: { 'cache-control': 'no-store', ...extra } };
  }

  return {
    token(issuer, endpoint, method, headers, body) {
      requests[issuer] = (requests[issuer] ?? 0) + 1;
      if (method !== 'POST') return refuse(405, 'invalid_request', 'The token endpoint takes POST');
      if (!(headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
        return refuse(400, 'invalid_request', 'The token request must be application/x-www-form-urlencoded');
      }
      const form = decodeForm(body);
      const text = (name: string): string => (typeof form[name] === 'string' ? form[name] : '');
      const basic = basicCredentials(headers.authorization);
      if (endpoint.clientAuth === 'basic' && !basic) {
        return refuse(401, 'invalid_client', 'Client Authentication failed: send the client id and secret in an HTTP Basic Authorization header', { 'www-authenticate': 'Basic realm="token"' });
      }
      const clientId = basic?.id ?? text('client_id');
      const clientSecret = basic?.secret ?? text('client_secret');
      if (clientId === '') return refuse(401, 'invalid_client', 'Client Authentication failed: no client_id');
      const grant = text('grant_type');
      if (grant === 'client_credentials') {
        if (clientSecret === '') return refuse(401, 'invalid_client', 'Client Authentication failed: the client_credentials grant needs the client secret');
      } else if (grant === 'refresh_token') {
        if (text('refresh_token') === '') return refuse(400, 'invalid_request', 'Missing required parameter: refresh_token');
      } else {
        return refuse(400, 'unsupported_grant_type', `Grant type '${grant.slice(0, 40)}' is not supported here; use refresh_token or client_credentials`);
      }
      const accessToken = `${ISSUED_PREFIX}${randomBytes(18).toString('base64url')}`;
      issued.set(accessToken, { issuer, expiresAt: now() + ACCESS_TOKEN_SECONDS * 1000 });
      const scope = text('scope');
      return {
        status: 200,
        headers: { 'cache-control': 'no-store' },
        body: { access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_SECONDS, ...(scope ? { scope } : {}) },
      };
    },
    check(issuer, authorization) {
      const token = /^Bearer\s+(\S+)$/i.exec(authorization?.trim() ?? '')?.[1];
      if (token === undefined || !token.startsWith(ISSUED_PREFIX)) return 'ok';
      const found = issued.get(token);
      if (!found || found.issuer !== issuer) return 'unknown';
      return now() < found.expiresAt ? 'ok' : 'expired';
    },
    expireAll() {
      let live = 0;
      const at = now();
      for (const t of issued.values()) {
        if (at < t.expiresAt) live++;
        t.expiresAt = Math.min(t.expiresAt, at);
      }
      return live;
    },
    summary() {
      const at = now();
      return { token_requests: { ...requests }, issued: issued.size, live: [...issued.values()].filter((t) => at < t.expiresAt).length };
    },
  };
}

/** The client id and secret of an HTTP Basic header (RFC 6749 §2.3.1: each form-encoded). */
function basicCredentials(authorization: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization?.trim() ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  return { id: decode(text.slice(0, colon)), secret: decode(text.slice(colon + 1)) };
}

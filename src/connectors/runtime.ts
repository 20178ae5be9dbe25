/**
 * The runtime side of connectors: how the engine calls an operation. A failed call is a value
 * on the outcome (status, error, retryable), never an exception that unwinds the run.
 */
import type { Masker } from '../secrets/masker.js';

/**
 * The bound on one attempt of a call when neither the step nor its connection sets a
 * `timeout`: 5 minutes, like undici's own defaults, but enforced by flux's one deadline so it
 * covers connecting, headers, the body and any token fetch together.
 */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 5 * 60_000;

/** A named connection after its expressions were rendered. */
export interface ConnectionConfig {
  readonly type?: string;
  readonly base_url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly auth?: AuthConfig;
  readonly timeout?: string;
}

export type AuthConfig =
  | { readonly bearer: string }
  | { readonly basic: { readonly username: string; readonly password?: string } }
  | { readonly api_key: { readonly header?: string; readonly query?: string; readonly value: string } }
  | { readonly oauth2: OAuth2Config };

/** The OAuth 2.0 grants a connection can fetch its access tokens with. */
export type OAuth2Grant = 'client_credentials' | 'refresh_token';

/**
 * OAuth 2.0 on a connection. `client_credentials` (the default) trades the client's own
 * credentials for a token; `refresh_token` trades a refresh token (from `flux connect`) for
 * one, acting for the user who authorized it. Either way the access token is cached until
 * shortly before it expires and fetched again once on a 401.
 */
export interface OAuth2Config {
  readonly grant?: OAuth2Grant;
  /** The token endpoint; a named connector whose spec gives one may leave it out. */
  readonly token_url?: string;
  /** The authorization endpoint, read only by `flux connect`. */
  readonly authorize_url?: string;
  readonly client_id: string;
  /** Required for client credentials; a public client (PKCE) has none. */
  readonly client_secret?: string;
  /** Required for the refresh-token grant. */
  readonly refresh_token?: string;
  readonly scope?: string;
  readonly audience?: string;
  /**
   * How the client authenticates to the token endpoint (RFC 6749 §2.3.1): `body` (the default)
   * sends client_id and client_secret in the form; `basic` sends them in an HTTP Basic header,
   * as PayPal requires. A named connector whose vendor needs `basic` sets it by default.
   */
  readonly client_auth?: 'body' | 'basic';
}

export interface CallContext {
  readonly signal: AbortSignal;
  /** `<run-id>:<step-id>[:<index>…]`, the same on every attempt and on a resume. */
  readonly idempotencyKey: string;
  /** Credentials derived at run time (basic auth headers, OAuth tokens) are added here. */
  readonly masker: Masker;
  readonly dryRun: boolean;
  /** Bound on this whole attempt, in milliseconds; DEFAULT_ATTEMPT_TIMEOUT_MS when absent. */
  readonly timeoutMs?: number;
  /**
   * Records a warning about this call in the run log (e.g. the OAuth2 token endpoint rotated
   * the refresh token). The text must hold no secret; it is masked on the way out all the same.
   */
  readonly warn?: (message: string) => void;
}

export interface CallError {
  readonly message: string;
  /** Worth another attempt: network errors, timeouts, 408, 429, 5xx. */
  readonly retryable: boolean;
  readonly status?: number;
  /** From a Retry-After header. */
  readonly retryAfterMs?: number;
}

export interface CallOutcome {
  readonly ok: boolean;
  readonly output: unknown;
  readonly error?: CallError;
  readonly status?: number;
  /**
   * The HTTP method the call used (or, in a dry run, would have used), once the request was
   * built: the run log records it on the step, so metrics can tell a write from a read.
   */
  readonly method?: string;
}

export interface OperationCall {
  readonly operation: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly connection?: ConnectionConfig;
}

export interface ConnectorRuntime {
  call(call: OperationCall, ctx: CallContext): Promise<CallOutcome>;
  /** Releases pooled connections. */
  close?(): Promise<void>;
}

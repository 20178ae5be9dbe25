/**
 * Reaching PostgreSQL: the store's URL (`postgres://user[:password]@host[:port]/db?schema=NAME`)
 * turned into a bounded `pg.Pool` working in its own schema, the URL as it may be shown (the
 * password removed), and the driver's failures turned into messages an operator can act on.
 */
import pg from 'pg';
import type { StoreUrl } from './url.js';

/** How to reach the store. */
export interface PostgresConnectOptions {
  /** `postgres://` or `postgresql://`; `?schema=NAME` picks the schema (default `public`). */
  readonly url: string;
  /** The schema, overriding the URL's `?schema=`. */
  readonly schema?: string;
  /** At most this many connections (default 10). */
  readonly poolSize?: number;
  /** A statement running longer is cancelled, and its call rejects (default 30 s). */
  readonly statementTimeoutMs?: number;
  /** Connecting longer than this fails (default 10 s): an unreachable server never hangs a call. */
  readonly connectTimeoutMs?: number;
  /** Every transaction is read-only (flux runs, flux store status). */
  readonly readOnly?: boolean;
}

/** The pool of one store: bounded, in the store's schema, every statement under a timeout. */
export function createPool(url: StoreUrl, options: PostgresConnectOptions): pg.Pool {
  const settings = [`-c search_path=${url.schema}`];
  if (options.readOnly) settings.push('-c default_transaction_read_only=on');
  const pool = new pg.Pool({
    connectionString: url.connectionString,
    max: Math.max(1, Math.floor(options.poolSize ?? 10)),
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    // A daemon that dies mid-transaction must not hold its row locks until TCP notices.
    idle_in_transaction_session_timeout: 60_000,
    application_name: 'flux',
    options: settings.join(' '),
    idleTimeoutMillis: 30_000,
  });
  // An idle connection that the server ends (a restart, pg_terminate_backend) is reported here;
  // the pool drops it and the next call connects afresh. Without a listener Node would crash.
  pool.on('error', () => {});
  return pool;
}

/** An operator's reading of a driver error: what went wrong, without the password. */
export function describePgError(error: unknown, url: StoreUrl): string {
  const e = error as { code?: string; message?: string; errors?: unknown[] };
  const target = (() => {
    try {
      const u = new URL(url.connectionString);
      return { host: u.hostname || 'localhost', port: u.port || '5432', user: decodeURIComponent(u.username) || 'the default user', db: decodeURIComponent(u.pathname.slice(1)) };
    } catch {
      return { host: '?', port: '?', user: '?', db: '?' };
    }
  })();
  let reason: string;
  switch (e.code) {
    case 'ECONNREFUSED':
      reason = `connection refused at ${target.host}:${target.port} (is PostgreSQL running and listening there?)`;
      break;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      reason = `unknown host ${target.host}`;
      break;
    case '28P01':
      reason = `authentication failed for user ${target.user} (check the user and password, and pg_hba.conf)`;
      break;
    case '28000':
      // No such role, or pg_hba.conf lets no one in from here: the server's own words say which.
      reason = `${firstLine(String(e.message))} (check the user in the URL, and pg_hba.conf)`;
      break;
    case '3D000':
      reason = `database "${target.db}" does not exist (create it, or name another in the URL)`;
      break;
    default:
      reason = /timeout/i.test(String(e.message)) ? `no answer within the connect timeout (is ${target.host}:${target.port} reachable?)` : firstLine(String(e.message ?? error));
  }
  return url.password ? reason.split(url.password).join('***') : reason;
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 500);
}

/**
 * Reaching PostgreSQL: the store's URL (`postgres://user[:password]@host[:port]/db?schema=NAME`)
 * turned into a bounded `pg.Pool` working in its own schema, the URL as it may be shown (the
 * password removed), and the driver's failures turned into messages an operator can act on.
 */
import pg from 'pg';

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

/** The store could not be reached, or is not one this flux can use. The URL in it has no password. */
export class PostgresOpenError extends Error {
  override readonly name = 'PostgresOpenError';
  constructor(readonly url: string, reason: string) {
    super(`cannot open the PostgreSQL store ${url}: ${reason}`);
  }
}

/** A parsed store URL. */
export interface StoreUrl {
  /** What pg connects with: the URL without `schema`. */
  readonly connectionString: string;
  readonly schema: string;
  /** The URL to show: no password, anywhere. */
  readonly shown: string;
  /** The password, to scrub from any message that might echo it. */
  readonly password: string;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Whether a store spec names PostgreSQL rather than a SQLite file. */
export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

/** Splits a store URL into what pg needs, the schema, and the URL as it may be shown. */
export function parseStoreUrl(url: string, schemaOption?: string): StoreUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PostgresOpenError(redactUnparsed(url), 'not a valid URL (expected postgres://user@host:5432/database)');
  }
  const password = decodeURIComponent(parsed.password) || (parsed.searchParams.get('password') ?? '');
  const schema = schemaOption ?? parsed.searchParams.get('schema') ?? 'public';
  parsed.searchParams.delete('schema');
  const connectionString = parsed.href;
  const shownUrl = new URL(parsed.href);
  shownUrl.password = '';
  shownUrl.searchParams.delete('password');
  if (schema !== 'public') shownUrl.searchParams.set('schema', schema);
  const shown = shownUrl.href;
  if (!SCHEMA_NAME.test(schema)) throw new PostgresOpenError(shown, `the schema name ${JSON.stringify(schema)} is not a plain identifier (letters, digits, _; at most 63)`);
  return { connectionString, schema, shown, password };
}

/** A URL that did not parse, shown without anything between `://` and `@`. */
function redactUnparsed(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@').slice(0, 200);
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
    case '28000':
      reason = `authentication failed for user ${target.user} (check the user and password, and pg_hba.conf)`;
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

/**
 * A PostgreSQL store's URL (`postgres://user[:password]@host[:port]/db?schema=NAME`): what pg
 * connects with, the schema, and the URL as it may be shown, with the password removed. No
 * driver here, so the CLI can show or recognise a URL without loading pg.
 */

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

/** A store spec as it may be shown: a PostgreSQL URL without its password; a file as it is. */
export function shownStore(spec: string): string {
  if (!isPostgresUrl(spec)) return spec;
  try {
    return parseStoreUrl(spec).shown;
  } catch (error) {
    return error instanceof PostgresOpenError ? error.url : redactUnparsed(spec);
  }
}
